// KvStore: the key-value map a replica holds, with its memory bound.
//
// A std::unordered_map of owned strings, looked up by string_view (no key copy on reads). Its
// memory is bounded by keys_max and data_bytes_max, where data_bytes counts each key and value
// plus kKeyOverheadBytes for the node, the hash slot and two string headers: an estimate, but
// one that every replica computes the same way, so every replica refuses the same write. The
// limits must therefore be equal on all replicas of a group. Callers check room first
// (cost_of_set, has_room) and mutate only when it is there.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ringraft::kv {

struct KvLimits {
  uint64_t keys_max = uint64_t{16} * 1024 * 1024;
  uint64_t data_bytes_max = uint64_t{1} << 30;  // 1 GiB, overhead included
  uint64_t value_bytes_max =
      uint64_t{64} * 1024 * 1024;  // one key or value (RespLimits::bulk_bytes_max)
};

// What a set adds to the store's accounting.
struct SetCost {
  uint64_t new_keys = 0;
  uint64_t added_bytes = 0;  // 0 when the value shrinks
};

class KvStore {
 public:
  static constexpr uint64_t kKeyOverheadBytes = 80;

  explicit KvStore(const KvLimits& limits = KvLimits{});

  const std::string* find(std::string_view key) const;
  SetCost cost_of_set(std::string_view key, std::string_view value) const;
  // Whether the store stays within its limits after adding `cost`.
  bool has_room(const SetCost& cost) const;

  // Precondition: has_room(cost_of_set(key, value)), or the value does not grow the store.
  void set(std::string_view key, std::string_view value);

  // The same steps for a caller that already looked the key up (a SET: one hash lookup per
  // write instead of three; each is a cache miss on a large store). `old` is what
  // find_for_update(key) returned, valid until the store changes.
  std::string* find_for_update(std::string_view key);
  SetCost cost_of_set(const std::string* old, std::string_view key, std::string_view value) const;
  // Precondition as set(); `old` as above.
  void set_found(std::string* old, std::string_view key, std::string_view value);
  bool erase(std::string_view key);
  void clear();

  uint64_t key_count() const { return map_.size(); }
  uint64_t data_bytes() const { return data_bytes_; }
  const KvLimits& limits() const { return limits_; }

  // Visits every key and value, in the map's order.
  void for_each(const std::function<void(const std::string&, const std::string&)>& visit) const;

  // Recounts data_bytes and checks the bounds: O(keys), for tests and debug builds.
  void check_invariants() const;

 private:
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
  };
  static uint64_t entry_bytes(std::string_view key, std::string_view value) {
    return key.size() + value.size() + kKeyOverheadBytes;
  }

  KvLimits limits_;
  std::unordered_map<std::string, std::string, KeyHash, std::equal_to<>> map_;
  uint64_t data_bytes_ = 0;
};

}  // namespace ringraft::kv
