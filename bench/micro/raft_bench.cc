// raft_bench: how many entries per second a 3-node cluster of raft/core cores commits in one
// process, with in-memory persistence and no network (BenchCluster), at 16 B and 100 B payloads
// and 1, 64 or 1024 entries per propose. Names: BM_RaftCommit/<variant>/<payload B>/<batch>.
//
//   core              propose -> Appends -> acknowledgements -> commit -> apply on 3 nodes
//   vector_push_back  the baseline, same run: the same batch built the same way, then its
//                     entries pushed into three std::vector<VectorEntry> (a byte vector per
//                     entry, one copy per replica): the least any replication of these
//                     entries costs in this process when each copy owns its bytes
//
// items_per_second is committed entries/s; allocs_per_entry counts operator new calls (this
// binary replaces the global operator new to count them), core_allocs_per_entry those made
// inside the cluster, without building the caller's batch. bench/summarize.py prints the
// core ÷ baseline ratio. Results in bench/results/raft_bench.json came from:
//   raft_bench --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true
//     --benchmark_min_time=0.3 --benchmark_out=bench/results/raft_bench.json
//     --benchmark_out_format=json && bench/summarize.py bench/results/raft_bench.json
//
// Profiling mode, for bench/callgrind_raft.sh: `raft_bench --profile core|baseline <payload B>
// <batch> <entries>` commits <entries> entries inside one function, ringraft_raft_bench_profile,
// so that callgrind can count exactly those instructions (--toggle-collect).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "bench/micro/raft_bench_cluster.h"

// GCC sees the replaced operator new inlined into callers and then warns that operator delete
// frees a pointer "from new": here both sides are malloc/free by construction.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {

uint64_t g_allocation_count = 0;  // the benchmarks are single-threaded

}  // namespace

void* operator new(std::size_t size_bytes) {
  ++g_allocation_count;
  void* block = std::malloc(size_bytes == 0 ? 1 : size_bytes);
  if (block == nullptr) throw std::bad_alloc();
  return block;
}
void operator delete(void* block) noexcept {
  std::free(block);
}
void operator delete(void* block, std::size_t) noexcept {
  std::free(block);
}

namespace {

using ringraft::LogIndex;
using ringraft::Term;
using ringraft::bench::BenchCluster;
using ringraft::bench::make_batch;

// The baseline's entry: a byte vector per entry, so that each replica's copy is one allocation
// and one copy of the payload (what the core's Entry cost before payloads shared blocks).
struct VectorEntry {
  Term term;
  LogIndex index;
  ringraft::raft::Payload payload;
};

// The cores keep every entry in memory (no compaction yet): start a fresh cluster, outside the
// timing, before the logs hold this many entries.
constexpr uint64_t kEntriesPerCluster = 1 << 17;
constexpr size_t kReplicaCount = 3;

void BM_RaftCommitCore(benchmark::State& state) {
  const auto payload_bytes = static_cast<size_t>(state.range(0));
  const auto batch_count = static_cast<size_t>(state.range(1));
  auto cluster = std::make_unique<BenchCluster>(static_cast<uint32_t>(batch_count));
  uint64_t committed = 0;
  uint64_t allocations = 0;
  uint64_t core_allocations = 0;
  for (auto _ : state) {
    if (cluster->entries_in_log() + batch_count > kEntriesPerCluster) {
      state.PauseTiming();
      cluster.reset();
      cluster = std::make_unique<BenchCluster>(static_cast<uint32_t>(batch_count));
      state.ResumeTiming();
    }
    const uint64_t allocations_before = g_allocation_count;
    std::vector<ringraft::raft::Payload> batch = make_batch(batch_count, payload_bytes, committed);
    const uint64_t allocations_made = g_allocation_count;
    committed += cluster->commit(std::move(batch));
    allocations += g_allocation_count - allocations_before;
    core_allocations += g_allocation_count - allocations_made;
  }
  state.SetItemsProcessed(static_cast<int64_t>(committed));
  state.SetBytesProcessed(static_cast<int64_t>(committed * payload_bytes));
  state.counters["allocs_per_entry"] =
      committed == 0 ? 0.0 : static_cast<double>(allocations) / static_cast<double>(committed);
  // The same without the caller's batch (make_batch's vector per payload): the core's own.
  state.counters["core_allocs_per_entry"] =
      committed == 0 ? 0.0 : static_cast<double>(core_allocations) / static_cast<double>(committed);
}

void push_to_replicas(std::vector<std::vector<VectorEntry>>& replicas,
                      std::vector<ringraft::raft::Payload> batch) {
  for (std::vector<VectorEntry>& replica : replicas) {
    for (const ringraft::raft::Payload& payload : batch) {
      replica.push_back(VectorEntry{Term{1}, LogIndex{replica.size() + 1}, payload});
    }
  }
}

void BM_RaftCommitBaseline(benchmark::State& state) {
  const auto payload_bytes = static_cast<size_t>(state.range(0));
  const auto batch_count = static_cast<size_t>(state.range(1));
  std::vector<std::vector<VectorEntry>> replicas(kReplicaCount);
  uint64_t committed = 0;
  uint64_t allocations = 0;
  for (auto _ : state) {
    if (replicas[0].size() + batch_count > kEntriesPerCluster) {
      state.PauseTiming();
      replicas.assign(kReplicaCount, {});
      state.ResumeTiming();
    }
    const uint64_t allocations_before = g_allocation_count;
    push_to_replicas(replicas, make_batch(batch_count, payload_bytes, committed));
    committed += batch_count;
    allocations += g_allocation_count - allocations_before;
  }
  state.SetItemsProcessed(static_cast<int64_t>(committed));
  state.SetBytesProcessed(static_cast<int64_t>(committed * payload_bytes));
  state.counters["allocs_per_entry"] =
      committed == 0 ? 0.0 : static_cast<double>(allocations) / static_cast<double>(committed);
}

void payloads_and_batches(benchmark::internal::Benchmark* benchmark) {
  for (int64_t payload_bytes : {16, 100}) {
    for (int64_t batch_count : {1, 64, 1024}) benchmark->Args({payload_bytes, batch_count});
  }
}

BENCHMARK(BM_RaftCommitCore)->Name("BM_RaftCommit/core")->Apply(payloads_and_batches);
BENCHMARK(BM_RaftCommitBaseline)
    ->Name("BM_RaftCommit/vector_push_back")
    ->Apply(payloads_and_batches);

}  // namespace

