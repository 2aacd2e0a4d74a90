// The admin port's HTTP server (see admin_http_server.h).
#include "tools/server/admin_http_server.h"

#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "common/assert.h"
#include "reactor/ops.h"
#include "reactor/timer.h"

namespace ringraft::server {
namespace {

constexpr std::string_view kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kTextType = "text/plain; charset=utf-8";

std::string response(uint16_t status, std::string_view content_type, std::string_view body,
                     bool with_body, std::string_view extra_headers = {}) {
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
      status, http_reason_phrase(status), content_type, body.size(), extra_headers);
  if (with_body) out += body;
  return out;
}

}  // namespace

AdminHttpServer::AdminHttpServer(Shard& shard, AdminPages pages, const AdminHttpConfig& config)
    : shard_(shard),
      pages_(std::move(pages)),
      config_(config),
      connections_(shard, config.connections_max,
                   {&stats_.connections_accepted, &stats_.connections_refused}) {
  RR_ASSERT(config_.limits.head_bytes_max > 0);
  RR_ASSERT(config_.request_timeout > Duration::zero());
}

Task<Result<void>> AdminHttpServer::serve(int listen_fd) {
  co_await connections_.accept(
      listen_fd, [this](int fd) { return serve_connection(fd); }, nullptr);
  co_return Result<void>{};
}

void AdminHttpServer::stop() {
  connections_.stop();
}

// Shuts `fd` down when the request is not answered within request_timeout: the pending
// receive (or send) then ends and the connection closes.
Task<void> AdminHttpServer::watch_deadline(int fd, bool& done, Timer& timer, Latch& watched) {
  const IoResult fired = co_await timer.wait_for(config_.request_timeout);
  if (fired.ok() && !done) {
    ++stats_.timeouts;
    ::shutdown(fd, SHUT_RDWR);
  }
  watched.count_down();
}

Task<void> AdminHttpServer::serve_connection(int fd) {
  bool done = false;
  Timer timer(shard_.io());
  Latch watched(1);
  shard_.spawn(watch_deadline(fd, done, timer, watched));
  std::string input(config_.limits.head_bytes_max, '\0');
  size_t received_bytes = 0;
  std::string reply;
  while (reply.empty() && received_bytes < input.size()) {
    const ByteSpan into(reinterpret_cast<std::byte*>(input.data()) + received_bytes,
                        input.size() - received_bytes);
    const IoResult received = co_await ops::recv(shard_.io(), fd, into);
    if (received.value <= 0) break;  // closed, reset, or shut down by the deadline
    received_bytes += received.bytes();
    const HttpParse parse =
        parse_http_request(std::string_view(input).substr(0, received_bytes), config_.limits);
    if (parse.outcome == HttpParseOutcome::kRequest) {
      reply = answer(parse.request);
    } else if (parse.outcome == HttpParseOutcome::kBad) {
      reply = refusal(parse.status, parse.reason);
    }
  }
  if (!reply.empty()) {
    (void)co_await ops::send_all(shard_.io(), fd, as_bytes(reply.data(), reply.size()));
  }
  done = true;
  if (timer.armed()) timer.cancel();
  co_await watched.wait();
  co_await connections_.close(fd);
}

std::string AdminHttpServer::answer(const HttpRequest& request) {
  const bool head = request.method == "HEAD";
  if (request.method != "GET" && !head) {
    ++stats_.requests_refused;
    const std::string body = "only GET and HEAD are served\n";
    return response(405, kTextType, body, true, "Allow: GET, HEAD\r\n");
  }
  if (request.path == "/metrics" && pages_.metrics) {
    ++stats_.requests_served;
    return response(200, kMetricsType, pages_.metrics(), !head);
  }
  if (request.path == "/status" && pages_.status) {
    ++stats_.requests_served;
    return response(200, kJsonType, pages_.status(), !head);
  }
  ++stats_.requests_refused;
  return response(404, kTextType, "not found; try /metrics or /status\n", !head);
}

std::string AdminHttpServer::refusal(uint16_t status, std::string_view reason) {
  ++stats_.requests_refused;
  return response(status, kTextType, std::string(reason) + "\n", true);
}

}  // namespace ringraft::server
