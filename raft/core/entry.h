// A log entry: a term, an index and an opaque payload. The core never looks inside the payload.
//
// The payload is a PayloadRef (entry_block.h): a slice of a block shared by the entries of one
// batch, so that copying an Entry (into a Ready, an Append, committed_entries) copies no bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/types.h"
#include "raft/core/entry_block.h"

namespace ringraft::raft {

// Bytes owned by one caller: a proposal's payload before the core shares it, snapshot data.
using Payload = std::vector<std::byte>;

struct Entry {
  Term term;
  LogIndex index;
  PayloadRef payload;

  // What batching and inflight limits count: the payload only (as etcd-io/raft does), so that
  // limits mean the same thing whatever the wire or WAL encoding adds per entry.
  uint64_t size_bytes() const { return payload.size(); }

  bool operator==(const Entry&) const = default;
};

// The payloads of `entries` as one span when they lie back to back in one block (a batch as
// proposed, or as received in one Append): what an encoder can copy in one piece. nullopt
// when they do not (or when every payload is empty: then there is nothing to copy).
std::optional<ConstByteSpan> contiguous_payloads(std::span<const Entry> entries);

}  // namespace ringraft::raft
