#pragma once

#include "absl/time/time.h"
#include "collections/state/v1/account_state.pb.h"
#include "collections/v1/case_service.pb.h"

#include <optional>
#include <string>
#include <variant>

namespace collections {

// A command as the domain sees it: the request message of one CaseCommandService RPC, or the
// service's own LinkAccountToCustomerRequest (the account side of a customer link: no caller
// can send it).
// Every request shares fields 1-5 (command_id, expected_version, actor, correlation_id,
// occurred_at) and account_id (10), which the accessors below read uniformly.
using Command = std::variant<
    v1::OpenCaseRequest, v1::PostPaymentRequest, v1::ReversePaymentRequest, v1::AssignCaseRequest,
    v1::EscalateCaseRequest, v1::UpdateFlagRequest, v1::CloseCaseRequest,
    v1::RecordContactAttemptRequest, v1::RecordCorrespondenceRequest, v1::UpdateContactPointRequest,
    v1::SetLocationStatusRequest, v1::RecordPromiseToPayRequest, v1::CancelPromiseToPayRequest,
    v1::ProposePaymentPlanRequest, v1::AcceptPaymentPlanRequest, v1::CancelPaymentPlanRequest,
    v1::AgreeSettlementRequest, v1::RefundCreditRequest, v1::PostAdjustmentRequest,
    v1::OpenDisputeRequest, v1::SendDisputeVerificationRequest, v1::ResolveDisputeRequest,
    v1::WithdrawDisputeRequest, v1::PlaceWithAgencyRequest, v1::RecallFromAgencyRequest,
    v1::ReferToLegalRequest, v1::ReportToBureauRequest, v1::TransferDebtRequest,
    v1::AuthorizeOverrideRequest, v1::ReserveContactRequest, state::v1::LinkAccountToCustomerRequest>;

inline const std::string& CommandId(const Command& c) {
  return std::visit([](const auto& r) -> const std::string& { return r.command_id(); }, c);
}
inline const std::string& AccountId(const Command& c) {
  return std::visit([](const auto& r) -> const std::string& { return r.account_id(); }, c);
}
inline std::optional<int64_t> ExpectedVersion(const Command& c) {
  return std::visit(
      [](const auto& r) -> std::optional<int64_t> {
        if (r.has_expected_version()) return r.expected_version();
        return std::nullopt;
      },
      c);
}
inline const v1::Actor& CommandActor(const Command& c) {
  return std::visit([](const auto& r) -> const v1::Actor& { return r.actor(); }, c);
}
inline const std::string& CorrelationId(const Command& c) {
  return std::visit([](const auto& r) -> const std::string& { return r.correlation_id(); }, c);
}
// Business time of the command: occurred_at if given, else `received`.
absl::Time OccurredAt(const Command& c, absl::Time received);

// Name of the command for logs and errors, e.g. "OpenCase" (the request message's name
// without "Request").
std::string CommandName(const Command& c);

}  // namespace collections
