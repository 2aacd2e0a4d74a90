// The bounded key-value map (see kv_store.h).
#include "tools/kv/kv_store.h"

#include "common/assert.h"

namespace ringraft::kv {

KvStore::KvStore(const KvLimits& limits) : limits_(limits) {
  RR_ASSERT(limits_.keys_max > 0 && limits_.data_bytes_max > 0);
}

const std::string* KvStore::find(std::string_view key) const {
  const auto found = map_.find(key);
  return found == map_.end() ? nullptr : &found->second;
}

std::string* KvStore::find_for_update(std::string_view key) {
  const auto found = map_.find(key);
  return found == map_.end() ? nullptr : &found->second;
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
    map_.emplace(std::string(key), std::string(value));
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
  const auto found = map_.find(key);
  if (found == map_.end()) return false;
  RR_ASSERT(data_bytes_ >= entry_bytes(found->first, found->second));
  data_bytes_ -= entry_bytes(found->first, found->second);
  map_.erase(found);
  return true;
}

void KvStore::clear() {
  map_.clear();
  data_bytes_ = 0;
}

void KvStore::for_each(
    const std::function<void(const std::string&, const std::string&)>& visit) const {
  for (const auto& [key, value] : map_) visit(key, value);
}

void KvStore::check_invariants() const {
  uint64_t counted_bytes = 0;
  for (const auto& [key, value] : map_) counted_bytes += entry_bytes(key, value);
  RR_ASSERT(counted_bytes == data_bytes_);
  RR_ASSERT(key_count() <= limits_.keys_max);
  RR_ASSERT(data_bytes_ <= limits_.data_bytes_max);
}

}  // namespace ringraft::kv
