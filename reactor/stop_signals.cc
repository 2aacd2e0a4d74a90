// A thread of its own takes the stop signals (see stop_signals.h).
#include "reactor/stop_signals.h"

#include <pthread.h>
#include <signal.h>

#include "reactor/shard_message.h"

namespace ringraft {
namespace {

sigset_t stop_signal_set() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal_number : {SIGINT, SIGTERM, SIGUSR1}) sigaddset(&signals, signal_number);
  return signals;
}

void wait_for_signals(Reactor& reactor, Latch& stop_requested) {
  const sigset_t signals = stop_signal_set();
  bool asked = false;
  while (true) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0 || signal_number == SIGUSR1) return;
    if (asked) continue;
    ShardMessage stop;
    stop.object = &stop_requested;
    stop.handler = [](Shard& /*shard*/, const ShardMessage& message) {
      auto* latch = static_cast<Latch*>(message.object);
      if (latch->count() > 0) latch->count_down();
    };
    asked = reactor.try_post(ShardId{0}, stop) == PostResult::kPosted;
    if (!asked) reactor.stop();  // the loop is gone or swamped: stop without the orderly path
  }
}

}  // namespace

StopSignals::StopSignals() {
  const sigset_t signals = stop_signal_set();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

void StopSignals::start(Reactor& reactor, Latch& stop_requested) {
  RR_ASSERT(!thread_.joinable());
  thread_ = std::thread([&reactor, &stop_requested] { wait_for_signals(reactor, stop_requested); });
}

void StopSignals::stop() {
  if (!thread_.joinable()) return;
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
}

}  // namespace ringraft
