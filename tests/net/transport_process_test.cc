// Two processes over loopback: this test's transport and net_transport_peer (a transport in a
// process of its own, see transport_peer_main.cc) exchange AppendEntries and AppendResponses.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <set>
#include <string>

#include "tests/net/transport_harness.h"
#include "tests/net/wire_samples.h"
#include "tests/reactor/test_reactor.h"

extern char** environ;

namespace ringraft::net {
namespace {

using ringraft::testing::run_on_reactor;
using testing::free_port;
using testing::loopback_options;
using testing::loopback_peer;
using testing::wait_until;

pid_t spawn_peer(uint16_t port, uint16_t peer_port) {
  const std::string binary = RINGRAFT_NET_PEER_BINARY;
  std::string port_text = std::to_string(port);
  std::string peer_port_text = std::to_string(peer_port);
  std::string node = "2";
  std::string peer_node = "1";
  char* argv[] = {const_cast<char*>(binary.c_str()),
                  node.data(),
                  port_text.data(),
                  peer_node.data(),
                  peer_port_text.data(),
                  nullptr};
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, binary.c_str(), nullptr, nullptr, argv, environ);
  EXPECT_EQ(spawned, 0) << "posix_spawn " << binary;
  return spawned == 0 ? pid : -1;
}

TEST(TransportProcesses, TwoProcessesExchangeAppendEntries) {
  constexpr uint32_t kMessages = 100;
  const uint16_t port_a = free_port();
  const uint16_t port_b = free_port();
  const pid_t child = spawn_peer(port_b, port_a);
  ASSERT_GT(child, 0);
  std::set<uint64_t> matches;
  int status = -1;
  bool exited = false;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto a = Transport::create(shard, loopback_options(1, port_a, {loopback_peer(2, port_b)}),
                               [&](NodeId from, const wire::Message& message) {
                                 const auto* response = message.body_as_AppendResponse();
                                 if (from == NodeId(2) && response != nullptr) {
                                   matches.insert(response->match_index());
                                 }
                               })
                 .value();
    EXPECT_TRUE((co_await a->start()).ok());
    // Both directions up: the peer answers on its own connection to us, and drops (counts) the
    // answers it cannot send before that connection is up.
    EXPECT_TRUE(co_await wait_until(shard, [&] {
      return a->writable(NodeId(2)) && a->stats().peer(NodeId(2))->inbound_connects > 0;
    }));
    for (uint32_t i = 1; i <= kMessages; i++) {
      EXPECT_EQ(a->send(NodeId(2), testing::append_entries_message(1, i, 1000, 5)),
                SendStatus::kQueued);
    }
    EXPECT_TRUE(co_await wait_until(shard, [&] { return matches.size() == kMessages; }));
    flatbuffers::FlatBufferBuilder builder(128);
    begin_message(builder);
    finish_message(builder, 1, 2, wire::CreateTimeoutNow(builder, 1, 1));
    EXPECT_EQ(a->send(NodeId(2), testing::builder_bytes(builder)), SendStatus::kQueued);
    exited = co_await wait_until(shard, [&] { return waitpid(child, &status, WNOHANG) == child; });
    co_await a->stop();
  });
  if (!exited) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
  }
  EXPECT_TRUE(exited) << "the peer process did not exit after TimeoutNow";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  ASSERT_EQ(matches.size(), kMessages);
  // prev_log_index is 41 in every sample; message i carries i entries.
  EXPECT_EQ(*matches.begin(), 42u);
  EXPECT_EQ(*matches.rbegin(), 41u + kMessages);
}

}  // namespace
}  // namespace ringraft::net
