#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace collections {

// Error codes the domain and the adapters return. The handler layer maps them to gRPC codes
// in one place (services/api/error_mapping.h); nothing below it creates a grpc::Status.
enum class Errc {
  kInvalidArgument = 1,     // fields of the request are wrong; `violations` (or `field`) name them
  kNotFound = 2,            // the account or payment does not exist
  kAlreadyExists = 3,       // the account exists / the command id was used with another request
  kFailedPrecondition = 4,  // a domain rule blocks it; `rule` names the rule
  kAborted = 5,             // expected_version did not match
  kUnavailable = 6,         // the log could not be written; safe to retry with the same command id
  kDeadlineExceeded = 7,
  kInternal = 8,
};

// One wrong field of a request: the field's path (e.g. "instalments[2].due_date") and what is
// wrong with it. Descriptions quote caller input only through a bounded excerpt.
struct FieldViolation {
  std::string field;
  std::string description;
};

// A refusal, with everything a caller needs to fix the request.
struct Error {
  Errc code = Errc::kInternal;
  std::string reason;   // stable machine-readable reason, e.g. "ACCOUNT_NOT_FOUND"
  std::string message;  // one sentence a person can act on
  std::string field;    // for kInvalidArgument: the request field, e.g. "amount.amount_minor"
  std::string subject;  // what it is about: account id, payment id ...
  // Extra machine-readable facts for google.rpc.ErrorInfo.metadata (rule id, allowed from ...).
  std::vector<std::pair<std::string, std::string>> metadata = {};
  // For kInvalidArgument: every wrong field of the request (google.rpc.BadRequest). Empty means
  // the single violation {field, message}.
  std::vector<FieldViolation> violations = {};

  static Error InvalidArgument(std::string field, std::string message) {
    return Error{
        Errc::kInvalidArgument, "INVALID_FIELD", std::move(message), std::move(field), {}, {}, {}};
  }
};

// `text` cut to at most `max_bytes` bytes (an ellipsis "..." marks a cut), never splitting a
// UTF-8 sequence. Every string of an error that may carry caller input goes through it, so no
// error can grow with the request.
inline std::string Truncated(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = max_bytes > 3 ? max_bytes - 3 : 0;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

// How an error quotes caller input: at most kMaxQuotedInput characters, in double quotes,
// control and non-ASCII bytes escaped (\xNN), "..." when cut.
inline constexpr size_t kMaxQuotedInput = 64;
inline std::string Quoted(std::string_view input) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  size_t shown = 0;
  for (unsigned char c : input) {
    if (shown == kMaxQuotedInput) {
      out += "...";
      break;
    }
    ++shown;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

// Either a value or an Error. Small on purpose: the project builds as C++20 (no
// std::expected), and this is all the domain needs.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : value_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return value_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(value_); }
  const T& value() const& { return std::get<0>(value_); }
  T&& value() && { return std::get<0>(std::move(value_)); }
  const Error& error() const { return std::get<1>(value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> value_;
};

// Result of an operation without a value: an empty optional is success.
using Status = std::optional<Error>;

}  // namespace collections
