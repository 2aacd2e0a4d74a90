// Membership entries: their encoding, the rules of a one-server change, and the history of
// configurations in a log. The Core's side (requests, catch-up, adoption) is in
// membership_core.cc.
#include "raft/core/membership.h"

#include <algorithm>
#include <cstring>

#include "common/assert.h"

namespace ringraft::raft {
namespace {

// Payload layout after the prefix, integers little-endian:
//   op u8 | node u64 | voter count u32 | voters u64... | learner count u32 | learners u64...
constexpr size_t kHeaderBytes = kMembershipPrefix.size() + 1 + 8 + 4;

void put_u64(std::vector<std::byte>& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

void put_u32(std::vector<std::byte>& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

uint64_t get_u64(std::span<const std::byte> in, size_t at) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= static_cast<uint64_t>(in[at + i]) << (8 * i);
  return value;
}

uint32_t get_u32(std::span<const std::byte> in, size_t at) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= static_cast<uint32_t>(in[at + i]) << (8 * i);
  return value;
}

bool listed(const std::vector<NodeId>& ids, NodeId node) {
  return std::find(ids.begin(), ids.end(), node) != ids.end();
}

// Reads `count` ids at `at`; false if they do not fit, or one is 0 or repeated.
bool get_ids(std::span<const std::byte> in, size_t& at, uint32_t count, std::vector<NodeId>& out) {
  if (count > (in.size() - at) / 8) return false;
  for (uint32_t i = 0; i < count; ++i, at += 8) {
    const NodeId id{get_u64(in, at)};
    if (id == NodeId{0} || listed(out, id)) return false;
    out.push_back(id);
  }
  return true;
}

}  // namespace

const char* membership_op_name(MembershipOp op) {
  switch (op) {
    case MembershipOp::kAddLearner:
      return "add-learner";
    case MembershipOp::kPromote:
      return "promote";
    case MembershipOp::kRemove:
      return "remove";
  }
  return "unknown-op";
}

const char* change_fate_name(ChangeFate fate) {
  switch (fate) {
    case ChangeFate::kCommitted:
      return "committed";
    case ChangeFate::kDropped:
      return "dropped";
    case ChangeFate::kTimedOut:
      return "timed-out";
    case ChangeFate::kUnknown:
      return "unknown";
  }
  return "unknown-fate";
}

bool Membership::is_voter(NodeId node) const {
  return listed(voters, node);
}
bool Membership::is_learner(NodeId node) const {
  return listed(learners, node);
}

bool is_membership_payload(std::span<const std::byte> payload) {
  return payload.size() >= kMembershipPrefix.size() &&
         std::memcmp(payload.data(), kMembershipPrefix.data(), kMembershipPrefix.size()) == 0;
}

Payload encode_membership(const MembershipChange& change, const Membership& result) {
  std::vector<std::byte> out(kMembershipPrefix.begin(), kMembershipPrefix.end());
  out.reserve(kHeaderBytes + 4 + 8 * (result.voters.size() + result.learners.size()));
  out.push_back(static_cast<std::byte>(change.op));
  put_u64(out, change.node.value());
  put_u32(out, static_cast<uint32_t>(result.voters.size()));
  for (NodeId voter : result.voters) put_u64(out, voter.value());
  put_u32(out, static_cast<uint32_t>(result.learners.size()));
  for (NodeId learner : result.learners) put_u64(out, learner.value());
  return Payload(out.begin(), out.end());
}

std::optional<DecodedMembership> decode_membership(std::span<const std::byte> payload) {
  if (!is_membership_payload(payload) || payload.size() < kHeaderBytes) return std::nullopt;
  size_t at = kMembershipPrefix.size();
  DecodedMembership decoded;
  const auto op = static_cast<uint8_t>(payload[at]);
  if (op < 1 || op > 3) return std::nullopt;
  decoded.change.op = static_cast<MembershipOp>(op);
  decoded.change.node = NodeId{get_u64(payload, at + 1)};
  at += 9;
  const uint32_t voter_count = get_u32(payload, at);
  at += 4;
  if (voter_count == 0 || !get_ids(payload, at, voter_count, decoded.result.voters)) {
    return std::nullopt;
  }
  if (payload.size() - at < 4) return std::nullopt;
  const uint32_t learner_count = get_u32(payload, at);
  at += 4;
  if (!get_ids(payload, at, learner_count, decoded.result.learners)) return std::nullopt;
  if (at != payload.size()) return std::nullopt;
  for (NodeId learner : decoded.result.learners) {
    if (decoded.result.is_voter(learner)) return std::nullopt;
  }
  return decoded;
}

AppliedChange apply_change(const Membership& current, const MembershipChange& change) {
  if (change.node == NodeId{0}) return {std::nullopt, "node id 0 is reserved"};
  Membership next = current;
  switch (change.op) {
    case MembershipOp::kAddLearner:
      if (current.is_member(change.node)) return {std::nullopt, "already a member"};
      next.learners.push_back(change.node);
      return {std::move(next), nullptr};
    case MembershipOp::kPromote:
      if (!current.is_learner(change.node)) return {std::nullopt, "not a learner"};
      std::erase(next.learners, change.node);
      next.voters.push_back(change.node);
      return {std::move(next), nullptr};
    case MembershipOp::kRemove:
      if (!current.is_member(change.node)) return {std::nullopt, "not a member"};
      if (current.voters.size() == 1 && current.is_voter(change.node)) {
        return {std::nullopt, "the last voter cannot be removed"};
      }
      std::erase(next.voters, change.node);
      std::erase(next.learners, change.node);
      return {std::move(next), nullptr};
  }
  return {std::nullopt, "unknown operation"};
}

std::string describe(const Membership& membership) {
  std::string text = "voters=";
  for (size_t i = 0; i < membership.voters.size(); ++i) {
    text += (i == 0 ? "" : ",") + std::to_string(membership.voters[i].value());
  }
  text += " learners=";
  for (size_t i = 0; i < membership.learners.size(); ++i) {
    text += (i == 0 ? "" : ",") + std::to_string(membership.learners[i].value());
  }
  return text;
}

// ---- MembershipHistory ----------------------------------------------------------------------

MembershipHistory::MembershipHistory(Membership base, LogIndex base_index) {
  records_.push_back(Record{base_index, Term{0}, std::move(base)});
}

const Membership& MembershipHistory::at(LogIndex index) const {
  RR_ASSERT(index >= records_.front().index);
  for (size_t i = records_.size(); i-- > 1;) {
    if (records_[i].index <= index) return records_[i].membership;
  }
  return records_.front().membership;
}

bool MembershipHistory::knows(NodeId node) const {
  for (const Record& record : records_) {
    if (record.membership.is_member(node)) return true;
  }
  return false;
}

void MembershipHistory::push(LogIndex index, Term term, Membership membership) {
  RR_ASSERT_MSG(index > records_.back().index, "membership entries out of order");
  records_.push_back(Record{index, term, std::move(membership)});
}

void MembershipHistory::compact_to(LogIndex index) {
  size_t first_kept = 0;
  while (first_kept + 1 < records_.size() && records_[first_kept + 1].index <= index) {
    ++first_kept;
  }
  records_.erase(records_.begin(), records_.begin() + static_cast<std::ptrdiff_t>(first_kept));
}

void MembershipHistory::reset(Membership base, LogIndex index) {
  records_.clear();
  records_.push_back(Record{index, Term{0}, std::move(base)});
}

void MembershipHistory::check_invariants() const {
  RR_ASSERT(!records_.empty());
  for (size_t i = 0; i < records_.size(); ++i) {
    RR_ASSERT(!records_[i].membership.voters.empty());
    if (i > 0) RR_ASSERT(records_[i - 1].index < records_[i].index);
  }
}

}  // namespace ringraft::raft
