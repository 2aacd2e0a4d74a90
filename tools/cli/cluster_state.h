// ClusterState: the file `ringraft cluster up` leaves in its directory (DIR/cluster.state) so that
// `down`, `kill`, `restart`, `ls`, `status --dir` and `bench --cluster` find the nodes.
//
//   ringraft-cluster 1 fsync=on exe=/usr/local/bin/ringraft
//   node 1 pid=4242 client=127.0.0.1:6381 peer=127.0.0.1:7001 admin=127.0.0.1:6581
//   ...
//
// Node N keeps its data in DIR/node-N and its output in DIR/node-N.log. A pid may be stale (the
// process died, or its number was reused): node_process_alive checks both.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "tools/cli/info_client.h"

namespace ringraft::tools {

struct NodeRecord {
  uint32_t id = 0;
  pid_t pid = 0;  // 0: not running
  Endpoint client;
  Endpoint peer;
  Endpoint admin;  // HTTP /metrics; port 0: none (a state file written before admin ports)
};

struct ClusterState {
  static constexpr const char* kFileName = "cluster.state";
  std::string dir;
  bool fsync = true;
  std::string server_executable;  // run as `EXE server --id ...`; restart uses it again
  std::vector<NodeRecord> nodes;

  std::string file_path() const { return dir + "/" + kFileName; }
  std::string data_dir(uint32_t id) const { return dir + "/node-" + std::to_string(id); }
  std::string log_path(uint32_t id) const { return data_dir(id) + ".log"; }
  NodeRecord* find(uint32_t id);
  // "1=127.0.0.1:7001,2=..." and the same for client addresses: the server's --peers/--clients.
  std::string peers_flag() const;
  std::string clients_flag() const;
};

// kNotFound when DIR has no state file.
Result<ClusterState> load_cluster(const std::string& dir);
Result<void> save_cluster(const ClusterState& state);

// True when `pid` runs (not a zombie) and is the node whose data dir is `data_dir` (its command
// line names it), so a reused pid is never taken for a node.
bool node_process_alive(pid_t pid, const std::string& data_dir);

// The client endpoints in a useful order for a client: the node that says it is the leader
// (INFO role:master) first, then the others in id order. Nodes that do not answer keep their
// place after the leader.
std::vector<Endpoint> leader_first(const std::vector<Endpoint>& endpoints);

}  // namespace ringraft::tools
