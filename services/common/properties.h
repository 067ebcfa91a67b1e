#pragma once

#include "services/domain/error.h"

#include <fstream>
#include <map>
#include <string>

namespace collections {

// Reads a Java-style properties file of librdkafka settings ("key=value" per line; blank lines
// and lines starting with # or ! are ignored; spaces around key and value are trimmed), e.g.
//   security.protocol=SASL_SSL
//   sasl.mechanisms=SCRAM-SHA-512
//   sasl.username=collections-service
//   sasl.password=...
//   ssl.ca.location=/etc/kafka/ca.pem
// Returns kInvalidArgument naming the file and line when it cannot be read or a line has no
// '='. Values are never logged (they hold passwords).
inline Result<std::map<std::string, std::string>> LoadProperties(const std::string& path,
                                                                  const std::string& field) {
  std::ifstream in(path);
  if (!in) return Error::InvalidArgument(field, path + ": cannot open (--" + field + ")");
  std::map<std::string, std::string> out;
  std::string line;
  int number = 0;
  auto trim = [](std::string s) {
    const char* space = " \t\r";
    s.erase(0, s.find_first_not_of(space));
    auto end = s.find_last_not_of(space);
    s.erase(end == std::string::npos ? 0 : end + 1);
    return s;
  };
  while (std::getline(in, line)) {
    ++number;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == '!') continue;
    auto eq = t.find('=');
    if (eq == std::string::npos || trim(t.substr(0, eq)).empty()) {
      return Error::InvalidArgument(
          field, path + ":" + std::to_string(number) + ": expected key=value (--" + field + ")");
    }
    out[trim(t.substr(0, eq))] = trim(t.substr(eq + 1));
  }
  return out;
}

}  // namespace collections
