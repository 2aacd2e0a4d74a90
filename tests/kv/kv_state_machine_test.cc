// The state machine's semantics through the single-node path (plan, encode, apply), Redis's
// replies and error texts, the memory bound, and the write entry format's refusals.
#include "tools/kv/kv_state_machine.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/kv/kv_test_util.h"

namespace ringraft::kv {
namespace {

using testing::bulk;
using testing::kNil;
using testing::kOk;
using testing::run;

const std::string kNotInteger = "-ERR value is not an integer or out of range\r\n";

TEST(KvStateMachine, SetThenGet) {
  SingleNode node;
  EXPECT_EQ(run(node, {"GET", "k"}), kNil);
  EXPECT_EQ(run(node, {"SET", "k", "v1"}), kOk);
  EXPECT_EQ(run(node, {"GET", "k"}), bulk("v1"));
  EXPECT_EQ(run(node, {"set", "k", std::string_view("a\0b", 3)}), kOk);
  EXPECT_EQ(run(node, {"get", "k"}), bulk(std::string_view("a\0b", 3)));
  EXPECT_EQ(run(node, {"SET", "", ""}), kOk);
  EXPECT_EQ(run(node, {"GET", ""}), bulk(""));
}

TEST(KvStateMachine, DelAndExistsCountKeys) {
  SingleNode node;
  EXPECT_EQ(run(node, {"MSET", "a", "1", "b", "2"}), kOk);
  EXPECT_EQ(run(node, {"EXISTS", "a", "a", "b", "c"}), ":3\r\n");
  EXPECT_EQ(run(node, {"DEL", "a", "c", "a"}), ":1\r\n");
  EXPECT_EQ(run(node, {"EXISTS", "a"}), ":0\r\n");
  EXPECT_EQ(run(node, {"GET", "b"}), bulk("2"));
  node.state_machine().check_invariants();
}

TEST(KvStateMachine, IncrementsStartFromZero) {
  SingleNode node;
  EXPECT_EQ(run(node, {"INCR", "n"}), ":1\r\n");
  EXPECT_EQ(run(node, {"INCRBY", "n", "41"}), ":42\r\n");
  EXPECT_EQ(run(node, {"DECR", "n"}), ":41\r\n");
  EXPECT_EQ(run(node, {"DECRBY", "n", "-9"}), ":50\r\n");
  EXPECT_EQ(run(node, {"GET", "n"}), bulk("50"));
  EXPECT_EQ(run(node, {"DECR", "m"}), ":-1\r\n");
}

TEST(KvStateMachine, IncrementRefusesNonIntegers) {
  SingleNode node;
  for (const char* value : {"abc", "1.5", " 1", "01", "", "99999999999999999999"}) {
    EXPECT_EQ(run(node, {"SET", "k", value}), kOk);
    EXPECT_EQ(run(node, {"INCR", "k"}), kNotInteger) << value;
    EXPECT_EQ(run(node, {"GET", "k"}), bulk(value)) << "unchanged";
  }
  EXPECT_EQ(run(node, {"INCRBY", "n", "x"}), kNotInteger);
  EXPECT_EQ(run(node, {"DECRBY", "n", "1e3"}), kNotInteger);
  EXPECT_EQ(run(node, {"EXISTS", "n"}), ":0\r\n") << "a refused write proposes nothing";
}

TEST(KvStateMachine, IncrementRefusesOverflow) {
  SingleNode node;
  EXPECT_EQ(run(node, {"SET", "k", "9223372036854775807"}), kOk);
  EXPECT_EQ(run(node, {"INCR", "k"}), "-ERR increment or decrement would overflow\r\n");
  EXPECT_EQ(run(node, {"SET", "k", "-9223372036854775808"}), kOk);
  EXPECT_EQ(run(node, {"DECR", "k"}), "-ERR increment or decrement would overflow\r\n");
  EXPECT_EQ(run(node, {"INCRBY", "k", "-1"}), "-ERR increment or decrement would overflow\r\n");
  EXPECT_EQ(run(node, {"GET", "k"}), bulk("-9223372036854775808"));
  EXPECT_EQ(run(node, {"DECRBY", "j", "-9223372036854775808"}),
            "-ERR decrement would overflow\r\n");
  EXPECT_EQ(run(node, {"INCRBY", "k", "9223372036854775807"}), ":-1\r\n");
}

TEST(KvStateMachine, MsetAndMget) {
  SingleNode node;
  EXPECT_EQ(run(node, {"MSET", "a", "1", "b", "2", "a", "3"}), kOk);
  EXPECT_EQ(run(node, {"MGET", "a", "b", "c"}), "*3\r\n" + bulk("3") + bulk("2") + kNil);
  EXPECT_EQ(run(node, {"MSET", "a"}), "-ERR wrong number of arguments for 'mset' command\r\n");
}

TEST(KvStateMachine, SetNxOnlyCreates) {
  SingleNode node;
  EXPECT_EQ(run(node, {"SET", "k", "1", "NX"}), kOk);
  EXPECT_EQ(run(node, {"SET", "k", "2", "nx"}), kNil);
  EXPECT_EQ(run(node, {"GET", "k"}), bulk("1"));
}

TEST(KvStateMachine, SetXxOnlyReplaces) {
  SingleNode node;
  EXPECT_EQ(run(node, {"SET", "k", "1", "XX"}), kNil);
  EXPECT_EQ(run(node, {"EXISTS", "k"}), ":0\r\n");
  EXPECT_EQ(run(node, {"SET", "k", "1"}), kOk);
  EXPECT_EQ(run(node, {"SET", "k", "2", "XX"}), kOk);
  EXPECT_EQ(run(node, {"GET", "k"}), bulk("2"));
}

TEST(KvStateMachine, SetGetReturnsTheOldValue) {
  SingleNode node;
  EXPECT_EQ(run(node, {"SET", "k", "1", "GET"}), kNil);
  EXPECT_EQ(run(node, {"SET", "k", "2", "GET"}), bulk("1"));
  EXPECT_EQ(run(node, {"SET", "k", "3", "NX", "GET"}), bulk("2")) << "NX fails, old value shown";
  EXPECT_EQ(run(node, {"GET", "k"}), bulk("2"));
}

TEST(KvStateMachine, SetRefusesExpiryAndBadOptions) {
  SingleNode node;
  const std::string expiry = run(node, {"SET", "k", "v", "EX", "10"});
  EXPECT_EQ(expiry.substr(0, 30), "-ERR SET expiry options (EX PX");
  EXPECT_EQ(run(node, {"SET", "k", "v", "px", "10"}), expiry);
  EXPECT_EQ(run(node, {"SET", "k", "v", "NX", "XX"}), "-ERR syntax error\r\n");
  EXPECT_EQ(run(node, {"SET", "k", "v", "BOGUS"}), "-ERR syntax error\r\n");
  EXPECT_EQ(run(node, {"EXISTS", "k"}), ":0\r\n");
}

TEST(KvStateMachine, KeyLimitAnswersOom) {
  KvLimits limits;
  limits.keys_max = 2;
  SingleNode node(limits);
  const std::string oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
  EXPECT_EQ(run(node, {"SET", "a", "1"}), kOk);
  EXPECT_EQ(run(node, {"MSET", "b", "1", "c", "1"}), oom) << "all or nothing";
  EXPECT_EQ(run(node, {"EXISTS", "b"}), ":0\r\n");
  EXPECT_EQ(run(node, {"SET", "b", "1"}), kOk);
  EXPECT_EQ(run(node, {"SET", "c", "1"}), oom);
  EXPECT_EQ(run(node, {"INCR", "c"}), oom);
  EXPECT_EQ(run(node, {"SET", "a", "2"}), kOk) << "replacing needs no new key";
  EXPECT_EQ(run(node, {"DEL", "a"}), ":1\r\n");
  EXPECT_EQ(run(node, {"SET", "c", "1"}), kOk);
  node.state_machine().check_invariants();
}

TEST(KvStateMachine, DataLimitAnswersOom) {
  KvLimits limits;
  limits.data_bytes_max = 2 * (KvStore::kKeyOverheadBytes + 10);
  SingleNode node(limits);
  EXPECT_EQ(run(node, {"SET", "k", "123456789"}), kOk);  // 10 bytes + overhead
  EXPECT_EQ(run(node, {"SET", "j", std::string(10, 'x')}).substr(0, 4), "-OOM");
  EXPECT_EQ(run(node, {"SET", "j", "12345678"}), kOk);
  EXPECT_EQ(run(node, {"SET", "j", "123456789"}), kOk) << "exactly at the bound";
  EXPECT_EQ(run(node, {"SET", "j", "1234567890"}).substr(0, 4), "-OOM");
  EXPECT_EQ(run(node, {"SET", "j", ""}), kOk) << "shrinking is always allowed";
  EXPECT_EQ(node.state_machine().store().data_bytes(), 2 * KvStore::kKeyOverheadBytes + 11);
  node.state_machine().check_invariants();
}

// A SET looks its key up once (find_for_update, then set_found): the store and its
// accounting end as with set(), over random inserts, replacements, growth and shrinking.
TEST(KvStore, SetFoundAccountsAsSet) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  KvStore by_set;
  KvStore by_found;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "k" + std::to_string(rng() % 64);
    const std::string value(rng() % 40, 'v');
    std::string* old = by_found.find_for_update(key);
    EXPECT_EQ(old == nullptr, by_set.find(key) == nullptr);
    const SetCost cost = by_found.cost_of_set(old, key, value);
    const SetCost expected = by_set.cost_of_set(key, value);
    EXPECT_EQ(cost.new_keys, expected.new_keys);
    EXPECT_EQ(cost.added_bytes, expected.added_bytes);
    by_found.set_found(old, key, value);
    by_set.set(key, value);
    ASSERT_EQ(by_found.data_bytes(), by_set.data_bytes());
    ASSERT_EQ(by_found.key_count(), by_set.key_count());
    ASSERT_EQ(*by_found.find(key), value);
  }
  by_found.check_invariants();
}

