// ServerNode: one `ringraft server` node on one reactor shard: the Raft transport (a
// TransportBus), the ShardEngine with its WAL under DATA_DIR/wal, the replicated key-value
// group and the RESP server in front of it. One shard and one Raft group (GroupId 1) for now;
// the pieces already take a shard and a group, so more of both is a matter of configuration.
//
// Start order: the transport listens and dials (the engine needs its bus), the engine recovers
// and opens, the bus is attached (inbound messages reach the engine from then on), the RESP
// server serves. Stop order, once `stop_requested` counts down (SIGINT/SIGTERM): the RESP
// server stops accepting and ends its connections, the transport stops (no more inbound
// messages), the engine closes (pending proposals end as kShuttingDown, the WAL closes).
#pragma once

#include <functional>

#include "common/result.h"
#include "reactor/latch.h"
#include "reactor/shard.h"
#include "reactor/task.h"
#include "tools/server/server_options.h"

namespace ringraft::server {

inline constexpr GroupId kServerGroup{1};

// Runs the node until `stop_requested` reaches zero, then shuts it down in order. Calls
// `on_serving` once the RESP server accepts. `resp_listen_fd` and `admin_listen_fd` (-1: no
// admin port; HTTP /metrics and /status, admin_http_server.h) are listening sockets the caller
// owns. An error if the node could not start (port taken, WAL unreadable, ...).
Task<Result<void>> run_server_node(Shard& shard, const ServerOptions& options, int resp_listen_fd,
                                   Latch& stop_requested, std::function<void()> on_serving,
                                   int admin_listen_fd = -1);

}  // namespace ringraft::server
