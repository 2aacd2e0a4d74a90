#include "raft/replica/shard_engine.h"

#include <algorithm>
#include <string>
#include <utility>
#include <variant>

#include "common/assert.h"
#include "common/log.h"
#include "raft/replica/snapshot_image.h"
#include "wal/batch_format.h"
#include "wal/snapshot_file.h"

namespace ringraft::replica {
namespace {

// Rounds of one before_sleep pass: a resumed proposer may propose again, and its proposal
// should join this turn's batch rather than wait for the next wake-up. Bounded so that a
// proposer looping on failures cannot keep the loop from sleeping.
constexpr int kRoundsPerTurnMax = 4;

}  // namespace

// ---- awaiters -------------------------------------------------------------------------------

class ShardEngine::ProposalAwaiter {
 public:
  ProposalAwaiter(Replica& replica, Proposal& proposal) : replica_(replica), proposal_(proposal) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter) noexcept {
    proposal_.waiter = waiter;
    replica_.enqueue(&proposal_);
  }
  void await_resume() const noexcept {}

 private:
  Replica& replica_;
  Proposal& proposal_;
};

class ShardEngine::SpaceAwaiter {
 public:
  explicit SpaceAwaiter(ShardEngine& engine) : engine_(engine) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter) { engine_.space_waiters_.push_back(waiter); }
  void await_resume() const noexcept {}

 private:
  ShardEngine& engine_;
};

class ShardEngine::StateAwaiter {
 public:
  StateAwaiter(ShardEngine& engine, StateWaiter& waiter) : engine_(engine), waiter_(waiter) {}
  bool await_ready() const { return engine_.closing_ || waiter_.ready(); }
  void await_suspend(std::coroutine_handle<> handle) {
    waiter_.handle = handle;
    engine_.state_waiters_.push_back(&waiter_);
  }
  void await_resume() const noexcept {}

 private:
  ShardEngine& engine_;
  StateWaiter& waiter_;
};

// ---- open / close ---------------------------------------------------------------------------

Task<Result<std::unique_ptr<ShardEngine>>> ShardEngine::open(Shard& shard,
                                                             const EngineOptions& options,
                                                             MessageBus& bus,
                                                             StateMachine& state_machine) {
  Result<void> valid = options.validate();
  if (!valid) co_return valid.error();
  Io& io = options.wal_io != nullptr ? *options.wal_io : shard.io();
  Result<RecoveredWal> recovered = co_await recover_wal(io, options);
  if (!recovered) co_return recovered.error();
  // The state machine starts from each group's newest valid snapshot (recover_wal chose it)
  // and the log after it.
  std::map<GroupId, std::vector<std::byte>> images;
  for (const auto& [group, info] : recovered.value().snapshots) {
    Result<std::vector<std::byte>> image = co_await read_image_file(io, info);
    if (!image) co_return image.error();
    images.emplace(group, std::move(image).value());
  }

  std::vector<std::unique_ptr<Replica>> replicas;
  for (GroupId group : options.groups) {
    Result<raft::Core> core = build_core(options, group, recovered.value().states);
    if (!core) co_return core.error();
    replicas.push_back(std::make_unique<Replica>(group, std::move(core).value(),
                                                 options.proposal_timeout_ticks()));
  }
  std::unique_ptr<ShardEngine> engine(
      new ShardEngine(shard, options, bus, state_machine, std::move(replicas)));
  Result<void> restored = engine->restore_at_open(recovered.value().snapshots, images);
  if (!restored) co_return restored.error();
  images.clear();
  // Our hook first: the WAL's hook, registered by Wal::open, then flushes what we appended.
  ShardEngine* self = engine.get();
  engine->hook_ = shard.add_before_sleep([self] { self->before_sleep(); });
  engine->hook_added_ = true;
  Result<std::unique_ptr<wal::Wal>> wal = co_await wal::Wal::open(
      shard, io, options.wal, recovered.value().position, std::move(recovered.value().index));
  if (!wal) {
    engine->closing_ = true;
    shard.remove_before_sleep(engine->hook_);
    engine->hook_added_ = false;
    co_return wal.error();
  }
  engine->wal_ = std::move(wal).value();
  engine->persist_ = PersistQueue(engine->wal_->durable_seq());
  engine->awaited_seq_ = engine->wal_->durable_seq();
  shard.spawn(engine->tick_loop());
  co_return std::move(engine);
}

