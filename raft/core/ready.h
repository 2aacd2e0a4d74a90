// Ready: everything a core asks its caller to do, collected since the last advance().
//
// The contract (the caller is raft/replica, or a test harness):
//   1. `hard_state` (when set) and `entries` must be written to stable storage. `entries` may
//      start at or below an index already written: storage first drops every entry from
//      entries.front().index on, then appends (a new leader overwrote a conflicting suffix).
//   2. `messages` may be sent right away, in parallel with that write. They are the leader's
//      Appends and Heartbeats: the leader's term and vote became durable in an earlier Ready
//      (before its vote requests left), and the leader counts its own new entries toward the
//      commit quorum only once the caller reports them durable (Raft thesis §10.2.1).
//   3. `messages_after_persist` may be sent only once this Ready's `hard_state` and `entries`
//      are durable: votes, vote requests, Append acknowledgements (Raft §5.1: persistent state
//      is updated on stable storage before responding to RPCs).
//   4. `committed_entries` are committed and durable here: apply them in order.
//   5. Call advance(ready) once the Ready is taken over, before any other input (step, tick,
//      campaign, propose, persisted_to). Writes complete in order; when the write that ends
//      with entry (index, term) is durable, call persisted_to(index, term): it means every
//      entry up to `index` is durable. A report about an entry overwritten since is ignored.
//      Hard state and entries of one Ready are written atomically (one WAL batch).
//   6. Snapshots come first (snapshot.h): write `snapshot_chunks` at their offsets; when
//      `snapshot` is set, the incoming snapshot is complete: restore the state machine from
//      it, and make storage drop every entry and record the snapshot, before this Ready's hard
//      state and entries (which continue after it). Chunks are durable before
//      messages_after_persist leave. A kSnapshot message in `messages` leaves without bytes:
//      fill snapshot_data from the latest snapshot given to Core::compact. `messages` also
//      carry ReadIndex traffic, which depends on nothing unpersisted.
//   7. `proposals` are the fates of batches proposed with a context (proposal.h): a committed
//      one is in this Ready's committed_entries or an earlier one's; answer after applying.
//   8. `read_states`: reads confirmed linearizable at `index` (read_index.cc): serve each once
//      the state machine has applied `index`.
//   9. `membership` (when set): the configuration in effect changed (a membership entry was
//      appended, or a truncation removed one); open links to new members, close those to
//      removed ones. Membership entries also come in committed_entries (apply nothing for
//      them: is_membership_entry()). `membership_changes`: fates of change_membership().
#pragma once

#include <optional>
#include <vector>

#include "common/types.h"
#include "raft/core/entry.h"
#include "raft/core/membership.h"
#include "raft/core/message.h"
#include "raft/core/proposal.h"
#include "raft/core/snapshot.h"

namespace ringraft::raft {

// The state Raft must persist before answering anyone (Raft §5, Figure 2), plus the commit
// index so a restart does not re-apply from zero.
struct HardState {
  Term term{};
  NodeId vote{};
  LogIndex commit{};
  bool operator==(const HardState&) const = default;
};

// A read_index(context) confirmed: serve it once applied >= index.
struct ReadState {
  uint64_t context = 0;
  LogIndex index;
  bool operator==(const ReadState&) const = default;
};

struct Ready {
  std::optional<HardState> hard_state;  // set only when it changed
  std::vector<Entry> entries;
  std::vector<Message> messages;
  std::vector<Message> messages_after_persist;
  std::vector<Entry> committed_entries;
  std::vector<ProposalOutcome> proposals{};
  std::optional<SnapshotMeta> snapshot{};  // a follower's completed incoming snapshot: install
  std::vector<SnapshotChunk> snapshot_chunks{};
  std::vector<ReadState> read_states{};
  std::optional<Membership> membership{};
  std::vector<ChangeOutcome> membership_changes{};

  bool empty() const {
    return !hard_state.has_value() && entries.empty() && messages.empty() &&
           messages_after_persist.empty() && committed_entries.empty() && proposals.empty() &&
           !snapshot.has_value() && snapshot_chunks.empty() && read_states.empty() &&
           !membership.has_value() && membership_changes.empty();
  }
};

}  // namespace ringraft::raft
