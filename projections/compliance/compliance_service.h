#pragma once

#include "services/authz/call_guard.h"

#include "projections/compliance/account_index.h"
#include "projections/compliance/audit_log.h"
#include "services/api/admission.h"
#include "services/kafka/kafka.h"

#include "collections/v1/compliance_service.grpc.pb.h"

#include <atomic>
#include <cstdint>
#include <memory>

namespace collections {

// collections.v1.ComplianceService: audit trail, bitemporal replay, chain verification and
// period export, all computed from the Kafka topic (AuditLog) with the pure functions of
// projections/compliance/audit.h. An examiner's answer comes from the system of record: the
// calls about one account (GetAuditTrail, ReplayAccount, VerifyAuditTrail and ExportEvents
// with an account id)
// read that account's records from the projection's byte-exact copy of the log once it covers
// the log end (AccountIndex, with use_account_index), and verification reads each of them back
// from the log at its offset; without the index, or while it is behind, they scan the
// account's partition. The answers are the same either way.
//
// Lifetime: owns its AuditLog; create after the topic exists, destroy after the gRPC server.
// Every call streams the log (AuditLog::Scan) and keeps per call only what its answer needs:
// one account state for a replay, one cursor per account for a verification, one page for the
// audit trail, nothing for an export, the exceptions found for ListComplianceExceptions. The
// calls over every account (export, exceptions, verification of a partition or of everything)
// scan the whole log, logging their progress every few seconds. At most Admission::options().max_log_reads calls read the
// log at once; more are refused at once with RESOURCE_EXHAUSTED and RetryInfo.
// Threading: thread-safe; every scan opens its own log reader and shares no mutable state;
// verification from the index borrows a reader from the index's pool (thread-safe).
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

  // Every RPC first checks the caller against the access policy; set once before serving.
  void set_call_guard(const authz::CallGuard* guard) { guard_ = guard; }
  // The writer public keys VerifyAuditTrail and ReplayAccount check signatures with.
  void set_trusted_keys(std::vector<authz::VerifyingKey> keys) { trusted_keys_ = std::move(keys); }
  // Answers the calls about one account from `store`'s copy of the log, fed by `projector`
  // (both must outlive the service); set once before serving. Without it every call scans.
  void use_account_index(const ProjectionStore& store, Projector& projector) {
    index_ = std::make_unique<compliance::AccountIndex>(log_, store, projector);
  }

  // How many calls about one account were answered from the index, and from a scan.
  int64_t index_reads() const { return index_reads_.load(); }
  int64_t scan_reads() const { return scan_reads_.load(); }
  // How many log readers verification from the index has made: they are kept in a small pool
  // and reused from call to call, so this grows with the calls that overlap, not with the calls.
  int64_t verification_readers() const { return index_ ? index_->readers_created() : 0; }

 private:
  const authz::CallGuard* guard_ = nullptr;
  std::vector<authz::VerifyingKey> trusted_keys_;
  // One account's records for a call: from the index when it is set and covers the log end,
  // otherwise from a scan of the account's partition. `skip` records are passed over first;
  // `from_log` reads the indexed records back from the log (verification).
  // `skipped` (may be null) gets how many were passed over.
  Status ScanOne(const std::string& account_id, absl::Time deadline, int64_t skip, bool from_log,
                 int64_t* skipped, const compliance::AuditLog::Visitor& visit);

  compliance::AuditLog log_;
  Admission* const admission_;
  std::unique_ptr<compliance::AccountIndex> index_;
  std::atomic<int64_t> index_reads_{0};
  std::atomic<int64_t> scan_reads_{0};
};

}  // namespace collections
