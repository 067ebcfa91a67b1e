#pragma once

#include "collections/v1/case_service.grpc.pb.h"
#include "services/writer/writer.h"

namespace collections {

// collections.v1.CaseCommandService: turns each RPC into a domain Command for the router and
// the outcome into a reply or a rich gRPC error. Stateless; thread-safe as the router is.
class CaseCommandService final : public v1::CaseCommandService::Service {
 public:
  explicit CaseCommandService(CommandRouter& router) : router_(router) {}

  grpc::Status OpenCase(grpc::ServerContext* context, const v1::OpenCaseRequest* request,
                        v1::CommandReply* reply) override;
  grpc::Status PostPayment(grpc::ServerContext* context, const v1::PostPaymentRequest* request,
                           v1::CommandReply* reply) override;
  grpc::Status ReversePayment(grpc::ServerContext* context, const v1::ReversePaymentRequest* request,
                              v1::CommandReply* reply) override;

 private:
  grpc::Status Execute(grpc::ServerContext* context, Command command, v1::CommandReply* reply);
  CommandRouter& router_;
};

}  // namespace collections
