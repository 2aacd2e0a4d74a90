#include "raft/core/describe.h"

#include <string>

namespace ringraft::raft {
namespace {

std::string number(uint64_t value) {
  return std::to_string(value);
}

}  // namespace

std::string describe(const Message& message) {
  std::string text = number(message.from.value()) + "->" + number(message.to.value()) + " " +
                     message_type_name(message.type) + " term=" + number(message.term.value());
  switch (message.type) {
    case MessageType::kPreVoteRequest:
    case MessageType::kVoteRequest:
      text += " last=" + number(message.log_index.value()) + "/" + number(message.log_term.value());
      break;
    case MessageType::kAppend:
      text += " prev=" + number(message.log_index.value()) + "/" + number(message.log_term.value());
      if (!message.entries.empty()) {
        text += " entries=" + number(message.entries.front().index.value()) + ".." +
                number(message.entries.back().index.value());
      }
      text += " commit=" + number(message.commit.value());
      break;
    case MessageType::kAppendResponse:
      text += " index=" + number(message.log_index.value());
      if (message.reject) {
        text += " hint=" + number(message.reject_hint_index.value()) + "/" +
                number(message.reject_hint_term.value());
      }
      break;
    case MessageType::kHeartbeat:
      text += " commit=" + number(message.commit.value());
      break;
    case MessageType::kSnapshot:
    case MessageType::kSnapshotResponse:
      text += " snapshot=" + number(message.log_index.value()) + "/" +
              number(message.log_term.value()) + " offset=" + number(message.snapshot_offset);
      if (message.type == MessageType::kSnapshot) {
        text +=
            "+" + number(message.snapshot_chunk_bytes) + "/" + number(message.snapshot_size_bytes);
      }
      break;
    case MessageType::kReadIndex:
      text += " context=" + number(message.context);
      break;
    case MessageType::kReadIndexResponse:
      text += " index=" + number(message.log_index.value()) + " context=" + number(message.context);
      break;
    case MessageType::kTimeoutNow:
    case MessageType::kPreVoteResponse:
    case MessageType::kVoteResponse:
    case MessageType::kHeartbeatResponse:
      break;
  }
  if (message.reject) text += " rejected";
  return text;
}

std::string describe(const Core& core) {
  const RaftLog& log = core.log();
  return "node " + number(core.id().value()) + " " + role_name(core.role()) +
         " term=" + number(core.term().value()) + " vote=" + number(core.vote().value()) +
         " lead=" + number(core.leader().value()) + " last=" + number(log.last_index().value()) +
         "/" + number(log.last_term().value()) + " commit=" + number(log.committed().value()) +
         " applied=" + number(log.applied().value());
}

std::string describe(const Progress& progress) {
  return std::string(progress_state_name(progress.state())) +
         " match=" + number(progress.match().value()) + " next=" + number(progress.next().value()) +
         " inflights=" + number(progress.inflights().count()) + "/" +
         number(progress.inflights().size_bytes()) + "B" + (progress.is_paused() ? " paused" : "");
}

}  // namespace ringraft::raft
