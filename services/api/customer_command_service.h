#pragma once

#include "services/api/admission.h"
#include "services/api/cross_stream.h"
#include "services/authz/call_guard.h"
#include "services/writer/writer.h"

#include "collections/v1/customer_command_service.grpc.pb.h"

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

namespace collections {

// collections.v1.CustomerCommandService: a customer's accounts-receivable commands. Each RPC is
// a command RPC exactly like CaseCommandService's (ExecuteCommandCall: the caller authorised
// by the role matrix, admission, the request checked, the actor stamped with the caller), whose
// request becomes a CustomerCommand the router runs on the customer's stream
// ("customer/<id>"). Stateless; thread-safe as the router and the guard are; the router, guard
// and admission (may be null) must outlive it.
class CustomerCommandService final : public v1::CustomerCommandService::CallbackService {
 public:
  CustomerCommandService(CommandRouter& router, const authz::CallGuard& guard,
                         Admission* admission = nullptr)
      : router_(router), steps_(router), guard_(guard), admission_(admission) {}

#define COLLECTIONS_CUSTOMER_RPC(Name)                                                \
  grpc::ServerUnaryReactor* Name(grpc::CallbackServerContext* context,                \
                                 const v1::Name##Request* request, v1::CommandReply* reply) \
      override;
  COLLECTIONS_CUSTOMER_RPC(OpenCustomer)
  COLLECTIONS_CUSTOMER_RPC(LinkCustomerAccount)
  COLLECTIONS_CUSTOMER_RPC(UnlinkCustomerAccount)
  COLLECTIONS_CUSTOMER_RPC(RecordInvoice)
  COLLECTIONS_CUSTOMER_RPC(ReceiveCustomerPayment)
  COLLECTIONS_CUSTOMER_RPC(ApplyUnappliedCash)
  COLLECTIONS_CUSTOMER_RPC(ResolveShortPayment)
  COLLECTIONS_CUSTOMER_RPC(AdjustInvoice)
  COLLECTIONS_CUSTOMER_RPC(DisputeInvoice)
  COLLECTIONS_CUSTOMER_RPC(ResolveInvoiceDispute)
  COLLECTIONS_CUSTOMER_RPC(SetCreditLimit)
  COLLECTIONS_CUSTOMER_RPC(RecommendCreditHold)
  COLLECTIONS_CUSTOMER_RPC(ApproveCreditHold)
  COLLECTIONS_CUSTOMER_RPC(ReleaseCreditHold)
#undef COLLECTIONS_CUSTOMER_RPC

 private:
  template <typename Request>
  grpc::ServerUnaryReactor* Execute(grpc::CallbackServerContext* context, const char* method,
                                    Request request, v1::CommandReply* reply);
  CommandRouter& router_;
  // Link and unlink are also recorded on the account's stream (CrossStreamSteps).
  CrossStreamSteps steps_;
  const authz::CallGuard& guard_;
  Admission* const admission_;
};

}  // namespace collections
