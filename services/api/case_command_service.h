#pragma once

#include "services/api/admission.h"
#include "services/api/cross_stream.h"
#include "services/authz/call_guard.h"
#include "services/writer/writer.h"

#include "collections/v1/case_service.grpc.pb.h"

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

namespace collections {

// collections.v1.CaseCommandService: every RPC authorises the authenticated caller (CallGuard),
// stamps the request's actor with it, turns the request into a domain Command for the router
// and the outcome into a reply or a rich gRPC error (one line each, below).
//
// gRPC's callback API: a handler does the checks on the gRPC thread that received the call and
// hands the command to the router; the call then holds no thread while it waits for its group
// commit. The partition writer (or the router's deadline timer, or a shutdown) finishes it
// through the completion, exactly once; request and reply stay valid until then (gRPC's
// default reactor). Stateless; thread-safe as the router and the guard are.
class CaseCommandService final : public v1::CaseCommandService::CallbackService {
 public:
  // `admission` (may be null: no limits) is applied to every call after the guard admitted the
  // caller; both must outlive the service.
  CaseCommandService(CommandRouter& router, const authz::CallGuard& guard,
                     Admission* admission = nullptr)
      : router_(router), steps_(router), guard_(guard), admission_(admission) {}

  grpc::ServerUnaryReactor* OpenCase(grpc::CallbackServerContext* context,
      const v1::OpenCaseRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* PostPayment(grpc::CallbackServerContext* context,
      const v1::PostPaymentRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* ReversePayment(grpc::CallbackServerContext* context,
      const v1::ReversePaymentRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* AssignCase(grpc::CallbackServerContext* context,
      const v1::AssignCaseRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* EscalateCase(grpc::CallbackServerContext* context,
      const v1::EscalateCaseRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* UpdateFlag(grpc::CallbackServerContext* context,
      const v1::UpdateFlagRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* CloseCase(grpc::CallbackServerContext* context,
      const v1::CloseCaseRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* RecordContactAttempt(grpc::CallbackServerContext* context,
      const v1::RecordContactAttemptRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* RecordCorrespondence(grpc::CallbackServerContext* context,
      const v1::RecordCorrespondenceRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* UpdateContactPoint(grpc::CallbackServerContext* context,
      const v1::UpdateContactPointRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* SetLocationStatus(grpc::CallbackServerContext* context,
      const v1::SetLocationStatusRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* RecordPromiseToPay(grpc::CallbackServerContext* context,
      const v1::RecordPromiseToPayRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* CancelPromiseToPay(grpc::CallbackServerContext* context,
      const v1::CancelPromiseToPayRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* ProposePaymentPlan(grpc::CallbackServerContext* context,
      const v1::ProposePaymentPlanRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* AcceptPaymentPlan(grpc::CallbackServerContext* context,
      const v1::AcceptPaymentPlanRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* CancelPaymentPlan(grpc::CallbackServerContext* context,
      const v1::CancelPaymentPlanRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* AgreeSettlement(grpc::CallbackServerContext* context,
      const v1::AgreeSettlementRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* RefundCredit(grpc::CallbackServerContext* context,
      const v1::RefundCreditRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* PostAdjustment(grpc::CallbackServerContext* context,
      const v1::PostAdjustmentRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* OpenDispute(grpc::CallbackServerContext* context,
      const v1::OpenDisputeRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* SendDisputeVerification(grpc::CallbackServerContext* context,
      const v1::SendDisputeVerificationRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* ResolveDispute(grpc::CallbackServerContext* context,
      const v1::ResolveDisputeRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* WithdrawDispute(grpc::CallbackServerContext* context,
      const v1::WithdrawDisputeRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* PlaceWithAgency(grpc::CallbackServerContext* context,
      const v1::PlaceWithAgencyRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* RecallFromAgency(grpc::CallbackServerContext* context,
      const v1::RecallFromAgencyRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* ReferToLegal(grpc::CallbackServerContext* context,
      const v1::ReferToLegalRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* ReportToBureau(grpc::CallbackServerContext* context,
      const v1::ReportToBureauRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* TransferDebt(grpc::CallbackServerContext* context,
      const v1::TransferDebtRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* AuthorizeOverride(grpc::CallbackServerContext* context,
      const v1::AuthorizeOverrideRequest* request, v1::CommandReply* reply) override;
  grpc::ServerUnaryReactor* CheckContact(grpc::CallbackServerContext* context,
      const v1::CheckContactRequest* request, v1::CheckContactResponse* reply) override;
  grpc::ServerUnaryReactor* ReserveContact(grpc::CallbackServerContext* context,
      const v1::ReserveContactRequest* request, v1::CommandReply* reply) override;

 private:
  template <typename Request>
  grpc::ServerUnaryReactor* Execute(grpc::CallbackServerContext* context, const char* method,
                                    Request request, v1::CommandReply* reply);
  CommandRouter& router_;
  // OpenCase with a customer, and requests about several debts, span streams.
  CrossStreamSteps steps_;
  const authz::CallGuard& guard_;
  Admission* const admission_;
};

}  // namespace collections
