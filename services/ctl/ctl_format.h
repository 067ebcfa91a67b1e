#pragma once

// The pure text of collectionsctl: money in its currency's ISO 4217 exponent, gRPC status
// names and exit codes, the rich error details, and what an event says to a compliance
// officer (its amount, rule, reason, the refused request decoded). No I/O and no network, so
// the unit tests check exactly what the tool prints. All functions are thread-compatible.

#include "collections/v1/events.pb.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace collections::ctl {

// Exit codes, documented in --help and the README. Distinct per thing an officer or a script
// must tell apart.
inline constexpr int kExitOk = 0;           // done (and, for verify, every chain intact)
inline constexpr int kExitBroken = 1;       // verify or timeline found a broken chain
inline constexpr int kExitUsage = 2;        // bad flags or arguments; nothing was asked
inline constexpr int kExitUnreachable = 3;  // the service could not be reached or failed
inline constexpr int kExitNotFound = 4;     // the service answered NOT_FOUND
inline constexpr int kExitRefused = 5;      // PERMISSION_DENIED, UNAUTHENTICATED, rejected input
inline constexpr int kExitOutput = 6;       // the output file could not be written

// "NOT_FOUND" for 5, ... (the google.rpc.Code names); "CODE_<n>" for an unknown number.
std::string StatusCodeName(int code);

// The exit code for a call that ended with gRPC status `code` (0 = OK -> kExitOk):
// NOT_FOUND -> kExitNotFound; PERMISSION_DENIED, UNAUTHENTICATED, INVALID_ARGUMENT,
// FAILED_PRECONDITION, OUT_OF_RANGE, ALREADY_EXISTS -> kExitRefused; everything else
// (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL ...) -> kExitUnreachable.
int ExitCodeFor(int code);

// One line naming the status and its message, then the rich details
// (grpc-status-details-bin, a serialized google.rpc.Status) as indented lines: ErrorInfo
// reason and metadata, every BadRequest field violation, PreconditionFailure violations.
// E.g. "PERMISSION_DENIED: role dialer may not ...\n  reason: ROLE_NOT_ALLOWED\n".
std::string DescribeStatus(int code, std::string_view message, std::string_view details);

// The ISO 4217 exponent of `currency`, or nullopt when it is not a known code.
std::optional<int> Exponent(std::string_view currency);

// `minor` as a plain decimal in `currency`'s exponent: 15000 JPY -> "15000", 150000 USD ->
// "1500.00", -5 KWD -> "-0.005". An unknown currency keeps the minor units ("150000").
std::string DecimalAmount(int64_t minor, std::string_view currency);

// For people: DecimalAmount with thousands separators and the currency: "15,000 JPY",
// "1,500.00 USD", "-0.005 KWD"; "150000 (minor units) XYZ" for an unknown currency.
std::string Money(int64_t minor, std::string_view currency);

// The money an event is about, in the account's minor units: the payment, refund or promise
// amount; the opening balance; an adjustment's increase minus decrease; what a reversal
// reopened; a settlement's amount or write-off; a missed instalment; a partial dispute's
// disputed part. nullopt for events without an amount.
std::optional<int64_t> EventAmountMinor(const v1::EventEnvelope& event);

// The currency an event names itself (CaseOpened, payments, refunds), or "".
std::string EventCurrency(const v1::EventEnvelope& event);

// The rule an event is about: the decision's blocking rule, the rule of a recorded
// violation or an override; "" when none.
std::string EventRule(const v1::EventEnvelope& event);

// A refused request carried by ContactBlocked or AccessDenied as protobuf bytes, decoded and
// printed as JSON of its message type ("collections.v1.RecordContactAttemptRequest {...}").
// nullopt when the event carries none; a request that does not decode says so.
std::optional<std::string> BlockedRequestJson(const v1::EventEnvelope& event);

// Why: the payload's reason fields, the decision's reason, a late entry's authorisation and
// the refused request decoded, joined with "; ".
std::string EventReason(const v1::EventEnvelope& event);

// "PaymentPosted" for "collections.v1.PaymentPosted".
std::string ShortType(const std::string& type);

// "OPEN" for ACCOUNT_STATUS_OPEN; enum names without their prefix.
std::string EnumSuffix(const std::string& name, std::string_view prefix);

}  // namespace collections::ctl