TEST(KvStateMachine, ValueAboveTheLimitIsRefused) {
  KvLimits limits;
  limits.value_bytes_max = 8;
  SingleNode node(limits);
  EXPECT_EQ(run(node, {"SET", "k", "123456789"}),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
  EXPECT_EQ(run(node, {"MSET", "a", "1", "k", "123456789"}).substr(0, 25),
            "-ERR string exceeds maxim");
  EXPECT_EQ(run(node, {"EXISTS", "a"}), ":0\r\n");
}

TEST(KvStateMachine, OversizedReadReplyBecomesAnError) {
  SingleNode node;
  EXPECT_EQ(run(node, {"MSET", "a", std::string(100, 'a'), "b", std::string(100, 'b')}), kOk);
  RespWriter reply(150);
  const std::vector<std::string_view> mget = {"MGET", "a", "b"};
  node.execute(mget, reply);
  EXPECT_EQ(reply.bytes(), "-ERR reply is larger than the output buffer (150 bytes)\r\n");
}

TEST(KvStateMachine, SameEntriesGiveSameRepliesAndState) {
  const unsigned seed = std::random_device{}();
  std::mt19937 random(seed);
  SingleNode leader;
  KvStateMachine follower;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "k" + std::to_string(random() % 50);
    const std::string value = std::to_string(random() % 1000);
    std::vector<std::string_view> request;
    switch (random() % 4) {
      case 0:
        request = {"SET", key, value};
        break;
      case 1:
        request = {"INCRBY", key, value};
        break;
      case 2:
        request = {"DEL", key};
        break;
      default:
        request = {"SET", key, value, "NX", "GET"};
        break;
    }
    RespWriter leader_reply(1 << 16);
    RespWriter follower_reply(1 << 16);
    leader.execute(request, leader_reply);
    if (leader.last_entry().empty()) continue;
    ASSERT_TRUE(follower.apply(leader.last_entry(), follower_reply).ok());
    ASSERT_EQ(leader_reply.bytes(), follower_reply.bytes()) << "seed " << seed << " step " << i;
  }
  leader.state_machine().store().for_each([&](std::string_view key, const std::string& value) {
    const std::string* replica = follower.store().find(key);
    ASSERT_NE(replica, nullptr) << key;
    EXPECT_EQ(*replica, value);
  });
  EXPECT_EQ(follower.store().key_count(), leader.state_machine().store().key_count());
}

