// FlatStringMap: string keys to std::string values in one open-addressing table; the key-value
// store's partitions (kv_store.h).
//
// Why not std::unordered_map: a lookup there walks bucket slot -> previous node -> node -> the
// key's heap bytes, four dependent cache misses on a store larger than the cache, and the
// followers' profile had 22-32 % of their CPU in that walk. Here a lookup reads one slot
// (the hash and a pointer, 16 bytes, neighbours probed in the same cache lines) and one entry
// whose key lies inline after its value's header: two misses, and a key compared only when the
// full 64-bit hash matched.
//
// Linear probing in a power-of-two table kept under 3/4 full; erase shifts the following run
// back (no tombstones), so probes stay short under any mix of sets and deletes. The caller
// passes the key's hash (the store hashes each key once and takes its partition from the top
// bits; the slot comes from the low bits). Copies are deep.
#pragma once

#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/assert.h"

namespace ringraft::kv {

class FlatStringMap {
 public:
  FlatStringMap() : slots_(kInitialSlots) {}
  FlatStringMap(const FlatStringMap& other) : slots_(other.slots_.size()), size_(other.size_) {
    for (size_t i = 0; i < slots_.size(); ++i) {
      const Slot& from = other.slots_[i];
      if (from.entry != nullptr) {
        slots_[i] = Slot{from.hash, Entry::create(from.entry->key(), from.entry->value)};
      }
    }
  }
  FlatStringMap& operator=(const FlatStringMap&) = delete;
  FlatStringMap(FlatStringMap&& other) noexcept
      : slots_(std::exchange(other.slots_, std::vector<Slot>(kInitialSlots))),
        size_(std::exchange(other.size_, 0)) {}
  FlatStringMap& operator=(FlatStringMap&&) = delete;
  ~FlatStringMap() {
    for (Slot& slot : slots_) {
      if (slot.entry != nullptr) Entry::destroy(slot.entry);
    }
  }

  size_t size() const { return size_; }

  const std::string* find(std::string_view key, uint64_t hash) const {
    const size_t at = position(key, hash);
    return slots_[at].entry == nullptr ? nullptr : &slots_[at].entry->value;
  }
  std::string* find(std::string_view key, uint64_t hash) {
    const size_t at = position(key, hash);
    return slots_[at].entry == nullptr ? nullptr : &slots_[at].entry->value;
  }
  // Precondition: `key` is not in the map.
  void insert(std::string_view key, uint64_t hash, std::string_view value) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    const size_t at = position(key, hash);
    RR_ASSERT(slots_[at].entry == nullptr);
    slots_[at] = Slot{hash, Entry::create(key, value)};
    ++size_;
  }
  bool erase(std::string_view key, uint64_t hash) {
    size_t hole = position(key, hash);
    if (slots_[hole].entry == nullptr) return false;
    Entry::destroy(slots_[hole].entry);
    slots_[hole].entry = nullptr;
    --size_;
    // Shift back every entry of the run after the hole whose home is not between the hole
    // and itself: a later probe for it must not stop at the hole.
    const size_t mask = slots_.size() - 1;
    for (size_t next = (hole + 1) & mask; slots_[next].entry != nullptr; next = (next + 1) & mask) {
      const size_t home = slots_[next].hash & mask;
      const bool home_after_hole = ((next - home) & mask) < ((next - hole) & mask);
      if (home_after_hole) continue;
      slots_[hole] = slots_[next];
      slots_[next].entry = nullptr;
      hole = next;
    }
    return true;
  }

  // Visits entries from slot `*cursor` on until `visit(key, value)` returns false (that entry
  // counts as visited); true once every slot has been visited. *cursor = 0 starts.
  template <class Visit>
  bool for_each_from(size_t* cursor, Visit&& visit) const {
    while (*cursor < slots_.size()) {
      const Entry* entry = slots_[(*cursor)++].entry;
      if (entry != nullptr && !visit(entry->key(), std::as_const(entry->value))) return false;
    }
    return true;
  }

 private:
  // One allocation: the value's header, then the key's bytes.
  struct Entry {
    std::string value;
    uint32_t key_bytes;

    std::string_view key() const {
      return std::string_view(reinterpret_cast<const char*>(this + 1), key_bytes);
    }
    static Entry* create(std::string_view key, std::string_view value) {
      RR_ASSERT(key.size() <= UINT32_MAX);
      void* memory = ::operator new(sizeof(Entry) + key.size());
      Entry* entry = new (memory) Entry{std::string(value), static_cast<uint32_t>(key.size())};
      if (!key.empty()) std::memcpy(static_cast<char*>(memory) + sizeof(Entry), key.data(), key.size());
      return entry;
    }
    static void destroy(Entry* entry) {
      entry->~Entry();
      ::operator delete(entry);
    }
  };
  struct Slot {
    uint64_t hash = 0;
    Entry* entry = nullptr;  // null: empty
  };
  static constexpr size_t kInitialSlots = 16;

  // The slot holding `key`, or the empty slot where it would go.
  size_t position(std::string_view key, uint64_t hash) const {
    const size_t mask = slots_.size() - 1;
    for (size_t at = hash & mask;; at = (at + 1) & mask) {
      const Slot& slot = slots_[at];
      if (slot.entry == nullptr) return at;
      if (slot.hash == hash && slot.entry->key() == key) return at;
    }
  }
  void grow() {
    std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(slots_.size() * 2));
    const size_t mask = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.entry == nullptr) continue;
      size_t at = slot.hash & mask;
      while (slots_[at].entry != nullptr) at = (at + 1) & mask;
      slots_[at] = slot;
    }
  }

  std::vector<Slot> slots_;  // a power of two
  size_t size_ = 0;
};

}  // namespace ringraft::kv
