# raft_bench: committed entries/s of a 3-node cluster of raft/core cores in one process
# (in-memory persistence, no network), beside a std::vector baseline. Included by
# bench/CMakeLists.txt. bench/callgrind_raft.sh counts instructions per committed entry.
add_executable(raft_bench micro/raft_bench.cc micro/raft_bench_cluster.cc)
target_link_libraries(raft_bench PRIVATE ringraft_raft_core benchmark::benchmark ringraft_options)
