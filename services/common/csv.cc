#include "services/common/csv.h"

namespace collections {

bool IsPlainNumber(std::string_view value) {
  size_t i = 0;
  if (i < value.size() && value[i] == '-') ++i;
  const size_t digits_from = i;
  while (i < value.size() && value[i] >= '0' && value[i] <= '9') ++i;
  if (i == digits_from) return false;
  if (i == value.size()) return true;
  if (value[i] != '.') return false;
  const size_t fraction_from = ++i;
  while (i < value.size() && value[i] >= '0' && value[i] <= '9') ++i;
  return i == value.size() && i > fraction_from;
}

std::string CsvCell(std::string_view value) {
  const bool formula = !value.empty() &&
                       (value[0] == '=' || value[0] == '+' || value[0] == '-' ||
                        value[0] == '@' || value[0] == '\t' || value[0] == '\r') &&
                       !IsPlainNumber(value);
  const bool quote = formula || value.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) return std::string(value);
  std::string out = "\"";
  if (formula) out.push_back('\'');
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace collections
