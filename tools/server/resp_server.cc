// The RESP connection layer (see resp_server.h).
#include "tools/server/resp_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <string>

#include "common/assert.h"
#include "reactor/ops.h"
#include "reactor/recv_stream.h"
#include "reactor/timer.h"
#include "tools/kv/write_entry.h"

namespace ringraft::server {

// Replies may grow to twice the bound inside one request before the bound check closes the
// connection; past that a reply becomes an error (RespWriter's all-or-nothing appends).
constexpr size_t kOutputSlack = 2;
// Bytes of already received input handled as one batch (then the rest waits for the next one).
constexpr size_t kInputBatchBytesMax = size_t{1} << 20;

// One write a connection started: its entry, its reply once completed.
struct RespServer::WriteSlot {
  explicit WriteSlot(size_t reply_bytes_max) : reply(reply_bytes_max) {}
  std::vector<std::byte> entry;  // capacity reused
  kv::RespWriter reply;
  std::optional<Latch> done;  // counted down when write() ended
};

struct RespServer::Connection {
  Connection(int fd_in, const RespServerConfig& config)
      : fd(fd_in), parser(config.input_limits), output(config.output_bytes_max * kOutputSlack) {}
  int fd;
  kv::RespParser parser;
  kv::RespWriter output;
  std::string input;  // received, not yet consumed bytes (arguments point here)
  // Writes started and not yet answered: slots[0, slots_used), in request order.
  std::vector<std::unique_ptr<WriteSlot>> slots;
  size_t slots_used = 0;
  bool read_barrier_passed = false;  // since this receive's last write
  MonoTime last_activity{};
  uint64_t requests = 0;  // parsed so far: a receive's share is timed as one
  bool open = true;
  bool idle_closed = false;
};

RespServer::RespServer(Shard& shard, KvBackend& backend, const RespServerConfig& config)
    : shard_(shard),
      backend_(backend),
      config_(config),
      connections_(shard, config.connections_max,
                   {&stats_.connections_accepted, &stats_.connections_refused}) {
  RR_ASSERT(config_.output_bytes_max > 0);
  RR_ASSERT(config_.writes_in_flight_max > 0);
}

Task<Result<void>> RespServer::serve(int listen_fd) {
  auto group = shard_.io().create_buffer_group(config_.recv_buffers, config_.recv_buffer_bytes);
  if (!group.ok()) co_return group.error();
  buffers_ = std::move(group.value());
  listen_fd_ = listen_fd;
  // A refused client is told why, as a server at its client limit does.
  co_await connections_.accept(
      listen_fd, [this](int fd) { return serve_connection(fd); },
      [](int fd) {
        static constexpr std::string_view kRefusal = "-ERR max number of clients reached\r\n";
        (void)::send(fd, kRefusal.data(), kRefusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      });
  co_return Result<void>{};
}

void RespServer::stop() {
  connections_.stop();
}

Task<void> RespServer::serve_connection(int fd) {
  Connection connection(fd, config_);
  connection.last_activity = shard_.io().now();
  Latch watchdog_done(config_.idle_timeout > Duration::zero() ? 1 : 0);
  Timer idle_timer(shard_.io());
  if (config_.idle_timeout > Duration::zero()) {
    shard_.spawn([](RespServer& self, Connection& c, Timer& timer, Latch& done) -> Task<void> {
      while (c.open) {
        const IoResult fired = co_await timer.wait_for(self.config_.idle_timeout);
        if (!fired.ok()) break;  // cancelled: the connection ended
        if (c.open && self.shard_.io().now() - c.last_activity >= self.config_.idle_timeout) {
          c.idle_closed = true;
          ++self.stats_.idle_closed;
          ::shutdown(c.fd, SHUT_RDWR);
          break;
        }
      }
      done.count_down();
    }(*this, connection, idle_timer, watchdog_done));
  }
  RecvStream stream(shard_.io(), fd, *buffers_);
  while (connection.open) {
    RecvResult received = co_await stream.next();
    if (received.status.value == -ENOBUFS) continue;  // our own chunks are released: re-arm
    if (received.status.value <= 0) break;
    connection.last_activity = shard_.io().now();
    const ConstByteSpan bytes = received.chunk.bytes();
    connection.input.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    received.chunk.release();
    // Take what arrived while the last batch was in flight too, so that its writes join one
    // proposal round (a pipelining client is then served a batch per commit, not a chunk).
    while (stream.has_queued() && connection.input.size() < kInputBatchBytesMax) {
      RecvResult more = co_await stream.next();
      if (more.status.value <= 0) break;  // the end or an error: the next next() reports it
      const ConstByteSpan more_bytes = more.chunk.bytes();
      connection.input.append(reinterpret_cast<const char*>(more_bytes.data()), more_bytes.size());
    }
    const MonoTime received_at = shard_.io().now();  // the loop's clock: no syscall
    const uint64_t requests_before = connection.requests;
    if (!co_await handle_input(connection)) connection.open = false;
    if (!connection.output.bytes().empty()) {
      const std::string_view out = connection.output.bytes();
      const IoResult sent =
          co_await ops::send_all(shard_.io(), fd, as_bytes(out.data(), out.size()));
      connection.output.clear();
      connection.last_activity = shard_.io().now();
      if (!sent.ok()) connection.open = false;
    }
    if (latency_ != nullptr) {
      const Duration took = shard_.io().now() - received_at;
      latency_->record_many(static_cast<uint64_t>(std::max<int64_t>(0, took.count())),
                            connection.requests - requests_before);
    }
  }
  connection.open = false;
  co_await stream.stop();
  if (idle_timer.armed()) idle_timer.cancel();
  co_await watchdog_done.wait();
  co_await connections_.close(fd);
}

// Parses and answers every complete request in the input. False: close after sending.
Task<bool> RespServer::handle_input(Connection& connection) {
  size_t consumed_bytes = 0;
  bool keep_open = true;
  connection.read_barrier_passed = false;  // a barrier covers only requests already received
  while (keep_open) {
    auto next = connection.parser.next(std::string_view(connection.input).substr(consumed_bytes));
    if (!next.ok()) {
      co_await drain_writes(connection);
      ++stats_.protocol_errors;
      kv::ReplyBuilder(connection.output).error(next.error().context());
      keep_open = false;
      break;
    }
    if (!next.value().has_value()) break;
    const kv::RespRequest request = *next.value();
    if (!request.arguments.empty()) {
      ++stats_.requests;
      ++connection.requests;
      keep_open = co_await handle_request(connection, request.arguments);
    }
    consumed_bytes += request.consumed_bytes;
    if (connection.output.size_bytes() > config_.output_bytes_max) {
      ++stats_.output_overflows;
      keep_open = false;
    }
  }
  // The arguments of started writes point into the input: answer them before it moves.
  co_await drain_writes(connection);
  connection.input.erase(0, consumed_bytes);
  co_return keep_open;
}

namespace {

bool starts_with_no_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return a == std::toupper(static_cast<unsigned char>(b));
         });
}

