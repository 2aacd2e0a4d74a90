// Membership changes, one server at a time (Raft thesis §4.1): add a learner, promote a learner
// to voter, remove a member (voter or learner, the leader included).
//
// A change travels as an ordinary log entry whose payload starts with a reserved prefix
// (kMembershipPrefix), so the WAL and the wire keep treating payloads as opaque bytes. The
// entry carries the change and the whole configuration that results from it. A node adopts a
// configuration as soon as the entry is in its log (committed or not, thesis §4.1), and goes
// back to the previous one if a truncation removes the entry; the core keeps the
// configurations of its log since the last compaction for that (MembershipHistory).
//
// Payloads proposed by callers must not start with the prefix: Core::propose() refuses such a
// batch with ReservedPayload (core.h), so no client can forge a configuration.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/types.h"
#include "raft/core/entry.h"

namespace ringraft::raft {

// The first bytes of every membership entry's payload. 0xFF then 0x00 rarely open a user's
// encoding by accident; the rest names the format and its version.
inline constexpr std::array<std::byte, 8> kMembershipPrefix = {
    std::byte{0xFF}, std::byte{0x00}, std::byte{'r'}, std::byte{'r'},
    std::byte{'c'},  std::byte{'f'},  std::byte{'g'}, std::byte{0x01}};

enum class MembershipOp : uint8_t { kAddLearner = 1, kPromote = 2, kRemove = 3 };

const char* membership_op_name(MembershipOp op);

struct MembershipChange {
  MembershipOp op = MembershipOp::kAddLearner;
  NodeId node{};
  bool operator==(const MembershipChange&) const = default;
};

// A configuration: the voters and the learners, disjoint.
struct Membership {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners{};

  bool is_voter(NodeId node) const;
  bool is_learner(NodeId node) const;
  bool is_member(NodeId node) const { return is_voter(node) || is_learner(node); }
  bool operator==(const Membership&) const = default;
};

// What became of a change_membership() request (Ready::membership_changes).
enum class ChangeFate : uint8_t {
  kCommitted,  // the entry at `index` committed: the configuration holds for good
  kDropped,    // the entry was overwritten, or leadership was lost before it was appended
  kTimedOut,   // promotion: the learner did not catch up in time; nothing was appended
  kUnknown,    // a snapshot covered the entry before this node could tell (ask status)
};

const char* change_fate_name(ChangeFate fate);

struct ChangeOutcome {
  MembershipChange change;
  ChangeFate fate = ChangeFate::kDropped;
  LogIndex index{};  // the change's entry (0 if none was appended)
  bool operator==(const ChangeOutcome&) const = default;
};

// Whether a payload is a membership entry (it starts with kMembershipPrefix).
bool is_membership_payload(std::span<const std::byte> payload);
inline bool is_membership_entry(const Entry& entry) {
  return is_membership_payload({entry.payload.data(), entry.payload.size()});
}

// The entry's payload: the change and the configuration it leads to.
Payload encode_membership(const MembershipChange& change, const Membership& result);
struct DecodedMembership {
  MembershipChange change;
  Membership result;
};
// nullopt if the payload is not a well-formed membership entry (a malformed one is ignored:
// the configuration stays).
std::optional<DecodedMembership> decode_membership(std::span<const std::byte> payload);

// `current` with `change` applied, or why the change does not apply to it.
struct AppliedChange {
  std::optional<Membership> result;
  const char* refusal = nullptr;
};
AppliedChange apply_change(const Membership& current, const MembershipChange& change);

std::string describe(const Membership& membership);

// The configurations of a log: a base (the one in effect at the compaction point) and one
// record per membership entry after it, in index order. The configuration in effect is the
// last record's; a truncation drops the records it removes.
class MembershipHistory {
 public:
  struct Record {
    LogIndex index;  // 0 and the snapshot index: the base
    Term term;
    Membership membership;
  };

  explicit MembershipHistory(Membership base, LogIndex base_index = LogIndex{0});

  const Membership& current() const { return records_.back().membership; }
  // Index of the entry that set the current configuration (the base's index if none).
  LogIndex current_index() const { return records_.back().index; }
  // The configuration in effect at `index` (>= the base's index).
  const Membership& at(LogIndex index) const;

  // Whether `node` is a member of any recorded configuration (an uncommitted removal may still
  // be rolled back, so its node is still heard).
  bool knows(NodeId node) const;

  // Entry (index, term) carrying `membership` is in the log, after every recorded one.
  void push(LogIndex index, Term term, Membership membership);
  // Drops the records of entries at or after `index` whose term in the log is no longer the
  // recorded one (the caller passes a lookup); returns whether any went.
  template <class TermAt>
  bool drop_overwritten(LogIndex from, const TermAt& term_at);
  // Entries up to `index` were compacted: the record in effect there becomes the base.
  void compact_to(LogIndex index);
  // A snapshot at `index` replaced the whole log.
  void reset(Membership base, LogIndex index);

  void check_invariants() const;

 private:
  std::vector<Record> records_;  // never empty
};

template <class TermAt>
bool MembershipHistory::drop_overwritten(LogIndex from, const TermAt& term_at) {
  bool dropped = false;
  while (records_.size() > 1 && records_.back().index >= from &&
         term_at(records_.back().index) != std::optional<Term>(records_.back().term)) {
    records_.pop_back();
    dropped = true;
  }
  return dropped;
}

}  // namespace ringraft::raft
