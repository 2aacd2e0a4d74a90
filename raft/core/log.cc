#include "raft/core/log.h"

#include <algorithm>
#include <iterator>

#include "common/assert.h"

namespace ringraft::raft {

RaftLog::RaftLog(std::vector<Entry> entries, LogIndex committed)
    : RaftLog(std::move(entries), committed, LogIndex{0}, Term{0}) {}

RaftLog::RaftLog(std::vector<Entry> entries, LogIndex committed, LogIndex snapshot_index,
                 Term snapshot_term)
    : entries_(std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end())),
      snapshot_index_(snapshot_index),
      snapshot_term_(snapshot_term) {
  committed_ = std::max(committed, snapshot_index);
  written_index_ = last_index();
  durable_index_ = last_index();
  applied_ = snapshot_index;
  RR_ASSERT_MSG(committed_ <= last_index(), "restored commit index beyond the restored log");
  check_invariants();
}

const Entry& RaftLog::at(LogIndex index) const {
  RR_ASSERT(index >= first_index() && index <= last_index());
  return entries_[index.value() - first_index().value()];
}

std::optional<Term> RaftLog::term_at(LogIndex index) const {
  if (index == snapshot_index_) return snapshot_term_;
  if (index < snapshot_index_ || index > last_index()) return std::nullopt;
  return at(index).term;
}

Term RaftLog::term_of(LogIndex index) const {
  const std::optional<Term> found = term_at(index);
  RR_ASSERT_MSG(found.has_value(), "term_of an index compacted away or beyond the last index");
  return *found;
}

bool RaftLog::match_term(LogIndex index, Term term) const {
  const std::optional<Term> found = term_at(index);
  return found.has_value() && *found == term;
}

bool RaftLog::is_up_to_date(LogIndex candidate_last_index, Term candidate_last_term) const {
  return candidate_last_term > last_term() ||
         (candidate_last_term == last_term() && candidate_last_index >= last_index());
}

std::optional<LogIndex> RaftLog::maybe_append(LogIndex prev_index, Term prev_term,
                                              std::vector<Entry>&& entries) {
  if (!match_term(prev_index, prev_term)) return std::nullopt;
  const LogIndex last_new{prev_index.value() + entries.size()};
  // Skip the entries this log already holds; the first one whose term differs is a conflict.
  size_t skip = 0;
  while (skip < entries.size() && match_term(entries[skip].index, entries[skip].term)) ++skip;
  if (skip < entries.size()) {
    const LogIndex conflict = entries[skip].index;
    RR_ASSERT_MSG(conflict > committed_, "a leader's Append conflicts with a committed entry");
    if (conflict <= last_index()) truncate_from(conflict);
    entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(skip));
    append(std::move(entries));
  }
  return last_new;
}

void RaftLog::append(std::vector<Entry>&& entries) {
  for (Entry& entry : entries) {
    RR_ASSERT_MSG(entry.index.value() == last_index().value() + 1, "appended entries have a gap");
    RR_ASSERT_MSG(entry.term >= last_term(), "appended entry's term goes back");
    entries_.push_back(std::move(entry));
  }
}

void RaftLog::truncate_from(LogIndex index) {
  RR_ASSERT(index > committed_ && index <= last_index());
  entries_.resize(index.value() - first_index().value());
  const LogIndex kept{index.value() - 1};
  written_index_ = std::min(written_index_, kept);
  durable_index_ = std::min(durable_index_, kept);
}

LogIndex RaftLog::find_conflict_by_term(LogIndex index, Term term) const {
  index = std::min(index, last_index());
  while (index > snapshot_index_ && at(index).term > term) index = LogIndex{index.value() - 1};
  return index;
}

std::vector<Entry> RaftLog::slice(LogIndex from, uint32_t count_max, uint64_t bytes_max) const {
  RR_ASSERT(from >= first_index() && from.value() <= last_index().value() + 1);
  std::vector<Entry> out;
  out.reserve(std::min<uint64_t>(count_max, last_index().value() + 1 - from.value()));
  uint64_t total_bytes = 0;
  for (uint64_t i = from.value(); i <= last_index().value() && out.size() < count_max; ++i) {
    const Entry& entry = at(LogIndex{i});
    if (!out.empty() && total_bytes + entry.size_bytes() > bytes_max) break;
    total_bytes += entry.size_bytes();
    out.push_back(entry);
  }
  return out;
}

LogView RaftLog::view(LogIndex from, LogIndex to) const {
  if (to < from) return LogView(entries_.end(), entries_.end());
  RR_ASSERT(from >= first_index() && to <= last_index());
  const auto begin =
      entries_.begin() + static_cast<std::ptrdiff_t>(from.value() - first_index().value());
  return LogView(begin, begin + static_cast<std::ptrdiff_t>(to.value() - from.value() + 1));
}

void RaftLog::commit_to(LogIndex index) {
  if (index <= committed_) return;  // commit never moves back
  RR_ASSERT_MSG(index <= last_index(), "commit index beyond the last index");
  committed_ = index;
}

LogView RaftLog::unwritten() const {
  return view(LogIndex{written_index_.value() + 1}, last_index());
}

void RaftLog::written_to(LogIndex index) {
  RR_ASSERT(index <= last_index());
  written_index_ = std::max(written_index_, index);
}

void RaftLog::durable_to(LogIndex index, Term term) {
  if (index > written_index_ || !match_term(index, term)) return;  // overwritten since
  durable_index_ = std::max(durable_index_, index);
}

LogIndex RaftLog::applicable_index() const {
  return std::min(committed_, durable_index_);
}

void RaftLog::applied_to(LogIndex index) {
  RR_ASSERT(index >= applied_ && index <= applicable_index());
  applied_ = index;
}

void RaftLog::compact(LogIndex index) {
  RR_ASSERT_MSG(index > snapshot_index_ && index <= applied_, "compaction of unapplied entries");
  const Term term = term_of(index);
  const auto dropped = static_cast<std::ptrdiff_t>(index.value() - snapshot_index_.value());
  entries_.erase(entries_.begin(), entries_.begin() + dropped);
  snapshot_index_ = index;
  snapshot_term_ = term;
}

void RaftLog::restore(LogIndex index, Term term) {
  RR_ASSERT_MSG(index > committed_, "a snapshot at or below the commit index adds nothing");
  entries_.clear();
  snapshot_index_ = index;
  snapshot_term_ = term;
  committed_ = index;
  written_index_ = index;
  durable_index_ = index;
  applied_ = index;
}

void RaftLog::check_invariants() const {
  RR_ASSERT(snapshot_index_ <= applied_);
  RR_ASSERT(applied_ <= committed_);
  RR_ASSERT(committed_ <= last_index());
  RR_ASSERT(applied_ <= durable_index_);
  RR_ASSERT(durable_index_ <= written_index_);
  RR_ASSERT(written_index_ <= last_index());
  Term previous = snapshot_term_;
  for (size_t i = 0; i < entries_.size(); ++i) {
    RR_ASSERT(entries_[i].index.value() == snapshot_index_.value() + i + 1);
    RR_ASSERT(entries_[i].term >= previous);
    previous = entries_[i].term;
  }
}

}  // namespace ringraft::raft
