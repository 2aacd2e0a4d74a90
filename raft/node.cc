#include "raft/node.h"

#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

#include "common/assert.h"
#include "reactor/latch.h"

namespace ringraft {

using replica::Failed;
using replica::FailReason;
using replica::ProposeResult;

struct Node::ShardSlot {
  std::unique_ptr<replica::MessageBus> bus;
  std::unique_ptr<replica::StateMachine> state_machine;
  std::unique_ptr<replica::ShardEngine> engine;
  std::vector<Request> inbox;   // guarded by Node::mutex_
  bool drain_posted = false;    // guarded by Node::mutex_: an on_drain is on its way
  bool stop_requested = false;  // guarded by Node::mutex_
  // Shard side only: run_shard waits on it for the stop request; on_drain counts it down.
  Latch* stop_latch = nullptr;
  std::vector<Request> running;  // shard side only: the list taken by the last on_drain
};

Node::Node(NodeOptions options) : options_(std::move(options)) {
  for (uint32_t k = 0; k < options_.shard_count; ++k) {
    slots_.push_back(std::make_unique<ShardSlot>());
  }
}

Node::~Node() {
  stop();
}

ShardId Node::shard_of(GroupId group) const {
  return ShardId(static_cast<uint32_t>(group.value() % options_.shard_count));
}

replica::ShardEngine* Node::engine(ShardId shard) {
  return slots_[shard.value()]->engine.get();
}

Result<void> Node::start() {
  RR_ASSERT_MSG(!running_ && !thread_.joinable(), "Node started twice");
  if (options_.shard_count == 0 || !options_.make_bus || !options_.make_state_machine) {
    return Error(ErrorCode::kInvalidInput,
                 "node options: shard_count >= 1, make_bus and make_state_machine are required");
  }
  ReactorConfig config;
  config.shard_count = options_.shard_count;
  config.pin_threads = options_.pin_threads;
  reactor_ = std::make_unique<Reactor>(config);
  thread_ = std::thread([this] {
    Result<void> ran = reactor_->run([this](Shard& shard) { return run_shard(shard); });
    signal([&] {
      if (!ran && !start_error_) start_error_ = ran.error();
      reactor_done_ = true;
    });
  });
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] {
    return start_error_.has_value() || reactor_done_ ||
           shards_open_ + shards_closed_ == options_.shard_count;
  });
  if (!start_error_ && shards_open_ == options_.shard_count) {
    running_ = true;
    return {};
  }
  const Error error = start_error_.value_or(Error(ErrorCode::kClosed, "a shard did not start"));
  lock.unlock();
  stop();
  return error;
}

void Node::stop() {
  if (!thread_.joinable()) return;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    for (uint32_t k = 0; k < slots_.size(); k++) {
      slots_[k]->stop_requested = true;
      if (!reactor_done_) (void)post_drain(*slots_[k], ShardId(k));  // a closed shard needs none
    }
    changed_.wait(lock, [&] { return reactor_done_ || shards_closed_ == options_.shard_count; });
    running_ = false;
  }
  reactor_->stop();
  thread_.join();
}

void Node::signal(const std::function<void()>& change) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    change();
  }
  changed_.notify_all();
}

Result<void> Node::post_drain(ShardSlot& slot, ShardId shard) {
  if (slot.drain_posted) return {};
  ShardMessage drain;
  drain.handler = &Node::on_drain;
  drain.object = this;
  drain.value0 = shard.value();
  const PostResult posted = reactor_->try_post(shard, drain);
  // We post at most one message per shard at a time, so only a finished loop refuses it.
  RR_ASSERT(posted != PostResult::kFull);
  if (posted != PostResult::kPosted) return Error(ErrorCode::kClosed, "the shard has stopped");
  slot.drain_posted = true;
  return {};
}

void Node::on_drain(Shard& shard, const ShardMessage& message) {
  auto& self = *static_cast<Node*>(message.object);
  ShardSlot& slot = *self.slots_[message.value0];
  RR_ASSERT(slot.running.empty());
  bool stopping;
  {
    const std::lock_guard<std::mutex> lock(self.mutex_);
    slot.running.swap(slot.inbox);
    slot.drain_posted = false;
    stopping = slot.stop_requested;
  }
  for (Request& request : slot.running) {
    if (slot.engine != nullptr) shard.spawn(serve(*slot.engine, std::move(request)));
  }
  slot.running.clear();
  if (stopping && slot.stop_latch != nullptr && slot.stop_latch->count() > 0) {
    slot.stop_latch->count_down();
  }
}

void Node::submit(Request request) {
  const std::lock_guard<std::mutex> lock(mutex_);
  const ShardId shard = shard_of(request.group);
  ShardSlot& slot = *slots_[shard.value()];
  if (!running_ || slot.stop_requested || !post_drain(slot, shard)) {
    if (request.refuse) {
      request.refuse();
    } else if (request.is_propose) {
      request.proposed.set_value(Failed{FailReason::kShuttingDown});
    } else {
      request.leader.set_value(NodeId(0));
    }
    return;
  }
  slot.inbox.push_back(std::move(request));
}

