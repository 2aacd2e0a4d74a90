#include "wal/entry_batch.h"

#include <algorithm>
#include <cstring>

#include "common/assert.h"

namespace ringraft::wal {

uint32_t EntryBatch::entry_length_bytes(uint32_t entry) const {
  RR_ASSERT(entry < entry_count && block.size() >= size_t{entry_count} * 4);
  uint32_t length = 0;
  std::memcpy(&length, block.data() + size_t{entry} * 4, sizeof(length));
  return length;
}

ConstByteSpan EntryBatch::payload() const {
  RR_ASSERT(block.size() >= size_t{entry_count} * 4);
  return ConstByteSpan(block).subspan(size_t{entry_count} * 4);
}

ConstByteSpan EntryBatch::entry(uint32_t entry) const {
  RR_ASSERT(entry < entry_count);
  size_t offset = 0;
  for (uint32_t i = 0; i < entry; i++) offset += entry_length_bytes(i);
  return payload().subspan(offset, entry_length_bytes(entry));
}

Term EntryBatch::term_at(LogIndex index) const {
  RR_ASSERT(entry_count > 0 && index >= first_index && index <= last_index());
  const std::optional<Term> term = term_in_runs(term_runs, index);
  RR_ASSERT_MSG(term.has_value(), "an EntryBatch's first term run covers its first entry");
  return *term;
}

std::optional<Term> term_in_runs(std::span<const TermRun> runs, LogIndex index) {
  // The last run that starts at or before `index`.
  auto after = std::upper_bound(runs.begin(), runs.end(), index,
                                [](LogIndex i, const TermRun& run) { return i < run.first_index; });
  if (after == runs.begin()) return std::nullopt;
  return std::prev(after)->term;
}

}  // namespace ringraft::wal
