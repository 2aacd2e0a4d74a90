#include "tests/raft/scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "raft/core/describe.h"
#include "tests/raft/network.h"

namespace ringraft::raft::testing {
namespace {

struct DropRule {
  NodeId from;
  NodeId to;
  std::string type;    // empty: every type
  uint64_t remaining;  // drops left; 0: every matching message, for good
  bool spent = false;
};

class ScenarioRunner {
 public:
  explicit ScenarioRunner(std::string path) : path_(std::move(path)) {}

  void run() {
    std::ifstream in(path_);
    ASSERT_TRUE(in.good()) << "cannot open scenario " << path_;
    std::string line;
    while (std::getline(in, line)) {
      ++line_number_;
      const size_t comment = line.find('#');
      if (comment != std::string::npos) line.resize(comment);
      std::istringstream words(line);
      std::vector<std::string> args;
      for (std::string word; words >> word;) args.push_back(word);
      if (args.empty()) continue;
      SCOPED_TRACE(::testing::Message() << path_ << ":" << line_number_ << ": " << line);
      const int failures_before = failure_count();
      execute(args);
      if (failure_count() > failures_before && net_ != nullptr) {
        ADD_FAILURE() << "cluster state after the failed line:\n" << describe_cluster();
      }
      if (::testing::Test::HasFatalFailure()) return;
    }
  }

 private:
  static uint64_t number(const std::string& text) { return std::stoull(text); }

  static int failure_count() {
    const ::testing::TestResult* result =
        ::testing::UnitTest::GetInstance()->current_test_info()->result();
    int failures = 0;
    for (int i = 0; i < result->total_part_count(); ++i) {
      failures += result->GetTestPartResult(i).failed() ? 1 : 0;
    }
    return failures;
  }

  std::string describe_cluster() {
    std::string text;
    for (uint64_t id = 1; id <= net().size(); ++id) text += "  " + describe(net().node(id)) + "\n";
    const NodeId leader = net().leader();
    if (leader == kNoNode) return text;
    for (uint64_t id = 1; id <= net().size(); ++id) {
      if (NodeId{id} == leader) continue;
      const Progress* pr = net().node(leader.value()).progress(NodeId{id});
      text += "  leader's view of " + std::to_string(id) + ": " + describe(*pr) + "\n";
    }
    return text;
  }

  Network& net() {
    RR_ASSERT_MSG(net_ != nullptr, "scenario: 'cluster' must come first");
    return *net_;
  }

  void execute(const std::vector<std::string>& args) {
    const std::string& command = args[0];
    const auto arg = [&](size_t i, uint64_t fallback) {
      return i < args.size() ? number(args[i]) : fallback;
    };
    if (command == "cluster") return make_cluster(args);
    ASSERT_TRUE(net_ != nullptr) << "'cluster' must come first";
    if (command == "restore") return restore(args);
    if (command == "campaign") {
      net().node(arg(1, 0)).campaign();
      net().process_readies();
      return;
    }
    if (command == "tick") return net().tick(arg(1, 0), static_cast<int>(arg(2, 1)));
    if (command == "tick-all") {
      for (uint64_t i = 0; i < arg(1, 1); ++i) {
        net().tick_all();
        net().stabilize();
      }
      return;
    }
    if (command == "propose") {
      const ProposeResult result = net().node(arg(1, 0)).propose(batch_of(arg(2, 1), arg(3, 8)));
      EXPECT_TRUE(std::holds_alternative<Proposed>(result)) << "node is not the leader";
      return;
    }
    if (command == "deliver") {
      net().process_readies();
      net().deliver_queued();
      return;
    }
    if (command == "stabilize") {
      net().stabilize();
      return;
    }
    if (command == "isolate") return net().isolate(arg(1, 0));
    if (command == "heal") {
      drops_->clear();
      net().heal();
      install_filter();
      return;
    }
    if (command == "drop") {
      drops_->push_back(DropRule{NodeId{arg(1, 0)}, NodeId{arg(2, 0)},
                                 args.size() > 3 ? args[3] : "", arg(4, 0)});
      return;
    }
    if (command == "compact") {
      const Result<void> compacted = net().compact(arg(1, 0), arg(2, 0));
      EXPECT_TRUE(compacted.ok()) << compacted.error().message();
      return;
    }
    if (command == "restart") return net().restart(arg(1, 0));
    if (command == "transfer") {
      const Result<void> started = net().node(arg(1, 0)).transfer_leader(NodeId{arg(2, 0)});
      EXPECT_TRUE(started.ok()) << started.error().message();
      net().process_readies();
      return;
    }
    if (command == "propose-refused") {
      const ProposeResult result = net().node(arg(1, 0)).propose(batch_of(1, 8));
      EXPECT_TRUE(std::holds_alternative<NotLeader>(result)) << "proposal accepted";
      return;
    }
    if (command == "read") {
      const ReadIndexResult result = net().node(arg(1, 0)).read_index(arg(2, 0));
      EXPECT_TRUE(std::holds_alternative<ReadQueued>(result)) << "read refused";
      net().process_readies();
      return;
    }
    if (command == "add-node") {
      const NodeId leader = net().leader();
      const uint64_t from = leader == kNoNode ? 1 : leader.value();
      ASSERT_EQ(arg(1, 0), net().size() + 1) << "add-node: ids follow on";
      return net().add_node(arg(1, 0), net().node(from).membership());
    }
    if (command == "change" || command == "change-refused") return change(args);
    if (command == "hold") return net().hold_durability(arg(1, 0));
    if (command == "release") return net().release_durability(arg(1, 0));
    if (command == "expect") return expect(args);
    FAIL() << "unknown command '" << command << "'";
  }

