#pragma once

#include <string>
#include <string_view>

namespace collections {

// `text` safe inside HTML text and double- or single-quoted attribute values: the one escape
// every printable page the project writes goes through (the account timeline, the customer
// statement). Pure; safe from any thread.
inline std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace collections
