// KvStore: the key-value map a replica holds, with its memory bound.
//
// Partitions of a flat open-addressing table (flat_map.h), looked up by string_view. Its
// memory is bounded by keys_max and data_bytes_max, where data_bytes counts each key and value
// plus kKeyOverheadBytes for the node, the hash slot and two string headers: an estimate, but
// one that every replica computes the same way, so every replica refuses the same write. The
// limits must therefore be equal on all replicas of a group. Callers check room first
// (cost_of_set, has_room) and mutate only when it is there.
//
// Copies are copy-on-write, for snapshots: the map is split by key hash into kPartitions
// partitions, each held by a shared_ptr. Copying a store copies the pointers (O(partitions));
// afterwards either side clones a partition before its first change to it while the other still
// holds it (use_count > 1), so each sees the store as of the copy. A snapshot copies the store
// on the shard, between two applies, and serialises the copy in steps over later turns while
// the original keeps changing; the cost of a change during that time is at most one partition's
// clone (1/256 of the store), instead of a stall to serialise the whole store at once. A store
// and its copies belong to one thread: use_count is the only coordination.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tools/kv/flat_map.h"

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

  static constexpr size_t kPartitions = 256;

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

  uint64_t key_count() const { return key_count_; }
  uint64_t data_bytes() const { return data_bytes_; }
  const KvLimits& limits() const { return limits_; }

  // Visits every key and value, partition by partition.
  void for_each(const std::function<void(std::string_view, const std::string&)>& visit) const;

  // Where a walk over the store in steps stands (for_each_from). Valid while the store it walks
  // does not change: walk a copy.
  class Cursor;
  // Visits entries from `cursor` on, in for_each's order, until `visit` returns false (that entry
  // counts as visited) or the store ends; true once every entry has been visited.
  bool for_each_from(Cursor& cursor,
                     const std::function<bool(std::string_view, const std::string&)>& visit) const;

  // Partitions cloned because a copy held them (copy-on-write at work; see the header comment).
  uint64_t partitions_cloned() const { return partitions_cloned_; }

  // Recounts data_bytes and checks the bounds: O(keys), for tests and debug builds.
  void check_invariants() const;

 private:
  static uint64_t entry_bytes(std::string_view key, std::string_view value) {
    return key.size() + value.size() + kKeyOverheadBytes;
  }

  using Map = FlatStringMap;

  static uint64_t hash_of(std::string_view key) { return std::hash<std::string_view>{}(key); }
  // The partition of a key: the hash's top bits (the partition's slots use its low bits).
  static size_t partition_of(uint64_t hash) { return hash >> (64 - kPartitionBits); }
  const Map& map_of(uint64_t hash) const { return *partitions_[partition_of(hash)]; }
  // The partition of `hash`, cloned first if a copy of the store still holds it.
  Map& writable_map_of(uint64_t hash);

  static constexpr int kPartitionBits = 8;
  static_assert(size_t{1} << kPartitionBits == kPartitions);
  static_assert(sizeof(size_t) == 8, "partition_of takes the top bits of a 64-bit hash");

  KvLimits limits_;
  std::vector<std::shared_ptr<Map>> partitions_;
  uint64_t key_count_ = 0;
  uint64_t data_bytes_ = 0;
  uint64_t partitions_cloned_ = 0;

  friend class Cursor;
};

class KvStore::Cursor {
 public:
  Cursor() = default;

 private:
  friend class KvStore;
  size_t partition_ = 0;
  size_t slot_ = 0;  // in partition_
};

}  // namespace ringraft::kv
