// TCP echo over loopback: the reactor's accept/receive/send path against thread-per-connection
// blocking sockets.
//
// Both variants run the same ping-pong: each client connection sends a message, reads the whole
// echo back, and repeats a fixed number of times. The clock runs from the moment every client is
// connected until the last one has its last echo. In the reactor variant shard 0 is the server
// (AcceptStream, a RecvStream per connection fed from one buffer group, ops::send_all) and shard
// 1 runs all the clients; the baseline uses one blocking thread per server connection and one per
// client. Every socket has TCP_NODELAY: without it Nagle's algorithm and delayed ACKs stall
// small replies for tens of milliseconds.
//
//   BM_Echo/<reactor|blocking>/<message_bytes>/<connections>
#include <benchmark/benchmark.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/micro/reactor_bench_support.h"
#include "reactor/accept_stream.h"
#include "reactor/latch.h"
#include "reactor/ops.h"
#include "reactor/recv_stream.h"

namespace ringraft::bench {
namespace {

// The server reads into buffers of this size in both variants.
constexpr uint32_t kServerBufferBytes = 16 * 1024;
// Shared by every connection of the reactor server. With one message in flight per connection,
// a connection holds at most the chunks of one message (a 16 KiB message arrives in 1-4), so 64
// connections stay far from running the ring dry.
constexpr uint32_t kServerBufferCount = 512;

struct EchoShape {
  uint32_t message_bytes;
  uint32_t connections;
  uint32_t round_trips_per_connection;

