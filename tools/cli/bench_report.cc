#include "tools/cli/bench_report.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tools/cli/json_text.h"

namespace ringraft::tools {

namespace {

constexpr double kQuantiles[] = {0.5, 0.9, 0.99, 0.999};
constexpr const char* kQuantileNames[] = {"p50", "p90", "p99", "p99_9"};

double ms(uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}
double us(uint64_t ns) {
  return static_cast<double>(ns) / 1e3;
}

double rate(uint64_t count, double seconds) {
  return seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
}

std::string table_row(std::string_view name, const LatencyHistogram& latency, uint64_t errors,
                      double seconds) {
  return fmt::format("{:<5} {:>10} {:>8} {:>11.0f} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f}\n",
                     name, latency.count() + errors, errors, rate(latency.count(), seconds),
                     ms(latency.percentile_ns(0.5)), ms(latency.percentile_ns(0.9)),
                     ms(latency.percentile_ns(0.99)), ms(latency.percentile_ns(0.999)),
                     ms(latency.max_ns()));
}

std::string latency_json(const LatencyHistogram& latency, uint64_t errors, double seconds) {
  std::string out = fmt::format(R"({{"requests": {}, "errors": {}, "ops_per_s": {:.1f}, )",
                                latency.count() + errors, errors, rate(latency.count(), seconds));
  out += R"("latency_us": {)";
  for (size_t i = 0; i < std::size(kQuantiles); ++i) {
    out += fmt::format(R"("{}": {:.1f}, )", kQuantileNames[i],
                       us(latency.percentile_ns(kQuantiles[i])));
  }
  out += fmt::format(R"("max": {:.1f}, "mean": {:.1f}}}}})", us(latency.max_ns()),
                     latency.mean_ns() / 1e3);
  return out;
}

// The CDF as (latency, fraction at or below) points, one per non-empty bucket.
std::string cdf_json(const LatencyHistogram& latency) {
  std::string out = "[";
  uint64_t seen = 0;
  for (uint32_t bucket = 0; bucket < LatencyHistogram::kBucketCount; ++bucket) {
    if (latency.bucket_count(bucket) == 0) continue;
    seen += latency.bucket_count(bucket);
    const uint64_t edge_ns = std::min(LatencyHistogram::bucket_high_ns(bucket), latency.max_ns());
    if (out.size() > 1) out += ", ";
    out += fmt::format("[{:.1f}, {:.6f}]", us(edge_ns),
                       static_cast<double>(seen) / static_cast<double>(latency.count()));
  }
  return out + "]";
}

}  // namespace

std::string format_table(const BenchResult& result) {
  std::string out =
      fmt::format("{:<5} {:>10} {:>8} {:>11} {:>8} {:>8} {:>8} {:>8} {:>8}\n", "op", "requests",
                  "errors", "ops/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms");
  for (size_t type = 0; type < kOpTypeCount; ++type) {
    const OpStats& op = result.ops[type];
    if (op.latency.count() + op.errors == 0) continue;
    out +=
        table_row(op_type_name(static_cast<OpType>(type)), op.latency, op.errors, result.elapsed_s);
  }
  out += table_row("all", result.all_latency(), result.errors(), result.elapsed_s);
  out += fmt::format("{:.2f} s, seed {}\n", result.elapsed_s, result.seed);
  for (const ErrorTally& tally : result.error_messages) {
    out += fmt::format("error x{}: {}\n", tally.count, tally.message);
  }
  if (result.connections_closed + result.connections_lost > 0) {
    out += fmt::format("connections: {} failed mid-run, {} reconnected, {} gave up\n",
                       result.connections_closed, result.reconnects, result.connections_lost);
  }
  return out;
}

std::string format_json(const BenchOptions& options, const BenchResult& result) {
  std::string targets;
  for (const Endpoint& target : options.targets) {
    targets += (targets.empty() ? "" : ", ") + json_string(target.to_string());
  }
  std::string out = "{\n";
  out += fmt::format(R"(  "tool": "ringraft bench", "targets": [{}],)"
                     "\n",
                     targets);
  out += fmt::format(
      R"(  "settings": {{"connections": {}, "pipeline": {}, "keys": {}, "value_bytes": {}, )"
      R"("ratio": "{}:{}", "duration_ms": {}, "requests": {}, "timeout_ms": {}, "seed": {}}},)"
      "\n",
      options.connections, options.pipeline, options.keys, options.value_bytes,
      options.ratio.write_weight, options.ratio.read_weight, options.duration.count(),
      options.requests, options.request_timeout.count(), result.seed);
  const LatencyHistogram all = result.all_latency();
  out += fmt::format(R"(  "elapsed_s": {:.3f},)"
                     "\n",
                     result.elapsed_s);
  out += "  \"all\": " + latency_json(all, result.errors(), result.elapsed_s) + ",\n";
  out += "  \"ops\": {";
  for (size_t type = 0; type < kOpTypeCount; ++type) {
    const OpStats& op = result.ops[type];
    out += fmt::format("{}\"{}\": {}", type == 0 ? "" : ", ", type == 0 ? "set" : "get",
                       latency_json(op.latency, op.errors, result.elapsed_s));
  }
  out += "},\n  \"errors\": [";
  for (size_t i = 0; i < result.error_messages.size(); ++i) {
    out +=
        fmt::format(R"({}{{"message": {}, "count": {}}})", i == 0 ? "" : ", ",
                    json_string(result.error_messages[i].message), result.error_messages[i].count);
  }
  out += fmt::format(
      "],\n  \"connections\": {{\"failed\": {}, \"reconnected\": {}, \"gave_up\": {}}},\n",
      result.connections_closed, result.reconnects, result.connections_lost);
  out += fmt::format("  \"interval_ms\": {},\n  \"throughput_ops_per_s\": [",
                     BenchResult::kIntervalMs);
  for (size_t i = 0; i < result.interval_replies.size(); ++i) {
    out += fmt::format("{}{}", i == 0 ? "" : ", ",
                       result.interval_replies[i] * (1000 / BenchResult::kIntervalMs));
  }
  out += "],\n  \"latency_cdf_us\": " + cdf_json(all) + "\n}\n";
  return out;
}

Result<void> write_file(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return Error::from_errno(errno, "write " + temporary);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0)
    return Error::from_errno(errno, "rename to " + path);
  return {};
}

