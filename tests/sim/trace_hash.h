// FNV-1a, 64 bit: the fingerprint of a simulation trace (same seed, same hash, byte for byte)
// and of entry payloads in the invariant checker. Not for anything adversarial.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringraft::sim {

class Fnv1a {
 public:
  void add(const void* bytes, size_t count) {
    const auto* p = static_cast<const unsigned char*>(bytes);
    for (size_t i = 0; i < count; ++i) hash_ = (hash_ ^ p[i]) * 0x100000001b3ULL;
  }
  void add(std::string_view text) { add(text.data(), text.size()); }
  void add(uint64_t value) { add(&value, sizeof value); }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace ringraft::sim
