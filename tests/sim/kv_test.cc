// KV command encoding and the state machine.
#include "tests/sim/kv.h"

#include <gtest/gtest.h>

namespace ringraft::sim {
namespace {

TEST(KvCommand, RoundTripsEveryKind) {
  for (OpKind kind : {OpKind::kPut, OpKind::kAppend, OpKind::kGet}) {
    KvCommand command;
    command.op_id = 42;
    command.kind = kind;
    command.key = "k1";
    if (kind != OpKind::kGet) command.value = "c1.42;";
    const std::optional<KvCommand> decoded = decode_command(encode_command(command));
    ASSERT_TRUE(decoded.has_value()) << op_kind_name(kind);
    EXPECT_EQ(*decoded, command);
  }
}

TEST(KvCommand, EmptyOrGarbagePayloadIsNotACommand) {
  EXPECT_FALSE(decode_command({}).has_value());
  const std::string text = "x Q k";
  raft::Payload payload;
  for (char c : text) payload.push_back(static_cast<std::byte>(c));
  EXPECT_FALSE(decode_command(payload).has_value());
}

TEST(KvStateMachine, PutReplacesAppendExtendsGetReads) {
  KvStateMachine kv;
  EXPECT_EQ(kv.apply(KvCommand{1, OpKind::kGet, "k", ""}), "");
  kv.apply(KvCommand{2, OpKind::kAppend, "k", "a"});
  kv.apply(KvCommand{3, OpKind::kAppend, "k", "b"});
  EXPECT_EQ(kv.apply(KvCommand{4, OpKind::kGet, "k", ""}), "ab");
  kv.apply(KvCommand{5, OpKind::kPut, "k", "z"});
  EXPECT_EQ(kv.apply(KvCommand{6, OpKind::kGet, "k", ""}), "z");
}

}  // namespace
}  // namespace ringraft::sim
