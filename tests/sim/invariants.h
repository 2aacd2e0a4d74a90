// InvariantChecker: Raft's safety properties (Raft §5.2–§5.4, Figure 3), checked while the
// simulation runs, each failure a text naming the property, the nodes and the index:
//
// - election safety: at most one leader per term;
// - commit monotonic: a node's commit index never moves back (a restart resumes from the
//   commit index it persisted);
// - committed entries agree: the first leader to commit an index fixes its entry; every node
//   that later counts that index as committed holds the same entry, and no follower commits an
//   index no leader committed;
// - state-machine safety: every node applies, at each index, that same entry;
// - leader completeness: a leader of term T holds every entry committed in a term before T;
// - log matching: two logs holding an entry of the same index and term are identical up to it;
// - persisted before sent (ready.h): a vote request, a granted vote and an Append
//   acknowledgement leave a node only once the term, vote and entries they vouch for are on
//   its disk;
// - acknowledged writes survive: every entry acknowledged to a client stays durable on a
//   majority of disks, crashes included.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "raft/core/core.h"
#include "tests/sim/disk.h"

namespace ringraft::sim {

uint64_t payload_hash(ConstByteSpan payload);

class InvariantChecker {
 public:
  explicit InvariantChecker(size_t node_count);

  // After every input a live node handled (and its Readies were taken over).
  void observe(const raft::Core& core);
  // A node restarted from its disk: its commit index starts over from the persisted one.
  void on_restart(const raft::Core& core);
  void on_apply(NodeId node, const raft::Entry& entry);
  void on_acknowledged(const raft::Entry& entry);
  // A message leaves the node whose disk is `disk`.
  void check_sent(const SimDisk& disk, const raft::Message& message);

  // Log matching between every pair of live nodes (nullptr for a node that is down).
  void check_log_matching(const std::vector<const raft::Core*>& cores);
  void check_acknowledged_durable(const std::vector<const SimDisk*>& disks);
  // Leader completeness against a current leader, at any time (not only when elected).
  void check_leader_completeness(const raft::Core& leader);

  // A violation found outside the checker (e.g. a core refusing another core's message).
  void report(std::string what) { fail(std::move(what)); }

  const std::optional<std::string>& violation() const { return violation_; }
  uint64_t committed_count() const { return committed_.size(); }
  uint64_t acknowledged_count() const { return acknowledged_.size(); }
  uint64_t leader_terms() const { return leaders_.size(); }

 private:
  struct Committed {
    Term term;
    uint64_t payload_hash = 0;
    Term commit_term;  // the term of the leader that first committed it
  };
  struct NodeView {
    LogIndex commit;    // last commit index seen (monotonic)
    LogIndex verified;  // committed prefix checked against committed_
  };

  void fail(std::string what);
  void check_committed_prefix(const raft::Core& core, NodeView& view);
  void check_pair(const raft::Core& a, const raft::Core& b);

  std::map<Term, NodeId> leaders_;
  std::vector<Committed> committed_;  // index i at committed_[i - 1]
  std::vector<NodeView> nodes_;       // node i at nodes_[i - 1]
  std::vector<raft::Entry> acknowledged_;
  std::optional<std::string> violation_;
};

}  // namespace ringraft::sim
