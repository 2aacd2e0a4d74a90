// The bounded key-value map (see kv_store.h).
#include "tools/kv/kv_store.h"

#include "common/assert.h"

namespace ringraft::kv {

KvStore::KvStore(const KvLimits& limits) : limits_(limits) {
  RR_ASSERT(limits_.keys_max > 0 && limits_.data_bytes_max > 0);
  partitions_.reserve(kPartitions);
  for (size_t i = 0; i < kPartitions; ++i) partitions_.push_back(std::make_shared<Map>());
}

KvStore::Map& KvStore::writable_map_of(uint64_t hash) {
  std::shared_ptr<Map>& partition = partitions_[partition_of(hash)];
  if (partition.use_count() > 1) {  // a copy (a snapshot being written) holds it: keep its view
    partition = std::make_shared<Map>(*partition);
    ++partitions_cloned_;
  }
  return *partition;
}

const std::string* KvStore::find(std::string_view key) const {
  const uint64_t hash = hash_of(key);
  return map_of(hash).find(key, hash);
}

std::string* KvStore::find_for_update(std::string_view key) {
  const uint64_t hash = hash_of(key);
  return writable_map_of(hash).find(key, hash);
}

SetCost KvStore::cost_of_set(std::string_view key, std::string_view value) const {
  return cost_of_set(find(key), key, value);
}

SetCost KvStore::cost_of_set(const std::string* old, std::string_view key,
                             std::string_view value) const {
  SetCost cost;
  if (old == nullptr) {
    cost.new_keys = 1;
    cost.added_bytes = entry_bytes(key, value);
  } else if (value.size() > old->size()) {
    cost.added_bytes = value.size() - old->size();
  }
  return cost;
}

bool KvStore::has_room(const SetCost& cost) const {
  return cost.new_keys <= limits_.keys_max - key_count() &&
         cost.added_bytes <= limits_.data_bytes_max - data_bytes_;
}

void KvStore::set(std::string_view key, std::string_view value) {
  set_found(find_for_update(key), key, value);
}

void KvStore::set_found(std::string* old, std::string_view key, std::string_view value) {
  if (old == nullptr) {
    const uint64_t hash = hash_of(key);
    writable_map_of(hash).insert(key, hash, value);
    ++key_count_;
    data_bytes_ += entry_bytes(key, value);
  } else {
#ifndef NDEBUG
    RR_ASSERT(old == find(key));  // a second lookup: debug builds only
#endif
    data_bytes_ = data_bytes_ - old->size() + value.size();
    old->assign(value);
  }
  // Over the bound only when the caller skipped has_room(): a broken precondition.
  RR_ASSERT(key_count() <= limits_.keys_max);
}

bool KvStore::erase(std::string_view key) {
  const uint64_t hash = hash_of(key);
  const std::string* value = map_of(hash).find(key, hash);
  if (value == nullptr) return false;  // no clone for a miss
  RR_ASSERT(data_bytes_ >= entry_bytes(key, *value));
  data_bytes_ -= entry_bytes(key, *value);
  const bool erased = writable_map_of(hash).erase(key, hash);
  RR_ASSERT(erased);
  --key_count_;
  return true;
}

void KvStore::clear() {
  for (std::shared_ptr<Map>& partition : partitions_) partition = std::make_shared<Map>();
  key_count_ = 0;
  data_bytes_ = 0;
}

void KvStore::for_each(
    const std::function<void(std::string_view, const std::string&)>& visit) const {
  for (const std::shared_ptr<Map>& partition : partitions_) {
    size_t slot = 0;
    partition->for_each_from(&slot, [&](std::string_view key, const std::string& value) {
      visit(key, value);
      return true;
    });
  }
}

bool KvStore::for_each_from(
    Cursor& cursor, const std::function<bool(std::string_view, const std::string&)>& visit) const {
  while (cursor.partition_ < partitions_.size()) {
    if (!partitions_[cursor.partition_]->for_each_from(&cursor.slot_, visit)) return false;
    ++cursor.partition_;
    cursor.slot_ = 0;
  }
  return true;
}

void KvStore::check_invariants() const {
  uint64_t counted_bytes = 0;
  uint64_t counted_keys = 0;
  for_each([&](std::string_view key, const std::string& value) {
    counted_bytes += entry_bytes(key, value);
    ++counted_keys;
  });
  RR_ASSERT(counted_bytes == data_bytes_);
  RR_ASSERT(counted_keys == key_count_);
  RR_ASSERT(key_count() <= limits_.keys_max);
  RR_ASSERT(data_bytes_ <= limits_.data_bytes_max);
}

}  // namespace ringraft::kv
