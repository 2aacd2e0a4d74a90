// TCP over loopback through the reactor: multishot accept, multishot receive with a
// provided-buffer ring, sends, and what happens when peers misbehave.
#include <gtest/gtest.h>

#include <vector>

#include "reactor/accept_stream.h"
#include "reactor/latch.h"
#include "reactor/recv_stream.h"
#include "tests/reactor/loopback.h"
#include "tests/reactor/test_reactor.h"

namespace ringraft {
namespace {

using testing::run_on_reactor;

using testing::connect_to;
using testing::listen_on_loopback;
using testing::Listener;

// Echoes everything received on `fd` until the peer closes; returns the bytes echoed.
Task<uint64_t> echo_connection(Io& io, int fd, BufferGroup& buffers) {
  RecvStream stream(io, fd, buffers);
  uint64_t echoed = 0;
  while (true) {
    RecvResult received = co_await stream.next();
    if (received.status.value <= 0) break;
    const IoResult sent = co_await ops::send_all(io, fd, received.chunk.bytes());
    if (!sent.ok()) break;
    echoed += sent.bytes();
  }
  co_await stream.stop();
  co_return echoed;
}

// Accepts `connections` connections and echoes on each; counts bytes in *echoed_total.
Task<void> echo_server(Shard& shard, int listen_fd, int connections, BufferGroup& buffers,
                       uint64_t* echoed_total, Latch* finished) {
  AcceptStream acceptor(shard.io(), listen_fd);
  for (int i = 0; i < connections; i++) {
    const IoResult accepted = co_await acceptor.next();
    EXPECT_TRUE(accepted.ok()) << accepted.message();
    if (!accepted.ok()) break;
    EXPECT_TRUE(set_tcp_nodelay(accepted.value).ok());  // echo small replies without delay
    shard.spawn([](Io& io, int fd, BufferGroup& group, uint64_t* total, Latch* done) -> Task<void> {
      FileDescriptor owned(fd);
      *total += co_await echo_connection(io, fd, group);
      done->count_down();
    }(shard.io(), accepted.value, buffers, echoed_total, finished));
  }
  co_await acceptor.stop();
}

std::vector<std::byte> pattern(size_t size, uint32_t seed) {
  std::vector<std::byte> bytes(size);
  for (size_t i = 0; i < size; i++) bytes[i] = std::byte(static_cast<uint8_t>((i + seed) * 131));
  return bytes;
}

// Sends `message` `rounds` times and reads each echo back; returns true if all matched.
Task<bool> echo_client(Io& io, const sockaddr_in& address, std::vector<std::byte> message,
                       int rounds) {
  FileDescriptor fd = co_await connect_to(io, address);
  std::vector<std::byte> reply(message.size());
  bool all_matched = true;
  for (int round = 0; round < rounds; round++) {
    const IoResult sent = co_await ops::send_all(io, fd.get(), message);
    if (!sent.ok()) co_return false;
    size_t received = 0;
    while (received < reply.size()) {
      const IoResult got = co_await ops::recv(io, fd.get(), ByteSpan(reply).subspan(received));
      if (got.value <= 0) co_return false;
      received += got.bytes();
    }
    all_matched = all_matched && reply == message;
  }
  co_return all_matched;
}

TEST(Tcp, EchoRecyclesProvidedBuffers) {
  // 4 MiB through a group of 8 x 4 KiB buffers: only possible if buffers return to the ring.
  Listener listener = listen_on_loopback();
  bool matched = false;
  uint64_t echoed = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Latch finished(1);
    auto group = shard.io().create_buffer_group(8, 4096);
    EXPECT_TRUE(group.ok());
    if (!group.ok()) co_return;
    shard.spawn(echo_server(shard, listener.fd.get(), 1, *group.value(), &echoed, &finished));
    matched = co_await echo_client(shard.io(), listener.address, pattern(64 * 1024, 1), 64);
    co_await finished.wait();
  });
  EXPECT_TRUE(matched);
  EXPECT_EQ(echoed, 64u * 64 * 1024);
}

TEST(Tcp, PeerClosingMidStreamEndsTheStreamCleanly) {
  Listener listener = listen_on_loopback();
  uint64_t received_total = 0;
  int32_t end_status = 1;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto group = shard.io().create_buffer_group(16, 2048);
    EXPECT_TRUE(group.ok());
    if (!group.ok()) co_return;
    FileDescriptor client = co_await connect_to(shard.io(), listener.address);
    const IoResult accepted = co_await ops::accept(shard.io(), listener.fd.get());
    EXPECT_TRUE(accepted.ok());
    FileDescriptor server(accepted.value);
    // The client sends 10 000 bytes of a larger message, then vanishes.
    const std::vector<std::byte> partial = pattern(10000, 3);
    EXPECT_TRUE((co_await ops::send_all(shard.io(), client.get(), partial)).ok());
    client.reset();
    RecvStream stream(shard.io(), server.get(), *group.value());
    while (true) {
      RecvResult received = co_await stream.next();
      if (received.status.value <= 0) {
        end_status = received.status.value;
        break;
      }
      received_total += received.status.bytes();
    }
    co_await stream.stop();
  });
  EXPECT_EQ(received_total, 10000u);
  EXPECT_EQ(end_status, 0);  // end of stream, not an error
}

