#include "raft/core/message.h"

#include "common/assert.h"

namespace ringraft::raft {

const char* message_type_name(MessageType type) {
  switch (type) {
    case MessageType::kPreVoteRequest:
      return "PreVoteRequest";
    case MessageType::kPreVoteResponse:
      return "PreVoteResponse";
    case MessageType::kVoteRequest:
      return "VoteRequest";
    case MessageType::kVoteResponse:
      return "VoteResponse";
    case MessageType::kAppend:
      return "Append";
    case MessageType::kAppendResponse:
      return "AppendResponse";
    case MessageType::kHeartbeat:
      return "Heartbeat";
    case MessageType::kHeartbeatResponse:
      return "HeartbeatResponse";
    case MessageType::kSnapshot:
      return "Snapshot";
    case MessageType::kSnapshotResponse:
      return "SnapshotResponse";
    case MessageType::kReadIndex:
      return "ReadIndex";
    case MessageType::kReadIndexResponse:
      return "ReadIndexResponse";
    case MessageType::kTimeoutNow:
      return "TimeoutNow";
  }
  RR_UNREACHABLE("unknown MessageType");
}

uint64_t entries_size_bytes(const std::vector<Entry>& entries) {
  uint64_t total_bytes = 0;
  for (const Entry& entry : entries) total_bytes += entry.size_bytes();
  return total_bytes;
}

}  // namespace ringraft::raft
