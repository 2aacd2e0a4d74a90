#include "tools/cli/info_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>

#include "reactor/socket.h"
#include "tools/cli/resp_reply.h"
#include "tools/kv/resp_writer.h"

namespace ringraft::tools {

namespace {

using Clock = std::chrono::steady_clock;

// Waits until `fd` is ready for `events` or the deadline passes.
Result<void> wait_ready(int fd, short events, Clock::time_point deadline, const Endpoint& peer) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return Error(ErrorCode::kIo, "no answer from " + peer.to_string() + " in time", ETIMEDOUT);
    }
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(left.count()));
    if (ready > 0) return {};
    if (ready < 0 && errno != EINTR) return Error::from_errno(errno, "poll " + peer.to_string());
  }
}

Result<FileDescriptor> connect_before(const Endpoint& peer, Clock::time_point deadline) {
  Result<sockaddr_in> address = ipv4_address(peer.host, peer.port);
  if (!address.ok()) return address.error();
  FileDescriptor fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::from_errno(errno, "socket");
  const auto* raw = reinterpret_cast<const sockaddr*>(&address.value());
  if (::connect(fd.get(), raw, sizeof(sockaddr_in)) != 0 && errno != EINPROGRESS) {
    return Error::from_errno(errno, "connect to " + peer.to_string());
  }
  Result<void> ready = wait_ready(fd.get(), POLLOUT, deadline, peer);
  if (!ready.ok()) return ready.error();
  int error = 0;
  socklen_t error_length = sizeof(error);
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &error_length);
  if (error != 0) return Error::from_errno(error, "connect to " + peer.to_string());
  return fd;
}

Result<void> send_before(int fd, std::string_view bytes, Clock::time_point deadline,
                         const Endpoint& peer) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent > 0) {
      bytes.remove_prefix(static_cast<size_t>(sent));
      continue;
    }
    if (sent < 0 && errno != EAGAIN && errno != EINTR) {
      return Error::from_errno(errno, "send to " + peer.to_string());
    }
    Result<void> ready = wait_ready(fd, POLLOUT, deadline, peer);
    if (!ready.ok()) return ready;
  }
  return {};
}

}  // namespace

Result<Endpoint> parse_endpoint(std::string_view text) {
  Endpoint endpoint;
  const size_t colon = text.rfind(':');
  std::string_view port_text = text;
  if (colon != std::string_view::npos) {
    if (colon > 0) endpoint.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return Error(ErrorCode::kInvalidInput,
                 "'" + std::string(text) + "' is not host:port (e.g. 127.0.0.1:6381)");
  }
  endpoint.port = static_cast<uint16_t>(port);
  return endpoint;
}

Result<std::string> call_once(const Endpoint& endpoint, const std::vector<std::string>& arguments,
                              std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  Result<FileDescriptor> fd = connect_before(endpoint, deadline);
  if (!fd.ok()) return fd.error();
  kv::RespWriter request(64 * 1024);
  bool encoded = request.array_header(arguments.size()).ok();
  for (const std::string& argument : arguments) encoded = encoded && request.bulk(argument).ok();
  if (!encoded) return Error(ErrorCode::kInvalidInput, "command too long");
  Result<void> sent = send_before(fd.value().get(), request.bytes(), deadline, endpoint);
  if (!sent.ok()) return sent.error();
  std::string received;
  constexpr size_t kReplyBytesMax = 16 * 1024 * 1024;  // INFO is a few KiB
  char chunk[16 * 1024];
  for (;;) {
    Result<std::optional<RespReply>> reply = scan_reply(received);
    if (!reply.ok())
      return Error(ErrorCode::kInvalidInput, endpoint.to_string() + ": " + reply.error().context());
    if (reply.value().has_value()) {
      if (reply.value()->kind == ReplyKind::kError) {
        return Error(ErrorCode::kInvalidInput, std::string(reply.value()->text));
      }
      return std::string(reply.value()->text);
    }
    if (received.size() > kReplyBytesMax) {
      return Error(ErrorCode::kInvalidInput, endpoint.to_string() + ": reply too large");
    }
    const ssize_t got = ::recv(fd.value().get(), chunk, sizeof(chunk), 0);
    if (got > 0) {
      received.append(chunk, static_cast<size_t>(got));
    } else if (got == 0) {
      return Error(ErrorCode::kClosed, endpoint.to_string() + " closed the connection");
    } else if (errno == EAGAIN || errno == EINTR) {
      Result<void> ready = wait_ready(fd.value().get(), POLLIN, deadline, endpoint);
      if (!ready.ok()) return ready.error();
    } else {
      return Error::from_errno(errno, "recv from " + endpoint.to_string());
    }
  }
}

std::vector<InfoField> parse_info(std::string_view text) {
  std::vector<InfoField> fields;
  std::string section;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line[0] == '#') {
      line.remove_prefix(1);
      while (!line.empty() && line[0] == ' ') line.remove_prefix(1);
      section = std::string(line);
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    fields.push_back(InfoField{section, std::string(line.substr(0, colon)),
                               std::string(line.substr(colon + 1))});
  }
  return fields;
}

std::string info_value(const std::vector<InfoField>& fields, std::string_view key) {
  for (const InfoField& field : fields) {
    if (field.key == key) return field.value;
  }
  return {};
}

}  // namespace ringraft::tools
