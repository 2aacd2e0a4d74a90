// RespServer: RESP2 client connections on one reactor shard, in front of a KvBackend.
//
// An accept loop (multishot AcceptStream) starts one task per connection; a connection reads
// with a multishot RecvStream from a provided-buffer group, parses with RespParser, answers each
// request through the backend and sends the replies of everything a turn parsed in one send.
// Pipelined requests are answered in order. The writes one receive brought are all started in
// that turn (the engine batches them), their replies appended in request order once each
// completed; a read or local command first waits for the connection's earlier writes. With a
// backend whose reads need a barrier (ReadIndex), one barrier serves the reads of a receive
// that follow its last write.
//
// Bounds and their full behaviour:
//   connections_max     a connection beyond it is answered "-ERR max number of clients reached"
//                       and closed;
//   input               RespParser limits (request bytes, arguments, bulk bytes): a request
//                       beyond them is a protocol error;
//   writes_in_flight_max  writes of one connection started and not yet answered; the next
//                       one waits until those are answered;
//   output_bytes_max    replies waiting for the socket; a client whose pending replies exceed it
//                       (it pipelines without reading) is closed, as Redis's client output limit;
//   idle_timeout        a connection with no completed receive or send for this long is closed
//                       (also ends a send blocked on a client that stopped reading). Zero: none.
// A protocol error is answered ("-ERR Protocol error: ...") and the connection closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "reactor/accept_stream.h"
#include "reactor/io.h"
#include "reactor/latch.h"
#include "reactor/shard.h"
#include "reactor/task.h"
#include "tools/cli/latency_histogram.h"
#include "tools/kv/resp_parser.h"
#include "tools/server/connection_set.h"
#include "tools/server/kv_backend.h"

namespace ringraft::server {

struct RespServerConfig {
  uint32_t connections_max = 10'000;
  size_t output_bytes_max = size_t{64} * 1024 * 1024;
  Duration idle_timeout = Duration::zero();
  kv::RespLimits input_limits;
  uint32_t recv_buffers = 256;  // provided buffers shared by the server's connections
  uint32_t recv_buffer_bytes = 16 * 1024;
  uint32_t writes_in_flight_max = 1024;  // per connection
};

struct RespServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // beyond connections_max
  uint64_t protocol_errors = 0;
  uint64_t output_overflows = 0;  // closed for exceeding output_bytes_max
  uint64_t idle_closed = 0;
  uint64_t requests = 0;
  uint64_t writes_forwarded_in = 0;  // RINGRAFT.PROPOSE from other members
  uint64_t read_barriers = 0;
  uint64_t read_barrier_failures = 0;
};

class RespServer {
 public:
  RespServer(Shard& shard, KvBackend& backend, const RespServerConfig& config);
  RespServer(const RespServer&) = delete;
  RespServer& operator=(const RespServer&) = delete;

  // Accepts on `listen_fd` (a listening socket the caller owns) until the AcceptStream ends
  // (reactor shutdown or stop()), then waits for every connection to end.
  Task<Result<void>> serve(int listen_fd);
  // Ends the accept loop and shuts every open connection down; serve() then returns.
  void stop();

  const RespServerStats& stats() const { return stats_; }
  uint32_t connections_open() const { return connections_.open(); }
  // Where request latencies go (null: not measured): a receive's requests are timed together,
  // from the turn that received them to the turn their replies were sent, one record per
  // receive. `histogram` must outlive the server or be reset to null first.
  void set_latency_histogram(tools::LatencyHistogram* histogram) { latency_ = histogram; }
  // Slow admin commands (kv_backend.h); `admin` must outlive the server. Null: none.
  void set_admin_handler(AdminHandler* admin) { admin_ = admin; }

 private:
  struct Connection;
  struct WriteSlot;
  Task<void> serve_connection(int fd);
  Task<void> watch_idle(Connection& connection);
  Task<bool> handle_input(Connection& connection);
  Task<bool> handle_request(Connection& connection, std::span<const std::string_view> arguments);
  Task<bool> answer_read_or_local(Connection& connection, const kv::CommandSpec& spec,
                                  std::span<const std::string_view> arguments);
  Task<WriteSlot*> next_write_slot(Connection& connection);
  void start_write(Connection& connection, WriteSlot& slot, WriteOrigin origin);
  Task<void> run_write(WriteSlot& slot, WriteOrigin origin);
  Task<void> drain_writes(Connection& connection);

  Shard& shard_;
  KvBackend& backend_;
  RespServerConfig config_;
  RespServerStats stats_;
  int listen_fd_ = -1;
  std::unique_ptr<BufferGroup> buffers_;
  ConnectionSet connections_;
  tools::LatencyHistogram* latency_ = nullptr;
  AdminHandler* admin_ = nullptr;
};

}  // namespace ringraft::server
