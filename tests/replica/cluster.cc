#include "tests/replica/cluster.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "tests/reactor/test_reactor.h"

namespace ringraft::replica::testing {
namespace {

void finish_call(Shard& /*caller*/, const ShardMessage& message) {
  auto* call = static_cast<CrossCall*>(message.object);
  call->done = true;
  if (call->waiter) call->waiter.resume();
}

Task<void> run_call(Shard& shard, CrossCall* call) {
  co_await call->fn(shard);
  ShardMessage back;
  back.handler = &finish_call;
  back.object = call;
  if (call->caller == shard.id()) {
    finish_call(shard, back);
    co_return;
  }
  co_await shard.send(call->caller, back);
}

void start_call(Shard& receiver, const ShardMessage& message) {
  receiver.spawn(run_call(receiver, static_cast<CrossCall*>(message.object)));
}

struct CallAwaiter {
  CrossCall& call;
  bool await_ready() const noexcept { return call.done; }
  void await_suspend(std::coroutine_handle<> waiter) noexcept { call.waiter = waiter; }
  void await_resume() const noexcept {}
};

}  // namespace

Task<void> post(Shard& here, ShardId there, CrossCall& call) {
  call.caller = here.id();
  call.done = false;
  ShardMessage message;
  message.handler = &start_call;
  message.object = &call;
  if (there == here.id()) {
    start_call(here, message);  // runs until its first suspension, then on its own
    co_return;
  }
  EXPECT_TRUE(co_await here.send(there, message));
}

Task<void> wait(CrossCall& call) {
  co_await CallAwaiter{call};
}

Task<void> on_shard(Shard& here, ShardId there, std::function<Task<void>(Shard&)> fn) {
  CrossCall call;
  call.fn = std::move(fn);
  co_await post(here, there, call);
  co_await wait(call);
}

// ---- state machine --------------------------------------------------------------------------

void RecordingStateMachine::apply(GroupId group, std::span<const CommittedEntry> entries,
                                  ApplyResults& results) {
  std::vector<std::string>& log = applied[group];
  for (const CommittedEntry& entry : entries) {
    EXPECT_GT(entry.index, last_index[group]) << "applied out of order";
    last_index[group] = entry.index;
    applied_since_start[group]++;
    log.emplace_back(reinterpret_cast<const char*>(entry.payload.data()), entry.payload.size());
    const std::string result = "applied:" + std::to_string(entry.index.value());
    results.push(as_bytes(result.data(), result.size()));
  }
}

// Image: u64 last applied index, u64 count, then count x (u32 length, command bytes).
Result<void> RecordingStateMachine::snapshot(GroupId group, SnapshotWriter& writer) {
  if (refuse_snapshots) return Error(ErrorCode::kUnsupported, "this test takes no snapshots");
  snapshots_taken++;
  return writer.write(image_of(group));
}

namespace {

class RecordingView final : public SnapshotView {
 public:
  RecordingView(RecordingStateMachine& machine, std::vector<std::byte> image)
      : machine_(machine), image_(std::move(image)) {}
  Result<bool> write_some(SnapshotWriter& writer, size_t /*bytes_max*/) override {
    machine_.view_steps++;
    if (machine_.hold_views) return false;
    const size_t piece = std::min(machine_.view_step_bytes, image_.size() - offset_);
    Result<void> written = writer.write(ConstByteSpan(image_).subspan(offset_, piece));
    if (!written) return written.error();
    offset_ += piece;
    if (offset_ < image_.size()) return false;
    machine_.snapshots_taken++;
    return true;
  }

