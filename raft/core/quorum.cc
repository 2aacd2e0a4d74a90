#include "raft/core/quorum.h"

#include <algorithm>
#include <functional>

#include "common/assert.h"

namespace ringraft::raft {

LogIndex majority_index(std::span<LogIndex> match_indexes) {
  RR_ASSERT(!match_indexes.empty());
  std::sort(match_indexes.begin(), match_indexes.end(), std::greater<>());
  // With n voters, the (n/2 + 1)-th highest index is held by a majority.
  return match_indexes[match_indexes.size() / 2];
}

uint64_t majority_value(std::span<uint64_t> values) {
  RR_ASSERT(!values.empty());
  std::sort(values.begin(), values.end(), std::greater<>());
  return values[values.size() / 2];
}

VoteResult tally_votes(std::span<const NodeId> voters, const std::map<NodeId, bool>& votes) {
  RR_ASSERT(!voters.empty());
  const size_t majority = voters.size() / 2 + 1;
  size_t granted = 0;
  size_t rejected = 0;
  for (NodeId voter : voters) {
    const auto it = votes.find(voter);
    if (it == votes.end()) continue;
    if (it->second) {
      ++granted;
    } else {
      ++rejected;
    }
  }
  if (granted >= majority) return VoteResult::kWon;
  if (voters.size() - rejected < majority) return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace ringraft::raft
