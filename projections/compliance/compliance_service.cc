#include "projections/compliance/compliance_service.h"

#include "services/api/authorize.h"

#include "services/api/error_mapping.h"
#include "services/common/log.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include <chrono>

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

}  // namespace

ComplianceService::ComplianceService(kafka::LogOptions log, int32_t partitions)
    : log_(std::move(log), partitions) {}

grpc::Status ComplianceService::GetAuditTrail(grpc::ServerContext* context,
                                              const v1::GetAuditTrailRequest* request,
                                              v1::GetAuditTrailResponse* reply) {
  if (auto refused = RefuseUnauthorized(guard_, *context, "collections.v1.ComplianceService/GetAuditTrail")) return *refused;
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
  auto records = log_.ReadAccount(request->account_id(), AuditDeadline(context));
  if (!records) return ToGrpcStatus(records.error());
  if (records.value().empty()) return ToGrpcStatus(NoEvents(request->account_id()));
  const int64_t total = static_cast<int64_t>(records.value().size());
  if (start > total) {
    return ToGrpcStatus(Error::InvalidArgument("page_token", "page_token is past the last event"));
  }
  const int64_t end = std::min(total, start + page_size);
  for (int64_t i = start; i < end; ++i) {
    *reply->add_entries() = compliance::ToAuditEntry(records.value()[static_cast<size_t>(i)]);
  }
  if (end < total) reply->set_next_page_token(absl::StrCat(end));
  return grpc::Status::OK;
}

grpc::Status ComplianceService::ReplayAccount(grpc::ServerContext* context,
                                              const v1::ReplayAccountRequest* request,
                                              grpc::ServerWriter<v1::ReplayStep>* writer) {
  if (auto refused = RefuseUnauthorized(guard_, *context, "collections.v1.ComplianceService/ReplayAccount")) return *refused;
  if (request->account_id().empty()) {
    return ToGrpcStatus(Error::InvalidArgument("account_id", "account_id is required"));
  }
  compliance::ReplayCut cut;
  if (request->has_as_of_business_time()) {
    cut.as_of_business_time = ToTime(request->as_of_business_time());
  }
  if (request->has_as_known_at()) cut.as_known_at = ToTime(request->as_known_at());
  auto records = log_.ReadAccount(request->account_id(), AuditDeadline(context));
  if (!records) return ToGrpcStatus(records.error());
  if (records.value().empty()) return ToGrpcStatus(NoEvents(request->account_id()));
  for (const auto& step : compliance::Replay(records.value(), cut, trusted_keys_)) {
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    if (!writer->Write(step)) break;  // the client went away; nothing more to do
  }
  return grpc::Status::OK;
}

grpc::Status ComplianceService::VerifyAuditTrail(grpc::ServerContext* context,
                                                 const v1::VerifyAuditTrailRequest* request,
                                                 v1::VerifyAuditTrailResponse* reply) {
  if (auto refused = RefuseUnauthorized(guard_, *context, "collections.v1.ComplianceService/VerifyAuditTrail")) return *refused;
  const absl::Time deadline = AuditDeadline(context);
  if (!request->account_id().empty()) {
    auto records = log_.ReadAccount(request->account_id(), deadline);
    if (!records) return ToGrpcStatus(records.error());
    // "Intact" for an account the log has never seen would reassure an examiner about nothing.
    if (records.value().empty()) return ToGrpcStatus(NoEvents(request->account_id()));
    compliance::RecordsByAccount one;
    one[request->account_id()] = std::move(records.value());
    *reply = compliance::VerifyAll(one, trusted_keys_);
  } else {
    std::vector<int32_t> partitions;
    if (request->has_partition()) {
      partitions.push_back(request->partition());
    } else {
      for (int32_t p = 0; p < log_.partitions(); ++p) partitions.push_back(p);
    }
    auto records = log_.ReadPartitions(partitions, deadline, [](int64_t read, int64_t to_go) {
      LogInfo("compliance", "verifying the audit trail: ", read, " records read, ", to_go,
              " to go");
    });
    if (!records) return ToGrpcStatus(records.error());
    *reply = compliance::VerifyAll(compliance::GroupByAccount(std::move(records.value())),
                                   trusted_keys_);
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
  if (!request->has_from() || !request->has_to()) {
    return ToGrpcStatus(
        Error::InvalidArgument(request->has_from() ? "to" : "from", "from and to are required"));
  }
  const absl::Time from = ToTime(request->from());
  const absl::Time to = ToTime(request->to());
  if (to <= from) return ToGrpcStatus(Error::InvalidArgument("to", "to must be after from"));
  auto accounts = log_.ReadAll(AuditDeadline(context));
  if (!accounts) return ToGrpcStatus(accounts.error());
  for (const auto& [account, records] : accounts.value()) {
    for (const auto& record : records) {
      if (!record.parsed) continue;  // has no business time; VerifyAuditTrail reports it
      const absl::Time at = ToTime(record.envelope.occurred_at());
      if (at < from || at >= to) continue;
      if (context->IsCancelled()) return grpc::Status::CANCELLED;
      if (!writer->Write(compliance::ToAuditEntry(record))) return grpc::Status::OK;
    }
  }
  return grpc::Status::OK;
}

}  // namespace collections
