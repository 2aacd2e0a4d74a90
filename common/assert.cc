#include "common/assert.h"

#include <cstdio>
#include <cstdlib>

namespace ringraft {

void assert_fail(const char* expression, const char* file, int line, const char* message) noexcept {
  // fprintf, not the logger: the logger may be what broke, and this must reach stderr.
  std::fprintf(stderr, "ringraft: assertion failed: %s at %s:%d%s%s\n", expression, file, line,
               message ? ": " : "", message ? message : "");
  std::fflush(stderr);
  std::abort();
}

}  // namespace ringraft
