#include "raft/core/log.h"

#include <gtest/gtest.h>

#include <vector>

namespace ringraft::raft {
namespace {

// A log with one entry per listed term, at indexes 1, 2, ...
std::vector<Entry> entries_with_terms(std::vector<uint64_t> terms, uint64_t first_index = 1) {
  std::vector<Entry> entries;
  for (size_t i = 0; i < terms.size(); ++i) {
    entries.push_back(Entry{Term{terms[i]}, LogIndex{first_index + i}, Payload(i + 1)});
  }
  return entries;
}

TEST(RaftLog, TermAtCoversZeroAndStopsAtTheLastIndex) {
  const RaftLog log(entries_with_terms({1, 1, 2}), LogIndex{0});
  EXPECT_EQ(log.term_at(LogIndex{0}), Term{0});
  EXPECT_EQ(log.term_at(LogIndex{3}), Term{2});
  EXPECT_FALSE(log.term_at(LogIndex{4}).has_value());
  EXPECT_EQ(log.last_index(), LogIndex{3});
  EXPECT_EQ(log.last_term(), Term{2});
}

TEST(RaftLog, UpToDateComparesLastTermThenLastIndex) {
  const RaftLog log(entries_with_terms({1, 2, 2}), LogIndex{0});
  EXPECT_TRUE(log.is_up_to_date(LogIndex{1}, Term{3}));   // later term wins, shorter or not
  EXPECT_TRUE(log.is_up_to_date(LogIndex{3}, Term{2}));   // same term, as long
  EXPECT_FALSE(log.is_up_to_date(LogIndex{2}, Term{2}));  // same term, shorter
  EXPECT_FALSE(log.is_up_to_date(LogIndex{9}, Term{1}));  // earlier term loses, longer or not
}

TEST(RaftLog, MaybeAppendRefusesAMismatchedPreviousEntry) {
  RaftLog log(entries_with_terms({1, 1}), LogIndex{0});
  EXPECT_FALSE(log.maybe_append(LogIndex{2}, Term{2}, entries_with_terms({2}, 3)).has_value());
  EXPECT_FALSE(log.maybe_append(LogIndex{5}, Term{1}, {}).has_value());
  EXPECT_EQ(log.last_index(), LogIndex{2});
}

TEST(RaftLog, MaybeAppendTruncatesAConflictingSuffixOnly) {
  RaftLog log(entries_with_terms({1, 1, 1, 1}), LogIndex{1});
  // Entries 2-3 already match; entry 4 conflicts; entry 5 is new.
  std::vector<Entry> incoming = entries_with_terms({1, 1, 2, 2}, 2);
  incoming[0].payload = Payload(2);  // same (index, term) => same entry (log matching)
  incoming[1].payload = Payload(3);
  const std::optional<LogIndex> last_new =
      log.maybe_append(LogIndex{1}, Term{1}, std::move(incoming));
  ASSERT_TRUE(last_new.has_value());
  EXPECT_EQ(*last_new, LogIndex{5});
  EXPECT_EQ(log.last_index(), LogIndex{5});
  EXPECT_EQ(log.term_of(LogIndex{3}), Term{1});
  EXPECT_EQ(log.term_of(LogIndex{4}), Term{2});
  // The restored entries were durable; the overwritten one no longer is.
  EXPECT_EQ(log.durable_index(), LogIndex{3});
  EXPECT_EQ(log.written_index(), LogIndex{3});
  ASSERT_EQ(log.unwritten().size(), 2u);
  log.check_invariants();
}

TEST(RaftLog, MaybeAppendOfAnOldPrefixKeepsLaterEntries) {
  RaftLog log(entries_with_terms({1, 1, 1}), LogIndex{0});
  const std::optional<LogIndex> last_new =
      log.maybe_append(LogIndex{0}, Term{0}, entries_with_terms({1}));
  ASSERT_TRUE(last_new.has_value());
  EXPECT_EQ(*last_new, LogIndex{1});
  EXPECT_EQ(log.last_index(), LogIndex{3});  // a reordered, older Append truncates nothing
}

TEST(RaftLog, FindConflictByTermSkipsEntriesOfLaterTerms) {
  const RaftLog log(entries_with_terms({1, 1, 1, 4, 4, 5, 5, 6, 6, 6}), LogIndex{0});
  EXPECT_EQ(log.find_conflict_by_term(LogIndex{10}, Term{6}), LogIndex{10});
  EXPECT_EQ(log.find_conflict_by_term(LogIndex{10}, Term{5}), LogIndex{7});
  EXPECT_EQ(log.find_conflict_by_term(LogIndex{10}, Term{3}), LogIndex{3});
  EXPECT_EQ(log.find_conflict_by_term(LogIndex{10}, Term{0}), LogIndex{0});
  EXPECT_EQ(log.find_conflict_by_term(LogIndex{99}, Term{4}), LogIndex{5});  // clamped
}

TEST(RaftLog, SliceIsBoundedByCountAndBytesButCarriesOneLargeEntry) {
  std::vector<Entry> entries;
  for (uint64_t i = 1; i <= 6; ++i) entries.push_back(Entry{Term{1}, LogIndex{i}, Payload(10)});
  entries[4].payload = Payload(500);
  const RaftLog log(std::move(entries), LogIndex{0});
  EXPECT_EQ(log.slice(LogIndex{1}, 3, 1000).size(), 3u);  // count bound
  EXPECT_EQ(log.slice(LogIndex{1}, 10, 25).size(), 2u);   // byte bound: 10 + 10 <= 25
  EXPECT_EQ(log.slice(LogIndex{5}, 10, 25).size(), 1u);   // 500 bytes, alone
  EXPECT_TRUE(log.slice(LogIndex{7}, 10, 25).empty());
}

TEST(RaftLog, CommitNeverMovesBackAndApplyWaitsForDurability) {
  RaftLog log;
  log.append(entries_with_terms({1, 1, 1}));
  log.commit_to(LogIndex{2});
  log.commit_to(LogIndex{1});
  EXPECT_EQ(log.committed(), LogIndex{2});
  EXPECT_EQ(log.applicable_index(), LogIndex{0});  // nothing durable yet
  log.written_to(LogIndex{3});
  log.durable_to(LogIndex{3}, Term{1});
  EXPECT_EQ(log.applicable_index(), LogIndex{2});
  log.durable_to(LogIndex{3}, Term{7});  // a report about another entry changes nothing
  EXPECT_EQ(log.durable_index(), LogIndex{3});
  log.check_invariants();
}

}  // namespace
}  // namespace ringraft::raft
