#pragma once

#include "absl/strings/str_cat.h"
// Callers have long relied on these coming with the log (absl::Now in timing code).
#include "absl/time/clock.h"
#include "absl/time/time.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace collections {

// The process's log: one line per event on stderr, written through spdlog.
//
// In JSON mode (the default when stderr is not a terminal) each line is one JSON object:
//   {"ts":"2025-11-04T14:00:00.123Z","level":"info","component":"writer","partition":2,
//    "msg":"restored 12 accounts", "account":"A-1", ...}
// with the structured fields present only where the caller knows them. A component written
// "name[N]" (e.g. "writer[2]") is reported as component "name" with partition N. In text mode
// the same event reads "2025-11-04T14:00:00.123Z INFO  writer[2] restored 12 accounts".
//
// Thread-safe: lines from different threads never interleave. Configure once, early in main,
// before other threads log.
enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kJson = 0, kText = 1 };

// What the caller knows about the event beyond its message; empty fields are left out.
struct LogFields {
  std::optional<int32_t> partition;
  std::string account;
  std::string command_id;
  std::string correlation_id;
  std::string principal;
};

// Events below this level are dropped. Default kInfo.
LogLevel& MinLogLevel();

// Chooses the line format for the rest of the process (default: kJson unless stderr is a
// terminal).
void SetLogFormat(LogFormat format);
LogFormat CurrentLogFormat();

// Parses "debug|info|warn|error" and "json|text|auto"; nullopt when the text is none of them.
std::optional<LogLevel> ParseLogLevel(std::string_view text);
std::optional<LogFormat> ParseLogFormat(std::string_view text);

void Log(LogLevel level, std::string_view component, std::string_view message);
void Log(LogLevel level, std::string_view component, const LogFields& fields,
         std::string_view message);

// Formats one event as the line Log would write (without the newline); for tests.
std::string FormatLogLine(LogFormat format, LogLevel level, std::string_view component,
                          const LogFields& fields, std::string_view message);

template <typename... Args>
void LogDebug(std::string_view component, const Args&... args) {
  if (LogLevel::kDebug < MinLogLevel()) return;
  Log(LogLevel::kDebug, component, absl::StrCat(args...));
}
template <typename... Args>
void LogInfo(std::string_view component, const Args&... args) {
  Log(LogLevel::kInfo, component, absl::StrCat(args...));
}
template <typename... Args>
void LogWarn(std::string_view component, const Args&... args) {
  Log(LogLevel::kWarn, component, absl::StrCat(args...));
}
template <typename... Args>
void LogError(std::string_view component, const Args&... args) {
  Log(LogLevel::kError, component, absl::StrCat(args...));
}

// The same with structured fields: LogInfo(LogFields{.account = id}, "writer[2]", "...").
template <typename... Args>
void LogDebug(const LogFields& fields, std::string_view component, const Args&... args) {
  if (LogLevel::kDebug < MinLogLevel()) return;
  Log(LogLevel::kDebug, component, fields, absl::StrCat(args...));
}
template <typename... Args>
void LogInfo(const LogFields& fields, std::string_view component, const Args&... args) {
  Log(LogLevel::kInfo, component, fields, absl::StrCat(args...));
}
template <typename... Args>
void LogWarn(const LogFields& fields, std::string_view component, const Args&... args) {
  Log(LogLevel::kWarn, component, fields, absl::StrCat(args...));
}
template <typename... Args>
void LogError(const LogFields& fields, std::string_view component, const Args&... args) {
  Log(LogLevel::kError, component, fields, absl::StrCat(args...));
}

// Escapes `text` as the inside of a JSON string (quotes, backslashes, control characters,
// and bytes that are not valid UTF-8 become U+FFFD).
void AppendJsonEscaped(std::string& out, std::string_view text);

}  // namespace collections
