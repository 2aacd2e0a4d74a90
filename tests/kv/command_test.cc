// The command table and the local commands: names in any case, Redis's arity rules and error
// texts, each command's kind, and the answers clients ask for when they start.
#include "tools/kv/command.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/kv/kv_test_util.h"

namespace ringraft::kv {
namespace {

using testing::bulk;
using testing::kOk;
using testing::run;

std::string resolve_error(std::vector<std::string_view> arguments) {
  auto resolved = resolve_command(arguments);
  return resolved.ok() ? "" : resolved.error().context();
}

TEST(CommandTable, NamesMatchInAnyCase) {
  for (const char* name : {"get", "GET", "gEt"}) {
    const CommandSpec* spec = find_command(name);
    ASSERT_NE(spec, nullptr) << name;
    EXPECT_EQ(spec->id, CommandId::kGet);
  }
  EXPECT_EQ(find_command("GETS"), nullptr);
  EXPECT_EQ(find_command(""), nullptr);
}

TEST(CommandTable, EveryCommandHasAUniqueNameAndId) {
  std::set<std::string_view> names;
  std::set<CommandId> ids;
  for (const CommandSpec& spec : all_commands()) {
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
    EXPECT_TRUE(ids.insert(spec.id).second) << spec.name;
    EXPECT_EQ(find_command(spec.name), &spec);
  }
  EXPECT_EQ(all_commands().size(), 17u);
}

TEST(CommandTable, KindsSendWritesThroughRaftAndReadsThroughReadIndex) {
  for (const char* name : {"set", "del", "incr", "incrby", "decr", "decrby", "mset"}) {
    EXPECT_EQ(find_command(name)->kind, CommandKind::kWrite) << name;
  }
  for (const char* name : {"get", "exists", "mget"}) {
    EXPECT_EQ(find_command(name)->kind, CommandKind::kRead) << name;
  }
  for (const char* name : {"ping", "echo", "info", "command", "quit", "select", "config"}) {
    EXPECT_EQ(find_command(name)->kind, CommandKind::kLocal) << name;
  }
}

TEST(CommandTable, UnknownCommandErrorQuotesNameAndArguments) {
  EXPECT_EQ(resolve_error({"FOO", "a", "b"}),
            "ERR unknown command 'FOO', with args beginning with: 'a' 'b' ");
  EXPECT_EQ(resolve_error({"FOO"}), "ERR unknown command 'FOO', with args beginning with: ");
  const std::string long_name(1000, 'x');
  EXPECT_LT(resolve_error({long_name, long_name, long_name}).size(), 400u);
}

TEST(CommandTable, ArityIsChecked) {
  EXPECT_EQ(resolve_error({"GET"}), "ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(resolve_error({"get", "a", "b"}), "ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(resolve_error({"SET", "k"}), "ERR wrong number of arguments for 'set' command");
  EXPECT_EQ(resolve_error({"DEL"}), "ERR wrong number of arguments for 'del' command");
  EXPECT_EQ(resolve_error({"MSET", "k", "v", "k2"}),
            "ERR wrong number of arguments for 'mset' command");
  EXPECT_EQ(resolve_error({"PING", "a", "b"}), "ERR wrong number of arguments for 'ping' command");
  EXPECT_EQ(resolve_error({"SET", "k", "v", "NX"}), "");
  EXPECT_EQ(resolve_error({"DEL", "a", "b", "c"}), "");
  EXPECT_EQ(resolve_error({"PING"}), "");
}

TEST(LocalCommands, PingAndEcho) {
  SingleNode node;
  EXPECT_EQ(run(node, {"PING"}), "+PONG\r\n");
  EXPECT_EQ(run(node, {"ping", "hi there"}), bulk("hi there"));
  EXPECT_EQ(run(node, {"ECHO", "x\r\ny"}), bulk("x\r\ny"));
}

TEST(LocalCommands, SelectOnlyDatabaseZero) {
  SingleNode node;
  EXPECT_EQ(run(node, {"SELECT", "0"}), kOk);
  EXPECT_EQ(run(node, {"SELECT", "1"}), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(run(node, {"SELECT", "x"}), "-ERR value is not an integer or out of range\r\n");
}

TEST(LocalCommands, QuitAnswersOkThenCloses) {
  SingleNode node;
  RespWriter reply(1024);
  const std::vector<std::string_view> quit = {"QUIT"};
  EXPECT_EQ(node.execute(quit, reply), AfterReply::kClose);
  EXPECT_EQ(reply.bytes(), kOk);
}

TEST(LocalCommands, ConfigGetAnswersWhatBenchmarksProbe) {
  SingleNode node;
  EXPECT_EQ(run(node, {"CONFIG", "GET", "save"}), "*2\r\n" + bulk("save") + bulk(""));
  EXPECT_EQ(run(node, {"config", "get", "APPENDONLY"}), "*2\r\n" + bulk("appendonly") + bulk("no"));
  EXPECT_EQ(run(node, {"CONFIG", "GET", "maxmemory-policy"}), "*0\r\n");
  EXPECT_EQ(run(node, {"CONFIG", "GET", "*"}).substr(0, 4), "*6\r\n");
  EXPECT_EQ(run(node, {"CONFIG", "GET"}),
            "-ERR wrong number of arguments for 'config|get' command\r\n");
  EXPECT_EQ(run(node, {"CONFIG", "SET", "save", ""}).substr(0, 22), "-ERR CONFIG SET is not");
  EXPECT_EQ(run(node, {"CONFIG", "BOGUS"}),
            "-ERR unknown subcommand 'BOGUS'. Try CONFIG HELP.\r\n");
}

TEST(LocalCommands, CommandDescribesTheTable) {
  SingleNode node;
  EXPECT_EQ(run(node, {"COMMAND", "COUNT"}), ":17\r\n");
  EXPECT_EQ(run(node, {"COMMAND", "DOCS"}), "*0\r\n");
  const std::string get_info = run(node, {"COMMAND", "INFO", "get", "nope"});
  EXPECT_EQ(get_info.substr(0, 22), "*2\r\n*10\r\n$3\r\nget\r\n:2\r\n");
  EXPECT_NE(get_info.find("+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"), std::string::npos);
  EXPECT_EQ(get_info.substr(get_info.size() - 5), "*-1\r\n");
  EXPECT_EQ(run(node, {"COMMAND"}).substr(0, 5), "*17\r\n");
  EXPECT_EQ(run(node, {"COMMAND", "x"}), "-ERR unknown subcommand 'x'. Try COMMAND HELP.\r\n");
}

TEST(LocalCommands, InfoReportsServerAndKeyspace) {
  SingleNode node;
  EXPECT_EQ(run(node, {"SET", "k", "v"}), kOk);
  const std::string info = run(node, {"INFO"});
  EXPECT_NE(info.find("redis_version:"), std::string::npos);
  EXPECT_NE(info.find("role:master"), std::string::npos);
  EXPECT_NE(info.find("db0:keys=1,"), std::string::npos);
}

TEST(LocalCommands, EmptyRequestGetsNoReply) {
  SingleNode node;
  RespWriter reply(1024);
  EXPECT_EQ(node.execute({}, reply), AfterReply::kContinue);
  EXPECT_EQ(reply.size_bytes(), 0u);
}

}  // namespace
}  // namespace ringraft::kv