ShardEngine::ShardEngine(Shard& shard, const EngineOptions& options, MessageBus& bus,
                         StateMachine& state_machine,
                         std::vector<std::unique_ptr<Replica>> replicas)
    : shard_(shard),
      options_(options),
      state_machine_(state_machine),
      replicas_(std::move(replicas)),
      persist_(Seq{0}),
      outbox_(options.node, bus),
      tick_timer_(shard.io()),
      retry_timer_(shard.io()) {
  for (const auto& replica : replicas_) by_group_.emplace(replica->group(), replica.get());
  resolved_.reserve(1024);
  resuming_.reserve(1024);
}

ShardEngine::~ShardEngine() {
  RR_ASSERT_MSG(!hook_added_ || shard_.stopping(), "ShardEngine destroyed without close()");
}

Task<Result<void>> ShardEngine::close() {
  RR_ASSERT_MSG(!closing_, "close() twice");
  closing_ = true;
  if (tick_timer_.armed()) tick_timer_.cancel();
  if (retry_timer_.armed()) retry_timer_.cancel();
  // A reopen under way finishes (or gives up) before the WAL it may replace is closed.
  while (retrying_) co_await shard_.yield();
  for (const auto& replica : replicas_) replica->fail_all(FailReason::kShuttingDown, resolved_);
  resume_resolved();
  std::vector<std::coroutine_handle<>> space_waiters;
  space_waiters.swap(space_waiters_);
  for (std::coroutine_handle<> waiter : space_waiters) waiter.resume();
  notify_state_waiters(true);
  Result<void> closed;
  if (wal_ != nullptr && !wal_closed_) closed = co_await wal_->close();
  // The tick loop and durability waiters hold `this` until they see closing_.
  while (tasks_live_ > 0) co_await shard_.yield();
  shard_.remove_before_sleep(hook_);
  hook_added_ = false;
  co_return closed;
}

// ---- inputs ---------------------------------------------------------------------------------

Task<ProposeResult> ShardEngine::propose(GroupId group, ConstByteSpan command) {
  Replica* replica = find(group);
  if (replica == nullptr || command.empty()) co_return Failed{FailReason::kInvalid};
  if (raft::is_membership_payload(command)) co_return Failed{FailReason::kInvalid};  // reserved
  // A command whose entry can never fit a WAL batch is refused here, not by a failing WAL.
  if (wal_ != nullptr &&
      wal::entries_record_bytes(1, command.size()) > wal_->batch_record_capacity_bytes()) {
    co_return Failed{FailReason::kInvalid};
  }
  while (!closing_ && !failure_ && proposals_outstanding_ >= options_.proposals_pending_max) {
    stats_.proposals_refused_full++;
    if (options_.when_full == WhenFull::kFailFast) co_return Failed{FailReason::kFull};
    co_await SpaceAwaiter(*this);
  }
  if (closing_) co_return Failed{FailReason::kShuttingDown};
  if (failure_) {
    // A follower still names its leader (a server forwards there); a node that led fails fast.
    const NodeId leader = replica->core().leader();
    if (leader != raft::kNoNode && leader != options_.node) co_return NotLeader{leader};
    co_return Failed{FailReason::kWalFailed};
  }
  if (replica->core().role() != raft::Role::kLeader) {
    co_return NotLeader{replica->core().leader()};
  }
  Proposal proposal;
  proposal.group = group;
  proposal.command = command;
  proposals_outstanding_++;
  co_await ProposalAwaiter(*replica, proposal);
  co_return std::move(proposal.result);
}

