// Core: one node's Raft state machine, pure and deterministic (no I/O, clock, threads or
// ambient randomness). etcd-io/raft's shape:
//
//   inputs:  step(message)   a message from a peer
//            tick()          one unit of logical time (the caller decides how long a tick is)
//            campaign()      start an election now, as if the election timeout had fired
//            propose(batch)  append payloads to the log (leader only)
//            persisted_to()  a write from an earlier Ready became durable
//   output:  ready()         hard state and entries to persist, messages to send, committed
//                            entries to apply (see ready.h for the contract)
//            advance(ready)  the caller took the Ready over
//
// step() dispatches by message type to short handlers (on_vote_request, on_append, ...) after
// the term rules shared by every role; election.cc holds elections (PreVote, CheckQuorum,
// randomized timeouts), replication.cc the leader's Appends, the follower's answers and the
// commit rule. Invariants: check_invariants(), run after every input in debug builds.
//
// snapshot.cc compaction and InstallSnapshot (chunked, resumable), read_index.cc ReadIndex and
// lease reads, transfer.cc leadership transfer, proposal.{h,cc} the contexts of proposals.
//
// Learners (Config::learners) receive the log, never vote, campaign or count toward a quorum.
//
// Membership changes (membership.h, membership_core.cc): one server at a time, as log entries
// with a reserved payload prefix; Config::voters and Config::learners start the group and then
// follow the configuration of the log's last membership entry (config() shows the current one).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <variant>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "raft/core/config.h"
#include "raft/core/entry.h"
#include "raft/core/log.h"
#include "raft/core/membership.h"
#include "raft/core/message.h"
#include "raft/core/progress.h"
#include "raft/core/random.h"
#include "raft/core/ready.h"
#include "raft/core/snapshot.h"

namespace ringraft::raft {

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };

const char* role_name(Role role);

// What a node restarts from: the last persisted hard state and log.
struct InitialState {
  HardState hard_state;
  std::vector<Entry> entries;  // durable, starting at index 1 (or after the snapshot)
  // The latest snapshot the caller holds (its state machine was restored from it); entries
  // then start at snapshot->index + 1.
  std::optional<SnapshotMeta> snapshot{};
};

struct Proposed {
  LogIndex first;
  LogIndex last;
  Term term{};  // with [first, last]: what the caller matches committed entries against
};
// This node is not the leader; leader_hint is the leader it knows of (kNoNode if none).
struct NotLeader {
  NodeId leader_hint;
};
// The leader holds uncommitted_bytes_max of uncommitted proposals already: retry once commits
// catch up (back-pressure, not an error).
struct ProposalsFull {
  uint64_t uncommitted_bytes;
};
// A payload starts with kMembershipPrefix (membership.h), which only the core may write: the
// batch is refused whole.
struct ReservedPayload {
  size_t position;  // of the first such payload in the batch
};
using ProposeResult = std::variant<Proposed, NotLeader, ProposalsFull, ReservedPayload>;

// read_index() took the read: its ReadState comes in a later Ready, or never if leadership
// changes first (the caller retries after its own timeout).
struct ReadQueued {};
// The leader holds read_index_pending_max reads already: retry after the next heartbeat round.
struct ReadsFull {};
using ReadIndexResult = std::variant<ReadQueued, NotLeader, ReadsFull>;

class Core {
 public:
  // Fails if the config is invalid.
  static Result<Core> create(Config config, InitialState initial = {});

  // A message from a peer. Malformed input (unknown sender, wrong recipient, an Append whose
  // entries do not follow on) is refused with kInvalidInput and changes nothing; messages of
  // an older term are answered or dropped as Raft prescribes and return success.
  Result<void> step(Message message);
  void tick();
  void campaign();
  // The caller's bytes are copied once, into one block for the whole batch (entry_block.h).
  ProposeResult propose(std::vector<Payload> batch);
  // The same, and the batch's fate comes back with `context` in Ready::proposals (proposal.h).
  ProposeResult propose(std::vector<Payload> batch, uint64_t context);
  // Payloads already in a shared block (EntryBlockBuilder::take): no byte is copied.
  ProposeResult propose(std::vector<PayloadRef> batch);
  ProposeResult propose(std::vector<PayloadRef> batch, uint64_t context);
  void persisted_to(LogIndex index, Term term);
  // A linearizable read (Raft thesis §6.4): Ready::read_states will carry `context` with the
  // index the state machine must reach before serving it. Reads are confirmed in batches, one
  // heartbeat round for all reads that arrived before it; a follower forwards the read to its
  // leader. With Config::lease_reads a leader within its lease answers without a round.
  ReadIndexResult read_index(uint64_t context);
  // Hands leadership to voter `to` (thesis §3.10): proposals are refused (NotLeader with `to`
  // as the hint) while it catches up and campaigns; the leader gives up after an election
  // timeout. Refused (kInvalidInput) on a non-leader, for itself or a non-voter.
  Result<void> transfer_leader(NodeId to);
  // The caller's storage failed: this node can no longer make anything durable, so it must
  // neither count itself toward a quorum nor lead. A leader or candidate becomes a follower in
  // its term with no leader known (no lease, no reads, no heartbeats); a follower stays as it
  // is (its leader is a hint for clients). The caller stops feeding the core and rebuilds it
  // from storage to rejoin.
  void step_down();
  bool is_voter(NodeId node) const;
  // The target of a transfer under way, or kNoNode.
  NodeId transferee() const { return transferee_; }
  // The caller's state machine snapshot covers the log up to `index` (<= applied) and is
  // `snapshot_size_bytes` long: entries up to `index` leave memory, and followers that need
  // them get the snapshot instead (snapshot.h). The caller may then drop them from storage.
  // Refused (kInvalidInput) when `index` is not above the last compaction or not applied.
  Result<void> compact(LogIndex index, uint64_t snapshot_size_bytes);

