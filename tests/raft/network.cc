#include "tests/raft/network.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ringraft::raft::testing {

Network::Network(size_t node_count, uint64_t seed, const ConfigTweak& tweak) {
  build(std::vector<InitialState>(node_count), seed, tweak);
}

Network::Network(std::vector<InitialState> initial, uint64_t seed, const ConfigTweak& tweak) {
  build(std::move(initial), seed, tweak);
}

void Network::build(std::vector<InitialState> initial, uint64_t seed, const ConfigTweak& tweak) {
  std::vector<NodeId> voters;
  for (size_t i = 1; i <= initial.size(); ++i) voters.push_back(NodeId{i});
  for (size_t i = 1; i <= initial.size(); ++i) {
    Config config;
    config.id = NodeId{i};
    config.voters = voters;
    config.seed = seed;
    if (tweak) tweak(config);
    if (i == 1) template_config_ = config;
    Storage storage{initial[i - 1].hard_state, initial[i - 1].entries, {}};
    Result<Core> core = Core::create(std::move(config), std::move(initial[i - 1]));
    EXPECT_TRUE(core.ok()) << core.error().message();
    cores_.emplace(NodeId{i}, std::move(core).value());
    storage_.emplace(NodeId{i}, std::move(storage));
  }
}

void Network::add_node(uint64_t id, const Membership& membership) {
  Config config = template_config_;
  config.id = NodeId{id};
  config.voters = membership.voters;
  config.learners = membership.learners;
  if (!membership.is_member(config.id)) config.learners.push_back(config.id);
  Result<Core> core = Core::create(std::move(config));
  ASSERT_TRUE(core.ok()) << core.error().message();
  cores_.emplace(NodeId{id}, std::move(core).value());
  storage_.emplace(NodeId{id}, Storage{});
}

Core& Network::node(uint64_t id) {
  return cores_.at(NodeId{id});
}

void Network::process_ready(NodeId id) {
  Core& core = cores_.at(id);
  if (!core.has_ready()) return;
  Ready ready = core.ready();
  Storage& storage = storage_.at(id);
  install_snapshot(storage, ready);
  if (ready.hard_state.has_value()) storage.hard_state = *ready.hard_state;
  if (!ready.entries.empty()) {
    // Storage drops everything from the first new index on, then appends (ready.h).
    const uint64_t base = storage.snapshot.has_value() ? storage.snapshot->index.value() : 0;
    storage.entries.resize(
        std::min(storage.entries.size(), ready.entries.front().index.value() - 1 - base));
    EXPECT_EQ(base + storage.entries.size() + 1, ready.entries.front().index.value());
    storage.entries.insert(storage.entries.end(), ready.entries.begin(), ready.entries.end());
  }
  storage.applied.insert(storage.applied.end(), ready.committed_entries.begin(),
                         ready.committed_entries.end());
  storage.proposals.insert(storage.proposals.end(), ready.proposals.begin(), ready.proposals.end());
  storage.read_states.insert(storage.read_states.end(), ready.read_states.begin(),
                             ready.read_states.end());
  storage.changes.insert(storage.changes.end(), ready.membership_changes.begin(),
                         ready.membership_changes.end());
  if (ready.membership.has_value()) storage.memberships.push_back(*ready.membership);
  for (Message& message : ready.messages) {
    if (message.type == MessageType::kSnapshot) fill_snapshot_chunk(storage, message);
    enqueue(std::move(message));
  }
  core.advance(ready);

  std::optional<std::pair<LogIndex, Term>> durable;
  if (!ready.entries.empty())
    durable.emplace(ready.entries.back().index, ready.entries.back().term);
  const auto held = held_.find(id);
  if (held != held_.end()) {
    if (durable.has_value()) held->second.durable = durable;
    for (Message& message : ready.messages_after_persist) {
      held->second.after_persist.push_back(std::move(message));
    }
    return;
  }
  for (Message& message : ready.messages_after_persist) enqueue(std::move(message));
  if (durable.has_value()) core.persisted_to(durable->first, durable->second);
}

// The follower's side of ready.h item 0: chunks first, then the completed snapshot.
void Network::install_snapshot(Storage& storage, Ready& ready) {
  for (SnapshotChunk& chunk : ready.snapshot_chunks) {
    if (chunk.offset == 0) storage.receiving_data.clear();
    EXPECT_EQ(chunk.offset, storage.receiving_data.size()) << "snapshot chunk out of order";
    storage.receiving_data.insert(storage.receiving_data.end(), chunk.data.begin(),
                                  chunk.data.end());
  }
  if (!ready.snapshot.has_value()) return;
  EXPECT_EQ(storage.receiving_data.size(), ready.snapshot->size_bytes);
  storage.snapshot = *ready.snapshot;
  storage.snapshot_data = std::move(storage.receiving_data);
  storage.receiving_data.clear();
  storage.entries.clear();
  storage.applied = decode_applied(storage.snapshot_data);
  EXPECT_EQ(storage.applied.size(), ready.snapshot->index.value());
}

