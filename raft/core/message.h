// The messages Raft cores exchange. One flat struct for every type (as etcd-io/raft's
// raftpb.Message): the transport (raft/replica/wire.*) maps it to the FlatBuffers schema, and
// fields a type does not use stay at their zero value.
//
//   type              log_index / log_term         entries  commit   reject + hints
//   kPreVoteRequest   candidate's last index/term  -        -        -
//   kVoteRequest      candidate's last index/term  -        -        -
//   kPreVoteResponse  -                            -        -        reject
//   kVoteResponse     -                            -        -        reject
//   kAppend           index/term before entries    yes      leader's -
//   kAppendResponse   accepted: last index matched -        -        reject: log_index = the
//                     rejected: prev index refused                   refused prev index, hint =
//                                                                    (index, term) to retry from
//   kHeartbeat        -                            -        min(match, commit)   context =
//   kHeartbeatResponse -                           -        -        -    the leader's round
//   kReadIndex        -   (context = the follower's read)                  (read_index.cc)
//   kReadIndexResponse read index                  -        -        -    context echoed
//   kTimeoutNow       -   (the leader hands over: campaign now; transfer.cc)
//   kSnapshot         snapshot's index/term         -        -        -   (+ snapshot_* fields:
//                     offset, total size, chunk length, bytes filled in by the leader's caller)
//   kSnapshotResponse snapshot's index/term         -        -        reject: out of order;
//                                                                     snapshot_offset = the
//                                                                     next offset expected
#pragma once

#include <cstdint>
#include <vector>

#include "common/types.h"
#include "raft/core/entry.h"

namespace ringraft::raft {

enum class MessageType : uint8_t {
  kPreVoteRequest,
  kPreVoteResponse,
  kVoteRequest,
  kVoteResponse,
  kAppend,
  kAppendResponse,
  kHeartbeat,
  kHeartbeatResponse,
  kSnapshot,
  kSnapshotResponse,
  kReadIndex,
  kReadIndexResponse,
  kTimeoutNow,
};

const char* message_type_name(MessageType type);

// NodeId{0} means "nobody": no vote cast, no leader known.
inline constexpr NodeId kNoNode{0};

struct Message {
  MessageType type = MessageType::kHeartbeat;
  NodeId from{};
  NodeId to{};
  Term term{};
  LogIndex log_index{};
  Term log_term{};
  std::vector<Entry> entries{};
  LogIndex commit{};
  bool reject = false;
  LogIndex reject_hint_index{};
  Term reject_hint_term{};
  // kSnapshot / kSnapshotResponse (snapshot.h).
  uint64_t snapshot_offset = 0;
  uint64_t snapshot_size_bytes = 0;
  uint64_t snapshot_chunk_bytes = 0;  // set by the core: how many bytes this chunk carries
  Payload snapshot_data{};            // filled in by the leader's caller before sending
  std::vector<NodeId> snapshot_voters{};
  // Heartbeats and their answers: the leader's heartbeat round; kReadIndex and its answer:
  // the caller's read context.
  uint64_t context = 0;
  // kVoteRequest: the candidate campaigns because its leader handed over (TimeoutNow), so a
  // follower answers it even if it heard from that leader within the election timeout.
  bool transfer = false;
  // kSnapshot: the snapshot's learners (its voters are snapshot_voters).
  std::vector<NodeId> snapshot_learners{};
};

// Sum of the entries' payload bytes (what batching limits count).
uint64_t entries_size_bytes(const std::vector<Entry>& entries);

}  // namespace ringraft::raft
