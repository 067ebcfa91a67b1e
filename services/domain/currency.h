#pragma once

#include <optional>
#include <string_view>

namespace collections {

// ISO 4217 currencies the service accepts: the active codes of ISO 4217 list one (2025) that
// have a minor unit, with its exponent (2 for USD: amounts are in cents; 0 for JPY; 3 for
// KWD). Funds and precious-metal codes without a minor unit (XAU, XDR, XTS, XXX ...) and
// withdrawn codes are not in the table. Pure, immutable data; safe from any thread.

// The minor-unit exponent of `code` ("USD" -> 2), or nullopt when `code` is not an active
// ISO 4217 currency code with a minor unit.
std::optional<int> CurrencyExponent(std::string_view code);

// True when `code` is in the table above.
inline bool IsIsoCurrency(std::string_view code) { return CurrencyExponent(code).has_value(); }

}  // namespace collections
