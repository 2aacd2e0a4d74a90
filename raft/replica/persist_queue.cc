#include "raft/replica/persist_queue.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/assert.h"
#include "raft/replica/replica.h"
#include "wal/batch_format.h"

namespace ringraft::replica {

void PersistQueue::push(Replica& replica, raft::Ready ready) {
  PendingPersist& pending = unwritten_.emplace_back();
  pending.replica = &replica;
  pending.ready = std::move(ready);
}

Result<void> PersistQueue::write(wal::Wal& wal) {
  while (!unwritten_.empty()) {
    Result<bool> done = write_one(wal, unwritten_.front());
    if (!done) return done.error();
    if (!done.value()) return {};  // the batch is full: the rest goes in the next one
    RR_ASSERT(unwritten_.front().seq <= last_assigned_seq_);
    written_.push_back(std::move(unwritten_.front()));
    unwritten_.pop_front();
  }
  return {};
}

bool PersistQueue::has_unwritten(const Replica& replica) const {
  return std::any_of(unwritten_.begin(), unwritten_.end(),
                     [&replica](const PendingPersist& p) { return p.replica == &replica; });
}

bool PersistQueue::release(Seq durable_seq, PendingPersist& out) {
  if (written_.empty() || written_.front().seq > durable_seq) return false;
  out = std::move(written_.front());
  written_.pop_front();
  return true;
}

size_t PersistQueue::record_bytes(const PendingPersist& pending, bool truncate) {
  size_t total_bytes = truncate ? wal::kTruncateRecordBytes : 0;
  if (pending.ready.hard_state.has_value()) total_bytes += wal::kHardStateRecordBytes;
  const std::vector<raft::Entry>& entries = pending.ready.entries;
  size_t begin = 0;
  while (begin < entries.size()) {
    size_t end = begin;
    uint64_t payload_bytes = 0;
    while (end < entries.size() && entries[end].term == entries[begin].term) {
      payload_bytes += entries[end].payload.size();
      ++end;
    }
    total_bytes += wal::entries_record_bytes(end - begin, payload_bytes);
    begin = end;
  }
  return total_bytes;
}

Result<bool> PersistQueue::write_one(wal::Wal& wal, PendingPersist& pending) {
  Replica& replica = *pending.replica;
  const raft::Ready& ready = pending.ready;
  if (!pending.started) {
    const bool truncate =
        !ready.entries.empty() && ready.entries.front().index <= replica.written_index();
    const size_t total_bytes = record_bytes(pending, truncate);
    // Keep a Ready in one batch whenever a whole batch can hold it.
    if (!wal.batch_fits(total_bytes) && total_bytes <= wal.batch_record_capacity_bytes()) {
      return false;
    }
    if (truncate) {
      if (!wal.batch_fits(wal::kTruncateRecordBytes)) return false;
      const LogIndex from = ready.entries.front().index;
      Result<Seq> seq = wal.append_truncate(replica.group(), from);
      if (!seq) return seq.error();
      pending.seq = seq.value();
      replica.set_written_index(LogIndex{from.value() - 1});
    }
    pending.started = true;
    if (!ready.hard_state.has_value() && ready.entries.empty() && !truncate) {
      pending.seq = last_assigned_seq_;  // held-back messages only: after what went before
      return true;
    }
  }
  Result<bool> entries_done = write_entries(wal, pending);
  if (!entries_done || !entries_done.value()) return entries_done;
  if (ready.hard_state.has_value() && !pending.hard_state_written) {
    if (!wal.batch_fits(wal::kHardStateRecordBytes)) return false;
    const raft::HardState& hs = *ready.hard_state;
    Result<Seq> seq = wal.append_hard_state(replica.group(), hs.term, hs.vote, hs.commit);
    if (!seq) return seq.error();
    pending.seq = seq.value();
    pending.hard_state_written = true;
  }
  last_assigned_seq_ = std::max(last_assigned_seq_, pending.seq);
  return true;
}

Result<bool> PersistQueue::write_entries(wal::Wal& wal, PendingPersist& pending) {
  Replica& replica = *pending.replica;
  const std::vector<raft::Entry>& entries = pending.ready.entries;
  while (pending.entries_written < entries.size()) {
    // The longest prefix of the next term run that fits this batch.
    const size_t begin = pending.entries_written;
    const Term term = entries[begin].term;
    size_t end = begin;
    uint64_t payload_bytes = 0;
    while (end < entries.size() && entries[end].term == term &&
           wal.batch_fits(wal::entries_record_bytes(end - begin + 1,
                                                    payload_bytes + entries[end].payload.size()))) {
      payload_bytes += entries[end].payload.size();
      ++end;
    }
    if (end == begin) {
      const size_t one_bytes = wal::entries_record_bytes(1, entries[begin].payload.size());
      if (one_bytes > wal.batch_record_capacity_bytes()) {
        return Error(ErrorCode::kInvalidInput,
                     "group " + std::to_string(replica.group().value()) + ": entry " +
                         std::to_string(entries[begin].index.value()) + " of " +
                         std::to_string(entries[begin].payload.size()) +
                         " bytes can never fit a WAL batch; raise wal.batch_bytes_max");
      }
      return false;
    }
    const std::span<const raft::Entry> run(entries.data() + begin, end - begin);
    lengths_scratch_.clear();
    for (const raft::Entry& entry : run) {
      lengths_scratch_.push_back(static_cast<uint32_t>(entry.payload.size()));
    }
    // A batch as proposed or received lies back to back in one block: the WAL copies it from
    // there in one piece. Otherwise (entries of several blocks) gather them first.
    ConstByteSpan payload;
    if (const std::optional<ConstByteSpan> contiguous = raft::contiguous_payloads(run)) {
      payload = *contiguous;
    } else {
      payload_scratch_.clear();
      for (const raft::Entry& entry : run) {
        payload_scratch_.insert(payload_scratch_.end(), entry.payload.begin(), entry.payload.end());
      }
      payload = payload_scratch_;
    }
    Result<Seq> seq =
        wal.append_entries(replica.group(), term, entries[begin].index, lengths_scratch_, payload);
    if (!seq) return seq.error();
    pending.seq = seq.value();
    pending.entries_written = end;
    replica.set_written_index(entries[end - 1].index);
  }
  return true;
}

}  // namespace ringraft::replica
