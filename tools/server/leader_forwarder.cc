// Forwarding a follower's writes to the leader (see leader_forwarder.h).
#include "tools/server/leader_forwarder.h"

#include <sys/socket.h>

#include <charconv>
#include <vector>

#include "common/assert.h"
#include "common/log.h"
#include "reactor/ops.h"

namespace ringraft::server {
namespace {

constexpr uint32_t kNestingMax = 8;
constexpr size_t kReceiveBytes = 64u << 10;
constexpr auto kConnectTimeout = std::chrono::seconds(2);

// End of the reply starting at `position`: npos while incomplete; an error if not RESP.
Result<size_t> reply_end(std::string_view bytes, size_t position, uint32_t depth) {
  constexpr size_t kIncomplete = std::string_view::npos;
  if (depth > kNestingMax) return Error(ErrorCode::kInvalidInput, "RESP nested too deep");
  if (position >= bytes.size()) return kIncomplete;
  const size_t line_end = bytes.find("\r\n", position);
  if (line_end == std::string_view::npos) return kIncomplete;
  const char type = bytes[position];
  if (type == '+' || type == '-' || type == ':') return line_end + 2;
  if (type != '$' && type != '*') return Error(ErrorCode::kInvalidInput, "not a RESP reply");
  int64_t count = 0;
  const std::string_view digits = bytes.substr(position + 1, line_end - position - 1);
  const auto [stop, error] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
  if (error != std::errc() || stop != digits.data() + digits.size() || count < -1 ||
      (count >= 0 && static_cast<uint64_t>(count) > LeaderForwarder::kReplyBytesMax)) {
    return Error(ErrorCode::kInvalidInput, "bad RESP length");
  }
  if (count < 0) return line_end + 2;
  if (type == '$') {
    const size_t end = line_end + 2 + static_cast<size_t>(count) + 2;
    return end <= bytes.size() ? end : kIncomplete;
  }
  size_t next = line_end + 2;
  for (int64_t i = 0; i < count; ++i) {
    Result<size_t> element = reply_end(bytes, next, depth + 1);
    if (!element.ok() || element.value() == kIncomplete) return element;
    next = element.value();
  }
  return next;
}

}  // namespace

Result<size_t> resp_reply_length(std::string_view bytes) {
  Result<size_t> end = reply_end(bytes, 0, 0);
  if (!end.ok()) return end.error();
  return end.value() == std::string_view::npos ? size_t{0} : end.value();
}

struct LeaderForwarder::Waiter {
  kv::RespWriter* reply = nullptr;
  Latch done{1};
};

struct LeaderForwarder::Link {
  NodeId node;
  Endpoint endpoint;
  FileDescriptor fd;
  uint32_t tasks = 0;   // writer and reader still running
  bool broken = false;  // until both tasks ended; then the link may start again
  std::string pending;  // requests not yet handed to send
  std::string sending;  // the send in flight
  std::string input;    // replies received, not yet matched
  std::vector<std::byte> receive_buffer;
  std::deque<Waiter*> waiters;  // queued or sent, in request order
  std::coroutine_handle<> writer_idle;
};

LeaderForwarder::LeaderForwarder(Shard& shard, std::map<NodeId, Endpoint> clients,
                                 uint32_t in_flight_max)
    : shard_(shard), clients_(std::move(clients)), in_flight_max_(in_flight_max) {
  RR_ASSERT(in_flight_max_ > 0);
}

LeaderForwarder::~LeaderForwarder() {
  RR_ASSERT(tasks_live_ == 0 || shard_.stopping());
}

Task<void> LeaderForwarder::forward(NodeId leader, ConstByteSpan entry, kv::RespWriter& reply) {
  kv::ReplyBuilder builder(reply);
  if (stopping_ || !knows(leader)) {
    builder.error("ERR not leader, leader is node " + std::to_string(leader.value()));
    co_return;
  }
  std::unique_ptr<Link>& slot = links_[leader];
  if (slot == nullptr) {
    slot = std::make_unique<Link>();
    slot->node = leader;
    slot->endpoint = clients_.at(leader);
    slot->receive_buffer.resize(kReceiveBytes);
  }
  Link& link = *slot;
  if (link.broken) {
    ++stats_.writes_failed;
    builder.error("ERR forwarding to leader node " + std::to_string(leader.value()) +
                  " failed (reconnecting), retry");
    co_return;
  }
  if (link.waiters.size() >= in_flight_max_) {
    ++stats_.writes_refused_full;
    builder.error("ERR forward queue full, retry");
    co_return;
  }
  const std::string_view payload(reinterpret_cast<const char*>(entry.data()), entry.size());
  link.pending += "*2\r\n$16\r\nRINGRAFT.PROPOSE\r\n$";
  link.pending += std::to_string(payload.size());
  link.pending += "\r\n";
  link.pending += payload;
  link.pending += "\r\n";
  Waiter waiter;
  waiter.reply = &reply;
  link.waiters.push_back(&waiter);
  ++stats_.writes_forwarded;
  if (link.tasks == 0) {
    link.tasks = 1;
    ++tasks_live_;
    shard_.spawn(run_writer(link));
  } else if (link.writer_idle) {
    std::exchange(link.writer_idle, nullptr).resume();
  }
  co_await waiter.done.wait();
}

Task<bool> LeaderForwarder::connect(Link& link) {
  Result<FileDescriptor> socket = tcp_socket();
  Result<sockaddr_in> address = ipv4_address(link.endpoint.host, link.endpoint.port);
  if (!socket.ok() || !address.ok()) {
    break_link(link, "socket: " + (socket.ok() ? address.error() : socket.error()).message());
    co_return false;
  }
  link.fd = std::move(socket.value());
  const IoResult connected =
      co_await ops::connect(shard_.io(), link.fd.get(),
                            reinterpret_cast<const sockaddr*>(&address.value()),
                            sizeof(sockaddr_in))
          .with_timeout(kConnectTimeout);
  if (!connected.ok()) {
    break_link(link, "connect to " + link.endpoint.text() + ": " + connected.message());
    co_return false;
  }
  ++stats_.links_opened;
  co_return !link.broken;
}

Task<void> LeaderForwarder::run_writer(Link& link) {
  if (co_await connect(link)) {
    ++link.tasks;
    ++tasks_live_;
    shard_.spawn(run_reader(link));
    while (!link.broken) {
      if (link.pending.empty()) {
        struct Idle {
          Link& link;
          bool await_ready() const noexcept { return false; }
          void await_suspend(std::coroutine_handle<> writer) { link.writer_idle = writer; }
          void await_resume() const noexcept {}
        };
        co_await Idle{link};
        continue;
      }
      link.sending.swap(link.pending);
      link.pending.clear();
      const IoResult sent = co_await ops::send_all(
          shard_.io(), link.fd.get(), as_bytes(link.sending.data(), link.sending.size()));
      if (!sent.ok()) break_link(link, "send: " + sent.message());
    }
  }
  task_ended(link);
}

Task<void> LeaderForwarder::run_reader(Link& link) {
  while (!link.broken) {
    const IoResult received =
        co_await ops::recv(shard_.io(), link.fd.get(), ByteSpan(link.receive_buffer));
    if (received.value <= 0) {
      break_link(link, received.value == 0 ? "the leader closed the connection"
                                           : "receive: " + received.message());
      break;
    }
    link.input.append(reinterpret_cast<const char*>(link.receive_buffer.data()), received.bytes());
    size_t offset = 0;
    while (!link.broken) {
      Result<size_t> length = resp_reply_length(std::string_view(link.input).substr(offset));
      if (!length.ok() || (length.value() > 0 && link.waiters.empty())) {
        break_link(link, length.ok() ? "a reply nobody asked for" : length.error().context());
        break;
      }
      if (length.value() == 0) break;
      Waiter* waiter = link.waiters.front();
      link.waiters.pop_front();
      if (!waiter->reply->raw(std::string_view(link.input).substr(offset, length.value())).ok()) {
        kv::ReplyBuilder(*waiter->reply).error("ERR reply does not fit the output buffer");
      }
      offset += length.value();
      waiter->done.count_down();  // resumes the writer's proposer; it may queue more
    }
    if (link.broken) break;
    link.input.erase(0, offset);
    if (link.input.size() > kReplyBytesMax) break_link(link, "reply larger than the bound");
  }
  task_ended(link);
}

void LeaderForwarder::break_link(Link& link, const std::string& why) {
  if (link.broken) return;
  link.broken = true;
  ++stats_.links_broken;
  RR_LOG_WARN("forwarding to leader node {} at {} failed: {}", link.node.value(),
              link.endpoint.text(), why);
  if (link.fd.valid()) ::shutdown(link.fd.get(), SHUT_RDWR);
  link.pending.clear();
  std::deque<Waiter*> failed;
  failed.swap(link.waiters);
  const std::string text = "ERR forwarding to leader node " + std::to_string(link.node.value()) +
                           " failed (" + why + "): outcome unknown, retry";
  for (Waiter* waiter : failed) {
    ++stats_.writes_failed;
    kv::ReplyBuilder(*waiter->reply).error(text);
    waiter->done.count_down();
  }
  if (link.writer_idle) std::exchange(link.writer_idle, nullptr).resume();
}

void LeaderForwarder::task_ended(Link& link) {
  RR_ASSERT(link.tasks > 0 && tasks_live_ > 0);
  --tasks_live_;
  if (--link.tasks == 0) {
    RR_ASSERT(link.broken);
    link.fd.reset();
    link.input.clear();
    link.sending.clear();
    link.broken = false;  // the next write reconnects
  }
  if (tasks_live_ == 0 && stop_waiter_) std::exchange(stop_waiter_, nullptr).resume();
}

Task<void> LeaderForwarder::stop() {
  stopping_ = true;
  for (auto& [node, link] : links_) break_link(*link, "stopping");
  if (tasks_live_ > 0) {
    struct Stopped {
      LeaderForwarder& self;
      bool await_ready() const noexcept { return self.tasks_live_ == 0; }
      void await_suspend(std::coroutine_handle<> waiter) { self.stop_waiter_ = waiter; }
      void await_resume() const noexcept {}
    };
    co_await Stopped{*this};
  }
}

}  // namespace ringraft::server
