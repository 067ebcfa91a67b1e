#include "services/compliance/policy.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

#include <fstream>
#include <sstream>

namespace collections::compliance {
namespace {

// Keeps the parser's first error with its position; the parser reports 0-based lines and
// columns, people read 1-based ones.
class FirstErrorCollector final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!message_.empty()) return;
    message_ = absl::StrCat(line + 1, ":", column + 1, ": ", message);
  }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

Status CheckRange(const std::string& field, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) {
    return Error::InvalidArgument(
        field, absl::StrCat(field, " must be between ", low, " and ", high, ", got ", value));
  }
  return std::nullopt;
}

int MinuteOfDay(const v1::CompliancePolicy::TimeOfDay& t) { return t.hours() * 60 + t.minutes(); }

Status CheckTimeOfDay(const std::string& field, const v1::CompliancePolicy::TimeOfDay& t) {
  if (auto e = CheckRange(field + ".hours", t.hours(), 0, 24)) return e;
  if (auto e = CheckRange(field + ".minutes", t.minutes(), 0, 59)) return e;
  if (MinuteOfDay(t) > 24 * 60) return Error::InvalidArgument(field, field + " is after 24:00");
  return std::nullopt;
}

}  // namespace

v1::CompliancePolicy DefaultPolicy() {
  v1::CompliancePolicy p;
  p.set_version("federal-2025");
  p.set_description(
      "Regulation F, FCRA/Metro 2, state overlays and the commercial contact policy: defaults "
      "of docs/rules.md");
  p.set_window_counting(v1::CompliancePolicy::WINDOW_COUNTING_LOCAL_CALENDAR_DAYS);
  p.set_time_of_day_boundaries_inclusive(true);
  p.set_call_cap(7);
  p.set_call_window_days(7);
  p.set_consent_call_days(7);
  p.set_conversation_quiet_days(7);
  p.mutable_earliest_local_time()->set_hours(8);
  p.mutable_earliest_local_time()->set_minutes(0);
  p.mutable_latest_local_time()->set_hours(21);
  p.mutable_latest_local_time()->set_minutes(0);
  p.set_validation_notice_deadline_days(5);
  p.set_validation_notice_deadline_business_days(false);
  p.set_receipt_business_days(5);
  p.set_validation_period_days(30);
  p.set_postdated_cheque_days(5);
  p.set_postdated_notice_min_business_days(3);
  p.set_postdated_notice_max_business_days(10);
  p.set_bureau_quiet_days(14);
  p.set_record_retention_years(3);
  p.set_reporting_years(7);
  p.set_reporting_delinquency_period_days(180);
  p.set_medical_threshold_minor(50000);
  p.set_medical_min_age_days(365);
  p.set_scra_rate_cap_basis_points(600);
  p.set_ma_personal_cap(2);
  p.set_ma_personal_window_days(7);
  p.set_ma_other_cap(2);
  p.set_ma_other_window_days(30);
  p.set_nyc_enabled(true);
  p.set_nyc_cap(3);
  p.set_nyc_window_days(7);
  p.set_future_skew_seconds(120);
  p.set_contact_backdate_hours(24);
  p.set_payment_backdate_days(30);
  p.set_correspondence_backdate_days(10);
  p.set_other_backdate_days(7);
  p.add_late_entry_roles("compliance_officer");
  p.add_late_entry_roles("supervisor");
  p.set_reservation_ttl_seconds(600);
  // B1/B2, commercial debts: a business is called in its business hours, at most 10 times a week.
  p.mutable_commercial_contact_start()->set_hours(8);
  p.mutable_commercial_contact_start()->set_minutes(0);
  p.mutable_commercial_contact_end()->set_hours(18);
  p.mutable_commercial_contact_end()->set_minutes(0);
  p.set_commercial_max_calls_per_7_days(10);
  return p;
}

