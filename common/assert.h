// Always-on assertions for programmer errors and broken invariants.
//
// RR_ASSERT stays on in release builds: an invariant that is cheap enough to state is cheap
// enough to check, and a replication engine that goes on after a broken invariant can lose
// acknowledged data. Bad input from disk or network is never an assertion: it is a Result error.
#pragma once

namespace ringraft {

[[noreturn]] void assert_fail(const char* expression, const char* file, int line,
                              const char* message) noexcept;

}  // namespace ringraft

#define RR_ASSERT(condition)                                            \
  do {                                                                  \
    if (__builtin_expect(!(condition), 0))                              \
      ::ringraft::assert_fail(#condition, __FILE__, __LINE__, nullptr); \
  } while (0)

#define RR_ASSERT_MSG(condition, message)                                 \
  do {                                                                    \
    if (__builtin_expect(!(condition), 0))                                \
      ::ringraft::assert_fail(#condition, __FILE__, __LINE__, (message)); \
  } while (0)

#define RR_UNREACHABLE(message) \
  ::ringraft::assert_fail("unreachable", __FILE__, __LINE__, (message))
