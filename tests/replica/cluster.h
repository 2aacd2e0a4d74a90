// A whole cluster in one process: one Reactor with one shard per node (shard k hosts node
// k + 1, with its own WAL directory and ShardEngine), a test bus that carries encoded messages
// between shards as cross-shard messages, and partitions (drop everything to and from a node).
//
// The test body runs on shard 0 (run_on_reactor); every call below is made from there and runs
// its work on the node's own shard (on_shard), so each engine is only ever touched by its shard.
// Waits are on events (an applied index, a known leader, a proposal's outcome); the
// run_on_reactor watchdog bounds them.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "raft/replica/shard_engine.h"
#include "reactor/reactor.h"
#include "tests/support/temp_dir.h"

namespace ringraft::replica::testing {

// Work for another shard: `fn` runs there; `done` is set (and `waiter` resumed) back on the
// caller's shard once it finished.
struct CrossCall {
  std::function<Task<void>(Shard&)> fn;
  ShardId caller;
  bool done = false;  // read and written on the caller's shard only
  std::coroutine_handle<> waiter;
};
// Starts `call` on shard `there` without waiting for it.
Task<void> post(Shard& here, ShardId there, CrossCall& call);
// Resumes once a posted call finished.
Task<void> wait(CrossCall& call);
// Runs `fn` on shard `there` and resumes the caller (on `here`) once it finished.
Task<void> on_shard(Shard& here, ShardId there, std::function<Task<void>(Shard&)> fn);

// Records every applied entry per group; the result of an entry is "applied:<index>".
class RecordingStateMachine final : public StateMachine {
 public:
  void apply(GroupId group, std::span<const CommittedEntry> entries,
             ApplyResults& results) override;
  Result<void> snapshot(GroupId group, SnapshotWriter& writer) override;
  Result<void> restore(GroupId group, SnapshotReader& reader) override;
  // With stepped_snapshots: a view of the image as of now, written view_step_bytes per step;
  // while hold_views is set a step writes nothing, so the snapshot stays under way.
  std::unique_ptr<SnapshotView> snapshot_view(GroupId group) override;
  std::vector<std::byte> image_of(GroupId group) const;

  bool stepped_snapshots = false;
  bool hold_views = false;
  size_t view_step_bytes = 64;
  uint64_t view_steps = 0;  // write_some calls, held ones included

  std::map<GroupId, std::vector<std::string>> applied;  // commands in apply order
  std::map<GroupId, LogIndex> last_index;
  // Snapshots: the image is every applied command (so a restored node still shows them all).
  std::map<GroupId, uint64_t> applied_since_start;  // entries apply() saw in this process life
  std::map<GroupId, LogIndex> restored_at;          // index of the snapshot restored, if any
  uint64_t snapshots_taken = 0;
  bool refuse_snapshots = false;
};

class TestNetwork;

class TestBus final : public MessageBus {
 public:
  TestBus(TestNetwork& network, NodeId self, Shard& shard)
      : network_(network), self_(self), shard_(shard) {}
  SendStatus send(NodeId to, ConstByteSpan message_flatbuffer) override;

 private:
  TestNetwork& network_;
  NodeId self_;
  Shard& shard_;
};

// Shared by every shard: partitions (atomics, set from the test body) and, per shard, the
// engine messages are delivered to (read and written on that shard only).
class TestNetwork {
 public:
  explicit TestNetwork(uint32_t nodes);
  ~TestNetwork();

  void isolate(NodeId node, bool isolated) {
    isolated_[node.value() - 1].store(isolated, std::memory_order_release);
  }
  bool cut(NodeId from, NodeId to) const {
    return isolated_[from.value() - 1].load(std::memory_order_acquire) ||
           isolated_[to.value() - 1].load(std::memory_order_acquire);
  }
  ShardEngine*& engine(ShardId shard) { return engines_[shard.value()]; }
  uint64_t dropped() const { return dropped_.load(); }
  // Loses every `every`-th InstallSnapshot on its way (0: none), to test resumed transfers.
  void drop_snapshot_chunks(uint32_t every) { snapshot_drop_every_.store(every); }
  uint64_t snapshot_chunks_delivered() const { return snapshot_chunks_delivered_.load(); }
  uint64_t snapshot_chunks_dropped() const { return snapshot_chunks_dropped_.load(); }

