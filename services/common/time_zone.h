#pragma once

#include "absl/time/time.h"

#include <string>
#include <string_view>

namespace collections {

// The one way to turn a zone name that came from outside (a request, or an event written from
// one) into an absl::TimeZone. absl::LoadTimeZone reads the name as a file below the zoneinfo
// directory, and "localtime" as /etc/localtime or $LOCALTIME: a path, "..", or a FIFO would
// reach the file system. Only IANA names pass: segments of [A-Za-z0-9_+-], each starting with
// a letter, joined by '/', at most 64 bytes, not "localtime" or "posixrules". Pure; any thread.

inline constexpr size_t kMaxTimeZoneNameBytes = 64;

inline bool IsIanaZoneName(std::string_view name) {
  if (name.empty() || name.size() > kMaxTimeZoneNameBytes) return false;
  auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    if (end == start || !letter(name[start])) return false;
    for (size_t i = start; i < end; ++i) {
      const char c = name[i];
      if (!letter(c) && !digit(c) && c != '_' && c != '+' && c != '-') return false;
    }
    start = end + 1;
  }
  std::string lower(name);
  for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return lower != "localtime" && lower != "posixrules" && !lower.starts_with("localtime/");
}

// Loads `name` if it is an IANA name (above) that the zone database knows; false otherwise.
inline bool LoadIanaTimeZone(const std::string& name, absl::TimeZone* zone) {
  return IsIanaZoneName(name) && absl::LoadTimeZone(name, zone);
}

}  // namespace collections
