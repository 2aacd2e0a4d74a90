// ReplicatedKv behind the RESP connection layer, on a one-voter group (it elects itself, so
// every write goes through propose, the WAL and apply), and its redirect text.
#include "tools/server/replicated_kv.h"

#include <gtest/gtest.h>

#include <string>

#include "raft/replica/snapshot_image.h"
#include "reactor/ops.h"
#include "reactor/socket.h"
#include "tests/reactor/test_reactor.h"
#include "tests/support/temp_dir.h"
#include "tools/server/resp_server.h"

namespace ringraft::server {
namespace {

using ringraft::testing::run_on_reactor;

// A one-voter group never sends.
class NoPeersBus final : public replica::MessageBus {
 public:
  replica::SendStatus send(NodeId /*to*/, ConstByteSpan /*message*/) override {
    ADD_FAILURE() << "a one-voter group sent a message";
    return replica::SendStatus::kUnreachable;
  }
};

Task<std::string> exchange(Io& io, int fd, std::string_view request, size_t reply_bytes) {
  const IoResult sent = co_await ops::send_all(io, fd, as_bytes(request.data(), request.size()));
  EXPECT_TRUE(sent.ok());
  std::string got;
  char buffer[4096];
  while (got.size() < reply_bytes) {
    const IoResult read =
        co_await ops::recv(io, fd, ByteSpan(reinterpret_cast<std::byte*>(buffer), sizeof(buffer)));
    if (read.value <= 0) break;
    got.append(buffer, read.bytes());
  }
  co_return got;
}

Task<void> set_then_get(Shard& shard, const sockaddr_in& address, replica::ShardEngine& engine) {
  co_await engine.wait_leader(GroupId{1});
  FileDescriptor client = tcp_socket().value();
  const IoResult connected = co_await ops::connect(
      shard.io(), client.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  EXPECT_TRUE(connected.ok());
  const std::string expected = "+OK\r\n:8\r\n$1\r\n8\r\n";
  EXPECT_EQ(co_await exchange(shard.io(), client.get(),
                              "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n7\r\nINCR k\r\nGET k\r\n",
                              expected.size()),
            expected);
  const std::string info = co_await exchange(shard.io(), client.get(), "INFO\r\n", 1);
  EXPECT_NE(info.find("role:master"), std::string::npos) << info;
  EXPECT_NE(info.find("reads:linearizable"), std::string::npos) << info;
  const std::string status = co_await exchange(shard.io(), client.get(), "RINGRAFT.STATUS\r\n", 1);
  EXPECT_NE(status.find("raft_role:leader"), std::string::npos) << status;
  EXPECT_NE(status.find("wal_fsyncs:"), std::string::npos) << status;
  const std::string unknown = co_await exchange(shard.io(), client.get(), "RINGRAFT.NOPE\r\n", 1);
  EXPECT_EQ(unknown, "-ERR unknown command 'RINGRAFT.NOPE'\r\n");
}

TEST(ReplicatedKv, WritesCommitThroughTheEngineAndReadsSeeThem) {
  ringraft::testing::TempDir dir;
  FileDescriptor listen_fd = listen_tcp(ipv4_address("127.0.0.1", 0).value()).value();
  sockaddr_in address = ipv4_address("127.0.0.1", local_port(listen_fd.get()).value()).value();
  run_on_reactor([&](Shard& shard) -> Task<void> {
    replica::EngineOptions options;
    options.node = NodeId{1};
    options.voters = {NodeId{1}};
    options.groups = {GroupId{1}};
    options.wal.directory = dir.path();
    options.wal.segment_bytes = uint64_t{4} << 20;
    options.wal.batch_bytes_max = 256u << 10;
    NoPeersBus bus;
    KvGroupMachine machine;
    auto opened = co_await replica::ShardEngine::open(shard, options, bus, machine);
    EXPECT_TRUE(opened.ok());
    if (!opened.ok()) co_return;
    replica::ShardEngine& engine = *opened.value();
    ReplicatedKv backend(engine, GroupId{1}, machine, {});
    RespServer server(shard, backend, RespServerConfig{});
    Latch served(1);
    shard.spawn([](RespServer& s, int fd, Latch& done) -> Task<void> {
      EXPECT_TRUE((co_await s.serve(fd)).ok());
      done.count_down();
    }(server, listen_fd.get(), served));
    co_await set_then_get(shard, address, engine);
    server.stop();
    co_await served.wait();
    EXPECT_TRUE((co_await engine.close()).ok());
    EXPECT_EQ(machine.bad_entries(), 0u);
  });
}

TEST(KvGroupMachine, SnapshotThenRestoreRoundTripsTheStore) {
  KvGroupMachine source;
  kv::KvStore& store = source.state_machine().store();
  for (int i = 0; i < 500; ++i) {
    const std::string key = "key" + std::to_string(i);
    const std::string value(static_cast<size_t>(i % 97), static_cast<char>('a' + i % 26));
    store.set(key, value);
  }
  replica::ImageWriter image;
  ASSERT_TRUE(source.snapshot(GroupId{1}, image).ok());

  KvGroupMachine restored;
  restored.state_machine().store().set("stale", "gone after restore");
  replica::ImageReader reader(image.bytes());
  const Result<void> done = restored.restore(GroupId{1}, reader);
  ASSERT_TRUE(done.ok()) << done.error().message();
  const kv::KvStore& copy = restored.state_machine().store();
  EXPECT_EQ(copy.key_count(), 500u);
  EXPECT_EQ(copy.data_bytes(), store.data_bytes());
  EXPECT_EQ(copy.find("stale"), nullptr);
  store.for_each([&copy](std::string_view key, const std::string& value) {
    const std::string* found = copy.find(key);
    ASSERT_NE(found, nullptr) << key;
    EXPECT_EQ(*found, value) << key;
  });

  // A damaged image changes nothing and says so.
  std::vector<std::byte> damaged = image.bytes();
  damaged[damaged.size() / 2] ^= std::byte{0x40};
  replica::ImageReader bad(damaged);
  EXPECT_FALSE(restored.restore(GroupId{1}, bad).ok());
  EXPECT_EQ(copy.key_count(), 500u);
}

TEST(ReplicatedKv, NotLeaderErrorNamesTheLeadersAddress) {
  const std::map<NodeId, std::string> peers{{NodeId{2}, "127.0.0.1:6381"}};
  EXPECT_EQ(not_leader_error(NodeId{2}, peers),
            "ERR not leader, leader is node 2 at 127.0.0.1:6381");
  EXPECT_EQ(not_leader_error(NodeId{3}, peers), "ERR not leader, leader is node 3");
  EXPECT_EQ(not_leader_error(NodeId{0}, peers), "ERR not leader, no leader known");
}

TEST(LeaderForwarder, ReplyLengthFramesEveryReplyTypeAndRefusesGarbage) {
  EXPECT_EQ(resp_reply_length("+OK\r\n:1\r\n").value(), 5u);
  EXPECT_EQ(resp_reply_length("-ERR no\r\n").value(), 9u);
  EXPECT_EQ(resp_reply_length("$3\r\nabc\r\n").value(), 9u);
  EXPECT_EQ(resp_reply_length("$-1\r\n").value(), 5u);
  EXPECT_EQ(resp_reply_length("*2\r\n$1\r\na\r\n*1\r\n:7\r\n+x").value(), 19u);
  EXPECT_EQ(resp_reply_length("$3\r\nab").value(), 0u);  // incomplete
  EXPECT_EQ(resp_reply_length("*2\r\n:1\r\n").value(), 0u);
  EXPECT_EQ(resp_reply_length("").value(), 0u);
  EXPECT_FALSE(resp_reply_length("hello\r\n").ok());
  EXPECT_FALSE(resp_reply_length("$-7\r\n").ok());
  EXPECT_FALSE(resp_reply_length("$99999999999999999999\r\n").ok());
  std::string deep;
  for (int i = 0; i < 12; ++i) deep += "*1\r\n";
  EXPECT_FALSE(resp_reply_length(deep + ":1\r\n").ok());
}

}  // namespace
}  // namespace ringraft::server
