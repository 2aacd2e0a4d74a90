// Network: a deterministic in-memory cluster of Raft cores for tests. It persists each Ready
// instantly (unless a node's durability is held), queues messages FIFO, and delivers them on
// request; filters drop messages to model partitions. No threads, no clock, no randomness:
// the same calls give the same run.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <span>
#include <vector>

#include "raft/core/core.h"

namespace ringraft {
// GoogleTest prints strong ids as numbers.
template <class Tag, class Rep>
void PrintTo(StrongInt<Tag, Rep> value, std::ostream* out) {
  *out << value.value();
}
}  // namespace ringraft

namespace ringraft::raft::testing {

// What a node's stable storage and state machine hold.
// The state machine is the list of applied entries; a snapshot is that list encoded.
struct Storage {
  HardState hard_state;
  std::vector<Entry> entries;  // persisted log after the snapshot: entry i at [i - 1 - snapshot]
  std::vector<Entry> applied;  // committed entries handed out to apply, in order
  std::vector<ProposalOutcome> proposals{};  // Ready::proposals, in order
  std::optional<SnapshotMeta> snapshot{};    // the latest snapshot taken or installed
  Payload snapshot_data{};
  Payload receiving_data{};               // an incoming snapshot's chunks so far
  std::vector<ReadState> read_states{};   // Ready::read_states, in order
  std::vector<ChangeOutcome> changes{};   // Ready::membership_changes, in order
  std::vector<Membership> memberships{};  // Ready::membership, in order
};

class Network {
 public:
  using ConfigTweak = std::function<void(Config&)>;

  // Nodes 1..node_count, fresh. Each node's seed is derived from `seed`.
  explicit Network(size_t node_count, uint64_t seed = 1, const ConfigTweak& tweak = {});
  // Nodes 1..initial.size(), restarted from the given states.
  Network(std::vector<InitialState> initial, uint64_t seed, const ConfigTweak& tweak = {});

  Core& node(uint64_t id);
  const Storage& storage(uint64_t id) const { return storage_.at(NodeId{id}); }
  size_t size() const { return cores_.size(); }

  // Takes every node's Ready: persists it, queues its messages, applies committed entries.
  void process_readies();
  // Delivers the messages queued now (not those this produces); returns how many arrived.
  size_t deliver_queued();
  // Delivers the queued message at `position` only (reordering); with `duplicate`, a copy of
  // it stays queued (duplication).
  void deliver_at(size_t position, bool duplicate = false);
  // process_readies + deliver_queued until nothing moves. Returns messages delivered.
  size_t stabilize();
  void tick(uint64_t id, int ticks = 1);
  void tick_all(int ticks = 1);
  // campaign() on `id`, then stabilize.
  void campaign(uint64_t id);

  // Crash and restart a node from its storage (hard state and persisted log). Every write is
  // durable at once, except while the node's durability is held: then the crash loses every
  // write since the hold began, and the messages waiting for them. The state machine starts
  // empty and re-applies committed entries.
  void restart(uint64_t id);
  bool is_held(uint64_t id) const { return held_.find(NodeId{id}) != held_.end(); }
  // A fresh node `id` (the next id after the existing ones) that starts as a learner of
  // `membership` (the group's configuration it is about to join).
  void add_node(uint64_t id, const Membership& membership);

  // Replace a node's storage with `state`, then restart it from there (test set-up).
  void restore(uint64_t id, InitialState state);

  // The node's state machine takes a snapshot of its first `index` applied entries and the
  // core compacts its log up to there (index 0: everything applied). Returns the core's answer.
  Result<void> compact(uint64_t id, uint64_t index = 0);

  // Faults. A message is dropped if a fault covers it when it is sent or when it arrives.
  void isolate(uint64_t id);
  void heal();
  void set_filter(std::function<bool(const Message&)> drop) { filter_ = std::move(drop); }
  void clear_filter() { filter_ = nullptr; }
  // While held, the node's writes are stored but not reported durable, and its
  // messages_after_persist wait; release reports them and sends those messages.
  void hold_durability(uint64_t id);
  void release_durability(uint64_t id);

  const std::deque<Message>& queued() const { return queue_; }
  // Every message delivered so far, in order.
  const std::vector<Message>& delivered() const { return delivered_; }
  size_t dropped_count() const { return dropped_count_; }

  // The node that is leader in the highest term, or kNoNode.
  NodeId leader() const;

 private:
  void build(std::vector<InitialState> initial, uint64_t seed, const ConfigTweak& tweak);
  void process_ready(NodeId id);
  void install_snapshot(Storage& storage, Ready& ready);
  void fill_snapshot_chunk(const Storage& storage, Message& message);
  void enqueue(Message message);
  bool is_dropped(const Message& message) const;

  Config template_config_;  // node 1's, tweaked: what add_node starts from
  std::map<NodeId, Core> cores_;
  std::map<NodeId, Storage> storage_;
  std::deque<Message> queue_;
  std::vector<Message> delivered_;
  size_t dropped_count_ = 0;
  std::vector<NodeId> isolated_;
  std::function<bool(const Message&)> filter_;
  struct Held {
    Storage durable_storage;  // what a crash leaves: the storage when the hold began
    std::optional<std::pair<LogIndex, Term>> durable;
    std::vector<Message> after_persist;
  };
  std::map<NodeId, Held> held_;
};

// The snapshot encoding of a state machine (a list of applied entries), and back.
Payload encode_applied(std::span<const Entry> applied);
std::vector<Entry> decode_applied(const Payload& data);

Payload payload_of(uint64_t size_bytes, uint8_t fill = 0xab);
std::vector<Payload> batch_of(size_t count, uint64_t size_bytes);

}  // namespace ringraft::raft::testing