 private:
  RecordingStateMachine& machine_;
  std::vector<std::byte> image_;  // as of the view: later applies do not change it
  size_t offset_ = 0;
};

}  // namespace

std::unique_ptr<SnapshotView> RecordingStateMachine::snapshot_view(GroupId group) {
  if (!stepped_snapshots || refuse_snapshots) return nullptr;
  return std::make_unique<RecordingView>(*this, image_of(group));
}

std::vector<std::byte> RecordingStateMachine::image_of(GroupId group) const {
  std::vector<std::byte> image;
  const auto put = [&image](const void* data, size_t size) {
    const auto* bytes = static_cast<const std::byte*>(data);
    image.insert(image.end(), bytes, bytes + size);
  };
  const auto last_found = last_index.find(group);
  const uint64_t last = last_found == last_index.end() ? 0 : last_found->second.value();
  const auto log_found = applied.find(group);
  static const std::vector<std::string> kNone;
  const std::vector<std::string>& log = log_found == applied.end() ? kNone : log_found->second;
  const uint64_t count = log.size();
  put(&last, sizeof last);
  put(&count, sizeof count);
  for (const std::string& command : log) {
    const auto length = static_cast<uint32_t>(command.size());
    put(&length, sizeof length);
    put(command.data(), command.size());
  }
  return image;
}

Result<void> RecordingStateMachine::restore(GroupId group, SnapshotReader& reader) {
  std::vector<std::byte> image;
  std::byte buffer[4096];
  for (;;) {
    Result<size_t> read = reader.read(ByteSpan(buffer, 1000));  // small reads on purpose
    if (!read) return read.error();
    if (read.value() == 0) break;
    image.insert(image.end(), buffer, buffer + read.value());
  }
  size_t offset = 0;
  const auto get = [&](void* into, size_t size) {
    if (image.size() - offset < size) return false;
    std::memcpy(into, image.data() + offset, size);
    offset += size;
    return true;
  };
  uint64_t last = 0;
  uint64_t count = 0;
  std::vector<std::string> log;
  if (!get(&last, sizeof last) || !get(&count, sizeof count)) {
    return Error(ErrorCode::kInvalidInput, "recording image: short header");
  }
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t length = 0;
    if (!get(&length, sizeof length) || image.size() - offset < length) {
      return Error(ErrorCode::kInvalidInput, "recording image: short command");
    }
    log.emplace_back(reinterpret_cast<const char*>(image.data() + offset), length);
    offset += length;
  }
  if (offset != image.size()) return Error(ErrorCode::kInvalidInput, "recording image: trailing");
  applied[group] = std::move(log);
  last_index[group] = LogIndex(last);
  restored_at[group] = LogIndex(last);
  return {};
}

// ---- network --------------------------------------------------------------------------------

struct TestNetwork::Delivery {
  TestNetwork* network;
  NodeId from;
  NodeId to;
  std::vector<std::byte> bytes;
};

TestNetwork::TestNetwork(uint32_t nodes) : isolated_(nodes), engines_(nodes, nullptr) {}

TestNetwork::~TestNetwork() {
  for (Delivery* delivery : in_flight_) delete delivery;
}

SendStatus TestBus::send(NodeId to, ConstByteSpan message_flatbuffer) {
  if (network_.cut(self_, to)) {
    network_.dropped_++;
    return SendStatus::kQueued;  // lost on the way, as a partition loses it
  }
  auto* delivery = new TestNetwork::Delivery{
      &network_, self_, to,
      std::vector<std::byte>(message_flatbuffer.begin(), message_flatbuffer.end())};
  {
    std::lock_guard<std::mutex> lock(network_.in_flight_mutex_);
    network_.in_flight_.insert(delivery);
  }
  ShardMessage message;
  message.handler = &TestNetwork::deliver;
  message.object = delivery;
  if (!shard_.try_send(ShardId(static_cast<uint32_t>(to.value() - 1)), message)) {
    std::lock_guard<std::mutex> lock(network_.in_flight_mutex_);
    network_.in_flight_.erase(delivery);
    delete delivery;
    return SendStatus::kFull;
  }
  return SendStatus::kQueued;
}

void TestNetwork::deliver(Shard& receiver, const ShardMessage& message) {
  auto* delivery = static_cast<Delivery*>(message.object);
  TestNetwork& network = *delivery->network;
  {
    std::lock_guard<std::mutex> lock(network.in_flight_mutex_);
    network.in_flight_.erase(delivery);
  }
  const std::unique_ptr<Delivery> owned(delivery);
  if (network.cut(delivery->from, delivery->to)) {
    network.dropped_++;
    return;
  }
  ShardEngine* engine = network.engine(receiver.id());
  if (engine == nullptr) return;  // the node is down
  const wire::Message* decoded = verify_wire_message(delivery->bytes);
  EXPECT_NE(decoded, nullptr) << "the engine sent a FlatBuffer that does not verify";
  if (decoded == nullptr) return;
  if (decoded->body_type() == wire::Body::InstallSnapshot) {
    const uint32_t every = network.snapshot_drop_every_.load();
    if (every != 0 && ++network.snapshot_chunks_seen_ % every == 0) {
      network.snapshot_chunks_dropped_++;
      return;
    }
    network.snapshot_chunks_delivered_++;
  }
  Result<void> received = engine->receive(delivery->from, *decoded);
  EXPECT_TRUE(received.ok()) << received.error().message();
}

