// Helpers shared by the kv suites: run a command on a single node and see its reply bytes.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tools/kv/single_node.h"

namespace ringraft::kv::testing {

// The reply bytes `node` answers `arguments` with.
inline std::string run(SingleNode& node, std::initializer_list<std::string_view> arguments) {
  RespWriter reply(1 << 20);
  const std::vector<std::string_view> request(arguments);
  node.execute(request, reply);
  return std::string(reply.bytes());
}

inline std::string bulk(std::string_view value) {
  return "$" + std::to_string(value.size()) + "\r\n" + std::string(value) + "\r\n";
}

inline const std::string kOk = "+OK\r\n";
inline const std::string kNil = "$-1\r\n";

}  // namespace ringraft::kv::testing
