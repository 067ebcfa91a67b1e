#include "services/api/case_command_service.h"

#include "services/api/deadline.h"
#include "services/api/error_mapping.h"

namespace collections {

grpc::Status CaseCommandService::Execute(grpc::ServerContext* context, Command command,
                                         v1::CommandReply* reply) {
  auto result = router_.Execute(std::move(command), CallDeadline(context));
  if (!result) return ToGrpcStatus(result.error());
  *reply = std::move(result.value());
  return grpc::Status::OK;
}

// Every command RPC is the same: the request is the domain command.
#define COLLECTIONS_COMMAND_RPC(Name)                                                         \
  grpc::Status CaseCommandService::Name(grpc::ServerContext* context,                        \
                                        const v1::Name##Request* request, v1::CommandReply* reply) { \
    return Execute(context, *request, reply);                                                 \
  }

COLLECTIONS_COMMAND_RPC(OpenCase)
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

#undef COLLECTIONS_COMMAND_RPC

}  // namespace collections
