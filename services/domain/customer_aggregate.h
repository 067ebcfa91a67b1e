#pragma once

#include "services/domain/error.h"
#include "services/domain/settings.h"

#include "absl/time/time.h"
#include "collections/state/v1/customer_state.pb.h"
#include "collections/v1/customer.pb.h"
#include "collections/v1/events.pb.h"

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace collections {

// The customer aggregate: a customer (person or company) and its accounts-receivable ledger,
// as pure functions over its state, no I/O and no clock of its own. The same shape as the
// case aggregate (case_aggregate.h): the writer that owns the customer stream's partition
// calls DecideCustomer on its single thread, and whoever rebuilds the customer calls
// EvolveCustomer on its events in order.
//
// Why a stream of its own: one payment is applied across several invoices (of several
// accounts). All of that application is the events of one command on one stream, appended in
// one Kafka transaction, so no reader ever sees a payment half applied. The customer stream's
// key is "customer/<customer_id>" (CustomerStreamKey); it is carried as the envelope's
// account_id so sequence numbers, the hash chain, signatures and read_committed hold for it as
// for any account, and the envelope's customer_id names the customer.
//
// CustomerState is internal (collections.state.v1, not the contract): the public messages are
// the events of collections/v1/customer.proto.
using CustomerState = state::v1::CustomerState;

// A command on a customer: one request message of collections/v1/customer.proto. Every request
// shares fields 1-6 (command_id, expected_version, actor, correlation_id, occurred_at,
// late_entry_reason) and customer_id (10).
using CustomerCommand =
    std::variant<v1::OpenCustomerRequest, v1::LinkCustomerAccountRequest,
                 v1::UnlinkCustomerAccountRequest, v1::RecordInvoiceRequest,
                 v1::ReceiveCustomerPaymentRequest, v1::ApplyUnappliedCashRequest,
                 v1::ResolveShortPaymentRequest, v1::AdjustInvoiceRequest,
                 v1::DisputeInvoiceRequest, v1::ResolveInvoiceDisputeRequest,
                 v1::SetCreditLimitRequest, v1::RecommendCreditHoldRequest,
                 v1::ApproveCreditHoldRequest, v1::ReleaseCreditHoldRequest>;

// The prefix of every customer stream's key; OpenCase refuses account ids that start with it.
inline constexpr std::string_view kCustomerStreamPrefix = "customer/";

// The stream key (Kafka record key, EventEnvelope.account_id) of a customer's events.
inline std::string CustomerStreamKey(std::string_view customer_id) {
  return std::string(kCustomerStreamPrefix) + std::string(customer_id);
}

inline const std::string& CustomerIdOf(const CustomerCommand& c) {
  return std::visit([](const auto& r) -> const std::string& { return r.customer_id(); }, c);
}
inline const std::string& CustomerCommandId(const CustomerCommand& c) {
  return std::visit([](const auto& r) -> const std::string& { return r.command_id(); }, c);
}
inline const v1::Actor& CustomerCommandActor(const CustomerCommand& c) {
  return std::visit([](const auto& r) -> const v1::Actor& { return r.actor(); }, c);
}
inline std::optional<int64_t> CustomerExpectedVersion(const CustomerCommand& c) {
  return std::visit(
      [](const auto& r) -> std::optional<int64_t> {
        if (r.has_expected_version()) return r.expected_version();
        return std::nullopt;
      },
      c);
}
inline const std::string& CustomerCorrelationId(const CustomerCommand& c) {
  return std::visit([](const auto& r) -> const std::string& { return r.correlation_id(); }, c);
}
// Business time of the command: occurred_at if given, else `received`.
absl::Time CustomerOccurredAt(const CustomerCommand& c, absl::Time received);
// Name of the command, e.g. "ReceiveCustomerPayment".
std::string CustomerCommandName(const CustomerCommand& c);

// Checks the request on its own (required fields, formats, ranges, the limits of limits.h).
// Returns every violation, in field order, as one kInvalidArgument whose `violations` name
// the fields.
Status ValidateCustomerRequest(const CustomerCommand& command);

// Decides what `command` does to the customer. `state` is the customer, or nullptr when its
// stream has no event. `received` is when the writer took the command (its business time if
// the command carries none). Returns the events with their payloads, customer_id and
// account_id (the stream key) set, in order, or the refusal:
// - kInvalidArgument: ValidateCustomerRequest's, or a request that does not fit the state
//   (an amount above what is open, a currency other than the customer's), naming the field;
// - kNotFound: no such customer, invoice, account link, discrepancy or hold;
// - kAlreadyExists: the customer, an invoice, adjustment, payment ... id exists;
// - kFailedPrecondition with `reason` naming the rule, e.g. "PAYMENT_TO_DISPUTED_INVOICE",
//   "AMOUNT_OVERFLOW";
// - kPermissionDenied: the caller's role may not take the action, or four eyes; when the
//   metadata says recorded=AccessDenied, the writer appends CustomerAccessDeniedEvent.
// Does not check expected_version or command ids: that is the writer's job.
Result<std::vector<v1::EventEnvelope>> DecideCustomer(const CustomerState* state,
                                                      const CustomerCommand& command,
                                                      absl::Time received,
                                                      const DomainSettings& settings);

// Applies one event of the customer's stream to `state` (empty before the first event). Sets
// version = sequence and last_hash = hash. Never fails: events are facts; sums saturate.
void EvolveCustomer(CustomerState& state, const v1::EventEnvelope& event);

// The AccessDenied event recording `error` (IsRecordedDenial) for `command`, on the
// customer's stream. A credit memo waiting for approval becomes a pending approval.
v1::EventEnvelope CustomerAccessDeniedEvent(const Error& error, const CustomerCommand& command);

// Days the oldest open, undisputed invoice of `state` is past due on `today` (0 if none).
int32_t CustomerDaysPastDue(const CustomerState& state, const v1::LocalDate& today);

// Open invoices minus unapplied cash (never below 0): what the customer owes on balance.
int64_t CustomerExposure(const CustomerState& state);

}  // namespace collections
