#define BOOST_TEST_MODULE common
#include "services/common/log.h"

#include <boost/test/unit_test.hpp>

namespace collections {
namespace {

BOOST_AUTO_TEST_CASE(json_line_carries_level_component_partition_and_fields) {
  LogFields fields;
  fields.account = "A-1";
  fields.command_id = "cmd-7";
  fields.correlation_id = "corr-9";
  fields.principal = "agent-3";
  const std::string line =
      FormatLogLine(LogFormat::kJson, LogLevel::kWarn, "writer[2]", fields, "restored 3 accounts");
  BOOST_TEST(line.front() == '{');
  BOOST_TEST(line.back() == '}');
  BOOST_TEST(line.find("\"level\":\"warn\"") != std::string::npos);
  BOOST_TEST(line.find("\"component\":\"writer\"") != std::string::npos);
  BOOST_TEST(line.find("\"partition\":2") != std::string::npos);
  BOOST_TEST(line.find("\"account\":\"A-1\"") != std::string::npos);
  BOOST_TEST(line.find("\"command_id\":\"cmd-7\"") != std::string::npos);
  BOOST_TEST(line.find("\"correlation_id\":\"corr-9\"") != std::string::npos);
  BOOST_TEST(line.find("\"principal\":\"agent-3\"") != std::string::npos);
  BOOST_TEST(line.find("\"msg\":\"restored 3 accounts\"") != std::string::npos);
  BOOST_TEST(line.find("\"ts\":\"20") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_leaves_out_unknown_fields) {
  const std::string line = FormatLogLine(LogFormat::kJson, LogLevel::kInfo, "server", {}, "up");
  BOOST_TEST(line.find("account") == std::string::npos);
  BOOST_TEST(line.find("partition") == std::string::npos);
  BOOST_TEST(line.find("\"component\":\"server\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_escapes_quotes_control_characters_and_bad_utf8) {
  std::string out;
  AppendJsonEscaped(out, std::string("a\"b\\c\nd\x01\xff\xc3\xa9", 11));
  BOOST_TEST(out == "a\\\"b\\\\c\\nd\\u0001\xEF\xBF\xBD\xc3\xa9");
}

BOOST_AUTO_TEST_CASE(text_line_reads_like_a_terminal_log) {
  LogFields fields;
  fields.account = "A-1";
  const std::string line =
      FormatLogLine(LogFormat::kText, LogLevel::kError, "writer[1]", fields, "append failed");
  BOOST_TEST(line.find(" ERROR writer[1] account=A-1 append failed") != std::string::npos);
  BOOST_TEST(line.find('{') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(levels_and_formats_parse) {
  BOOST_TEST((ParseLogLevel("warn") == LogLevel::kWarn));
  BOOST_TEST(!ParseLogLevel("loud").has_value());
  BOOST_TEST((ParseLogFormat("json") == LogFormat::kJson));
  BOOST_TEST((ParseLogFormat("text") == LogFormat::kText));
  BOOST_TEST(!ParseLogFormat("xml").has_value());
}

}  // namespace
}  // namespace collections
