#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace collections {

// The settings of one of the project's binaries, from three places with one precedence:
//
//   config file  <  environment variables  <  command-line flags
//
// Flags are `--name=value` or `--name value`, booleans `--name` or `--name=false`. With an
// environment prefix (SetEnvPrefix("COLLECTIONS_")) each flag --some-name can also come from
// COLLECTIONS_SOME_NAME. `--config FILE` (or <prefix>CONFIG) names a config file of
// `some-name = value` lines, `#` comments, and a `[section]` per property map (AddProperties),
// e.g. a [kafka] section of librdkafka properties. Every binary gets --help and --version.
// Parsing is CLI11's; the file reader is our own because CLI11's TOML reader splits values at
// commas and spaces, which librdkafka values (sasl.jaas.config, ssl.cipher.suites) contain.
//
//   FlagParser flags("collections-server", "Runs the collections case service.");
//   flags.SetEnvPrefix("COLLECTIONS_");
//   flags.Add("listen", &listen, "gRPC address to listen on");
//   if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
//
// Not thread-safe; used once at start-up. The pointers passed to Add must outlive Parse.
class FlagParser {
 public:
  FlagParser(std::string program, std::string description);
  ~FlagParser();
  FlagParser(const FlagParser&) = delete;
  FlagParser& operator=(const FlagParser&) = delete;

  void Add(const std::string& name, std::string* value, const std::string& help);
  void Add(const std::string& name, int* value, const std::string& help);
  void Add(const std::string& name, int64_t* value, const std::string& help);
  void Add(const std::string& name, double* value, const std::string& help);
  void Add(const std::string& name, bool* value, const std::string& help);

  // A map of free-form properties: repeated `--<name> key=value` flags, a `[section]` in the
  // config file, and environment variables <prefix><ENV_INFIX>_<KEY> where KEY is the
  // property upper-cased with '.' written '_' (COLLECTIONS_KAFKA_SASL_PASSWORD ->
  // sasl.password). Later sources override earlier ones key by key.
  void AddProperties(const std::string& name, std::map<std::string, std::string>* values,
                     const std::string& help, const std::string& section,
                     const std::string& env_infix);

  // Accepts positional arguments (shown as `name` in the usage); without it they are refused.
  void AcceptPositional(const std::string& name, const std::string& help);

  // Enables environment variables: flag --some-name is read from <prefix>SOME_NAME.
  void SetEnvPrefix(std::string prefix);

  // Positional arguments left after the flags.
  const std::vector<std::string>& positional() const { return positional_; }

  // Returns -1 to go on, or the exit code to return now (0 after --help, --version or
  // --print-config, 2 on a bad flag, environment variable or config file, with the reason on
  // stderr). --print-config prints the settings in effect, in the config file's format, with
  // the values of secret-looking properties (*password*, *secret*, *.pem) masked.
  int Parse(int argc, char** argv);

  // The environment variable that sets flag `name` ("" without a prefix).
  std::string EnvName(const std::string& name) const;

 private:
  struct PropertyMap {
    std::string name, section, env_infix;
    std::map<std::string, std::string>* values;
    std::vector<std::string> raw;
  };
  int Fail(const std::string& message) const;
  void Register(const std::string& name, std::function<std::string()> render);

  std::string program_;
  std::unique_ptr<CLI::App> app_;
  std::string env_prefix_;
  std::string config_path_;
  std::vector<std::string> names_;  // registered flags, for the config file and environment
  std::vector<std::function<std::string()>> renderers_;  // each flag's current value, as text
  std::vector<std::string> bool_names_;
  bool print_config_ = false;
  std::vector<std::unique_ptr<PropertyMap>> property_maps_;
  std::vector<std::string> positional_;
  bool accept_positional_ = false;
};

// The version every binary reports with --version, e.g. "0.1.0".
const char* CollectionsVersion();

}  // namespace collections
