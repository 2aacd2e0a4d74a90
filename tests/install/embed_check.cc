// Links against the installed ringraft and runs one task on a reactor.
#include <cstdio>

#include "common/crc32c.h"
#include "net/schema/handshake_generated.h"
#include "reactor/ops.h"
#include "reactor/reactor.h"

int main() {
  using namespace ringraft;
  ReactorConfig config;
  config.pin_threads = false;
  Reactor reactor(config);
  int slept = -1;
  Result<void> result = reactor.run([&](Shard& shard) -> Task<void> {
    slept = (co_await ops::sleep_for(shard.io(), std::chrono::milliseconds(1))).value;
    shard.reactor().stop();
  });
  const char text[] = "123456789";
  const bool crc_ok = crc32c(as_bytes(text, 9)) == 0xE3069283u;
  if (!result.ok() || slept != 0 || !crc_ok) {
    std::fprintf(stderr, "embed_check: FAILED\n");
    return 1;
  }
  std::printf("embed_check: installed ringraft works\n");
  return 0;
}
