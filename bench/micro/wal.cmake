# WAL benchmarks: durable appends through wal::Wal beside pwrite+fdatasync and sequential-write
# baselines on the same filesystem (bench/run_wal.sh runs them).
add_executable(wal_bench micro/wal_bench.cc micro/durable_append_load.cc
                         micro/reactor_bench_support.cc)
target_link_libraries(wal_bench PRIVATE ringraft_wal benchmark::benchmark benchmark::benchmark_main
                                ringraft_options)
