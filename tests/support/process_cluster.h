// ProcessCluster: N `ringraft server` processes on loopback for tests of the real thing.
//
// Ports (Raft and RESP) are picked free by the test (bound, read, closed), data directories
// live under the caller's TempDir, each child's output goes to DIR/nodeN.log (printed when a
// wait fails). Children die with the test: the destructor SIGKILLs and reaps every child, and
// each child asks the kernel for SIGKILL if the test process dies first (PR_SET_PDEATHSIG).
// Waits poll INFO with a bounded deadline; they never sleep in place of an event.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/resp_client.h"

namespace ringraft::testing {

// A port that was free a moment ago.
uint16_t pick_free_port();

class ProcessCluster {
 public:
  // `binary`: the ringraft executable; `extra_args` are added to every node's command line.
  // The last `joining` nodes are not members at first: the others' --peers leave them out, and
  // they run with --join (RINGRAFT.ADDNODE on the leader adds them).
  ProcessCluster(std::string binary, uint32_t nodes, std::string data_root,
                 std::vector<std::string> extra_args = {}, uint32_t joining = 0);
  ~ProcessCluster();
  ProcessCluster(const ProcessCluster&) = delete;
  ProcessCluster& operator=(const ProcessCluster&) = delete;

  uint32_t size() const { return static_cast<uint32_t>(nodes_.size()); }
  // Node ids are 1..size().
  bool start(uint32_t node);
  bool start_all();
  void kill9(uint32_t node);
  // SIGTERM and wait (bounded) for the exit; returns the exit code, or -1 if it had to be killed.
  int terminate(uint32_t node, std::chrono::milliseconds limit = std::chrono::seconds(10));
  bool running(uint32_t node) const { return nodes_[node - 1].pid > 0; }

  uint16_t resp_port(uint32_t node) const { return nodes_[node - 1].resp_port; }
  uint16_t raft_port(uint32_t node) const { return nodes_[node - 1].raft_port; }
  // HTTP /metrics and /status (--admin-port), picked free like the others.
  uint16_t admin_port(uint32_t node) const { return nodes_[node - 1].admin_port; }
  std::string data_dir(uint32_t node) const;
  std::string log(uint32_t node) const;  // the child's output so far

  // The leader every running node agrees on (INFO raft_leader, and the leader says
  // role:master), or nullopt after `limit`. `not_node`: a leader other than this one.
  std::optional<uint32_t> wait_leader(std::chrono::milliseconds limit = std::chrono::seconds(20),
                                      uint32_t not_node = 0);
  // An INFO field of `node` ("raft_applied"), or nullopt if the node does not answer.
  std::optional<std::string> info_field(uint32_t node, const std::string& field);
  // One command on a fresh connection to `node`.
  std::optional<std::string> command(uint32_t node, const std::vector<std::string>& arguments);

 private:
  struct Node {
    pid_t pid = -1;
    uint16_t raft_port = 0;
    uint16_t resp_port = 0;
    uint16_t admin_port = 0;
  };
  std::vector<std::string> arguments(uint32_t node) const;

  std::string binary_;
  std::string data_root_;
  std::vector<std::string> extra_args_;
  std::vector<Node> nodes_;
  uint32_t joining_ = 0;
  std::string peers_;  // the first members
  std::string clients_;
  std::string all_peers_;  // every node, for the joining ones
  std::string all_clients_;
};

}  // namespace ringraft::testing
