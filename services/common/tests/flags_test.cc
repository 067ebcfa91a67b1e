#include "services/common/flags.h"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace collections {
namespace {

struct Settings {
  std::string bootstrap = "default:9092";
  int max_batch = 100;
  bool rebuild = false;
  std::string allocation = "principal,interest,fees,costs";
  std::map<std::string, std::string> kafka;
};

int ParseInto(Settings& s, std::vector<std::string> args) {
  FlagParser flags("test-binary", "A test.");
  flags.SetEnvPrefix("FLAGSTEST_");
  flags.Add("bootstrap", &s.bootstrap, "brokers");
  flags.Add("max-batch", &s.max_batch, "batch");
  flags.Add("rebuild", &s.rebuild, "rebuild");
  flags.Add("allocation-order", &s.allocation, "order");
  flags.AddProperties("kafka-property", &s.kafka, "librdkafka property", "kafka", "KAFKA");
  std::vector<char*> argv = {const_cast<char*>("test-binary")};
  for (auto& a : args) argv.push_back(a.data());
  return flags.Parse(static_cast<int>(argv.size()), argv.data());
}

std::string WriteConfig(const std::string& text) {
  std::string path = "/tmp/flags_test_" + std::to_string(getpid()) + ".conf";
  std::ofstream(path) << text;
  return path;
}

struct CleanEnv {
  CleanEnv() { Clear(); }
  ~CleanEnv() { Clear(); }
  static void Clear() {
    for (const char* n : {"FLAGSTEST_BOOTSTRAP", "FLAGSTEST_MAX_BATCH", "FLAGSTEST_CONFIG",
                          "FLAGSTEST_KAFKA_SASL_PASSWORD", "FLAGSTEST_KAFKA_SECURITY_PROTOCOL",
                          "FLAGSTEST_REBUILD"}) {
      unsetenv(n);
    }
  }
};

BOOST_FIXTURE_TEST_CASE(defaults_stay_when_nothing_is_given, CleanEnv) {
  Settings s;
  BOOST_TEST(ParseInto(s, {}) == -1);
  BOOST_TEST(s.bootstrap == "default:9092");
  BOOST_TEST(s.max_batch == 100);
}

BOOST_FIXTURE_TEST_CASE(file_then_environment_then_flag, CleanEnv) {
  const std::string path = WriteConfig(
      "# comment\n"
      "bootstrap = file:9092\n"
      "max-batch = 7\n"
      "allocation-order = \"costs,fees,interest,principal\"\n"
      "rebuild = true\n"
      "[kafka]\n"
      "security.protocol = SASL_SSL\n"
      "sasl.mechanism = SCRAM-SHA-512\n"
      "sasl.jaas.config = a b, c\n");
  Settings from_file;
  BOOST_TEST(ParseInto(from_file, {"--config", path}) == -1);
  BOOST_TEST(from_file.bootstrap == "file:9092");
  BOOST_TEST(from_file.max_batch == 7);
  BOOST_TEST(from_file.rebuild);
  BOOST_TEST(from_file.allocation == "costs,fees,interest,principal");
  BOOST_TEST(from_file.kafka["security.protocol"] == "SASL_SSL");
  BOOST_TEST(from_file.kafka["sasl.jaas.config"] == "a b, c");

  setenv("FLAGSTEST_BOOTSTRAP", "env:9092", 1);
  setenv("FLAGSTEST_MAX_BATCH", "8", 1);
  setenv("FLAGSTEST_KAFKA_SECURITY_PROTOCOL", "SSL", 1);
  setenv("FLAGSTEST_KAFKA_SASL_PASSWORD", "secret", 1);
  Settings from_env;
  BOOST_TEST(ParseInto(from_env, {"--config=" + path}) == -1);
  BOOST_TEST(from_env.bootstrap == "env:9092");
  BOOST_TEST(from_env.max_batch == 8);
  BOOST_TEST(from_env.kafka["security.protocol"] == "SSL");
  BOOST_TEST(from_env.kafka["sasl.password"] == "secret");
  BOOST_TEST(from_env.kafka["sasl.mechanism"] == "SCRAM-SHA-512");

  Settings from_flag;
  BOOST_TEST(ParseInto(from_flag, {"--config", path, "--bootstrap=flag:9092", "--rebuild=false",
                                   "--kafka-property", "security.protocol=PLAINTEXT"}) == -1);
  BOOST_TEST(from_flag.bootstrap == "flag:9092");
  BOOST_TEST(from_flag.max_batch == 8);
  BOOST_TEST(!from_flag.rebuild);
  BOOST_TEST(from_flag.kafka["security.protocol"] == "PLAINTEXT");
  BOOST_TEST(from_flag.kafka["sasl.password"] == "secret");
  std::remove(path.c_str());
}

BOOST_FIXTURE_TEST_CASE(an_empty_value_is_a_value, CleanEnv) {
  Settings s;
  BOOST_TEST(ParseInto(s, {"--bootstrap=", "--max-batch", "5"}) == -1);
  BOOST_TEST(s.bootstrap == "");
  BOOST_TEST(s.max_batch == 5);
  const std::string path = WriteConfig("bootstrap =\nmax-batch = 6\n");
  Settings from_file;
  BOOST_TEST(ParseInto(from_file, {"--config", path}) == -1);
  BOOST_TEST(from_file.bootstrap == "");
  BOOST_TEST(from_file.max_batch == 6);
  std::remove(path.c_str());
}

BOOST_FIXTURE_TEST_CASE(config_file_from_the_environment, CleanEnv) {
  const std::string path = WriteConfig("max-batch = 42\n");
  setenv("FLAGSTEST_CONFIG", path.c_str(), 1);
  Settings s;
  BOOST_TEST(ParseInto(s, {}) == -1);
  BOOST_TEST(s.max_batch == 42);
  std::remove(path.c_str());
}

BOOST_FIXTURE_TEST_CASE(bad_input_from_any_source_is_refused, CleanEnv) {
  Settings s;
  BOOST_TEST(ParseInto(s, {"--max-batch=many"}) == 2);
  BOOST_TEST(ParseInto(s, {"--no-such-flag"}) == 2);
  BOOST_TEST(ParseInto(s, {"stray"}) == 2);
  BOOST_TEST(ParseInto(s, {"--kafka-property", "novalue"}) == 2);
  BOOST_TEST(ParseInto(s, {"--config", "/nonexistent/file.conf"}) == 2);
  const std::string unknown = WriteConfig("colour = blue\n");
  BOOST_TEST(ParseInto(s, {"--config", unknown}) == 2);
  const std::string section = WriteConfig("[zookeeper]\nx = y\n");
  BOOST_TEST(ParseInto(s, {"--config", section}) == 2);
  setenv("FLAGSTEST_MAX_BATCH", "lots", 1);
  BOOST_TEST(ParseInto(s, {}) == 2);
  std::remove(unknown.c_str());
}

BOOST_FIXTURE_TEST_CASE(help_and_version_exit_zero_even_with_a_broken_config, CleanEnv) {
  Settings s;
  BOOST_TEST(ParseInto(s, {"--version"}) == 0);
  BOOST_TEST(ParseInto(s, {"--help", "--config", "/nonexistent"}) == 0);
}

BOOST_AUTO_TEST_CASE(positional_arguments_when_accepted) {
  FlagParser flags("ctl replay", "A test.");
  std::string format = "table";
  flags.Add("format", &format, "format");
  flags.AcceptPositional("ACCOUNT", "the account");
  std::vector<std::string> args = {"ctl", "--format", "json", "A-1"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  BOOST_TEST(flags.Parse(static_cast<int>(argv.size()), argv.data()) == -1);
  BOOST_TEST(format == "json");
  BOOST_TEST(flags.positional().size() == 1u);
  BOOST_TEST(flags.positional()[0] == "A-1");
}

}  // namespace
}  // namespace collections
