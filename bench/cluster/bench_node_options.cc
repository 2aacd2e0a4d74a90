// Parsing and validation of the bench node's flags (see bench_node_options.h).
#include "bench/cluster/bench_node_options.h"

#include <charconv>

namespace ringraft::bench {
namespace {

// A cell's number travels in the first byte of its entries; number cell_count() is the end mark.
constexpr size_t kCellsMax = 254;
constexpr uint32_t kEntryBytesMax = 1u << 20;

Result<uint64_t> parse_number(std::string_view text, const std::string& what) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Error(ErrorCode::kInvalidInput, what + ": '" + std::string(text) + "' is not a number");
  }
  return value;
}

// Every part, the empty ones included ("a,,b" -> 3 parts, "" -> 1 empty part).
std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t begin = 0;
  while (true) {
    const size_t end = text.find(separator, begin);
    parts.push_back(text.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    if (end == std::string::npos) return parts;
    begin = end + 1;
  }
}

}  // namespace

Result<std::map<NodeId, BenchEndpoint>> parse_bench_peers(const std::string& text) {
  std::map<NodeId, BenchEndpoint> peers;
  for (const std::string& member : split(text, ',')) {
    const size_t equals = member.find('=');
    const size_t colon = member.rfind(':');
    if (equals == std::string::npos || colon == std::string::npos || colon < equals) {
      return Error(ErrorCode::kInvalidInput,
                   "--peers: '" + member + "' is not ID=HOST:PORT (e.g. 1=127.0.0.1:7001)");
    }
    Result<uint64_t> id = parse_number(std::string_view(member).substr(0, equals), "--peers id");
    if (!id.ok()) return id.error();
    Result<uint64_t> port =
        parse_number(std::string_view(member).substr(colon + 1), "--peers port");
    if (!port.ok()) return port.error();
    if (id.value() == 0 || port.value() == 0 || port.value() > UINT16_MAX) {
      return Error(ErrorCode::kInvalidInput, "--peers: '" + member + "' has id 0 or a bad port");
    }
    BenchEndpoint endpoint;
    endpoint.host = member.substr(equals + 1, colon - equals - 1);
    endpoint.port = static_cast<uint16_t>(port.value());
    if (!peers.emplace(NodeId{id.value()}, endpoint).second) {
      return Error(ErrorCode::kInvalidInput,
                   "--peers: node " + std::to_string(id.value()) + " is named twice");
    }
  }
  return peers;
}

Result<std::vector<uint32_t>> parse_count_list(const std::string& text, const char* what) {
  std::vector<uint32_t> counts;
  for (const std::string& part : split(text, ',')) {
    Result<uint64_t> count = parse_number(part, what);
    if (!count.ok()) return count.error();
    if (count.value() == 0 || count.value() > UINT32_MAX) {
      return Error(ErrorCode::kInvalidInput, std::string(what) + ": " + part + " is out of range");
    }
    counts.push_back(static_cast<uint32_t>(count.value()));
  }
  if (counts.empty()) return Error(ErrorCode::kInvalidInput, std::string(what) + " is empty");
  return counts;
}

Result<void> BenchNodeOptions::validate() const {
  auto invalid = [](const std::string& message) {
    return Error(ErrorCode::kInvalidInput, message);
  };
  if (peers.size() < 1) return invalid("--peers names no member");
  if (peers.count(id) == 0) return invalid("--id is not among --peers");
  if (peers.count(measure_node) == 0) return invalid("--measure-node is not among --peers");
  if (group_count == 0 || group_count > 64) return invalid("--groups must be 1..64");
  if (cell_count() == 0 || cell_count() > kCellsMax) {
    return invalid("--entry-bytes x --in-flight must give 1.." + std::to_string(kCellsMax) +
                   " cells");
  }
  for (uint32_t bytes : entry_bytes) {
    if (bytes > kEntryBytesMax) return invalid("--entry-bytes above 1 MiB");
  }
  if (cell_duration.count() <= 0) return invalid("--duration-ms must be positive");
  if (cell_entries_max == 0) return invalid("--entries-max must be positive");
  if (fsyncs_in_flight == 0 || fsyncs_in_flight > 64) return invalid("--fsyncs-in-flight: 1..64");
  if (tick.count() < 1 || tick.count() > 100) return invalid("--tick-ms: 1..100");
  if (data_dir.empty()) return invalid("--data-dir is required");
  return {};
}

}  // namespace ringraft::bench
