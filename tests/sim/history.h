// A client history: every operation a client invoked, when, and how it ended. What the
// linearizability checker reads.
//
// Times are positions in one global order of events (the simulator's event sequence), so an
// operation that returned before another was invoked is strictly earlier, with no ties.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tests/sim/kv.h"

namespace ringraft::sim {

// ok: the client saw the result. fail: the operation certainly did not take effect (refused
// before it entered any log, or its log slot went to another entry). unknown: the client gave
// up waiting; the operation may take effect at any later time, or never.
enum class Outcome : uint8_t { kOk, kFail, kUnknown };

const char* outcome_name(Outcome outcome);

inline constexpr uint64_t kNeverReturned = std::numeric_limits<uint64_t>::max();

struct Operation {
  uint64_t op_id = 0;
  uint32_t client = 0;
  OpKind kind = OpKind::kGet;
  std::string key;
  std::string value;  // put / append: the input; get: the value read (outcome ok only)
  uint64_t call_time = 0;
  uint64_t return_time = kNeverReturned;  // kNeverReturned while pending or unknown
  Outcome outcome = Outcome::kUnknown;
};

std::string describe(const Operation& operation);

class History {
 public:
  // Returns the index of the new operation.
  size_t invoke(uint32_t client, OpKind kind, std::string key, std::string value, uint64_t op_id,
                uint64_t call_time);
  void complete(size_t index, Outcome outcome, std::string read_value, uint64_t return_time);

  const std::vector<Operation>& operations() const { return operations_; }
  Operation& at(size_t index) { return operations_.at(index); }

 private:
  std::vector<Operation> operations_;
};

}  // namespace ringraft::sim
