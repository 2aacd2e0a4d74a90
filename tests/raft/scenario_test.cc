// Runs each scenario script of tests/raft/testdata (format: scenario.h).
#include "tests/raft/scenario.h"

#include <gtest/gtest.h>

#include <string>

namespace ringraft::raft {
namespace {

std::string testdata(const char* name) {
  return std::string(RINGRAFT_RAFT_TESTDATA_DIR) + "/" + name;
}

TEST(Scenario, PreVoteKeepsARejoiningNodeFromBumpingTerms) {
  testing::run_scenario(testdata("prevote_rejoin.txt"));
}

TEST(Scenario, CheckQuorumStepsDownACutOffLeader) {
  testing::run_scenario(testdata("check_quorum.txt"));
}

TEST(Scenario, SplitVoteResolvesInALaterTerm) {
  testing::run_scenario(testdata("split_vote.txt"));
}

TEST(Scenario, HintsRepairAConflictingLogInOneRejection) {
  testing::run_scenario(testdata("backtracking.txt"));
}

TEST(Scenario, ReplicationWithHeldLeaderDurability) {
  testing::run_scenario(testdata("replication.txt"));
}

TEST(Scenario, LaggingFollowerInstallsTheLeadersSnapshotInChunks) {
  testing::run_scenario(testdata("snapshot_install.txt"));
}

TEST(Scenario, LostSnapshotChunkIsResent) {
  testing::run_scenario(testdata("snapshot_chunks_lost.txt"));
}

TEST(Scenario, CompactionWhileSendingRestartsTheTransferWithTheNewSnapshot) {
  testing::run_scenario(testdata("snapshot_compact_while_sending.txt"));
}

TEST(Scenario, ReadIndexIsConfirmedByAQuorumAndNotAcrossAPartition) {
  testing::run_scenario(testdata("read_index_partition.txt"));
}

TEST(Scenario, LeaseReadsAreAnsweredAtOnceUntilTheLeaseRunsOut) {
  testing::run_scenario(testdata("lease_read.txt"));
}

TEST(Scenario, LeadershipTransferCatchesTheTargetUpAndGivesUpAfterATimeout) {
  testing::run_scenario(testdata("transfer.txt"));
}

TEST(Scenario, LearnerReceivesTheLogButNeverVotesOrCounts) {
  testing::run_scenario(testdata("learner.txt"));
}

TEST(Scenario, NewNodeJoinsAsLearnerCatchesUpAndIsPromoted) {
  testing::run_scenario(testdata("membership_add_promote.txt"));
}

TEST(Scenario, PromotionWaitsForCatchUpAndTimesOut) {
  testing::run_scenario(testdata("membership_catch_up.txt"));
}

TEST(Scenario, RemovedFollowerLeavesTheQuorumAndSecondChangeIsRefused) {
  testing::run_scenario(testdata("membership_remove.txt"));
}

TEST(Scenario, LeaderRemovingItselfStepsDownOnceTheChangeCommits) {
  testing::run_scenario(testdata("membership_remove_leader.txt"));
}

TEST(Scenario, UncommittedChangeIsRolledBackByTruncation) {
  testing::run_scenario(testdata("membership_rollback.txt"));
}

TEST(Scenario, SnapshotCarriesTheConfigurationToANewNode) {
  testing::run_scenario(testdata("membership_snapshot.txt"));
}

}  // namespace
}  // namespace ringraft::raft
