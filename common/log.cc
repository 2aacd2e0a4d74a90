#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>

namespace ringraft {
namespace {

LogLevel initial_level() {
  LogLevel level = LogLevel::kInfo;
  if (const char* env = std::getenv("RINGRAFT_LOG")) parse_log_level(env, &level);
  return level;
}

std::atomic<LogLevel> g_level{initial_level()};

const char* level_tag(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "D";
    case LogLevel::kInfo:
      return "I";
    case LogLevel::kWarn:
      return "W";
    case LogLevel::kError:
      return "E";
    case LogLevel::kOff:
      break;
  }
  return "?";
}

}  // namespace

void set_log_level(LogLevel level) {
  g_level.store(level, std::memory_order_relaxed);
}
LogLevel log_level() {
  return g_level.load(std::memory_order_relaxed);
}

bool parse_log_level(std::string_view text, LogLevel* level) {
  if (text == "debug")
    *level = LogLevel::kDebug;
  else if (text == "info")
    *level = LogLevel::kInfo;
  else if (text == "warn")
    *level = LogLevel::kWarn;
  else if (text == "error")
    *level = LogLevel::kError;
  else if (text == "off")
    *level = LogLevel::kOff;
  else
    return false;
  return true;
}

void log_line(LogLevel level, std::string_view message) {
  const auto now = std::chrono::system_clock::now();
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  fmt::memory_buffer line;
  fmt::format_to(std::back_inserter(line), "{} {}.{:03} {}\n", level_tag(level), millis / 1000,
                 millis % 1000, message);
  const char* cursor = line.data();
  size_t remaining = line.size();
  while (remaining > 0) {
    const ssize_t written = ::write(STDERR_FILENO, cursor, remaining);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;  // stderr is gone: nothing better to do with a log line
    cursor += written;
    remaining -= static_cast<size_t>(written);
  }
}

}  // namespace ringraft
