#include "raft/core/proposal.h"

#include "common/assert.h"
#include "raft/core/log.h"

namespace ringraft::raft {

const char* proposal_fate_name(ProposalFate fate) {
  switch (fate) {
    case ProposalFate::kCommitted:
      return "committed";
    case ProposalFate::kDropped:
      return "dropped";
    case ProposalFate::kUnknown:
      return "unknown";
  }
  RR_UNREACHABLE("unknown ProposalFate");
}

void ProposalTracker::finish(const Pending& pending, ProposalFate fate) {
  ProposalOutcome outcome;
  outcome.context = pending.context;
  outcome.first = pending.first;
  outcome.last = pending.last;
  outcome.term = pending.term;
  outcome.fate = fate;
  resolved_.push_back(outcome);
}

void ProposalTracker::track(uint64_t context, LogIndex first, LogIndex last, Term term) {
  RR_ASSERT(!full());
  RR_ASSERT(first <= last);
  // The new batch overwrote whatever this node had proposed from `first` on (it lost, then
  // regained, leadership and its old suffix was truncated meanwhile).
  while (!pending_.empty() && pending_.back().last >= first) {
    finish(pending_.back(), ProposalFate::kDropped);
    pending_.pop_back();
  }
  pending_.push_back(Pending{context, first, last, term});
}

void ProposalTracker::resolve(const RaftLog& log, LogIndex applied) {
  while (!pending_.empty() && pending_.front().first <= applied) {
    const Pending& front = pending_.front();
    const std::optional<Term> first_term = log.term_at(front.first);
    if (!first_term.has_value()) {
      finish(front, ProposalFate::kUnknown);  // compacted into a snapshot
    } else if (*first_term != front.term) {
      finish(front, ProposalFate::kDropped);
    } else if (front.last > applied) {
      return;  // the batch is partly applied; it resolves with its last entry
    } else {
      // Log matching: entry `last` has the batch's term, so [first, last] is the batch.
      const std::optional<Term> last_term = log.term_at(front.last);
      finish(front, last_term == front.term ? ProposalFate::kCommitted : ProposalFate::kDropped);
    }
    pending_.pop_front();
  }
}

std::vector<ProposalOutcome> ProposalTracker::take_resolved() {
  std::vector<ProposalOutcome> out = std::move(resolved_);
  resolved_.clear();
  return out;
}

void ProposalTracker::check_invariants() const {
  RR_ASSERT(pending_.size() <= pending_max_);
  for (size_t i = 0; i < pending_.size(); ++i) {
    RR_ASSERT(pending_[i].first <= pending_[i].last);
    if (i > 0) RR_ASSERT(pending_[i - 1].last < pending_[i].first);
  }
}

}  // namespace ringraft::raft
