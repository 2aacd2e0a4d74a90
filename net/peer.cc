#include "net/peer.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "reactor/ops.h"

namespace ringraft::net {
namespace {

constexpr uint32_t kReplyFrameBytesMax = 1024;  // a handshake is ~100 bytes

std::vector<std::byte> framed(const std::vector<std::byte>& flatbuffer) {
  std::vector<std::byte> frame(frame_bytes(flatbuffer.size()));
  RR_ASSERT(encode_frame(flatbuffer, frame) == frame.size());
  return frame;
}

}  // namespace

const char* send_status_name(SendStatus status) {
  switch (status) {
    case SendStatus::kQueued:
      return "queued";
    case SendStatus::kFull:
      return "full";
    case SendStatus::kUnreachable:
      return "unreachable";
  }
  return "unknown";
}

Peer::Peer(const PeerEnvironment& environment, const PeerAddress& address,
           sockaddr_in socket_address)
    : environment_(environment),
      node_(address.node),
      host_(fmt::format("{}:{}", address.host, address.port)),
      socket_address_(socket_address),
      handshake_frame_(framed(encode_handshake(environment.identity, address.node))),
      reply_limits_(environment.options->limits),
      wait_op_(*environment.io),
      output_(environment.options->peer_output_bytes_max) {
  reply_limits_.frame_bytes_max = kReplyFrameBytesMax;
  stats_.node = node_;
  send_op_.code = OpCode::kSendmsg;
  send_op_.context = this;
  send_op_.on_complete = &Peer::on_sent;
  send_op_.flags = MSG_NOSIGNAL;
  send_op_.message = &send_message_;
}

Peer::~Peer() {
  RR_ASSERT_MSG(!send_op_.in_flight, "Peer destroyed with a send in flight: stop first");
}

SendStatus Peer::send(ConstByteSpan message) {
  RR_ASSERT_MSG(!message.empty() && message.size() <= environment_.options->limits.frame_bytes_max,
                "a message larger than frame_bytes_max can never be sent");
  if (!connected_) {
    stats_.sends_unreachable++;
    return SendStatus::kUnreachable;
  }
  if (!output_.try_append_frame(message)) {
    stats_.sends_full++;
    full_reported_ = true;
    return SendStatus::kFull;
  }
  mark_dirty();
  return SendStatus::kQueued;
}

flatbuffers::FlatBufferBuilder* Peer::begin_built(size_t flatbuffer_bytes_max, SendStatus* status) {
  RR_ASSERT_MSG(flatbuffer_bytes_max > 0 &&
                    flatbuffer_bytes_max <= environment_.options->limits.frame_bytes_max,
                "a message larger than frame_bytes_max can never be sent");
  if (!connected_) {
    stats_.sends_unreachable++;
    *status = SendStatus::kUnreachable;
    return nullptr;
  }
  const ByteSpan region = output_.reserve_frame(flatbuffer_bytes_max);
  if (region.empty()) {
    stats_.sends_full++;
    full_reported_ = true;
    *status = SendStatus::kFull;
    return nullptr;
  }
  *status = SendStatus::kQueued;
  return &in_place_.start(region);
}

SendStatus Peer::commit_built() {
  return commit_built(KnownCrcSpan{});
}

SendStatus Peer::commit_built(const KnownCrcSpan& known) {
  const ConstByteSpan message = in_place_.finished();
  RR_ASSERT_MSG(!message.empty() && message.size() <= environment_.options->limits.frame_bytes_max,
                "a message larger than frame_bytes_max can never be sent");
  if (in_place_.outgrew()) stats_.builds_outgrown++;
  const bool queued = output_.commit_frame(message, known);
  in_place_.end();
  if (!queued) {
    stats_.sends_full++;
    full_reported_ = true;
    return SendStatus::kFull;
  }
  stats_.sends_built++;
  mark_dirty();
  return SendStatus::kQueued;
}

void Peer::mark_dirty() {
  if (dirty_) return;
  dirty_ = true;
  environment_.dirty->push_back(this);
}

void Peer::flush() {
  dirty_ = false;
  if (!connected_ || output_.sending() || output_.pending_bytes() == 0) return;
  submit_send(output_.begin_send());
  // Pending is empty again: whoever was refused may send now.
  if (full_reported_) {
    full_reported_ = false;
    if (*environment_.on_writable) (*environment_.on_writable)(node_);
  }
}

void Peer::submit_send(std::span<const iovec> segments) {
  RR_ASSERT(!segments.empty() && !send_op_.in_flight);
  send_message_ = msghdr{};
  // The iovecs live in the output buffer's in-flight side until the send completes; the
  // kernel only reads them.
  send_message_.msg_iov = const_cast<iovec*>(segments.data());
  send_message_.msg_iovlen = segments.size();
  send_op_.fd = connection_->fd();
  stats_.sendmsg_calls++;
  if (!environment_.io->submit(send_op_)) {
    send_failed_ = true;  // shutting down
    connection_->cancel();
  }
}

void Peer::on_sent(Operation& op, int32_t result, uint32_t /*flags*/) {
  auto& self = *static_cast<Peer*>(op.context);
  if (result < 0) {
    self.send_failed_ = true;
    if (result != -ECANCELED) {
      RR_LOG_WARN("net: send to node {} at {} failed: {}", self.node_.value(), self.host_,
                  IoResult{result}.message());
    }
    self.connection_->cancel();
  } else if (self.connected_) {
    const uint64_t frames = self.output_.flight_frames();
    self.stats_.bytes_out += static_cast<uint64_t>(result);
    if (self.output_.advance_send(static_cast<size_t>(result))) {
      self.stats_.frames_out += frames;
      if (self.output_.pending_bytes() > 0) self.mark_dirty();
    } else {
      self.submit_send(self.output_.unsent());  // a short send: the rest, at once
    }
  }
  if (self.send_waiter_ && !self.send_op_.in_flight) std::exchange(self.send_waiter_, {}).resume();
}

Duration Peer::next_backoff(uint32_t failures) {
  RR_ASSERT(failures > 0);
  const TransportOptions& options = *environment_.options;
  const uint32_t doublings = std::min<uint32_t>(failures - 1, 20);
  const uint64_t delay_ms = std::min<uint64_t>(
      uint64_t{options.reconnect_backoff_min_ms} << doublings, options.reconnect_backoff_max_ms);
  const uint64_t jittered_ms = delay_ms / 2 + (*environment_.rng)() % (delay_ms - delay_ms / 2 + 1);
  RR_ASSERT(jittered_ms <= options.reconnect_backoff_max_ms);
  stats_.last_backoff_ms = jittered_ms;
  return std::chrono::milliseconds(jittered_ms);
}

void Peer::refuse(CloseReason reason, const std::string& detail) {
  environment_.totals->closed_by_reason[static_cast<size_t>(reason)]++;
  // A peer going away is routine (restarts); everything else is worth an operator's look.
  const LogLevel level = reason == CloseReason::kClosedByPeer ? LogLevel::kInfo : LogLevel::kWarn;
  log(level, "net: node {} shard {}: connection to node {} at {} closed: {} ({})",
      environment_.identity.node.value(), environment_.identity.shard.value(), node_.value(), host_,
      close_reason_name(reason), detail);
}

Task<void> Peer::run() {
  uint32_t failures = 0;
  while (!stopping_) {
    if (failures > 0) {
      Operation sleep;
      sleep.code = OpCode::kTimer;
      sleep.deadline = environment_.io->now() + next_backoff(failures);
      const IoResult slept = co_await wait_op_.run(sleep);
      (void)slept;  // cancelled only by stop()
      if (stopping_) break;
    }
    stats_.connect_attempts++;
    const Result<void> ready = co_await connect_and_handshake();
    if (!ready.ok()) {
      failures++;
      if (connection_) {
        co_await connection_->close();
        connection_.reset();
      }
      continue;
    }
    connected_ = true;
    stats_.connects++;
    RR_LOG_INFO("net: node {} shard {}: connected to node {} at {}",
                environment_.identity.node.value(), environment_.identity.shard.value(),
                node_.value(), host_);
    if (*environment_.on_writable) (*environment_.on_writable)(node_);
    co_await serve();
    co_await end_connection();
    // Even a connection that ended at once (a peer that accepts and closes) waits before the
    // next dial, so nothing can make this loop spin.
    failures = 1;
  }
}

Task<Result<void>> Peer::connect_and_handshake() {
  RR_ASSERT(!connection_ && !connected_);
  Result<FileDescriptor> socket = tcp_socket();
  if (!socket.ok()) co_return socket.error();
  const Duration timeout = std::chrono::milliseconds(environment_.options->handshake_timeout_ms);
  Operation connect;
  connect.code = OpCode::kConnect;
  connect.fd = socket.value().get();
  connect.address = const_cast<sockaddr*>(reinterpret_cast<const sockaddr*>(&socket_address_));
  connect.address_length = sizeof(socket_address_);
  connect.timeout = timeout;
  const IoResult connected = co_await wait_op_.run(connect);
  if (!connected.ok()) {
    if (stopping_) co_return Error(ErrorCode::kCancelled, "stopping");
    if (connected.value == -ECANCELED) {
      refuse(CloseReason::kHandshakeTimeout, "connect timed out");
    } else {
      // A peer that is down: expected while it restarts, so not a warning.
      RR_LOG_DEBUG("net: connect to node {} at {}: {}", node_.value(), host_, connected.message());
    }
    co_return Error::from_errno(connected.error(), fmt::format("connect to {}", host_));
  }
  connection_.emplace(*environment_.io, std::move(socket.value()), *environment_.buffers,
                      reply_limits_, &environment_.totals->frames);
  if (stopping_) connection_->cancel();  // stop() came while the connect completed
  const IoResult sent =
      co_await ops::send_all(*environment_.io, connection_->fd(), handshake_frame_);
  if (!sent.ok()) {
    if (!stopping_) refuse(CloseReason::kSendFailed, sent.message());
    co_return Error::from_errno(sent.error(), fmt::format("handshake to {}", host_));
  }
  connection_->arm_deadline(timeout);
  Result<void> reply = co_await await_handshake_reply();
  connection_->disarm_deadline();
  co_return reply;
}

Task<Result<void>> Peer::await_handshake_reply() {
  while (true) {
    Result<std::optional<DecodedFrame>> frame = connection_->poll_frame();
    if (!frame.ok()) {
      refuse(CloseReason::kBadFrame, frame.error().context());
      co_return frame.error();
    }
    if (frame.value().has_value()) {
      const HandshakeOutcome outcome =
          check_handshake(*frame.value()->message, environment_.identity, {&node_, 1});
      if (!outcome.refused) co_return Result<void>();
      refuse(*outcome.refused, fmt::format("value {}", outcome.detail));
      co_return Error(ErrorCode::kInvalidInput, close_reason_name(*outcome.refused));
    }
    Result<void> received = co_await connection_->receive();
    if (!received.ok()) {
      if (stopping_) co_return received.error();
      refuse(connection_->timed_out() ? CloseReason::kHandshakeTimeout : CloseReason::kClosedByPeer,
             received.error().context());
      co_return received.error();
    }
  }
}

Task<void> Peer::serve() {
  // Nothing but the end of the stream is expected here: the peer sends on its own connection.
  while (true) {
    Result<std::optional<DecodedFrame>> frame = connection_->poll_frame();
    if (!frame.ok()) {
      refuse(CloseReason::kBadFrame, frame.error().context());
      co_return;
    }
    if (frame.value().has_value()) {
      refuse(CloseReason::kUnexpectedFrame,
             wire::EnumNameBody(frame.value()->message->body_type()));
      co_return;
    }
    Result<void> received = co_await connection_->receive();
    if (!received.ok()) {
      if (stopping_) co_return;
      if (send_failed_) {
        refuse(CloseReason::kSendFailed, "see the send error above");
      } else {
        refuse(CloseReason::kClosedByPeer, received.error().context());
      }
      co_return;
    }
  }
}

Task<void> Peer::end_connection() {
  connected_ = false;
  if (send_op_.in_flight) {
    environment_.io->cancel(send_op_);
    struct SendGone {
      Peer& peer;
      bool await_ready() const noexcept { return !peer.send_op_.in_flight; }
      void await_suspend(std::coroutine_handle<> waiter) { peer.send_waiter_ = waiter; }
      void await_resume() const noexcept {}
    };
    co_await SendGone{*this};
  }
  stats_.frames_dropped += output_.drop_all();
  stats_.disconnects++;
  send_failed_ = false;
  full_reported_ = false;
  co_await connection_->close();
  connection_.reset();
}

void Peer::stop() {
  stopping_ = true;
  wait_op_.cancel();
  if (connection_) connection_->cancel();
  if (send_op_.in_flight) environment_.io->cancel(send_op_);
}

void Peer::check_invariants() const {
  output_.check_invariants();
  RR_ASSERT(!connected_ || connection_.has_value());
  RR_ASSERT(!send_op_.in_flight || connection_.has_value());
  RR_ASSERT(stats_.disconnects <= stats_.connects);
}

}  // namespace ringraft::net
