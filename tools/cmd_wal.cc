#include "tools/cmd_wal.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "reactor/reactor.h"
#include "tools/cli/json_text.h"
#include "wal/recovery.h"

namespace ringraft::tools {

namespace {

using wal::Record;
using wal::RecordKind;
using wal::RecoveryOptions;
using wal::RecoveryReport;

struct WalCommand {
  std::string directory;
  bool json = false;
  bool repair = false;
  bool records = false;  // dump: every record
  bool details = false;  // dump: segments and groups
  uint64_t group = 0;
  bool group_given = false;
  uint32_t fsyncs_in_flight_max = 1;
  uint64_t segment_bytes = 0;  // 0: the largest segment file's size
};

// The outcome of one command, and its exit code.
enum class Status { kClean, kTornTail, kRepaired, kCorrupt, kIoError };

const char* status_name(Status status) {
  switch (status) {
    case Status::kClean:
      return "clean";
    case Status::kTornTail:
      return "torn_tail";
    case Status::kRepaired:
      return "repaired";
    case Status::kCorrupt:
      return "corrupt";
    case Status::kIoError:
      return "io_error";
  }
  return "unknown";
}

int exit_code_of(Status status) {
  switch (status) {
    case Status::kClean:
    case Status::kRepaired:
      return kWalExitClean;
    case Status::kTornTail:
      return kWalExitTornTail;
    case Status::kCorrupt:
      return kWalExitCorrupt;
    case Status::kIoError:
      return kWalExitIoError;
  }
  return kWalExitIoError;
}

// The segment size a repair extends a short last segment to: the largest segment file's size
// (all segments of a WAL are created at the same size).
uint64_t largest_segment_bytes(const std::string& directory) {
  uint64_t largest = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    if (!wal::parse_segment_file_name(entry.path().filename().string())) continue;
    largest = std::max<uint64_t>(largest, entry.file_size(error));
  }
  return largest > 0 ? largest : wal::kSegmentBytesDefault;
}

// Runs recover() on a one-shard reactor (the WAL's reads go through io_uring).
Result<RecoveryReport> run_recovery(const RecoveryOptions& options,
                                    const wal::RecordVisitor& visitor) {
  ReactorConfig config;
  config.shard_count = 1;
  config.pin_threads = false;
  Reactor reactor(config);
  std::optional<Result<RecoveryReport>> result;
  Result<void> ran = reactor.run([&](Shard& shard) -> Task<void> {
    result = co_await wal::recover(shard.io(), options, visitor);
    shard.reactor().stop();
  });
  if (!ran.ok()) return ran.error();
  if (!result) return Error(ErrorCode::kCancelled, "the reactor stopped before recovery ended");
  return std::move(*result);
}

std::string kind_name(RecordKind kind) {
  std::string name = wal::record_kind_name(kind);
  std::replace(name.begin(), name.end(), ' ', '_');
  return name;
}

std::string record_text(Seq seq, const Record& record, bool json) {
  std::string fields;
  switch (record.kind) {
    case RecordKind::kEntries:
      fields = json ? fmt::format(",\"term\":{},\"index\":{},\"count\":{},\"payload_bytes\":{}",
                                  record.term.value(), record.index.value(), record.entry_count,
                                  record.payload.size())
                    : fmt::format("term {} index {} count {} payload {} B", record.term.value(),
                                  record.index.value(), record.entry_count, record.payload.size());
      break;
    case RecordKind::kHardState:
      fields = json ? fmt::format(",\"term\":{},\"vote\":{},\"commit\":{}", record.term.value(),
                                  record.vote.value(), record.commit.value())
                    : fmt::format("term {} vote {} commit {}", record.term.value(),
                                  record.vote.value(), record.commit.value());
      break;
    case RecordKind::kSnapshotMark:
      fields =
          json ? fmt::format(",\"index\":{},\"term\":{}", record.index.value(), record.term.value())
               : fmt::format("index {} term {}", record.index.value(), record.term.value());
      break;
    case RecordKind::kTruncate:
      fields = json ? fmt::format(",\"from_index\":{}", record.index.value())
                    : fmt::format("from index {}", record.index.value());
      break;
  }
  if (json) {
    return fmt::format("{{\"seq\":{},\"kind\":\"{}\",\"group\":{}{}}}", seq.value(),
                       kind_name(record.kind), record.group.value(), fields);
  }
  return fmt::format("  seq {:>8}  group {:>4}  {:<13} {}\n", seq.value(), record.group.value(),
                     wal::record_kind_name(record.kind), fields);
}

bool group_selected(const WalCommand& command, GroupId group) {
  return !command.group_given || group.value() == command.group;
}

std::string group_text(GroupId id, const wal::GroupRecovery& group, bool json) {
  if (json) {
    std::string text = fmt::format(
        "{{\"group\":{},\"last_index\":{},\"entries_recovered\":{},\"truncations\":{}", id.value(),
        group.last_index.value(), group.entries_recovered, group.truncations_applied);
    if (group.has_hard_state) {
      text += fmt::format(",\"hard_state\":{{\"term\":{},\"vote\":{},\"commit\":{}}}",
                          group.hard_state_term.value(), group.hard_state_vote.value(),
                          group.hard_state_commit.value());
    }
    if (group.has_snapshot) {
      text += fmt::format(",\"snapshot\":{{\"index\":{},\"term\":{}}}",
                          group.snapshot_index.value(), group.snapshot_term.value());
    }
    return text + "}";
  }
  std::string text =
      fmt::format("  group {:>4}  last index {}  entries {}  truncations {}", id.value(),
                  group.last_index.value(), group.entries_recovered, group.truncations_applied);
  if (group.has_hard_state) {
    text += fmt::format("  hard state term {} vote {} commit {}", group.hard_state_term.value(),
                        group.hard_state_vote.value(), group.hard_state_commit.value());
  }
  if (group.has_snapshot) {
    text += fmt::format("  snapshot index {} term {}", group.snapshot_index.value(),
                        group.snapshot_term.value());
  }
  return text + "\n";
}

// The JSON members after "records" (when listed): status, error, totals, tail, repair,
// segments and groups. No leading comma.
std::string summary_json(const WalCommand& command, Status status, const Error* error,
                         const RecoveryReport* report) {
  std::string text = fmt::format("\"status\":\"{}\",\"error\":{}", status_name(status),
                                 error != nullptr ? json_string(error->message()) : "null");
  if (report == nullptr) return text;
  text += fmt::format(
      ",\"next_seq\":{},\"segments_scanned\":{},\"batches\":{},\"records_recovered\":{}",
      report->position.next_seq.value(), report->segments_scanned, report->batches_recovered,
      report->records_recovered);
  text += ",\"torn_tail\":";
  text += report->torn_tail_path.empty()
              ? "null"
              : fmt::format("{{\"path\":{},\"offset\":{},\"bytes\":{},\"reason\":{}}}",
                            json_string(report->torn_tail_path), report->torn_tail_offset,
                            report->torn_tail_bytes, json_string(report->torn_tail_reason));
  const wal::RepairReport& repair = report->repair;
  text += ",\"repair\":";
  if (repair.path.empty()) {
    text += "null";
  } else {
    std::string removed;
    for (const std::string& path : repair.segments_removed) {
      removed += (removed.empty() ? "" : ",") + json_string(path);
    }
    text += fmt::format(
        "{{\"path\":{},\"offset\":{},\"bytes_zeroed\":{},\"reason\":{},\"segments_removed\":[{}],"
        "\"bytes_removed\":{}}}",
        json_string(repair.path), repair.offset, repair.bytes_zeroed, json_string(repair.reason),
        removed, repair.bytes_removed);
  }
  if (!command.details) return text;
  text += ",\"segments\":[";
  for (size_t i = 0; i < report->segments.size(); i++) {
    const wal::SegmentRecovery& segment = report->segments[i];
    text += fmt::format(
        "{}{{\"path\":{},\"first_seq\":{},\"batches\":{},\"end_offset\":{},\"file_bytes\":{}}}",
        i == 0 ? "" : ",", json_string(segment.path), segment.first_seq.value(), segment.batches,
        segment.end_offset, segment.file_bytes);
  }
  text += "],\"groups\":[";
  bool first = true;
  for (const auto& [id, group] : report->groups) {
    if (!group_selected(command, id)) continue;
    text += (first ? "" : ",") + group_text(id, group, true);
    first = false;
  }
  return text + "]";
}

void print_summary_text(const WalCommand& command, Status status, const Error* error,
                        const RecoveryReport* report) {
  if (report != nullptr) {
    fmt::print("WAL {}: {} segments, {} batches, {} records; the next batch is seq {}\n",
               command.directory, report->segments_scanned, report->batches_recovered,
               report->records_recovered, report->position.next_seq.value());
    if (command.details) {
      for (const wal::SegmentRecovery& segment : report->segments) {
        fmt::print("  segment {}  first seq {}  batches {}  end offset {}  file {} B\n",
                   segment.path, segment.first_seq.value(), segment.batches, segment.end_offset,
                   segment.file_bytes);
      }
      for (const auto& [id, group] : report->groups) {
        if (group_selected(command, id)) fmt::print("{}", group_text(id, group, false));
      }
    }
    if (!report->torn_tail_path.empty()) {
      fmt::print("torn tail: {} at offset {} ({}); {} bytes {}\n", report->torn_tail_path,
                 report->torn_tail_offset, report->torn_tail_reason, report->torn_tail_bytes,
                 status == Status::kTornTail
                     ? "would be zeroed by recovery (read-only: nothing written)"
                     : "zeroed");
    }
    const wal::RepairReport& repair = report->repair;
    if (!repair.path.empty()) {
      fmt::print(
          "repair: cut {} at offset {} ({}); {} bytes zeroed, {} later segments removed "
          "({} bytes)\n",
          repair.path, repair.offset, repair.reason, repair.bytes_zeroed,
          repair.segments_removed.size(), repair.bytes_removed);
      for (const std::string& path : repair.segments_removed) fmt::print("  removed {}\n", path);
    }
  }
  fmt::print("status: {}\n", status_name(status));
  if (error != nullptr) fmt::print(stderr, "ringraft wal: {}\n", error->message());
}

int run_wal_command(const WalCommand& command) {
  RecoveryOptions options;
  options.directory = command.directory;
  options.fsyncs_in_flight_max = command.fsyncs_in_flight_max;
  options.segment_bytes =
      command.segment_bytes > 0 ? command.segment_bytes : largest_segment_bytes(command.directory);
  options.read_only = !command.repair;
  options.repair = command.repair;
  if (command.json) fmt::print("{{\"directory\":{},", json_string(command.directory));
  if (command.json && command.records) fmt::print("\"records\":[");
  if (!command.json && command.records) fmt::print("records:\n");
  bool first_record = true;
  wal::RecordVisitor visitor;
  if (command.records) {
    // Streamed as recovery reads them: a log of any size lists in bounded memory.
    visitor = [&](Seq seq, const Record& record) {
      if (!group_selected(command, record.group)) return;
      if (command.json && !first_record) fmt::print(",");
      fmt::print("{}", record_text(seq, record, command.json));
      first_record = false;
    };
  }
  Result<RecoveryReport> report = run_recovery(options, visitor);
  Status status = Status::kClean;
  if (!report.ok()) {
    status =
        report.error().code() == ErrorCode::kInvalidInput ? Status::kCorrupt : Status::kIoError;
  } else if (!report.value().repair.path.empty()) {
    status = Status::kRepaired;
  } else if (!report.value().torn_tail_path.empty()) {
    status = command.repair ? Status::kRepaired : Status::kTornTail;
  }
  const Error* error = report.ok() ? nullptr : &report.error();
  const RecoveryReport* summary = report.ok() ? &report.value() : nullptr;
  if (command.json) {
    if (command.records) fmt::print("],");
    fmt::print("{}}}\n", summary_json(command, status, error, summary));
    if (error != nullptr) fmt::print(stderr, "ringraft wal: {}\n", error->message());
  } else {
    print_summary_text(command, status, error, summary);
  }
  return exit_code_of(status);
}

constexpr const char* kExitCodesHelp =
    "Exit codes: 0 clean (or repaired), 1 torn tail found (read-only; recovery would zero it), "
    "2 usage, 3 corruption (refused; see --repair), 4 I/O error.";

}  // namespace

