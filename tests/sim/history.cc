// Client history bookkeeping.
#include "tests/sim/history.h"

#include <utility>

#include "common/assert.h"

namespace ringraft::sim {

const char* outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kFail:
      return "fail";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

std::string describe(const Operation& operation) {
  std::string text = "op " + std::to_string(operation.op_id) + " client " +
                     std::to_string(operation.client) + " " + op_kind_name(operation.kind) + " " +
                     operation.key + " '" + operation.value + "' [" +
                     std::to_string(operation.call_time) + ", ";
  text += operation.return_time == kNeverReturned ? std::string("inf")
                                                  : std::to_string(operation.return_time);
  text += "] ";
  text += outcome_name(operation.outcome);
  return text;
}

size_t History::invoke(uint32_t client, OpKind kind, std::string key, std::string value,
                       uint64_t op_id, uint64_t call_time) {
  Operation operation;
  operation.op_id = op_id;
  operation.client = client;
  operation.kind = kind;
  operation.key = std::move(key);
  operation.value = std::move(value);
  operation.call_time = call_time;
  operations_.push_back(std::move(operation));
  return operations_.size() - 1;
}

void History::complete(size_t index, Outcome outcome, std::string read_value,
                       uint64_t return_time) {
  Operation& operation = operations_.at(index);
  RR_ASSERT_MSG(operation.return_time == kNeverReturned, "an operation completes once");
  RR_ASSERT(return_time > operation.call_time);
  operation.outcome = outcome;
  if (outcome == Outcome::kOk) {
    operation.return_time = return_time;
    if (operation.kind == OpKind::kGet) operation.value = std::move(read_value);
  }
}

}  // namespace ringraft::sim
