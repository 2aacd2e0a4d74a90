// Leveled logging to stderr, formatted with fmt.
//
// Each line goes out in one write(2) so that lines from several shards never interleave. Not for
// the hot path: count there, log on state changes and errors.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace ringraft {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void set_log_level(LogLevel level);
LogLevel log_level();
// Parses "debug", "info", "warn", "error" or "off"; returns false on anything else.
bool parse_log_level(std::string_view text, LogLevel* level);
void log_line(LogLevel level, std::string_view message);

template <class... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (level < log_level()) return;
  log_line(level, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace ringraft

#define RR_LOG_DEBUG(...) ::ringraft::log(::ringraft::LogLevel::kDebug, __VA_ARGS__)
#define RR_LOG_INFO(...) ::ringraft::log(::ringraft::LogLevel::kInfo, __VA_ARGS__)
#define RR_LOG_WARN(...) ::ringraft::log(::ringraft::LogLevel::kWarn, __VA_ARGS__)
#define RR_LOG_ERROR(...) ::ringraft::log(::ringraft::LogLevel::kError, __VA_ARGS__)
