// The simulator's clock and agenda: events ordered by (simulated time, insertion sequence), so
// two events due at the same millisecond run in the order they were scheduled, the same way on
// every run. Nothing in the simulator reads a real clock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "common/assert.h"
#include "raft/core/message.h"

namespace ringraft::sim {

enum class EventKind : uint8_t {
  kDeliver,         // `message` reaches message.to
  kDiskDone,        // node's oldest pending write is durable (if `incarnation` still matches)
  kTick,            // node's tick timer
  kClientRequest,   // client `client` asks node `node` (attempt `attempt`)
  kClientResponse,  // node answers client `client` (attempt `attempt`)
  kClientDeadline,  // client's operation `attempt` has waited long enough
  kClientNext,      // client starts its next operation
  kFault,           // the fault injector's next decision
  kRestart,         // a crashed node comes back
  kHeal,            // the current partition ends
};

// What a node answered a client. kOk / kFail carry `read_value` (get only).
enum class Answer : uint8_t { kOk, kFail, kNotLeader, kBusy, kUnreachable };

struct Event {
  EventKind kind = EventKind::kTick;
  uint32_t node = 0;  // 1-based NodeId value
  uint64_t incarnation = 0;
  uint32_t client = 0;
  uint64_t attempt = 0;
  Answer answer = Answer::kOk;
  uint64_t leader_hint = 0;
  std::string read_value;
  raft::Message message;
};

class EventQueue {
 public:
  uint64_t now_ms() const { return now_ms_; }

  void schedule(uint64_t at_ms, Event event) {
    RR_ASSERT_MSG(at_ms >= now_ms_, "an event in the past");
    events_.emplace(std::make_pair(at_ms, next_seq_++), std::move(event));
  }
  void schedule_in(uint64_t delay_ms, Event event) {
    schedule(now_ms_ + delay_ms, std::move(event));
  }

  // The next event due no later than `until_ms`, advancing the clock to it.
  std::optional<Event> pop_until(uint64_t until_ms) {
    if (events_.empty() || events_.begin()->first.first > until_ms) return std::nullopt;
    auto handle = events_.extract(events_.begin());
    now_ms_ = handle.key().first;
    return std::move(handle.mapped());
  }
  // The sequence number of the next event: a global, strictly increasing "time" for histories.
  uint64_t next_seq() { return next_seq_++; }
  size_t size() const { return events_.size(); }

 private:
  uint64_t now_ms_ = 0;
  uint64_t next_seq_ = 0;
  std::map<std::pair<uint64_t, uint64_t>, Event> events_;
};

}  // namespace ringraft::sim