bool is_forwarded_propose(std::span<const std::string_view> arguments) {
  static constexpr std::string_view kName = "RINGRAFT.PROPOSE";
  return arguments.size() == 2 && arguments[0].size() == kName.size() &&
         std::equal(kName.begin(), kName.end(), arguments[0].begin(), [](char a, char b) {
           return a == std::toupper(static_cast<unsigned char>(b));
         });
}

}  // namespace

Task<bool> RespServer::handle_request(Connection& connection,
                                      std::span<const std::string_view> arguments) {
  if (backend_.accepts_forwarded_writes() && is_forwarded_propose(arguments)) {
    ++stats_.writes_forwarded_in;
    WriteSlot& slot = *co_await next_write_slot(connection);
    const ConstByteSpan entry = as_bytes(arguments[1].data(), arguments[1].size());
    slot.entry.assign(entry.begin(), entry.end());
    start_write(connection, slot, WriteOrigin::kForwarded);
    co_return true;
  }
  if (starts_with_no_case(arguments[0], "RINGRAFT.")) {
    co_await drain_writes(connection);
    if (admin_ != nullptr && admin_->handles(arguments[0])) {
      co_await admin_->run(arguments, connection.output);
      co_return true;
    }
    if (!backend_.answer_admin(arguments, connection.output)) {
      kv::ReplyBuilder(connection.output)
          .error("ERR unknown command '" + std::string(arguments[0].substr(0, 64)) + "'");
    }
    co_return true;
  }
  Result<const kv::CommandSpec*> resolved = kv::resolve_command(arguments);
  if (!resolved.ok()) {
    co_await drain_writes(connection);
    kv::ReplyBuilder(connection.output).error(resolved.error().context());
    co_return true;
  }
  const kv::CommandSpec& spec = *resolved.value();
  if (spec.kind != kv::CommandKind::kWrite) {
    co_return co_await answer_read_or_local(connection, spec, arguments);
  }
  Result<kv::WriteCommand> planned = kv::plan_write(spec, arguments);
  if (!planned.ok()) {
    co_await drain_writes(connection);
    kv::ReplyBuilder(connection.output).error(planned.error().context());
    co_return true;
  }
  WriteSlot& slot = *co_await next_write_slot(connection);
  slot.entry.resize(planned.value().entry_bytes);
  const size_t written = kv::encode_write_entry(planned.value(), slot.entry);
  RR_ASSERT(written == slot.entry.size());
  start_write(connection, slot, WriteOrigin::kClient);
  co_return true;
}