// The entry of `SET key value NX`, as the single node encodes it.
std::vector<std::byte> set_entry() {
  SingleNode node;
  EXPECT_EQ(run(node, {"SET", "key", "value", "NX"}), kOk);
  return {node.last_entry().begin(), node.last_entry().end()};
}

TEST(WriteEntry, SetEncodesCompactly) {
  const std::vector<std::byte> entry = set_entry();
  // version, op, flags, count, then (length, bytes) twice.
  EXPECT_EQ(entry.size(), 3u + 1 + 1 + 3 + 1 + 5);
  const auto decoded = decode_write_entry(entry);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value().op, WriteOp::kSet);
  EXPECT_EQ(decoded.value().flags, kSetIfMissing);
  OperandCursor operands(decoded.value());
  EXPECT_EQ(operands.next(), "key");
  EXPECT_EQ(operands.next(), "value");
}

TEST(WriteEntry, EveryTruncationIsRefused) {
  const std::vector<std::byte> entry = set_entry();
  for (size_t length = 0; length < entry.size(); ++length) {
    EXPECT_FALSE(decode_write_entry(ConstByteSpan(entry).first(length)).ok()) << length;
  }
  std::vector<std::byte> longer = entry;
  longer.push_back(std::byte{0});
  const auto trailing = decode_write_entry(longer);
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.error().context(), "write entry: trailing bytes");
}

