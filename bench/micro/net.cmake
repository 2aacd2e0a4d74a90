# net/ microbenchmarks: the transport against plain blocking TCP, and the frame codec.
# bench/run_net.sh runs them and writes bench/results/net_bench.json.
add_executable(net_bench
  micro/net_bench.cc
  micro/reactor_bench.cc
  micro/reactor_bench_support.cc)
target_link_libraries(net_bench PRIVATE ringraft_net benchmark::benchmark ringraft_options)
