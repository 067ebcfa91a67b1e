// docs/rules.md's worked scenarios, end to end: commands through gRPC on the real broker, the
// policy engine consulted by the writer, blocked attempts recorded as ContactBlocked events,
// overrides, and the CheckContact pre-flight.
#define BOOST_TEST_MODULE compliance_scenarios
#include "tests/support/fixture.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

#include <boost/test/unit_test.hpp>

namespace collections::testing {
namespace {

absl::Time At(const std::string& zone, int y, int m, int d, int hh, int mm = 0) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), Zone(zone));
}

absl::Time Utc(int y, int m, int d, int hh, int mm = 0) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), absl::UTCTimeZone());
}

struct Scenario : ClockedService {
  explicit Scenario(absl::Time start) : ClockedService(start, "compliance") {}

  void Open(const std::string& id, const std::string& zone, const std::string& phone_zone = "",
            v1::LocalDate sol = v1::LocalDate()) {
    v1::OpenCaseRequest r = OpenCase(id, "open-" + id);
    r.clear_command_id();
    r.set_time_zone(zone);
    r.set_third_party_collector(true);  // Regulation F applies
    r.set_jurisdiction("IL");
    *r.mutable_due_date() = Date(2025, 1, 1);
    *r.mutable_statute_of_limitations_date() = sol;
    r.mutable_contact_points()->mutable_phones(0)->set_number("+12125550100");
    r.mutable_contact_points()->mutable_phones(0)->set_time_zone(phone_zone);
    r.mutable_contact_points()->add_emails("jane@example.com");
    Must(&Stub::OpenCase, r, id);
  }
  // A contact at the clock's time (set it first).
  grpc::Status Contact(const std::string& account, v1::ContactChannel channel,
                       v1::ContactOutcome outcome,
                       v1::ContactDirection direction = v1::CONTACT_DIRECTION_OUTBOUND) {
    v1::RecordContactAttemptRequest r;
    r.set_contact_id("C" + std::to_string(++contacts));
    r.set_channel(channel);
    r.set_direction(direction);
    r.set_address(channel == v1::CONTACT_CHANNEL_EMAIL    ? "jane@example.com"
                  : channel == v1::CONTACT_CHANNEL_LETTER ? "1 Main St"
                                                          : "+12125550100");
    r.set_phone_type(v1::PHONE_TYPE_CELL);
    r.set_outcome(outcome);
    r.mutable_content()->set_has_debt_collector_disclosure(true);
    r.mutable_content()->set_has_opt_out_notice(true);
    return Send(&Stub::RecordContactAttempt, r, account);
  }
  grpc::Status Call(const std::string& account,
                    v1::ContactOutcome outcome = v1::CONTACT_OUTCOME_NO_ANSWER) {
    return Contact(account, v1::CONTACT_CHANNEL_CALL, outcome);
  }
  grpc::Status Letter(const std::string& account, v1::CorrespondenceKind kind,
                      v1::ContactChannel channel,
                      v1::CeaseException exception = v1::CEASE_EXCEPTION_NONE) {
    v1::RecordCorrespondenceRequest r;
    r.set_correspondence_id("L" + std::to_string(++contacts));
    r.set_kind(kind);
    r.set_channel(channel);
    r.set_address(channel == v1::CONTACT_CHANNEL_EMAIL ? "jane@example.com" : "1 Main St");
    r.mutable_content()->set_has_debt_collector_disclosure(true);
    r.mutable_content()->set_has_opt_out_notice(true);
    r.mutable_content()->set_cease_exception(exception);
    *r.mutable_itemization()->mutable_itemization_date() = Date(2025, 1, 1);
    return Send(&Stub::RecordCorrespondence, r, account);
  }
  grpc::Status Report(const std::string& account, const std::string& code = "") {
    v1::ReportToBureauRequest r;
    r.set_report_id("B" + std::to_string(++contacts));
    r.set_bureau("equifax");
    r.set_status_code("93");
    r.set_compliance_condition_code(code);
    return Send(&Stub::ReportToBureau, r, account);
  }
  grpc::Status Promise(const std::string& account) {
    v1::RecordPromiseToPayRequest r;
    r.set_promise_id("PR" + std::to_string(++contacts));
    r.mutable_amount()->set_amount_minor(1000);
    r.mutable_amount()->set_currency("USD");
    *r.mutable_due_date() = Date(2026, 6, 1);
    return Send(&Stub::RecordPromiseToPay, r, account);
  }
  std::vector<LoggedEvent> Blocked(const std::string& account) {
    std::vector<LoggedEvent> out;
    for (auto& e : ReadTopic(service.options().log.topic)) {
      if (e.envelope.account_id() == account && e.envelope.has_contact_blocked()) out.push_back(e);
    }
    return out;
  }
  int contacts = 0;
};

