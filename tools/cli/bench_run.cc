#include "tools/cli/bench_run.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "reactor/ops.h"
#include "reactor/reactor.h"
#include "reactor/socket.h"
#include "tools/cli/resp_reply.h"
#include "tools/kv/resp_writer.h"

namespace ringraft::tools {

namespace {

using namespace std::chrono_literals;

constexpr Duration kBackoffFirst = 10ms;
constexpr Duration kBackoffMax = 1s;
constexpr Duration kGiveUpAfter = 10s;
constexpr Duration kInterval = std::chrono::milliseconds(BenchResult::kIntervalMs);
constexpr uint32_t kIntervalsPerProgress = 10;
// 24 hours of 100 ms intervals; a longer run stops recording the throughput curve.
constexpr size_t kIntervalsMax = 24 * 3600 * 10;
constexpr size_t kReceiveSlackBytes = 64 * 1024;

// splitmix64: small, fast and good enough to spread keys; seeded per connection.
class Prng {
 public:
  explicit Prng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

double seconds_between(MonoTime from, MonoTime to) {
  return std::chrono::duration<double>(to - from).count();
}

// One run: the options, the shared counters and the tasks that update them. Everything here
// runs on the one shard, so nothing is atomic.
class BenchRun {
 public:
  explicit BenchRun(const BenchOptions& options) : options_(options) {
    const uint64_t seconds = static_cast<uint64_t>(options.duration.count()) / 1000 + 1;
    result_.interval_replies.reserve(std::min<size_t>(seconds * 10 + 10, kIntervalsMax));
    result_.seed = options.seed;
    progress_terminal_ = options.progress_on_terminal && ::isatty(STDERR_FILENO) == 1;
  }

  Task<void> main(Shard& shard);
  BenchResult take_result() { return std::move(result_); }

 private:
  struct Connection;  // one connection's buffers, in its task's frame

  Task<void> connection(Shard& shard, uint32_t index);
  Task<FileDescriptor> connect_with_backoff(Io& io, uint32_t& target, bool first);
  Task<bool> run_batches(Io& io, int fd, Connection& state);
  Task<void> ticker(Shard& shard);
  void encode_batch(Connection& state, uint32_t count);
  bool take_replies(Connection& state, MonoTime received_at);
  void fail_outstanding(Connection& state, std::string_view why);
  void count_error(OpType type, std::string_view message);
  uint32_t take_batch();
  bool should_stop() const;
  void print_progress(MonoTime now, bool last);

  const BenchOptions& options_;
  BenchResult result_;
  MonoTime start_{};
  MonoTime deadline_ = MonoTime::max();
  uint64_t requests_issued_ = 0;
  uint64_t replies_ok_ = 0;  // all op types, for the ticker
  uint32_t tasks_running_ = 0;
  uint32_t connections_open_ = 0;
  MonoTime last_finished_{};
  bool progress_terminal_ = false;
  LatencyHistogram progress_scratch_;  // merged for the progress line's p99, no allocation
};

struct BenchRun::Connection {
  explicit Connection(const BenchOptions& options, uint32_t index)
      : prng(options.seed ^ (0xA24BAED4963EE407ull * (index + 1))),
        request(static_cast<size_t>(options.pipeline) * (options.value_bytes + 96) + 1024),
        receive(kReceiveSlackBytes + options.value_bytes + 64),
        kinds(options.pipeline),
        value(options.value_bytes, 'x') {}