  void make_cluster(const std::vector<std::string>& args) {
    std::map<std::string, std::string> options;
    for (size_t i = 1; i < args.size(); ++i) {
      const size_t equals = args[i].find('=');
      ASSERT_NE(equals, std::string::npos) << "expected key=value, got " << args[i];
      options[args[i].substr(0, equals)] = args[i].substr(equals + 1);
    }
    const auto take = [&](const std::string& key, uint64_t fallback) {
      const auto it = options.find(key);
      if (it == options.end()) return fallback;
      const std::string value = it->second;
      options.erase(it);
      if (value == "true") return uint64_t{1};
      if (value == "false") return uint64_t{0};
      return number(value);
    };
    const uint64_t nodes = take("nodes", 3);
    const uint64_t seed = take("seed", 1);
    Config defaults;
    const bool pre_vote = take("pre_vote", defaults.pre_vote) != 0;
    const bool check_quorum = take("check_quorum", defaults.check_quorum) != 0;
    const auto election_ticks =
        static_cast<uint32_t>(take("election_ticks", defaults.election_ticks));
    const auto heartbeat_ticks =
        static_cast<uint32_t>(take("heartbeat_ticks", defaults.heartbeat_ticks));
    const auto entries_max =
        static_cast<uint32_t>(take("append_entries_max", defaults.append_entries_max));
    const uint64_t bytes_max = take("append_bytes_max", defaults.append_bytes_max);
    const auto inflight_count =
        static_cast<uint32_t>(take("inflight_count_max", defaults.inflight_count_max));
    const uint64_t inflight_bytes = take("inflight_bytes_max", defaults.inflight_bytes_max);
    const uint64_t learners = take("learners", 0);
    const bool lease_reads = take("lease_reads", defaults.lease_reads) != 0;
    const auto lease_drift_ticks =
        static_cast<uint32_t>(take("lease_drift_ticks", defaults.lease_drift_ticks));
    const uint64_t chunk_bytes =
        take("snapshot_chunk_bytes_max", defaults.snapshot_chunk_bytes_max);
    ASSERT_TRUE(options.empty()) << "unknown cluster option " << options.begin()->first;
    net_ = std::make_unique<Network>(nodes, seed, [&](Config& config) {
      config.pre_vote = pre_vote;
      config.check_quorum = check_quorum;
      config.election_ticks = election_ticks;
      config.heartbeat_ticks = heartbeat_ticks;
      config.append_entries_max = entries_max;
      config.append_bytes_max = bytes_max;
      config.inflight_count_max = inflight_count;
      config.inflight_bytes_max = inflight_bytes;
      config.snapshot_chunk_bytes_max = chunk_bytes;
      config.lease_reads = lease_reads;
      for (uint64_t i = 0; i < learners; ++i) {  // the last `learners` nodes
        config.learners.insert(config.learners.begin(), config.voters.back());
        config.voters.pop_back();
      }
      config.lease_drift_ticks = lease_drift_ticks;
    });
    install_filter();
  }

  void restore(const std::vector<std::string>& args) {
    ASSERT_GE(args.size(), 3u) << "restore <node> term=T [vote=V] [commit=C] [log=t1,t2,...]";
    InitialState state;
    for (size_t i = 2; i < args.size(); ++i) {
      const size_t equals = args[i].find('=');
      ASSERT_NE(equals, std::string::npos) << "expected key=value, got " << args[i];
      const std::string key = args[i].substr(0, equals);
      const std::string value = args[i].substr(equals + 1);
      if (key == "term") {
        state.hard_state.term = Term{number(value)};
      } else if (key == "vote") {
        state.hard_state.vote = NodeId{number(value)};
      } else if (key == "commit") {
        state.hard_state.commit = LogIndex{number(value)};
      } else if (key == "log") {
        std::istringstream terms(value);
        for (std::string term; std::getline(terms, term, ',');) {
          const LogIndex index{state.entries.size() + 1};
          state.entries.push_back(Entry{Term{number(term)}, index, Payload(1, std::byte{1})});
        }
      } else {
        FAIL() << "unknown restore option " << key;
      }
    }
    net().restore(number(args[1]), std::move(state));
  }

