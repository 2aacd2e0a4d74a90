#include "tools/cli/bench_options.h"

#include <fmt/format.h>

#include <charconv>

namespace ringraft::tools {

namespace {

Error invalid(std::string message) {
  return Error(ErrorCode::kInvalidInput, std::move(message));
}

bool parse_weight(std::string_view text, uint32_t& weight) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), weight);
  return error == std::errc{} && end == text.data() + text.size() && weight <= 1'000'000;
}

}  // namespace

Result<Ratio> parse_ratio(std::string_view text) {
  const size_t colon = text.find(':');
  Ratio ratio;
  if (colon == std::string_view::npos || !parse_weight(text.substr(0, colon), ratio.write_weight) ||
      !parse_weight(text.substr(colon + 1), ratio.read_weight)) {
    return invalid(fmt::format("--ratio '{}' is not WRITES:READS (e.g. 1:1, 9:1, 0:1)", text));
  }
  if (ratio.write_weight == 0 && ratio.read_weight == 0) {
    return invalid("--ratio 0:0 asks for no requests at all");
  }
  return ratio;
}

Result<void> validate(BenchOptions& options) {
  if (options.targets.empty()) return invalid("no server to drive: give --port or --cluster");
  if (options.connections == 0 || options.connections > BenchOptions::kConnectionsMax) {
    return invalid(fmt::format("--connections must be 1..{}", BenchOptions::kConnectionsMax));
  }
  if (options.pipeline == 0 || options.pipeline > BenchOptions::kPipelineMax) {
    return invalid(fmt::format("--pipeline must be 1..{}", BenchOptions::kPipelineMax));
  }
  if (options.keys == 0) return invalid("--keys must be at least 1");
  if (options.value_bytes > BenchOptions::kValueBytesMax) {
    return invalid(fmt::format("--value-bytes must be at most {}", BenchOptions::kValueBytesMax));
  }
  if (options.duration.count() < 0 || options.duration > BenchOptions::kDurationMax) {
    return invalid("--duration must be between 0 and 24 hours");
  }
  if (options.request_timeout.count() <= 0) return invalid("--timeout-ms must be positive");
  if (options.duration.count() == 0 && options.requests == 0) {
    options.duration = BenchOptions::kDefaultDuration;
  }
  return {};
}

}  // namespace ringraft::tools