TEST(Tcp, ManyConcurrentConnections) {
  constexpr int kConnections = 200;
  Listener listener = listen_on_loopback();
  int clients_ok = 0;
  uint64_t echoed = 0;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    Latch servers_done(kConnections), clients_done(kConnections);
    auto group = shard.io().create_buffer_group(1024, 4096);
    EXPECT_TRUE(group.ok());
    if (!group.ok()) co_return;
    shard.spawn(echo_server(shard, listener.fd.get(), kConnections, *group.value(), &echoed,
                            &servers_done));
    for (int i = 0; i < kConnections; i++) {
      shard.spawn([](Io& io, sockaddr_in address, int seed, int& ok, Latch& done) -> Task<void> {
        if (co_await echo_client(io, address, pattern(100 + seed, seed), 10)) ok++;
        done.count_down();
      }(shard.io(), listener.address, i, clients_ok, clients_done));
    }
    co_await clients_done.wait();
    co_await servers_done.wait();
  });
  EXPECT_EQ(clients_ok, kConnections);
  uint64_t expected_echoed = 0;
  for (int i = 0; i < kConnections; i++) expected_echoed += 10u * (100 + i);
  EXPECT_EQ(echoed, expected_echoed);
}

TEST(Tcp, ConsumerHoldingEveryBufferGetsNoBuffersThenRecovers) {
  // Back-pressure of the buffer ring: while the consumer holds all buffers the kernel cannot
  // deliver; the stream reports -ENOBUFS once, and nothing is lost after buffers return.
  Listener listener = listen_on_loopback();
  constexpr size_t kTotal = 64 * 1024;
  uint64_t received_total = 0;
  bool saw_no_buffers = false;
  bool bytes_in_order = true;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto group = shard.io().create_buffer_group(4, 1024);
    EXPECT_TRUE(group.ok());
    if (!group.ok()) co_return;
    FileDescriptor client = co_await connect_to(shard.io(), listener.address);
    const IoResult accepted = co_await ops::accept(shard.io(), listener.fd.get());
    FileDescriptor server(accepted.value);
    const std::vector<std::byte> sent = pattern(kTotal, 7);
    EXPECT_TRUE((co_await ops::send_all(shard.io(), client.get(), sent)).ok());
    client.reset();
    RecvStream stream(shard.io(), server.get(), *group.value());
    std::vector<RecvChunk> held;
    while (true) {
      RecvResult received = co_await stream.next();
      if (received.status.value == -ENOBUFS) {
        saw_no_buffers = true;
        held.clear();  // give every buffer back
        continue;
      }
      if (received.status.value <= 0) break;
      const ConstByteSpan bytes = received.chunk.bytes();
      for (size_t i = 0; i < bytes.size(); i++) {
        bytes_in_order = bytes_in_order && bytes[i] == sent[received_total + i];
      }
      received_total += bytes.size();
      held.push_back(std::move(received.chunk));  // keep it: the ring runs dry
    }
    held.clear();
    co_await stream.stop();
  });
  EXPECT_TRUE(saw_no_buffers);
  EXPECT_EQ(received_total, kTotal);
  EXPECT_TRUE(bytes_in_order);
}

TEST(Tcp, CancelledStreamStaysCancelledWhenMoreDataArrives) {
  Listener listener = listen_on_loopback();
  std::vector<int32_t> statuses;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto group = shard.io().create_buffer_group(8, 1024);
    EXPECT_TRUE(group.ok());
    if (!group.ok()) co_return;
    FileDescriptor client = co_await connect_to(shard.io(), listener.address);
    const IoResult accepted = co_await ops::accept(shard.io(), listener.fd.get());
    FileDescriptor server(accepted.value);
    RecvStream stream(shard.io(), server.get(), *group.value());
    const std::vector<std::byte> first = pattern(100, 1);
    co_await ops::send_all(shard.io(), client.get(), first);
    statuses.push_back((co_await stream.next()).status.value);  // armed, 100 bytes
    stream.cancel();
    co_await ops::send_all(shard.io(), client.get(), first);  // arrives after the cancel
    while (true) {
      const int32_t status = (co_await stream.next()).status.value;
      statuses.push_back(status);
      if (status <= 0) break;
    }
    EXPECT_FALSE(stream.in_flight());
    statuses.push_back((co_await stream.next()).status.value);  // stays ended, no re-arm
    EXPECT_FALSE(stream.in_flight());
  });
  ASSERT_GE(statuses.size(), 3u);
  EXPECT_EQ(statuses.front(), 100);
  EXPECT_EQ(statuses[statuses.size() - 2], -ECANCELED);
  EXPECT_EQ(statuses.back(), -ECANCELED);
}