  // change <node> <add-learner|promote|remove> <target>
  // change-refused <node> <op> <target> <full|invalid>
  void change(const std::vector<std::string>& args) {
    const bool refused = args[0] == "change-refused";
    ASSERT_EQ(args.size(), refused ? 5u : 4u)
        << args[0] << " <node> <op> <target>" << (refused ? " <full|invalid>" : "");
    MembershipChange change;
    change.node = NodeId{number(args[3])};
    if (args[2] == "add-learner") {
      change.op = MembershipOp::kAddLearner;
    } else if (args[2] == "promote") {
      change.op = MembershipOp::kPromote;
    } else if (args[2] == "remove") {
      change.op = MembershipOp::kRemove;
    } else {
      FAIL() << "unknown membership op " << args[2];
    }
    const Result<void> done = net().node(number(args[1])).change_membership(change);
    if (refused) {
      ASSERT_FALSE(done.ok()) << "change accepted";
      EXPECT_EQ(done.error().code(),
                args[4] == "full" ? ErrorCode::kFull : ErrorCode::kInvalidInput)
          << done.error().message();
    } else {
      EXPECT_TRUE(done.ok()) << done.error().message();
    }
    net().process_readies();
  }

  static std::string id_list(const std::vector<NodeId>& ids) {
    std::vector<uint64_t> sorted;
    for (NodeId id : ids) sorted.push_back(id.value());
    std::sort(sorted.begin(), sorted.end());
    std::string text;
    for (uint64_t id : sorted) text += (text.empty() ? "" : ",") + std::to_string(id);
    return text.empty() ? "-" : text;
  }

  // The nodes a whole-cluster expectation looks at: the leader's members if there is a leader
  // (a removed node keeps its old log and term), else every node.
  std::vector<uint64_t> members() {
    std::vector<uint64_t> ids;
    const NodeId leader = net().leader();
    for (uint64_t id = 1; id <= net().size(); ++id) {
      if (leader == kNoNode || net().node(leader.value()).membership().is_member(NodeId{id})) {
        ids.push_back(id);
      }
    }
    return ids;
  }

  void install_filter() {
    net().set_filter([drops = drops_](const Message& m) {
      for (DropRule& rule : *drops) {
        if (rule.spent || rule.from != m.from || rule.to != m.to ||
            (!rule.type.empty() && rule.type != message_type_name(m.type))) {
          continue;
        }
        // A counted rule drops the first `remaining` messages it sees (a message is seen
        // first when sent; one that passed is not looked at by this rule again).
        if (rule.remaining > 0 && --rule.remaining == 0) rule.spent = true;
        return true;
      }
      return false;
    });
  }

