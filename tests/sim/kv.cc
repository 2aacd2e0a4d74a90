// Text encoding of KV commands and the state machine that applies them.
#include "tests/sim/kv.h"

#include <charconv>
#include <string_view>

namespace ringraft::sim {

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::kPut:
      return "put";
    case OpKind::kAppend:
      return "append";
    case OpKind::kGet:
      return "get";
  }
  return "?";
}

namespace {

char kind_letter(OpKind kind) {
  return kind == OpKind::kPut ? 'P' : kind == OpKind::kAppend ? 'A' : 'G';
}

}  // namespace

raft::Payload encode_command(const KvCommand& command) {
  std::string text = std::to_string(command.op_id);
  text += ' ';
  text += kind_letter(command.kind);
  text += ' ';
  text += command.key;
  if (command.kind != OpKind::kGet) {
    text += ' ';
    text += command.value;
  }
  raft::Payload payload(text.size());
  for (size_t i = 0; i < text.size(); ++i) payload[i] = static_cast<std::byte>(text[i]);
  return payload;
}

std::optional<KvCommand> decode_command(ConstByteSpan payload) {
  if (payload.empty()) return std::nullopt;
  const std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
  KvCommand command;
  const size_t id_end = text.find(' ');
  if (id_end == std::string_view::npos || id_end + 2 >= text.size()) return std::nullopt;
  const auto parsed = std::from_chars(text.data(), text.data() + id_end, command.op_id);
  if (parsed.ec != std::errc()) return std::nullopt;
  const char letter = text[id_end + 1];
  if (letter == 'P') {
    command.kind = OpKind::kPut;
  } else if (letter == 'A') {
    command.kind = OpKind::kAppend;
  } else if (letter == 'G') {
    command.kind = OpKind::kGet;
  } else {
    return std::nullopt;
  }
  const std::string_view rest = text.substr(id_end + 3);
  const size_t key_end = rest.find(' ');
  command.key = std::string(rest.substr(0, key_end));
  if (command.kind != OpKind::kGet) {
    if (key_end == std::string_view::npos) return std::nullopt;
    command.value = std::string(rest.substr(key_end + 1));
  }
  return command;
}

std::string KvStateMachine::apply(const KvCommand& command) {
  switch (command.kind) {
    case OpKind::kPut:
      values_[command.key] = command.value;
      return {};
    case OpKind::kAppend:
      values_[command.key] += command.value;
      return {};
    case OpKind::kGet: {
      const auto it = values_.find(command.key);
      return it == values_.end() ? std::string() : it->second;
    }
  }
  return {};
}

}  // namespace ringraft::sim
