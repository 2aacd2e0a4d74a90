// Proposal contexts: the leader's caller tags a batch with an opaque u64 (its request id) and
// learns the batch's fate once the log reaches it, so it can answer the client without keeping
// its own (index, term) map.
//
// A tracked batch occupies entries [first, last] of term `term`. It is resolved when the
// applied index passes it (Ready::proposals), in index order:
//   kCommitted  entry `last` still has `term`: the batch is committed and in this Ready's
//               committed_entries (or an earlier one): answer after applying it.
//   kDropped    another entry took its place (a new leader overwrote the suffix, or this node
//               proposed over it after regaining leadership): the client may retry.
//   kUnknown    a snapshot replaced the log there: the batch may or may not be in it.
// Contexts live in memory only: a restart forgets them (the caller's requests die with it).
//
// Bounded by Config::proposal_contexts_max pending batches (propose() answers ProposalsFull
// beyond it); resolving never allocates beyond the Ready's vector.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "common/types.h"

namespace ringraft::raft {

enum class ProposalFate : uint8_t { kCommitted, kDropped, kUnknown };

const char* proposal_fate_name(ProposalFate fate);

struct ProposalOutcome {
  uint64_t context = 0;
  LogIndex first;
  LogIndex last;
  Term term;
  ProposalFate fate = ProposalFate::kCommitted;
  bool operator==(const ProposalOutcome&) const = default;
};

class RaftLog;

class ProposalTracker {
 public:
  explicit ProposalTracker(uint32_t pending_max) : pending_max_(pending_max) {}

  bool full() const { return pending_.size() >= pending_max_; }
  size_t pending_count() const { return pending_.size(); }
  bool has_resolved() const { return !resolved_.empty(); }

  // A batch [first, last] of `term` was appended to the leader's log. Earlier batches at or
  // above `first` were overwritten by it: they resolve as dropped. Precondition: !full().
  void track(uint64_t context, LogIndex first, LogIndex last, Term term);
  // Resolves the batches whose range the applied index `applied` reached, looking terms up
  // in `log` (an index compacted away resolves as unknown).
  void resolve(const RaftLog& log, LogIndex applied);
  // The outcomes resolved since the last call, for a Ready.
  std::vector<ProposalOutcome> take_resolved();

  void check_invariants() const;

 private:
  struct Pending {
    uint64_t context;
    LogIndex first;
    LogIndex last;
    Term term;
  };
  void finish(const Pending& pending, ProposalFate fate);

  uint32_t pending_max_;
  std::deque<Pending> pending_;  // strictly increasing, disjoint ranges
  std::vector<ProposalOutcome> resolved_;
};

}  // namespace ringraft::raft
