// Strong integer types for the numbers that Raft and the reactor juggle, so that two
// uint64_t arguments (a term and an index, a node and a group) cannot be swapped silently.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace ringraft {

template <class Tag, class Rep>
class StrongInt {
 public:
  using rep_type = Rep;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep value) : value_(value) {}
  constexpr Rep value() const { return value_; }
  constexpr auto operator<=>(const StrongInt&) const = default;

 private:
  Rep value_ = 0;
};

using NodeId = StrongInt<struct NodeIdTag, uint64_t>;
using GroupId = StrongInt<struct GroupIdTag, uint64_t>;
using ShardId = StrongInt<struct ShardIdTag, uint32_t>;
using Term = StrongInt<struct TermTag, uint64_t>;
using LogIndex = StrongInt<struct LogIndexTag, uint64_t>;
// WAL sequence number: one per batch written, monotonically increasing per WAL.
using Seq = StrongInt<struct SeqTag, uint64_t>;

}  // namespace ringraft

template <class Tag, class Rep>
struct std::hash<ringraft::StrongInt<Tag, Rep>> {
  size_t operator()(ringraft::StrongInt<Tag, Rep> id) const noexcept {
    return std::hash<Rep>{}(id.value());
  }
};