  void expect(const std::vector<std::string>& args) {
    ASSERT_GE(args.size(), 2u) << "expect what?";
    const std::string& what = args[1];
    if (what == "logs-equal") return expect_logs_equal();
    if (what == "reads") {
      ASSERT_EQ(args.size(), 4u) << "expect reads <node> <count>";
      EXPECT_EQ(net().storage(number(args[2])).read_states.size(), number(args[3]));
      return;
    }
    if (what == "read") {
      ASSERT_EQ(args.size(), 5u) << "expect read <node> <context> <index>";
      const std::vector<ReadState>& states = net().storage(number(args[2])).read_states;
      const auto it = std::find_if(states.begin(), states.end(), [&](const ReadState& state) {
        return state.context == number(args[3]);
      });
      ASSERT_NE(it, states.end()) << "no read state for context " << args[3];
      EXPECT_EQ(it->index.value(), number(args[4]));
      return;
    }
    if (what == "progress") {
      ASSERT_EQ(args.size(), 5u) << "expect progress <leader> <peer> <state>";
      const Progress* pr = net().node(number(args[2])).progress(NodeId{number(args[3])});
      ASSERT_NE(pr, nullptr) << "node " << args[2] << " is not the leader";
      EXPECT_EQ(progress_state_name(pr->state()), args[4]);
      return;
    }
    if (what == "change") {
      ASSERT_EQ(args.size(), 6u) << "expect change <node> <op> <target> <fate>";
      const std::vector<ChangeOutcome>& changes = net().storage(number(args[2])).changes;
      const auto it = std::find_if(changes.rbegin(), changes.rend(), [&](const ChangeOutcome& c) {
        return membership_op_name(c.change.op) == args[3] &&
               c.change.node.value() == number(args[4]);
      });
      ASSERT_NE(it, changes.rend()) << "no outcome for " << args[3] << " " << args[4];
      EXPECT_EQ(change_fate_name(it->fate), args[5]);
      return;
    }
    if (what == "changes") {
      ASSERT_EQ(args.size(), 4u) << "expect changes <node> <count>";
      EXPECT_EQ(net().storage(number(args[2])).changes.size(), number(args[3]));
      return;
    }
    if (what == "one-leader") {
      const NodeId leader = net().leader();
      ASSERT_NE(leader, kNoNode) << "no leader";
      for (uint64_t id : members()) {
        EXPECT_EQ(net().node(id).term(), net().node(leader.value()).term()) << "node " << id;
        EXPECT_EQ(net().node(id).leader(), leader) << "node " << id;
      }
      return;
    }
    if (what == "delivered") {
      ASSERT_EQ(args.size(), 4u) << "expect delivered <type> <count>";
      uint64_t count = 0;
      for (const Message& m : net().delivered()) count += args[2] == message_type_name(m.type);
      EXPECT_EQ(count, number(args[3])) << args[2] << " messages delivered";
      return;
    }
    if (what == "rejections") {
      ASSERT_EQ(args.size(), 4u) << "expect rejections <node> <count>";
      uint64_t count = 0;
      for (const Message& m : net().delivered()) {
        count +=
            m.type == MessageType::kAppendResponse && m.reject && m.from == NodeId{number(args[2])};
      }
      EXPECT_EQ(count, number(args[3])) << "Append rejections from node " << args[2];
      return;
    }
    ASSERT_EQ(args.size(), 4u) << "expect " << what << " <node> <value>";
    Core& core = net().node(number(args[2]));
    const std::string& want = args[3];
    if (what == "role") {
      EXPECT_EQ(role_name(core.role()), want);
    } else if (what == "term") {
      EXPECT_EQ(core.term().value(), number(want));
    } else if (what == "commit") {
      EXPECT_EQ(core.log().committed().value(), number(want));
    } else if (what == "last-index") {
      EXPECT_EQ(core.log().last_index().value(), number(want));
    } else if (what == "applied") {
      EXPECT_EQ(net().storage(number(args[2])).applied.size(), number(want));
    } else if (what == "leader") {
      EXPECT_EQ(core.leader().value(), number(want));
    } else if (what == "vote") {
      EXPECT_EQ(core.vote().value(), number(want));
    } else if (what == "voters") {
      EXPECT_EQ(id_list(core.membership().voters), want);
    } else if (what == "learners") {
      EXPECT_EQ(id_list(core.membership().learners), want);
    } else if (what == "promoting") {
      EXPECT_EQ(core.promoting().value(), number(want));
    } else if (what == "snapshot-index") {
      EXPECT_EQ(core.snapshot().index.value(), number(want));
    } else {
      FAIL() << "unknown expectation '" << what << "'";
    }
  }

  // Every node's persisted log ends at the same index, and wherever two nodes both still hold
  // an entry (compaction drops a prefix), it is the same entry.
  void expect_logs_equal() {
    const auto base = [&](uint64_t id) {
      const Storage& storage = net().storage(id);
      return storage.snapshot.has_value() ? storage.snapshot->index.value() : 0;
    };
    const std::vector<uint64_t> ids = members();
    const uint64_t first = ids.front();
    const uint64_t last_1 = base(first) + net().storage(first).entries.size();
    for (uint64_t id : ids) {
      const std::vector<Entry>& entries = net().storage(id).entries;
      EXPECT_EQ(base(id) + entries.size(), last_1) << "last index of node " << id;
      const uint64_t from = std::max(base(first), base(id)) + 1;
      for (uint64_t index = from; index <= std::min(last_1, base(id) + entries.size()); ++index) {
        EXPECT_EQ(entries[index - base(id) - 1],
                  net().storage(first).entries[index - base(first) - 1])
            << "node " << id << " entry " << index;
      }
    }
  }

  std::string path_;
  int line_number_ = 0;
  std::unique_ptr<Network> net_;
  std::shared_ptr<std::vector<DropRule>> drops_ = std::make_shared<std::vector<DropRule>>();
};

}  // namespace

void run_scenario(const std::string& path) {
  ScenarioRunner(path).run();
}

}  // namespace ringraft::raft::testing
