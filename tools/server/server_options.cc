// Parsing and validating `ringraft server`'s options (see server_options.h).
#include "tools/server/server_options.h"

#include <toml++/toml.h>

#include <charconv>

#include "reactor/socket.h"

namespace ringraft::server {
namespace {

Error bad(std::string text) {
  return Error(ErrorCode::kInvalidInput, std::move(text));
}

template <class T>
bool parse_number(std::string_view text, T& value) {
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  return error == std::errc() && stop == end && !text.empty();
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

Result<Endpoint> parse_endpoint(std::string_view text, std::string_view where) {
  const size_t colon = text.rfind(':');
  uint16_t port = 0;
  if (colon == std::string_view::npos || !parse_number(text.substr(colon + 1), port) || port == 0) {
    return bad(std::string(where) + ": '" + std::string(text) + "' is not host:port (1..65535)");
  }
  Endpoint endpoint;
  endpoint.host = std::string(text.substr(0, colon));
  endpoint.port = port;
  if (!ipv4_address(endpoint.host, port).ok()) {
    return bad(std::string(where) + ": '" + endpoint.host + "' is not a dotted IPv4 address");
  }
  return endpoint;
}

}  // namespace

Result<std::map<NodeId, Endpoint>> parse_members(std::string_view text, std::string_view flag) {
  std::map<NodeId, Endpoint> members;
  const std::string context = "--" + std::string(flag);
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    const size_t equals = item.find('=');
    uint64_t id = 0;
    if (equals == std::string_view::npos || !parse_number(item.substr(0, equals), id) || id == 0) {
      return bad(context + ": '" + std::string(item) + "' is not N=host:port with N >= 1");
    }
    Result<Endpoint> endpoint = parse_endpoint(item.substr(equals + 1), context);
    if (!endpoint.ok()) return endpoint.error();
    if (!members.emplace(NodeId{id}, std::move(endpoint.value())).second) {
      return bad(context + ": node " + std::to_string(id) + " is listed twice");
    }
  }
  if (members.empty()) return bad(context + ": no member given");
  return members;
}

Result<bool> parse_on_off(std::string_view text, std::string_view flag) {
  if (text == "on" || text == "true" || text == "yes") return true;
  if (text == "off" || text == "false" || text == "no") return false;
  return bad("--" + std::string(flag) + ": '" + std::string(text) + "' is neither on nor off");
}

Result<ReadMode> parse_read_mode(std::string_view text) {
  if (text == "linearizable") return ReadMode::kLinearizable;
  if (text == "local") return ReadMode::kLocal;
  return bad("--reads: '" + std::string(text) + "' is neither linearizable nor local");
}

Result<WalIo> parse_wal_io(std::string_view text) {
  if (text == "direct-dsync") return WalIo::kDirectDsync;
  if (text == "direct") return WalIo::kDirect;
  if (text == "buffered") return WalIo::kBuffered;
  return bad("--wal-io: '" + std::string(text) + "' is none of direct-dsync, direct, buffered");
}

Result<void> ServerOptions::validate() const {
  if (id.value() == 0) return bad("--id is required (1..)");
  if (peers.empty()) return bad("--peers is required (every member, this node included)");
  if (peers.count(id) == 0) {
    return bad("--id " + std::to_string(id.value()) + " is not among --peers");
  }
  for (const auto& [node, endpoint] : clients) {
    if (peers.count(node) == 0) {
      return bad("--clients names node " + std::to_string(node.value()) + ", not among --peers");
    }
  }
  if (data_dir.empty()) return bad("--data-dir is required");
  if (wal_segment_mib < 1 || wal_segment_mib > 1024)
    return bad("--wal-segment-mib must be 1..1024");
  if (fsyncs_in_flight < 1 || fsyncs_in_flight > 16) return bad("--fsyncs-in-flight must be 1..16");
  if (cluster_id.empty()) return bad("--cluster-id must not be empty");
  if (port == 0) return bad("--port must be 1..65535");
  if (!ipv4_address(bind, port).ok())
    return bad("--bind: '" + bind + "' is not a dotted IPv4 address");
  for (const auto& [node, endpoint] : peers) {
    if (node != id && endpoint.port == raft_endpoint().port &&
        endpoint.host == raft_endpoint().host) {
      return bad("--peers: nodes " + std::to_string(id.value()) + " and " +
                 std::to_string(node.value()) + " share " + endpoint.text());
    }
  }
  if (bind == raft_endpoint().host && port == raft_endpoint().port) {
    return bad("--port " + std::to_string(port) + " is also this node's Raft port in --peers");
  }
  const uint16_t admin = admin_port_to_use();
  if (admin != 0 && admin == port) {
    return bad("--admin-port " + std::to_string(admin) + " is also the RESP --port");
  }
  if (admin != 0 && bind == raft_endpoint().host && admin == raft_endpoint().port) {
    return bad("--admin-port " + std::to_string(admin) + " is also this node's Raft port");
  }
  return {};
}

uint16_t ServerOptions::admin_port_to_use() const {
  if (admin_port.has_value()) return *admin_port;
  // The default sits 1000 above the RESP port: clear of `cluster up`'s blocks (RESP base+N,
  // Raft base+100+N, admin base+200+N, which passes its admin ports explicitly anyway).
  constexpr uint32_t kAdminPortOffset = 1000;
  const uint32_t candidate = uint32_t{port} + kAdminPortOffset;
  return candidate <= 65535 ? static_cast<uint16_t>(candidate) : 0;
}

namespace {

// A member list from TOML: the flag's string form, or a table { 1 = "host:port", ... }.
Result<std::map<NodeId, Endpoint>> members_from_toml(const toml::node& node, std::string_view key) {
  if (const auto* text = node.as_string()) return parse_members(text->get(), key);
  const auto* table = node.as_table();
  if (table == nullptr) return bad(std::string(key) + ": expected a string or a table");
  std::string joined;
  for (const auto& [id, address] : *table) {
    const auto* text = address.as_string();
    if (text == nullptr)
      return bad(std::string(key) + "." + std::string(id.str()) + ": expected \"host:port\"");
    if (!joined.empty()) joined += ",";
    joined += std::string(id.str()) + "=" + text->get();
  }
  return parse_members(joined, key);
}

Result<void> apply_key(const std::string& key, const toml::node& value, ServerOptions& options) {
  const auto text = [&]() -> Result<std::string> {
    if (const auto* s = value.as_string()) return s->get();
    if (const auto* b = value.as_boolean()) return std::string(b->get() ? "on" : "off");
    return bad(key + ": expected a string");
  };
  const auto number = [&](uint64_t max) -> Result<uint64_t> {
    const auto* i = value.as_integer();
    if (i == nullptr || i->get() < 1 || static_cast<uint64_t>(i->get()) > max) {
      return bad(key + ": expected an integer 1.." + std::to_string(max));
    }
    return static_cast<uint64_t>(i->get());
  };
  if (key == "id") {
    Result<uint64_t> id = number(UINT64_MAX >> 1);
    if (!id.ok()) return id.error();
    options.id = NodeId{id.value()};
  } else if (key == "port") {
    Result<uint64_t> port = number(65535);
    if (!port.ok()) return port.error();
    options.port = static_cast<uint16_t>(port.value());
  } else if (key == "admin-port") {
    const auto* i = value.as_integer();
    if (i == nullptr || i->get() < 0 || i->get() > 65535) {
      return bad(key + ": expected an integer 0..65535 (0: no admin port)");
    }
    options.admin_port = static_cast<uint16_t>(i->get());
  } else if (key == "wal-segment-mib") {
    Result<uint64_t> mib = number(1024);
    if (!mib.ok()) return mib.error();
    options.wal_segment_mib = mib.value();
  } else if (key == "fsyncs-in-flight") {
    Result<uint64_t> depth = number(16);
    if (!depth.ok()) return depth.error();
    options.fsyncs_in_flight = static_cast<uint32_t>(depth.value());
  } else if (key == "snapshot-entries") {
    Result<uint64_t> entries = number(UINT64_MAX >> 1);
    if (!entries.ok()) return entries.error();
    options.snapshot_entries = entries.value();
  } else if (key == "peers" || key == "clients") {
    auto members = members_from_toml(value, key);
    if (!members.ok()) return members.error();
    (key == "peers" ? options.peers : options.clients) = std::move(members.value());
  } else if (key == "bind" || key == "data-dir" || key == "cluster-id" || key == "fsync" ||
             key == "reads" || key == "redirect" || key == "wal-io") {
    Result<std::string> s = text();
    if (!s.ok()) return s.error();
    if (key == "bind") options.bind = s.value();
    if (key == "data-dir") options.data_dir = s.value();
    if (key == "cluster-id") options.cluster_id = s.value();
    if (key == "fsync" || key == "redirect") {
      Result<bool> on = parse_on_off(s.value(), key);
      if (!on.ok()) return on.error();
      (key == "fsync" ? options.fsync : options.redirect) = on.value();
    }
    if (key == "wal-io") {
      Result<WalIo> io = parse_wal_io(s.value());
      if (!io.ok()) return io.error();
      options.wal_io = io.value();
    }
    if (key == "reads") {
      Result<ReadMode> mode = parse_read_mode(s.value());
      if (!mode.ok()) return mode.error();
      options.reads = mode.value();
    }
  } else {
    return bad("unknown key '" + key + "'");
  }
  return {};
}

}  // namespace

Result<void> load_config_file(const std::string& path, const std::set<std::string>& set_by_flags,
                              ServerOptions& options) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& error) {
    return bad("--config " + path + ": " + std::string(error.description()) + " at line " +
               std::to_string(error.source().begin.line));
  }
  for (const auto& [key, value] : table) {
    const std::string name(key.str());
    if (set_by_flags.count(name) != 0) continue;
    Result<void> applied = apply_key(name, value, options);
    if (!applied.ok()) return bad("--config " + path + ": " + applied.error().context());
  }
  return {};
}

uint64_t cluster_id_number(std::string_view name) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : name) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash == 0 ? 1 : hash;
}

}  // namespace ringraft::server
