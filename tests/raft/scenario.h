// Text-driven Raft scenarios (tests/raft/testdata/*.txt), in the spirit of etcd-io/raft's
// testdata: one command per line, driving a testing::Network and asserting its state, so a new
// case is a few readable lines. `#` starts a comment. Commands:
//
//   cluster nodes=3 [seed=1] [pre_vote=true] [check_quorum=true] [election_ticks=10]
//           [heartbeat_ticks=1] [append_entries_max=64] [append_bytes_max=N]
//           [inflight_count_max=256] [inflight_bytes_max=N] [snapshot_chunk_bytes_max=N]
//           [lease_reads=false] [lease_drift_ticks=1] [learners=0 (the last n nodes)]
//   restore <node> term=T [vote=V] [commit=C] [log=t1,t2,...]
//                                   restart a node from this hard state and log (entry i has
//                                   term ti and a 1-byte payload)
//   campaign <node>                 the node starts an election (nothing delivered yet)
//   tick <node> [count]             ticks one node (its Ready is processed, nothing delivered)
//   tick-all [count]                ticks every node once per round, delivering between rounds
//   propose <node> [count] [bytes]  proposes `count` payloads of `bytes` bytes (leader only)
//   deliver                         delivers the messages queued now, once
//   stabilize                       delivers until nothing moves
//   isolate <node> | heal           cut a node off / restore every link and drop every rule
//   drop <from> <to> [<type>] [n]   drop messages from -> to (of one type, e.g. Append); with
//                                   n, only the next n such messages
//   compact <node> [index]          snapshot the node's state machine at `index` (default:
//                                   all applied) and compact its log there
//   restart <node>                  crash and restart the node from its storage
//   transfer <leader> <target>      transfer_leader(target) (the leader's Ready is processed)
//   propose-refused <node>          a proposal is refused with NotLeader
//   read <node> <context>           read_index(context) on the node (its Ready is processed)
//   hold <node> | release <node>    hold back / report the node's durability
//   add-node <id>                   a fresh node (the next id), a learner of the leader's
//                                   configuration, not yet known to the group
//   change <node> <add-learner|promote|remove> <target>   change_membership on the node
//   change-refused <node> <op> <target> <full|invalid>     ... refused with kFull/kInvalidInput
//   expect role <node> <follower|pre-candidate|candidate|leader>
//   expect term|commit|last-index|applied <node> <number>
//   expect leader <node> <leader id, 0 for none>
//   expect vote <node> <voted-for id, 0 for none>
//   expect logs-equal               every node's persisted log is the same
//   expect one-leader               a leader exists and every node follows it in its term
//   expect delivered <type> <count> messages of that type delivered so far
//   expect rejections <node> <count> Append rejections the node sent so far
//   expect snapshot-index <node> <n> the node's latest snapshot (taken or installed)
//   expect reads <node> <count>     read states the node's caller received so far
//   expect read <node> <context> <index>   the read state of that context has that index
//   expect progress <leader> <peer> <probe|replicate|snapshot>
//   expect voters|learners <node> <1,2,3 | ->   the node's configuration in effect
//   expect promoting <node> <id>    the learner whose promotion waits (0 for none)
//   expect change <node> <op> <target> <committed|dropped|timed-out|unknown>
//   expect changes <node> <count>   membership outcomes the node's caller received so far
// one-leader and logs-equal look at the leader's members only (a removed node stays behind).
#pragma once

#include <string>

namespace ringraft::raft::testing {

// Runs the scenario file at `path`, reporting each failed expectation as a GoogleTest failure
// that names the file and line.
void run_scenario(const std::string& path);

}  // namespace ringraft::raft::testing