Result<void> ShardEngine::receive(NodeId from, const wire::Message& message) {
  if (closing_ || failure_) return {};  // a silent node, as if crashed
  stats_.inbound_messages++;
  if (message.from() != from.value()) {
    stats_.inbound_refused++;
    return Error(ErrorCode::kInvalidInput,
                 "wire message claims to be from node " + std::to_string(message.from()) +
                     " but came from node " + std::to_string(from.value()));
  }
  inbound_scratch_.clear();
  Result<void> decoded = decoder_.decode(message, inbound_scratch_);
  if (!decoded) {
    stats_.inbound_refused++;
    return decoded;
  }
  Result<void> result;
  for (GroupMessage& inbound : inbound_scratch_) {
    Replica* replica = find(inbound.group);
    if (replica == nullptr) {
      stats_.inbound_unknown_group++;
      continue;
    }
    Result<void> stepped = replica->core().step(std::move(inbound.message));
    if (!stepped) {
      stats_.inbound_refused++;
      result = stepped;
    }
  }
  return result;
}

Task<void> ShardEngine::wait_until(std::function<bool()> ready) {
  StateWaiter waiter;
  waiter.ready = std::move(ready);
  co_await StateAwaiter(*this, waiter);
}

Task<void> ShardEngine::wait_applied(GroupId group, LogIndex index) {
  Replica* replica = find(group);
  RR_ASSERT_MSG(replica != nullptr, "wait_applied on an unknown group");
  StateWaiter waiter;
  waiter.ready = [replica, index] { return replica->applied_index() >= index; };
  co_await StateAwaiter(*this, waiter);
}

Task<Result<LogIndex>> ShardEngine::read_index(GroupId group) {
  Replica* replica = find(group);
  if (replica == nullptr) {
    co_return Error(ErrorCode::kNotFound,
                    "read_index: group " + std::to_string(group.value()) + " is not on this shard");
  }
  if (closing_ || failure_) co_return Error(ErrorCode::kCancelled, "read_index: engine stopped");
  PendingRead read;
  read.group = group;
  read.context = ++read_context_last_;
  const raft::ReadIndexResult taken = replica->core().read_index(read.context);
  if (std::holds_alternative<raft::NotLeader>(taken)) {
    co_return Error(ErrorCode::kNotFound, "read_index: no leader known yet");
  }
  if (std::holds_alternative<raft::ReadsFull>(taken)) {
    co_return Error(ErrorCode::kFull, "read_index: the leader holds its bound of reads");
  }
  // The core answers in a later Ready (collect_readies fills read.index), or never if
  // leadership changes first: then the deadline ends the wait.
  const uint64_t deadline = ticks_ + 2 * uint64_t{options_.raft.election_ticks};
  reads_.push_back(&read);
  StateWaiter waiter;
  waiter.ready = [this, replica, &read, deadline] {
    if (failure_ || ticks_ >= deadline) return true;
    return read.index.has_value() && replica->applied_index() >= *read.index;
  };
  co_await StateAwaiter(*this, waiter);
  std::erase(reads_, &read);
  if (read.index.has_value() && replica->applied_index() >= *read.index) co_return *read.index;
  co_return Error(ErrorCode::kCancelled,
                  closing_ || failure_ ? "read_index: engine stopped"
                                       : "read_index: no answer in time (leadership changed?)");
}

