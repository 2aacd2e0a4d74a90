// EntryBlock, PayloadRef and EntryBlockBuilder: a batch's payloads live in one shared block,
// copies of an entry share it, and the block goes when its last payload does.
#include "raft/core/entry_block.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "raft/core/core.h"
#include "raft/core/entry.h"
#include "tests/raft/network.h"

namespace ringraft::raft {
namespace {

std::string text_of(const PayloadRef& payload) {
  return std::string(reinterpret_cast<const char*>(payload.data()), payload.size());
}

ConstByteSpan bytes_of(const std::string& text) {
  return ConstByteSpan(reinterpret_cast<const std::byte*>(text.data()), text.size());
}

TEST(EntryBlock, BuilderPutsABatchInOneBlockInOrder) {
  EntryBlockBuilder builder;
  builder.add(bytes_of("alpha"));
  builder.add(bytes_of(""));
  builder.add(bytes_of("gamma!"));
  EXPECT_EQ(builder.entry_count(), 3u);
  EXPECT_EQ(builder.size_bytes(), 11u);
  std::vector<PayloadRef> payloads;
  builder.take(payloads);
  ASSERT_EQ(payloads.size(), 3u);
  EXPECT_EQ(text_of(payloads[0]), "alpha");
  EXPECT_TRUE(payloads[1].empty());
  EXPECT_EQ(payloads[1].block(), nullptr);  // an empty payload holds no block
  EXPECT_EQ(text_of(payloads[2]), "gamma!");
  EXPECT_EQ(payloads[0].block(), payloads[2].block());
  EXPECT_EQ(payloads[0].block()->references(), 2u);  // the builder let go of its own
  EXPECT_EQ(builder.entry_count(), 0u);              // and starts over
}

TEST(EntryBlock, BuilderGrowsWithoutLosingBytes) {
  EntryBlockBuilder builder;
  builder.reserve(1, 4);
  std::string expected;
  for (int i = 0; i < 200; ++i) {
    const std::string text = "payload " + std::to_string(i);
    builder.add(bytes_of(text));
    expected += text;
  }
  std::vector<PayloadRef> payloads;
  builder.take(payloads);
  ASSERT_EQ(payloads.size(), 200u);
  std::string joined;
  for (const PayloadRef& payload : payloads) joined += text_of(payload);
  EXPECT_EQ(joined, expected);
  EXPECT_EQ(payloads[0].block()->references(), 200u);
}

TEST(EntryBlock, CopiesShareTheBlockAndTheLastOneFreesIt) {
  EntryBlockBuilder builder;
  builder.add(bytes_of("one"));
  builder.add(bytes_of("two"));
  std::vector<PayloadRef> payloads;
  builder.take(payloads);
  const EntryBlock* block = payloads[0].block();
  {
    const PayloadRef copy = payloads[1];
    EXPECT_EQ(copy.block(), block);
    EXPECT_EQ(block->references(), 3u);
    EXPECT_EQ(copy.data(), payloads[1].data());  // no byte was copied
  }
  EXPECT_EQ(block->references(), 2u);
  PayloadRef moved = std::move(payloads[0]);
  EXPECT_EQ(block->references(), 2u);
  EXPECT_TRUE(payloads[0].empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  payloads.clear();
  EXPECT_EQ(block->references(), 1u);
  EXPECT_EQ(text_of(moved), "one");  // still readable: `moved` keeps the block
}

TEST(EntryBlock, EqualityComparesBytesNotBlocks) {
  const PayloadRef a = PayloadRef::copy_of(bytes_of("same"));
  const PayloadRef b = PayloadRef::copy_of(bytes_of("same"));
  const PayloadRef c = PayloadRef::copy_of(bytes_of("diff"));
  EXPECT_NE(a.block(), b.block());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(PayloadRef(), PayloadRef::copy_of(bytes_of("")));
  EXPECT_EQ(PayloadRef(Payload{std::byte{1}, std::byte{2}}),
            PayloadRef::copy_of(ConstByteSpan(std::vector{std::byte{1}, std::byte{2}})));
}

TEST(EntryBlock, ContiguousPayloadsOnlyWhenBackToBackInOneBlock) {
  EntryBlockBuilder builder;
  builder.add(bytes_of("ab"));
  builder.add(bytes_of(""));
  builder.add(bytes_of("cde"));
  std::vector<PayloadRef> payloads;
  builder.take(payloads);
  std::vector<Entry> entries;
  for (size_t i = 0; i < payloads.size(); ++i) {
    entries.push_back(Entry{Term{1}, LogIndex{i + 1}, payloads[i]});
  }
  const std::optional<ConstByteSpan> all = contiguous_payloads(entries);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(all->data()), all->size()), "abcde");
  // Out of order, or from another block: not one piece.
  std::swap(entries[0], entries[2]);
  EXPECT_FALSE(contiguous_payloads(entries).has_value());
  entries[0].payload = PayloadRef::copy_of(bytes_of("ab"));
  entries[2].payload = payloads[2];
  EXPECT_FALSE(contiguous_payloads(entries).has_value());
  EXPECT_FALSE(contiguous_payloads(std::vector<Entry>{Entry{Term{1}, LogIndex{1}, {}}}));
}

// The point of it all: a proposed batch is one block, and the leader's log, its Ready and its
// Appends refer to that block instead of copying the bytes.
TEST(EntryBlock, ProposedBatchIsSharedByLogReadyAndAppends) {
  testing::Network net(3);
  net.campaign(1);
  Core& leader = net.node(1);
  ASSERT_EQ(leader.role(), Role::kLeader);
  ASSERT_TRUE(std::holds_alternative<Proposed>(leader.propose(testing::batch_of(3, 16))));
  const LogView logged =
      leader.log().view(LogIndex{leader.log().last_index().value() - 2}, leader.log().last_index());
  const EntryBlock* block = logged[0].payload.block();
  ASSERT_NE(block, nullptr);
  for (const Entry& entry : logged) EXPECT_EQ(entry.payload.block(), block);
  const Ready ready = leader.ready();
  size_t shared = 0;
  for (const Entry& entry : ready.entries) shared += entry.payload.block() == block ? 1 : 0;
  EXPECT_EQ(shared, 3u);
  size_t appended = 0;
  for (const Message& message : ready.messages) {
    for (const Entry& entry : message.entries) {
      EXPECT_EQ(entry.payload.block(), block);
      ++appended;
    }
  }
  EXPECT_EQ(appended, 6u);  // three entries to each of two followers
  leader.advance(ready);
}

}  // namespace
}  // namespace ringraft::raft
