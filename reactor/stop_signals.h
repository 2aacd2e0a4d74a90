// StopSignals: SIGINT and SIGTERM ask a one-shard process (a server, a benchmark node) to stop
// in order, through a Latch its shard awaits.
//
//   StopSignals signals;            // first, before any thread starts: they inherit the mask
//   Reactor reactor(config);
//   Latch stop_requested(1);
//   signals.start(reactor, stop_requested);
//   reactor.run(...);               // the shard's task awaits stop_requested.wait()
//   signals.stop();                 // or the destructor: ends and joins the signal thread
//
// The signals are blocked in every thread and taken by sigwait() in one thread of their own,
// so no handler runs inside the reactor. The first one posts a count-down of the latch to
// shard 0; if the shard cannot take it (its loop is gone or its inbox full), the reactor is
// stopped outright. Later ones are ignored: the orderly stop is under way.
#pragma once

#include <thread>

#include "reactor/latch.h"
#include "reactor/reactor.h"

namespace ringraft {

class StopSignals {
 public:
  StopSignals();  // blocks SIGINT, SIGTERM and SIGUSR1 in the calling thread
  ~StopSignals() { stop(); }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Starts the thread that waits for the signals. Both must outlive stop().
  void start(Reactor& reactor, Latch& stop_requested);
  // Ends the signal thread (SIGUSR1 to it) and joins it. Idempotent.
  void stop();

 private:
  std::thread thread_;
};

}  // namespace ringraft
