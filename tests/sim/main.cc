// ringraft-sim: runs the deterministic cluster simulator from the command line.
//
//   ringraft-sim --seed 7                      one run; exit 1 on a violation
//   ringraft-sim --seeds 1..1000 --faults heavy   many runs; stops at the first violation
//   ringraft-sim --seed 7 --trace > run.mmd    the message trace as a Mermaid sequence diagram
//
// Options: --nodes 3|5, --steps <simulated ms>, --faults none|mild|default|heavy|slowdisk,
// --clients N, --keys N, --quiet-ms N, --membership-percent P (0: fixed voters);
// --inject-ack-before-fsync plants a storage bug (votes and acknowledgements leave before their
// write is durable), --inject-local-reads a service bug (gets answered from any node's state
// machine), to watch the checks catch them. A violation prints the seed and the command that
// replays it.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "tests/sim/simulator.h"

namespace {

using ringraft::sim::SimOptions;

// The seed being run, for the abort handler: a core assertion aborts the process, and the
// seed must still reach the terminal.
char g_replay[256] = {};

void on_abort(int) {
  const char prefix[] = "\nringraft-sim: aborted (a core assertion?); replay with: ";
  (void)!write(STDERR_FILENO, prefix, sizeof prefix - 1);
  (void)!write(STDERR_FILENO, g_replay, std::strlen(g_replay));
  (void)!write(STDERR_FILENO, "\n", 1);
}

int usage(const char* problem) {
  std::fprintf(stderr,
               "ringraft-sim: %s\nusage: ringraft-sim [--seed S | --seeds A..B] [--nodes 3|5] "
               "[--steps MS] [--faults none|mild|default|heavy|slowdisk] [--clients N] [--keys N] "
               "[--quiet-ms MS] [--membership-percent P] [--trace] [--inject-ack-before-fsync] "
               "[--inject-local-reads]\n",
               problem);
  return 2;
}

bool parse_u64(const char* text, uint64_t& value) {
  char* end = nullptr;
  value = std::strtoull(text, &end, 10);
  return end != text && *end == '\0';
}

std::string replay_command(const SimOptions& options) {
  return "ringraft-sim --seed " + std::to_string(options.seed) + " --nodes " +
         std::to_string(options.node_count) + " --steps " + std::to_string(options.steps) +
         " --faults " + options.faults.name + " --clients " + std::to_string(options.client_count) +
         " --keys " + std::to_string(options.key_count) + " --quiet-ms " +
         std::to_string(options.quiet_ms) + " --membership-percent " +
         std::to_string(options.membership_percent) +
         (options.inject_ack_before_fsync ? " --inject-ack-before-fsync" : "") +
         (options.inject_local_reads ? " --inject-local-reads" : "");
}

struct Cli {
  SimOptions options;
  uint64_t first_seed = 1;
  uint64_t last_seed = 1;
};

// Fills `cli` from argv; returns an exit code if the arguments are bad.
std::optional<int> parse_arguments(int argc, char** argv, Cli& cli) {
  SimOptions& options = cli.options;
  options.faults = ringraft::sim::fault_profile("default").value();
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--trace" || arg == "--inject-local-reads" || arg == "--inject-ack-before-fsync") {
      options.mermaid = options.mermaid || arg == "--trace";
      options.inject_local_reads = options.inject_local_reads || arg == "--inject-local-reads";
      options.inject_ack_before_fsync =
          options.inject_ack_before_fsync || arg == "--inject-ack-before-fsync";
      continue;
    }
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (value == nullptr) return usage("missing value after an option");
    ++i;
    uint64_t number = 0;
    if (arg == "--seeds") {
      const std::string range = value;
      const size_t dots = range.find("..");
      if (dots == std::string::npos || !parse_u64(range.substr(0, dots).c_str(), cli.first_seed) ||
          !parse_u64(range.substr(dots + 2).c_str(), cli.last_seed) ||
          cli.first_seed > cli.last_seed) {
        return usage("--seeds wants A..B with A <= B");
      }
    } else if (arg == "--faults") {
      auto profile = ringraft::sim::fault_profile(value);
      if (!profile.ok()) return usage(profile.error().message().c_str());
      options.faults = std::move(profile).value();
    } else if (!parse_u64(value, number)) {
      return usage("option values are unsigned integers");
    } else if (arg == "--seed") {
      cli.first_seed = cli.last_seed = number;
    } else if (arg == "--nodes") {
      if (number != 3 && number != 5) return usage("--nodes is 3 or 5");
      options.node_count = number;
    } else if (arg == "--steps") {
      options.steps = number;
    } else if (arg == "--clients") {
      options.client_count = static_cast<uint32_t>(number);
    } else if (arg == "--keys") {
      if (number == 0) return usage("--keys is at least 1");
      options.key_count = static_cast<uint32_t>(number);
    } else if (arg == "--quiet-ms") {
      options.quiet_ms = number;
    } else if (arg == "--membership-percent") {
      if (number > 100) return usage("--membership-percent is at most 100");
      options.membership_percent = static_cast<uint32_t>(number);
    } else {
      return usage("unknown option");
    }
  }
  return std::nullopt;
}

void print_mermaid(const SimOptions& options, const ringraft::sim::SimResult& result) {
  std::printf("sequenceDiagram\n");
  for (size_t node = 1; node <= options.node_count; ++node) {
    std::printf("  participant n%zu\n", node);
  }
  std::fputs(result.mermaid.c_str(), stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli;
  if (const std::optional<int> exit_code = parse_arguments(argc, argv, cli)) return *exit_code;
  SimOptions& options = cli.options;
  std::signal(SIGABRT, on_abort);
  uint64_t inconclusive = 0;
  for (uint64_t seed = cli.first_seed; seed <= cli.last_seed; ++seed) {
    options.seed = seed;
    const std::string replay = replay_command(options);
    std::snprintf(g_replay, sizeof g_replay, "%s", replay.c_str());
    const ringraft::sim::SimResult result = ringraft::sim::run_simulation(options);
    if (options.mermaid) print_mermaid(options, result);
    std::fprintf(options.mermaid ? stderr : stdout, "%s\n", summarize(options, result).c_str());
    inconclusive += result.linearizability.verdict == ringraft::sim::Linearizable::kInconclusive;
    if (!result.ok()) {
      std::fputs(result.failing_history.c_str(), stderr);
      std::fprintf(stderr, "ringraft-sim: seed %llu broke an invariant; replay with:\n  %s\n",
                   static_cast<unsigned long long>(seed), replay.c_str());
      return 1;
    }
  }
  if (cli.last_seed > cli.first_seed) {
    std::printf("ringraft-sim: %llu seeds ok (%llu with an inconclusive history check)\n",
                static_cast<unsigned long long>(cli.last_seed - cli.first_seed + 1),
                static_cast<unsigned long long>(inconclusive));
  }
  return 0;
}