// Kept out of line and unmangled so that callgrind --toggle-collect can find it.
extern "C" __attribute__((noinline)) uint64_t ringraft_raft_bench_profile(
    BenchCluster* cluster, std::vector<std::vector<VectorEntry>>* replicas, size_t payload_bytes,
    size_t batch_count, uint64_t entry_count) {
  uint64_t committed = 0;
  while (committed < entry_count) {
    if (cluster != nullptr) {
      committed += cluster->commit(make_batch(batch_count, payload_bytes, committed));
    } else {
      push_to_replicas(*replicas, make_batch(batch_count, payload_bytes, committed));
      committed += batch_count;
    }
  }
  return committed;
}

namespace {

int profile(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr,
                 "usage: raft_bench --profile core|baseline <payload B> <batch> <entries>\n");
    return 2;
  }
  const bool core = std::strcmp(argv[2], "core") == 0;
  const size_t payload_bytes = std::strtoull(argv[3], nullptr, 10);
  const size_t batch_count = std::strtoull(argv[4], nullptr, 10);
  const uint64_t entry_count = std::strtoull(argv[5], nullptr, 10);
  if (batch_count == 0 || entry_count == 0 || entry_count > kEntriesPerCluster) {
    std::fprintf(stderr, "raft_bench --profile: batch >= 1, 1 <= entries <= %llu\n",
                 static_cast<unsigned long long>(kEntriesPerCluster));
    return 2;
  }
  std::unique_ptr<BenchCluster> cluster;
  std::vector<std::vector<VectorEntry>> replicas(kReplicaCount);
  if (core) cluster = std::make_unique<BenchCluster>(static_cast<uint32_t>(batch_count));
  const uint64_t committed = ringraft_raft_bench_profile(cluster.get(), &replicas, payload_bytes,
                                                         batch_count, entry_count);
  std::printf("committed_entries %llu\n", static_cast<unsigned long long>(committed));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Keep freed memory in the process: each fresh cluster (every kEntriesPerCluster entries)
  // frees its whole log at once, and with glibc's defaults the heap top then goes back to the
  // kernel, so the next cluster's first writes pay a page fault per 4 KiB inside the timed
  // region. On this VM that fault cost swamped the per-entry work being measured (and hit
  // batch-sized blocks more than per-entry vectors, which sit in bins that are never
  // trimmed). A long-running engine reuses its freed memory; so does this benchmark now.
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  if (argc > 1 && std::strcmp(argv[1], "--profile") == 0) return profile(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