// After the connection's earlier writes; a read behind a barrier when the backend asks.
Task<bool> RespServer::answer_read_or_local(Connection& connection, const kv::CommandSpec& spec,
                                            std::span<const std::string_view> arguments) {
  co_await drain_writes(connection);
  if (spec.kind == kv::CommandKind::kRead && backend_.reads_need_barrier() &&
      !connection.read_barrier_passed) {
    ++stats_.read_barriers;
    const Result<void> barrier = co_await backend_.read_barrier();
    if (!barrier.ok()) {
      ++stats_.read_barrier_failures;
      kv::ReplyBuilder(connection.output)
          .error("ERR read not served (" + barrier.error().context() + "), retry");
      co_return true;
    }
    connection.read_barrier_passed = true;
  }
  co_return backend_.answer_now(spec, arguments, connection.output) == kv::AfterReply::kContinue;
}

// A free slot; when writes_in_flight_max are started, first answers them.
Task<RespServer::WriteSlot*> RespServer::next_write_slot(Connection& connection) {
  if (connection.slots_used == config_.writes_in_flight_max) co_await drain_writes(connection);
  RR_ASSERT(connection.slots_used < config_.writes_in_flight_max);
  if (connection.slots_used == connection.slots.size()) {
    connection.slots.push_back(std::make_unique<WriteSlot>(config_.output_bytes_max));
  }
  co_return connection.slots[connection.slots_used++].get();
}

void RespServer::start_write(Connection& connection, WriteSlot& slot, WriteOrigin origin) {
  RR_ASSERT(slot.reply.size_bytes() == 0);
  connection.read_barrier_passed = false;  // a later read must see this write
  slot.done.emplace(1);
  shard_.spawn(run_write(slot, origin));
}

Task<void> RespServer::run_write(WriteSlot& slot, WriteOrigin origin) {
  co_await backend_.write(slot.entry, slot.reply, origin);
  slot.done->count_down();
}

// Appends the replies of the started writes in request order, as each completes.
Task<void> RespServer::drain_writes(Connection& connection) {
  for (size_t i = 0; i < connection.slots_used; ++i) {
    WriteSlot& slot = *connection.slots[i];
    co_await slot.done->wait();
    if (!connection.output.raw(slot.reply.bytes()).ok()) {
      kv::ReplyBuilder(connection.output).error("ERR reply does not fit the output buffer");
    }
    slot.reply.clear();
  }
  connection.slots_used = 0;
}

}  // namespace ringraft::server
