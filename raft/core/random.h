// A tiny deterministic PRNG (SplitMix64) for randomized election timeouts. Not the standard
// library's distributions: their output differs between libstdc++ and libc++, and a seed must
// replay identically with either compiler.
#pragma once

#include <cstdint>

#include "common/assert.h"

namespace ringraft::raft {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform enough in [0, bound) for timeouts (bound is tiny next to 2^64).
  uint64_t below(uint64_t bound) {
    RR_ASSERT(bound > 0);
    return next() % bound;
  }

 private:
  uint64_t state_;
};

}  // namespace ringraft::raft