// pause() stops the multishot receive without ending the stream: bytes sent after it stay in
// the socket for the owner's own recv, and the next next() re-arms for what follows.
TEST(Tcp, PausedStreamLeavesTheSocketToItsOwnerThenResumes) {
  Listener listener = listen_on_loopback();
  std::vector<std::byte> received;
  std::vector<std::byte> read_by_owner(3000);
  int32_t owner_status = 0;
  bool paused_in_flight = true;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto group = shard.io().create_buffer_group(8, 1024);
    EXPECT_TRUE(group.ok());
    if (!group.ok()) co_return;
    FileDescriptor client = co_await connect_to(shard.io(), listener.address);
    const IoResult accepted = co_await ops::accept(shard.io(), listener.fd.get());
    FileDescriptor server(accepted.value);
    RecvStream stream(shard.io(), server.get(), *group.value());
    co_await ops::send_all(shard.io(), client.get(), pattern(100, 1));
    RecvResult first = co_await stream.next();  // armed now
    received.insert(received.end(), first.chunk.bytes().begin(), first.chunk.bytes().end());
    co_await stream.pause();
    paused_in_flight = stream.in_flight();
    co_await ops::send_all(shard.io(), client.get(), pattern(3000, 2));
    owner_status = (co_await ops::recv(shard.io(), server.get(), read_by_owner, MSG_WAITALL)).value;
    co_await ops::send_all(shard.io(), client.get(), pattern(500, 3));
    client.reset();
    while (true) {
      RecvResult next = co_await stream.next();
      if (next.status.value <= 0) break;
      received.insert(received.end(), next.chunk.bytes().begin(), next.chunk.bytes().end());
    }
    co_await stream.stop();
  });
  EXPECT_FALSE(paused_in_flight);
  EXPECT_EQ(owner_status, 3000);
  EXPECT_EQ(read_by_owner, pattern(3000, 2));
  std::vector<std::byte> expected = pattern(100, 1);
  const std::vector<std::byte> last = pattern(500, 3);
  expected.insert(expected.end(), last.begin(), last.end());
  EXPECT_EQ(received, expected);
}

TEST(Tcp, CancelOfAPausedStreamEndsIt) {
  Listener listener = listen_on_loopback();
  int32_t status = 1;
  bool in_flight = true;
  run_on_reactor([&](Shard& shard) -> Task<void> {
    auto group = shard.io().create_buffer_group(8, 1024);
    EXPECT_TRUE(group.ok());
    if (!group.ok()) co_return;
    FileDescriptor client = co_await connect_to(shard.io(), listener.address);
    const IoResult accepted = co_await ops::accept(shard.io(), listener.fd.get());
    FileDescriptor server(accepted.value);
    RecvStream stream(shard.io(), server.get(), *group.value());
    co_await ops::send_all(shard.io(), client.get(), pattern(100, 1));
    (void)co_await stream.next();
    co_await stream.pause();
    stream.cancel();
    co_await ops::send_all(shard.io(), client.get(), pattern(100, 2));
    status = (co_await stream.next()).status.value;  // no re-arm after a cancel
    in_flight = stream.in_flight();
    co_await stream.stop();
  });
  EXPECT_EQ(status, -ECANCELED);
  EXPECT_FALSE(in_flight);
}

TEST(Tcp, SendmsgAndZeroCopySend) {
  Listener listener = listen_on_loopback();
  std::vector<std::byte> received;
  IoResult zero_copy_result, sendmsg_result;
  const std::vector<std::byte> head = pattern(300, 1), body = pattern(200 * 1024, 2);
  run_on_reactor([&](Shard& shard) -> Task<void> {
    FileDescriptor client = co_await connect_to(shard.io(), listener.address);
    const IoResult accepted = co_await ops::accept(shard.io(), listener.fd.get());
    FileDescriptor server(accepted.value);
    Latch all_received(1);
    shard.spawn(
        [](Io& io, int fd, std::vector<std::byte>& out, size_t want, Latch& done) -> Task<void> {
          std::vector<std::byte> buffer(64 * 1024);
          while (out.size() < want) {
            const IoResult got = co_await ops::recv(io, fd, buffer);
            if (got.value <= 0) break;
            out.insert(out.end(), buffer.begin(), buffer.begin() + got.value);
          }
          done.count_down();
        }(shard.io(), server.get(), received, head.size() + body.size(), all_received));
    iovec parts[] = {{const_cast<std::byte*>(head.data()), head.size()}};
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = 1;
    sendmsg_result = co_await ops::sendmsg(shard.io(), client.get(), &message);
    zero_copy_result = co_await ops::send_zero_copy(shard.io(), client.get(), body);
    size_t sent = zero_copy_result.ok() ? zero_copy_result.bytes() : 0;
    if (sent < body.size()) {  // a short zero-copy send: finish with ordinary sends
      co_await ops::send_all(shard.io(), client.get(), ConstByteSpan(body).subspan(sent));
    }
    co_await all_received.wait();
  });
  EXPECT_EQ(sendmsg_result.value, 300);
  EXPECT_GT(zero_copy_result.value, 0) << zero_copy_result.message();
  std::vector<std::byte> expected = head;
  expected.insert(expected.end(), body.begin(), body.end());
  EXPECT_EQ(received, expected);
}

}  // namespace
}  // namespace ringraft
