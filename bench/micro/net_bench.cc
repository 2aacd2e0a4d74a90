// The peer transport over loopback, beside plain blocking TCP measured in the same run.
//
//   BM_NetThroughput/<reactor|blocking>/<entry_bytes>/<entries>/<recv_buffer_kib>/<direct_kib>
//     AppendEntries of `entries` entries of `entry_bytes` each, streamed from node 1 (shard 0)
//     to node 2 (shard 1) as fast as back-pressure allows, until 128 MiB have arrived. The
//     receiver's provided buffers are `recv_buffer_kib` KiB each (16 of them); a frame still
//     missing `direct_kib` KiB or more once its header is in is received straight into the
//     frame buffer (TransportOptions::direct_receive_bytes_min; 0: never, every frame that
//     straddles buffers is copied out of them). The baseline ignores both. The
//     reactor variant builds each message in the peer's output buffer (Transport::send_built:
//     the entry block copied in once, as from a WAL block), one sendmsg per turn, and the
//     receiver's decoder (CRC, verifier) and handler. The baseline sends the same frames, built
//     once, from one blocking thread to another, which only counts the bytes.
//   BM_NetRtt/<reactor|blocking>/<message_bytes>
//     Ping-pong of one small AppendEntries: node 2's handler answers, node 1's handler sends the
//     next one. The baseline is a blocking echo of the same bytes.
//   BM_NetCodec/<reactor|raw>/<entries>/<known_crc>
//     One thread: build a 100 B x <entries> AppendEntries in place in an output buffer, frame it
//     there, verify and read it back in place as a receiver does with a frame that lies whole in
//     one received chunk; against the one memcpy of the entry block that path performs. With
//     known_crc 1 the build hands over the entry block's CRC (as the WAL has it: KnownCrcSpan),
//     so framing reads only the bytes around the block; 0: one CRC pass over the whole message.
//     The baseline ignores it.
//
// Timing: the multi-threaded ones run once per iteration and time their window by hand (from
// the first send to the last receipt), so set-up and connection stay outside the number.
#include <benchmark/benchmark.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "bench/micro/reactor_bench_support.h"
#include "common/crc32c.h"
#include "net/transport.h"
#include "reactor/ops.h"

