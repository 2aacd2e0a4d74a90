#include "wal/group_log.h"

#include <algorithm>

#include "common/assert.h"

namespace ringraft::wal {

bool GroupLog::accepts(LogIndex first_index) const {
  if (first_index.value() == 0) return false;
  if (extents_.empty()) return first_index > snapshot_index_ || !has_snapshot_;
  return first_index > snapshot_index_ && first_index.value() <= last_index_.value() + 1;
}

void GroupLog::append(const Extent& extent, Term term) {
  RR_ASSERT(extent.entry_count > 0 && accepts(extent.first_index));
  if (extents_.empty() && extent.first_index.value() != last_index_.value() + 1) {
    // A log whose start was released (or never written here): it begins at this record. Its
    // snapshot, if any, is described by a mark that may come later in log order.
    extents_.clear();
    term_runs_.clear();
    snapshot_index_ = LogIndex(extent.first_index.value() - 1);
    snapshot_term_ = Term(0);
    has_snapshot_ = false;
  } else {
    drop_from(extent.first_index);
  }
  extents_.push_back(extent);
  last_index_ = extent.last_index();
  if (term_runs_.empty() || term_runs_.back().term != term) {
    term_runs_.push_back(TermRun{extent.first_index, term});
  }
}

void GroupLog::truncate(LogIndex from_index, Seq /*seq*/) {
  // A truncate never reaches into the snapshot: those entries are committed.
  const LogIndex from = std::max(from_index, first_index());
  if (from <= last_index_) drop_from(from);
}

void GroupLog::snapshot(LogIndex index, Term term, Seq seq) {
  RR_ASSERT(!has_snapshot_ || index >= snapshot_index_);
  snapshot_seq_ = seq;
  if (index >= last_index_) {
    extents_.clear();
    term_runs_.clear();
    last_index_ = index;
  } else {
    drop_through(index);
  }
  snapshot_index_ = index;
  snapshot_term_ = term;
  has_snapshot_ = true;
}

void GroupLog::hard_state(Seq seq) {
  hard_state_seq_ = seq;
}

std::optional<Term> GroupLog::term_at(LogIndex index) const {
  if (index == snapshot_index_) {
    if (has_snapshot_ || index.value() == 0) return snapshot_term_;
    return std::nullopt;  // the log starts after an index whose term this WAL never saw
  }
  if (index < snapshot_index_ || index > last_index_) return std::nullopt;
  return term_in_runs(term_runs_, index);
}

std::pair<std::deque<Extent>::const_iterator, std::deque<Extent>::const_iterator>
GroupLog::extents_from(LogIndex first) const {
  RR_ASSERT(first >= first_index() && first <= last_index_ && !extents_.empty());
  auto after = std::upper_bound(
      extents_.begin(), extents_.end(), first,
      [](LogIndex index, const Extent& extent) { return index < extent.first_index; });
  RR_ASSERT(after != extents_.begin());
  return {std::prev(after), extents_.end()};
}

std::optional<Seq> GroupLog::pin_seq() const {
  std::optional<Seq> pin = hard_state_seq_;
  const auto lower = [&pin](std::optional<Seq> seq) {
    if (seq && (!pin || *seq < *pin)) pin = seq;
  };
  lower(snapshot_seq_);
  if (!extents_.empty()) lower(extents_.front().seq);
  return pin;
}

void GroupLog::drop_from(LogIndex from_index) {
  RR_ASSERT(from_index.value() > 0);
  while (!extents_.empty() && extents_.back().first_index >= from_index) extents_.pop_back();
  if (!extents_.empty() && extents_.back().last_index() >= from_index) {
    extents_.back().entry_count =
        static_cast<uint32_t>(from_index.value() - extents_.back().first_index.value());
  }
  while (!term_runs_.empty() && term_runs_.back().first_index >= from_index) term_runs_.pop_back();
  last_index_ = std::min(last_index_, LogIndex(from_index.value() - 1));
}

void GroupLog::drop_through(LogIndex index) {
  while (!extents_.empty() && extents_.front().last_index() <= index) extents_.pop_front();
  // Keep the run covering index + 1: the first readable entry needs its term.
  size_t drop = 0;
  while (drop + 1 < term_runs_.size() &&
         term_runs_[drop + 1].first_index <= LogIndex(index.value() + 1)) {
    drop++;
  }
  term_runs_.erase(term_runs_.begin(), term_runs_.begin() + static_cast<ptrdiff_t>(drop));
}

void GroupLog::check_invariants() const {
  RR_ASSERT(snapshot_index_ <= last_index_);
  for (size_t i = 0; i < extents_.size(); i++) {
    const Extent& extent = extents_[i];
    RR_ASSERT(extent.entry_count > 0);
    if (i > 0) {
      RR_ASSERT(extent.first_index.value() == extents_[i - 1].last_index().value() + 1);
      RR_ASSERT(extent.seq >= extents_[i - 1].seq);
    }
  }
  if (!extents_.empty()) {
    RR_ASSERT(extents_.back().last_index() == last_index_);
    RR_ASSERT(extents_.front().first_index <= first_index());
    RR_ASSERT(extents_.front().last_index() >= first_index());
  } else {
    RR_ASSERT(last_index_ == snapshot_index_);
  }
  for (size_t i = 1; i < term_runs_.size(); i++) {
    RR_ASSERT(term_runs_[i - 1].first_index < term_runs_[i].first_index);
  }
  if (!term_runs_.empty()) RR_ASSERT(term_runs_.back().first_index <= last_index_);
}

}  // namespace ringraft::wal
