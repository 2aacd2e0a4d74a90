// A linearizability checker for the KV workload's history (Wing & Gong's search with Lowe's
// memoization, as in "Testing for Linearizability", G. Lowe, 2017; the same algorithm the
// Porcupine checker uses).
//
// The history is split per key (a KV store is linearizable iff each key is, since every
// operation touches one key) and each key is searched on its own: pick an operation that could
// take effect next (its call precedes every pending return), apply it to the model, recurse;
// backtrack when a return is reached with its operation not yet linearized. A cache of
// (set of linearized operations, model state) pairs already explored keeps the search from
// repeating itself. Operations that failed are dropped (they took no effect); operations with
// an unknown outcome may take effect at any time after their call (their return is at
// infinity), and a get with an unknown outcome constrains nothing and is dropped, as is an
// unknown write whose (unique) value no get ever read (see linearizability.cc for why that is
// sound for this model).
//
// Bounded effort: each key's search stops after `steps_max_per_key` steps with kInconclusive
// instead of running for hours on a pathological history.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/sim/history.h"

namespace ringraft::sim {

enum class Linearizable : uint8_t { kYes, kNo, kInconclusive };

const char* linearizable_name(Linearizable verdict);

struct LinearizabilityResult {
  Linearizable verdict = Linearizable::kYes;
  std::string key;        // the first key that is not linearizable (or inconclusive)
  uint64_t steps = 0;     // search steps over all keys
  size_t operations = 0;  // operations checked (after dropping failed ones)
};

LinearizabilityResult check_linearizable(const std::vector<Operation>& history,
                                         uint64_t steps_max_per_key = 2'000'000);

}  // namespace ringraft::sim