  uint64_t round_trips() const { return uint64_t{connections} * round_trips_per_connection; }
};

// Sized so that one run takes under a second on a 2-core machine: a lone connection is bound by
// latency (~30 us per round trip), many connections by throughput (~100-200 k round trips/s).
constexpr uint32_t kRoundTripsTotal = 20'000;
constexpr uint32_t kRoundTripsPerConnectionMin = 1'000;

EchoShape echo_shape(const benchmark::State& state) {
  EchoShape shape{};
  shape.message_bytes = static_cast<uint32_t>(state.range(0));
  shape.connections = static_cast<uint32_t>(state.range(1));
  shape.round_trips_per_connection =
      std::max(kRoundTripsPerConnectionMin, kRoundTripsTotal / shape.connections);
  return shape;
}

std::vector<std::byte> message_pattern(uint32_t size_bytes, uint32_t seed) {
  std::vector<std::byte> bytes(size_bytes);
  for (uint32_t i = 0; i < size_bytes; i++) {
    bytes[i] = std::byte(static_cast<uint8_t>((i + seed) * 131));
  }
  return bytes;
}

void report_echo(benchmark::State& state, const EchoShape& shape, double seconds) {
  state.SetIterationTime(seconds);
  state.SetItemsProcessed(static_cast<int64_t>(shape.round_trips()));
  // Payload bytes echoed; each byte crosses the loopback twice.
  state.SetBytesProcessed(static_cast<int64_t>(shape.round_trips() * shape.message_bytes));
  state.counters["rtt_us"] = seconds * 1e6 / static_cast<double>(shape.round_trips_per_connection);
}

// ---- reactor ----------------------------------------------------------------------------------

// State of one reactor echo run. Fields are written by one shard each and read by the benchmark
// thread after Reactor::run returned.
struct ReactorEcho {
  EchoShape shape{};
  LoopbackListener listener;
  std::string server_error;                  // shard 0
  uint32_t clients_failed = 0;               // shard 1
  BenchClock::time_point started, finished;  // shard 1
};

Task<void> echo_connection(Io& io, FileDescriptor socket, BufferGroup& buffers, Latch& done) {
  RecvStream stream(io, socket.get(), buffers);
  while (true) {
    RecvResult received = co_await stream.next();
    if (received.status.value == -ENOBUFS) continue;  // buffers came back meanwhile: re-arm
    if (received.status.value <= 0) break;            // the client closed
    const IoResult sent = co_await ops::send_all(io, socket.get(), received.chunk.bytes());
    if (!sent.ok()) break;
  }
  co_await stream.stop();
  done.count_down();
}

// Shard 0: accepts every connection, echoes on each, and stops the reactor when all closed.
Task<void> run_echo_server(Shard& shard, ReactorEcho& run) {
  Result<std::unique_ptr<BufferGroup>> buffers =
      shard.io().create_buffer_group(kServerBufferCount, kServerBufferBytes);
  if (!buffers.ok()) {
    run.server_error = buffers.error().message();
    shard.reactor().stop();
    co_return;
  }
  Latch connections_done(run.shape.connections);
  AcceptStream acceptor(shard.io(), run.listener.fd.get());
  uint32_t accepted_count = 0;
  while (accepted_count < run.shape.connections) {
    const IoResult accepted = co_await acceptor.next();
    if (!accepted.ok()) {
      run.server_error = "accept: " + accepted.message();
      break;
    }
    FileDescriptor socket(accepted.value);
    Result<void> nodelay = set_tcp_nodelay(socket.get());
    if (!nodelay.ok()) run.server_error = nodelay.error().message();
    shard.spawn(echo_connection(shard.io(), std::move(socket), *buffers.value(), connections_done));
    accepted_count++;
  }
  co_await acceptor.stop();
  if (accepted_count < run.shape.connections) {
    connections_done.count_down(run.shape.connections - accepted_count);
    shard.reactor().stop();  // clients waiting for echoes end with -ECANCELED
  }
  // The buffer group outlives every connection that receives into it.
  co_await connections_done.wait();
  shard.reactor().stop();
}

// Sends `message` and reads its echo back, round_trips times; true if every echo came back
// whole and the last one matched byte for byte.
Task<bool> ping_pong(Io& io, int fd, const std::vector<std::byte>& message, uint32_t round_trips) {
  std::vector<std::byte> reply(message.size());
  for (uint32_t round = 0; round < round_trips; round++) {
    const IoResult sent = co_await ops::send_all(io, fd, message);
    if (!sent.ok()) co_return false;
    size_t received_bytes = 0;
    while (received_bytes < reply.size()) {
      const IoResult got = co_await ops::recv(io, fd, ByteSpan(reply).subspan(received_bytes));
      if (got.value <= 0) co_return false;
      received_bytes += got.bytes();
    }
  }
  co_return reply == message;
}

Task<void> echo_client(Io& io, ReactorEcho& run, uint32_t seed, Latch& connected, Latch& go,
                       Latch& finished) {
  const std::vector<std::byte> message = message_pattern(run.shape.message_bytes, seed);
  Result<FileDescriptor> socket = tcp_socket();  // sets TCP_NODELAY
  bool ok = socket.ok();
  if (ok) {
    const auto* address = reinterpret_cast<const sockaddr*>(&run.listener.address);
    const IoResult result =
        co_await ops::connect(io, socket.value().get(), address, sizeof(run.listener.address));
    ok = result.ok();
  }
  connected.count_down();
  co_await go.wait();
  if (ok)
    ok =
        co_await ping_pong(io, socket.value().get(), message, run.shape.round_trips_per_connection);
  if (!ok) run.clients_failed++;
  if (socket.ok()) socket.value().reset();  // the server's connection task ends on this EOF
  finished.count_down();
}

// Shard 1: connects every client, then starts them all at once and times them.
Task<void> run_echo_clients(Shard& shard, ReactorEcho& run) {
  Latch connected(run.shape.connections), go(1), finished(run.shape.connections);
  for (uint32_t i = 0; i < run.shape.connections; i++) {
    shard.spawn(echo_client(shard.io(), run, i, connected, go, finished));
  }
  co_await connected.wait();
  run.started = BenchClock::now();
  go.count_down();
  co_await finished.wait();
  run.finished = BenchClock::now();
}

void BM_EchoReactor(benchmark::State& state, Duration idle_poll) {
  const EchoShape shape = echo_shape(state);
  ReactorRunReport report;
  for (auto _ : state) {
    ReactorEcho run;
    run.shape = shape;
    Result<LoopbackListener> listener = listen_on_loopback();
    if (!listener.ok()) {
      state.SkipWithError(listener.error().message().c_str());
      break;
    }
    run.listener = std::move(listener).value();
    report = run_reactor_workload(
        2,
        [&run](Shard& shard) -> Task<void> {
          if (shard.id().value() == 0) return run_echo_server(shard, run);
          return run_echo_clients(shard, run);
        },
        idle_poll);
    if (!report.ok() || !run.server_error.empty() || run.clients_failed > 0) {
      const std::string error = !report.ok() ? report.error
                                : !run.server_error.empty()
                                    ? "server: " + run.server_error
                                    : std::to_string(run.clients_failed) + " client(s) failed";
      state.SkipWithError(error.c_str());
      break;
    }
    report_echo(state, shape, seconds_between(run.started, run.finished));
  }
  if (state.error_occurred()) return;
  add_loop_counters(state, "server", report.uring_stats[0], shape.round_trips());
  add_loop_counters(state, "client", report.uring_stats[1], shape.round_trips());
}

// ---- blocking baseline ------------------------------------------------------------------------

// Collects the first error of a run from any thread.
class FirstError {
 public:
  void set(std::string error) {
    std::lock_guard lock(mutex_);
    if (error_.empty()) error_ = std::move(error);
  }
  std::string get() {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  std::mutex mutex_;
  std::string error_;
};

bool send_whole(int fd, const std::byte* bytes, size_t size_bytes) {
  size_t sent_bytes = 0;
  while (sent_bytes < size_bytes) {
    const ssize_t sent = ::send(fd, bytes + sent_bytes, size_bytes - sent_bytes, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    sent_bytes += static_cast<size_t>(sent);
  }
  return true;
}

void serve_blocking_connection(FileDescriptor socket) {
  std::vector<std::byte> buffer(kServerBufferBytes);
  while (true) {
    const ssize_t got = ::recv(socket.get(), buffer.data(), buffer.size(), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return;  // the client closed
    if (!send_whole(socket.get(), buffer.data(), static_cast<size_t>(got))) return;
  }
}

bool blocking_ping_pong(int fd, const std::vector<std::byte>& message, uint32_t round_trips) {
  std::vector<std::byte> reply(message.size());
  for (uint32_t round = 0; round < round_trips; round++) {
    if (!send_whole(fd, message.data(), message.size())) return false;
    size_t received_bytes = 0;
    while (received_bytes < reply.size()) {
      const ssize_t got =
          ::recv(fd, reply.data() + received_bytes, reply.size() - received_bytes, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      received_bytes += static_cast<size_t>(got);
    }
  }
  return reply == message;
}

void run_blocking_client(const EchoShape& shape, const sockaddr_in& address, uint32_t seed,
                         std::latch& connected, std::latch& go, FirstError& errors) {
  const std::vector<std::byte> message = message_pattern(shape.message_bytes, seed);
  Result<FileDescriptor> socket = tcp_socket();  // sets TCP_NODELAY
  bool ok = socket.ok();
  if (!ok) {
    errors.set(socket.error().message());
  } else if (::connect(socket.value().get(), reinterpret_cast<const sockaddr*>(&address),
                       sizeof(address)) != 0) {
    errors.set(std::string("connect: ") + std::strerror(errno));
    ok = false;
  }
  connected.count_down();
  go.wait();
  if (ok && !blocking_ping_pong(socket.value().get(), message, shape.round_trips_per_connection)) {
    errors.set("a blocking client lost its connection or got a wrong echo");
  }
}

// Accepts `connections` connections and serves each on its own thread until the client closes.
void run_blocking_server(int listen_fd, uint32_t connections, FirstError& errors) {
  std::vector<std::thread> servers;
  servers.reserve(connections);
  for (uint32_t i = 0; i < connections; i++) {
    FileDescriptor socket(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
    if (!socket.valid()) {
      errors.set(std::string("accept: ") + std::strerror(errno));
      break;
    }
    Result<void> nodelay = set_tcp_nodelay(socket.get());
    if (!nodelay.ok()) errors.set(nodelay.error().message());
    servers.emplace_back(serve_blocking_connection, std::move(socket));
  }
  for (std::thread& server : servers) server.join();
}

void BM_EchoBlocking(benchmark::State& state) {
  const EchoShape shape = echo_shape(state);
  for (auto _ : state) {
    Result<LoopbackListener> listener = listen_on_loopback();
    if (!listener.ok()) {
      state.SkipWithError(listener.error().message().c_str());
      break;
    }
    FirstError errors;
    std::thread server(run_blocking_server, listener.value().fd.get(), shape.connections,
                       std::ref(errors));
    std::latch connected(shape.connections), go(1);
    std::vector<std::thread> clients;
    clients.reserve(shape.connections);
    for (uint32_t i = 0; i < shape.connections; i++) {
      clients.emplace_back(run_blocking_client, std::cref(shape),
                           std::cref(listener.value().address), i, std::ref(connected),
                           std::ref(go), std::ref(errors));
    }
    connected.wait();
    const BenchClock::time_point started = BenchClock::now();
    go.count_down();
    for (std::thread& client : clients) client.join();  // each closes its socket on return
    const BenchClock::time_point finished = BenchClock::now();
    server.join();
    const std::string error = errors.get();
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      break;
    }
    report_echo(state, shape, seconds_between(started, finished));
  }
}

// Registered pair by pair, so each baseline runs right after its reactor variant and a drift in
// machine speed during the run skews one ratio at most.
const bool kRegistered = [] {
  auto reactor = [](benchmark::State& state) { BM_EchoReactor(state, Duration::zero()); };
  auto reactor_polling = [](benchmark::State& state) { BM_EchoReactor(state, kBenchIdlePoll); };
  for (const int64_t message_bytes : {64, 16384}) {
    for (const int64_t connections : {1, 64}) {
      std::vector<std::pair<const char*, void (*)(benchmark::State&)>> variants = {
          {"BM_Echo/reactor", reactor}, {"BM_Echo/blocking", &BM_EchoBlocking}};
      // Polling matters where one connection waits for each reply; 64 already batch.
      if (connections == 1)
        variants.insert(variants.begin() + 1, {"BM_Echo/reactor_polling", reactor_polling});
      for (auto [name, function] : variants) {
        benchmark::RegisterBenchmark(name, function)
            ->Args({message_bytes, connections})
            ->Iterations(1)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
  return true;
}();

}  // namespace
}  // namespace ringraft::bench
