#include "projections/customer/customer_query_service.h"

#include "projections/customer/customer_reads.h"
#include "services/api/authorize.h"
#include "services/api/deadline.h"
#include "services/api/error_mapping.h"

#include "absl/strings/str_cat.h"

namespace collections::customer {

std::optional<grpc::Status> CustomerQueryService::Refuse(grpc::ServerContext* context,
                                                         const char* method,
                                                         const google::protobuf::Message* request) {
  if (auto refused = RefuseUnauthorized(guard_, *context, method)) return refused;
  if (admission_ != nullptr) {
    if (auto refused = admission_->Admit(*context, request)) return refused;
  }
  return std::nullopt;
}

Status CustomerQueryService::WaitFor(const grpc::ServerContext* context, bool has_position,
                                     const v1::LogPosition& position) {
  if (!has_position) return std::nullopt;
  if (position.partition() < 0 || position.partition() >= projector_.partitions()) {
    return Error::InvalidArgument(
        "min_position.partition",
        absl::StrCat("partition ", position.partition(), " is not a partition of the topic (0 to ",
                     projector_.partitions() - 1, ")"));
  }
  if (position.offset() < 0) {
    return Error::InvalidArgument("min_position.offset", "offset must not be negative");
  }
  if (!projector_.WaitForPosition(position.partition(), position.offset(),
                                  CallDeadline(context))) {
    return Error{Errc::kDeadlineExceeded, "PROJECTION_BEHIND",
                 absl::StrCat("the customer projection has not reached partition ",
                              position.partition(), " offset ", position.offset(),
                              " before the deadline; retry, or give the call a longer deadline"),
                 "min_position", {}};
  }
  return std::nullopt;
}

Error CustomerQueryService::Unavailable(const Error& error) const {
  if (error.code != Errc::kNotFound || projector_.caught_up()) return error;
  return Error{Errc::kUnavailable, "PROJECTION_REBUILDING",
               "the customer projection is still catching up with the event log, so the "
               "customer may exist; retry shortly (health says SERVING when done)",
               "", error.subject};
}

grpc::Status CustomerQueryService::GetCustomer(grpc::ServerContext* context,
                                               const v1::GetCustomerRequest* request,
                                               v1::GetCustomerResponse* reply) {
  if (auto refused = Refuse(context, "collections.v1.CustomerQueryService/GetCustomer", request)) {
    return *refused;
  }
  if (auto e = WaitFor(context, request->has_min_position(), request->min_position())) {
    return ToGrpcStatus(*e);
  }
  auto read = ReadCustomer(store_, *request, clock_.Now());
  if (!read) return ToGrpcStatus(Unavailable(read.error()));
  *reply = std::move(read.value());
  return grpc::Status::OK;
}

grpc::Status CustomerQueryService::GetCustomerReconciliation(
    grpc::ServerContext* context, const v1::GetCustomerReconciliationRequest* request,
    v1::GetCustomerReconciliationResponse* reply) {
  if (auto refused =
          Refuse(context, "collections.v1.CustomerQueryService/GetCustomerReconciliation",
                 request)) {
    return *refused;
  }
  if (auto e = WaitFor(context, request->has_min_position(), request->min_position())) {
    return ToGrpcStatus(*e);
  }
  auto read = ReadReconciliation(store_, *request, clock_.Now());
  if (!read) return ToGrpcStatus(Unavailable(read.error()));
  *reply = std::move(read.value());
  return grpc::Status::OK;
}

grpc::Status CustomerQueryService::GetShutdownReport(grpc::ServerContext* context,
                                                     const v1::GetShutdownReportRequest* request,
                                                     v1::GetShutdownReportResponse* reply) {
  if (auto refused =
          Refuse(context, "collections.v1.CustomerQueryService/GetShutdownReport", request)) {
    return *refused;
  }
  auto read = ReadShutdownReport(store_, *request, clock_.Now());
  if (!read) return ToGrpcStatus(read.error());
  *reply = std::move(read.value());
  return grpc::Status::OK;
}

grpc::Status CustomerQueryService::GetCustomerWorkQueue(
    grpc::ServerContext* context, const v1::GetCustomerWorkQueueRequest* request,
    v1::GetCustomerWorkQueueResponse* reply) {
  if (auto refused =
          Refuse(context, "collections.v1.CustomerQueryService/GetCustomerWorkQueue", request)) {
    return *refused;
  }
  auto read = ReadCustomerWorkQueue(store_, *request, clock_.Now());
  if (!read) return ToGrpcStatus(read.error());
  *reply = std::move(read.value());
  return grpc::Status::OK;
}

}  // namespace collections::customer