Task<NodeId> ShardEngine::wait_leader(GroupId group, NodeId other_than,
                                      std::optional<Duration> limit) {
  Replica* replica = find(group);
  RR_ASSERT_MSG(replica != nullptr, "wait_leader on an unknown group");
  const auto known = [replica, other_than] {
    const NodeId leader = replica->core().leader();
    return leader != raft::kNoNode && leader != other_than;
  };
  // Waiters are checked every turn and every tick is a turn, so a tick deadline bounds the
  // wait without a timer of its own.
  uint64_t deadline = UINT64_MAX;
  if (limit.has_value()) {
    const uint64_t interval_ns = static_cast<uint64_t>(options_.tick_interval.count());
    const uint64_t limit_ns = static_cast<uint64_t>(std::max(limit->count(), int64_t{0}));
    deadline = ticks_ + (limit_ns + interval_ns - 1) / interval_ns;
  }
  StateWaiter waiter;
  waiter.ready = [this, known, deadline] { return known() || failure_ || ticks_ >= deadline; };
  co_await StateAwaiter(*this, waiter);
  co_return closing_ || !known() ? raft::kNoNode : replica->core().leader();
}

Task<void> ShardEngine::tick_loop() {
  tasks_live_++;
  while (!closing_) {
    const IoResult slept = co_await tick_timer_.wait_for(options_.tick_interval);
    if (closing_ || !slept.ok()) break;
    if (failure_) continue;
    ticks_++;
    for (const auto& replica : replicas_) replica->tick(resolved_);
  }
  tasks_live_--;
}

Task<void> ShardEngine::await_durable(Seq seq) {
  tasks_live_++;
  const uint64_t generation = wal_generation_;
  Result<Seq> durable = co_await wal_->wait_durable(seq);
  tasks_live_--;
  // The next turn's before_sleep releases what became durable. A failure of a WAL that was
  // replaced since (reopen_wal) is old news.
  if (!durable && !closing_ && generation == wal_generation_) fail(durable.error());
}

// ---- one turn -------------------------------------------------------------------------------

void ShardEngine::before_sleep() {
  if (wal_ == nullptr || closing_) return;
  if (failure_) {
    for (const auto& replica : replicas_) replica->fail_all(FailReason::kWalFailed, resolved_);
    resume_resolved();
    notify_state_waiters(false);
    outbox_.flush();  // step_down_all()'s TimeoutNow, when the failure came from a completion
    return;
  }
  for (int round = 0; round < kRoundsPerTurnMax && !closing_ && !failure_; ++round) {
    run_round();
    const bool resumed = !resolved_.empty();
    resume_resolved();
    bool more = false;
    for (const auto& replica : replicas_) more = more || replica->has_queued();
    if (!resumed || !more) break;
  }
  notify_state_waiters(false);
#ifndef NDEBUG
  check_invariants();
#endif
}

void ShardEngine::run_round() {
  release_durable();
  for (const auto& replica : replicas_) {
    if (replica->has_queued()) replica->flush_proposals(resolved_);
  }
  collect_readies();
  write_wal();
  release_durable();  // Readies with nothing to write may be releasable at once
  outbox_.flush();
}

void ShardEngine::release_durable() {
  const Seq durable = wal_->durable_seq();
  PendingPersist done;
  while (persist_.release(durable, done)) {
    Replica& replica = *done.replica;
    stats_.entries_durable += done.ready.entries.size();
    if (!done.ready.entries.empty()) {
      const raft::Entry& last = done.ready.entries.back();
      replica.core().persisted_to(last.index, last.term);
    }
    for (raft::Message& message : done.ready.messages_after_persist) {
      outbox_.add(replica.group(), std::move(message));
    }
  }
  // persisted_to may have produced Readies (commits, acknowledgements): collect them now.
}

void ShardEngine::collect_readies() {
  for (const auto& replica : replicas_) {
    raft::Core& core = replica->core();
    // A snapshot being installed holds the group's later Readies back (ready.h item 6).
    if (replica->snapshots().installing || !core.has_ready()) continue;
    raft::Ready ready = core.ready();
    core.advance(ready);
    stats_.readies++;
    for (raft::Message& message : ready.messages) {
      if (message.type == raft::MessageType::kSnapshot) {
        fill_snapshot_chunk(*replica, std::move(message));  // bytes come from the file
      } else {
        outbox_.add(replica->group(), std::move(message));
      }
    }
    ready.messages.clear();
    if (!ready.snapshot_chunks.empty() || ready.snapshot.has_value()) {
      replica->snapshots().installing = true;
      shard_.spawn(install_snapshot(*replica, std::move(ready)));
      continue;
    }
    take_ready(*replica, std::move(ready));
  }
}

