// reactor_bench: the reactor's microbenchmarks, each beside a baseline measured in the same run
// (see the file of each group: reactor_echo_bench.cc, reactor_cross_shard_bench.cc,
// reactor_coroutine_bench.cc, reactor_fsync_bench.cc). bench/run_micro.sh runs them and
// bench/summarize.py turns the JSON into a table of reactor ÷ baseline ratios.
//
// This file is the entry point. It is Google Benchmark's usual main with one change: the
// multi-threaded benchmarks are declared Iterations(1)->UseManualTime(), and Google Benchmark
// would append "/iterations:1/manual_time" to their names; the reporters below drop those two
// suffixes so that every pair reads BM_<Group>/<reactor|baseline>/<arguments>. Only the reports
// change: --benchmark_filter and --benchmark_list_tests still see the suffixed names, so do not
// anchor a filter with $.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

template <class Base>
class PlainNameReporter : public Base {
 public:
  using Base::Base;
  using Run = benchmark::BenchmarkReporter::Run;

  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> renamed = runs;
    for (Run& run : renamed) {
      run.run_name.iterations.clear();
      run.run_name.time_type.clear();
    }
    Base::ReportRuns(renamed);
  }
};

// The value of --<flag>=value in argv, or "" if absent.
std::string flag_value(int argc, char** argv, const char* flag) {
  const std::string prefix = std::string("--") + flag + "=";
  std::string value;
  for (int i = 1; i < argc; i++) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) value = argv[i] + prefix.size();
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  // Read before Initialize, which removes the flags it recognises from argv. Only the default
  // formats are renamed; any other requested format gets Google Benchmark's own reporter.
  const std::string display_format = flag_value(argc, argv, "benchmark_format");
  const std::string out_format = flag_value(argc, argv, "benchmark_out_format");
  const bool has_out = !flag_value(argc, argv, "benchmark_out").empty();
  const std::string color = flag_value(argc, argv, "benchmark_color");
  const std::string tabular = flag_value(argc, argv, "benchmark_counters_tabular");

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext(
      "timing", "multi-threaded benchmarks run once and time their measured window by hand");

  const bool use_color = color.empty() || color == "auto" ? ::isatty(STDOUT_FILENO) != 0
                                                          : color == "true" || color == "yes";
  int console_options = use_color ? benchmark::ConsoleReporter::OO_Color : 0;
  if (tabular == "true" || tabular == "yes" || tabular == "1") {
    console_options |= benchmark::ConsoleReporter::OO_Tabular;
  }
  PlainNameReporter<benchmark::ConsoleReporter> console(
      static_cast<benchmark::ConsoleReporter::OutputOptions>(console_options));
  PlainNameReporter<benchmark::JSONReporter> json_file;
  benchmark::BenchmarkReporter* display =
      display_format.empty() || display_format == "console" ? &console : nullptr;
  benchmark::BenchmarkReporter* file =
      has_out && (out_format.empty() || out_format == "json") ? &json_file : nullptr;
  benchmark::RunSpecifiedBenchmarks(display, file);
  benchmark::Shutdown();
  return 0;
}
