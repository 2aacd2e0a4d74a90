// The single-replica command path (see single_node.h).
#include "tools/kv/single_node.h"

namespace ringraft::kv {

SingleNode::SingleNode(const KvLimits& limits) : state_machine_(limits) {}

AfterReply SingleNode::execute(std::span<const std::string_view> arguments, RespWriter& reply) {
  entry_.clear();
  if (arguments.empty()) return AfterReply::kContinue;
  Result<const CommandSpec*> resolved = resolve_command(arguments);
  if (!resolved.ok()) {
    ReplyBuilder(reply).error(resolved.error().context());
    return AfterReply::kContinue;
  }
  const CommandSpec& spec = *resolved.value();
  switch (spec.kind) {
    case CommandKind::kLocal: {
      LocalContext context;
      context.store = &state_machine_.store();
      return execute_local(spec, arguments, context, reply);
    }
    case CommandKind::kRead:
      state_machine_.read(spec, arguments, reply);
      return AfterReply::kContinue;
    case CommandKind::kWrite:
      break;
  }
  Result<WriteCommand> planned = plan_write(spec, arguments);
  if (!planned.ok()) {
    ReplyBuilder(reply).error(planned.error().context());
    return AfterReply::kContinue;
  }
  entry_.resize(planned.value().entry_bytes);
  const size_t written = encode_write_entry(planned.value(), entry_);
  RR_ASSERT(written == entry_.size());
  // An entry this node just encoded always decodes: a failure is a bug in the format code.
  const Result<void> applied = state_machine_.apply(entry_, reply);
  RR_ASSERT_MSG(applied.ok(), "a freshly encoded write entry did not apply");
  return AfterReply::kContinue;
}

}  // namespace ringraft::kv
