// Safety under seeded random drops, reordering, duplication, partitions, slow disks, crashes
// that lose unsynced writes, compactions (and so snapshot transfers), reads, leadership
// transfers, and ticks: a
// small preview of the simulator (tests/sim/, not in this slice). Checks Raft's election safety,
// log matching and state-machine safety (Raft §5.2, §5.3, §5.4.3) and that reads are
// linearizable after every action, then liveness
// once healed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>

#include "raft/core/core.h"
#include "raft/core/describe.h"
#include "raft/core/random.h"
#include "tests/raft/network.h"

namespace ringraft::raft {
namespace {

using testing::Network;

class SafetyChecker {
 public:
  explicit SafetyChecker(Network& net) : net_(net) {}

  void forget_commit(uint64_t id) { commits_.erase(id); }

  // Election safety and commit monotonicity every call; the pairwise log comparisons, which
  // cost O(log length), every `pairwise_every` calls and on the final check.
  void check(bool full = false) {
    for (uint64_t id = 1; id <= net_.size(); ++id) {
      Core& core = net_.node(id);
      if (core.role() == Role::kLeader) {
        const auto [it, inserted] = leaders_.emplace(core.term(), NodeId{id});
        ASSERT_EQ(it->second, NodeId{id}) << "two leaders in term " << core.term().value();
      }
      LogIndex& last_commit = commits_[id];
      ASSERT_GE(core.log().committed(), last_commit) << "commit went back on node " << id;
      last_commit = core.log().committed();
    }
    if (!full && ++calls_ % kPairwiseEvery != 0) return;
    for (uint64_t a = 1; a <= net_.size(); ++a) {
      for (uint64_t b = a + 1; b <= net_.size(); ++b) check_pair(a, b);
    }
  }

 private:
  void check_pair(uint64_t a, uint64_t b) {
    const auto& applied_a = net_.storage(a).applied;
    const auto& applied_b = net_.storage(b).applied;
    const size_t common = std::min(applied_a.size(), applied_b.size());
    for (size_t i = 0; i < common; ++i) {
      ASSERT_EQ(applied_a[i], applied_b[i])
          << "nodes " << a << " and " << b << " applied different entries at " << i + 1;
    }
    // Log matching: same index and term => identical logs up to there.
    // Compaction drops a prefix: compare only what both logs still hold.
    const auto& log_a = net_.node(a).log();
    const auto& log_b = net_.node(b).log();
    const uint64_t last = std::min(log_a.last_index(), log_b.last_index()).value();
    const uint64_t first = std::max(log_a.first_index(), log_b.first_index()).value();
    for (uint64_t i = last; i >= first; --i) {
      if (log_a.term_of(LogIndex{i}) != log_b.term_of(LogIndex{i})) continue;
      for (uint64_t j = first; j <= i; ++j) {
        ASSERT_EQ(log_a.view(LogIndex{j}, LogIndex{j})[0], log_b.view(LogIndex{j}, LogIndex{j})[0])
            << "log matching broken between nodes " << a << " and " << b << " at " << j;
      }
      break;
    }
  }

  static constexpr uint64_t kPairwiseEvery = 25;

