#include "raft/core/entry.h"

namespace ringraft::raft {

std::optional<ConstByteSpan> contiguous_payloads(std::span<const Entry> entries) {
  const std::byte* begin = nullptr;
  const std::byte* end = nullptr;
  const EntryBlock* block = nullptr;
  for (const Entry& entry : entries) {
    if (entry.payload.empty()) continue;
    if (block == nullptr) {
      block = entry.payload.block();
      begin = entry.payload.data();
    } else if (entry.payload.block() != block || entry.payload.data() != end) {
      return std::nullopt;
    }
    end = entry.payload.data() + entry.payload.size();
  }
  if (block == nullptr) return std::nullopt;
  return ConstByteSpan(begin, static_cast<size_t>(end - begin));
}

}  // namespace ringraft::raft
