#pragma once

#include "services/authz/call_guard.h"

#include "projections/projector/projector.h"
#include "projections/store/store.h"
#include "services/domain/clock.h"

#include "collections/v1/case_service.grpc.pb.h"

namespace collections {

// collections.v1.CaseQueryService over the account projection. With a min_position it waits
// (bounded by the call deadline) until the projector has applied that record. Thread-safe.
class CaseQueryService final : public v1::CaseQueryService::Service {
 public:
  CaseQueryService(const ProjectionStore& store, Projector& projector, const Clock& clock)
      : store_(store), projector_(projector), clock_(clock) {}

  grpc::Status GetAccount(grpc::ServerContext* context, const v1::GetAccountRequest* request,
                          v1::Account* reply) override;
  grpc::Status ListAccounts(grpc::ServerContext* context, const v1::ListAccountsRequest* request,
                            v1::ListAccountsResponse* reply) override;
  grpc::Status GetWorkQueue(grpc::ServerContext* context, const v1::GetWorkQueueRequest* request,
                            v1::GetWorkQueueResponse* reply) override;

  // Every RPC first checks the caller against the access policy; set once before serving.
  void set_call_guard(const authz::CallGuard* guard) { guard_ = guard; }

 private:
  const authz::CallGuard* guard_ = nullptr;
  const ProjectionStore& store_;
  Projector& projector_;
  const Clock& clock_;
};

}  // namespace collections