TEST(WriteEntry, BadVersionOpOrFlagsAreRefused) {
  const std::vector<std::byte> entry = set_entry();
  for (auto [offset, value] : {std::pair{0, 2}, {1, 0}, {1, 9}, {2, 3}, {2, 8}}) {
    std::vector<std::byte> bad = entry;
    bad[offset] = std::byte(value);
    EXPECT_FALSE(decode_write_entry(bad).ok()) << offset << "=" << value;
  }
  KvStateMachine state_machine;
  RespWriter reply(1024);
  std::vector<std::byte> bad = entry;
  bad[1] = std::byte{9};
  EXPECT_FALSE(state_machine.apply(bad, reply).ok());
  EXPECT_EQ(reply.size_bytes(), 0u);
  EXPECT_EQ(state_machine.store().key_count(), 0u);
}

TEST(WriteEntry, RandomBytesNeverCrashApply) {
  const unsigned seed = std::random_device{}();
  std::mt19937 random(seed);
  KvStateMachine state_machine;
  const std::vector<std::byte> valid = set_entry();
  int applied = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::byte> bytes = valid;
    bytes.resize(random() % 16);
    for (auto& byte : bytes) {
      if (random() % 3 == 0) byte = std::byte(random() % 256);
    }
    RespWriter reply(1024);
    applied += state_machine.apply(bytes, reply).ok() ? 1 : 0;
  }
  state_machine.check_invariants();
  std::cout << "seed " << seed << ": " << applied << " of 20000 mutated entries applied\n";
}

}  // namespace
}  // namespace ringraft::kv