  Prng prng;
  kv::RespWriter request;
  std::vector<char> receive;
  size_t received_bytes = 0;  // receive[0, received_bytes) holds replies not yet taken
  std::vector<OpType> kinds;  // the batch's requests, in order
  uint32_t batch_count = 0;
  uint32_t replies_taken = 0;
  MonoTime sent_at{};
  std::string value;
};

bool BenchRun::should_stop() const {
  if (options_.requests != 0 && requests_issued_ >= options_.requests) return true;
  return Clock::now() >= deadline_;
}

uint32_t BenchRun::take_batch() {
  if (should_stop()) return 0;
  uint64_t count = options_.pipeline;
  if (options_.requests != 0) count = std::min(count, options_.requests - requests_issued_);
  requests_issued_ += count;
  return static_cast<uint32_t>(count);
}

void BenchRun::count_error(OpType type, std::string_view message) {
  result_.ops[static_cast<size_t>(type)].errors += 1;
  message = message.substr(0, 100);
  for (ErrorTally& tally : result_.error_messages) {
    if (tally.message == message) {
      tally.count += 1;
      return;
    }
  }
  // The last slot is kept for "other", so the table stays bounded.
  if (result_.error_messages.size() + 1 < BenchResult::kErrorMessagesMax) {
    result_.error_messages.push_back(ErrorTally{std::string(message), 1});
  } else if (result_.error_messages.size() + 1 == BenchResult::kErrorMessagesMax) {
    result_.error_messages.push_back(ErrorTally{"other", 1});
  } else {
    result_.error_messages.back().count += 1;
  }
}

void BenchRun::encode_batch(Connection& state, uint32_t count) {
  RR_ASSERT(count >= 1 && count <= state.kinds.size());
  const uint64_t total_weight = uint64_t{options_.ratio.write_weight} + options_.ratio.read_weight;
  state.request.clear();
  char key[32];
  for (uint32_t i = 0; i < count; ++i) {
    const bool write = state.prng.next() % total_weight < options_.ratio.write_weight;
    const uint64_t key_number = state.prng.next() % options_.keys;
    const auto key_end = fmt::format_to_n(key, sizeof(key), "key:{:012}", key_number);
    const std::string_view key_text(key, key_end.out);
    bool encoded = false;
    if (write) {
      encoded = state.request.array_header(3).ok() && state.request.bulk("SET").ok() &&
                state.request.bulk(key_text).ok() && state.request.bulk(state.value).ok();
    } else {
      encoded = state.request.array_header(2).ok() && state.request.bulk("GET").ok() &&
                state.request.bulk(key_text).ok();
    }
    RR_ASSERT_MSG(encoded, "the request buffer is sized for a full batch");
    state.kinds[i] = write ? OpType::kSet : OpType::kGet;
  }
  state.batch_count = count;
  state.replies_taken = 0;
}

// Takes every complete reply in the receive buffer; false when the bytes are not RESP (the
// connection is then unusable).
bool BenchRun::take_replies(Connection& state, MonoTime received_at) {
  size_t offset = 0;
  const auto latency_ns = static_cast<uint64_t>((received_at - state.sent_at).count());
  while (state.replies_taken < state.batch_count) {
    const std::string_view pending(state.receive.data() + offset, state.received_bytes - offset);
    Result<std::optional<RespReply>> reply = scan_reply(pending);
    if (!reply.ok()) return false;
    if (!reply.value().has_value()) break;
    const OpType type = state.kinds[state.replies_taken];
    if (reply.value()->kind == ReplyKind::kError) {
      count_error(type, reply.value()->text);
    } else {
      result_.ops[static_cast<size_t>(type)].latency.record(latency_ns);
      replies_ok_ += 1;
    }
    state.replies_taken += 1;
    offset += reply.value()->consumed_bytes;
  }
  std::memmove(state.receive.data(), state.receive.data() + offset, state.received_bytes - offset);
  state.received_bytes -= offset;
  // A reply that cannot fit the buffer is not one this load generator asked for.
  return state.received_bytes < state.receive.size();
}

void BenchRun::fail_outstanding(Connection& state, std::string_view why) {
  for (uint32_t i = state.replies_taken; i < state.batch_count; ++i)
    count_error(state.kinds[i], why);
  state.batch_count = 0;
  state.replies_taken = 0;
  state.received_bytes = 0;
}

// Connects to targets[target], or after a failure to the following ones, waiting between
// attempts. An invalid descriptor when the run ended or the connection gave up.
Task<FileDescriptor> BenchRun::connect_with_backoff(Io& io, uint32_t& target, bool first) {
  Duration backoff = kBackoffFirst;
  const MonoTime failing_since = Clock::now();
  for (bool attempt_now = first;; attempt_now = false) {
    if (!attempt_now) {
      if (Clock::now() - failing_since > kGiveUpAfter) {
        result_.connections_lost += 1;
        co_return FileDescriptor{};
      }
      const IoResult slept = co_await ops::sleep_for(io, backoff);
      if (!slept.ok()) co_return FileDescriptor{};  // the reactor is stopping
      backoff = std::min(backoff * 2, kBackoffMax);
      target = (target + 1) % static_cast<uint32_t>(options_.targets.size());
    }
    if (should_stop()) co_return FileDescriptor{};
    const Endpoint& endpoint = options_.targets[target];
    Result<sockaddr_in> address = ipv4_address(endpoint.host, endpoint.port);
    Result<FileDescriptor> socket = tcp_socket();
    if (!address.ok() || !socket.ok()) continue;
    const IoResult connected =
        co_await ops::connect(io, socket.value().get(),
                              reinterpret_cast<const sockaddr*>(&address.value()),
                              sizeof(sockaddr_in))
            .with_timeout(options_.request_timeout);
    if (connected.ok()) co_return std::move(socket.value());
  }
}

// Sends batches and takes their replies until the run ends (true) or the connection fails
// (false: the outstanding requests were counted as errors).
Task<bool> BenchRun::run_batches(Io& io, int fd, Connection& state) {
  for (;;) {
    const uint32_t count = take_batch();
    if (count == 0) co_return true;
    encode_batch(state, count);
    state.sent_at = Clock::now();
    const std::string_view bytes = state.request.bytes();
    const IoResult sent = co_await ops::send_all(io, fd, as_bytes(bytes.data(), bytes.size()));
    if (!sent.ok()) {
      fail_outstanding(state, "connection failed: " + sent.message());
      co_return false;
    }
    while (state.replies_taken < state.batch_count) {
      const auto into =
          std::as_writable_bytes(std::span(state.receive)).subspan(state.received_bytes);
      const IoResult received =
          co_await ops::recv(io, fd, into).with_timeout(options_.request_timeout);
      if (!received.ok() || received.bytes() == 0) {
        std::string why = "connection closed by the server";
        if (received.error() == ECANCELED) {
          why = "no reply in time (connection closed)";
        } else if (!received.ok()) {
          why = "connection failed: " + received.message();
        }
        fail_outstanding(state, why);
        co_return false;
      }
      state.received_bytes += received.bytes();
      if (!take_replies(state, Clock::now())) {
        fail_outstanding(state, "reply is not RESP or too large (connection closed)");
        co_return false;
      }
    }
  }
}

Task<void> BenchRun::connection(Shard& shard, uint32_t index) {
  Connection state(options_, index);
  uint32_t target = index % static_cast<uint32_t>(options_.targets.size());
  for (bool first = true;; first = false) {
    FileDescriptor fd = co_await connect_with_backoff(shard.io(), target, first);
    if (!fd.valid()) break;
    if (!first) result_.reconnects += 1;
    connections_open_ += 1;
    const bool finished = co_await run_batches(shard.io(), fd.get(), state);
    connections_open_ -= 1;
    if (finished) break;
    result_.connections_closed += 1;
  }
  tasks_running_ -= 1;
  if (tasks_running_ == 0) last_finished_ = Clock::now();
}

void BenchRun::print_progress(MonoTime now, bool last) {
  const size_t intervals = result_.interval_replies.size();
  uint64_t recent = 0;
  const size_t window = std::min<size_t>(intervals, kIntervalsPerProgress);
  for (size_t i = intervals - window; i < intervals; ++i) recent += result_.interval_replies[i];
  const double rate = window == 0 ? 0.0 : static_cast<double>(recent) * 10.0 / window;
  progress_scratch_.clear();
  for (const OpStats& op : result_.ops) progress_scratch_.merge(op.latency);
  const std::string line =
      fmt::format("bench {:6.1f} s  {:>10.0f} ops/s  p99 {:8.3f} ms  errors {}  connections {}/{}",
                  seconds_between(start_, now), rate,
                  static_cast<double>(progress_scratch_.percentile_ns(0.99)) / 1e6,
                  result_.errors(), connections_open_, options_.connections);
  if (progress_terminal_) {
    fmt::print(stderr, "\r\033[K{}{}", line, last ? "\n" : "");
  } else if (!last) {
    fmt::print(stderr, "{}\n", line);
  }
  std::fflush(stderr);
}

Task<void> BenchRun::ticker(Shard& shard) {
  MonoTime next = start_ + kInterval;
  uint64_t replies_before = 0;
  for (uint32_t tick = 1; tasks_running_ > 0; ++tick) {
    const IoResult slept = co_await ops::sleep_until(shard.io(), next);
    if (!slept.ok()) break;
    next += kInterval;
    if (result_.interval_replies.size() < kIntervalsMax) {
      result_.interval_replies.push_back(replies_ok_ - replies_before);
    }
    replies_before = replies_ok_;
    if (tick % kIntervalsPerProgress == 0) print_progress(Clock::now(), false);
  }
  // The last, partial interval is left out of the curve: it would show as a false dip.
  print_progress(last_finished_, true);
  shard.reactor().stop();
}

Task<void> BenchRun::main(Shard& shard) {
  start_ = Clock::now();
  if (options_.duration.count() > 0) deadline_ = start_ + options_.duration;
  tasks_running_ = options_.connections;
  last_finished_ = start_;
  for (uint32_t i = 0; i < options_.connections; ++i) shard.spawn(connection(shard, i));
  co_await ticker(shard);
  result_.elapsed_s = seconds_between(start_, last_finished_);
}

}  // namespace

const char* op_type_name(OpType type) {
  return type == OpType::kSet ? "SET" : "GET";
}

uint64_t BenchResult::replies_ok() const {
  uint64_t total = 0;
  for (const OpStats& op : ops) total += op.latency.count();
  return total;
}

uint64_t BenchResult::errors() const {
  uint64_t total = 0;
  for (const OpStats& op : ops) total += op.errors;
  return total;
}

LatencyHistogram BenchResult::all_latency() const {
  LatencyHistogram all;
  for (const OpStats& op : ops) all.merge(op.latency);
  return all;
}

Result<BenchResult> run_bench(const BenchOptions& options) {
  ReactorConfig config;
  config.shard_count = 1;
  config.pin_threads = false;  // the servers under test need the cores more
  BenchRun run(options);
  Reactor reactor(config);
  Result<void> ran = reactor.run([&run](Shard& shard) { return run.main(shard); });
  if (!ran.ok()) return ran.error();
  return run.take_result();
}

}  // namespace ringraft::tools