// ---- cluster --------------------------------------------------------------------------------

Cluster::Cluster(uint32_t nodes, uint32_t groups) : network_(nodes), group_count_(groups) {
  for (uint32_t k = 0; k < nodes; ++k) {
    auto node = std::make_unique<TestNode>();
    node->id = node_id(k);
    nodes_.push_back(std::move(node));
  }
}

ReactorConfig Cluster::reactor_config() const {
  return ringraft::testing::test_config(size());
}

std::vector<GroupId> Cluster::groups() const {
  std::vector<GroupId> groups;
  for (uint32_t g = 1; g <= group_count_; ++g) groups.push_back(GroupId(g));
  return groups;
}

Task<Result<void>> Cluster::start(Shard& here, uint32_t k) {
  Result<void> result;
  TestNode& node = *nodes_[k];
  co_await on_shard(here, ShardId(k), [&](Shard& shard) -> Task<void> {
    EngineOptions options;
    options.node = node.id;
    for (uint32_t j = 0; j < size(); ++j) options.voters.push_back(node_id(j));
    options.groups = groups();
    options.wal.directory = node.dir.path();
    options.wal.segment_bytes = uint64_t{4} << 20;
    options.wal.batch_bytes_max = 256u << 10;
    options.raft.seed = 20261123;
    options.raft.election_ticks = 20;  // 200-400 ms: robust on a busy machine
    if (tune) tune(options);
    node.bus = std::make_unique<TestBus>(network_, node.id, shard);
    node.state_machine = std::make_unique<RecordingStateMachine>();
    Result<std::unique_ptr<ShardEngine>> engine =
        co_await ShardEngine::open(shard, options, *node.bus, *node.state_machine);
    if (!engine) {
      result = engine.error();
      co_return;
    }
    node.engine = std::move(engine).value();
    network_.engine(shard.id()) = node.engine.get();
  });
  co_return result;
}

Task<void> Cluster::start_all(Shard& here) {
  for (uint32_t k = 0; k < size(); ++k) {
    Result<void> started = co_await start(here, k);
    EXPECT_TRUE(started.ok()) << started.error().message();
  }
}

Task<void> Cluster::stop(Shard& here, uint32_t k) {
  TestNode& node = *nodes_[k];
  co_await on_shard(here, ShardId(k), [&](Shard& shard) -> Task<void> {
    if (node.engine == nullptr) co_return;
    network_.engine(shard.id()) = nullptr;
    Result<void> closed = co_await node.engine->close();
    EXPECT_TRUE(closed.ok()) << closed.error().message();
    node.engine.reset();
  });
}

Task<void> Cluster::stop_all(Shard& here) {
  for (uint32_t k = 0; k < size(); ++k) co_await stop(here, k);
}

Task<ProposeResult> Cluster::propose(Shard& here, NodeId node, GroupId group, std::string command) {
  ProposeResult result = Failed{FailReason::kShuttingDown};
  TestNode& target = *nodes_[node.value() - 1];
  co_await on_shard(
      here, ShardId(static_cast<uint32_t>(node.value() - 1)), [&](Shard& /*shard*/) -> Task<void> {
        if (target.engine == nullptr) co_return;
        result = co_await target.engine->propose(group, as_bytes(command.data(), command.size()));
      });
  co_return result;
}

Task<void> Cluster::start_proposal(Shard& here, NodeId node, GroupId group,
                                   StartedProposal& proposal) {
  TestNode& target = *nodes_[node.value() - 1];
  proposal.call.fn = [&target, &proposal, group](Shard& /*shard*/) -> Task<void> {
    if (target.engine == nullptr) co_return;
    proposal.result = co_await target.engine->propose(
        group, as_bytes(proposal.command.data(), proposal.command.size()));
  };
  co_await post(here, ShardId(static_cast<uint32_t>(node.value() - 1)), proposal.call);
}

