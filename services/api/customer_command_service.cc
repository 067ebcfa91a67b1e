#include "services/api/customer_command_service.h"

#include "services/api/command_call.h"
#include "services/domain/customer_aggregate.h"

namespace collections {

template <typename Request>
grpc::ServerUnaryReactor* CustomerCommandService::Execute(grpc::CallbackServerContext* context,
                                                          const char* method, Request request,
                                                          v1::CommandReply* reply) {
  return ExecuteCommandCall(
      context, method, std::move(request), reply, guard_, admission_,
      [](const Request& r) { return ValidateCustomerRequest(CustomerCommand(r)); },
      [this](Request r, absl::Time deadline, CommandCompletion done) {
        if constexpr (std::is_same_v<Request, v1::LinkCustomerAccountRequest>) {
          steps_.Link(std::move(r), deadline, std::move(done));
        } else if constexpr (std::is_same_v<Request, v1::UnlinkCustomerAccountRequest>) {
          steps_.Unlink(std::move(r), deadline, std::move(done));
        } else {
          router_.ExecuteAsync(CustomerCommand(std::move(r)), deadline, std::move(done));
        }
      });
}

// Every RPC is the same: the request is the customer command.
#define COLLECTIONS_CUSTOMER_RPC(Name)                                                         \
  grpc::ServerUnaryReactor* CustomerCommandService::Name(grpc::CallbackServerContext* context, \
                                                         const v1::Name##Request* request,     \
                                                         v1::CommandReply* reply) {            \
    return Execute(context, "collections.v1.CustomerCommandService/" #Name, *request, reply);  \
  }

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

}  // namespace collections
