#include "raft/core/describe.h"

#include <gtest/gtest.h>

namespace ringraft::raft {
namespace {

TEST(Describe, MessagesReadAsOneStableLine) {
  Message append{.type = MessageType::kAppend,
                 .from = NodeId{1},
                 .to = NodeId{2},
                 .term = Term{3},
                 .log_index = LogIndex{5},
                 .log_term = Term{2},
                 .commit = LogIndex{5}};
  for (uint64_t i = 6; i <= 8; ++i) append.entries.push_back(Entry{Term{3}, LogIndex{i}, {}});
  EXPECT_EQ(describe(append), "1->2 Append term=3 prev=5/2 entries=6..8 commit=5");

  const Message rejection{.type = MessageType::kAppendResponse,
                          .from = NodeId{2},
                          .to = NodeId{1},
                          .term = Term{3},
                          .log_index = LogIndex{5},
                          .reject = true,
                          .reject_hint_index = LogIndex{3},
                          .reject_hint_term = Term{1}};
  EXPECT_EQ(describe(rejection), "2->1 AppendResponse term=3 index=5 hint=3/1 rejected");
}

TEST(Describe, SnapshotAndReadMessagesReadAsOneStableLine) {
  const Message chunk{.type = MessageType::kSnapshot,
                      .from = NodeId{1},
                      .to = NodeId{3},
                      .term = Term{2},
                      .log_index = LogIndex{11},
                      .log_term = Term{1},
                      .snapshot_offset = 64,
                      .snapshot_size_bytes = 344,
                      .snapshot_chunk_bytes = 64};
  EXPECT_EQ(describe(chunk), "1->3 Snapshot term=2 snapshot=11/1 offset=64+64/344");
  const Message read{.type = MessageType::kReadIndexResponse,
                     .from = NodeId{1},
                     .to = NodeId{2},
                     .term = Term{2},
                     .log_index = LogIndex{7},
                     .context = 42};
  EXPECT_EQ(describe(read), "1->2 ReadIndexResponse term=2 index=7 context=42");
}

TEST(Describe, NodeStateReadsAsOneStableLine) {
  Config config;
  config.id = NodeId{1};
  config.voters = {NodeId{1}};
  Result<Core> core = Core::create(config);
  ASSERT_TRUE(core.ok());
  core.value().campaign();
  EXPECT_EQ(describe(core.value()),
            "node 1 leader term=1 vote=1 lead=1 last=1/1 commit=0 applied=0");
  const Progress* self = core.value().progress(NodeId{1});
  ASSERT_NE(self, nullptr);
  EXPECT_EQ(describe(*self), "replicate match=0 next=2 inflights=0/0B");
}

}  // namespace
}  // namespace ringraft::raft