Task<ProposeResult> Cluster::propose_to_leader(Shard& here, GroupId group, std::string command,
                                               NodeId avoid) {
  NodeId asked = avoid == NodeId(1) ? NodeId(2) : NodeId(1);
  NodeId refused{0};
  ProposeResult result = Failed{FailReason::kShuttingDown};
  for (int attempt = 0; attempt < 200; ++attempt) {
    // Ask for a leader other than one that just refused: waits for the next election's news.
    const NodeId leader = co_await wait_leader(here, asked, group, refused);
    if (leader == NodeId(0)) break;
    if (leader == avoid) {  // a stale view of a node cut off: wait for news of another
      refused = avoid;
      continue;
    }
    result = co_await propose(here, leader, group, command);
    if (std::holds_alternative<Committed>(result)) co_return result;
    if (const auto* not_leader = std::get_if<NotLeader>(&result)) {
      refused = leader;
      asked = not_leader->leader_hint != NodeId(0) && not_leader->leader_hint != avoid
                  ? not_leader->leader_hint
                  : leader;
      continue;
    }
    const auto& failed = std::get<Failed>(result);
    if (failed.reason != FailReason::kOverwritten) co_return result;
    refused = NodeId(0);
  }
  co_return result;
}

Task<NodeId> Cluster::wait_leader(Shard& here, NodeId asked, GroupId group, NodeId other_than,
                                  std::optional<Duration> limit) {
  NodeId leader{0};
  TestNode& target = *nodes_[asked.value() - 1];
  co_await on_shard(here, ShardId(static_cast<uint32_t>(asked.value() - 1)),
                    [&](Shard& /*shard*/) -> Task<void> {
                      if (target.engine == nullptr) co_return;
                      leader = co_await target.engine->wait_leader(group, other_than, limit);
                    });
  co_return leader;
}

Task<void> Cluster::wait_applied(Shard& here, NodeId node, GroupId group, LogIndex index) {
  TestNode& target = *nodes_[node.value() - 1];
  co_await on_shard(here, ShardId(static_cast<uint32_t>(node.value() - 1)),
                    [&](Shard& /*shard*/) -> Task<void> {
                      if (target.engine == nullptr) co_return;
                      co_await target.engine->wait_applied(group, index);
                    });
}

Task<Result<LogIndex>> Cluster::read_index(Shard& here, NodeId node, GroupId group) {
  Result<LogIndex> result = Error(ErrorCode::kCancelled, "node stopped");
  TestNode& target = *nodes_[node.value() - 1];
  co_await on_shard(here, ShardId(static_cast<uint32_t>(node.value() - 1)),
                    [&](Shard& /*shard*/) -> Task<void> {
                      if (target.engine == nullptr) co_return;
                      result = co_await target.engine->read_index(group);
                    });
  co_return result;
}

Task<std::vector<std::string>> Cluster::applied(Shard& here, NodeId node, GroupId group) {
  std::vector<std::string> commands;
  TestNode& target = *nodes_[node.value() - 1];
  co_await on_shard(here, ShardId(static_cast<uint32_t>(node.value() - 1)),
                    [&](Shard& /*shard*/) -> Task<void> {
                      if (target.state_machine != nullptr) {
                        commands = target.state_machine->applied[group];
                      }
                      co_return;
                    });
  co_return commands;
}

Task<void> Cluster::on_node(Shard& here, NodeId node, std::function<void(ShardEngine*)> inspect) {
  TestNode& target = *nodes_[node.value() - 1];
  co_await on_shard(here, ShardId(static_cast<uint32_t>(node.value() - 1)),
                    [&](Shard& /*shard*/) -> Task<void> {
                      inspect(target.engine.get());
                      co_return;
                    });
}

Task<void> Cluster::on_machine(Shard& here, NodeId node,
                               std::function<void(RecordingStateMachine*)> inspect) {
  TestNode& target = *nodes_[node.value() - 1];
  co_await on_shard(here, ShardId(static_cast<uint32_t>(node.value() - 1)),
                    [&](Shard& /*shard*/) -> Task<void> {
                      inspect(target.state_machine.get());
                      co_return;
                    });
}

Task<Result<LogIndex>> Cluster::snapshot_now(Shard& here, NodeId node, GroupId group) {
  Result<LogIndex> result = Error(ErrorCode::kNotFound, "node is down");
  TestNode& target = *nodes_[node.value() - 1];
  co_await on_shard(here, ShardId(static_cast<uint32_t>(node.value() - 1)),
                    [&](Shard& /*shard*/) -> Task<void> {
                      if (target.engine != nullptr) {
                        result = co_await target.engine->snapshot_now(group);
                      }
                    });
  co_return result;
}

}  // namespace ringraft::replica::testing