Status ValidatePolicy(const v1::CompliancePolicy& p) {
  if (p.version().empty()) return Error::InvalidArgument("version", "version is required");
  if (p.window_counting() != v1::CompliancePolicy::WINDOW_COUNTING_LOCAL_CALENDAR_DAYS &&
      p.window_counting() != v1::CompliancePolicy::WINDOW_COUNTING_ROLLING_HOURS) {
    return Error::InvalidArgument("window_counting",
                                  "window_counting must be WINDOW_COUNTING_LOCAL_CALENDAR_DAYS or "
                                  "WINDOW_COUNTING_ROLLING_HOURS");
  }
  // Upper bounds are generous sanity limits: they catch a typo (70 for 7), not a policy choice.
  const struct {
    const char* field;
    int64_t value;
    int64_t low;
    int64_t high;
  } ranges[] = {
      {"call_cap", p.call_cap(), 1, 100},
      {"call_window_days", p.call_window_days(), 1, 366},
      {"consent_call_days", p.consent_call_days(), 1, 366},
      {"conversation_quiet_days", p.conversation_quiet_days(), 1, 366},
      {"validation_notice_deadline_days", p.validation_notice_deadline_days(), 1, 366},
      {"receipt_business_days", p.receipt_business_days(), 0, 60},
      {"validation_period_days", p.validation_period_days(), 1, 366},
      {"postdated_cheque_days", p.postdated_cheque_days(), 0, 366},
      {"postdated_notice_min_business_days", p.postdated_notice_min_business_days(), 0, 60},
      {"postdated_notice_max_business_days", p.postdated_notice_max_business_days(), 1, 60},
      {"bureau_quiet_days", p.bureau_quiet_days(), 0, 366},
      {"record_retention_years", p.record_retention_years(), 1, 50},
      {"reporting_years", p.reporting_years(), 1, 50},
      {"reporting_delinquency_period_days", p.reporting_delinquency_period_days(), 0, 3660},
      {"medical_threshold_minor", p.medical_threshold_minor(), 0, 1'000'000'000'000},
      {"medical_min_age_days", p.medical_min_age_days(), 0, 3660},
      {"scra_rate_cap_basis_points", p.scra_rate_cap_basis_points(), 0, 10000},
      {"ma_personal_cap", p.ma_personal_cap(), 1, 100},
      {"ma_personal_window_days", p.ma_personal_window_days(), 1, 366},
      {"ma_other_cap", p.ma_other_cap(), 1, 100},
      {"ma_other_window_days", p.ma_other_window_days(), 1, 366},
      {"nyc_cap", p.nyc_cap(), 1, 100},
      {"nyc_window_days", p.nyc_window_days(), 1, 366},
      {"future_skew_seconds", p.future_skew_seconds(), 0, 3600},
      {"contact_backdate_hours", p.contact_backdate_hours(), 0, 24 * 366},
      {"payment_backdate_days", p.payment_backdate_days(), 0, 3660},
      {"correspondence_backdate_days", p.correspondence_backdate_days(), 0, 3660},
      {"other_backdate_days", p.other_backdate_days(), 0, 3660},
      {"reservation_ttl_seconds", p.reservation_ttl_seconds(), 1, 86400},
      // 0 is no cap (B2), not a missing number.
      {"commercial_max_calls_per_7_days", p.commercial_max_calls_per_7_days(), 0, 100},
  };
  for (const auto& r : ranges) {
    if (auto e = CheckRange(r.field, r.value, r.low, r.high)) return e;
  }
  if (p.postdated_notice_min_business_days() > p.postdated_notice_max_business_days()) {
    return Error::InvalidArgument("postdated_notice_min_business_days",
                                  "postdated_notice_min_business_days must not exceed "
                                  "postdated_notice_max_business_days");
  }
  if (!p.has_earliest_local_time()) {
    return Error::InvalidArgument("earliest_local_time", "earliest_local_time is required");
  }
  if (!p.has_latest_local_time()) {
    return Error::InvalidArgument("latest_local_time", "latest_local_time is required");
  }
  if (auto e = CheckTimeOfDay("earliest_local_time", p.earliest_local_time())) return e;
  if (auto e = CheckTimeOfDay("latest_local_time", p.latest_local_time())) return e;
  if (MinuteOfDay(p.earliest_local_time()) >= MinuteOfDay(p.latest_local_time())) {
    return Error::InvalidArgument("earliest_local_time",
                                  "earliest_local_time must be before latest_local_time");
  }
  // B1's hours are required like F4's: a policy file written before commercial debts existed
  // fails at start-up naming the field, rather than leaving businesses callable never (00:00
  // to 00:00) or at any hour.
  if (!p.has_commercial_contact_start()) {
    return Error::InvalidArgument("commercial_contact_start",
                                  "commercial_contact_start is required (business hours for commercial "
                                  "debts, rule B1; the shipped federal-2025 policy has them)");
  }
  if (!p.has_commercial_contact_end()) {
    return Error::InvalidArgument("commercial_contact_end",
                                  "commercial_contact_end is required (business hours for commercial "
                                  "debts, rule B1; the shipped federal-2025 policy has them)");
  }
  if (auto e = CheckTimeOfDay("commercial_contact_start", p.commercial_contact_start())) return e;
  if (auto e = CheckTimeOfDay("commercial_contact_end", p.commercial_contact_end())) return e;
  if (MinuteOfDay(p.commercial_contact_start()) >= MinuteOfDay(p.commercial_contact_end())) {
    return Error::InvalidArgument("commercial_contact_start",
                                  "commercial_contact_start must be before commercial_contact_end");
  }
  return std::nullopt;
}

Result<v1::CompliancePolicy> LoadPolicy(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::InvalidArgument("policy_file", path + ": cannot open the policy file");
  std::stringstream text;
  text << in.rdbuf();

  v1::CompliancePolicy policy;
  FirstErrorCollector errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text.str(), &policy)) {
    return Error::InvalidArgument("policy_file", path + ":" + errors.message());
  }
  if (auto e = ValidatePolicy(policy)) {
    e->message = path + ": " + e->message;
    return *e;
  }
  return policy;
}

}  // namespace collections::compliance
