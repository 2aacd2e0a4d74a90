// The linearizability checker on small hand-written histories, linearizable or not.
#include "tests/sim/linearizability.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ringraft::sim {
namespace {

Operation op(OpKind kind, std::string key, std::string value, uint64_t call, uint64_t ret,
             Outcome outcome = Outcome::kOk) {
  Operation operation;
  operation.kind = kind;
  operation.key = std::move(key);
  operation.value = std::move(value);
  operation.call_time = call;
  operation.return_time = outcome == Outcome::kOk ? ret : kNeverReturned;
  operation.outcome = outcome;
  return operation;
}

Operation put(std::string value, uint64_t call, uint64_t ret, Outcome outcome = Outcome::kOk) {
  return op(OpKind::kPut, "k", std::move(value), call, ret, outcome);
}
Operation append(std::string value, uint64_t call, uint64_t ret, Outcome outcome = Outcome::kOk) {
  return op(OpKind::kAppend, "k", std::move(value), call, ret, outcome);
}
Operation get(std::string value, uint64_t call, uint64_t ret) {
  return op(OpKind::kGet, "k", std::move(value), call, ret);
}

Linearizable verdict(const std::vector<Operation>& history) {
  return check_linearizable(history).verdict;
}

TEST(Linearizability, EmptyHistoryIsLinearizable) {
  EXPECT_EQ(verdict({}), Linearizable::kYes);
}

TEST(Linearizability, SequentialReadsOfTheLastWriteAreLinearizable) {
  EXPECT_EQ(verdict({put("a", 1, 2), get("a", 3, 4), append("b", 5, 6), get("ab", 7, 8)}),
            Linearizable::kYes);
}

TEST(Linearizability, StaleReadAfterAWriteReturnedIsNot) {
  EXPECT_EQ(verdict({put("a", 1, 2), put("b", 3, 4), get("a", 5, 6)}), Linearizable::kNo);
}

TEST(Linearizability, ReadOfAValueNeverWrittenIsNot) {
  EXPECT_EQ(verdict({put("a", 1, 2), get("z", 3, 4)}), Linearizable::kNo);
}

TEST(Linearizability, ConcurrentWriteMayBeSeenOrNot) {
  // put b overlaps both reads: the first may miss it, the second may see it.
  EXPECT_EQ(verdict({put("a", 1, 2), put("b", 3, 10), get("a", 4, 5), get("b", 6, 7)}),
            Linearizable::kYes);
}

TEST(Linearizability, ReadsMustNotGoBackInTime) {
  // Once a read saw b, a later read cannot see a again (b was written after a returned).
  EXPECT_EQ(verdict({put("a", 1, 2), put("b", 3, 10), get("b", 4, 5), get("a", 6, 7)}),
            Linearizable::kNo);
}

TEST(Linearizability, ConcurrentAppendsInEitherOrder) {
  EXPECT_EQ(verdict({append("x", 1, 5), append("y", 2, 6), get("yx", 7, 8)}), Linearizable::kYes);
  EXPECT_EQ(verdict({append("x", 1, 5), append("y", 2, 6), get("xy", 7, 8)}), Linearizable::kYes);
  EXPECT_EQ(verdict({append("x", 1, 2), append("y", 3, 6), get("yx", 7, 8)}), Linearizable::kNo);
}

TEST(Linearizability, FailedWriteTookNoEffect) {
  EXPECT_EQ(verdict({put("a", 1, 2), put("b", 3, 0, Outcome::kFail), get("a", 5, 6)}),
            Linearizable::kYes);
  EXPECT_EQ(verdict({put("a", 1, 2), put("b", 3, 0, Outcome::kFail), get("b", 5, 6)}),
            Linearizable::kNo);
}

TEST(Linearizability, UnknownWriteMayTakeEffectLateOrNever) {
  // An append with an unknown outcome, seen by a read long after its client gave up.
  EXPECT_EQ(verdict({append("x", 1, 0, Outcome::kUnknown), get("", 5, 6), get("x", 20, 21)}),
            Linearizable::kYes);
  EXPECT_EQ(verdict({append("x", 1, 0, Outcome::kUnknown), get("", 5, 6)}), Linearizable::kYes);
  // ...but not before it was invoked.
  EXPECT_EQ(verdict({get("x", 1, 2), append("x", 3, 0, Outcome::kUnknown)}), Linearizable::kNo);
}

TEST(Linearizability, UnobservedUnknownWritesCostNoSearch) {
  // 20 unknown appends no read ever saw, around reads of a put: 2^20 equivalent states unless
  // the checker drops them, which is sound (their values were never read).
  std::vector<Operation> history = {put("p", 1, 2)};
  for (int i = 0; i < 20; ++i) {
    history.push_back(append("u" + std::to_string(i) + ";", 3 + i, 0, Outcome::kUnknown));
  }
  for (int i = 0; i < 10; ++i) history.push_back(put("q", 30 + 4 * i, 31 + 4 * i));
  history.push_back(get("q", 100, 101));
  EXPECT_EQ(check_linearizable(history, /*steps_max_per_key=*/500).verdict, Linearizable::kYes);
  // An unknown append that a read did see still constrains the order.
  history.push_back(append("seen;", 102, 0, Outcome::kUnknown));
  history.push_back(get("qseen;", 110, 111));
  history.push_back(get("q", 112, 113));
  EXPECT_EQ(check_linearizable(history).verdict, Linearizable::kNo);
}

TEST(Linearizability, KeysAreCheckedIndependently) {
  std::vector<Operation> history = {
      op(OpKind::kPut, "a", "1", 1, 2), op(OpKind::kPut, "b", "2", 3, 4),
      op(OpKind::kGet, "a", "1", 5, 6), op(OpKind::kGet, "b", "2", 7, 8)};
  EXPECT_EQ(verdict(history), Linearizable::kYes);
  history.push_back(op(OpKind::kGet, "b", "1", 9, 10));
  const LinearizabilityResult result = check_linearizable(history);
  EXPECT_EQ(result.verdict, Linearizable::kNo);
  EXPECT_EQ(result.key, "b");
}

TEST(Linearizability, EffortBoundGivesInconclusive) {
  // Many concurrent unknown appends and a read that matches no order: the search must explore
  // many subsets before it could answer; a tiny bound stops it with a clear verdict.
  std::vector<Operation> history;
  for (int i = 0; i < 16; ++i) {
    history.push_back(
        append(std::string(1, static_cast<char>('a' + i)), 1 + i, 0, Outcome::kUnknown));
  }
  history.push_back(get("impossible", 100, 101));
  EXPECT_EQ(check_linearizable(history, /*steps_max_per_key=*/1000).verdict,
            Linearizable::kInconclusive);
}

}  // namespace
}  // namespace ringraft::sim
