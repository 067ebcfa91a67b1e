#pragma once

#include <string>
#include <string_view>

namespace collections {

// The one CSV cell writer every CSV the project writes goes through (the audit export, the
// reports). Pure; safe from any thread.
//
// Returns `value` as one CSV cell: RFC 4180 quoting (a cell holding a comma, a double quote,
// CR or LF is put in double quotes, inner quotes doubled) and spreadsheet-safe after the
// OWASP "CSV injection" guidance: a cell starting with = + - @ TAB or CR, which a spreadsheet
// would run as a formula, gets a leading apostrophe and is quoted ("=HYPERLINK(...)" becomes
// "'=HYPERLINK(...)"). A plain number ("-1500", "-12.50") is left as it is, so amounts stay
// numbers.
std::string CsvCell(std::string_view value);

// True when `value` is a plain decimal number: an optional "-", digits, optionally "."
// and digits.
bool IsPlainNumber(std::string_view value);

}  // namespace collections