void ExpectBlocked(const grpc::Status& s, const std::string& rule) {
  BOOST_TEST(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION,
             "expected a block by " << rule);
  BOOST_TEST(ErrorReason(s) == rule, s.error_message());
}

void ExpectAllowed(const grpc::Status& s) { BOOST_TEST(s.ok(), s.error_message()); }

// ErrorInfo.metadata[key] of a failed call, or "".
std::string ErrorMetadata(const grpc::Status& s, const std::string& key) {
  google::rpc::Status details;
  if (!details.ParseFromString(s.error_details())) return "";
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (!any.UnpackTo(&info)) continue;
    auto it = info.metadata().find(key);
    return it == info.metadata().end() ? "" : it->second;
  }
  return "";
}

BOOST_AUTO_TEST_CASE(scenario_1_f1_call_frequency) {
  const std::string chicago = "America/Chicago";
  Scenario t(At(chicago, 2025, 10, 6, 10));
  t.Open("D1", chicago);
  t.Open("D1-BUSY", chicago);
  for (int day = 6; day <= 12; ++day) {
    t.clock.Set(At(chicago, 2025, 10, day, 10));
    ExpectAllowed(t.Call("D1"));
    ExpectAllowed(
        t.Call("D1-BUSY", day == 8 ? v1::CONTACT_OUTCOME_BUSY : v1::CONTACT_OUTCOME_NO_ANSWER));
  }
  t.clock.Set(At(chicago, 2025, 10, 12, 16));
  auto blocked = t.Call("D1");
  ExpectBlocked(blocked, "F1");
  BOOST_TEST(blocked.error_message().find("2025-10-13T00:00 America/Chicago") != std::string::npos,
             blocked.error_message());
  // When it becomes allowed, for machines (an instant) and for people (local time and zone).
  BOOST_TEST(ErrorMetadata(blocked, "allowed_from") == "2025-10-13T05:00:00Z");
  BOOST_TEST(ErrorMetadata(blocked, "allowed_from_local") == "2025-10-13T00:00 America/Chicago");
  ExpectAllowed(t.Call("D1-BUSY"));  // the busy call did not count

  // The refusal is an event: what was attempted, the rule, the counters and what they counted.
  auto events = t.Blocked("D1");
  BOOST_REQUIRE(events.size() == 1u);
  const auto& d = events[0].envelope.decision();
  BOOST_TEST(d.rule_id() == "F1");
  BOOST_TEST(d.outcome() == "BLOCK");
  BOOST_TEST(d.outcome_code() == v1::DECISION_OUTCOME_BLOCK);
  BOOST_TEST(d.counted_event_ids_size() == 7);
  BOOST_TEST(!d.policy_version().empty());
  BOOST_TEST(events[0].envelope.contact_blocked().command() == "RecordContactAttempt");
  v1::RecordContactAttemptRequest attempted;
  BOOST_TEST(attempted.ParseFromString(events[0].envelope.contact_blocked().command_request()));
  BOOST_TEST(attempted.address() == "+12125550100");

  // The blocked account drops to the bottom of the work queue until contact is allowed.
  t.AdvanceTo(At(chicago, 2025, 10, 12, 17));
  v1::Account d1 = t.Account("D1");
  BOOST_TEST(d1.contact_blocked_until().seconds() ==
             absl::ToUnixSeconds(At(chicago, 2025, 10, 13, 0)));
  bool blocked_reason = false;
  for (const auto& r : d1.priority())
    blocked_reason = blocked_reason || r.code() == "CONTACT_BLOCKED";
  BOOST_TEST(blocked_reason);

  t.clock.Set(At(chicago, 2025, 10, 13, 9));
  ExpectAllowed(t.Call("D1"));  // the window Oct 7-13 holds six
}

