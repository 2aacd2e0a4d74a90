#include "raft/replica/engine_options.h"

#include <algorithm>
#include <string>

namespace ringraft::replica {
namespace {
Error bad(const std::string& what) {
  return Error(ErrorCode::kInvalidInput, "engine options: " + what);
}
}  // namespace

Result<void> EngineOptions::validate() const {
  if (node.value() == 0) return bad("node must be >= 1 (0 means \"nobody\" in Raft messages)");
  if (std::find(voters.begin(), voters.end(), node) == voters.end() &&
      std::find(learners.begin(), learners.end(), node) == learners.end()) {
    return bad("voters (or learners) must include this node (" + std::to_string(node.value()) +
               ")");
  }
  if (groups.empty()) return bad("groups is empty: a shard hosts at least one group");
  std::vector<GroupId> sorted = groups;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return bad("groups lists a group twice");
  }
  if (tick_interval < std::chrono::milliseconds(1)) {
    return bad("tick_interval below 1 ms: elections would depend on loop latency");
  }
  if (proposal_timeout < Duration::zero()) return bad("proposal_timeout is negative");
  if (wal_retry_interval < Duration::zero()) return bad("wal_retry_interval is negative");
  if (proposals_pending_max == 0) return bad("proposals_pending_max must be >= 1");
  if (wal.directory.empty()) return bad("wal.directory is empty");
  if (snapshot_log_bytes != 0 && snapshot_log_bytes < kSnapshotLogBytesMin) {
    return bad(
        "snapshot_log_bytes below 4096 (0 turns the trigger off): a snapshot every few "
        "entries would cost more than the log it saves");
  }
  Result<void> wal_valid = wal::validate(wal);
  if (!wal_valid) return wal_valid;
  raft::Config config = raft;
  config.id = node;
  config.voters = voters;
  config.learners = learners;
  return config.validate();
}

uint64_t EngineOptions::proposal_timeout_ticks() const {
  if (proposal_timeout <= Duration::zero()) return 0;
  return static_cast<uint64_t>((proposal_timeout + tick_interval - Duration(1)) / tick_interval);
}

}  // namespace ringraft::replica
