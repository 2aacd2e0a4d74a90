// Fault profiles: how hostile the simulated network, disks and clock are. `ringraft-sim
// --faults <name>` picks one; every random decision they drive comes from the run's seed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ringraft::sim {

struct FaultProfile {
  std::string name;
  // Network, per message: dropped, delivered twice, and a delay drawn uniformly from
  // [delay_min_ms, delay_max_ms] (different delays reorder messages).
  uint32_t drop_percent = 0;
  uint32_t duplicate_percent = 0;
  uint32_t delay_min_ms = 1;
  uint32_t delay_max_ms = 3;
  // Each fault decision (every fault_interval_ms on average) picks one of: a partition (a
  // single node or a random minority cut off) that heals after up to partition_max_ms, or a
  // crash of an up node that restarts after up to down_max_ms. 0 percent disables each.
  uint32_t fault_interval_ms = 0;
  uint32_t partition_percent = 0;
  uint32_t partition_max_ms = 0;
  uint32_t crash_percent = 0;
  uint32_t down_max_ms = 0;
  // Disk: a write is durable fsync_min_ms..fsync_max_ms after it was issued (writes complete
  // in order). At a crash, each unsynced write (oldest first) reached the platter anyway with
  // early_flush_percent (the page cache flushed it), and the first that did not is torn:
  // recovery drops it as the WAL drops a batch that fails its checksum.
  uint32_t fsync_min_ms = 1;
  uint32_t fsync_max_ms = 2;
  uint32_t early_flush_percent = 0;
};

// "none", "mild", "default", "heavy", "slowdisk". Unknown names fail with the list of known ones.
Result<FaultProfile> fault_profile(std::string_view name);

}  // namespace ringraft::sim