// A client retries a blocked command with the same command_id: it is not answered with the stale
// refusal forever. Still blocked, it is refused again without a second ContactBlocked; once the
// window opens, it goes through under that id (also after a restart), and then repeats get that
// reply.
BOOST_AUTO_TEST_CASE(a_blocked_command_retried_with_its_command_id_is_judged_anew) {
  const std::string chicago = "America/Chicago";
  Scenario t(At(chicago, 2025, 10, 6, 10));
  t.Open("D1", chicago);
  for (int day = 6; day <= 12; ++day) {
    t.clock.Set(At(chicago, 2025, 10, day, 10));
    ExpectAllowed(t.Call("D1"));
  }
  v1::RecordContactAttemptRequest eighth;
  eighth.set_command_id("eighth-call");
  eighth.set_contact_id("C-EIGHTH");
  eighth.set_channel(v1::CONTACT_CHANNEL_CALL);
  eighth.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  eighth.set_address("+12125550100");
  eighth.set_phone_type(v1::PHONE_TYPE_CELL);
  eighth.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
  eighth.mutable_content()->set_has_debt_collector_disclosure(true);
  eighth.mutable_content()->set_has_opt_out_notice(true);
  t.clock.Set(At(chicago, 2025, 10, 12, 16));
  ExpectBlocked(t.Send(&Stub::RecordContactAttempt, eighth, "D1"), "F1");
  t.clock.Set(At(chicago, 2025, 10, 12, 18));
  ExpectBlocked(t.Send(&Stub::RecordContactAttempt, eighth, "D1"), "F1");
  BOOST_TEST(t.Blocked("D1").size() == 1u, "the block is recorded once");

  // The writer restarts from its store: the block is remembered as a block, not as a reply.
  t.service.Restart();
  t.stubs.clear();
  t.clock.Set(At(chicago, 2025, 10, 13, 9));
  auto allowed = t.Send(&Stub::RecordContactAttempt, eighth, "D1");
  ExpectAllowed(allowed);
  BOOST_TEST(!t.last.deduplicated());
  const int64_t version = t.last.version();
  ExpectAllowed(t.Send(&Stub::RecordContactAttempt, eighth, "D1"));
  BOOST_TEST(t.last.deduplicated());
  BOOST_TEST(t.last.version() == version);
  BOOST_TEST(t.Blocked("D1").size() == 1u);
  // Another request under the id is still refused.
  eighth.set_contact_id("C-OTHER");
  auto reused = t.Send(&Stub::RecordContactAttempt, eighth, "D1");
  BOOST_TEST(reused.error_code() == grpc::StatusCode::ALREADY_EXISTS);
}

BOOST_AUTO_TEST_CASE(scenario_2_f2_call_after_a_conversation) {
  const std::string ny = "America/New_York";
  Scenario t(At(ny, 2025, 11, 4, 14));
  t.Open("D1", ny);
  t.Open("D2", ny);
  ExpectAllowed(t.Contact("D1", v1::CONTACT_CHANNEL_CALL,
                          v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION,
                          v1::CONTACT_DIRECTION_INBOUND));
  t.clock.Set(At(ny, 2025, 11, 5, 10));
  ExpectAllowed(t.Call("D2"));  // counts are per debt
  t.clock.Set(At(ny, 2025, 11, 10, 10));
  auto blocked = t.Call("D1");
  ExpectBlocked(blocked, "F2");
  BOOST_TEST(blocked.error_message().find("2025-11-11T00:00 America/New_York") != std::string::npos,
             blocked.error_message());
  t.clock.Set(At(ny, 2025, 11, 11, 9));
  ExpectAllowed(t.Call("D1"));
}

BOOST_AUTO_TEST_CASE(scenario_3_f4_two_time_zones_and_dst) {
  // Address in Los Angeles, mobile number with a New York area code.
  Scenario t(Utc(2025, 6, 10, 11, 30));
  t.Open("D1", "America/Los_Angeles", "America/New_York");
  ExpectBlocked(t.Contact("D1", v1::CONTACT_CHANNEL_TEXT, v1::CONTACT_OUTCOME_DELIVERED),
                "F4");  // 07:30 in NY
  t.clock.Set(Utc(2025, 6, 10, 16, 0));
  ExpectAllowed(t.Contact("D1", v1::CONTACT_CHANNEL_TEXT, v1::CONTACT_OUTCOME_DELIVERED));
  t.clock.Set(Utc(2025, 6, 11, 1, 30));  // 21:30 in NY, 18:30 in LA
  ExpectBlocked(t.Contact("D1", v1::CONTACT_CHANNEL_TEXT, v1::CONTACT_OUTCOME_DELIVERED), "F4");

  // New York only: 2025-03-09T12:30Z is 08:30 EDT (DST began that morning).
  Scenario ny(Utc(2025, 3, 9, 12, 30));
  ny.Open("D2", "America/New_York");
  ExpectAllowed(ny.Call("D2"));
  ny.clock.Set(Utc(2025, 3, 9, 11, 59));  // 07:59 EDT
  ExpectBlocked(ny.Call("D2"), "F4");
}

