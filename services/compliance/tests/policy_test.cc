#define BOOST_TEST_MODULE compliance_policy
#include "services/compliance/policy.h"

#include "google/protobuf/util/message_differencer.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <functional>

namespace collections::compliance {
namespace {

// A policy file in a temporary directory, removed at the end of the test.
class TempPolicyFile {
 public:
  explicit TempPolicyFile(const std::string& text) {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() /
             ("compliance_policy_test_" + std::to_string(::getpid()) + "_" +
              std::to_string(counter++) + ".textproto"))
                .string();
    std::ofstream(path_) << text;
  }
  ~TempPolicyFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const std::string kShippedPolicy =
    std::string(COLLECTIONS_SOURCE_DIR) + "/deploy/policy/federal-2025.textproto";

BOOST_AUTO_TEST_CASE(default_policy_is_valid_and_has_the_federal_numbers) {
  v1::CompliancePolicy p = DefaultPolicy();
  BOOST_TEST(!ValidatePolicy(p).has_value());
  BOOST_TEST(p.version() == "federal-2025");
  BOOST_TEST(p.call_cap() == 7);
  BOOST_TEST(p.call_window_days() == 7);
  BOOST_TEST(p.conversation_quiet_days() == 7);
  BOOST_TEST(p.earliest_local_time().hours() == 8);
  BOOST_TEST(p.latest_local_time().hours() == 21);
  BOOST_TEST(p.time_of_day_boundaries_inclusive());
  BOOST_TEST(p.validation_notice_deadline_days() == 5);
  BOOST_TEST(p.receipt_business_days() == 5);
  BOOST_TEST(p.validation_period_days() == 30);
  BOOST_TEST(p.bureau_quiet_days() == 14);
  BOOST_TEST(p.postdated_cheque_days() == 5);
  BOOST_TEST(p.reporting_years() == 7);
  BOOST_TEST(p.reporting_delinquency_period_days() == 180);
  BOOST_TEST(p.medical_threshold_minor() == 50000);
  BOOST_TEST(p.medical_min_age_days() == 365);
  BOOST_TEST(p.scra_rate_cap_basis_points() == 600);
  BOOST_TEST(p.ma_personal_cap() == 2);
  BOOST_TEST(p.ma_other_window_days() == 30);
  BOOST_TEST(p.nyc_cap() == 3);
  BOOST_TEST(p.commercial_contact_start().hours() == 8);
  BOOST_TEST(p.commercial_contact_start().minutes() == 0);
  BOOST_TEST(p.commercial_contact_end().hours() == 18);
  BOOST_TEST(p.commercial_contact_end().minutes() == 0);
  BOOST_TEST(p.commercial_max_calls_per_7_days() == 10);
}

BOOST_AUTO_TEST_CASE(shipped_file_equals_default_policy) {
  Result<v1::CompliancePolicy> loaded = LoadPolicy(kShippedPolicy);
  BOOST_TEST_REQUIRE(loaded.ok(), (loaded.ok() ? "" : loaded.error().message));
  std::string diff;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  BOOST_TEST(differ.Compare(loaded.value(), DefaultPolicy()), diff);
}

BOOST_AUTO_TEST_CASE(missing_file_names_the_file) {
  Result<v1::CompliancePolicy> r = LoadPolicy("/nonexistent/policy.textproto");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST((r.error().code == Errc::kInvalidArgument));
  BOOST_TEST(r.error().message.find("/nonexistent/policy.textproto") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(syntax_error_names_file_and_line) {
  TempPolicyFile file("version: \"x\"\n# comment\ncall_cap: seven\n");
  Result<v1::CompliancePolicy> r = LoadPolicy(file.path());
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find(file.path() + ":3:") == 0u, r.error().message);
}

BOOST_AUTO_TEST_CASE(unknown_field_names_file_and_line) {
  TempPolicyFile file("version: \"x\"\ncall_kap: 7\n");
  Result<v1::CompliancePolicy> r = LoadPolicy(file.path());
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find(file.path() + ":2:") == 0u, r.error().message);
  BOOST_TEST(r.error().message.find("call_kap") != std::string::npos, r.error().message);
}

BOOST_AUTO_TEST_CASE(out_of_range_value_in_file_names_file_and_field) {
  std::ifstream in(kShippedPolicy);
  std::stringstream text;
  text << in.rdbuf();
  std::string body = text.str();
  auto at = body.find("call_cap: 7");
  BOOST_TEST_REQUIRE(at != std::string::npos);
  body.replace(at, 11, "call_cap: 0");
  TempPolicyFile file(body);
  Result<v1::CompliancePolicy> r = LoadPolicy(file.path());
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().field == "call_cap");
  BOOST_TEST(r.error().message.find(file.path()) == 0u, r.error().message);
  BOOST_TEST(r.error().message.find("call_cap must be between 1 and") != std::string::npos,
             r.error().message);
}

struct Mutation {
  const char* field;
  std::function<void(v1::CompliancePolicy&)> apply;
};

BOOST_AUTO_TEST_CASE(validation_table) {
  const Mutation cases[] = {
      {"version", [](auto& p) { p.clear_version(); }},
      {"window_counting", [](auto& p) { p.clear_window_counting(); }},
      {"call_cap", [](auto& p) { p.set_call_cap(0); }},
      {"call_cap", [](auto& p) { p.set_call_cap(101); }},
      {"call_window_days", [](auto& p) { p.set_call_window_days(0); }},
      {"consent_call_days", [](auto& p) { p.set_consent_call_days(-1); }},
      {"conversation_quiet_days", [](auto& p) { p.set_conversation_quiet_days(0); }},
      {"validation_notice_deadline_days",
       [](auto& p) { p.set_validation_notice_deadline_days(0); }},
      {"receipt_business_days", [](auto& p) { p.set_receipt_business_days(-1); }},
      {"validation_period_days", [](auto& p) { p.set_validation_period_days(0); }},
      {"postdated_cheque_days", [](auto& p) { p.set_postdated_cheque_days(-1); }},
      {"postdated_notice_min_business_days",
       [](auto& p) { p.set_postdated_notice_min_business_days(11); }},
      {"postdated_notice_max_business_days",
       [](auto& p) { p.set_postdated_notice_max_business_days(0); }},
      {"bureau_quiet_days", [](auto& p) { p.set_bureau_quiet_days(-1); }},
      {"record_retention_years", [](auto& p) { p.set_record_retention_years(0); }},
      {"reporting_years", [](auto& p) { p.set_reporting_years(0); }},
      {"reporting_delinquency_period_days",
       [](auto& p) { p.set_reporting_delinquency_period_days(-1); }},
      {"medical_threshold_minor", [](auto& p) { p.set_medical_threshold_minor(-1); }},
      {"medical_min_age_days", [](auto& p) { p.set_medical_min_age_days(-1); }},
      {"scra_rate_cap_basis_points", [](auto& p) { p.set_scra_rate_cap_basis_points(10001); }},
      {"ma_personal_cap", [](auto& p) { p.set_ma_personal_cap(0); }},
      {"ma_personal_window_days", [](auto& p) { p.set_ma_personal_window_days(0); }},
      {"ma_other_cap", [](auto& p) { p.set_ma_other_cap(0); }},
      {"ma_other_window_days", [](auto& p) { p.set_ma_other_window_days(0); }},
      {"nyc_cap", [](auto& p) { p.set_nyc_cap(0); }},
      {"nyc_window_days", [](auto& p) { p.set_nyc_window_days(0); }},
      {"earliest_local_time", [](auto& p) { p.clear_earliest_local_time(); }},
      {"latest_local_time", [](auto& p) { p.clear_latest_local_time(); }},
      {"earliest_local_time.hours",
       [](auto& p) { p.mutable_earliest_local_time()->set_hours(25); }},
      {"latest_local_time.minutes",
       [](auto& p) { p.mutable_latest_local_time()->set_minutes(60); }},
      {"latest_local_time",
       [](auto& p) {
         p.mutable_latest_local_time()->set_hours(24);
         p.mutable_latest_local_time()->set_minutes(1);
       }},
      {"earliest_local_time", [](auto& p) { p.mutable_earliest_local_time()->set_hours(21); }},
      {"commercial_contact_start", [](auto& p) { p.clear_commercial_contact_start(); }},
      {"commercial_contact_end", [](auto& p) { p.clear_commercial_contact_end(); }},
      {"commercial_contact_start.hours",
       [](auto& p) { p.mutable_commercial_contact_start()->set_hours(-1); }},
      {"commercial_contact_end.hours",
       [](auto& p) { p.mutable_commercial_contact_end()->set_hours(25); }},
      {"commercial_contact_start.minutes",
       [](auto& p) { p.mutable_commercial_contact_start()->set_minutes(60); }},
      {"commercial_contact_end",
       [](auto& p) {
         p.mutable_commercial_contact_end()->set_hours(24);
         p.mutable_commercial_contact_end()->set_minutes(30);
       }},
      // Start not before end: equal, then after.
      {"commercial_contact_start",
       [](auto& p) { p.mutable_commercial_contact_start()->set_hours(18); }},
      {"commercial_contact_start",
       [](auto& p) {
         p.mutable_commercial_contact_start()->set_hours(19);
         p.mutable_commercial_contact_end()->set_hours(9);
       }},
      {"commercial_max_calls_per_7_days",
       [](auto& p) { p.set_commercial_max_calls_per_7_days(-1); }},
      {"commercial_max_calls_per_7_days",
       [](auto& p) { p.set_commercial_max_calls_per_7_days(101); }},
  };
  for (const Mutation& m : cases) {
    BOOST_TEST_CONTEXT(m.field) {
      v1::CompliancePolicy p = DefaultPolicy();
      m.apply(p);
      Status s = ValidatePolicy(p);
      BOOST_TEST_REQUIRE(s.has_value());
      BOOST_TEST((s->code == Errc::kInvalidArgument));
      BOOST_TEST(s->field == m.field, s->message);
    }
  }
}

BOOST_AUTO_TEST_CASE(edge_values_are_accepted) {
  v1::CompliancePolicy p = DefaultPolicy();
  p.set_call_cap(1);
  p.set_receipt_business_days(0);
  p.mutable_latest_local_time()->set_hours(24);
  p.set_window_counting(v1::CompliancePolicy::WINDOW_COUNTING_ROLLING_HOURS);
  p.set_commercial_max_calls_per_7_days(0);  // no cap
  p.mutable_commercial_contact_start()->set_hours(0);
  p.mutable_commercial_contact_end()->set_hours(24);
  BOOST_TEST(!ValidatePolicy(p).has_value());
}

BOOST_AUTO_TEST_CASE(commercial_errors_name_the_field_and_what_is_wrong) {
  v1::CompliancePolicy p = DefaultPolicy();
  p.mutable_commercial_contact_start()->set_hours(18);
  Status s = ValidatePolicy(p);
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->message == "commercial_contact_start must be before commercial_contact_end");
  p = DefaultPolicy();
  p.set_commercial_max_calls_per_7_days(-1);
  s = ValidatePolicy(p);
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->message == "commercial_max_calls_per_7_days must be between 0 and 100, got -1");
}

// A policy file written before commercial debts existed does not load: the service stops at
// start-up naming the file and the missing field, instead of guessing business hours.
BOOST_AUTO_TEST_CASE(a_policy_file_without_the_commercial_hours_names_the_field) {
  std::ifstream in(kShippedPolicy);
  std::stringstream text;
  text << in.rdbuf();
  std::string body = text.str();
  const std::string line = "commercial_contact_start { hours: 8 minutes: 0 }\n";
  auto at = body.find(line);
  BOOST_TEST_REQUIRE(at != std::string::npos);
  body.erase(at, line.size());
  TempPolicyFile file(body);
  Result<v1::CompliancePolicy> r = LoadPolicy(file.path());
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().field == "commercial_contact_start");
  BOOST_TEST(r.error().message.rfind(file.path() + ": commercial_contact_start is required (", 0) ==
             0u, r.error().message);
}

}  // namespace
}  // namespace collections::compliance
