# replica_bench: committed entries/s and commit latency of a 3-node engine cluster in one process
# (one Reactor, shard k hosts node k + 1, fsync on), beside one Wal alone with the same load.
# The cluster is the engine suites' own (tests/replica/cluster.cc, which reports through gtest
# assertions, hence GTest::gtest without its main). bench/run_replica.sh runs it.
find_package(GTest REQUIRED)
add_executable(replica_bench micro/replica_bench.cc micro/durable_append_load.cc
                             micro/reactor_bench_support.cc
                             ${PROJECT_SOURCE_DIR}/tests/replica/cluster.cc)
target_link_libraries(replica_bench PRIVATE ringraft_raft_replica GTest::gtest benchmark::benchmark
                                            benchmark::benchmark_main ringraft_options)
