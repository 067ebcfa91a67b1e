#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace collections {

// Error codes the domain and the adapters return. The handler layer maps them to gRPC codes
// in one place (services/api/error_mapping.h); nothing below it creates a grpc::Status.
enum class Errc {
  kInvalidArgument = 1,     // a field of the request is wrong; `field` names it
  kNotFound = 2,            // the account or payment does not exist
  kAlreadyExists = 3,       // the account exists / the command id was used with another request
  kFailedPrecondition = 4,  // a domain rule blocks it; `rule` names the rule
  kAborted = 5,             // expected_version did not match
  kUnavailable = 6,         // the log could not be written; safe to retry with the same command id
  kDeadlineExceeded = 7,
  kInternal = 8,
  kPermissionDenied = 9,  // the authenticated caller's role does not allow it; nothing appended
  kUnauthenticated = 10,  // no authenticated caller (no or an invalid client certificate)
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

  static Error InvalidArgument(std::string field, std::string message) {
    return Error{
        Errc::kInvalidArgument, "INVALID_FIELD", std::move(message), std::move(field), {}, {}};
  }
};

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
