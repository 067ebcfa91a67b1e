#include "services/common/log.h"

#include "absl/time/clock.h"
#include "absl/time/time.h"

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <unistd.h>

#include <atomic>
#include <memory>

namespace collections {
namespace {

// The line is complete when it reaches spdlog (JSON needs the fields spdlog's patterns do not
// know), so the sink's formatter only adds the newline.
class PassThroughFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    dest.append(msg.payload.begin(), msg.payload.end());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<PassThroughFormatter>();
  }
};

// One process-wide logger, as stderr is one per process. Created on first use; spdlog's
// stderr_sink_mt serializes writers so lines never interleave.
spdlog::logger& Logger() {
  static spdlog::logger* logger = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(std::make_unique<PassThroughFormatter>());
    auto* l = new spdlog::logger("collections", std::move(sink));
    l->set_level(spdlog::level::trace);  // MinLogLevel filters before formatting
    l->flush_on(spdlog::level::trace);   // a crash must not eat the last lines
    return l;
  }();
  return *logger;
}

std::atomic<int>& FormatSetting() {
  static std::atomic<int> format{static_cast<int>(isatty(STDERR_FILENO) ? LogFormat::kText
                                                                          : LogFormat::kJson)};
  return format;
}

constexpr const char* kJsonLevels[] = {"debug", "info", "warn", "error"};
constexpr const char* kTextLevels[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

// "writer[2]" -> ("writer", 2); anything else is returned whole.
std::string_view SplitComponent(std::string_view component, std::optional<int32_t>* partition) {
  if (component.size() < 4 || component.back() != ']') return component;
  const size_t open = component.rfind('[');
  if (open == std::string_view::npos || open == 0 || open + 2 >= component.size()) {
    return component;
  }
  int64_t n = 0;
  for (size_t i = open + 1; i + 1 < component.size(); ++i) {
    const char c = component[i];
    if (c < '0' || c > '9' || n > 1'000'000) return component;
    n = n * 10 + (c - '0');
  }
  *partition = static_cast<int32_t>(n);
  return component.substr(0, open);
}

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  out.append(",\"").append(name).append("\":\"");
  AppendJsonEscaped(out, value);
  out.push_back('"');
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is not one.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  size_t length;
  uint32_t min;
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  uint32_t code = c & (0x7F >> length);
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

}  // namespace

LogLevel& MinLogLevel() {
  static LogLevel level = LogLevel::kInfo;
  return level;
}

void SetLogFormat(LogFormat format) { FormatSetting() = static_cast<int>(format); }

LogFormat CurrentLogFormat() { return static_cast<LogFormat>(FormatSetting().load()); }

std::optional<LogLevel> ParseLogLevel(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn" || text == "warning") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return std::nullopt;
}

std::optional<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "json") return LogFormat::kJson;
  if (text == "text") return LogFormat::kText;
  if (text == "auto") return isatty(STDERR_FILENO) ? LogFormat::kText : LogFormat::kJson;
  return std::nullopt;
}

void AppendJsonEscaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      if (size_t n = Utf8SequenceLength(text, i); n > 0) {
        out.append(text.substr(i, n));
        i += n;
      } else {
        out.append("\xEF\xBF\xBD");  // U+FFFD: a log line must stay valid UTF-8
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out.append("\\u00").push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
}

std::string FormatLogLine(LogFormat format, LogLevel level, std::string_view component,
                          const LogFields& fields, std::string_view message) {
  const std::string ts =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  const int level_index = static_cast<int>(level);
  std::string line;
  line.reserve(96 + message.size());
  if (format == LogFormat::kText) {
    line.append(ts).append(" ").append(kTextLevels[level_index]).append(" ");
    line.append(component);
    if (fields.partition && component.find('[') == std::string_view::npos) {
      absl::StrAppend(&line, "[", *fields.partition, "]");
    }
    line.append(" ");
    for (const auto& [name, value] :
         {std::pair<const char*, const std::string*>{"account", &fields.account},
          {"command_id", &fields.command_id},
          {"correlation_id", &fields.correlation_id},
          {"principal", &fields.principal}}) {
      if (!value->empty()) line.append(name).append("=").append(*value).append(" ");
    }
    line.append(message);
    return line;
  }
  std::optional<int32_t> partition = fields.partition;
  const std::string_view name = SplitComponent(component, &partition);
  line.append("{\"ts\":\"").append(ts).append("\",\"level\":\"");
  line.append(kJsonLevels[level_index]).append("\",\"component\":\"");
  AppendJsonEscaped(line, name);
  line.append("\"");
  if (partition) absl::StrAppend(&line, ",\"partition\":", *partition);
  AppendField(line, "account", fields.account);
  AppendField(line, "command_id", fields.command_id);
  AppendField(line, "correlation_id", fields.correlation_id);
  AppendField(line, "principal", fields.principal);
  line.append(",\"msg\":\"");
  AppendJsonEscaped(line, message);
  line.append("\"}");
  return line;
}

void Log(LogLevel level, std::string_view component, const LogFields& fields,
         std::string_view message) {
  if (level < MinLogLevel()) return;
  static constexpr spdlog::level::level_enum kSpdLevels[] = {
      spdlog::level::debug, spdlog::level::info, spdlog::level::warn, spdlog::level::err};
  const std::string line = FormatLogLine(CurrentLogFormat(), level, component, fields, message);
  Logger().log(kSpdLevels[static_cast<int>(level)],
               spdlog::string_view_t(line.data(), line.size()));
}

void Log(LogLevel level, std::string_view component, std::string_view message) {
  Log(level, component, LogFields{}, message);
}

}  // namespace collections