 private:
  friend class TestBus;
  struct Delivery;
  static void deliver(Shard& receiver, const ShardMessage& message);

  std::vector<std::atomic<bool>> isolated_;
  std::vector<ShardEngine*> engines_;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint32_t> snapshot_drop_every_{0};
  std::atomic<uint64_t> snapshot_chunks_seen_{0};
  std::atomic<uint64_t> snapshot_chunks_delivered_{0};
  std::atomic<uint64_t> snapshot_chunks_dropped_{0};
  // Messages still in a ring when the reactor stops are freed here, not leaked.
  std::mutex in_flight_mutex_;
  std::unordered_set<Delivery*> in_flight_;
};

struct TestNode {
  NodeId id;
  ringraft::testing::TempDir dir;
  std::unique_ptr<TestBus> bus;
  std::unique_ptr<RecordingStateMachine> state_machine;
  std::unique_ptr<ShardEngine> engine;
};

// A proposal started on a node's shard; its outcome is read later with Cluster::finish.
struct StartedProposal {
  std::string command;
  ProposeResult result = Failed{FailReason::kShuttingDown};
  CrossCall call;
};

class Cluster {
 public:
  Cluster(uint32_t nodes, uint32_t groups);
  ReactorConfig reactor_config() const;
  uint32_t size() const { return static_cast<uint32_t>(nodes_.size()); }
  std::vector<GroupId> groups() const;
  TestNetwork& network() { return network_; }
  // Adjusts every node's options before it starts (small WAL batches, proposal bounds).
  std::function<void(EngineOptions&)> tune;
  static NodeId node_id(uint32_t k) { return NodeId(k + 1); }

  Task<Result<void>> start(Shard& here, uint32_t k);
  Task<void> start_all(Shard& here);
  Task<void> stop(Shard& here, uint32_t k);
  Task<void> stop_all(Shard& here);

  Task<ProposeResult> propose(Shard& here, NodeId node, GroupId group, std::string command);
  // Proposes through whichever node leads, following NotLeader hints and retrying Overwritten
  // (certainly not committed, so retrying cannot apply a command twice). Bounded attempts.
  Task<ProposeResult> propose_to_leader(Shard& here, GroupId group, std::string command,
                                        NodeId avoid = NodeId(0));
  // Starts a proposal on `node` without waiting for it; wait(proposal.call) for its outcome.
  Task<void> start_proposal(Shard& here, NodeId node, GroupId group, StartedProposal& proposal);

  Task<NodeId> wait_leader(Shard& here, NodeId asked, GroupId group, NodeId other_than = NodeId(0),
                           std::optional<Duration> limit = std::nullopt);
  Task<void> wait_applied(Shard& here, NodeId node, GroupId group, LogIndex index);
  Task<Result<LogIndex>> read_index(Shard& here, NodeId node, GroupId group);
  Task<std::vector<std::string>> applied(Shard& here, NodeId node, GroupId group);
  // Runs `inspect` on the node's shard with its engine (nullptr when the node is down).
  Task<void> on_node(Shard& here, NodeId node, std::function<void(ShardEngine*)> inspect);
  // The same with the node's state machine (nullptr before its first start).
  Task<void> on_machine(Shard& here, NodeId node,
                        std::function<void(RecordingStateMachine*)> inspect);
  Task<Result<LogIndex>> snapshot_now(Shard& here, NodeId node, GroupId group);
  std::string directory(NodeId node) const { return nodes_[node.value() - 1]->dir.path(); }

 private:
  TestNetwork network_;
  uint32_t group_count_;
  std::vector<std::unique_ptr<TestNode>> nodes_;
};

}  // namespace ringraft::replica::testing