  Network& net_;
  uint64_t calls_ = 0;
  std::map<Term, NodeId> leaders_;
  std::map<uint64_t, LogIndex> commits_;
};

// What a schedule exercised (a seed may make no proposal: with slow disks holding back votes,
// a cluster can stay leaderless for a whole schedule).
struct ScheduleStats {
  uint64_t proposals = 0;
  uint64_t snapshot_chunks = 0;  // delivered
  uint64_t reads = 0;            // confirmed
};

ScheduleStats run_random_schedule(size_t node_count, uint64_t seed) {
  ScheduleStats stats;
  SCOPED_TRACE(::testing::Message() << "seed " << seed << ", " << node_count << " nodes");
  // Every seed also picks a configuration, so that small windows and batches (probe and
  // paused states, lost Appends) and each PreVote/CheckQuorum combination get exercised.
  Network net(node_count, seed, [seed](Config& config) {
    config.pre_vote = seed % 2 == 0;
    config.check_quorum = (seed / 2) % 2 == 0;
    config.append_entries_max = 1 + static_cast<uint32_t>(seed % 3);
    config.inflight_count_max = 1 + static_cast<uint32_t>(seed % 4);
    config.inflight_bytes_max = seed % 5 == 0 ? 64 : config.inflight_bytes_max;
    config.snapshot_chunk_bytes_max = 16 + seed % 64;
    if (seed % 3 == 0 && config.voters.size() > 3) {  // the last node is a learner
      config.learners.push_back(config.voters.back());
      config.voters.pop_back();
    }
  });
  SplitMix64 rng(seed);
  const auto drop_some = [&rng](const Message&) { return rng.below(100) < 10; };
  net.set_filter(drop_some);
  SafetyChecker checker(net);
  uint64_t& proposals = stats.proposals;
  std::vector<uint64_t> reads;            // by context: the highest commit index when asked
  std::map<uint64_t, size_t> reads_seen;  // by node: read states checked so far
  for (int action = 0; action < 2000; ++action) {
    const uint64_t roll = rng.below(100);
    const uint64_t id = 1 + rng.below(node_count);
    if (roll < 40) {
      net.tick(id);
    } else if (roll < 50) {
      const NodeId leader = net.leader();
      if (leader != kNoNode) {
        const ProposeResult result =
            net.node(leader.value())
                .propose(testing::batch_of(1 + rng.below(3), 8 + rng.below(64)));
        proposals += std::holds_alternative<Proposed>(result) ? 1 : 0;
      }
    } else if (roll < 51) {
      net.isolate(id);
    } else if (roll < 53) {
      net.heal();
      net.set_filter(drop_some);
    } else if (roll < 54) {
      net.restart(id);            // loses the node's unsynced writes if its durability is held
      checker.forget_commit(id);  // a restart resumes from the commit index it persisted
    } else if (roll < 56) {
      // A slow disk: hold the node's durability for a while, then let it catch up.
      if (net.is_held(id)) {
        net.release_durability(id);
      } else if (roll == 54) {
        net.hold_durability(id);
      }
    } else if (roll < 58) {
      // The state machine snapshots everything it applied; lagging followers then need the
      // snapshot, sent in small chunks.
      if (net.storage(id).applied.size() > net.node(id).snapshot().index.value()) {
        const Result<void> compacted = net.compact(id);
        EXPECT_TRUE(compacted.ok()) << compacted.error().message();
      }
    } else if (roll < 60) {
      // A linearizable read must reflect every entry committed anywhere before it was asked.
      uint64_t committed_max = 0;
      for (uint64_t node = 1; node <= node_count; ++node) {
        committed_max = std::max(committed_max, net.node(node).log().committed().value());
      }
      // Half of the reads go to a node that believes it leads, maybe a stale leader.
      uint64_t reader = id;
      for (uint64_t node = 1; node <= node_count && roll == 58; ++node) {
        if (net.node(node).role() == Role::kLeader) reader = node;
      }
      if (std::holds_alternative<ReadQueued>(net.node(reader).read_index(reads.size()))) {
        reads.push_back(committed_max);
      }
    } else if (roll < 61) {
      // Hand leadership to a random node (refused if it is the leader itself).
      const NodeId leader = net.leader();
      if (leader != kNoNode && leader != NodeId{id} && net.node(id).is_voter(NodeId{id})) {
        EXPECT_TRUE(net.node(leader.value()).transfer_leader(NodeId{id}).ok());
      }
    } else if (roll < 62) {
      // Reorder (deliver any queued message first) or duplicate it.
      if (!net.queued().empty()) net.deliver_at(rng.below(net.queued().size()), roll < 59);
    } else {
      net.process_readies();
      net.deliver_queued();
    }
    checker.check();
    for (uint64_t node = 1; node <= node_count; ++node) {
      const std::vector<ReadState>& states = net.storage(node).read_states;
      for (size_t& i = reads_seen[node]; i < states.size(); ++i) {
        EXPECT_GE(states[i].index.value(), reads.at(states[i].context))
            << "read " << states[i].context << " on node " << node << " misses a commit";
        ++stats.reads;
      }
    }
    if (::testing::Test::HasFatalFailure()) return stats;
  }
  // Liveness once healed: within a few election rounds, some leader gets a fresh proposal
  // committed and applied on every node. (A proposal can be lost to a leader change, e.g.
  // when a candidate with a stale log and a higher term deposes the leader without PreVote;
  // then the next round proposes again.)
  net.heal();
  for (uint64_t id = 1; id <= node_count; ++id) net.release_durability(id);
  bool converged = false;
  for (int round = 0; round < 20 && !converged; ++round) {
    for (int i = 0; i < 30; ++i) {
      net.tick_all();
      net.stabilize();
    }
    const NodeId leader = net.leader();
    if (leader == kNoNode) continue;
    const ProposeResult last = net.node(leader.value()).propose(testing::batch_of(1, 8));
    if (!std::holds_alternative<Proposed>(last)) continue;
    const LogIndex target = std::get<Proposed>(last).last;
    for (int i = 0; i < 10; ++i) {
      net.tick_all();
      net.stabilize();
    }
    converged = true;
    for (uint64_t id = 1; id <= node_count; ++id) {
      const Core& core = net.node(id);
      converged = converged && core.log().committed() >= target &&
                  net.storage(id).applied.size() == core.log().committed().value();
    }
  }
  checker.check(/*full=*/true);
  if (!converged) {
    std::string states;
    for (uint64_t id = 1; id <= node_count; ++id) states += "\n  " + describe(net.node(id));
    ADD_FAILURE() << "no proposal committed on every node after healing:" << states;
  }
  ::testing::Test::RecordProperty("committed_seed_" + std::to_string(seed),
                                  std::to_string(net.node(1).log().committed().value()));
  for (const Message& m : net.delivered()) {
    stats.snapshot_chunks += m.type == MessageType::kSnapshot ? 1 : 0;
  }
  return stats;
}

// CI runs a fixed handful of seeds; RINGRAFT_SAFETY_SEEDS=N runs N per test (long mode).
uint64_t seed_count(uint64_t default_count) {
  const char* text = std::getenv("RINGRAFT_SAFETY_SEEDS");
  return text == nullptr ? default_count : std::strtoull(text, nullptr, 10);
}

TEST(Safety, ThreeNodesUnderRandomFaults) {
  ScheduleStats total;
  for (uint64_t seed = 1; seed <= seed_count(12); ++seed) {
    const ScheduleStats stats = run_random_schedule(3, seed);
    total.proposals += stats.proposals;
    total.snapshot_chunks += stats.snapshot_chunks;
    total.reads += stats.reads;
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(total.reads, 0u) << "the schedules should confirm reads";
  RecordProperty("reads", std::to_string(total.reads));
  EXPECT_GT(total.proposals, 0u) << "the schedules should exercise replication";
  EXPECT_GT(total.snapshot_chunks, 0u) << "the schedules should exercise snapshot transfers";
}

TEST(Safety, FiveNodesUnderRandomFaults) {
  ScheduleStats total;
  for (uint64_t seed = 100; seed < 100 + seed_count(8); ++seed) {
    const ScheduleStats stats = run_random_schedule(5, seed);
    total.proposals += stats.proposals;
    total.snapshot_chunks += stats.snapshot_chunks;
    total.reads += stats.reads;
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(total.reads, 0u) << "the schedules should confirm reads";
  RecordProperty("reads", std::to_string(total.reads));
  EXPECT_GT(total.proposals, 0u) << "the schedules should exercise replication";
  EXPECT_GT(total.snapshot_chunks, 0u) << "the schedules should exercise snapshot transfers";
}

}  // namespace
}  // namespace ringraft::raft
