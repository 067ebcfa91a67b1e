#include "projections/reporting/reporting_service.h"

#include "services/api/authorize.h"

#include "projections/reporting/facts.h"
#include "projections/reporting/reports.h"
#include "services/api/error_mapping.h"

#include "absl/strings/str_cat.h"

#include <chrono>

namespace collections::reporting {
namespace {

// A report reads its facts from the local store; 30 s is plenty unless the caller asks for
// less, and read-your-writes waits are bounded by the same deadline.
absl::Time Deadline(const grpc::ServerContext* context) {
  absl::Time cap = absl::Now() + absl::Seconds(30);
  auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return cap;
  return std::min(cap, absl::FromChrono(deadline));
}

// Returns the day, or an InvalidArgument naming `field` when the date is not a calendar date.
Result<absl::CivilDay> DayOf(const v1::LocalDate& date, const std::string& field) {
  const absl::CivilDay day = ToDay(date);
  if (date.year() < 1 || date.year() > 9999 || day.year() != date.year() ||
      day.month() != date.month() || day.day() != date.day()) {
    return Error::InvalidArgument(field,
                                  field + " is not a valid calendar date (year, month, day)");
  }
  return day;
}

// The known-at date: the caller's, or the report's last date plus the close.
Result<absl::CivilDay> KnownAt(bool has, const v1::LocalDate& date, absl::CivilDay last,
                               int close_days) {
  if (!has) return last + close_days;
  return DayOf(date, "as_known_at");
}

}  // namespace

Status ReportingService::WaitFor(
    const grpc::ServerContext* context,
    const google::protobuf::RepeatedPtrField<v1::LogPosition>& positions) {
  const absl::Time deadline = Deadline(context);
  for (const auto& p : positions) {
    if (!projector_.WaitForPosition(p.partition(), p.offset(), deadline)) {
      return Error{Errc::kDeadlineExceeded,
                   "POSITION_NOT_REACHED",
                   absl::StrCat("the reporting projection has not applied partition ",
                                p.partition(), " offset ", p.offset(), " yet; retry"),
                   "min_positions",
                   {}};
    }
  }
  return std::nullopt;
}

bool ReportingService::Provisional(absl::CivilDay known_at) const {
  // The last zone to finish a date is UTC-12: until then some account may still record on it.
  return clock_.Now() < absl::FromCivil(known_at + 1, absl::UTCTimeZone()) + absl::Hours(12);
}

grpc::Status ReportingService::GetAgingReport(grpc::ServerContext* context,
                                              const v1::GetAgingReportRequest* request,
                                              v1::GetAgingReportResponse* reply) {
  if (auto refused = RefuseUnauthorized(guard_, *context, "collections.v1.ReportingService/GetAgingReport")) return *refused;
  if (admission_ != nullptr) {
    if (auto refused = admission_->Admit(*context, request)) return *refused;
  }
  auto as_of = DayOf(request->as_of(), "as_of");
  if (!as_of) return ToGrpcStatus(as_of.error());
  auto known = KnownAt(request->has_as_known_at(), request->as_known_at(), as_of.value(),
                       options_.close_days);
  if (!known) return ToGrpcStatus(known.error());
  if (auto e = WaitFor(context, request->min_positions())) return ToGrpcStatus(*e);
  // Listing the accounts needs every account's snapshot; the figures alone need only the
  // accounts the facts after the snapshot move, and the aggregate of the others.
  auto input = store_.ReadInput(SnapshotDateFor(as_of.value(), known.value()), as_of.value(),
                                request->include_accounts());
  if (!input) return ToGrpcStatus(input.error());
  *reply = BuildAging(input.value(), as_of.value(), known.value(), request->group_by(),
                      request->include_accounts());
  reply->set_provisional(Provisional(known.value()));
  return grpc::Status::OK;
}

grpc::Status ReportingService::GetActivityReport(grpc::ServerContext* context,
                                                 const v1::GetActivityReportRequest* request,
                                                 v1::GetActivityReportResponse* reply) {
  if (auto refused = RefuseUnauthorized(guard_, *context, "collections.v1.ReportingService/GetActivityReport")) return *refused;
  if (admission_ != nullptr) {
    if (auto refused = admission_->Admit(*context, request)) return *refused;
  }
  auto start = DayOf(request->start(), "start");
  if (!start) return ToGrpcStatus(start.error());
  const PeriodDays period = ResolvePeriod(request->period(), start.value());
  if (!period.valid) {
    return ToGrpcStatus(
        Error::InvalidArgument("period", request->period() == v1::REPORT_PERIOD_MONTH
                                             ? "a MONTH period starts on the first day of the month"
                                             : "period must be DAY, WEEK or MONTH"));
  }
  auto known =
      KnownAt(request->has_as_known_at(), request->as_known_at(), period.end, options_.close_days);
  if (!known) return ToGrpcStatus(known.error());
  if (auto e = WaitFor(context, request->min_positions())) return ToGrpcStatus(*e);
  auto facts = store_.ScanFacts(period.start, period.end);
  if (!facts) return ToGrpcStatus(facts.error());
  *reply =
      BuildActivity(facts.value(), period.start, period.end, known.value(), request->group_by());
  reply->set_provisional(Provisional(known.value()));
  return grpc::Status::OK;
}

grpc::Status ReportingService::GetCollectionEffectiveness(
    grpc::ServerContext* context, const v1::GetCollectionEffectivenessRequest* request,
    v1::GetCollectionEffectivenessResponse* reply) {
  if (auto refused = RefuseUnauthorized(guard_, *context, "collections.v1.ReportingService/GetCollectionEffectiveness")) return *refused;
  if (admission_ != nullptr) {
    if (auto refused = admission_->Admit(*context, request)) return *refused;
  }
  auto start = DayOf(request->start(), "start");
  if (!start) return ToGrpcStatus(start.error());
  auto end = DayOf(request->end(), "end");
  if (!end) return ToGrpcStatus(end.error());
  if (end.value() < start.value())
    return ToGrpcStatus(Error::InvalidArgument("end", "end is before start"));
  auto known =
      KnownAt(request->has_as_known_at(), request->as_known_at(), end.value(), options_.close_days);
  if (!known) return ToGrpcStatus(known.error());
  if (auto e = WaitFor(context, request->min_positions())) return ToGrpcStatus(*e);
  // Opening receivables are positions at the end of the day before start.
  auto input =
      store_.ReadInput(SnapshotDateFor(start.value() - 1, known.value()), end.value());
  if (!input) return ToGrpcStatus(input.error());
  *reply = BuildCollectionEffectiveness(input.value(), start.value(), end.value(), known.value());
  reply->set_provisional(Provisional(known.value()));
  return grpc::Status::OK;
}

grpc::Status ReportingService::GetRollRates(grpc::ServerContext* context,
                                            const v1::GetRollRatesRequest* request,
                                            v1::GetRollRatesResponse* reply) {
  if (auto refused = RefuseUnauthorized(guard_, *context, "collections.v1.ReportingService/GetRollRates")) return *refused;
  if (admission_ != nullptr) {
    if (auto refused = admission_->Admit(*context, request)) return *refused;
  }
  auto month = DayOf(request->month(), "month");
  if (!month) return ToGrpcStatus(month.error());
  if (month.value().day() != 1) {
    return ToGrpcStatus(
        Error::InvalidArgument("month.day", "month is the first day of the month (day 1)"));
  }
  const absl::CivilDay last = absl::CivilDay(absl::CivilMonth(month.value()) + 1) - 1;
  auto known =
      KnownAt(request->has_as_known_at(), request->as_known_at(), last, options_.close_days);
  if (!known) return ToGrpcStatus(known.error());
  if (auto e = WaitFor(context, request->min_positions())) return ToGrpcStatus(*e);
  // Roll rates start from positions at the end of the previous month.
  auto input = store_.ReadInput(SnapshotDateFor(month.value() - 1, known.value()), last);
  if (!input) return ToGrpcStatus(input.error());
  *reply = BuildRollRates(input.value(), month.value(), known.value());
  reply->set_provisional(Provisional(known.value()));
  return grpc::Status::OK;
}

}  // namespace collections::reporting