namespace ringraft::bench {
namespace {

constexpr uint64_t kTotalBytes = 128ull << 20;
constexpr uint32_t kRoundTrips = 10'000;
constexpr auto kConnectLimit = std::chrono::seconds(10);

// CPU time (user + system, every thread of the process) since the process started. Wall time
// on a shared machine follows the CPU a run gets; CPU per byte is the cost itself.
double process_cpu_seconds() {
  rusage usage{};
  RR_ASSERT(::getrusage(RUSAGE_SELF, &usage) == 0);
  const auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// CPU time of the calling thread: one shard's own cost, apart from the other shard's.
double thread_cpu_seconds() {
  timespec now{};
  RR_ASSERT(::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) == 0);
  return double(now.tv_sec) + double(now.tv_nsec) * 1e-9;
}

uint16_t free_port() {
  Result<LoopbackListener> listener = listen_on_loopback();
  RR_ASSERT(listener.ok());
  return ntohs(listener.value().address.sin_port);
}

net::TransportOptions bench_options(uint64_t node, uint16_t port, uint64_t peer, uint16_t peer_port,
                                    uint32_t frame_bytes_max,
                                    uint32_t recv_buffer_bytes = 64u << 10,
                                    uint32_t direct_receive_bytes_min = 0) {
  net::TransportOptions options;
  options.cluster_id = 7;
  options.node = NodeId(node);
  options.listen_port = port;
  net::PeerAddress address;
  address.node = NodeId(peer);
  address.host = "127.0.0.1";
  address.port = peer_port;
  options.peers.push_back(address);
  options.limits.frame_bytes_max = frame_bytes_max;
  options.peer_output_bytes_max = 4ull * frame_bytes_max;
  options.reconnect_backoff_min_ms = 2;
  options.reconnect_backoff_max_ms = 20;
  // 16 receive buffers: for one stream a small ring is the cheaper one (its buffers stay in
  // cache: 64 x 64 KiB cost ~25% more CPU per byte than 16 x 64 KiB in this benchmark), and it
  // rarely runs dry.
  options.recv_buffer_count = 16;
  options.recv_buffer_bytes = recv_buffer_bytes;
  options.direct_receive_bytes_min = direct_receive_bytes_min;
  return options;
}

// Builds an AppendEntries of `block` in `builder` (the entry block copied in once), as the
// Raft layer does from a WAL block.
// Returns where the block lies in the message, with `block_crc` as its CRC.
net::KnownCrcSpan build_append_entries(flatbuffers::FlatBufferBuilder& builder, uint64_t from,
                                       uint64_t to, uint32_t entries,
                                       const std::vector<uint8_t>& block, uint32_t block_crc = 0) {
  net::begin_message(builder);
  uint8_t* block_bytes = nullptr;
  const auto vector = builder.CreateUninitializedVector(block.size(), &block_bytes);
  std::memcpy(block_bytes, block.data(), block.size());
  const auto body = wire::CreateAppendEntries(builder, 1, 3, from, 100, 3, 99, entries, vector);
  net::finish_message(builder, from, to, body);
  net::KnownCrcSpan known;
  known.data = reinterpret_cast<const std::byte*>(block_bytes);
  known.size_bytes = block.size();
  known.crc = block_crc;
  return known;
}

std::vector<std::byte> append_entries(uint64_t from, uint64_t to, uint32_t entries,
                                      uint32_t entry_bytes) {
  const std::vector<uint8_t> block(size_t{entries} * entry_bytes, 0x5A);
  flatbuffers::FlatBufferBuilder builder(block.size() + 256);
  build_append_entries(builder, from, to, entries, block);
  const auto* begin = reinterpret_cast<const std::byte*>(builder.GetBufferPointer());
  return {begin, begin + builder.GetSize()};
}

std::vector<std::byte> framed(const std::vector<std::byte>& flatbuffer) {
  std::vector<std::byte> frame(net::frame_bytes(flatbuffer.size()));
  RR_ASSERT(net::encode_frame(flatbuffer, frame) == frame.size());
  return frame;
}

// Waits (in 50 ms steps of loop time: a finer timer costs the measured loops) until `condition`
// holds; false after `limit`. Only used outside the measured windows.
Task<bool> wait_for(Shard& shard, const std::function<bool()>& condition, Duration limit) {
  const MonoTime deadline = shard.io().now() + limit;
  while (!condition()) {
    if (shard.io().now() >= deadline) co_return false;
    if (!(co_await ops::sleep_for(shard.io(), std::chrono::milliseconds(50))).ok()) co_return false;
  }
  co_return true;
}

// What the two shards of a transport run share. Written by one shard, read by the other only
// through the atomics.
struct TransportRun {
  uint16_t port_a = 0;
  uint16_t port_b = 0;
  uint32_t frame_bytes_max = 0;
  uint32_t recv_buffer_bytes = 64u << 10;
  uint32_t direct_receive_bytes_min = 64u << 10;
  std::atomic<bool> b_connected{false};
  std::atomic<bool> done{false};
  std::atomic<int> stopped{0};
  BenchClock::time_point start;
  BenchClock::time_point end;
  std::atomic<bool> failed{false};
  net::PeerStats sender;               // node 1's view of node 2, taken when the run ends
  net::FrameCounters receiver_frames;  // node 2's inbound frames, taken when the run ends
  double receiver_cpu_seconds = 0;     // node 2's shard thread, from its start to the last frame
  uint64_t receiver_enters = 0;        // node 2's io_uring_enter calls over the same span
};

// Stops a shard's transport; the second shard to get here stops the reactor.
Task<void> finish_shard(Shard& shard, TransportRun& run, net::Transport& transport) {
  (void)co_await wait_for(
      shard, [&] { return run.done.load() || run.failed.load(); }, std::chrono::seconds(60));
  if (shard.id().value() == 0) run.sender = transport.stats().peers.front();
  if (shard.id().value() == 1) run.receiver_frames = transport.stats().frames;
  co_await transport.stop();
  if (run.stopped.fetch_add(1) == 1) shard.reactor().stop();
}

// Suspends until the writable handler resumes it.
struct WritableWait {
  std::coroutine_handle<>* slot;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter) { *slot = waiter; }
  void await_resume() const noexcept {}
};

// ---- throughput --------------------------------------------------------------------------------

struct StreamShape {
  uint32_t entry_bytes;
  uint32_t entries;
  std::vector<uint8_t> block;      // the entry block, as the WAL wrote it
  std::vector<std::byte> message;  // the AppendEntries carrying it, for the baseline
  uint64_t messages;
  uint32_t recv_buffer_bytes;         // the receiver's provided buffers (reactor only)
  uint32_t direct_receive_bytes_min;  // the receiver's direct-receive threshold (reactor only)
};

Task<void> stream_sender(Shard& shard, TransportRun& run, const StreamShape& shape) {
  auto transport = net::Transport::create(
                       shard, bench_options(1, run.port_a, 2, run.port_b, run.frame_bytes_max),
                       [](NodeId, const wire::Message&) {})
                       .value();
  std::coroutine_handle<> waiter;
  transport->set_writable_handler([&](NodeId) {
    if (waiter) std::exchange(waiter, {}).resume();
  });
  if (!(co_await transport->start()).ok()) run.failed = true;
  if (!co_await wait_for(
          shard, [&] { return transport->writable(NodeId(2)); }, kConnectLimit)) {
    run.failed = true;
  }
  const size_t bound_bytes = shape.block.size() + net::kMessageOverheadBytes;
  run.start = BenchClock::now();
  for (uint64_t sent = 0; sent < shape.messages && !run.failed;) {
    const net::SendStatus status =
        transport->send_built(NodeId(2), bound_bytes, [&](flatbuffers::FlatBufferBuilder& b) {
          build_append_entries(b, 1, 2, shape.entries, shape.block);
        });
    if (status == net::SendStatus::kQueued) {
      sent++;
    } else if (status == net::SendStatus::kFull) {
      co_await WritableWait{&waiter};
    } else {
      run.failed = true;
    }
  }
  co_await finish_shard(shard, run, *transport);
}

Task<void> stream_receiver(Shard& shard, TransportRun& run, uint64_t messages) {
  uint64_t received = 0;
  const double cpu_start = thread_cpu_seconds();
  const uint64_t enters_start = shard.uring().stats().enter_calls;
  auto transport = net::Transport::create(
                       shard,
                       bench_options(2, run.port_b, 1, run.port_a, run.frame_bytes_max,
                                     run.recv_buffer_bytes, run.direct_receive_bytes_min),
                       [&](NodeId, const wire::Message& message) {
                         benchmark::DoNotOptimize(message.body_as_AppendEntries()->entries());
                         if (++received == messages) {
                           run.end = BenchClock::now();
                           run.receiver_cpu_seconds = thread_cpu_seconds() - cpu_start;
                           run.receiver_enters = shard.uring().stats().enter_calls - enters_start;
                           run.done = true;
                         }
                       })
                       .value();
  if (!(co_await transport->start()).ok()) run.failed = true;
  co_await finish_shard(shard, run, *transport);
}

StreamShape stream_shape(const benchmark::State& state) {
  StreamShape shape;
  shape.entry_bytes = static_cast<uint32_t>(state.range(0));
  shape.entries = static_cast<uint32_t>(state.range(1));
  shape.recv_buffer_bytes = static_cast<uint32_t>(state.range(2)) << 10;
  shape.direct_receive_bytes_min = static_cast<uint32_t>(state.range(3)) << 10;
  shape.block.assign(size_t{shape.entries} * shape.entry_bytes, 0x5A);
  shape.message = append_entries(1, 2, shape.entries, shape.entry_bytes);
  shape.messages = std::max<uint64_t>(64, kTotalBytes / shape.message.size());
  return shape;
}

// `cpu_seconds`: the process's CPU time over the whole run, set-up included (small beside
// 128 MiB of traffic; the same set-up for every repetition).
void report_stream(benchmark::State& state, const StreamShape& shape, double seconds,
                   double cpu_seconds) {
  state.SetIterationTime(seconds);
  state.counters["cpu_ns_per_kib"] =
      cpu_seconds * 1e9 * 1024 /
      static_cast<double>(shape.messages * net::frame_bytes(shape.message.size()));
  state.SetItemsProcessed(static_cast<int64_t>(shape.messages));  // AppendEntries messages
  state.SetBytesProcessed(
      static_cast<int64_t>(shape.messages * net::frame_bytes(shape.message.size())));
  state.counters["entries_per_s"] = benchmark::Counter(
      static_cast<double>(shape.messages * shape.entries), benchmark::Counter::kIsRate);
}

void BM_NetThroughput_reactor(benchmark::State& state) {
  const StreamShape shape = stream_shape(state);
  for (auto _ : state) {
    const double cpu_before = process_cpu_seconds();
    TransportRun run;
    run.port_a = free_port();
    run.port_b = free_port();
    run.frame_bytes_max = static_cast<uint32_t>(shape.message.size() + 4096);
    run.recv_buffer_bytes = shape.recv_buffer_bytes;
    run.direct_receive_bytes_min = shape.direct_receive_bytes_min;
    ReactorRunReport report = run_reactor_workload(2, [&](Shard& shard) -> Task<void> {
      if (shard.id().value() == 0) {
        co_await stream_sender(shard, run, shape);
      } else {
        co_await stream_receiver(shard, run, shape.messages);
      }
    });
    if (!report.ok() || run.failed || !run.done) {
      state.SkipWithError(report.ok() ? "the transport run failed" : report.error.c_str());
      return;
    }
    report_stream(state, shape, seconds_between(run.start, run.end),
                  process_cpu_seconds() - cpu_before);
    state.counters["sendmsgs_per_message"] =
        static_cast<double>(run.sender.sendmsg_calls) / static_cast<double>(shape.messages);
    state.counters["kfull_per_message"] =
        static_cast<double>(run.sender.sends_full) / static_cast<double>(shape.messages);
    state.counters["in_place_fraction"] =
        static_cast<double>(run.receiver_frames.frames_in_place) /
        static_cast<double>(std::max<uint64_t>(1, run.receiver_frames.frames_accepted));
    // The receiving shard alone: what the receive path costs, apart from the sender's build.
    state.counters["receiver_cpu_ns_per_kib"] =
        run.receiver_cpu_seconds * 1e9 * 1024 /
        static_cast<double>(shape.messages * net::frame_bytes(shape.message.size()));
    // Each enter is a wait for the kernel (a wake-up when it slept): what the direct path adds.
    state.counters["receiver_enters_per_frame"] =
        static_cast<double>(run.receiver_enters) / static_cast<double>(shape.messages);
    state.counters["direct_fraction"] =
        static_cast<double>(run.receiver_frames.frames_received_direct) /
        static_cast<double>(std::max<uint64_t>(1, run.receiver_frames.frames_accepted));
  }
}

FileDescriptor blocking_connect(const sockaddr_in& address) {
  FileDescriptor fd = tcp_socket().value();
  RR_ASSERT(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
  return fd;
}

bool send_fully(int fd, const std::byte* data, size_t size_bytes) {
  while (size_bytes > 0) {
    const ssize_t sent = ::send(fd, data, size_bytes, MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data += sent;
    size_bytes -= static_cast<size_t>(sent);
  }
  return true;
}

bool recv_fully(int fd, std::byte* data, size_t size_bytes) {
  while (size_bytes > 0) {
    const ssize_t got = ::recv(fd, data, size_bytes, 0);
    if (got <= 0) return false;
    data += got;
    size_bytes -= static_cast<size_t>(got);
  }
  return true;
}

void BM_NetThroughput_blocking(benchmark::State& state) {
  const StreamShape shape = stream_shape(state);
  const std::vector<std::byte> frame = framed(shape.message);
  for (auto _ : state) {
    const double cpu_before = process_cpu_seconds();
    LoopbackListener listener = listen_on_loopback().value();
    BenchClock::time_point end;
    bool received_all = false;
    std::thread receiver([&] {
      FileDescriptor fd(::accept(listener.fd.get(), nullptr, nullptr));
      std::vector<std::byte> sink(1u << 20);
      uint64_t remaining = shape.messages * frame.size();
      while (remaining > 0) {
        const ssize_t got =
            ::recv(fd.get(), sink.data(), std::min<uint64_t>(sink.size(), remaining), 0);
        if (got <= 0) break;
        remaining -= static_cast<uint64_t>(got);
      }
      end = BenchClock::now();
      received_all = remaining == 0;
    });
    FileDescriptor fd = blocking_connect(listener.address);
    const BenchClock::time_point start = BenchClock::now();
    for (uint64_t i = 0; i < shape.messages; i++) {
      if (!send_fully(fd.get(), frame.data(), frame.size())) break;
    }
    receiver.join();
    if (!received_all) {
      state.SkipWithError("the blocking stream lost its connection");
      return;
    }
    report_stream(state, shape, seconds_between(start, end), process_cpu_seconds() - cpu_before);
  }
}

// ---- round trip --------------------------------------------------------------------------------

Task<void> ping_node(Shard& shard, TransportRun& run, const std::vector<std::byte>& ping) {
  uint32_t round_trips = 0;
  std::unique_ptr<net::Transport> transport;
  transport = net::Transport::create(
                  shard, bench_options(1, run.port_a, 2, run.port_b, 64u << 10),
                  [&](NodeId, const wire::Message&) {
                    if (++round_trips == kRoundTrips) {
                      run.end = BenchClock::now();
                      run.done = true;
                    } else if (transport->send(NodeId(2), ping) != net::SendStatus::kQueued) {
                      run.failed = true;
                    }
                  })
                  .value();
  if (!(co_await transport->start()).ok()) run.failed = true;
  if (!co_await wait_for(
          shard, [&] { return transport->writable(NodeId(2)) && run.b_connected.load(); },
          kConnectLimit)) {
    run.failed = true;
  }
  run.start = BenchClock::now();
  if (transport->send(NodeId(2), ping) != net::SendStatus::kQueued) run.failed = true;
  co_await finish_shard(shard, run, *transport);
}

Task<void> pong_node(Shard& shard, TransportRun& run, const std::vector<std::byte>& pong) {
  std::unique_ptr<net::Transport> transport;
  transport =
      net::Transport::create(shard, bench_options(2, run.port_b, 1, run.port_a, 64u << 10),
                             [&](NodeId, const wire::Message&) {
                               if (transport->send(NodeId(1), pong) != net::SendStatus::kQueued) {
                                 run.failed = true;
                               }
                             })
          .value();
  transport->set_writable_handler([&](NodeId) { run.b_connected = true; });
  if (!(co_await transport->start()).ok()) run.failed = true;
  co_await finish_shard(shard, run, *transport);
}

void report_rtt(benchmark::State& state, size_t message_bytes, double seconds, double cpu_seconds) {
  state.SetIterationTime(seconds);
  state.counters["cpu_us_per_rtt"] = cpu_seconds * 1e6 / kRoundTrips;
  state.SetItemsProcessed(kRoundTrips);
  state.SetBytesProcessed(static_cast<int64_t>(kRoundTrips * message_bytes));
  state.counters["rtt_us"] = seconds * 1e6 / kRoundTrips;
}

void BM_NetRtt_reactor(benchmark::State& state) {
  const uint32_t block_bytes = static_cast<uint32_t>(state.range(0));
  const std::vector<std::byte> ping = append_entries(1, 2, 1, block_bytes);
  const std::vector<std::byte> pong = append_entries(2, 1, 1, block_bytes);
  for (auto _ : state) {
    const double cpu_before = process_cpu_seconds();
    TransportRun run;
    run.port_a = free_port();
    run.port_b = free_port();
    ReactorRunReport report = run_reactor_workload(2, [&](Shard& shard) -> Task<void> {
      if (shard.id().value() == 0) {
        co_await ping_node(shard, run, ping);
      } else {
        co_await pong_node(shard, run, pong);
      }
    });
    if (!report.ok() || run.failed || !run.done) {
      state.SkipWithError(report.ok() ? "the transport run failed" : report.error.c_str());
      return;
    }
    report_rtt(state, net::frame_bytes(ping.size()), seconds_between(run.start, run.end),
               process_cpu_seconds() - cpu_before);
  }
}

void BM_NetRtt_blocking(benchmark::State& state) {
  const std::vector<std::byte> frame =
      framed(append_entries(1, 2, 1, static_cast<uint32_t>(state.range(0))));
  for (auto _ : state) {
    const double cpu_before = process_cpu_seconds();
    LoopbackListener listener = listen_on_loopback().value();
    std::thread echo([&] {
      FileDescriptor fd(::accept(listener.fd.get(), nullptr, nullptr));
      (void)set_tcp_nodelay(fd.get());
      std::vector<std::byte> buffer(frame.size());
      for (uint32_t i = 0; i < kRoundTrips; i++) {
        if (!recv_fully(fd.get(), buffer.data(), buffer.size())) break;
        if (!send_fully(fd.get(), buffer.data(), buffer.size())) break;
      }
    });
    FileDescriptor fd = blocking_connect(listener.address);
    std::vector<std::byte> reply(frame.size());
    bool ok = true;
    const BenchClock::time_point start = BenchClock::now();
    for (uint32_t i = 0; i < kRoundTrips && ok; i++) {
      ok = send_fully(fd.get(), frame.data(), frame.size()) &&
           recv_fully(fd.get(), reply.data(), reply.size());
    }
    const BenchClock::time_point end = BenchClock::now();
    echo.join();
    if (!ok) {
      state.SkipWithError("the blocking ping-pong lost its connection");
      return;
    }
    report_rtt(state, frame.size(), seconds_between(start, end),
               process_cpu_seconds() - cpu_before);
  }
}

// ---- codec -------------------------------------------------------------------------------------

constexpr uint32_t kCodecEntryBytes = 100;

// Build in place in a peer's output buffer (the block's one copy, the CRC at commit), then the
// receiver's in-place poll (CRC, verifier) of the bytes as they would arrive in one chunk.
void BM_NetCodec_reactor(benchmark::State& state) {
  const uint32_t entries = static_cast<uint32_t>(state.range(0));
  const bool known_crc = state.range(1) != 0;
  const std::vector<uint8_t> block(size_t{entries} * kCodecEntryBytes, 0x33);
  const uint32_t block_crc = crc32c(as_bytes(block.data(), block.size()));  // the WAL's, once
  const size_t bound_bytes = block.size() + net::kMessageOverheadBytes;
  net::OutputBuffer output(net::frame_bytes(bound_bytes) + 64);
  net::InPlaceBuilder in_place;
  net::FrameLimits limits;
  limits.frame_bytes_max = static_cast<uint32_t>(bound_bytes);
  net::FrameCounters counters;
  net::FrameDecoder decoder(limits, &counters);
  size_t frame_size = 0;
  for (auto _ : state) {
    flatbuffers::FlatBufferBuilder& builder = in_place.start(output.reserve_frame(bound_bytes));
    const net::KnownCrcSpan known = build_append_entries(builder, 1, 2, entries, block, block_crc);
    const bool queued = known_crc ? output.commit_frame(in_place.finished(), known)
                                  : output.commit_frame(in_place.finished());
    in_place.end();
    const std::span<const iovec> sent = output.begin_send();
    if (!queued || sent.size() != 1) {
      state.SkipWithError("the frame was not built in place");
      return;
    }
    ConstByteSpan chunk(static_cast<const std::byte*>(sent[0].iov_base), sent[0].iov_len);
    frame_size = chunk.size();
    auto decoded = decoder.poll(&chunk);
    if (!decoded.ok() || !decoded.value() || !chunk.empty()) {
      state.SkipWithError("the decoder refused the frame");
      return;
    }
    const wire::AppendEntries* append = decoded.value()->message->body_as_AppendEntries();
    benchmark::DoNotOptimize(append->entries()->data());
    benchmark::DoNotOptimize(append->prev_log_index());
    (void)output.advance_send(frame_size);
  }
  if (counters.frames_in_place != counters.frames_accepted) {
    state.SkipWithError("a frame was copied into the decoder");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * entries);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame_size));
}

// The one copy that path makes (the entry block into the message), alone.
void BM_NetCodec_raw(benchmark::State& state) {
  const uint32_t entries = static_cast<uint32_t>(state.range(0));
  const std::vector<std::byte> block(size_t{entries} * kCodecEntryBytes, std::byte{0x33});
  std::vector<std::byte> built(block.size());
  for (auto _ : state) {
    std::memcpy(built.data(), block.data(), block.size());
    benchmark::DoNotOptimize(built.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * entries);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * block.size()));
}

void stream_arguments(benchmark::internal::Benchmark* benchmark) {
  // entry bytes, entries, the receiver's provided-buffer KiB, its direct-receive threshold KiB
  // (0: off). The blocking baseline has neither: each pair with 0 and one without shows what
  // receiving large frames straight into the frame buffer saves.
  benchmark->Args({100, 1000, 64, 0})
      ->Args({100, 1000, 64, 64})
      ->Args({100, 1000, 64, 16})
      ->Args({16 << 10, 64, 64, 0})
      ->Args({16 << 10, 64, 64, 64})
      ->UseManualTime()
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_NetThroughput_reactor)->Name("BM_NetThroughput/reactor")->Apply(stream_arguments);
BENCHMARK(BM_NetThroughput_blocking)->Name("BM_NetThroughput/blocking")->Apply(stream_arguments);
BENCHMARK(BM_NetRtt_reactor)
    ->Name("BM_NetRtt/reactor")
    ->Arg(64)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NetRtt_blocking)
    ->Name("BM_NetRtt/blocking")
    ->Arg(64)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NetCodec_reactor)
    ->Name("BM_NetCodec/reactor")
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_NetCodec_raw)
    ->Name("BM_NetCodec/raw")
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ringraft::bench
