// Configuration of one Raft core: who it is, who votes, its timers in ticks, and the bounds on
// batching and pipelining. Validated once at construction; afterwards only voters and learners
// change, following the log's membership entries (membership.h).
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "common/types.h"

namespace ringraft::raft {

struct Config {
  NodeId id;
  // Every voter of the group, this node included unless it is a learner: the configuration the
  // group starts with (a node joining later starts as a learner of the current configuration).
  std::vector<NodeId> voters;
  // Learners receive the log but neither vote nor count toward any quorum (e.g. a node
  // catching up before it may vote, or a read replica). Disjoint from voters; may hold `id`.
  std::vector<NodeId> learners{};

  // A follower campaigns after a randomized timeout in [election_ticks, 2 * election_ticks)
  // without hearing from a leader (Raft §5.2). A leader sends heartbeats every heartbeat_ticks.
  uint32_t election_ticks = 10;
  uint32_t heartbeat_ticks = 1;

  // One Append carries at most append_entries_max entries and, unless a single entry is larger,
  // at most append_bytes_max payload bytes.
  uint32_t append_entries_max = 64;
  uint64_t append_bytes_max = uint64_t{1} << 20;

  // Pipelining window per follower in the replicate state: Appends sent and not yet
  // acknowledged, bounded by count and by payload bytes. A full window pauses that follower.
  uint32_t inflight_count_max = 256;
  uint64_t inflight_bytes_max = uint64_t{32} << 20;

  // The leader's bound on proposed, not yet committed payload bytes (etcd-io/raft's
  // MaxUncommittedEntriesSize): beyond it propose() refuses with ProposalsFull until commits
  // catch up, so a leader cut off from its followers does not grow its log without limit.
  // A batch is always accepted when nothing is uncommitted, however large.
  uint64_t uncommitted_bytes_max = uint64_t{64} << 20;

  // Batches proposed with a context and not yet resolved (proposal.h): beyond this many,
  // propose(batch, context) answers ProposalsFull.
  uint32_t proposal_contexts_max = 65536;

  // InstallSnapshot moves a snapshot in chunks of at most this many bytes, one in flight per
  // follower.
  uint64_t snapshot_chunk_bytes_max = uint64_t{1} << 20;

  // Linearizable reads (read_index.cc). The leader holds at most read_index_pending_max reads
  // waiting for a heartbeat round; read_index() answers ReadsFull beyond it.
  uint32_t read_index_pending_max = 4096;
  // Lease reads: the leader answers a read at once, without a heartbeat round, while a quorum
  // acknowledged a heartbeat sent less than election_ticks - lease_drift_ticks ago. Safe only
  // with check_quorum (followers then refuse votes for election_ticks after hearing from the
  // leader) and clocks whose rates differ by less than the drift margin.
  bool lease_reads = false;
  uint32_t lease_drift_ticks = 1;

  // A promotion (Core::change_membership) is abandoned if the learner has not caught up within
  // this many election timeouts.
  uint32_t promote_timeout_elections = 3;

  // PreVote (Raft thesis §9.6): a candidate first asks whether it could win, without bumping
  // its term, so a node rejoining from a partition does not depose a healthy leader.
  bool pre_vote = true;
  // CheckQuorum (thesis §6.2): a leader that has not heard from a quorum within an election
  // timeout steps down; followers that hear from a leader ignore vote requests for that long.
  bool check_quorum = true;

  // Seeds the PRNG of randomized election timeouts; mixed with `id` so that nodes given the
  // same seed still draw different timeouts. Same seed, same inputs: same outputs.
  uint64_t seed = 1;

  Result<void> validate() const;
};

}  // namespace ringraft::raft
