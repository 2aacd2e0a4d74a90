// Helpers for reactor tests: run a test body on a fresh reactor and stop when it ends.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>

#include "reactor/ops.h"
#include "reactor/reactor.h"

namespace ringraft::testing {

inline ReactorConfig test_config(uint32_t shards = 1) {
  ReactorConfig config;
  config.shard_count = shards;
  config.pin_threads = false;  // tests share the machine with other tests
  return config;
}

// Runs `body` on shard 0 and stops the reactor when it returns. A watchdog stops a hung test
// after `limit` and fails it (a bound on time, not a measurement).
inline void run_on_reactor(std::function<Task<void>(Shard&)> body,
                           ReactorConfig config = test_config(),
                           std::chrono::seconds limit = std::chrono::seconds(60)) {
  Reactor reactor(config);
  bool finished = false;
  Result<void> result = reactor.run([&](Shard& shard) -> Task<void> {
    if (shard.id().value() != 0) co_return;
    shard.spawn([](Shard& self, std::chrono::seconds bound, bool& done) -> Task<void> {
      const IoResult slept = co_await ops::sleep_for(self.io(), bound);
      if (slept.ok() && !done) {
        ADD_FAILURE() << "test body still running after " << bound.count() << " s";
        self.reactor().stop();
      }
    }(shard, limit, finished));
    co_await body(shard);
    finished = true;
    shard.reactor().stop();
  });
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_TRUE(finished) << "the test body did not finish";
}

}  // namespace ringraft::testing