BOOST_AUTO_TEST_CASE(scenarios_4_and_5_validation_period_and_dispute_hold) {
  const std::string chicago = "America/Chicago";
  Scenario t(At(chicago, 2025, 11, 20, 10));
  t.Open("D1", chicago);
  t.Open("D2", chicago);
  ExpectAllowed(t.Call("D1", v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION));  // F16 satisfied
  ExpectAllowed(
      t.Letter("D1", v1::CORRESPONDENCE_KIND_VALIDATION_NOTICE, v1::CONTACT_CHANNEL_LETTER));
  ExpectAllowed(
      t.Letter("D2", v1::CORRESPONDENCE_KIND_VALIDATION_NOTICE, v1::CONTACT_CHANNEL_LETTER));
  BOOST_TEST(t.Account("D1").validation_period_end().day() == 28);  // Sunday 2025-12-28

  // Scenario 5: a written (portal) dispute inside the period holds collection.
  t.clock.Set(At(chicago, 2025, 12, 15, 9));
  v1::OpenDisputeRequest dispute;
  dispute.set_dispute_id("DS1");
  dispute.set_written(true);
  dispute.set_reason("portal: not mine");
  t.Must(&Stub::OpenDispute, dispute, "D1");
  BOOST_TEST(t.Account("D1").disputes(0).within_validation_period());
  t.clock.Set(At(chicago, 2025, 12, 16, 10));
  ExpectBlocked(t.Promise("D1"), "F13");
  ExpectBlocked(t.Letter("D1", v1::CORRESPONDENCE_KIND_PAYMENT_REMINDER, v1::CONTACT_CHANNEL_EMAIL),
                "F13");
  ExpectBlocked(t.Report("D1"), "F13");
  t.clock.Set(At(chicago, 2025, 12, 20, 10));
  v1::SendDisputeVerificationRequest verify;
  verify.set_dispute_id("DS1");
  t.Must(&Stub::SendDisputeVerification, verify, "D1");
  ExpectAllowed(t.Promise("D1"));
  ExpectAllowed(t.Report("D1", "XB"));

  // Scenario 4: 12-28 is inside the period, 12-29 outside.
  t.clock.Set(At(chicago, 2025, 12, 28, 10));
  dispute.set_dispute_id("DS2");
  t.Must(&Stub::OpenDispute, dispute, "D2");
  t.clock.Set(At(chicago, 2025, 12, 29, 10));
  dispute.set_dispute_id("DS3");
  t.Must(&Stub::OpenDispute, dispute, "D2");
  v1::Account d2 = t.Account("D2");
  BOOST_TEST(d2.disputes(0).within_validation_period());
  BOOST_TEST(!d2.disputes(1).within_validation_period());
}

BOOST_AUTO_TEST_CASE(scenario_6_f8_opt_out_and_f7_cease) {
  const std::string chicago = "America/Chicago";
  Scenario t(At(chicago, 2025, 8, 1, 10));
  t.Open("D1", chicago);
  ExpectAllowed(t.Letter("D1", v1::CORRESPONDENCE_KIND_OTHER, v1::CONTACT_CHANNEL_LETTER));
  v1::UpdateFlagRequest stop_calling;
  stop_calling.set_reason("oral: stop calling me");
  stop_calling.mutable_opt_out()->set_channel(v1::CONTACT_CHANNEL_CALL);
  stop_calling.mutable_opt_out()->set_active(true);
  t.Must(&Stub::UpdateFlag, stop_calling, "D1");
  t.clock.Set(At(chicago, 2025, 8, 2, 10));
  ExpectBlocked(t.Call("D1"), "F8");
  ExpectAllowed(t.Contact("D1", v1::CONTACT_CHANNEL_EMAIL, v1::CONTACT_OUTCOME_DELIVERED));

  t.clock.Set(At(chicago, 2025, 8, 4, 10));
  v1::UpdateFlagRequest cease;
  cease.set_reason("written cease letter received");
  cease.mutable_cease_communication()->set_in_effect(true);
  cease.mutable_cease_communication()->set_written(true);
  t.Must(&Stub::UpdateFlag, cease, "D1");
  t.clock.Set(At(chicago, 2025, 8, 5, 10));
  ExpectBlocked(t.Letter("D1", v1::CORRESPONDENCE_KIND_PAYMENT_REMINDER, v1::CONTACT_CHANNEL_EMAIL),
                "F7");
  ExpectAllowed(t.Letter("D1", v1::CORRESPONDENCE_KIND_OTHER, v1::CONTACT_CHANNEL_LETTER,
                         v1::CEASE_EXCEPTION_EFFORTS_ENDING));
}

