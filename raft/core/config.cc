#include "raft/core/config.h"

#include <algorithm>
#include <string>

namespace ringraft::raft {

Result<void> Config::validate() const {
  const auto invalid = [](std::string what) {
    return Error(ErrorCode::kInvalidInput, "raft config: " + std::move(what));
  };
  if (id == NodeId{0}) return invalid("id 0 is reserved for 'no node'");
  const auto listed = [](const std::vector<NodeId>& ids, NodeId node) {
    return std::find(ids.begin(), ids.end(), node) != ids.end();
  };
  if (!listed(voters, id) && !listed(learners, id)) {
    return invalid("voters or learners must include this node's id " + std::to_string(id.value()));
  }
  if (voters.empty()) return invalid("a group needs at least one voter");
  for (size_t i = 0; i < learners.size(); ++i) {
    if (learners[i] == NodeId{0}) return invalid("learner id 0 is reserved");
    if (listed(voters, learners[i])) {
      return invalid("node " + std::to_string(learners[i].value()) + " is voter and learner");
    }
    for (size_t j = i + 1; j < learners.size(); ++j) {
      if (learners[i] == learners[j]) {
        return invalid("learner " + std::to_string(learners[i].value()) + " is listed twice");
      }
    }
  }
  for (size_t i = 0; i < voters.size(); ++i) {
    if (voters[i] == NodeId{0}) return invalid("voter id 0 is reserved");
    for (size_t j = i + 1; j < voters.size(); ++j) {
      if (voters[i] == voters[j]) {
        return invalid("voter " + std::to_string(voters[i].value()) + " is listed twice");
      }
    }
  }
  if (heartbeat_ticks == 0) return invalid("heartbeat_ticks must be at least 1");
  if (election_ticks <= heartbeat_ticks) {
    return invalid("election_ticks must be greater than heartbeat_ticks");
  }
  if (append_entries_max == 0) return invalid("append_entries_max must be at least 1");
  if (append_bytes_max == 0) return invalid("append_bytes_max must be at least 1");
  if (inflight_count_max == 0) return invalid("inflight_count_max must be at least 1");
  if (inflight_bytes_max == 0) return invalid("inflight_bytes_max must be at least 1");
  if (uncommitted_bytes_max == 0) return invalid("uncommitted_bytes_max must be at least 1");
  if (proposal_contexts_max == 0) return invalid("proposal_contexts_max must be at least 1");
  if (snapshot_chunk_bytes_max == 0) return invalid("snapshot_chunk_bytes_max must be >= 1");
  if (read_index_pending_max == 0) return invalid("read_index_pending_max must be at least 1");
  if (promote_timeout_elections == 0) return invalid("promote_timeout_elections must be >= 1");
  if (lease_reads && !check_quorum) return invalid("lease_reads needs check_quorum");
  if (lease_reads && lease_drift_ticks >= election_ticks) {
    return invalid("lease_drift_ticks must be less than election_ticks");
  }
  return {};
}

}  // namespace ringraft::raft
