// NodeMetrics' three renderings: the same fields under the same names, Prometheus lines in the
// `name{node="N"} value` form with a TYPE per family, integers without fractions.
#include "tools/server/node_metrics.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace ringraft::server {
namespace {

NodeMetrics sample_metrics() {
  NodeMetrics metrics;
  metrics.node = 2;
  metrics.role = "leader";
  metrics.term = 7;
  metrics.commit = 1234;
  metrics.fsyncs = 99;
  metrics.entries_durable = 990;
  metrics.ops_per_s = 1500.25;
  metrics.entries_per_fsync = 10;
  metrics.latency_p99_us = 870;
  return metrics;
}

TEST(NodeMetrics, PrometheusHasATypeForEveryFamilyAndLabelsEverySample) {
  const std::string text = render_prometheus(sample_metrics());
  std::istringstream lines(text);
  size_t samples = 0;
  std::string last_type;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      last_type = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    ++samples;
    EXPECT_EQ(line.rfind(last_type + "{node=\"2\"", 0), 0u) << line;
  }
  EXPECT_GE(samples, 30u);
  EXPECT_NE(text.find("ringraft_role{node=\"2\",role=\"leader\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ringraft_role{node=\"2\",role=\"follower\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("ringraft_term{node=\"2\"} 7\n"), std::string::npos);
  EXPECT_NE(text.find("ringraft_fsyncs_total{node=\"2\"} 99\n"), std::string::npos);
  EXPECT_NE(text.find("ringraft_ops_per_second{node=\"2\"} 1500.25\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE ringraft_fsyncs_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE ringraft_commit gauge\n"), std::string::npos);
}

TEST(NodeMetrics, JsonAndStatusLinesNameTheSameFields) {
  const std::string json = render_json(sample_metrics());
  const std::string lines = render_status_lines(sample_metrics());
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.back(), '}');
  for (const char* field : {"term", "commit", "log_size_bytes", "snapshot_size_bytes",
                            "elections_started", "rpc_inbound_refused", "fsyncs_per_second",
                            "entries_per_fsync", "latency_p50_us", "latency_p99_us"}) {
    EXPECT_NE(json.find(std::string("\"") + field + "\":"), std::string::npos) << field;
    EXPECT_NE(lines.find(std::string("\r\n") + field + ":"), std::string::npos) << field;
  }
  EXPECT_NE(json.find("\"role\":\"leader\""), std::string::npos) << json;
  EXPECT_NE(lines.find("\r\ncommit:1234\r\n"), std::string::npos) << lines;
  EXPECT_NE(lines.find("\r\nentries_per_fsync:10\r\n"), std::string::npos) << lines;
}

}  // namespace
}  // namespace ringraft::server
