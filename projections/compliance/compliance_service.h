#pragma once

#include "projections/compliance/audit_log.h"
#include "services/api/admission.h"
#include "services/kafka/kafka.h"

#include "collections/v1/compliance_service.grpc.pb.h"

#include <cstdint>

namespace collections {

// collections.v1.ComplianceService: audit trail, bitemporal replay, chain verification and
// period export, all computed from the Kafka topic (AuditLog) with the pure functions of
// projections/compliance/audit.h. It never reads the RocksDB projection: an examiner's answer
// must come from the system of record.
//
// Lifetime: owns its AuditLog; create after the topic exists, destroy after the gRPC server.
// Every call streams the log (AuditLog::Scan) and keeps per call only what its answer needs:
// one account state for a replay, one cursor per account for a verification, one page for the
// audit trail, nothing for an export. At most Admission::options().max_log_reads calls read the
// log at once; more are refused at once with RESOURCE_EXHAUSTED and RetryInfo.
// Threading: thread-safe; every call opens its own log reader and shares no mutable state.
class ComplianceService final : public v1::ComplianceService::Service {
 public:
  // `partitions` is the topic's partition count (kafka::EnsureTopic's answer). `admission`
  // (may be null: no limits) must outlive the service.
  ComplianceService(kafka::LogOptions log, int32_t partitions, Admission* admission = nullptr);

  grpc::Status GetAuditTrail(grpc::ServerContext* context, const v1::GetAuditTrailRequest* request,
                             v1::GetAuditTrailResponse* reply) override;
  grpc::Status ReplayAccount(grpc::ServerContext* context, const v1::ReplayAccountRequest* request,
                             grpc::ServerWriter<v1::ReplayStep>* writer) override;
  grpc::Status VerifyAuditTrail(grpc::ServerContext* context,
                                const v1::VerifyAuditTrailRequest* request,
                                v1::VerifyAuditTrailResponse* reply) override;
  grpc::Status ExportEvents(grpc::ServerContext* context, const v1::ExportEventsRequest* request,
                            grpc::ServerWriter<v1::AuditEntry>* writer) override;
  grpc::Status ListComplianceExceptions(grpc::ServerContext* context,
                                        const v1::ListComplianceExceptionsRequest* request,
                                        grpc::ServerWriter<v1::ComplianceException>* writer) override;

 private:
  compliance::AuditLog log_;
  Admission* const admission_;
};

}  // namespace collections