std::future<ProposeResult> Node::propose(GroupId group, std::vector<std::byte> command) {
  Request request;
  request.group = group;
  request.command = std::move(command);
  std::future<ProposeResult> outcome = request.proposed.get_future();
  submit(std::move(request));
  return outcome;
}

std::future<NodeId> Node::wait_leader(GroupId group) {
  Request request;
  request.group = group;
  request.is_propose = false;
  std::future<NodeId> leader = request.leader.get_future();
  submit(std::move(request));
  return leader;
}

template <class T>
std::future<Result<T>> Node::submit_admin(
    GroupId group, std::function<Task<Result<T>>(replica::ShardEngine&)> run) {
  auto answer = std::make_shared<std::promise<Result<T>>>();
  std::future<Result<T>> outcome = answer->get_future();
  Request request;
  request.group = group;
  request.is_propose = false;
  request.admin = [answer, run = std::move(run)](replica::ShardEngine& engine) -> Task<void> {
    answer->set_value(co_await run(engine));
  };
  request.refuse = [answer] {
    answer->set_value(Error(ErrorCode::kCancelled, "node is not running"));
  };
  submit(std::move(request));
  return outcome;
}

std::future<Result<LogIndex>> Node::add_learner(GroupId group, NodeId node) {
  return submit_admin<LogIndex>(group, [group, node](replica::ShardEngine& engine) {
    return engine.add_learner(group, node);
  });
}

std::future<Result<LogIndex>> Node::promote(GroupId group, NodeId node) {
  return submit_admin<LogIndex>(
      group, [group, node](replica::ShardEngine& engine) { return engine.promote(group, node); });
}

std::future<Result<LogIndex>> Node::remove_member(GroupId group, NodeId node) {
  return submit_admin<LogIndex>(group, [group, node](replica::ShardEngine& engine) {
    return engine.remove_member(group, node);
  });
}

std::future<Result<void>> Node::transfer_leader(GroupId group, NodeId to) {
  return submit_admin<void>(group, [group, to](replica::ShardEngine& engine) {
    return engine.transfer_leader(group, to);
  });
}

namespace {
Task<Result<replica::GroupStatus>> status_now(replica::ShardEngine& engine, GroupId group) {
  co_return engine.status(group);
}
}  // namespace

std::future<Result<replica::GroupStatus>> Node::status(GroupId group) {
  return submit_admin<replica::GroupStatus>(
      group, [group](replica::ShardEngine& engine) { return status_now(engine, group); });
}

Task<bool> Node::open_shard(Shard& shard, ShardSlot& slot) {
  replica::EngineOptions options = options_.engine;
  options.groups.clear();
  for (GroupId group : options_.engine.groups) {
    if (shard_of(group) == shard.id()) options.groups.push_back(group);
  }
  if (options.groups.empty()) co_return true;  // no group maps here: nothing to open
  const std::filesystem::path directory = std::filesystem::path(options_.data_directory) /
                                          ("shard-" + std::to_string(shard.id().value()));
  std::error_code created;
  std::filesystem::create_directories(directory, created);  // start-up only, not the hot path
  options.wal.directory = directory.string();
  slot.bus = options_.make_bus(shard);
  slot.state_machine = options_.make_state_machine(shard.id());
  Result<std::unique_ptr<replica::ShardEngine>> opened =
      co_await replica::ShardEngine::open(shard, options, *slot.bus, *slot.state_machine);
  if (!opened) {
    signal([&] { start_error_ = opened.error(); });
    co_return false;
  }
  slot.engine = std::move(opened).value();
  co_return true;
}

Task<void> Node::run_shard(Shard& shard) {
  ShardSlot& slot = *slots_[shard.id().value()];
  const bool opened = co_await open_shard(shard, slot);
  if (opened) signal([&] { shards_open_++; });
  if (opened) {
    // Requests arrive through on_drain; this task only waits for the stop request. Checked
    // under the lock first: a stop posted while we were opening found no latch to count down.
    Latch stop(1);
    bool stop_requested;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stop_requested = slot.stop_requested;
    }
    if (!stop_requested) {
      slot.stop_latch = &stop;
      co_await stop.wait();
      slot.stop_latch = nullptr;
    }
  }
  if (slot.engine != nullptr) {
    (void)co_await slot.engine->close();
    slot.engine.reset();
  }
  signal([&] { shards_closed_++; });
}

Task<void> Node::serve(replica::ShardEngine& engine, Request request) {
  if (request.admin) {
    co_await request.admin(engine);
  } else if (request.is_propose) {
    request.proposed.set_value(co_await engine.propose(request.group, request.command));
  } else {
    request.leader.set_value(co_await engine.wait_leader(request.group));
  }
}

}  // namespace ringraft
