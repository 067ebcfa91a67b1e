#pragma once

#include "projections/reporting/reporting_projector.h"
#include "projections/reporting/reporting_store.h"
#include "services/api/admission.h"
#include "services/domain/clock.h"

#include "collections/v1/reporting_service.grpc.pb.h"

namespace collections::reporting {

struct ReportingOptions {
  // Days after a report's last date during which late-recorded facts still count in it. 0 (the
  // default): a period closes at the end of its last day, and anything recorded later for it
  // is a correction. Raise it when payments routinely arrive a day or two after they happened.
  int close_days = 0;
};

// collections.v1.ReportingService over the reporting projection. Each call reads the facts
// it needs from the store and computes the report with the pure functions of reports.h; with
// min_positions it first waits (bounded by the call deadline) until the reporting projector
// has applied them.
//
// Lifetime: the store, projector and clock must outlive it. Threading: thread-safe; calls
// share no mutable state.
class ReportingService final : public v1::ReportingService::Service {
 public:
  ReportingService(const ReportingStore& store, ReportingProjector& projector, const Clock& clock,
                   ReportingOptions options)
      : store_(store), projector_(projector), clock_(clock), options_(options) {}

  grpc::Status GetAgingReport(grpc::ServerContext* context,
                              const v1::GetAgingReportRequest* request,
                              v1::GetAgingReportResponse* reply) override;
  grpc::Status GetActivityReport(grpc::ServerContext* context,
                                 const v1::GetActivityReportRequest* request,
                                 v1::GetActivityReportResponse* reply) override;
  grpc::Status GetCollectionEffectiveness(grpc::ServerContext* context,
                                          const v1::GetCollectionEffectivenessRequest* request,
                                          v1::GetCollectionEffectivenessResponse* reply) override;
  grpc::Status GetRollRates(grpc::ServerContext* context, const v1::GetRollRatesRequest* request,
                            v1::GetRollRatesResponse* reply) override;

  // Applies the server's call admission (rate limit, request size) to every call; must
  // outlive the service. Set before the server starts.
  void set_admission(Admission* admission) { admission_ = admission; }

 private:
  // Waits for `positions`; returns an error status if the deadline passes first.
  Status WaitFor(const grpc::ServerContext* context,
                 const google::protobuf::RepeatedPtrField<v1::LogPosition>& positions);
  // True while `known_at` has not ended in every time zone yet.
  bool Provisional(absl::CivilDay known_at) const;

  Admission* admission_ = nullptr;
  const ReportingStore& store_;
  ReportingProjector& projector_;
  const Clock& clock_;
  const ReportingOptions options_;
};

}  // namespace collections::reporting
