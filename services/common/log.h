#pragma once

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

#include <cstdio>
#include <mutex>
#include <string_view>

namespace collections {

// Minimal structured logging to stderr: "2025-11-04T14:00:00.123Z INFO  writer[2] message".
// One line per call, never interleaved. Thread-safe.
enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

inline LogLevel& MinLogLevel() {
  static LogLevel level = LogLevel::kInfo;
  return level;
}

inline void Log(LogLevel level, std::string_view component, std::string_view message) {
  if (level < MinLogLevel()) return;
  static std::mutex mutex;
  static constexpr const char* kNames[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
  // Debian's Abseil has its own absl::string_view, so std::string_view is joined by hand.
  std::string line = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line.append(" ").append(kNames[static_cast<int>(level)]).append(" ");
  line.append(component).append(" ").append(message).append("\n");
  std::lock_guard lock(mutex);
  std::fputs(line.c_str(), stderr);
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

}  // namespace collections
