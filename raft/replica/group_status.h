// GroupStatus: one Raft group as this node sees it (ShardEngine::status), for operators and
// tests: role, term, commit and applied indexes, the leader, the configuration, and on the
// leader every peer's replication progress.
#pragma once

#include <string>
#include <vector>

#include "common/types.h"
#include "raft/core/core.h"

namespace ringraft::replica {

struct PeerStatus {
  NodeId node;
  bool voter = false;
  LogIndex match;  // highest index known replicated there
  LogIndex next;   // next index to send
  raft::ProgressState state = raft::ProgressState::kProbe;
};

struct GroupStatus {
  GroupId group;
  raft::Role role = raft::Role::kFollower;
  Term term;
  LogIndex commit;
  LogIndex applied;
  LogIndex last_index;
  NodeId leader;                  // kNoNode if none known
  raft::Membership membership;    // in effect (the log's last membership entry)
  NodeId transferee;              // leadership transfer under way (leader), or kNoNode
  NodeId promoting;               // learner being caught up for promotion, or kNoNode
  std::vector<PeerStatus> peers;  // leader only: every other member, in id order
};

// The status of `core`, whose state machine applied up to `applied`.
GroupStatus group_status(GroupId group, const raft::Core& core, LogIndex applied);

// One line: "group 1 leader term=3 commit=9 applied=9 leader=1 voters=1,2,3 learners=4 ...".
std::string describe(const GroupStatus& status);

}  // namespace ringraft::replica
