#include "projections/compliance/compliance_service.h"

#include "services/api/authorize.h"

#include "services/api/error_mapping.h"
#include "services/common/log.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include <chrono>
#include <optional>
#include <variant>

namespace collections {
namespace {

constexpr int32_t kDefaultPageSize = 100;
constexpr int32_t kMaxPageSize = 1000;

// Reading a whole topic can take minutes, longer than the 30 s the command side allows, so the
// audit calls honour the caller's deadline up to 10 minutes (and use 10 minutes without one).
absl::Time AuditDeadline(const grpc::ServerContext* context) {
  absl::Time cap = absl::Now() + absl::Minutes(10);
  auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return cap;
  return std::min(cap, absl::FromChrono(deadline));
}

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

Error NoEvents(const std::string& account_id) {
  // Named fields rather than aggregate initialisation: Error grows optional members.
  Error error;
  error.code = Errc::kNotFound;
  error.reason = "ACCOUNT_NOT_FOUND";
  error.message = "account " + account_id + " has no events on the log";
  error.subject = account_id;
  return error;
}

// Admission for a log-reading call: the caller's rate, then one of the log-read slots.
// Returns the status to answer with instead, or holds the slot in `slot`.
std::optional<grpc::Status> AdmitLogRead(Admission* admission, grpc::ServerContext* context,
                                         const google::protobuf::MessageLite& request,
                                         std::optional<Admission::LogReadSlot>& slot) {
  if (admission == nullptr) return std::nullopt;
  if (auto refused = admission->Admit(*context, &request)) return refused;
  auto acquired = admission->AcquireLogRead();
  if (auto* status = std::get_if<grpc::Status>(&acquired)) return *status;
  slot.emplace(std::move(std::get<Admission::LogReadSlot>(acquired)));
  return std::nullopt;
}

}  // namespace

ComplianceService::ComplianceService(kafka::LogOptions log, int32_t partitions,
                                     Admission* admission)
    : log_(std::move(log), partitions), admission_(admission) {}

Status ComplianceService::ScanOne(const std::string& account_id, absl::Time deadline,
                                  int64_t skip, bool from_log, int64_t* skipped,
                                  const compliance::AuditLog::Visitor& visit) {
  int64_t ignored = 0;
  if (skipped == nullptr) skipped = &ignored;
  *skipped = 0;
  if (index_) {
    auto status = from_log ? index_->ScanAccountFromLog(account_id, deadline, visit)
                           : index_->ScanAccount(account_id, deadline, skip, skipped, visit);
    if (!status || status->reason != "INDEX_BEHIND") {
      if (!status) ++index_reads_;
      return status;
    }
    LogInfo("compliance", "reading ", account_id, " from a scan of the log: ", status->message);
  }
  ++scan_reads_;
  *skipped = 0;  // an index read that failed half-way may have counted some
  if (skip == 0) return log_.ScanAccount(account_id, deadline, visit);
  return log_.ScanAccount(account_id, deadline, [&](compliance::LoggedRecord& record) {
    if (*skipped < skip) {
      ++*skipped;
      return true;
    }
    return visit(record);
  });
}

grpc::Status ComplianceService::GetAuditTrail(grpc::ServerContext* context,
                                              const v1::GetAuditTrailRequest* request,
                                              v1::GetAuditTrailResponse* reply) {
  if (auto refused = RefuseUnauthorized(guard_, *context, "collections.v1.ComplianceService/GetAuditTrail")) return *refused;
  std::optional<Admission::LogReadSlot> slot;
  if (auto refused = AdmitLogRead(admission_, context, *request, slot)) return *refused;
  if (request->account_id().empty()) {
    return ToGrpcStatus(Error::InvalidArgument("account_id", "account_id is required"));
  }
  if (request->page_size() < 0) {
    return ToGrpcStatus(Error::InvalidArgument("page_size", "page_size must not be negative"));
  }
  const int32_t page_size =
      request->page_size() == 0 ? kDefaultPageSize : std::min(request->page_size(), kMaxPageSize);
  // The token is the index of the next record in the account's log order: the log is
  // append-only, so an index stays valid between pages.
  int64_t start = 0;
  if (!request->page_token().empty() &&
      (!absl::SimpleAtoi(request->page_token(), &start) || start < 0)) {
    return ToGrpcStatus(Error::InvalidArgument(
        "page_token", "page_token is not one this service returned; start again without it"));
  }
  // Only the page is kept: records before it are counted, the scan stops at the first record
  // after it (which also says there is a next page).
  int64_t index = start;  // records before the page are passed over by ScanOne
  int64_t skipped = 0;
  bool more = false;
  auto status = ScanOne(request->account_id(), AuditDeadline(context), start, /*from_log=*/false,
                        &skipped, [&](compliance::LoggedRecord& record) {
                          if (context->IsCancelled()) return false;
                          const int64_t i = index++;
                          if (i >= start + page_size) {
                            more = true;
                            return false;
                          }
                          *reply->add_entries() = compliance::ToAuditEntry(record);
                          return true;
                        });
  if (status) return ToGrpcStatus(*status);
  if (context->IsCancelled()) return grpc::Status::CANCELLED;
  if (skipped < start) index = skipped;  // the account has fewer records than the token skips
  if (index == 0) return ToGrpcStatus(NoEvents(request->account_id()));
  if (start > index) {
    return ToGrpcStatus(Error::InvalidArgument("page_token", "page_token is past the last event"));
  }
  if (more) reply->set_next_page_token(absl::StrCat(start + page_size));
  return grpc::Status::OK;
}

grpc::Status ComplianceService::ReplayAccount(grpc::ServerContext* context,
                                              const v1::ReplayAccountRequest* request,
                                              grpc::ServerWriter<v1::ReplayStep>* writer) {
  if (auto refused = RefuseUnauthorized(guard_, *context, "collections.v1.ComplianceService/ReplayAccount")) return *refused;
  std::optional<Admission::LogReadSlot> slot;
  if (auto refused = AdmitLogRead(admission_, context, *request, slot)) return *refused;
  if (request->account_id().empty()) {
    return ToGrpcStatus(Error::InvalidArgument("account_id", "account_id is required"));
  }
  if (!v1::ReplayStateMode_IsValid(request->state_mode())) {
    return ToGrpcStatus(Error::InvalidArgument(
        "state_mode", "state_mode must be one of REPLAY_STATE_MODE_EVERY_STEP, "
                      "REPLAY_STATE_MODE_NONE, REPLAY_STATE_MODE_LAST_STEP (or unset)"));
  }
  const v1::ReplayStateMode mode = request->state_mode();
  const bool state_on_every_step =
      mode == v1::REPLAY_STATE_MODE_UNSPECIFIED || mode == v1::REPLAY_STATE_MODE_EVERY_STEP;
  compliance::ReplayCut cut;
  if (request->has_as_of_business_time()) {
    cut.as_of_business_time = ToTime(request->as_of_business_time());
  }
  if (request->has_as_known_at()) cut.as_known_at = ToTime(request->as_known_at());
  // One step at a time: evolve, write, drop. With LAST_STEP the previous step is held back
  // until the next one shows it was not the last; it is the only step ever held.
  compliance::Replayer replayer(cut, trusted_keys_);
  v1::ReplayStep step;
  std::optional<v1::ReplayStep> held;
  bool any_record = false;
  bool client_gone = false;
  auto status = ScanOne(
      request->account_id(), AuditDeadline(context), 0, /*from_log=*/false, nullptr,
      [&](compliance::LoggedRecord& record) {
        any_record = true;
        if (context->IsCancelled()) return false;
        if (!replayer.Next(record, state_on_every_step, &step)) return true;
        if (mode == v1::REPLAY_STATE_MODE_LAST_STEP) {
          if (held && !writer->Write(*held)) {
            client_gone = true;
            return false;
          }
          held = std::move(step);
          return true;
        }
        if (!writer->Write(step)) {
          client_gone = true;  // the client went away; nothing more to do
          return false;
        }
        return true;
      });
  if (status) return ToGrpcStatus(*status);
  if (context->IsCancelled()) return grpc::Status::CANCELLED;
  if (client_gone) return grpc::Status::OK;
  if (!any_record) return ToGrpcStatus(NoEvents(request->account_id()));
  if (held) {
    *held->mutable_state_after() = replayer.state();
    writer->Write(*held);  // a client gone now has missed nothing it could act on
  }
  return grpc::Status::OK;
}

grpc::Status ComplianceService::VerifyAuditTrail(grpc::ServerContext* context,
                                                 const v1::VerifyAuditTrailRequest* request,
                                                 v1::VerifyAuditTrailResponse* reply) {
  if (auto refused = RefuseUnauthorized(guard_, *context, "collections.v1.ComplianceService/VerifyAuditTrail")) return *refused;
  std::optional<Admission::LogReadSlot> slot;
  if (auto refused = AdmitLogRead(admission_, context, *request, slot)) return *refused;
  const absl::Time deadline = AuditDeadline(context);
  compliance::ChainVerifier verifier(trusted_keys_);
  auto add = [&](compliance::LoggedRecord& record) {
    if (context->IsCancelled()) return false;
    verifier.Add(record);
    return true;
  };
  if (!request->account_id().empty()) {
    if (auto e = ScanOne(request->account_id(), deadline, 0, /*from_log=*/true, nullptr, add)) {
      return ToGrpcStatus(*e);
    }
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    *reply = verifier.Finish();
    // "Intact" for an account the log has never seen would reassure an examiner about nothing.
    if (reply->events_checked() == 0) return ToGrpcStatus(NoEvents(request->account_id()));
  } else {
    std::vector<int32_t> partitions;
    if (request->has_partition()) {
      partitions.push_back(request->partition());
    } else {
      for (int32_t p = 0; p < log_.partitions(); ++p) partitions.push_back(p);
    }
    auto e = log_.Scan(partitions, deadline, add, [](int64_t read, int64_t to_go) {
      LogInfo("compliance", "verifying the audit trail: ", read, " records read, ", to_go,
              " to go");
    });
    if (e) return ToGrpcStatus(*e);
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    *reply = verifier.Finish();
  }
  reply->set_partitions(log_.partitions());
  if (!reply->intact()) {
    // A broken chain is a security event, not only an answer: leave a trace in the service log.
    LogWarn("compliance", "audit chain broken: ", reply->breaks_size(),
            " break(s), first at account ", reply->breaks(0).account_id(), " sequence ",
            reply->breaks(0).sequence(), " (", reply->breaks(0).reason(), ")");
  }
  return grpc::Status::OK;
}

grpc::Status ComplianceService::ExportEvents(grpc::ServerContext* context,
                                             const v1::ExportEventsRequest* request,
                                             grpc::ServerWriter<v1::AuditEntry>* writer) {
  if (auto refused = RefuseUnauthorized(guard_, *context, "collections.v1.ComplianceService/ExportEvents")) return *refused;
  std::optional<Admission::LogReadSlot> slot;
  if (auto refused = AdmitLogRead(admission_, context, *request, slot)) return *refused;
  if (!request->has_from() || !request->has_to()) {
    return ToGrpcStatus(
        Error::InvalidArgument(request->has_from() ? "to" : "from", "from and to are required"));
  }
  const absl::Time from = ToTime(request->from());
  const absl::Time to = ToTime(request->to());
  if (to <= from) return ToGrpcStatus(Error::InvalidArgument("to", "to must be after from"));
  // Record by record from the log to the client: Write blocks while the client's flow-control
  // window is full, so a slow reader slows the scan instead of filling memory.
  auto visit = [&](compliance::LoggedRecord& record) {
    if (context->IsCancelled()) return false;
    if (!record.parsed) return true;  // has no business time; VerifyAuditTrail reports it
    const absl::Time at = ToTime(record.envelope.occurred_at());
    if (at < from || at >= to) return true;
    return writer->Write(compliance::ToAuditEntry(record));
  };
  Status status;
  if (!request->account_id().empty()) {
    // One account: its records only (the projection's copy, or a scan of its partition while
    // the copy is behind), not the whole log.
    status = ScanOne(request->account_id(), AuditDeadline(context), 0, /*from_log=*/false,
                     nullptr, visit);
  } else {
    std::vector<int32_t> all;
    for (int32_t p = 0; p < log_.partitions(); ++p) all.push_back(p);
    status = log_.Scan(all, AuditDeadline(context), visit, [](int64_t read, int64_t to_go) {
      LogInfo("compliance", "exporting events: ", read, " records read, ", to_go, " to go");
    });
  }
  if (status) return ToGrpcStatus(*status);
  if (context->IsCancelled()) return grpc::Status::CANCELLED;
  return grpc::Status::OK;
}

// Late entries and recorded violations entered in [from, to) (recorded_at): what a compliance
// officer reviews. Read from the log like ExportEvents, so it answers for the system of record.
grpc::Status ComplianceService::ListComplianceExceptions(
    grpc::ServerContext* context, const v1::ListComplianceExceptionsRequest* request,
    grpc::ServerWriter<v1::ComplianceException>* writer) {
  if (auto refused = RefuseUnauthorized(
          guard_, *context, "collections.v1.ComplianceService/ListComplianceExceptions")) {
    return *refused;
  }
  if (!request->has_from() || !request->has_to()) {
    return ToGrpcStatus(
        Error::InvalidArgument(request->has_from() ? "to" : "from", "from and to are required"));
  }
  if (request->late_entries_only() && request->violations_only()) {
    return ToGrpcStatus(Error::InvalidArgument(
        "violations_only", "give at most one of late_entries_only and violations_only"));
  }
  const absl::Time from = ToTime(request->from());
  const absl::Time to = ToTime(request->to());
  if (to <= from) return ToGrpcStatus(Error::InvalidArgument("to", "to must be after from"));
  // One pass over the log keeping only the exceptions, grouped by account for the documented
  // order (account, then log order): memory grows with the answer, not with the log.
  std::vector<int32_t> all;
  for (int32_t p = 0; p < log_.partitions(); ++p) all.push_back(p);
  compliance::RecordsByAccount found;
  auto status = log_.Scan(
      all, AuditDeadline(context),
      [&](compliance::LoggedRecord& record) {
        if (context->IsCancelled()) return false;
        if (!record.parsed) return true;
        const v1::EventEnvelope& e = record.envelope;
        const absl::Time at = ToTime(e.recorded_at());
        if (at < from || at >= to) return true;
        const bool late = e.has_late_entry();
        const bool violation = e.has_compliance_violation_recorded();
        if (request->late_entries_only() ? !late
            : request->violations_only() ? !violation
                                         : !late && !violation) {
          return true;
        }
        found[e.account_id()].push_back(std::move(record));
        return true;
      },
      [](int64_t read, int64_t to_go) {
        LogInfo("compliance", "listing compliance exceptions: ", read, " records read, ", to_go,
                " to go");
      });
  if (status) return ToGrpcStatus(*status);
  if (context->IsCancelled()) return grpc::Status::CANCELLED;
  for (const auto& [account, records] : found) {
    for (const auto& record : records) {
      const v1::EventEnvelope& e = record.envelope;
      const bool late = e.has_late_entry();
      const bool violation = e.has_compliance_violation_recorded();
      if (context->IsCancelled()) return grpc::Status::CANCELLED;
      v1::ComplianceException exception;
      *exception.mutable_entry() = compliance::ToAuditEntry(record);
      exception.set_late_entry(late);
      exception.set_violation(violation);
      if (!writer->Write(exception)) return grpc::Status::OK;
    }
  }
  return grpc::Status::OK;
}

}  // namespace collections