  // A one-server membership change (membership.h), leader only. Adding a learner or removing
  // a member appends the change's entry at once; a promotion first waits for the learner to
  // catch up (rounds of replication, thesis §4.2.1) and is abandoned after
  // Config::promote_timeout_elections election timeouts. The fate comes in
  // Ready::membership_changes. Refused with kInvalidInput on a non-leader or when the change
  // does not apply (e.g. promoting a non-learner, removing the last voter), and with kFull
  // while another change is uncommitted or catching up, before the leader committed an entry
  // of its term, or during a leadership transfer.
  Result<void> change_membership(MembershipChange change);
  // The configuration in effect (the log's last membership entry, committed or not).
  const Membership& membership() const { return history_.current(); }
  // The index of the entry that set it (0 or the snapshot index: none in the log).
  LogIndex membership_index() const { return history_.current_index(); }
  // The configuration in effect at `index`, at or above the compaction point: what a snapshot
  // taken at `index` records.
  const Membership& membership_at(LogIndex index) const;
  // The learner whose promotion waits for it to catch up, or kNoNode.
  NodeId promoting() const { return catch_up_.has_value() ? catch_up_->change.node : kNoNode; }

  bool has_ready() const;
  Ready ready();
  void advance(const Ready& ready);

  NodeId id() const { return config_.id; }
  Role role() const { return role_; }
  Term term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId leader() const { return lead_; }
  HardState hard_state() const { return HardState{term_, vote_, log_.committed()}; }
  const RaftLog& log() const { return log_; }
  const Config& config() const { return config_; }
  // The latest compaction point (index 0 when the log was never compacted).
  const SnapshotMeta& snapshot() const { return snapshot_; }
  // The leader's view of `peer`; nullptr on a non-leader or for an unknown peer.
  const Progress* progress(NodeId peer) const;
  uint32_t randomized_election_ticks() const { return randomized_election_ticks_; }
  // Elections this node started (became a candidate; pre-votes not counted) and won (became
  // leader), since it started: operators read elections as a sign of instability.
  uint64_t elections_started() const { return elections_started_; }
  uint64_t elections_won() const { return elections_won_; }

  void check_invariants() const;

 private:
  Core(Config config, InitialState initial);