Result<void> write_plot(const std::string& png_path, const BenchResult& result) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    return Error(ErrorCode::kUnsupported, "gnuplot is not installed (apt-get install gnuplot-nox)");
  }
  char pattern[] = "/tmp/ringraft-plot-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) return Error::from_errno(errno, "mkdtemp for the plot data");
  const std::filesystem::path dir(pattern);
  std::string throughput;
  for (size_t i = 0; i < result.interval_replies.size(); ++i) {
    throughput +=
        fmt::format("{:.1f} {}\n", static_cast<double>(i + 1) * BenchResult::kIntervalMs / 1000.0,
                    result.interval_replies[i] * (1000 / BenchResult::kIntervalMs));
  }
  std::string cdf;
  const LatencyHistogram all = result.all_latency();
  uint64_t seen = 0;
  for (uint32_t bucket = 0; bucket < LatencyHistogram::kBucketCount; ++bucket) {
    if (all.bucket_count(bucket) == 0) continue;
    seen += all.bucket_count(bucket);
    cdf += fmt::format("{:.4f} {:.6f}\n",
                       ms(std::min(LatencyHistogram::bucket_high_ns(bucket), all.max_ns())),
                       100.0 * static_cast<double>(seen) / static_cast<double>(all.count()));
  }
  if (throughput.empty()) throughput = "0 0\n";
  if (cdf.empty()) cdf = "0.001 0\n";
  Result<void> written = write_file((dir / "throughput.dat").string(), throughput);
  if (written.ok()) written = write_file((dir / "cdf.dat").string(), cdf);
  const std::string script = fmt::format(
      "set terminal pngcairo size 1200,500 noenhanced\nset output '{}'\n"
      "set multiplot layout 1,2\nset grid\n"
      "set title 'throughput per {} ms'\nset xlabel 'seconds'\nset ylabel 'ops/s'\n"
      "set yrange [0:*]\nplot '{}' using 1:2 with lines lw 2 notitle\n"
      "set title 'latency CDF'\nset xlabel 'latency (ms, log scale)'\nset ylabel 'percent of "
      "replies'\nset logscale x\nset yrange [0:100]\n"
      "plot '{}' using 1:2 with lines lw 2 notitle\nunset multiplot\n",
      png_path, BenchResult::kIntervalMs, (dir / "throughput.dat").string(),
      (dir / "cdf.dat").string());
  if (written.ok()) written = write_file((dir / "plot.gp").string(), script);
  int status = -1;
  if (written.ok()) {
    status = std::system(("gnuplot '" + (dir / "plot.gp").string() + "' 2>&1").c_str());
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  if (!written.ok()) return written;
  if (status != 0) return Error(ErrorCode::kIo, "gnuplot failed to draw " + png_path);
  return {};
}

}  // namespace ringraft::tools
