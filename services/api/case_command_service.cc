#include "services/api/case_command_service.h"

#include "services/api/command_call.h"
#include "services/api/deadline.h"
#include "services/api/error_mapping.h"
#include "services/domain/case_aggregate.h"

namespace collections {
namespace {

// CheckContact's answer from the dry run of the attempt it stands for.
grpc::Status CheckContactReply(Result<v1::CommandReply> result, v1::CheckContactResponse* reply) {
  if (!result) {
    // Name the caller's fields: the attempt's occurred_at is the request's `at`.
    Error error = result.error();
    auto rename = [](std::string& field) {
      if (field.starts_with("occurred_at")) field = "at" + field.substr(11);
    };
    rename(error.field);
    for (FieldViolation& v : error.violations) rename(v.field);
    return ToGrpcStatus(error);
  }
  const v1::ComplianceDecision& d = result.value().decision();
  // A block a live override covers comes back OVERRIDDEN: the contact may go ahead.
  reply->set_allowed(d.outcome_code() != v1::DECISION_OUTCOME_BLOCK);
  *reply->mutable_decision() = d;
  if (reply->allowed()) {
    reply->set_message(d.outcome_code() == v1::DECISION_OUTCOME_OVERRIDDEN
                           ? "allowed by override " + d.override_id() + " of " + d.rule_id()
                           : d.flags().empty() ? "allowed"
                                               : "allowed with flags");
  } else {
    reply->set_message(
        d.rule_id() + ": " + d.reason() +
        (d.allowed_from_text().empty() ? "" : "; allowed from " + d.allowed_from_text()));
  }
  return grpc::Status::OK;
}

}  // namespace

template <typename Request>
grpc::ServerUnaryReactor* CaseCommandService::Execute(grpc::CallbackServerContext* context,
                                                      const char* method, Request request,
                                                      v1::CommandReply* reply) {
  return ExecuteCommandCall(
      context, method, std::move(request), reply, guard_, admission_,
      [](const Request& r) -> Status {
        if (auto e = ValidateRequest(Command(r))) return e;
        if constexpr (std::is_same_v<Request, v1::RecordContactAttemptRequest> ||
                      std::is_same_v<Request, v1::UpdateFlagRequest>) {
          return RefuseCallerSetFields(r.several_debts());
        }
        return std::nullopt;
      },
      [this](Request r, absl::Time deadline, CommandCompletion done) {
        if constexpr (std::is_same_v<Request, v1::RecordContactAttemptRequest> ||
                      std::is_same_v<Request, v1::UpdateFlagRequest>) {
          if (r.several_debts().other_account_ids_size() > 0) {
            steps_.SeveralDebts(std::move(r), deadline, std::move(done));
            return;
          }
        }
        if constexpr (std::is_same_v<Request, v1::OpenCaseRequest>) {
          if (!r.customer_id().empty()) {
            steps_.OpenLinked(std::move(r), deadline, std::move(done));
            return;
          }
        }
        router_.ExecuteAsync(Command(std::move(r)), deadline, /*dry_run=*/false, std::move(done));
      });
}

// Every command RPC is the same: the request is the domain command.
#define COLLECTIONS_COMMAND_RPC(Name)                                                     \
  grpc::ServerUnaryReactor* CaseCommandService::Name(grpc::CallbackServerContext* context, \
                                                     const v1::Name##Request* request,     \
                                                     v1::CommandReply* reply) {            \
    return Execute(context, "collections.v1.CaseCommandService/" #Name, *request, reply);  \
  }

// OpenCase with a customer links the account too: the caller must also be allowed the link.
grpc::ServerUnaryReactor* CaseCommandService::OpenCase(grpc::CallbackServerContext* context,
                                                       const v1::OpenCaseRequest* request,
                                                       v1::CommandReply* reply) {
  if (!request->customer_id().empty()) {
    auto allowed =
        guard_.Authorize(*context, "collections.v1.CustomerCommandService/LinkCustomerAccount");
    if (!allowed) {
      grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
      reactor->Finish(ToGrpcStatus(allowed.error()));
      return reactor;
    }
  }
  return Execute(context, "collections.v1.CaseCommandService/OpenCase", *request, reply);
}
COLLECTIONS_COMMAND_RPC(PostPayment)
COLLECTIONS_COMMAND_RPC(ReversePayment)
COLLECTIONS_COMMAND_RPC(AssignCase)
COLLECTIONS_COMMAND_RPC(EscalateCase)
COLLECTIONS_COMMAND_RPC(UpdateFlag)
COLLECTIONS_COMMAND_RPC(CloseCase)
COLLECTIONS_COMMAND_RPC(RecordContactAttempt)
COLLECTIONS_COMMAND_RPC(RecordCorrespondence)
COLLECTIONS_COMMAND_RPC(UpdateContactPoint)
COLLECTIONS_COMMAND_RPC(SetLocationStatus)
COLLECTIONS_COMMAND_RPC(RecordPromiseToPay)
COLLECTIONS_COMMAND_RPC(CancelPromiseToPay)
COLLECTIONS_COMMAND_RPC(ProposePaymentPlan)
COLLECTIONS_COMMAND_RPC(AcceptPaymentPlan)
COLLECTIONS_COMMAND_RPC(CancelPaymentPlan)
COLLECTIONS_COMMAND_RPC(AgreeSettlement)
COLLECTIONS_COMMAND_RPC(RefundCredit)
COLLECTIONS_COMMAND_RPC(PostAdjustment)
COLLECTIONS_COMMAND_RPC(OpenDispute)
COLLECTIONS_COMMAND_RPC(SendDisputeVerification)
COLLECTIONS_COMMAND_RPC(ResolveDispute)
COLLECTIONS_COMMAND_RPC(WithdrawDispute)
COLLECTIONS_COMMAND_RPC(PlaceWithAgency)
COLLECTIONS_COMMAND_RPC(RecallFromAgency)
COLLECTIONS_COMMAND_RPC(ReferToLegal)
COLLECTIONS_COMMAND_RPC(ReportToBureau)
COLLECTIONS_COMMAND_RPC(TransferDebt)

COLLECTIONS_COMMAND_RPC(AuthorizeOverride)
COLLECTIONS_COMMAND_RPC(ReserveContact)
#undef COLLECTIONS_COMMAND_RPC

grpc::ServerUnaryReactor* CaseCommandService::CheckContact(
    grpc::CallbackServerContext* context, const v1::CheckContactRequest* request,
    v1::CheckContactResponse* reply) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto refuse = [reactor](grpc::Status status) {
    reactor->Finish(std::move(status));
    return reactor;
  };
  auto caller = guard_.Authorize(*context, "collections.v1.CaseCommandService/CheckContact");
  if (!caller) return refuse(ToGrpcStatus(caller.error()));
  if (admission_ != nullptr) {
    if (auto refused = admission_->Admit(*context, request)) return refuse(*refused);
  }
  // The same evaluation RecordContactAttempt gets, on the writer's current state, recording
  // nothing: what the dialer asks before it dials.
  v1::RecordContactAttemptRequest attempt;
  if (auto e = guard_.StampActor(caller.value(), attempt.mutable_actor())) {
    return refuse(ToGrpcStatus(*e));
  }
  attempt.set_command_id("preflight");
  attempt.set_account_id(request->account_id());
  attempt.set_contact_id("preflight");
  attempt.set_channel(request->channel());
  attempt.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  attempt.set_address(request->address());
  attempt.set_phone_type(request->phone_type());
  attempt.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
  *attempt.mutable_content() = request->content();
  if (request->has_at()) *attempt.mutable_occurred_at() = request->at();
  router_.ExecuteAsync(std::move(attempt), CallDeadline(context), /*dry_run=*/true,
                       [reactor, reply](Result<v1::CommandReply> result) {
                         reactor->Finish(CheckContactReply(std::move(result), reply));
                       });
  return reactor;
}

}  // namespace collections