  // Role transitions (core.cc).
  void reset(Term term);
  void become_follower(Term term, NodeId leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();

  // Step plumbing (core.cc).
  Result<void> validate(const Message& message) const;
  bool on_higher_term(const Message& message);
  void on_lower_term(const Message& message);
  void send(Message message);
  void after_input() const;
  ProposeResult append_proposal(std::vector<PayloadRef>&& batch, std::optional<uint64_t> context);
  uint64_t uncommitted_bytes_of_term() const;

  // Elections (election.cc).
  void tick_election();
  void tick_heartbeat();
  void start_election(bool pre_vote, bool transfer = false);
  void reset_randomized_election_timeout();
  bool quorum_active();
  void on_vote_request(const Message& message);
  void on_vote_response(const Message& message);

  // Snapshots (snapshot.cc).
  bool send_snapshot_chunk(NodeId to);
  void on_snapshot(Message message);
  void on_snapshot_response(const Message& message);
  void answer_snapshot(const Message& message, uint64_t next_offset, bool reject);

  // Linearizable reads (read_index.cc).
  void start_heartbeat_round();
  void on_heartbeat_round_acked(NodeId peer, uint64_t round);
  void release_reads();
  void answer_read(NodeId from, uint64_t context, LogIndex index);
  bool committed_in_term() const;
  bool in_lease() const;
  void on_read_index(const Message& message);
  void on_read_index_response(const Message& message);

  // Leadership transfer (transfer.cc).
  bool maybe_send_timeout_now();
  void tick_transfer();
  void on_timeout_now(const Message& message);

  // Membership (membership_core.cc).
  void append_membership_entry(const MembershipChange& change, const Membership& result);
  void maybe_finish_catch_up();
  void tick_membership();
  void drop_catch_up();
  void adopt(const Membership& membership);
  void load_membership();
  bool record_membership_entries(LogIndex from);
  void on_log_changed(LogIndex from);
  void on_snapshot_installed();
  void maybe_step_down_removed();
  void remember_departed(NodeId node);
  bool is_known_sender(NodeId node) const;
  bool from_untracked_peer(const Message& message) const;
  bool from_non_voter_candidate(const Message& message) const;
  void resolve_changes(LogIndex applicable);

  // Replication (replication.cc).
  bool send_append(NodeId to, bool send_if_empty);
  void bcast_append();
  void bcast_heartbeat();
  bool maybe_commit();
  void on_append(Message message);
  void on_append_response(const Message& message);
  void on_heartbeat(const Message& message);
  void on_heartbeat_response(const Message& message);

  Config config_;
  SplitMix64 rng_;

  Term term_;
  NodeId vote_ = kNoNode;
  NodeId lead_ = kNoNode;
  Role role_ = Role::kFollower;
  RaftLog log_;
  ProposalTracker proposals_;

  std::map<NodeId, Progress> progress_;  // leader only: every voter, this node included
  std::map<NodeId, bool> votes_;         // (pre-)candidate only: answers received
  std::vector<LogIndex> match_scratch_;  // maybe_commit's buffer, one slot per voter

  // Leader only: payload bytes proposed in this term and not yet committed.
  uint64_t uncommitted_bytes_ = 0;

  uint32_t election_elapsed_ = 0;
  uint32_t heartbeat_elapsed_ = 0;
  uint32_t randomized_election_ticks_ = 0;

  // Snapshots: the latest compaction point; a follower's incoming transfer (the snapshot and
  // the next offset it expects) and what its next Ready hands over.
  SnapshotMeta snapshot_;
  std::optional<SnapshotMeta> receiving_snapshot_;
  uint64_t receiving_offset_ = 0;
  NodeId receiving_from_;
  Term receiving_term_;
  std::vector<SnapshotChunk> snapshot_chunks_;
  std::optional<SnapshotMeta> snapshot_to_install_;

  // Reads (leader only but read_states_): reads waiting for a heartbeat round (`round`: the
  // first round sent after the read arrived), the rounds sent this term, the highest one a
  // quorum acknowledged, and for the lease each round's send time in a ring.
  struct PendingRead {
    NodeId from;  // kNoNode: this node's own caller
    uint64_t context;
    uint64_t round;
  };
  std::deque<PendingRead> pending_reads_;
  uint64_t heartbeat_round_ = 0;
  uint64_t quorum_round_ = 0;
  uint64_t ticks_ = 0;  // this node's logical clock: tick() calls since it started
  uint64_t lease_until_tick_ = 0;
  std::vector<uint64_t> round_sent_ticks_;  // ring indexed by round % size
  std::vector<uint64_t> round_scratch_;     // one slot per voter
  std::vector<ReadState> read_states_;      // Ready::read_states

  // Leader only: the target of a transfer under way, and ticks since it began.
  NodeId transferee_ = kNoNode;
  uint32_t transfer_elapsed_ = 0;

  // Membership: the configurations of the log; the leader's promotion waiting for its learner
  // (rounds: the index the round must reach and when it began); changes this node appended,
  // until the applied index passes them; outcomes and news for the next Ready.
  MembershipHistory history_;
  struct CatchUp {
    MembershipChange change;
    uint64_t started_tick;
    LogIndex round_target;
    uint64_t round_started_tick;
  };
  std::optional<CatchUp> catch_up_;
  struct TrackedChange {
    MembershipChange change;
    LogIndex index;
    Term term;
  };
  std::vector<TrackedChange> tracked_changes_;
  std::vector<ChangeOutcome> change_outcomes_;  // Ready::membership_changes
  bool membership_changed_ = false;             // Ready::membership
  bool leaving_progress_ = false;  // leader: a removed node's progress stays until it commits
  static constexpr size_t kDepartedMax = 64;
  std::vector<NodeId> departed_;  // members removed since this node started

  std::vector<Message> messages_;                // Ready::messages
  std::vector<Message> messages_after_persist_;  // Ready::messages_after_persist
  HardState last_hard_state_;                    // as of the last Ready
  bool ready_outstanding_ = false;
  uint64_t elections_started_ = 0;
  uint64_t elections_won_ = 0;
};

}  // namespace ringraft::raft