void Network::fill_snapshot_chunk(const Storage& storage, Message& message) {
  ASSERT_TRUE(storage.snapshot.has_value() && storage.snapshot->index == message.log_index)
      << "a snapshot chunk of a snapshot this node does not hold";
  const auto begin =
      storage.snapshot_data.begin() + static_cast<std::ptrdiff_t>(message.snapshot_offset);
  message.snapshot_data.assign(begin,
                               begin + static_cast<std::ptrdiff_t>(message.snapshot_chunk_bytes));
}

Result<void> Network::compact(uint64_t id, uint64_t index) {
  Storage& storage = storage_.at(NodeId{id});
  if (index == 0) index = storage.applied.size();
  if (index > storage.applied.size()) {
    return Error(ErrorCode::kInvalidInput, "compact beyond the applied entries");
  }
  Payload data = encode_applied(std::span<const Entry>(storage.applied).first(index));
  Result<void> compacted = node(id).compact(LogIndex{index}, data.size());
  if (!compacted) return compacted;
  const SnapshotMeta meta = node(id).snapshot();
  const auto drop_compacted = [&](Storage& target) {
    const uint64_t base = target.snapshot.has_value() ? target.snapshot->index.value() : 0;
    const uint64_t dropped = std::min<uint64_t>(index - base, target.entries.size());
    target.entries.erase(target.entries.begin(),
                         target.entries.begin() + static_cast<std::ptrdiff_t>(dropped));
    target.snapshot = meta;
    target.snapshot_data = data;
  };
  drop_compacted(storage);
  const auto held = held_.find(NodeId{id});
  if (held != held_.end()) drop_compacted(held->second.durable_storage);
  process_ready(NodeId{id});
  return {};
}

void Network::process_readies() {
  // A pass can create more work only through persisted_to (a commit, then Appends), so a few
  // passes settle; the bound turns a livelock into a test failure.
  for (int pass = 0; pass < 100; ++pass) {
    bool any = false;
    for (auto& [id, core] : cores_) {
      if (!core.has_ready()) continue;
      any = true;
      process_ready(id);
    }
    if (!any) return;
  }
  ADD_FAILURE() << "Readies did not settle within 100 passes";
}

// A message is dropped when sent across a partition, or when delivered across one.
void Network::enqueue(Message message) {
  if (is_dropped(message)) {
    ++dropped_count_;
    return;
  }
  queue_.push_back(std::move(message));
}

bool Network::is_dropped(const Message& message) const {
  const auto isolated = [&](NodeId id) {
    return std::find(isolated_.begin(), isolated_.end(), id) != isolated_.end();
  };
  if (isolated(message.from) || isolated(message.to)) return true;
  return filter_ && filter_(message);
}

size_t Network::deliver_queued() {
  size_t delivered = 0;
  for (size_t count = queue_.size(); count > 0; --count) {
    Message message = std::move(queue_.front());
    queue_.pop_front();
    if (is_dropped(message)) {
      ++dropped_count_;
      continue;
    }
    delivered_.push_back(message);
    ++delivered;
    const NodeId to = message.to;
    Result<void> stepped = cores_.at(to).step(std::move(message));
    EXPECT_TRUE(stepped.ok()) << stepped.error().message();
    process_ready(to);
  }
  return delivered;
}

void Network::deliver_at(size_t position, bool duplicate) {
  RR_ASSERT(position < queue_.size());
  const auto it = queue_.begin() + static_cast<std::ptrdiff_t>(position);
  Message message = duplicate ? *it : std::move(*it);
  if (!duplicate) queue_.erase(it);
  if (is_dropped(message)) {
    ++dropped_count_;
    return;
  }
  delivered_.push_back(message);
  const NodeId to = message.to;
  Result<void> stepped = cores_.at(to).step(std::move(message));
  EXPECT_TRUE(stepped.ok()) << stepped.error().message();
  process_ready(to);
}

size_t Network::stabilize() {
  size_t delivered = 0;
  for (int round = 0; round < 10'000; ++round) {
    process_readies();
    if (queue_.empty()) return delivered;
    delivered += deliver_queued();
  }
  ADD_FAILURE() << "the network did not settle within 10000 rounds";
  return delivered;
}

