// LocalBackend: a KvBackend over one local state machine, without replication.
//
// Writes apply at once (or, with set_write_delay, after a timer, to stand for a commit that
// takes time). The connection layer's tests run against it, and `ringraft server --single`
// could serve from it; the replicated backend puts ShardEngine::propose in write()'s place.
#pragma once

#include "reactor/io.h"
#include "tools/kv/kv_state_machine.h"
#include "tools/server/kv_backend.h"

namespace ringraft::server {

class LocalBackend final : public KvBackend {
 public:
  explicit LocalBackend(Io& io) : io_(io) {}

  kv::AfterReply answer_now(const kv::CommandSpec& spec,
                            std::span<const std::string_view> arguments,
                            kv::RespWriter& reply) override;
  Task<void> write(ConstByteSpan entry, kv::RespWriter& reply, WriteOrigin origin) override;
  Task<Result<void>> read_barrier() override;

  // Each write waits this long before it applies (zero: applies at once).
  void set_write_delay(Duration delay) { write_delay_ = delay; }
  kv::KvStateMachine& state_machine() { return state_machine_; }
  // The most writes that were in progress at once (the connection layer's batching shows here).
  uint32_t writes_in_flight_peak() const { return writes_in_flight_peak_; }

 private:
  Io& io_;
  Duration write_delay_ = Duration::zero();
  kv::KvStateMachine state_machine_;
  uint32_t writes_in_flight_ = 0;
  uint32_t writes_in_flight_peak_ = 0;
};

}  // namespace ringraft::server
