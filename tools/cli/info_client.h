// A small blocking RESP client for the operator commands (`ringraft status`, `cluster up` waiting
// for a leader, `bench --cluster` finding it): one command, one reply, bounded in time. Not for
// load: `ringraft bench` drives load on the reactor.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ringraft::tools {

struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string to_string() const { return host + ":" + std::to_string(port); }
};

// "host:port" (host defaults to 127.0.0.1 when only ":port" or "port" is given).
Result<Endpoint> parse_endpoint(std::string_view text);

// Sends one command (arguments as a RESP array) and returns its reply's text: the payload of a
// bulk string, the line of a status or integer reply; an error reply becomes an Error whose
// context is the server's message. Connect, send and receive together take at most `timeout`.
Result<std::string> call_once(const Endpoint& endpoint, const std::vector<std::string>& arguments,
                              std::chrono::milliseconds timeout);

struct InfoField {
  std::string section;  // "Replication" for the lines after "# Replication"
  std::string key;
  std::string value;
};

// The "key:value" lines of an INFO reply, in order, each with the section it is in.
std::vector<InfoField> parse_info(std::string_view text);
// The value of `key` in `fields`, or "" when absent.
std::string info_value(const std::vector<InfoField>& fields, std::string_view key);

}  // namespace ringraft::tools
