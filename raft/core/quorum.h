// Majority quorums (Raft §5.2, §5.3): the commit index a majority has reached, and the result
// of a vote count. Pure functions over the voters; joint configurations come with membership.
#pragma once

#include <cstdint>
#include <map>
#include <span>

#include "common/types.h"

namespace ringraft::raft {

// The highest index that a majority of the given per-voter match indexes has reached.
// Sorts `match_indexes` in place (the caller passes a scratch buffer: no allocation).
// Precondition: at least one voter.
LogIndex majority_index(std::span<LogIndex> match_indexes);

// The same rule over plain counters (e.g. the heartbeat rounds each voter acknowledged).
uint64_t majority_value(std::span<uint64_t> values);

enum class VoteResult : uint8_t { kPending, kWon, kLost };

// `votes` maps a voter to whether it granted its vote; voters not in the map have not answered.
VoteResult tally_votes(std::span<const NodeId> voters, const std::map<NodeId, bool>& votes);

}  // namespace ringraft::raft
