// The unreplicated backend (see local_backend.h).
#include "tools/server/local_backend.h"

#include <algorithm>

#include "common/assert.h"
#include "reactor/ops.h"

namespace ringraft::server {

kv::AfterReply LocalBackend::answer_now(const kv::CommandSpec& spec,
                                        std::span<const std::string_view> arguments,
                                        kv::RespWriter& reply) {
  if (spec.kind == kv::CommandKind::kRead) {
    state_machine_.read(spec, arguments, reply);
    return kv::AfterReply::kContinue;
  }
  kv::LocalContext context;
  context.store = &state_machine_.store();
  return kv::execute_local(spec, arguments, context, reply);
}

Task<Result<void>> LocalBackend::read_barrier() {
  co_return Result<void>{};
}

Task<void> LocalBackend::write(ConstByteSpan entry, kv::RespWriter& reply, WriteOrigin /*origin*/) {
  writes_in_flight_peak_ = std::max(writes_in_flight_peak_, ++writes_in_flight_);
  if (write_delay_ > Duration::zero()) co_await ops::sleep_for(io_, write_delay_);
  --writes_in_flight_;
  // An entry the connection layer just encoded always decodes: a failure is a format bug.
  const Result<void> applied = state_machine_.apply(entry, reply);
  RR_ASSERT_MSG(applied.ok(), "a freshly encoded write entry did not apply");
}

}  // namespace ringraft::server
