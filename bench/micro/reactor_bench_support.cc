#include "bench/micro/reactor_bench_support.h"

#include <arpa/inet.h>
#include <sys/statfs.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>

#include "common/assert.h"

namespace ringraft::bench {
namespace {

// Stops the reactor if the workload is still running after `time_limit`. A plain thread rather
// than a timer on a shard: a pending timer makes every loop wait carry a timeout, which is a cost
// the measured workload should not pay.
class Watchdog {
 public:
  Watchdog(Reactor& reactor, std::chrono::seconds time_limit)
      : thread_([this, &reactor, time_limit] {
          std::unique_lock lock(mutex_);
          if (done_changed_.wait_for(lock, time_limit, [this] { return done_; })) return;
          timed_out_ = true;
          reactor.stop();
        }) {}
  ~Watchdog() { RR_ASSERT_MSG(!thread_.joinable(), "call finish() before destroying"); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Call once the reactor's run() has returned; true if the watchdog had to stop it.
  bool finish() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_changed_.notify_one();
    thread_.join();
    return timed_out_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_changed_;
  bool done_ = false;
  bool timed_out_ = false;
  std::thread thread_;  // last: it starts in the constructor and uses the members above
};

const char* filesystem_name(int64_t magic) {
  struct Known {
    int64_t magic;
    const char* name;
  };
  static constexpr Known kKnown[] = {
      {0xEF53, "ext4"},          {0x58465342, "xfs"}, {0x9123683E, "btrfs"}, {0x01021994, "tmpfs"},
      {0x794C7630, "overlayfs"}, {0x2FC12FC1, "zfs"}, {0x6969, "nfs"}};
  for (const Known& known : kKnown) {
    if (known.magic == magic) return known.name;
  }
  return "unknown-fs";
}

}  // namespace

ReactorRunReport run_reactor_workload(uint32_t shard_count,
                                      std::function<Task<void>(Shard&)> shard_main,
                                      Duration idle_poll, std::chrono::seconds time_limit) {
  ReactorConfig config;
  config.shard_count = shard_count;
  config.pin_threads = false;
  config.idle_poll = idle_poll;
  Reactor reactor(config);
  Watchdog watchdog(reactor, time_limit);
  Result<void> result = reactor.run(std::move(shard_main));
  const bool timed_out = watchdog.finish();
  ReactorRunReport report;
  if (!result.ok()) {
    report.error = "reactor did not start: " + result.error().message();
  } else if (timed_out) {
    report.error = "workload still running after " + std::to_string(time_limit.count()) +
                   " s; stopped by the watchdog";
  }
  report.shard_stats = reactor.final_stats();
  report.uring_stats = reactor.final_uring_stats();
  return report;
}

void add_loop_counters(benchmark::State& state, const std::string& prefix, const UringStats& stats,
                       uint64_t operations) {
  if (operations == 0 || stats.enter_calls == 0) return;
  state.counters[prefix + "_enters_per_op"] =
      static_cast<double>(stats.enter_calls) / static_cast<double>(operations);
  state.counters[prefix + "_cqes_per_enter"] =
      static_cast<double>(stats.completions) / static_cast<double>(stats.enter_calls);
}

Result<LoopbackListener> listen_on_loopback() {
  Result<sockaddr_in> address = ipv4_address("127.0.0.1", 0);
  if (!address.ok()) return address.error();
  Result<FileDescriptor> fd = listen_tcp(address.value());
  if (!fd.ok()) return fd.error();
  Result<uint16_t> port = local_port(fd.value().get());
  if (!port.ok()) return port.error();
  LoopbackListener listener;
  listener.fd = std::move(fd).value();
  listener.address = address.value();
  listener.address.sin_port = htons(port.value());
  return listener;
}

TempDir::TempDir() {
  const char* base = std::getenv("RINGRAFT_BENCH_DIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/ringraft-bench-XXXXXX";
  if (::mkdtemp(pattern.data()) != nullptr) {
    path_ = pattern;
  } else {
    error_ = "mkdtemp " + pattern + ": " + std::strerror(errno);
  }
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ignored;  // best effort: a leftover directory in /tmp harms nothing
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::describe() const {
  struct statfs info {};
  if (::statfs(path_.c_str(), &info) != 0) return "unknown-fs " + path_;
  return std::string(filesystem_name(static_cast<int64_t>(info.f_type))) + " " + path_;
}

}  // namespace ringraft::bench
