// Answers to the local commands (see local_commands.h).
#include "tools/kv/local_commands.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "tools/kv/decimal.h"

namespace ringraft::kv {
namespace {

std::string unknown_subcommand(std::string_view subcommand, std::string_view command) {
  return "ERR unknown subcommand '" + std::string(subcommand.substr(0, 128)) + "'. Try " +
         std::string(command) + " HELP.";
}

// One COMMAND INFO entry, in Redis 7's ten-field shape (the last four left empty).
void command_info(const CommandSpec& spec, ReplyBuilder& reply) {
  reply.array_header(10);
  reply.bulk(spec.name);
  reply.integer(spec.arity);
  const auto spaces = std::count(spec.flags.begin(), spec.flags.end(), ' ');
  reply.array_header(spec.flags.empty() ? 0 : static_cast<uint64_t>(spaces) + 1);
  for (size_t at = 0; at < spec.flags.size();) {
    const size_t space = std::min(spec.flags.find(' ', at), spec.flags.size());
    reply.simple_string(spec.flags.substr(at, space - at));
    at = space + 1;
  }
  reply.integer(spec.first_key);
  reply.integer(spec.last_key);
  reply.integer(spec.key_step);
  for (int i = 0; i < 4; ++i) reply.array_header(0);
}

void command(std::span<const std::string_view> arguments, ReplyBuilder& reply) {
  if (arguments.size() == 1) {
    reply.array_header(all_commands().size());
    for (const CommandSpec& spec : all_commands()) command_info(spec, reply);
    return;
  }
  const std::string_view subcommand = arguments[1];
  if (equals_ignoring_case(subcommand, "count"))
    return reply.integer(static_cast<int64_t>(all_commands().size()));
  // redis-cli asks for docs to show hints; an empty map tells it to use its own.
  if (equals_ignoring_case(subcommand, "docs")) return reply.array_header(0);
  if (equals_ignoring_case(subcommand, "info")) {
    reply.array_header(arguments.size() - 2);
    for (std::string_view name : arguments.subspan(2)) {
      const CommandSpec* spec = find_command(name);
      if (spec != nullptr) {
        command_info(*spec, reply);
      } else {
        reply.null_array();
      }
    }
    return;
  }
  reply.error(unknown_subcommand(subcommand, "COMMAND"));
}

// CONFIG GET answers the parameters clients probe; the store has no other configuration to show.
constexpr std::pair<std::string_view, std::string_view> kConfig[] = {
    {"save", ""}, {"appendonly", "no"}, {"databases", "1"}};

void config(std::span<const std::string_view> arguments, ReplyBuilder& reply) {
  const std::string_view subcommand = arguments[1];
  if (!equals_ignoring_case(subcommand, "get")) {
    if (equals_ignoring_case(subcommand, "set") || equals_ignoring_case(subcommand, "resetstat") ||
        equals_ignoring_case(subcommand, "rewrite")) {
      return reply.error("ERR CONFIG " + std::string(subcommand) +
                         " is not supported: configure ringraft with its flags or TOML file");
    }
    return reply.error(unknown_subcommand(subcommand, "CONFIG"));
  }
  if (arguments.size() < 3)
    return reply.error("ERR wrong number of arguments for 'config|get' command");
  const auto requested = [&](std::string_view name) {
    for (std::string_view pattern : arguments.subspan(2)) {
      if (pattern == "*" || equals_ignoring_case(pattern, name)) return true;
    }
    return false;
  };
  uint64_t matches = 0;
  for (const auto& [name, value] : kConfig) matches += requested(name) ? 1 : 0;
  reply.array_header(matches * 2);  // RESP2 shows the map as name, value, name, value...
  for (const auto& [name, value] : kConfig) {
    if (!requested(name)) continue;
    reply.bulk(name);
    reply.bulk(value);
  }
}

void info(const LocalContext& context, ReplyBuilder& reply) {
  std::string text =
      "# Server\r\nredis_version:7.0.0\r\nringraft_version:" + std::string(context.server_version) +
      "\r\nredis_mode:standalone\r\n\r\n# Replication\r\nrole:" + std::string(context.role) +
      "\r\n" + std::string(context.replication_extra) + "\r\n# Keyspace\r\n";
  if (context.store != nullptr && context.store->key_count() > 0) {
    text += "db0:keys=" + std::to_string(context.store->key_count()) + ",expires=0,avg_ttl=0\r\n";
  }
  reply.bulk(text);
}

void select(std::string_view index, ReplyBuilder& reply) {
  const std::optional<int64_t> database = parse_int64(index);
  if (!database.has_value()) return reply.error(not_integer_error().context());
  if (*database != 0) return reply.error("ERR DB index is out of range");
  reply.simple_string("OK");
}

}  // namespace

AfterReply execute_local(const CommandSpec& spec, std::span<const std::string_view> arguments,
                         const LocalContext& context, RespWriter& writer) {
  RR_ASSERT(spec.kind == CommandKind::kLocal && !arguments.empty());
  ReplyBuilder reply(writer);
  switch (spec.id) {
    case CommandId::kPing:
      if (arguments.size() == 2) {
        reply.bulk(arguments[1]);
      } else {
        reply.simple_string("PONG");
      }
      break;
    case CommandId::kEcho:
      reply.bulk(arguments[1]);
      break;
    case CommandId::kInfo:
      info(context, reply);
      break;
    case CommandId::kCommand:
      command(arguments, reply);
      break;
    case CommandId::kQuit:
      reply.simple_string("OK");
      return AfterReply::kClose;
    case CommandId::kSelect:
      select(arguments[1], reply);
      break;
    case CommandId::kConfig:
      config(arguments, reply);
      break;
    default:
      RR_UNREACHABLE("a local command without an answer");
  }
  return AfterReply::kContinue;
}

}  // namespace ringraft::kv
