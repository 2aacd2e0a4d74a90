// What a Task costs: creating a Task<int>, awaiting it (which starts it), and getting its value
// back by symmetric transfer, against a plain function call that does the same arithmetic.
//
//   BM_Coroutine/task_create_await  one coroutine frame from the frame pool, start, finish, free
//   BM_Coroutine/function_call      the baseline: a call the compiler may not inline or analyse
//
// The awaiting loop itself runs inside a Task driven to completion on the benchmark thread; no
// reactor is needed because nothing suspends on I/O, and the frame pool is per thread.
#include <benchmark/benchmark.h>

#include <coroutine>
#include <exception>

#include "reactor/task.h"

// Neither function may be inlined, nor analysed across the call (gcc's noipa; clang has no such
// attribute, and noinline is enough there for a loop-carried argument).
#if defined(__clang__)
#define RR_BENCH_OPAQUE [[gnu::noinline]]
#else
#define RR_BENCH_OPAQUE [[gnu::noipa]]
#endif

namespace ringraft::bench {
namespace {

RR_BENCH_OPAQUE Task<int> next_value_task(int value) {
  co_return value + 1;
}

RR_BENCH_OPAQUE int next_value_call(int value) {
  return value + 1;
}

Task<void> await_in_loop(benchmark::State& state, int* last_value) {
  int value = 0;
  for (auto _ : state) {
    value = co_await next_value_task(value);
    benchmark::DoNotOptimize(value);
  }
  *last_value = value;
}

// A root coroutine that starts eagerly and frees itself at the end: the smallest thing that can
// await a lazy Task from ordinary code.
struct Driver {
  struct promise_type {
    Driver get_return_object() const noexcept { return {}; }
    std::suspend_never initial_suspend() const noexcept { return {}; }
    std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    void unhandled_exception() const noexcept { std::terminate(); }
  };
};

Driver drive(Task<void> task, bool* finished) {
  co_await std::move(task);
  *finished = true;
}

void BM_CoroutineTaskCreateAwait(benchmark::State& state) {
  int last_value = 0;
  bool finished = false;
  drive(await_in_loop(state, &last_value), &finished);
  if (!finished) {
    state.SkipWithError("the awaiting loop suspended; it must finish synchronously");
    return;
  }
  if (last_value != static_cast<int>(state.iterations())) state.SkipWithError("wrong result");
}

void BM_CoroutineFunctionCall(benchmark::State& state) {
  int value = 0;
  for (auto _ : state) {
    value = next_value_call(value);
    benchmark::DoNotOptimize(value);
  }
  if (value != static_cast<int>(state.iterations())) state.SkipWithError("wrong result");
}

BENCHMARK(BM_CoroutineTaskCreateAwait)->Name("BM_Coroutine/task_create_await");
BENCHMARK(BM_CoroutineFunctionCall)->Name("BM_Coroutine/function_call");

}  // namespace
}  // namespace ringraft::bench
