// Node: the embedding facade for programs that do not use coroutines. It owns a Reactor (one
// thread per shard) and a ShardEngine per shard; group g lives on shard g % shard_count on
// every node (so Raft traffic never crosses shards). propose() and wait_leader() may be
// called from any thread and answer through std::future.
//
//   ringraft::NodeOptions options;            // node, voters, groups, data_directory, ...
//   options.make_bus = ...;                   // the transport of shard k (called on shard k)
//   options.make_state_machine = ...;
//   ringraft::Node node(std::move(options));
//   node.start();                             // every shard recovered its WAL and opened
//   auto outcome = node.propose(GroupId(1), bytes).get();
//   node.stop();
//
// Requests from other threads wait in a per-shard list (mutex). The first request into an empty
// list posts one "drain" message to the shard (Reactor::try_post, which wakes it at once); the
// shard takes the whole list then, so a burst of requests costs one post and one wake-up, and
// the reactor's outside inbox holds at most one message per shard from us (it cannot fill).
// Inbound messages: the transport calls engine(shard)->receive() on that shard.
#pragma once

#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "raft/replica/engine_options.h"
#include "raft/replica/message_bus.h"
#include "raft/replica/proposal.h"
#include "raft/replica/shard_engine.h"
#include "raft/replica/state_machine.h"
#include "reactor/reactor.h"

namespace ringraft {

struct NodeOptions {
  // node, voters, raft and WAL settings for every shard; `groups` lists every group of the
  // node (each shard hosts its share); wal.directory is set per shard from data_directory.
  replica::EngineOptions engine;
  std::string data_directory;  // shard k keeps its WAL in <data_directory>/shard-<k>
  uint32_t shard_count = 1;
  bool pin_threads = false;
  std::function<std::unique_ptr<replica::MessageBus>(Shard&)> make_bus;
  std::function<std::unique_ptr<replica::StateMachine>(ShardId)> make_state_machine;
  Duration inbox_poll = std::chrono::milliseconds(1);  // unused: requests wake the shard at once
};

class Node {
 public:
  explicit Node(NodeOptions options);
  ~Node();  // stop()s if running
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Starts the shards; returns once every engine is open, or the first error (then nothing
  // runs).
  Result<void> start();
  // Closes every engine (open proposals end as kShuttingDown) and joins the threads.
  void stop();

  std::future<replica::ProposeResult> propose(GroupId group, std::vector<std::byte> command);
  // The leader `group` knows of, once it knows one (NodeId{0} if the node stops first).
  std::future<NodeId> wait_leader(GroupId group);

  // Membership and leadership of `group`, on its leader (replica::ShardEngine has the
  // details): the committed change's index, or why not (kNotFound: not the leader, the
  // message names the hint; kFull: another change pending; kInvalidInput: the change does not
  // apply; kCancelled: dropped, timed out, or the node stopped).
  std::future<Result<LogIndex>> add_learner(GroupId group, NodeId node);
  std::future<Result<LogIndex>> promote(GroupId group, NodeId node);
  std::future<Result<LogIndex>> remove_member(GroupId group, NodeId node);
  std::future<Result<void>> transfer_leader(GroupId group, NodeId to);
  // Role, term, commit, applied, leader, configuration, per-peer progress (on the leader).
  std::future<Result<replica::GroupStatus>> status(GroupId group);

  ShardId shard_of(GroupId group) const;
  // Shard k's engine, for the transport's inbound path; use on shard k only.
  replica::ShardEngine* engine(ShardId shard);

 private:
  struct Request {
    GroupId group;
    std::vector<std::byte> command;  // empty for wait_leader
    std::promise<replica::ProposeResult> proposed;
    std::promise<NodeId> leader;
    bool is_propose = true;
    // Administrative requests: run on the group's shard; `refuse` answers when the node
    // is not running.
    std::function<Task<void>(replica::ShardEngine&)> admin{};
    std::function<void()> refuse{};
  };
  template <class T>
  std::future<Result<T>> submit_admin(GroupId group,
                                      std::function<Task<Result<T>>(replica::ShardEngine&)> run);
  struct ShardSlot;

  Task<void> run_shard(Shard& shard);
  Task<bool> open_shard(Shard& shard, ShardSlot& slot);
  static Task<void> serve(replica::ShardEngine& engine, Request request);
  void submit(Request request);
  static void on_drain(Shard& shard, const ShardMessage& message);
  Result<void> post_drain(ShardSlot& slot, ShardId shard);  // caller holds mutex_
  void signal(const std::function<void()>& change);

  NodeOptions options_;
  std::unique_ptr<Reactor> reactor_;
  std::vector<std::unique_ptr<ShardSlot>> slots_;
  std::thread thread_;
  std::mutex mutex_;  // guards the counters below and every slot's inbox
  std::condition_variable changed_;
  uint32_t shards_open_ = 0;
  uint32_t shards_closed_ = 0;
  bool reactor_done_ = false;  // run() returned
  std::optional<Error> start_error_;
  bool running_ = false;
};

}  // namespace ringraft
