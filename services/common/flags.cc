#include "services/common/flags.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

extern char** environ;

namespace collections {
namespace {

std::string Trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  const size_t end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

std::string Unquote(const std::string& text) {
  if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
      text.back() == text.front()) {
    return text.substr(1, text.size() - 2);
  }
  return text;
}

std::string EnvSuffix(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    c = (c == '-' || c == '.') ? '_'
                               : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

template <typename T>
std::string Text(T value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

const char* CollectionsVersion() {
#ifdef COLLECTIONS_VERSION
  return COLLECTIONS_VERSION;
#else
  return "unknown";
#endif
}

FlagParser::FlagParser(std::string program, std::string description)
    : program_(std::move(program)), app_(std::make_unique<CLI::App>(description)) {
  app_->name(program_);
  // Sources are appended in precedence order (file, environment, flags): the last one wins.
  app_->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app_->set_version_flag("--version", program_.substr(0, program_.find(' ')) + " " +
                                          CollectionsVersion());
  app_->add_option("--config", config_path_,
                   "config file of `name = value` lines (and [section]s); settings precedence: "
                   "config file < environment < flags");
  app_->add_flag("--print-config", print_config_,
                 "print the settings in effect (after config file, environment and flags) and "
                 "exit");
  app_->get_formatter()->column_width(34);
}

FlagParser::~FlagParser() = default;

void FlagParser::Register(const std::string& name, std::function<std::string()> render) {
  names_.push_back(name);
  renderers_.push_back(std::move(render));
}

std::string FlagParser::EnvName(const std::string& name) const {
  return env_prefix_.empty() ? "" : env_prefix_ + EnvSuffix(name);
}

void FlagParser::SetEnvPrefix(std::string prefix) {
  env_prefix_ = std::move(prefix);
  app_->footer("Every flag --some-name can also be set by the environment variable " + env_prefix_ +
               "SOME_NAME, or by `some-name = value` in the --config file (" + env_prefix_ +
               "CONFIG). Precedence: config file < environment < flags.");
}

void FlagParser::Add(const std::string& name, std::string* value, const std::string& help) {
  Register(name, [value] { return *value; });
  app_->add_option("--" + name, *value, help)->capture_default_str();
}
void FlagParser::Add(const std::string& name, int* value, const std::string& help) {
  Register(name, [value] { return Text(*value); });
  app_->add_option("--" + name, *value, help)->capture_default_str();
}
void FlagParser::Add(const std::string& name, int64_t* value, const std::string& help) {
  Register(name, [value] { return Text(*value); });
  app_->add_option("--" + name, *value, help)->capture_default_str();
}
void FlagParser::Add(const std::string& name, double* value, const std::string& help) {
  Register(name, [value] { return Text(*value); });
  app_->add_option("--" + name, *value, help)->capture_default_str();
}
void FlagParser::Add(const std::string& name, bool* value, const std::string& help) {
  bool_names_.push_back(name);
  Register(name, [value] { return std::string(*value ? "true" : "false"); });
  app_->add_flag("--" + name, *value, help + (*value ? " (default: true)" : ""));
}

void FlagParser::AddProperties(const std::string& name, std::map<std::string, std::string>* values,
                               const std::string& help, const std::string& section,
                               const std::string& env_infix) {
  auto map = std::make_unique<PropertyMap>();
  map->name = name;
  map->section = section;
  map->env_infix = env_infix;
  map->values = values;
  app_->add_option("--" + name, map->raw, help + " (repeat for each; or a [" + section +
                                              "] section in the config file)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
  property_maps_.push_back(std::move(map));
}

void FlagParser::AcceptPositional(const std::string& name, const std::string& help) {
  accept_positional_ = true;
  app_->add_option(name, positional_, help)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

int FlagParser::Fail(const std::string& message) const {
  std::fprintf(stderr, "%s: %s (see --help)\n", program_.c_str(), message.c_str());
  return 2;
}

int FlagParser::Parse(int argc, char** argv) {
  std::vector<std::string> given(argv + 1, argv + argc);
  for (const auto& arg : given) {
    // --help and --version answer before any source is read: a broken config file must not
    // hide the usage.
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h" || arg == "--version") {
      try {
        app_->parse(std::vector<std::string>{arg});
      } catch (const CLI::ParseError& e) {
        return app_->exit(e);
      }
    }
  }

  // The config file: --config on the command line, else <prefix>CONFIG.
  std::string config;
  if (!env_prefix_.empty()) {
    if (const char* env = std::getenv((env_prefix_ + "CONFIG").c_str()); env != nullptr) {
      config = env;
    }
  }
  for (size_t i = 0; i < given.size(); ++i) {
    if (given[i] == "--") break;
    if (given[i] == "--config" && i + 1 < given.size()) config = given[i + 1];
    if (given[i].rfind("--config=", 0) == 0) config = given[i].substr(9);
  }

  std::vector<std::string> args;  // every source, lowest precedence first
  const auto find_map = [&](const std::string& section) -> PropertyMap* {
    for (auto& m : property_maps_) {
      if (m->section == section) return m.get();
    }
    return nullptr;
  };
  if (!config.empty()) {
    std::ifstream in(config);
    if (!in) return Fail("cannot read config file " + config);
    std::string line;
    PropertyMap* section = nullptr;
    for (int number = 1; std::getline(in, line); ++number) {
      const std::string where = config + ":" + std::to_string(number);
      line = Trim(line);
      if (line.empty() || line[0] == '#' || line[0] == ';') continue;
      if (line.front() == '[') {
        if (line.back() != ']') return Fail(where + ": a section is written [name]");
        const std::string name = Trim(line.substr(1, line.size() - 2));
        section = find_map(name);
        if (section == nullptr) return Fail(where + ": unknown section [" + name + "]");
        continue;
      }
      const size_t eq = line.find('=');
      if (eq == std::string::npos) return Fail(where + ": expected `name = value`");
      const std::string key = Unquote(Trim(line.substr(0, eq)));
      const std::string value = Unquote(Trim(line.substr(eq + 1)));
      if (key.empty()) return Fail(where + ": a setting needs a name");
      if (section != nullptr) {
        args.push_back("--" + section->name + "=" + key + "=" + value);
        continue;
      }
      if (key == "config" || std::find(names_.begin(), names_.end(), key) == names_.end()) {
        return Fail(where + ": unknown setting " + key);
      }
      args.push_back("--" + key + "=" + value);
    }
  }
  if (!env_prefix_.empty()) {
    for (const auto& name : names_) {
      if (const char* env = std::getenv(EnvName(name).c_str()); env != nullptr && *env != '\0') {
        args.push_back("--" + name + "=" + env);
      }
    }
    for (const auto& map : property_maps_) {
      const std::string start = env_prefix_ + map->env_infix + "_";
      std::vector<std::string> found;
      for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string entry = *e;
        const size_t eq = entry.find('=');
        if (eq == std::string::npos || entry.rfind(start, 0) != 0 || eq <= start.size()) continue;
        // A flag of its own (say --kafka-ca-file) is not a property.
        if (std::any_of(names_.begin(), names_.end(), [&](const std::string& name) {
              return EnvName(name) == entry.substr(0, eq);
            })) {
          continue;
        }
        std::string key = entry.substr(start.size(), eq - start.size());
        for (char& c : key) {
          c = c == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        found.push_back("--" + map->name + "=" + key + "=" + entry.substr(eq + 1));
      }
      std::sort(found.begin(), found.end());  // environ's order is unspecified
      args.insert(args.end(), found.begin(), found.end());
    }
  }
  args.insert(args.end(), given.begin(), given.end());
  // CLI11 reads `--name=` (an empty value) as `--name` and takes the next argument as its
  // value; an explicit empty argument says what was meant.
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() > 3 && arg.rfind("--", 0) == 0 && arg.back() == '=' &&
        arg.find('=') == arg.size() - 1 &&
        std::find(bool_names_.begin(), bool_names_.end(), arg.substr(2, arg.size() - 3)) ==
            bool_names_.end()) {
      args[i].pop_back();
      args.insert(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, "");
      ++i;
    }
  }

  std::reverse(args.begin(), args.end());  // CLI11 takes its vector back to front
  try {
    app_->parse(args);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app_->exit(e);
    return Fail(e.what());
  }
  for (auto& map : property_maps_) {
    for (const auto& raw : map->raw) {
      const size_t eq = raw.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Fail("--" + map->name + " takes KEY=VALUE, not \"" + raw + "\"");
      }
      (*map->values)[raw.substr(0, eq)] = raw.substr(eq + 1);
    }
  }
  if (print_config_) {
    for (size_t i = 0; i < names_.size(); ++i) {
      std::printf("%s = %s\n", names_[i].c_str(), renderers_[i]().c_str());
    }
    for (const auto& map : property_maps_) {
      std::printf("\n[%s]\n", map->section.c_str());
      for (const auto& [key, value] : *map->values) {
        const bool secret = key.find("password") != std::string::npos ||
                            key.find("secret") != std::string::npos ||
                            key.find(".pem") != std::string::npos;
        std::printf("%s = %s\n", key.c_str(), secret ? "********" : value.c_str());
      }
    }
    return 0;
  }
  return -1;
}

}  // namespace collections
