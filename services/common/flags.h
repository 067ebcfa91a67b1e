#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace collections {

// Command-line flags for the project's binaries: `--name=value` or `--name value`, booleans
// as `--name`, `--help` prints the usage built from the registered flags.
//
//   FlagParser flags("collections-server", "Runs the collections case service.");
//   flags.Add("listen", &listen, "gRPC address to listen on");
//   if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
class FlagParser {
 public:
  FlagParser(std::string program, std::string description)
      : program_(std::move(program)), description_(std::move(description)) {}

  void Add(const std::string& name, std::string* value, const std::string& help) {
    flags_.push_back({name, help, *value, false, [value](const std::string& v) {
                        *value = v;
                        return true;
                      }});
  }
  void Add(const std::string& name, int* value, const std::string& help) {
    flags_.push_back({name, help, std::to_string(*value), false, [value](const std::string& v) {
                        try {
                          size_t used = 0;
                          *value = std::stoi(v, &used);
                          return used == v.size();
                        } catch (...) {
                          return false;
                        }
                      }});
  }
  void Add(const std::string& name, bool* value, const std::string& help) {
    flags_.push_back({name, help, *value ? "true" : "false", true, [value](const std::string& v) {
                        if (v == "true" || v == "1" || v.empty())
                          *value = true;
                        else if (v == "false" || v == "0")
                          *value = false;
                        else
                          return false;
                        return true;
                      }});
  }

  // Positional arguments left after the flags.
  const std::vector<std::string>& positional() const { return positional_; }

  // Returns -1 to go on, or the exit code to return now (0 after --help, 2 on a bad flag).
  int Parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        PrintUsage(stdout);
        return 0;
      }
      if (arg.rfind("--", 0) != 0) {
        positional_.push_back(arg);
        continue;
      }
      std::string name = arg.substr(2), value;
      bool has_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
      Flag* flag = Find(name);
      if (flag == nullptr) {
        std::fprintf(stderr, "%s: unknown flag --%s (see --help)\n", program_.c_str(),
                     name.c_str());
        return 2;
      }
      if (!has_value && !flag->is_bool) {
        if (i + 1 >= argc) {
          std::fprintf(stderr, "%s: --%s needs a value (see --help)\n", program_.c_str(),
                       name.c_str());
          return 2;
        }
        value = argv[++i];
      }
      if (!flag->set(value)) {
        std::fprintf(stderr, "%s: bad value \"%s\" for --%s (see --help)\n", program_.c_str(),
                     value.c_str(), name.c_str());
        return 2;
      }
    }
    return -1;
  }

  void PrintUsage(std::FILE* out) const {
    std::fprintf(out, "%s\n\nUsage: %s [flags]\n\nFlags:\n", description_.c_str(),
                 program_.c_str());
    for (const auto& f : flags_) {
      std::fprintf(out, "  --%-24s %s (default: %s)\n", f.name.c_str(), f.help.c_str(),
                   f.default_text.empty() ? "\"\"" : f.default_text.c_str());
    }
    std::fprintf(out, "  --%-24s %s\n", "help", "print this help and exit");
  }

 private:
  struct Flag {
    std::string name, help, default_text;
    bool is_bool;
    std::function<bool(const std::string&)> set;
  };
  Flag* Find(const std::string& name) {
    for (auto& f : flags_) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }
  std::string program_, description_;
  std::vector<Flag> flags_;
  std::vector<std::string> positional_;
};

}  // namespace collections
