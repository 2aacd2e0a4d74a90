// A log entry: a term, an index and an opaque payload. The core never looks inside the payload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/types.h"

namespace ringraft::raft {

using Payload = std::vector<std::byte>;

struct Entry {
  Term term;
  LogIndex index;
  Payload payload;

  // What batching and inflight limits count: the payload only (as etcd-io/raft does), so that
  // limits mean the same thing whatever the wire or WAL encoding adds per entry.
  uint64_t size_bytes() const { return payload.size(); }

  bool operator==(const Entry&) const = default;
};

}  // namespace ringraft::raft
