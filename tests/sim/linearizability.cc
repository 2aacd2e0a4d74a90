// The per-key search of linearizability.h: events in a doubly linked list that the search
// "lifts" operations out of as it linearizes them, a stack to backtrack, and a cache of
// (linearized set, state) pairs.
#include "tests/sim/linearizability.h"

#include <algorithm>
#include <map>
#include <unordered_set>

#include "common/assert.h"

namespace ringraft::sim {

const char* linearizable_name(Linearizable verdict) {
  switch (verdict) {
    case Linearizable::kYes:
      return "linearizable";
    case Linearizable::kNo:
      return "NOT linearizable";
    case Linearizable::kInconclusive:
      return "inconclusive";
  }
  return "?";
}

namespace {

// One call or return event; `partner` is the other event of the same operation.
struct Event {
  uint64_t time = 0;
  bool is_call = false;
  size_t op = 0;  // index into the key's operations
  size_t partner = 0;
  size_t prev = 0;
  size_t next = 0;
};

// A set of operation indexes, hashable together with a model state for the cache.
struct Explored {
  std::vector<uint64_t> linearized;
  std::string state;
  bool operator==(const Explored&) const = default;
};

struct ExploredHash {
  size_t operator()(const Explored& explored) const {
    uint64_t hash = std::hash<std::string>{}(explored.state);
    for (uint64_t word : explored.linearized) hash = (hash ^ word) * 0x100000001b3ULL;
    return hash;
  }
};

// The KV model of one key: put sets, append extends, get must read the current value.
bool model_step(const std::string& state, const Operation& op, std::string& next_state) {
  switch (op.kind) {
    case OpKind::kPut:
      next_state = op.value;
      return true;
    case OpKind::kAppend:
      next_state = state + op.value;
      return true;
    case OpKind::kGet:
      next_state = state;
      return op.value == state;
  }
  return false;
}

// Events sorted by time, linked through prev/next; index 0 is the list head (a sentinel).
std::vector<Event> build_events(const std::vector<const Operation*>& ops) {
  std::vector<Event> events(1);
  for (size_t i = 0; i < ops.size(); ++i) {
    Event call;
    call.time = ops[i]->call_time;
    call.is_call = true;
    call.op = i;
    events.push_back(call);
    Event ret;
    ret.time = ops[i]->return_time;
    ret.op = i;
    events.push_back(ret);
  }
  // Returns at the same (infinite) time keep any order; calls never tie in a simulator history.
  std::stable_sort(events.begin() + 1, events.end(), [](const Event& a, const Event& b) {
    if (a.time != b.time) return a.time < b.time;
    return a.is_call && !b.is_call;
  });
  std::vector<size_t> call_of(ops.size()), return_of(ops.size());
  for (size_t i = 1; i < events.size(); ++i) {
    (events[i].is_call ? call_of : return_of)[events[i].op] = i;
    events[i].prev = i - 1;
    events[i].next = i + 1 < events.size() ? i + 1 : 0;
  }
  events[0].next = events.size() > 1 ? 1 : 0;
  for (size_t op = 0; op < ops.size(); ++op) {
    events[call_of[op]].partner = return_of[op];
    events[return_of[op]].partner = call_of[op];
  }
  return events;
}

void unlink(std::vector<Event>& events, size_t i) {
  events[events[i].prev].next = events[i].next;
  if (events[i].next != 0) events[events[i].next].prev = events[i].prev;
}

void relink(std::vector<Event>& events, size_t i) {
  events[events[i].prev].next = i;
  if (events[i].next != 0) events[events[i].next].prev = i;
}

// Lifting an operation takes its call and its return out of the list (the return first, so
// that putting them back in the reverse order restores the list exactly).
void lift(std::vector<Event>& events, size_t call) {
  unlink(events, call);
  unlink(events, events[call].partner);
}

void unlift(std::vector<Event>& events, size_t call) {
  relink(events, events[call].partner);
  relink(events, call);
}

Linearizable check_key(const std::vector<const Operation*>& ops, uint64_t steps_max,
                       uint64_t& steps) {
  std::vector<Event> events = build_events(ops);
  std::unordered_set<Explored, ExploredHash> cache;
  struct Frame {
    size_t call;
    std::string state_before;
  };
  std::vector<Frame> stack;
  Explored current;
  current.linearized.assign((ops.size() + 63) / 64, 0);
  size_t entry = events[0].next;
  uint64_t key_steps = 0;
  while (events[0].next != 0) {
    if (++key_steps > steps_max) return Linearizable::kInconclusive;
    ++steps;
    RR_ASSERT(entry != 0);
    const Event& event = events[entry];
    if (event.is_call) {
      std::string next_state;
      if (model_step(current.state, *ops[event.op], next_state)) {
        Explored candidate{current.linearized, next_state};
        candidate.linearized[event.op / 64] |= uint64_t{1} << (event.op % 64);
        if (cache.insert(candidate).second) {
          stack.push_back(Frame{entry, std::move(current.state)});
          current = std::move(candidate);
          lift(events, entry);
          entry = events[0].next;
          continue;
        }
      }
      entry = event.next;
      continue;
    }
    // A return whose operation is not linearized yet: backtrack.
    if (stack.empty()) return Linearizable::kNo;
    Frame frame = std::move(stack.back());
    stack.pop_back();
    const size_t op = events[frame.call].op;
    current.state = std::move(frame.state_before);
    current.linearized[op / 64] &= ~(uint64_t{1} << (op % 64));
    unlift(events, frame.call);
    entry = events[frame.call].next;
  }
  return Linearizable::kYes;
}

// A write with an unknown outcome whose value no successful get ever read can be dropped: if it
// took effect, no get sits between it and the next put in any linearization (each would have
// read its value), so removing it changes no get's result; and "never took effect" was always
// allowed. Without this, k unobserved unknown writes give the search 2^k equivalent states.
bool unobserved_unknown_write(const Operation& op, const std::vector<const Operation*>& gets) {
  if (op.outcome != Outcome::kUnknown || op.kind == OpKind::kGet || op.value.empty()) {
    return false;
  }
  for (const Operation* get : gets) {
    if (get->value.find(op.value) != std::string::npos) return false;
  }
  return true;
}

}  // namespace

LinearizabilityResult check_linearizable(const std::vector<Operation>& history,
                                         uint64_t steps_max_per_key) {
  std::map<std::string, std::vector<const Operation*>> gets_by_key;
  for (const Operation& op : history) {
    if (op.outcome == Outcome::kOk && op.kind == OpKind::kGet) gets_by_key[op.key].push_back(&op);
  }
  std::map<std::string, std::vector<const Operation*>> by_key;
  LinearizabilityResult result;
  for (const Operation& op : history) {
    if (op.outcome == Outcome::kFail) continue;
    if (op.outcome == Outcome::kUnknown && op.kind == OpKind::kGet) continue;
    RR_ASSERT(op.outcome != Outcome::kUnknown || op.return_time == kNeverReturned);
    if (unobserved_unknown_write(op, gets_by_key[op.key])) continue;
    by_key[op.key].push_back(&op);
    ++result.operations;
  }
  for (const auto& [key, ops] : by_key) {
    const Linearizable verdict = check_key(ops, steps_max_per_key, result.steps);
    if (verdict == Linearizable::kYes) continue;
    // A definite "no" outranks an inconclusive key seen earlier.
    if (result.verdict == Linearizable::kYes || verdict == Linearizable::kNo) {
      result.verdict = verdict;
      result.key = key;
    }
    if (verdict == Linearizable::kNo) break;
  }
  return result;
}

}  // namespace ringraft::sim
