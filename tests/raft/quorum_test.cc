#include "raft/core/quorum.h"

#include <gtest/gtest.h>

#include <vector>

namespace ringraft::raft {
namespace {

TEST(Quorum, MajorityIndexIsHeldByAMajority) {
  std::vector<LogIndex> three{LogIndex{5}, LogIndex{2}, LogIndex{9}};
  EXPECT_EQ(majority_index(three), LogIndex{5});
  std::vector<LogIndex> four{LogIndex{5}, LogIndex{2}, LogIndex{9}, LogIndex{7}};
  EXPECT_EQ(majority_index(four), LogIndex{5});  // 3 of 4 hold 5
  std::vector<LogIndex> one{LogIndex{3}};
  EXPECT_EQ(majority_index(one), LogIndex{3});
}

TEST(Quorum, TallyWinsLosesOrWaits) {
  const std::vector<NodeId> voters{NodeId{1}, NodeId{2}, NodeId{3}};
  EXPECT_EQ(tally_votes(voters, {{NodeId{1}, true}}), VoteResult::kPending);
  EXPECT_EQ(tally_votes(voters, {{NodeId{1}, true}, {NodeId{3}, true}}), VoteResult::kWon);
  EXPECT_EQ(tally_votes(voters, {{NodeId{1}, true}, {NodeId{2}, false}}), VoteResult::kPending);
  EXPECT_EQ(tally_votes(voters, {{NodeId{1}, true}, {NodeId{2}, false}, {NodeId{3}, false}}),
            VoteResult::kLost);
  EXPECT_EQ(tally_votes(voters, {{NodeId{9}, true}, {NodeId{1}, true}}), VoteResult::kPending);
}

}  // namespace
}  // namespace ringraft::raft
