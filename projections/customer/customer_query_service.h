#pragma once

#include "projections/customer/customer_store.h"
#include "projections/projector/projector.h"
#include "services/api/admission.h"
#include "services/authz/call_guard.h"
#include "services/domain/clock.h"

#include "collections/v1/customer_query_service.grpc.pb.h"

namespace collections::customer {

// collections.v1.CustomerQueryService over the customer projection: the gRPC adapter of
// customer_reads.h. Each call is authorized like every read (the access policy's role matrix),
// admitted (rate limit, request size), waits for `min_position` when given (bounded by the call
// deadline), and answers from one snapshot of the store.
//
// Lifetime: the store, projector and clock must outlive it. Threading: thread-safe; calls
// share no mutable state.
class CustomerQueryService final : public v1::CustomerQueryService::Service {
 public:
  CustomerQueryService(const CustomerStore& store, Projector& projector, const Clock& clock)
      : store_(store), projector_(projector), clock_(clock) {}

  grpc::Status GetCustomer(grpc::ServerContext* context, const v1::GetCustomerRequest* request,
                           v1::GetCustomerResponse* reply) override;
  grpc::Status GetCustomerReconciliation(grpc::ServerContext* context,
                                         const v1::GetCustomerReconciliationRequest* request,
                                         v1::GetCustomerReconciliationResponse* reply) override;
  grpc::Status GetShutdownReport(grpc::ServerContext* context,
                                 const v1::GetShutdownReportRequest* request,
                                 v1::GetShutdownReportResponse* reply) override;
  grpc::Status GetCustomerWorkQueue(grpc::ServerContext* context,
                                    const v1::GetCustomerWorkQueueRequest* request,
                                    v1::GetCustomerWorkQueueResponse* reply) override;

  // Set once before serving.
  void set_call_guard(const authz::CallGuard* guard) { guard_ = guard; }
  void set_admission(Admission* admission) { admission_ = admission; }

 private:
  // Authorization and admission: the status to answer with, or nullopt to serve.
  std::optional<grpc::Status> Refuse(grpc::ServerContext* context, const char* method,
                                     const google::protobuf::Message* request);
  // Waits until the projection has applied `position` (when set).
  Status WaitFor(const grpc::ServerContext* context, bool has_position,
                 const v1::LogPosition& position);
  // A NOT_FOUND while the projection is still catching up becomes UNAVAILABLE: the customer
  // may exist.
  Error Unavailable(const Error& error) const;

  const CustomerStore& store_;
  Projector& projector_;
  const Clock& clock_;
  const authz::CallGuard* guard_ = nullptr;
  Admission* admission_ = nullptr;
};

}  // namespace collections::customer
