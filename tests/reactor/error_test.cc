// Failures come back as values (-errno), never as crashes.
#include <fcntl.h>
#include <gtest/gtest.h>

#include "tests/reactor/test_reactor.h"

namespace ringraft {
namespace {

using testing::run_on_reactor;

TEST(Errors, ConnectToAClosedPortIsRefused) {
  IoResult result;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    // Take a free port and close the listener, so nothing listens there.
    sockaddr_in address = ipv4_address("127.0.0.1", 0).value();
    uint16_t port;
    {
      FileDescriptor listener = listen_tcp(address).value();
      port = local_port(listener.get()).value();
    }
    address.sin_port = htons(port);
    FileDescriptor fd = tcp_socket().value();
    result = co_await ops::connect(shard.io(), fd.get(), reinterpret_cast<sockaddr*>(&address),
                                   sizeof(address));
  });
  EXPECT_EQ(result.value, -ECONNREFUSED);
  EXPECT_EQ(result.message(), "Connection refused");
}

TEST(Errors, BadFileDescriptor) {
  IoResult read_result, write_result, fsync_result;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    std::byte buffer[8];
    read_result = co_await ops::read(shard.io(), 987654, buffer, 0);
    write_result = co_await ops::write(shard.io(), -1, ConstByteSpan(buffer), 0);
    fsync_result = co_await ops::fdatasync(shard.io(), 987654);
  });
  EXPECT_EQ(read_result.value, -EBADF);
  EXPECT_EQ(write_result.value, -EBADF);
  EXPECT_EQ(fsync_result.value, -EBADF);
}

TEST(Errors, OpenMissingFile) {
  IoResult result;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    result = co_await ops::openat(shard.io(), AT_FDCWD, "/nonexistent/ringraft/file",
                                  O_RDONLY | O_CLOEXEC, 0);
  });
  EXPECT_EQ(result.value, -ENOENT);
}

TEST(Errors, SendToAClosedPeerIsAnErrorNotASignal) {
  IoResult result;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    FileDescriptor left(fds[0]);
    ::close(fds[1]);
    std::byte buffer[64] = {};
    result = co_await ops::send(shard.io(), left.get(), buffer);  // MSG_NOSIGNAL by default
  });
  EXPECT_EQ(result.value, -EPIPE);
}

TEST(Errors, ImpossibleRingSizeFailsToStartWithAMessage) {
  ReactorConfig config = testing::test_config(2);
  config.uring.sq_entries = 0;
  Reactor reactor(config);
  bool ran = false;
  Result<void> result = reactor.run([&](Shard&) -> Task<void> {
    ran = true;
    co_return;
  });
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("io_uring_queue_init_params"), std::string::npos)
      << result.error().message();
  EXPECT_FALSE(ran);
}

TEST(Errors, InvalidConfigurationIsAnErrorNotACrash) {
  for (const auto& [shards, capacity] :
       {std::pair<uint32_t, uint32_t>{0, 16}, {2, 0}, {ReactorConfig::kShardCountMax + 1, 16}}) {
    ReactorConfig config = testing::test_config(shards);
    config.channel_capacity = capacity;
    Reactor reactor(config);
    Result<void> result = reactor.run([](Shard&) -> Task<void> { co_return; });
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidInput) << result.error().message();
    reactor.stop();  // harmless on a reactor that never started
  }
  ReactorConfig spinning = testing::test_config(1);
  spinning.idle_poll = std::chrono::seconds(1);  // a shard that never sleeps: refused
  Reactor reactor(spinning);
  Result<void> result = reactor.run([](Shard&) -> Task<void> { co_return; });
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("idle_poll"), std::string::npos);
}

TEST(Errors, BufferGroupRejectsBadSizes) {
  run_on_reactor([&](Shard& shard) -> Task<void> {
    EXPECT_FALSE(shard.io().create_buffer_group(3, 4096).ok());  // not a power of two
    EXPECT_FALSE(shard.io().create_buffer_group(0, 4096).ok());
    EXPECT_FALSE(shard.io().create_buffer_group(8, 0).ok());
    co_return;
  });
}

}  // namespace
}  // namespace ringraft
