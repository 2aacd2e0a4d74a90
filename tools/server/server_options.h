// ServerOptions: how one `ringraft server` node is configured (flags, or a TOML file with the
// same keys; flags win), parsed and validated before anything starts, with errors that name
// the flag and the bad value.
//
//   --id N             this node's id (1..)
//   --peers LIST       every member incl. self, the same on all nodes (Raft addresses):
//                      "1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003"
//   --clients LIST     optional, the members' RESP addresses, same form (redirects, forwarding)
//   --port P, --bind A RESP listen address (6379, 127.0.0.1)
//   --data-dir DIR     required; created if missing (the WAL lives in DIR/wal)
//   --cluster-id ID    "ringraft"; nodes of different clusters refuse each other's handshakes
//   --fsync on|off     on; off is for experiments (acknowledged writes can be lost on power loss)
//   --redirect         a follower answers writes with "-ERR not leader, ..." instead of
//                      forwarding them to the leader
//   --reads MODE       linearizable (ReadIndex, default) or local (stale reads allowed)
//   --join             this node is being added to a running cluster: --peers names the members
//                      and this node; it starts as a learner and waits for RINGRAFT.ADDNODE
//   --admin-port P     HTTP /metrics and /status on --bind; default --port + 1000 when that is
//                      free (a warning otherwise); 0: no admin port. Given explicitly, a port in
//                      use stops the start like the others.
//   --wal-segment-mib N  WAL segment size (64; each is preallocated: small disks, tests)
//   --wal-io MODE      how the WAL reaches the disk: direct-dsync (default: O_DIRECT segments
//                      opened O_DSYNC, each batch durable when its write completes), direct
//                      (O_DIRECT, write + fdatasync) or buffered (page cache, write +
//                      fdatasync). Every mode is as durable as the others; the direct ones skip
//                      the page cache copy and writeback, and direct-dsync the separate flush:
//                      12-19 % less CPU per SET over the three nodes of a local cluster than
//                      buffered (bench/cpu_per_set.sh A/B). A filesystem that refuses O_DIRECT
//                      (tmpfs) gets the page cache, with a warning in the log.
//   --fsyncs-in-flight N  WAL write+fdatasync pairs in flight (1..16, default 1). More let a
//                      batch formed during a flush leave at once, but make batches smaller: at
//                      1 the three nodes of a local cluster spent 13 % less CPU per SET and
//                      served 6-12 % more SETs than at 4 (bench/cpu_per_set.sh A/B).
//   --snapshot-entries N  a snapshot after N applied entries (default 1000000; the engine's
//                      EngineOptions::snapshot_entries). The engine's other trigger, 64 MiB of
//                      applied payload, comes first for writes above ~64 bytes. A snapshot
//                      copies the store copy-on-write and serialises the copy 1 MiB per turn
//                      (kv_store.h), so it no longer stops the shard; its cost is CPU (the
//                      whole store serialised, partitions cloned as they change meanwhile),
//                      paid per 64 MiB of log, like Redis's AOF rewrite.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/types.h"

namespace ringraft::server {

struct Endpoint {
  std::string host;  // dotted IPv4 or "localhost"
  uint16_t port = 0;
  std::string text() const { return host + ":" + std::to_string(port); }
};

enum class WalIo : uint8_t { kDirectDsync, kDirect, kBuffered };

enum class ReadMode : uint8_t {
  kLinearizable,  // ReadIndex: a read sees every write acknowledged before it started
  kLocal,         // this node's state machine as it is: may be stale on a follower
};

struct ServerOptions {
  NodeId id;
  std::map<NodeId, Endpoint> peers;    // Raft addresses of every member, self included
  std::map<NodeId, Endpoint> clients;  // RESP addresses (optional)
  std::string bind = "127.0.0.1";
  uint16_t port = 6379;
  std::string data_dir;
  std::string cluster_id = "ringraft";
  bool fsync = true;
  bool redirect = false;
  ReadMode reads = ReadMode::kLinearizable;
  std::optional<uint16_t> admin_port;  // nullopt: the default (port + 1000); 0: none
  bool join = false;                   // start as a learner (admin_commands.h)
  uint64_t wal_segment_mib = 64;
  uint32_t fsyncs_in_flight = 1;
  WalIo wal_io = WalIo::kDirectDsync;
  uint64_t snapshot_entries = 1000000;

  // The admin port to serve (0: none) and whether it was given (a default one may be skipped).
  uint16_t admin_port_to_use() const;
  bool admin_port_given() const { return admin_port.has_value(); }
  // An error naming the first bad setting (id not among the peers, a missing data dir, ...).
  Result<void> validate() const;
  const Endpoint& raft_endpoint() const { return peers.at(id); }
};

// "1=127.0.0.1:7001,2=127.0.0.1:7002" -> members. `flag` names the option in errors.
Result<std::map<NodeId, Endpoint>> parse_members(std::string_view text, std::string_view flag);
Result<bool> parse_on_off(std::string_view text, std::string_view flag);
Result<ReadMode> parse_read_mode(std::string_view text);
Result<WalIo> parse_wal_io(std::string_view text);

// Reads the TOML file at `path` into `options`, skipping the keys in `set_by_flags` (flag names
// without dashes: "id", "peers", "data-dir", ...). Keys: the flags' names; `peers` and
// `clients` as the flags' strings or as tables { 1 = "127.0.0.1:7001", ... }.
Result<void> load_config_file(const std::string& path, const std::set<std::string>& set_by_flags,
                              ServerOptions& options);

// The transport's 64-bit cluster id for a cluster name (FNV-1a: stable across builds).
uint64_t cluster_id_number(std::string_view name);

}  // namespace ringraft::server