BOOST_AUTO_TEST_CASE(scenario_7_f16_no_reporting_before_contact) {
  const std::string chicago = "America/Chicago";
  Scenario t(At(chicago, 2025, 5, 2, 10));
  t.Open("D1", chicago);
  t.Open("D2", chicago);
  ExpectAllowed(t.Letter("D1", v1::CORRESPONDENCE_KIND_OTHER, v1::CONTACT_CHANNEL_LETTER));
  ExpectAllowed(t.Letter("D2", v1::CORRESPONDENCE_KIND_OTHER, v1::CONTACT_CHANNEL_LETTER));
  t.clock.Set(At(chicago, 2025, 5, 9, 10));
  ExpectAllowed(t.Contact("D2", v1::CONTACT_CHANNEL_LETTER, v1::CONTACT_OUTCOME_UNDELIVERABLE));
  t.clock.Set(At(chicago, 2025, 5, 16, 10));
  ExpectBlocked(t.Report("D1"), "F16");
  t.clock.Set(At(chicago, 2025, 5, 17, 10));
  ExpectAllowed(t.Report("D1"));
  ExpectBlocked(t.Report("D2"), "F16");
}

BOOST_AUTO_TEST_CASE(scenario_8_f15_time_barred_debt) {
  const std::string chicago = "America/Chicago";
  Scenario t(At(chicago, 2025, 5, 1, 10));
  t.Open("D1", chicago, "", Date(2025, 4, 30));
  v1::ReferToLegalRequest legal;
  legal.set_firm("Law LLP");
  legal.set_reason("suit");
  ExpectBlocked(t.Send(&Stub::ReferToLegal, legal, "D1"), "F15");
  legal.set_bankruptcy_proof_of_claim(true);  // the exception
  ExpectAllowed(t.Send(&Stub::ReferToLegal, legal, "D1"));
}

BOOST_AUTO_TEST_CASE(o2_scra_caps_interest_for_servicemembers) {
  const std::string chicago = "America/Chicago";
  Scenario t(At(chicago, 2025, 9, 1, 10));
  t.Open("D1", chicago);
  v1::PostAdjustmentRequest accrual;
  accrual.set_adjustment_id("A1");
  accrual.set_kind(v1::ADJUSTMENT_KIND_INTEREST_ACCRUAL);
  accrual.mutable_amounts()->set_interest_minor(1500);
  accrual.set_reason("monthly interest at 18%");
  accrual.set_rate_basis_points(1800);
  ExpectAllowed(t.Send(&Stub::PostAdjustment, accrual, "D1"));  // not a servicemember yet
  v1::UpdateFlagRequest service;
  service.set_reason("active duty orders received");
  service.set_servicemember(true);
  t.Must(&Stub::UpdateFlag, service, "D1");
  accrual.set_adjustment_id("A2");
  ExpectBlocked(t.Send(&Stub::PostAdjustment, accrual, "D1"), "O2");
  accrual.set_adjustment_id("A3");
  accrual.set_rate_basis_points(600);  // at the 6% cap
  accrual.mutable_amounts()->set_interest_minor(500);
  ExpectAllowed(t.Send(&Stub::PostAdjustment, accrual, "D1"));
}

