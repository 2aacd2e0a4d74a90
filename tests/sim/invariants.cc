// InvariantChecker: what each property compares, and when.
#include "tests/sim/invariants.h"

#include <utility>

#include "raft/core/describe.h"
#include "tests/sim/trace_hash.h"

namespace ringraft::sim {

using raft::Core;
using raft::Entry;

uint64_t payload_hash(ConstByteSpan payload) {
  Fnv1a hash;
  hash.add(payload.data(), payload.size());
  return hash.value();
}

namespace {

std::string at_index(uint64_t index) {
  return " at index " + std::to_string(index);
}

}  // namespace

InvariantChecker::InvariantChecker(size_t node_count) : nodes_(node_count) {}

void InvariantChecker::fail(std::string what) {
  if (!violation_.has_value()) violation_ = std::move(what);
}

void InvariantChecker::observe(const Core& core) {
  if (violation_.has_value()) return;
  NodeView& view = nodes_.at(core.id().value() - 1);
  if (core.role() == raft::Role::kLeader) {
    const auto [it, inserted] = leaders_.emplace(core.term(), core.id());
    if (it->second != core.id()) {
      fail("election safety: nodes " + std::to_string(it->second.value()) + " and " +
           std::to_string(core.id().value()) + " both lead term " +
           std::to_string(core.term().value()));
      return;
    }
    if (inserted) check_leader_completeness(core);
  }
  if (core.log().committed() < view.commit) {
    fail("commit monotonic: " + describe(core) + " after commit " +
         std::to_string(view.commit.value()));
    return;
  }
  view.commit = core.log().committed();
  check_committed_prefix(core, view);
}

// The entries in (verified, committed] against the committed record; a leader extends it.
void InvariantChecker::check_committed_prefix(const Core& core, NodeView& view) {
  const bool leader = core.role() == raft::Role::kLeader;
  for (uint64_t i = view.verified.value() + 1; i <= core.log().committed().value(); ++i) {
    const Entry& entry = core.log().view(LogIndex{i}, LogIndex{i})[0];
    const uint64_t hash = payload_hash(entry.payload);
    if (i > committed_.size()) {
      if (!leader) {
        fail("committed entries: " + describe(core) + " counts" + at_index(i) +
             " as committed, but no leader committed it");
        return;
      }
      committed_.push_back(Committed{entry.term, hash, core.term()});
      continue;
    }
    const Committed& known = committed_[i - 1];
    if (known.term != entry.term || known.payload_hash != hash) {
      fail("committed entries: " + describe(core) + " holds term " +
           std::to_string(entry.term.value()) + at_index(i) + ", but term " +
           std::to_string(known.term.value()) + " was committed there");
      return;
    }
  }
  view.verified = core.log().committed();
}

void InvariantChecker::on_restart(const Core& core) {
  NodeView& view = nodes_.at(core.id().value() - 1);
  view.commit = core.log().committed();
  view.verified = LogIndex{0};
  observe(core);
}

void InvariantChecker::on_apply(NodeId node, const Entry& entry) {
  if (violation_.has_value()) return;
  const uint64_t i = entry.index.value();
  if (i > committed_.size() || committed_[i - 1].term != entry.term ||
      committed_[i - 1].payload_hash != payload_hash(entry.payload)) {
    fail("state-machine safety: node " + std::to_string(node.value()) + " applies term " +
         std::to_string(entry.term.value()) + at_index(i) +
         ", which is not the entry committed there");
  }
}

void InvariantChecker::on_acknowledged(const Entry& entry) {
  acknowledged_.push_back(entry);
}

void InvariantChecker::check_sent(const SimDisk& disk, const raft::Message& message) {
  if (violation_.has_value()) return;
  const raft::HardState& durable = disk.durable_hard_state();
  bool persisted = true;
  switch (message.type) {
    case raft::MessageType::kVoteRequest:
      persisted = durable.term == message.term && durable.vote == message.from;
      break;
    case raft::MessageType::kVoteResponse:
      persisted = message.reject || (durable.term == message.term && durable.vote == message.to);
      break;
    case raft::MessageType::kAppendResponse:
      persisted = message.reject || (durable.term >= message.term &&
                                     disk.durable_entries().size() >= message.log_index.value());
      break;
    default:
      break;
  }
  if (!persisted) {
    fail("persisted before sent: " + describe(message) + " left while node " +
         std::to_string(message.from.value()) + "'s disk holds term " +
         std::to_string(durable.term.value()) + " vote " + std::to_string(durable.vote.value()) +
         " and " + std::to_string(disk.durable_entries().size()) + " entries");
  }
}

void InvariantChecker::check_leader_completeness(const Core& leader) {
  if (violation_.has_value()) return;
  for (uint64_t i = 1; i <= committed_.size(); ++i) {
    const Committed& known = committed_[i - 1];
    if (known.commit_term >= leader.term()) continue;
    const std::optional<Term> term = leader.log().term_at(LogIndex{i});
    const bool holds =
        term.has_value() && *term == known.term &&
        payload_hash(leader.log().view(LogIndex{i}, LogIndex{i})[0].payload) == known.payload_hash;
    if (!holds) {
      fail("leader completeness: " + describe(leader) + " lacks the entry committed" + at_index(i) +
           " in term " + std::to_string(known.commit_term.value()));
      return;
    }
  }
}

void InvariantChecker::check_log_matching(const std::vector<const Core*>& cores) {
  for (size_t a = 0; a < cores.size() && !violation_.has_value(); ++a) {
    for (size_t b = a + 1; b < cores.size() && !violation_.has_value(); ++b) {
      if (cores[a] != nullptr && cores[b] != nullptr) check_pair(*cores[a], *cores[b]);
    }
  }
}

// The highest index where both logs hold the same term: everything up to it must be equal
// (then so is everything up to any lower index of equal terms).
void InvariantChecker::check_pair(const Core& a, const Core& b) {
  const raft::RaftLog& log_a = a.log();
  const raft::RaftLog& log_b = b.log();
  for (uint64_t i = std::min(log_a.last_index(), log_b.last_index()).value(); i >= 1; --i) {
    if (log_a.term_of(LogIndex{i}) != log_b.term_of(LogIndex{i})) continue;
    const auto view_a = log_a.view(LogIndex{1}, LogIndex{i});
    const auto view_b = log_b.view(LogIndex{1}, LogIndex{i});
    for (uint64_t j = 0; j < i; ++j) {
      if (view_a[j] == view_b[j]) continue;
      fail("log matching: nodes " + std::to_string(a.id().value()) + " and " +
           std::to_string(b.id().value()) + " agree on the term" + at_index(i) + " but differ" +
           at_index(j + 1));
      return;
    }
    return;
  }
}

void InvariantChecker::check_acknowledged_durable(const std::vector<const SimDisk*>& disks) {
  const size_t quorum = disks.size() / 2 + 1;
  for (const Entry& entry : acknowledged_) {
    if (violation_.has_value()) return;
    size_t copies = 0;
    for (const SimDisk* disk : disks) {
      const std::vector<Entry>& entries = disk->durable_entries();
      const uint64_t i = entry.index.value();
      if (i <= entries.size() && entries[i - 1] == entry) ++copies;
    }
    if (copies < quorum) {
      fail("acknowledged write lost: the entry acknowledged" + at_index(entry.index.value()) +
           " (term " + std::to_string(entry.term.value()) + ") is durable on " +
           std::to_string(copies) + " of " + std::to_string(disks.size()) + " disks");
    }
  }
}

}  // namespace ringraft::sim
