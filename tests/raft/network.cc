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
    Storage storage{initial[i - 1].hard_state, initial[i - 1].entries, {}, {}};
    Result<Core> core = Core::create(std::move(config), std::move(initial[i - 1]));
    EXPECT_TRUE(core.ok()) << core.error().message();
    cores_.emplace(NodeId{i}, std::move(core).value());
    storage_.emplace(NodeId{i}, std::move(storage));
  }
}

Core& Network::node(uint64_t id) {
  return cores_.at(NodeId{id});
}

void Network::process_ready(NodeId id) {
  Core& core = cores_.at(id);
  if (!core.has_ready()) return;
  Ready ready = core.ready();
  Storage& storage = storage_.at(id);
  if (ready.hard_state.has_value()) storage.hard_state = *ready.hard_state;
  if (!ready.entries.empty()) {
    // Storage drops everything from the first new index on, then appends (ready.h).
    storage.entries.resize(
        std::min(storage.entries.size(), ready.entries.front().index.value() - 1));
    EXPECT_EQ(storage.entries.size() + 1, ready.entries.front().index.value());
    storage.entries.insert(storage.entries.end(), ready.entries.begin(), ready.entries.end());
  }
  storage.applied.insert(storage.applied.end(), ready.committed_entries.begin(),
                         ready.committed_entries.end());
  storage.proposals.insert(storage.proposals.end(), ready.proposals.begin(), ready.proposals.end());
  for (Message& message : ready.messages) enqueue(std::move(message));
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
  Result<Core> core =
      Core::create(std::move(config), InitialState{storage.hard_state, storage.entries});
  ASSERT_TRUE(core.ok()) << core.error().message();
  cores_.erase(node);
  cores_.emplace(node, std::move(core).value());
  storage.applied.clear();
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
