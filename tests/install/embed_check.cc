// Links against the installed ringraft: runs one task on a reactor and touches every module.
#include <cstdio>

#include "common/crc32c.h"
#include "net/schema/handshake_generated.h"
#include "raft/core/config.h"
#include "reactor/ops.h"
#include "reactor/reactor.h"
#include "wal/batch_format.h"

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
  // The WAL's decoder and the Raft core's configuration check link and work too.
  const bool wal_ok = !wal::decode_batch(as_bytes(text, 9)).ok();
  raft::Config raft_config;
  raft_config.id = NodeId(1);
  raft_config.voters = {NodeId(1), NodeId(2), NodeId(3)};
  const bool raft_ok = raft_config.validate().ok();
  if (!result.ok() || slept != 0 || !crc_ok || !wal_ok || !raft_ok) {
    std::fprintf(stderr, "embed_check: FAILED\n");
    return 1;
  }
  std::printf("embed_check: installed ringraft works\n");
  return 0;
}
