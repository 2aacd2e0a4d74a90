#include "bench/micro/reactor_bench_support.h"

#include <arpa/inet.h>
#include <sys/statfs.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "reactor/ops.h"

namespace ringraft::bench {
namespace {

// Sleeps on shard 0 for the whole run; the loop's shutdown cancels the sleep when the workload
// stops the reactor in time, so only a hung run reaches the stop below.
Task<void> watchdog(Shard& shard, std::chrono::seconds time_limit, std::atomic<bool>* timed_out) {
  const IoResult slept = co_await ops::sleep_for(shard.io(), time_limit);
  if (!slept.ok()) co_return;
  timed_out->store(true);
  shard.reactor().stop();
}

const char* filesystem_name(int64_t magic) {
  switch (magic) {
    case 0xEF53: return "ext4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs";
    case 0x794C7630: return "overlayfs";
    case 0x2FC12FC1: return "zfs";
    case 0x6969: return "nfs";
    default: return "unknown-fs";
  }
}

}  // namespace

ReactorRunReport run_reactor_workload(uint32_t shard_count,
                                      std::function<Task<void>(Shard&)> shard_main,
                                      std::chrono::seconds time_limit) {
  ReactorConfig config;
  config.shard_count = shard_count;
  config.pin_threads = false;
  Reactor reactor(config);
  std::atomic<bool> timed_out{false};
  Result<void> result = reactor.run([&](Shard& shard) -> Task<void> {
    if (shard.id().value() == 0) shard.spawn(watchdog(shard, time_limit, &timed_out));
    co_await shard_main(shard);
  });
  ReactorRunReport report;
  if (!result.ok()) {
    report.error = "reactor did not start: " + result.error().message();
  } else if (timed_out.load()) {
    report.error = "workload still running after " + std::to_string(time_limit.count()) +
                   " s; stopped by the watchdog";
  }
  report.shard_stats = reactor.final_stats();
  report.uring_stats = reactor.final_uring_stats();
  return report;
}

void add_loop_counters(benchmark::State& state, const std::string& prefix,
                       const UringStats& stats, uint64_t operations) {
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
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                        "/ringraft-bench-XXXXXX";
  if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
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
