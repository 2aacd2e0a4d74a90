// The named fault profiles.
#include "tests/sim/faults.h"

namespace ringraft::sim {

namespace {

FaultProfile profile_none() {
  FaultProfile profile;
  profile.name = "none";
  return profile;
}

FaultProfile profile_mild() {
  FaultProfile profile;
  profile.name = "mild";
  profile.drop_percent = 1;
  profile.duplicate_percent = 1;
  profile.delay_min_ms = 1;
  profile.delay_max_ms = 8;
  profile.fault_interval_ms = 3000;
  profile.partition_percent = 40;
  profile.partition_max_ms = 1000;
  profile.crash_percent = 40;
  profile.down_max_ms = 1000;
  profile.fsync_min_ms = 1;
  profile.fsync_max_ms = 8;
  profile.early_flush_percent = 30;
  return profile;
}

FaultProfile profile_default() {
  FaultProfile profile = profile_mild();
  profile.name = "default";
  profile.drop_percent = 5;
  profile.duplicate_percent = 3;
  profile.delay_max_ms = 20;
  profile.fault_interval_ms = 800;
  profile.partition_percent = 45;
  profile.partition_max_ms = 1500;
  profile.crash_percent = 45;
  profile.down_max_ms = 1500;
  profile.fsync_max_ms = 25;
  profile.early_flush_percent = 50;
  return profile;
}

FaultProfile profile_heavy() {
  FaultProfile profile = profile_default();
  profile.name = "heavy";
  profile.drop_percent = 20;
  profile.duplicate_percent = 10;
  profile.delay_max_ms = 60;
  profile.fault_interval_ms = 300;
  profile.partition_percent = 50;
  profile.crash_percent = 50;
  profile.fsync_max_ms = 80;
  return profile;
}

// Disks slower than the election timeout (100-200 ms): votes and acknowledgements wait for
// fsyncs that outlast elections, so terms churn while writes are in flight.
FaultProfile profile_slow_disk() {
  FaultProfile profile = profile_default();
  profile.name = "slowdisk";
  profile.fsync_min_ms = 20;
  profile.fsync_max_ms = 300;
  return profile;
}

}  // namespace

Result<FaultProfile> fault_profile(std::string_view name) {
  if (name == "none") return profile_none();
  if (name == "mild") return profile_mild();
  if (name == "default") return profile_default();
  if (name == "heavy") return profile_heavy();
  if (name == "slowdisk") return profile_slow_disk();
  return Error(ErrorCode::kInvalidInput, "unknown fault profile '" + std::string(name) +
                                             "' (known: none, mild, default, heavy, slowdisk)");
}

}  // namespace ringraft::sim
