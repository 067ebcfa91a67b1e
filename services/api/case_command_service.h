#pragma once

#include "services/api/admission.h"
#include "services/writer/writer.h"

#include "collections/v1/case_service.grpc.pb.h"

namespace collections {

// collections.v1.CaseCommandService: every RPC turns its request into a domain Command for the
// router and the outcome into a reply or a rich gRPC error (one line each, below). Stateless;
// thread-safe as the router is.
class CaseCommandService final : public v1::CaseCommandService::Service {
 public:
  // `admission` (may be null: no limits) is applied to every call and must outlive the service.
  explicit CaseCommandService(CommandRouter& router, Admission* admission = nullptr)
      : router_(router), admission_(admission) {}

  grpc::Status OpenCase(grpc::ServerContext* context, const v1::OpenCaseRequest* request,
                        v1::CommandReply* reply) override;
  grpc::Status PostPayment(grpc::ServerContext* context, const v1::PostPaymentRequest* request,
                           v1::CommandReply* reply) override;
  grpc::Status ReversePayment(grpc::ServerContext* context,
                              const v1::ReversePaymentRequest* request,
                              v1::CommandReply* reply) override;
  grpc::Status AssignCase(grpc::ServerContext* context, const v1::AssignCaseRequest* request,
                          v1::CommandReply* reply) override;
  grpc::Status EscalateCase(grpc::ServerContext* context, const v1::EscalateCaseRequest* request,
                            v1::CommandReply* reply) override;
  grpc::Status UpdateFlag(grpc::ServerContext* context, const v1::UpdateFlagRequest* request,
                          v1::CommandReply* reply) override;
  grpc::Status CloseCase(grpc::ServerContext* context, const v1::CloseCaseRequest* request,
                         v1::CommandReply* reply) override;
  grpc::Status RecordContactAttempt(grpc::ServerContext* context,
                                    const v1::RecordContactAttemptRequest* request,
                                    v1::CommandReply* reply) override;
  grpc::Status RecordCorrespondence(grpc::ServerContext* context,
                                    const v1::RecordCorrespondenceRequest* request,
                                    v1::CommandReply* reply) override;
  grpc::Status UpdateContactPoint(grpc::ServerContext* context,
                                  const v1::UpdateContactPointRequest* request,
                                  v1::CommandReply* reply) override;
  grpc::Status SetLocationStatus(grpc::ServerContext* context,
                                 const v1::SetLocationStatusRequest* request,
                                 v1::CommandReply* reply) override;
  grpc::Status RecordPromiseToPay(grpc::ServerContext* context,
                                  const v1::RecordPromiseToPayRequest* request,
                                  v1::CommandReply* reply) override;
  grpc::Status CancelPromiseToPay(grpc::ServerContext* context,
                                  const v1::CancelPromiseToPayRequest* request,
                                  v1::CommandReply* reply) override;
  grpc::Status ProposePaymentPlan(grpc::ServerContext* context,
                                  const v1::ProposePaymentPlanRequest* request,
                                  v1::CommandReply* reply) override;
  grpc::Status AcceptPaymentPlan(grpc::ServerContext* context,
                                 const v1::AcceptPaymentPlanRequest* request,
                                 v1::CommandReply* reply) override;
  grpc::Status CancelPaymentPlan(grpc::ServerContext* context,
                                 const v1::CancelPaymentPlanRequest* request,
                                 v1::CommandReply* reply) override;
  grpc::Status AgreeSettlement(grpc::ServerContext* context,
                               const v1::AgreeSettlementRequest* request,
                               v1::CommandReply* reply) override;
  grpc::Status RefundCredit(grpc::ServerContext* context, const v1::RefundCreditRequest* request,
                            v1::CommandReply* reply) override;
  grpc::Status PostAdjustment(grpc::ServerContext* context,
                              const v1::PostAdjustmentRequest* request,
                              v1::CommandReply* reply) override;
  grpc::Status OpenDispute(grpc::ServerContext* context, const v1::OpenDisputeRequest* request,
                           v1::CommandReply* reply) override;
  grpc::Status SendDisputeVerification(grpc::ServerContext* context,
                                       const v1::SendDisputeVerificationRequest* request,
                                       v1::CommandReply* reply) override;
  grpc::Status ResolveDispute(grpc::ServerContext* context,
                              const v1::ResolveDisputeRequest* request,
                              v1::CommandReply* reply) override;
  grpc::Status WithdrawDispute(grpc::ServerContext* context,
                               const v1::WithdrawDisputeRequest* request,
                               v1::CommandReply* reply) override;
  grpc::Status PlaceWithAgency(grpc::ServerContext* context,
                               const v1::PlaceWithAgencyRequest* request,
                               v1::CommandReply* reply) override;
  grpc::Status RecallFromAgency(grpc::ServerContext* context,
                                const v1::RecallFromAgencyRequest* request,
                                v1::CommandReply* reply) override;
  grpc::Status ReferToLegal(grpc::ServerContext* context, const v1::ReferToLegalRequest* request,
                            v1::CommandReply* reply) override;
  grpc::Status ReportToBureau(grpc::ServerContext* context,
                              const v1::ReportToBureauRequest* request,
                              v1::CommandReply* reply) override;
  grpc::Status TransferDebt(grpc::ServerContext* context, const v1::TransferDebtRequest* request,
                            v1::CommandReply* reply) override;
  grpc::Status AuthorizeOverride(grpc::ServerContext* context,
                                 const v1::AuthorizeOverrideRequest* request,
                                 v1::CommandReply* reply) override;
  grpc::Status CheckContact(grpc::ServerContext* context, const v1::CheckContactRequest* request,
                            v1::CheckContactResponse* reply) override;
  grpc::Status ReserveContact(grpc::ServerContext* context,
                              const v1::ReserveContactRequest* request,
                              v1::CommandReply* reply) override;

 private:
  grpc::Status Execute(grpc::ServerContext* context, Command command, v1::CommandReply* reply);
  CommandRouter& router_;
  Admission* const admission_;
};

}  // namespace collections