BOOST_AUTO_TEST_CASE(override_lets_one_blocked_action_through_and_is_recorded) {
  const std::string chicago = "America/Chicago";
  Scenario t(At(chicago, 2025, 9, 1, 10));
  t.Open("D1", chicago);
  v1::UpdateFlagRequest attorney;
  attorney.set_reason("consumer named an attorney");
  attorney.mutable_attorney()->set_represented(true);
  attorney.mutable_attorney()->mutable_attorney()->set_name("Sam Lawyer");
  attorney.mutable_attorney()->mutable_attorney()->set_phone("+13125550199");
  t.Must(&Stub::UpdateFlag, attorney, "D1");
  ExpectBlocked(t.Call("D1"), "F5");

  v1::AuthorizeOverrideRequest override;
  override.set_override_id("OV1");
  override.set_rule_id("F5");
  override.set_command("RecordContactAttempt");
  override.set_reason("attorney did not respond in 30 days (documented)");
  // Without the override privilege (the test principal's role, admin) it is refused, recorded.
  auto refused = t.Send(&Stub::AuthorizeOverride, override, "D1", "collector");
  BOOST_TEST(ErrorReason(refused) == "COMPLIANCE_OFFICER_REQUIRED");
  auto as_collector = t.Send(&Stub::AuthorizeOverride, override, "D1", "dialer");
  BOOST_TEST(ErrorReason(as_collector) == "RPC_NOT_ALLOWED");  // dialers may not even call it
  t.Must(&Stub::AuthorizeOverride, override, "D1", "compliance_officer");

  // The pre-flight sees the live override: the call may go ahead, and it records nothing.
  v1::CheckContactRequest check;
  check.set_account_id("D1");
  check.set_channel(v1::CONTACT_CHANNEL_CALL);
  check.set_address("+12125550100");
  check.set_phone_type(v1::PHONE_TYPE_CELL);
  {
    grpc::ClientContext ctx;
    v1::CheckContactResponse preflight;
    BOOST_REQUIRE(t.service.commands().CheckContact(&ctx, check, &preflight).ok());
    BOOST_TEST(preflight.allowed());
    BOOST_TEST(preflight.decision().outcome_code() == v1::DECISION_OUTCOME_OVERRIDDEN);
  }

  ExpectAllowed(t.Call("D1"));
  BOOST_TEST(t.last.decision().override_id() == "OV1");
  BOOST_TEST(t.last.decision().rule_id() == "F5");
  // The reply says the call went through because of the override, never "BLOCK".
  BOOST_TEST(t.last.decision().outcome() == "OVERRIDDEN");
  BOOST_TEST(t.last.decision().outcome_code() == v1::DECISION_OUTCOME_OVERRIDDEN);
  ExpectBlocked(t.Call("D1"), "F5");  // used once

  bool granted = false, used = false;
  for (const auto& e : ReadTopic(t.service.options().log.topic)) {
    granted = granted || e.envelope.has_compliance_override_granted();
    used = used ||
           (e.envelope.has_contact_attempted() && e.envelope.decision().override_id() == "OV1");
  }
  BOOST_TEST(granted);
  BOOST_TEST(used);
}

BOOST_AUTO_TEST_CASE(allowed_contacts_record_the_decision_and_preflight_records_nothing) {
  const std::string chicago = "America/Chicago";
  Scenario t(At(chicago, 2025, 10, 6, 10));
  t.Open("D1", chicago);
  ExpectAllowed(t.Call("D1"));
  BOOST_TEST(t.last.decision().outcome() == "ALLOW");
  BOOST_TEST(t.last.decision().outcome_code() == v1::DECISION_OUTCOME_ALLOW);
  BOOST_TEST(t.last.decision().rules_evaluated_size() > 5);
  BOOST_TEST(t.last.decision().policy_version() == "federal-2025");
  BOOST_TEST(t.last.decision().counters().at("calls_in_window") == 0);
  for (const auto& e : ReadTopic(t.service.options().log.topic)) {
    if (e.envelope.has_contact_attempted()) {
      BOOST_TEST(e.envelope.decision().outcome() == "ALLOW");
      BOOST_TEST(e.envelope.policy_version() == "federal-2025");
    }
  }

  const size_t before = ReadTopic(t.service.options().log.topic).size();
  auto check = [&](absl::Time at) {
    v1::CheckContactRequest r;
    r.set_account_id("D1");
    r.set_channel(v1::CONTACT_CHANNEL_CALL);
    r.set_address("+12125550100");
    r.set_phone_type(v1::PHONE_TYPE_CELL);
    *r.mutable_at() = internal::ToProto(at);
    grpc::ClientContext ctx;
    v1::CheckContactResponse resp;
    BOOST_REQUIRE(t.service.commands().CheckContact(&ctx, r, &resp).ok());
    return resp;
  };
  auto late = check(At(chicago, 2025, 10, 6, 21, 30));
  BOOST_TEST(!late.allowed());
  BOOST_TEST(late.decision().rule_id() == "F4");
  BOOST_TEST(late.message().find("2025-10-07T08:00 America/Chicago") != std::string::npos,
             late.message());
  auto now = check(At(chicago, 2025, 10, 6, 11, 0));
  BOOST_TEST(now.allowed());
  BOOST_TEST(ReadTopic(t.service.options().log.topic).size() == before);
}

}  // namespace
}  // namespace collections::testing
