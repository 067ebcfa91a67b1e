#include "services/api/case_command_service.h"

#include "services/api/error_mapping.h"
#include "services/api/deadline.h"

namespace collections {

grpc::Status CaseCommandService::Execute(grpc::ServerContext* context, Command command,
                                         v1::CommandReply* reply) {
  auto result = router_.Execute(std::move(command), CallDeadline(context));
  if (!result) return ToGrpcStatus(result.error());
  *reply = std::move(result.value());
  return grpc::Status::OK;
}

grpc::Status CaseCommandService::OpenCase(grpc::ServerContext* context,
                                          const v1::OpenCaseRequest* request, v1::CommandReply* reply) {
  return Execute(context, *request, reply);
}

grpc::Status CaseCommandService::PostPayment(grpc::ServerContext* context,
                                             const v1::PostPaymentRequest* request,
                                             v1::CommandReply* reply) {
  return Execute(context, *request, reply);
}

grpc::Status CaseCommandService::ReversePayment(grpc::ServerContext* context,
                                                const v1::ReversePaymentRequest* request,
                                                v1::CommandReply* reply) {
  return Execute(context, *request, reply);
}

}  // namespace collections