void add_wal_commands(CLI::App& app, int* exit_code) {
  CLI::App* wal = app.add_subcommand("wal", "Inspect and repair a WAL directory");
  wal->require_subcommand(1);
  wal->footer(kExitCodesHelp);
  auto command = std::make_shared<WalCommand>();
  auto common_options = [&](CLI::App* sub) {
    sub->add_option("DIR", command->directory, "The WAL directory")
        ->required()
        ->check(CLI::ExistingDirectory);
    sub->add_flag("--json", command->json, "One JSON object on stdout");
    sub->add_option("--fsyncs-in-flight", command->fsyncs_in_flight_max,
                    "The writer's fsyncs_in_flight_max (unacknowledged batches it may leave)")
        ->check(CLI::Range(1, 16));
    sub->footer(kExitCodesHelp);
  };
  CLI::App* verify = wal->add_subcommand(
      "verify",
      "Scan every segment; read-only unless --repair. Reports clean, torn tail or "
      "corruption");
  common_options(verify);
  verify->add_flag("--repair", command->repair,
                   "Zero a torn tail and, on corruption, truncate the log at the bad batch "
                   "(zero from there, remove later segments). Loses everything after the cut");
  verify->add_option("--segment-bytes", command->segment_bytes,
                     "Size a short last segment is restored to (default: the largest segment's)");
  verify->callback([command, exit_code] { *exit_code = run_wal_command(*command); });
  CLI::App* dump = wal->add_subcommand(
      "dump", "Read-only: list segments and per-group state, and with --records every record");
  common_options(dump);
  dump->add_option("--group", command->group, "Only this group's records and state");
  dump->add_flag("--records", command->records, "List every record");
  dump->callback([command, exit_code, dump] {
    command->details = true;
    command->group_given = dump->count("--group") > 0;
    *exit_code = run_wal_command(*command);
  });
}

}  // namespace ringraft::tools
