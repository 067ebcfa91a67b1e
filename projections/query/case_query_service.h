#pragma once

#include "projections/projector/projector.h"
#include "projections/store/store.h"
#include "services/api/admission.h"
#include "services/domain/clock.h"

#include "collections/v1/case_service.grpc.pb.h"

namespace collections {

// collections.v1.CaseQueryService over the account projection.
//
// GetAccount is served with gRPC's callback API: with a min_position the projection has not
// reached yet, the call is parked in the projector's PositionWaiters (no thread held) and
// answered when the projector applies that record, or with DEADLINE_EXCEEDED
// PROJECTION_BEHIND when the call deadline (at most 30 s) passes first. A min_position outside
// the log (partition >= the topic's partitions, offset at or past the partition's end) is
// refused at once with INVALID_ARGUMENT. ListAccounts and GetWorkQueue are synchronous.
//
// Lifetime: the store, projector and admission must outlive the service. Thread-safe.
class CaseQueryService final
    : public v1::CaseQueryService::WithCallbackMethod_GetAccount<v1::CaseQueryService::Service> {
 public:
  // `admission` may be null (no limits).
  CaseQueryService(const ProjectionStore& store, Projector& projector, const Clock& clock,
                   Admission* admission = nullptr)
      : store_(store), projector_(projector), clock_(clock), admission_(admission) {}

  grpc::ServerUnaryReactor* GetAccount(grpc::CallbackServerContext* context,
                                       const v1::GetAccountRequest* request,
                                       v1::Account* reply) override;
  grpc::Status ListAccounts(grpc::ServerContext* context, const v1::ListAccountsRequest* request,
                            v1::ListAccountsResponse* reply) override;
  grpc::Status GetWorkQueue(grpc::ServerContext* context, const v1::GetWorkQueueRequest* request,
                            v1::GetWorkQueueResponse* reply) override;

  // The account as GetAccount answers it, read from the store now.
  grpc::Status ReadAccount(const std::string& account_id, v1::Account* reply) const;

 private:
  friend class GetAccountReactor;
  const ProjectionStore& store_;
  Projector& projector_;
  const Clock& clock_;
  Admission* const admission_;
};

}  // namespace collections