void Network::tick(uint64_t id, int ticks) {
  for (int i = 0; i < ticks; ++i) {
    node(id).tick();
    process_ready(NodeId{id});
  }
}

void Network::tick_all(int ticks) {
  for (int i = 0; i < ticks; ++i) {
    for (auto& [id, core] : cores_) {
      core.tick();
      process_ready(id);
    }
  }
}

void Network::campaign(uint64_t id) {
  node(id).campaign();
  stabilize();
}

void Network::restart(uint64_t id) {
  const NodeId node{id};
  Storage& storage = storage_.at(node);
  const auto held = held_.find(node);
  if (held != held_.end()) {
    storage = std::move(held->second.durable_storage);  // unsynced writes are lost
    held_.erase(held);
  }
  Config config = cores_.at(node).config();
  // A node removed from the group restarts as what its log says; the Config must still name it.
  if (!cores_.at(node).membership().is_member(node)) config.learners.push_back(node);
  Result<Core> core = Core::create(
      std::move(config), InitialState{storage.hard_state, storage.entries, storage.snapshot});
  ASSERT_TRUE(core.ok()) << core.error().message();
  cores_.erase(node);
  cores_.emplace(node, std::move(core).value());
  // The state machine restarts from the snapshot, or empty.
  storage.applied.clear();
  if (storage.snapshot.has_value()) storage.applied = decode_applied(storage.snapshot_data);
  storage.receiving_data.clear();
}

void Network::restore(uint64_t id, InitialState state) {
  Storage& storage = storage_.at(NodeId{id});
  storage.hard_state = state.hard_state;
  storage.entries = std::move(state.entries);
  restart(id);
}

void Network::isolate(uint64_t id) {
  isolated_.push_back(NodeId{id});
}

void Network::heal() {
  isolated_.clear();
  filter_ = nullptr;
}

void Network::hold_durability(uint64_t id) {
  const NodeId node{id};
  if (held_.find(node) == held_.end()) held_.emplace(node, Held{storage_.at(node), {}, {}});
}

void Network::release_durability(uint64_t id) {
  const auto held = held_.find(NodeId{id});
  if (held == held_.end()) return;
  Held state = std::move(held->second);
  held_.erase(held);
  for (Message& message : state.after_persist) enqueue(std::move(message));
  if (state.durable.has_value()) {
    node(id).persisted_to(state.durable->first, state.durable->second);
  }
  process_ready(NodeId{id});
}

NodeId Network::leader() const {
  NodeId found = kNoNode;
  Term found_term{0};
  for (const auto& [id, core] : cores_) {
    if (core.role() == Role::kLeader && core.term() >= found_term) {
      found = id;
      found_term = core.term();
    }
  }
  return found;
}

namespace {

void put_u64(Payload& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

uint64_t get_u64(const Payload& in, size_t& at) {
  RR_ASSERT(at + 8 <= in.size());
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= std::to_integer<uint64_t>(in[at + i]) << (8 * i);
  at += 8;
  return value;
}

}  // namespace

Payload encode_applied(std::span<const Entry> applied) {
  Payload out;
  for (const Entry& entry : applied) {
    put_u64(out, entry.term.value());
    put_u64(out, entry.index.value());
    put_u64(out, entry.payload.size());
    out.insert(out.end(), entry.payload.begin(), entry.payload.end());
  }
  return out;
}

std::vector<Entry> decode_applied(const Payload& data) {
  std::vector<Entry> applied;
  size_t at = 0;
  while (at < data.size()) {
    Entry entry;
    entry.term = Term{get_u64(data, at)};
    entry.index = LogIndex{get_u64(data, at)};
    const uint64_t size_bytes = get_u64(data, at);
    RR_ASSERT(at + size_bytes <= data.size());
    entry.payload = PayloadRef::copy_of(ConstByteSpan(data.data() + at, size_bytes));
    at += size_bytes;
    applied.push_back(std::move(entry));
  }
  return applied;
}

Payload payload_of(uint64_t size_bytes, uint8_t fill) {
  return Payload(size_bytes, std::byte{fill});
}

std::vector<Payload> batch_of(size_t count, uint64_t size_bytes) {
  std::vector<Payload> batch;
  for (size_t i = 0; i < count; ++i)
    batch.push_back(payload_of(size_bytes, static_cast<uint8_t>(i)));
  return batch;
}

}  // namespace ringraft::raft::testing
