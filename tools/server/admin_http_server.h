// AdminHttpServer: the admin port of `ringraft server`, plain HTTP/1.1 on the reactor for
// monitoring: GET /metrics (Prometheus text format 0.0.4) and GET /status (JSON).
//
// One request per connection (every answer says "Connection: close", as scrapers expect
// nothing else of a metrics endpoint): accept, receive the request head into a buffer of
// HttpLimits::head_bytes_max, parse (http_request.h), answer, close. HEAD is answered as GET
// without the body.
//
// Untrusted input and its bounds:
//   a head beyond head_bytes_max          431, closed
//   malformed request line or headers     400 (505 for another HTTP version), closed
//   a body announced                      413, closed
//   another method                        405 with "Allow: GET, HEAD", closed
//   another path                          404, closed
//   no complete head within request_timeout (slow or silent client): closed without an answer
//   connections beyond connections_max    closed at once
// The pages are built by the callbacks at request time, on the shard.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "reactor/latch.h"
#include "reactor/shard.h"
#include "reactor/task.h"
#include "reactor/timer.h"
#include "tools/server/connection_set.h"
#include "tools/server/http_request.h"

namespace ringraft::server {

struct AdminHttpConfig {
  HttpLimits limits;
  Duration request_timeout = std::chrono::seconds(5);
  uint32_t connections_max = 64;
};

struct AdminHttpStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // beyond connections_max
  uint64_t requests_served = 0;      // answered 200
  uint64_t requests_refused = 0;     // answered 4xx/5xx
  uint64_t timeouts = 0;             // closed for a head not complete in time
};

struct AdminPages {
  std::function<std::string()> metrics;  // GET /metrics
  std::function<std::string()> status;   // GET /status
};

class AdminHttpServer {
 public:
  AdminHttpServer(Shard& shard, AdminPages pages, const AdminHttpConfig& config);
  AdminHttpServer(const AdminHttpServer&) = delete;
  AdminHttpServer& operator=(const AdminHttpServer&) = delete;

  // Accepts on `listen_fd` (owned by the caller) until stop(), then waits for every connection.
  Task<Result<void>> serve(int listen_fd);
  void stop();

  const AdminHttpStats& stats() const { return stats_; }

 private:
  Task<void> serve_connection(int fd);
  Task<void> watch_deadline(int fd, bool& done, Timer& timer, Latch& watched);
  // The full response (status line, headers, body) for a parsed request.
  std::string answer(const HttpRequest& request);
  std::string refusal(uint16_t status, std::string_view reason);

  Shard& shard_;
  AdminPages pages_;
  AdminHttpConfig config_;
  AdminHttpStats stats_;
  ConnectionSet connections_;
};

}  // namespace ringraft::server