void ShardEngine::take_ready(Replica& replica, raft::Ready ready) {
  replica.apply(ready.committed_entries, state_machine_, resolved_);
  ready.committed_entries.clear();
  // Membership (shard_engine_admin.cc): outcomes wake the change_membership() callers.
  // Ready::membership needs nothing here: the bus reaches any node by id.
  for (const raft::ChangeOutcome& outcome : ready.membership_changes) {
    replica.record_change(outcome);
  }
  // ready.h item 8: the waiting read_index() resumes once applied reaches the index.
  for (const raft::ReadState& state : ready.read_states) {
    for (PendingRead* read : reads_) {
      if (read->group == replica.group() && read->context == state.context) {
        read->index = state.index;
      }
    }
  }
  if (ready.hard_state.has_value() || !ready.entries.empty() ||
      !ready.messages_after_persist.empty()) {
    persist_.push(replica, std::move(ready));
  }
  maybe_snapshot(replica);
}

void ShardEngine::write_wal() {
  Result<void> written = persist_.write(*wal_);
  if (!written) {
    fail(written.error());
    return;
  }
  const Seq wanted = persist_.last_assigned_seq();
  if (wanted > awaited_seq_ && wanted > wal_->durable_seq()) {
    awaited_seq_ = wanted;
    shard_.spawn(await_durable(wanted));
  }
}

void ShardEngine::resume_resolved() {
  while (!resolved_.empty()) {
    resuming_.swap(resolved_);
    for (Proposal* proposal : resuming_) {
      RR_ASSERT(proposals_outstanding_ > 0);
      proposals_outstanding_--;
      if (!space_waiters_.empty() && proposals_outstanding_ < options_.proposals_pending_max) {
        const std::coroutine_handle<> waiter = space_waiters_.front();
        space_waiters_.erase(space_waiters_.begin());
        waiter.resume();
      }
      proposal->waiter.resume();  // the proposal's frame may be gone after this
    }
    resuming_.clear();
  }
}

void ShardEngine::notify_state_waiters(bool all) {
  if (state_waiters_.empty()) return;
  std::vector<StateWaiter*> ready;
  for (auto it = state_waiters_.begin(); it != state_waiters_.end();) {
    if (all || (*it)->ready()) {
      ready.push_back(*it);
      it = state_waiters_.erase(it);
    } else {
      ++it;
    }
  }
  for (StateWaiter* waiter : ready) waiter->handle.resume();
}

void ShardEngine::fail(const Error& error) {
  if (failure_) return;
  RR_LOG_ERROR("engine of node {}: the WAL failed, no more writes on this shard: {}",
               options_.node.value(), error.message());
  failure_ = error;
  stats_.wal_failures++;
  step_down_all();
  if (options_.wal_retry_interval > Duration::zero() && !closing_ && !retrying_) {
    retrying_ = true;
    shard_.spawn(retry_wal());
  }
}

// ---- observation ----------------------------------------------------------------------------

Replica* ShardEngine::find(GroupId group) {
  const auto it = by_group_.find(group);
  return it == by_group_.end() ? nullptr : it->second;
}

const Replica* ShardEngine::replica(GroupId group) const {
  const auto it = by_group_.find(group);
  return it == by_group_.end() ? nullptr : it->second;
}

void ShardEngine::check_invariants() const {
  size_t outstanding = 0;
  for (const auto& replica : replicas_) {
    replica->check_invariants();
    outstanding += replica->proposals_outstanding();
  }
  RR_ASSERT(outstanding + resolved_.size() + resuming_.size() == proposals_outstanding_);
  RR_ASSERT(proposals_outstanding_ <= options_.proposals_pending_max);
}

}  // namespace ringraft::replica
