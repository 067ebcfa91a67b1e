#define BOOST_TEST_MODULE compliance_engine
#include "services/compliance/engine.h"

#include "services/compliance/policy.h"

#include "absl/strings/str_cat.h"

#include <boost/test/unit_test.hpp>

// Tables of cases for the rules of docs/rules.md: given facts and history, when an action at
// an instant, then a decision. The eight worked scenarios come first, with their exact dates.

namespace collections::compliance {
namespace {

constexpr char kChicago[] = "America/Chicago";
constexpr char kNewYork[] = "America/New_York";
constexpr char kLosAngeles[] = "America/Los_Angeles";

const v1::CompliancePolicy& Policy() {
  static const v1::CompliancePolicy policy = DefaultPolicy();
  return policy;
}

absl::Time At(const std::string& zone, int y, int mo, int d, int h, int mi, int s = 0) {
  absl::TimeZone tz;
  BOOST_REQUIRE(absl::LoadTimeZone(zone, &tz));
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), tz);
}

absl::Time Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

CaseFacts Facts(const std::string& zone = kChicago) {
  CaseFacts f;
  f.debt_ids = {"D1"};
  f.reg_f_applies = true;
  f.jurisdiction = "IL";
  f.time_zone = zone;
  return f;
}

ContactAttempt OutboundCall(const std::string& id, absl::Time t,
                            ContactOutcome outcome = ContactOutcome::kNoAnswer,
                            std::vector<std::string> debts = {"D1"}) {
  ContactAttempt a;
  a.id = id;
  a.time = t;
  a.channel = Channel::kCall;
  a.direction = Direction::kOutbound;
  a.outcome = outcome;
  a.phone_type = PhoneType::kCell;
  a.target = "+13125550100";
  a.debt_ids = std::move(debts);
  return a;
}

Action Call(std::vector<std::string> debts = {"D1"}) {
  Action a;
  a.kind = ActionKind::kCall;
  a.target = "+13125550100";
  a.phone_type = PhoneType::kCell;
  a.debt_ids = std::move(debts);
  return a;
}

// A compliant message of the given kind: disclosure and opt-out line present.
Action Message(ActionKind kind, const std::string& target = "jane@example.com") {
  Action a;
  a.kind = kind;
  a.target = target;
  a.debt_ids = {"D1"};
  a.has_opt_out_notice = true;
  a.has_debt_collector_disclosure = true;
  return a;
}

Action BureauReport(DisputeCode code = DisputeCode::kNone) {
  Action a;
  a.kind = ActionKind::kBureauReport;
  a.debt_ids = {"D1"};
  a.dispute_code = code;
  a.account_status = "93";
  return a;
}

Action OfKind(ActionKind kind) {
  Action a;
  a.kind = kind;
  a.debt_ids = {"D1"};
  return a;
}

// "BLOCK F1", "ALLOW", "ALLOW_WITH_FLAGS F11": what a person reads first.
std::string Summary(const Decision& d) {
  std::string s = OutcomeName(d.outcome);
  if (!d.rule_id.empty()) s += " " + d.rule_id;
  return s;
}

Decision Eval(const CaseFacts& f, const ContactHistory& h, const Action& a, absl::Time now,
              const v1::CompliancePolicy& policy = Policy()) {
  return Evaluate(f, h, a, now, policy);
}

bool Evaluated(const Decision& d, const std::string& rule) {
  return std::find(d.rules_evaluated.begin(), d.rules_evaluated.end(), rule) !=
         d.rules_evaluated.end();
}

bool HasFlag(const Decision& d, const std::string& code) {
  return std::any_of(d.flags.begin(), d.flags.end(), [&](const Flag& f) { return f.code == code; });
}

// ---- Worked scenarios of docs/rules.md ------------------------------------------------------

ContactHistory SevenUnansweredCalls() {
  ContactHistory h;
  for (int day = 6; day <= 12; ++day) {
    h.attempts.push_back(
        OutboundCall(absl::StrCat("call-", day), At(kChicago, 2025, 10, day, 10, 0)));
  }
  return h;
}

BOOST_AUTO_TEST_CASE(scenario_1_f1_call_frequency) {
  CaseFacts f = Facts(kChicago);
  ContactHistory h = SevenUnansweredCalls();

  Decision blocked = Eval(f, h, Call(), At(kChicago, 2025, 10, 12, 16, 0));
  BOOST_TEST(Summary(blocked) == "BLOCK F1");
  BOOST_TEST(blocked.counters.at("calls_in_window") == 7);
  BOOST_TEST(blocked.counted_event_ids.size() == 7u);
  BOOST_TEST(blocked.allowed_from.has_value());
  BOOST_TEST(FormatAllowedFrom(blocked) == "2025-10-13T00:00 America/Chicago");
  BOOST_TEST(blocked.policy_version == "federal-2025");

  Decision next_day = Eval(f, h, Call(), At(kChicago, 2025, 10, 13, 9, 0));
  BOOST_TEST(Summary(next_day) == "ALLOW");
  BOOST_TEST(next_day.counters.at("calls_in_window") == 6);  // the window Oct 7-13 holds six

  h.attempts[2].outcome = ContactOutcome::kBusy;  // the Oct 8 call
  BOOST_TEST(h.attempts[2].id == "call-8");
  Decision busy = Eval(f, h, Call(), At(kChicago, 2025, 10, 12, 16, 0));
  BOOST_TEST(Summary(busy) == "ALLOW");
  BOOST_TEST(busy.counters.at("calls_in_window") == 6);
}

BOOST_AUTO_TEST_CASE(scenario_2_f2_call_after_conversation) {
  CaseFacts f = Facts(kNewYork);
  f.debt_ids = {"D1", "D2"};
  ContactHistory h;
  ContactAttempt inbound = OutboundCall("conv-1", At(kNewYork, 2025, 11, 4, 14, 0),
                                        ContactOutcome::kRightPartyConversation, {"D1"});
  inbound.direction = Direction::kInbound;
  h.attempts.push_back(inbound);

  Decision blocked = Eval(f, h, Call({"D1"}), At(kNewYork, 2025, 11, 10, 10, 0));
  BOOST_TEST(Summary(blocked) == "BLOCK F2");
  BOOST_TEST(FormatAllowedFrom(blocked) == "2025-11-11T00:00 America/New_York");
  BOOST_TEST(blocked.counted_event_ids == std::vector<std::string>{"conv-1"});

  BOOST_TEST(Summary(Eval(f, h, Call({"D1"}), At(kNewYork, 2025, 11, 11, 9, 0))) == "ALLOW");
  BOOST_TEST(Summary(Eval(f, h, Call({"D2"}), At(kNewYork, 2025, 11, 5, 10, 0))) == "ALLOW");
}

BOOST_AUTO_TEST_CASE(scenario_3_f4_two_time_zones_and_dst) {
  CaseFacts f = Facts(kLosAngeles);
  Action text = Message(ActionKind::kText, "+12125550123");
  text.phone_type = PhoneType::kCell;
  text.target_time_zone = kNewYork;

  Decision early = Eval(f, {}, text, Utc(2025, 6, 10, 11, 30));  // 07:30 New York
  BOOST_TEST(Summary(early) == "BLOCK F4");
  BOOST_TEST(early.allowed_from.has_value());
  // 08:00 in Los Angeles is the first instant both zones accept.
  BOOST_TEST(*early.allowed_from == Utc(2025, 6, 10, 15, 0));
  BOOST_TEST(FormatAllowedFrom(early) == "2025-06-10T08:00 America/Los_Angeles");

  BOOST_TEST(Summary(Eval(f, {}, text, Utc(2025, 6, 10, 16, 0))) == "ALLOW");

  Decision late = Eval(f, {}, text, Utc(2025, 6, 11, 1, 30));  // 21:30 New York, 18:30 LA
  BOOST_TEST(Summary(late) == "BLOCK F4");
  BOOST_TEST(late.reason.find("America/New_York") != std::string::npos, late.reason);
  BOOST_TEST(*late.allowed_from == Utc(2025, 6, 11, 15, 0));

  // New York only, on the day DST starts: 12:30Z is 08:30 EDT (a fixed -05:00 says 07:30).
  CaseFacts ny = Facts(kNewYork);
  BOOST_TEST(Summary(Eval(ny, {}, Call(), Utc(2025, 3, 9, 12, 30))) == "ALLOW");
  BOOST_TEST(Summary(Eval(ny, {}, Call(), Utc(2025, 3, 9, 11, 59))) == "BLOCK F4");
}

BOOST_AUTO_TEST_CASE(scenario_4_f12_validation_period_and_disputes) {
  CaseFacts f = Facts(kChicago);
  f.validation_notice_sent_at = At(kChicago, 2025, 11, 20, 9, 0);  // Thursday
  f.bureau.first_report_done = true;

  // The notice generated that day states the period end 2025-12-28.
  Action notice = Message(ActionKind::kLetter);
  notice.kind = ActionKind::kValidationNotice;
  notice.stated_period_end_day = absl::CivilDay(2025, 12, 28);
  BOOST_TEST(Summary(Eval(f, {}, notice, At(kChicago, 2025, 11, 20, 9, 0))) == "ALLOW");
  notice.stated_period_end_day = absl::CivilDay(2025, 12, 29);
  BOOST_TEST(Summary(Eval(f, {}, notice, At(kChicago, 2025, 11, 20, 9, 0))) == "BLOCK F12");

  Action demand = Message(ActionKind::kEmail);

  // Received on the last day (a Sunday, not rolled forward): inside, the hold starts.
  CaseFacts inside = f;
  inside.disputes.push_back(Dispute{
      "D1", true, DisputeForm::kWritten, At(kChicago, 2025, 12, 28, 15, 0), false, {}, false, {}});
  BOOST_TEST(Summary(Eval(inside, {}, demand, At(kChicago, 2025, 12, 29, 10, 0))) == "BLOCK F13");

  // Received the day after: no hold, but reported as disputed.
  CaseFacts outside = f;
  outside.disputes.push_back(Dispute{
      "D1", true, DisputeForm::kWritten, At(kChicago, 2025, 12, 29, 9, 0), false, {}, false, {}});
  BOOST_TEST(Summary(Eval(outside, {}, demand, At(kChicago, 2025, 12, 29, 10, 0))) == "ALLOW");
  BOOST_TEST(Summary(Eval(outside, {}, BureauReport(), At(kChicago, 2025, 12, 30, 10, 0))) ==
             "BLOCK C1");
  BOOST_TEST(Summary(Eval(outside, {}, BureauReport(DisputeCode::kXB),
                          At(kChicago, 2025, 12, 30, 10, 0))) == "ALLOW");
}

BOOST_AUTO_TEST_CASE(scenario_5_f13_dispute_hold) {
  CaseFacts f = Facts(kChicago);
  f.validation_notice_sent_at = At(kChicago, 2025, 12, 1, 9, 0);  // period ends 2026-01-07
  f.bureau.first_report_done = true;
  Dispute portal{"D1",  true, DisputeForm::kWritten, At(kChicago, 2025, 12, 15, 9, 0), false, {},
                 false, {}};
  f.disputes.push_back(portal);

  const absl::Time dec16 = At(kChicago, 2025, 12, 16, 10, 0);
  BOOST_TEST(Summary(Eval(f, {}, OfKind(ActionKind::kPromiseToPay), dec16)) == "BLOCK F13");
  BOOST_TEST(Summary(Eval(f, {}, Message(ActionKind::kEmail), dec16)) == "BLOCK F13");
  Decision report = Eval(f, {}, BureauReport(), dec16);
  BOOST_TEST(Summary(report) == "BLOCK F13");
  BOOST_TEST(report.reason.find("XB") != std::string::npos);
  BOOST_TEST(Summary(Eval(f, {}, BureauReport(DisputeCode::kXB), dec16)) == "ALLOW");

  // Verification sent on 12-20.
  f.disputes[0].response_sent_at = At(kChicago, 2025, 12, 20, 9, 0);
  const absl::Time dec20 = At(kChicago, 2025, 12, 20, 11, 0);
  BOOST_TEST(Summary(Eval(f, {}, OfKind(ActionKind::kPromiseToPay), dec20)) == "ALLOW");
  BOOST_TEST(Summary(Eval(f, {}, Message(ActionKind::kEmail), dec20)) == "ALLOW");
  BOOST_TEST(Summary(Eval(f, {}, BureauReport(DisputeCode::kXH), dec20)) == "ALLOW");
  // Still a disputed tradeline: some compliance condition code is needed (C1).
  BOOST_TEST(Summary(Eval(f, {}, BureauReport(), dec20)) == "BLOCK C1");
}

BOOST_AUTO_TEST_CASE(scenario_6_f8_opt_out_and_f7_cease) {
  CaseFacts f = Facts(kChicago);
  f.opt_outs.push_back(OptOut{Channel::kCall, "", At(kChicago, 2025, 8, 1, 11, 0)});
  const absl::Time aug2 = At(kChicago, 2025, 8, 2, 10, 0);
  BOOST_TEST(Summary(Eval(f, {}, Call(), aug2)) == "BLOCK F8");
  BOOST_TEST(Summary(Eval(f, {}, Message(ActionKind::kEmail), aug2)) == "ALLOW");

  f.cease_received_at = At(kChicago, 2025, 8, 4, 12, 0);
  const absl::Time aug5 = At(kChicago, 2025, 8, 5, 10, 0);
  BOOST_TEST(Summary(Eval(f, {}, Message(ActionKind::kEmail), aug5)) == "BLOCK F7");
  Action ending = Message(ActionKind::kLetter, "1 Main St");
  ending.cease_exception = CeaseExceptionNotice::kEffortsEnding;
  BOOST_TEST(Summary(Eval(f, {}, ending, aug5)) == "ALLOW");
}

BOOST_AUTO_TEST_CASE(scenario_7_f16_no_reporting_before_contact) {
  CaseFacts f = Facts(kChicago);
  f.bureau.messages.push_back(SentMessage{Channel::kLetter, At(kChicago, 2025, 5, 2, 15, 0), {}});

  Decision may16 = Eval(f, {}, BureauReport(), At(kChicago, 2025, 5, 16, 23, 59));
  BOOST_TEST(Summary(may16) == "BLOCK F16");
  BOOST_TEST(FormatAllowedFrom(may16) == "2025-05-17T00:00 America/Chicago");
  BOOST_TEST(Summary(Eval(f, {}, BureauReport(), At(kChicago, 2025, 5, 17, 0, 0))) == "ALLOW");

  f.bureau.messages[0].undeliverable_at = At(kChicago, 2025, 5, 9, 10, 0);
  Decision bounced = Eval(f, {}, BureauReport(), At(kChicago, 2025, 5, 17, 10, 0));
  BOOST_TEST(Summary(bounced) == "BLOCK F16");
  BOOST_TEST(!bounced.allowed_from.has_value());
}

BOOST_AUTO_TEST_CASE(scenario_8_f15_time_barred) {
  CaseFacts f = Facts(kChicago);
  f.limitations_last_day = absl::CivilDay(2025, 4, 30);
  BOOST_TEST(Summary(Eval(f, {}, OfKind(ActionKind::kLegalReferral),
                          At(kChicago, 2025, 5, 1, 9, 0))) == "BLOCK F15");
  BOOST_TEST(Summary(Eval(f, {}, OfKind(ActionKind::kLegalReferral),
                          At(kChicago, 2025, 4, 30, 17, 0))) == "ALLOW");
}

// ---- F1 -------------------------------------------------------------------------------------

// Consent to call outside the hours, so a test can probe midnight without F4 answering.
CaseFacts AnyHourFacts(const std::string& zone = kChicago) {
  CaseFacts f = Facts(zone);
  f.consents.push_back(
      ConsentRecord{ConsentScope::kInconvenientTime, Utc(2025, 1, 1, 0, 0), {}, ""});
  return f;
}

BOOST_AUTO_TEST_CASE(f1_boundary_day_and_minute) {
  CaseFacts f = AnyHourFacts();
  ContactHistory h = SevenUnansweredCalls();
  BOOST_TEST(Summary(Eval(f, h, Call(), At(kChicago, 2025, 10, 12, 23, 59, 59))) == "BLOCK F1");
  BOOST_TEST(Summary(Eval(f, h, Call(), At(kChicago, 2025, 10, 13, 0, 0, 0))) == "ALLOW");
  // Six calls: the seventh is allowed.
  h.attempts.pop_back();
  BOOST_TEST(Summary(Eval(f, h, Call(), At(kChicago, 2025, 10, 12, 16, 0))) == "ALLOW");
}

struct CountCase {
  const char* why;
  std::function<void(ContactHistory&, CaseFacts&, Action&)> change;
  const char* expected;
};

BOOST_AUTO_TEST_CASE(f1_what_counts) {
  const CountCase cases[] = {
      {"seven unanswered calls", [](auto&, auto&, auto&) {}, "BLOCK F1"},
      {"a message left counts",
       [](auto& h, auto&, auto&) { h.attempts[0].outcome = ContactOutcome::kVoicemailLeft; },
       "BLOCK F1"},
      {"other numbers of the person count together",
       [](auto& h, auto&, auto&) { h.attempts[0].target = "+13125550199"; }, "BLOCK F1"},
      {"not in service does not count",
       [](auto& h, auto&, auto&) { h.attempts[0].outcome = ContactOutcome::kNotInService; },
       "ALLOW"},
      {"inbound calls do not count",
       [](auto& h, auto&, auto&) { h.attempts[0].direction = Direction::kInbound; }, "ALLOW"},
      {"texts are not calls", [](auto& h, auto&, auto&) { h.attempts[0].channel = Channel::kText; },
       "ALLOW"},
      {"a call recorded consent exempted never counts, even after the consent is revoked",
       [](auto&, auto& f, auto&) {
         f.consents.push_back({ConsentScope::kCallFrequency, At(kChicago, 2025, 10, 6, 9, 0),
                               At(kChicago, 2025, 10, 6, 11, 0), "", std::nullopt});
       },
       "ALLOW"},
      {"consent given after the call does not exempt it",
       [](auto&, auto& f, auto&) {
         f.consents.push_back({ConsentScope::kCallFrequency, At(kChicago, 2025, 10, 6, 11, 0),
                               At(kChicago, 2025, 10, 6, 12, 0), "", std::nullopt});
       },
       "BLOCK F1"},
      {"consent to texts does not exempt calls",
       [](auto&, auto& f, auto&) {
         f.consents.push_back({ConsentScope::kCallFrequency, At(kChicago, 2025, 10, 6, 9, 0),
                               At(kChicago, 2025, 10, 6, 11, 0), "", Channel::kText});
       },
       "BLOCK F1"},
      {"consent to another number does not exempt calls to this one",
       [](auto&, auto& f, auto&) {
         f.consents.push_back({ConsentScope::kCallFrequency, At(kChicago, 2025, 10, 6, 9, 0),
                               At(kChicago, 2025, 10, 6, 11, 0), "+13125550199", std::nullopt});
       },
       "BLOCK F1"},
      {"F3: a call about another debt does not count",
       [](auto& h, auto&, auto&) { h.attempts[0].debt_ids = {"D2"}; }, "ALLOW"},
      {"F3: a call about several debts counts against each",
       [](auto& h, auto&, auto&) { h.attempts[0].debt_ids = {"D2", "D1"}; }, "BLOCK F1"},
      {"F3: a call about D1 and D2 is blocked when D1 is at the cap",
       [](auto&, auto& f, auto& a) {
         f.debt_ids = {"D1", "D2"};
         a.debt_ids = {"D1", "D2"};
       },
       "BLOCK F1"},
      {"F3: a call about D2 alone is not",
       [](auto&, auto& f, auto& a) {
         f.debt_ids = {"D1", "D2"};
         a.debt_ids = {"D2"};
       },
       "ALLOW"},
      {"consent on Oct 6: Oct 12 is day 7 of it",
       [](auto&, auto& f, auto&) {
         f.consents.push_back(
             ConsentRecord{ConsentScope::kCallFrequency, At(kChicago, 2025, 10, 6, 9, 0), {}, ""});
       },
       "ALLOW"},
      {"consent on Oct 5: Oct 12 is day 8, but the six calls it covered never count",
       [](auto&, auto& f, auto&) {
         f.consents.push_back(
             ConsentRecord{ConsentScope::kCallFrequency, At(kChicago, 2025, 10, 5, 9, 0), {}, ""});
       },
       "ALLOW"},
      {"consent on Sep 28: it covered none of the seven",
       [](auto&, auto& f, auto&) {
         f.consents.push_back(ConsentRecord{ConsentScope::kCallFrequency,
                                            At(kChicago, 2025, 9, 28, 9, 0), {}, ""});
       },
       "BLOCK F1"},
      {"consent revoked before the call: the Oct 10 call it covered does not count",
       [](auto&, auto& f, auto&) {
         f.consents.push_back(ConsentRecord{ConsentScope::kCallFrequency,
                                            At(kChicago, 2025, 10, 10, 9, 0),
                                            At(kChicago, 2025, 10, 11, 9, 0), ""});
       },
       "ALLOW"},
      {"consent revoked before any call",
       [](auto&, auto& f, auto&) {
         f.consents.push_back(ConsentRecord{ConsentScope::kCallFrequency,
                                            At(kChicago, 2025, 10, 1, 9, 0),
                                            At(kChicago, 2025, 10, 2, 9, 0), ""});
       },
       "BLOCK F1"},
      {"a voicemail is a call",
       [](auto&, auto&, auto& a) {
         a.kind = ActionKind::kVoicemail;
         a.is_limited_content_voicemail = true;
       },
       "BLOCK F1"},
      {"creditor collecting its own debt: Reg F does not apply",
       [](auto&, auto& f, auto&) { f.reg_f_applies = false; }, "ALLOW"},
  };
  for (const CountCase& c : cases) {
    BOOST_TEST_CONTEXT(c.why) {
      ContactHistory h = SevenUnansweredCalls();
      CaseFacts f = Facts(kChicago);
      Action a = Call();
      c.change(h, f, a);
      BOOST_TEST(Summary(Eval(f, h, a, At(kChicago, 2025, 10, 12, 16, 0))) == c.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(f1_window_across_dst_changes) {
  // Autumn: Chicago leaves CDT on 2025-11-02. Calls Oct 28 .. Nov 3, 10:00 local.
  CaseFacts f = Facts(kChicago);
  ContactHistory autumn;
  for (int i = 0; i < 7; ++i) {
    absl::CivilDay day = absl::CivilDay(2025, 10, 28) + i;
    autumn.attempts.push_back(OutboundCall(
        absl::StrCat("a", i), At(kChicago, day.year(), day.month(), day.day(), 10, 0)));
  }
  Decision d = Eval(f, autumn, Call(), At(kChicago, 2025, 11, 3, 16, 0));
  BOOST_TEST(Summary(d) == "BLOCK F1");
  BOOST_TEST(*d.allowed_from == Utc(2025, 11, 4, 6, 0));  // midnight CST = 06:00Z

  // Spring: DST starts 2025-03-09. Calls Mar 4 .. Mar 10.
  ContactHistory spring;
  for (int day = 4; day <= 10; ++day) {
    spring.attempts.push_back(
        OutboundCall(absl::StrCat("s", day), At(kChicago, 2025, 3, day, 10, 0)));
  }
  d = Eval(f, spring, Call(), At(kChicago, 2025, 3, 10, 16, 0));
  BOOST_TEST(Summary(d) == "BLOCK F1");
  BOOST_TEST(*d.allowed_from == Utc(2025, 3, 11, 5, 0));  // midnight CDT = 05:00Z
}

BOOST_AUTO_TEST_CASE(f1_rolling_hours_policy) {
  v1::CompliancePolicy rolling = DefaultPolicy();
  rolling.set_window_counting(v1::CompliancePolicy::WINDOW_COUNTING_ROLLING_HOURS);
  rolling.set_version("rolling-test");
  Decision d =
      Eval(Facts(), SevenUnansweredCalls(), Call(), At(kChicago, 2025, 10, 13, 9, 0), rolling);
  BOOST_TEST(Summary(d) == "BLOCK F1");  // the Oct 6 10:00 call is still within 168 hours
  BOOST_TEST(*d.allowed_from == At(kChicago, 2025, 10, 13, 10, 0));
  BOOST_TEST(d.policy_version == "rolling-test");
}

// ---- F2 -------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(f2_boundaries_and_exceptions) {
  CaseFacts f = AnyHourFacts(kNewYork);
  ContactHistory h;
  h.attempts.push_back(OutboundCall("conv", At(kNewYork, 2025, 11, 4, 14, 0),
                                    ContactOutcome::kRightPartyConversation));
  // Outbound conversations start the clock too; day 7 ends at midnight.
  BOOST_TEST(Summary(Eval(f, h, Call(), At(kNewYork, 2025, 11, 10, 23, 59, 59))) == "BLOCK F2");
  BOOST_TEST(Summary(Eval(f, h, Call(), At(kNewYork, 2025, 11, 11, 0, 0))) == "ALLOW");
  // A letter is not a call.
  BOOST_TEST(Summary(Eval(f, h, Message(ActionKind::kLetter, "1 Main St"),
                          At(kNewYork, 2025, 11, 5, 10, 0))) == "ALLOW");
  // A text conversation is not a telephone conversation.
  ContactHistory texted = h;
  texted.attempts[0].channel = Channel::kText;
  BOOST_TEST(Summary(Eval(f, texted, Call(), At(kNewYork, 2025, 11, 5, 10, 0))) == "ALLOW");
  // Direct consent given the next day.
  CaseFacts consented = f;
  consented.consents.push_back(
      ConsentRecord{ConsentScope::kCallFrequency, At(kNewYork, 2025, 11, 5, 9, 0), {}, ""});
  BOOST_TEST(Summary(Eval(consented, h, Call(), At(kNewYork, 2025, 11, 5, 10, 0))) == "ALLOW");

  // Across the autumn change: conversation Saturday 2025-11-01 (EDT), allowed from
  // Saturday 11-08 00:00 EST.
  ContactHistory autumn;
  autumn.attempts.push_back(OutboundCall("conv2", At(kNewYork, 2025, 11, 1, 14, 0),
                                         ContactOutcome::kRightPartyConversation));
  Decision d = Eval(f, autumn, Call(), At(kNewYork, 2025, 11, 3, 10, 0));
  BOOST_TEST(Summary(d) == "BLOCK F2");
  BOOST_TEST(*d.allowed_from == Utc(2025, 11, 8, 5, 0));
}

// ---- F4 -------------------------------------------------------------------------------------

struct TimeCase {
  const char* zone;
  absl::Time now;
  const char* expected;
  const char* why;
};

BOOST_AUTO_TEST_CASE(f4_boundary_seconds_and_dst) {
  const TimeCase cases[] = {
      {kNewYork, At(kNewYork, 2025, 6, 10, 7, 59, 59), "BLOCK F4", "one second early"},
      {kNewYork, At(kNewYork, 2025, 6, 10, 8, 0, 0), "ALLOW", "08:00:00 is allowed"},
      {kNewYork, At(kNewYork, 2025, 6, 10, 21, 0, 0), "ALLOW", "21:00:00 is allowed"},
      {kNewYork, At(kNewYork, 2025, 6, 10, 21, 0, 1), "BLOCK F4", "one second late"},
      {kNewYork, At(kNewYork, 2025, 6, 10, 3, 0, 0), "BLOCK F4", "night"},
      // Autumn: 2025-11-02 New York is EST (-05:00) from 02:00.
      {kNewYork, Utc(2025, 11, 2, 12, 30), "BLOCK F4", "07:30 EST (a stale -04:00 says 08:30)"},
      {kNewYork, Utc(2025, 11, 2, 13, 0), "ALLOW", "08:00 EST"},
      // Spring in Chicago: CDT (-05:00) from 2025-03-09 02:00.
      {kChicago, Utc(2025, 3, 9, 12, 59), "BLOCK F4", "07:59 CDT"},
      {kChicago, Utc(2025, 3, 9, 13, 0), "ALLOW", "08:00 CDT (a stale -06:00 says 07:00)"},
      {kChicago, Utc(2025, 3, 10, 2, 0), "ALLOW", "21:00 CDT"},
      {kChicago, Utc(2025, 3, 10, 2, 1), "BLOCK F4", "21:01 CDT"},
  };
  for (const TimeCase& c : cases) {
    BOOST_TEST_CONTEXT(c.why) {
      BOOST_TEST(Summary(Eval(Facts(c.zone), {}, Call(), c.now)) == c.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(f4_number_in_another_zone) {
  // Chicago address, Los Angeles number: 09:30 CDT is 07:30 PDT.
  Action call = Call();
  call.target_time_zone = kLosAngeles;
  Decision d = Eval(Facts(kChicago), {}, call, Utc(2025, 6, 10, 14, 30));
  BOOST_TEST(Summary(d) == "BLOCK F4");
  BOOST_TEST(*d.allowed_from == Utc(2025, 6, 10, 15, 0));
  BOOST_TEST(d.allowed_from_zone == kLosAngeles);
  // Chicago address, New York number: 20:30 CDT is 21:30 EDT.
  call.target_time_zone = kNewYork;
  d = Eval(Facts(kChicago), {}, call, Utc(2025, 6, 11, 1, 30));
  BOOST_TEST(Summary(d) == "BLOCK F4");
  BOOST_TEST(FormatAllowedFrom(d) == "2025-06-11T09:00 America/New_York");  // 08:00 CDT
  // Same zone named twice: only one check.
  call.target_time_zone = kChicago;
  BOOST_TEST(Summary(Eval(Facts(kChicago), {}, call, Utc(2025, 6, 11, 1, 30))) == "ALLOW");
  // An unknown zone for the number fails closed.
  call.target_time_zone = "Mars/Olympus_Mons";
  BOOST_TEST(Summary(Eval(Facts(kChicago), {}, call, Utc(2025, 6, 10, 16, 0))) == "BLOCK F4");
}

BOOST_AUTO_TEST_CASE(f4_zones_without_common_hours) {
  v1::CompliancePolicy narrow = DefaultPolicy();
  narrow.mutable_earliest_local_time()->set_hours(9);
  narrow.mutable_latest_local_time()->set_hours(11);
  Action call = Call();
  call.target_time_zone = "Asia/Tokyo";  // 14 hours ahead of Chicago in June
  Decision d = Eval(Facts(kChicago), {}, call, At(kChicago, 2025, 6, 10, 10, 0), narrow);
  BOOST_TEST(Summary(d) == "BLOCK F4");
  BOOST_TEST(!d.allowed_from.has_value());
}

BOOST_AUTO_TEST_CASE(f4_exclusive_boundaries_policy) {
  v1::CompliancePolicy exclusive = DefaultPolicy();
  exclusive.set_time_of_day_boundaries_inclusive(false);
  Decision d = Eval(Facts(kNewYork), {}, Call(), At(kNewYork, 2025, 6, 10, 8, 0, 0), exclusive);
  BOOST_TEST(Summary(d) == "BLOCK F4");
  BOOST_TEST(*d.allowed_from == At(kNewYork, 2025, 6, 10, 8, 0, 1));
  BOOST_TEST(Summary(Eval(Facts(kNewYork), {}, Call(), At(kNewYork, 2025, 6, 10, 21, 0, 0),
                          exclusive)) == "BLOCK F4");
}

BOOST_AUTO_TEST_CASE(f4_stated_inconvenient_times) {
  CaseFacts f = Facts(kChicago);
  f.inconvenient_times.push_back(InconvenientTime{12 * 60, 13 * 60, std::nullopt});
  f.inconvenient_times.push_back(InconvenientTime{8 * 60, 10 * 60, absl::Weekday::sunday});
  Decision lunch = Eval(f, {}, Call(), At(kChicago, 2025, 6, 10, 12, 30));
  BOOST_TEST(Summary(lunch) == "BLOCK F4");
  BOOST_TEST(*lunch.allowed_from == At(kChicago, 2025, 6, 10, 13, 0));
  BOOST_TEST(Summary(Eval(f, {}, Call(), At(kChicago, 2025, 6, 10, 13, 0))) == "ALLOW");
  BOOST_TEST(Summary(Eval(f, {}, Call(), At(kChicago, 2025, 6, 10, 9, 0))) == "ALLOW");  // Tuesday
  Decision sunday = Eval(f, {}, Call(), At(kChicago, 2025, 6, 8, 9, 0));
  BOOST_TEST(Summary(sunday) == "BLOCK F4");
  BOOST_TEST(*sunday.allowed_from == At(kChicago, 2025, 6, 8, 10, 0));
  // Sunday before 08:00: the hours open at 08:00 but the stated window runs to 10:00.
  Decision dawn = Eval(f, {}, Call(), At(kChicago, 2025, 6, 8, 6, 0));
  BOOST_TEST(*dawn.allowed_from == At(kChicago, 2025, 6, 8, 10, 0));
}

BOOST_AUTO_TEST_CASE(f4_exceptions) {
  const absl::Time early = At(kChicago, 2025, 6, 10, 7, 0);
  // Letters are not bound to hours.
  BOOST_TEST(Summary(Eval(Facts(), {}, Message(ActionKind::kLetter, "1 Main St"), early)) ==
             "ALLOW");
  // E-mail is.
  BOOST_TEST(Summary(Eval(Facts(), {}, Message(ActionKind::kEmail), early)) == "BLOCK F4");
  // Consent to the time.
  CaseFacts consented = Facts();
  consented.consents.push_back(
      ConsentRecord{ConsentScope::kInconvenientTime, At(kChicago, 2025, 6, 1, 12, 0), {}, ""});
  BOOST_TEST(Summary(Eval(consented, {}, Call(), early)) == "ALLOW");
  // Consent for another number does not cover this one.
  consented.consents[0].target = "+13125550199";
  BOOST_TEST(Summary(Eval(consented, {}, Call(), early)) == "BLOCK F4");

  // A reply, once, in the same channel, to contact the consumer started.
  ContactHistory h;
  ContactAttempt inbound;
  inbound.id = "in-1";
  inbound.time = At(kChicago, 2025, 6, 10, 6, 50);
  inbound.channel = Channel::kText;
  inbound.direction = Direction::kInbound;
  inbound.outcome = ContactOutcome::kDelivered;
  h.attempts.push_back(inbound);
  Action reply = Message(ActionKind::kText, "+13125550100");
  reply.in_reply_to = "in-1";
  BOOST_TEST(Summary(Eval(Facts(), h, reply, early)) == "ALLOW");
  Action email_reply = Message(ActionKind::kEmail);
  email_reply.in_reply_to = "in-1";
  BOOST_TEST(Summary(Eval(Facts(), h, email_reply, early)) == "BLOCK F4");  // other channel
  ContactAttempt first_reply = inbound;
  first_reply.id = "out-1";
  first_reply.direction = Direction::kOutbound;
  first_reply.in_reply_to = "in-1";
  h.attempts.push_back(first_reply);
  BOOST_TEST(Summary(Eval(Facts(), h, reply, early)) == "BLOCK F4");  // only once
}

// ---- F5 - F10 -------------------------------------------------------------------------------

struct FactCase {
  const char* why;
  std::function<void(CaseFacts&, Action&)> change;
  const char* expected;
};

void RunFactCases(const FactCase* begin, const FactCase* end, absl::Time now,
                  const std::function<Action()>& make_action) {
  for (const FactCase* c = begin; c != end; ++c) {
    BOOST_TEST_CONTEXT(c->why) {
      CaseFacts f = Facts(kChicago);
      Action a = make_action();
      c->change(f, a);
      Decision d = Eval(f, {}, a, now);
      BOOST_TEST(Summary(d) == c->expected, d.reason);
    }
  }
}

BOOST_AUTO_TEST_CASE(f5_to_f10_contact_rules) {
  const absl::Time noon = At(kChicago, 2025, 7, 15, 12, 0);
  auto attorney = [](CaseFacts& f) {
    f.attorney_represented = true;
    f.attorney_contact = "+13125559999";
  };
  const FactCase cases[] = {
      {"baseline call", [](auto&, auto&) {}, "ALLOW"},
      {"F5 attorney known: call to the consumer", [&](auto& f, auto&) { attorney(f); }, "BLOCK F5"},
      {"F5 call to the attorney",
       [&](auto& f, auto& a) {
         attorney(f);
         a.target = "+13125559999";
       },
       "ALLOW"},
      {"F5 attorney consents",
       [&](auto& f, auto&) {
         attorney(f);
         f.attorney_consent = true;
       },
       "ALLOW"},
      {"F5 documented officer override",
       [&](auto& f, auto&) {
         attorney(f);
         f.attorney_override_by = "officer-7";
       },
       "ALLOW"},
      {"F5 attorney's contact details unknown",
       [](auto& f, auto&) { f.attorney_represented = true; }, "ALLOW"},
      {"F6 work number, employer prohibits",
       [](auto& f, auto& a) {
         f.employer_prohibits_contact = true;
         a.phone_type = PhoneType::kWork;
       },
       "BLOCK F6"},
      {"F6 cell number, employer prohibits",
       [](auto& f, auto&) { f.employer_prohibits_contact = true; }, "ALLOW"},
      {"F6 work number with consent",
       [](auto& f, auto& a) {
         f.employer_prohibits_contact = true;
         a.phone_type = PhoneType::kWork;
         f.consents.push_back(
             ConsentRecord{ConsentScope::kWorkplace, Utc(2025, 7, 1, 0, 0), {}, ""});
       },
       "ALLOW"},
      {"F6 e-mail to the employer's address",
       [](auto& f, auto& a) {
         f.employer_prohibits_contact = true;
         a = Message(ActionKind::kEmail, "jane@employer.example");
         a.target_is_employer_address = true;
       },
       "BLOCK F6"},
      {"F7 cease received: call",
       [](auto& f, auto&) { f.cease_received_at = At(kChicago, 2025, 7, 14, 9, 0); }, "BLOCK F7"},
      {"F7 cease received tomorrow: not yet",
       [](auto& f, auto&) { f.cease_received_at = At(kChicago, 2025, 7, 16, 9, 0); }, "ALLOW"},
      {"F7 notice that the collector intends to invoke a remedy",
       [](auto& f, auto& a) {
         f.cease_received_at = At(kChicago, 2025, 7, 14, 9, 0);
         a = Message(ActionKind::kLetter, "1 Main St");
         a.cease_exception = CeaseExceptionNotice::kIntendsToInvokeRemedy;
       },
       "ALLOW"},
      {"F7 notice that the collector may invoke a remedy",
       [](auto& f, auto& a) {
         f.cease_received_at = At(kChicago, 2025, 7, 14, 9, 0);
         a = Message(ActionKind::kLetter, "1 Main St");
         a.cease_exception = CeaseExceptionNotice::kMayInvokeRemedy;
       },
       "ALLOW"},
      {"F7 does not stop a bureau report",
       [](auto& f, auto& a) {
         f.cease_received_at = At(kChicago, 2025, 7, 14, 9, 0);
         f.bureau.first_report_done = true;
         a = BureauReport();
       },
       "ALLOW"},
      {"F8 opt-out of one number: that number",
       [](auto& f, auto&) {
         f.opt_outs.push_back(OptOut{Channel::kCall, "+13125550100", Utc(2025, 7, 1, 0, 0)});
       },
       "BLOCK F8"},
      {"F8 opt-out of one number: another number",
       [](auto& f, auto& a) {
         f.opt_outs.push_back(OptOut{Channel::kCall, "+13125550100", Utc(2025, 7, 1, 0, 0)});
         a.target = "+13125550101";
       },
       "ALLOW"},
      {"F8 texts opted out: confirmation text",
       [](auto& f, auto& a) {
         f.opt_outs.push_back(OptOut{Channel::kText, "", Utc(2025, 7, 1, 0, 0)});
         a = Message(ActionKind::kText, "+13125550100");
         a.is_opt_out_confirmation = true;
       },
       "ALLOW"},
      {"F8 texts opted out: another text",
       [](auto& f, auto& a) {
         f.opt_outs.push_back(OptOut{Channel::kText, "", Utc(2025, 7, 1, 0, 0)});
         a = Message(ActionKind::kText, "+13125550100");
       },
       "BLOCK F8"},
      {"F8 e-mail opted out: a notice the law requires",
       [](auto& f, auto& a) {
         f.opt_outs.push_back(OptOut{Channel::kEmail, "", Utc(2025, 7, 1, 0, 0)});
         a = Message(ActionKind::kEmail);
         a.required_by_law = true;
       },
       "ALLOW"},
      {"F9 e-mail without opt-out line",
       [](auto&, auto& a) {
         a = Message(ActionKind::kEmail);
         a.has_opt_out_notice = false;
       },
       "BLOCK F9"},
      {"F9 text without opt-out line",
       [](auto&, auto& a) {
         a = Message(ActionKind::kText, "+13125550100");
         a.has_opt_out_notice = false;
       },
       "BLOCK F9"},
      {"F10 letter without debt-collector disclosure",
       [](auto&, auto& a) {
         a = Message(ActionKind::kLetter, "1 Main St");
         a.has_debt_collector_disclosure = false;
       },
       "BLOCK F10"},
      {"F10 initial letter with only the short disclosure",
       [](auto&, auto& a) {
         a = Message(ActionKind::kLetter, "1 Main St");
         a.is_initial_communication = true;
       },
       "BLOCK F10"},
      {"F10 initial letter with the full disclosure",
       [](auto&, auto& a) {
         a = Message(ActionKind::kLetter, "1 Main St");
         a.is_initial_communication = true;
         a.has_initial_disclosure = true;
       },
       "ALLOW"},
      {"F10 limited-content voicemail needs none",
       [](auto&, auto& a) {
         a.kind = ActionKind::kVoicemail;
         a.is_limited_content_voicemail = true;
       },
       "ALLOW"},
      {"F10 a full voicemail without disclosure",
       [](auto&, auto& a) { a.kind = ActionKind::kVoicemail; }, "BLOCK F10"},
      {"creditor: F5-F10 do not apply",
       [&](auto& f, auto& a) {
         attorney(f);
         f.reg_f_applies = false;
         a = Message(ActionKind::kEmail);
         a.has_opt_out_notice = false;
       },
       "ALLOW"},
  };
  RunFactCases(std::begin(cases), std::end(cases), noon, [] { return Call(); });
}

BOOST_AUTO_TEST_CASE(every_blocking_rule_is_listed) {
  CaseFacts f = Facts();
  f.cease_received_at = At(kChicago, 2025, 7, 14, 9, 0);
  f.opt_outs.push_back(OptOut{Channel::kEmail, "", Utc(2025, 7, 1, 0, 0)});
  Action a = Message(ActionKind::kEmail);
  a.has_opt_out_notice = false;
  Decision d = Eval(f, {}, a, At(kChicago, 2025, 7, 15, 22, 0));
  BOOST_TEST(Summary(d) == "BLOCK F7");
  BOOST_TEST(d.also_blocked_by == (std::vector<std::string>{"F8", "F9", "F4"}));
}

// ---- F11 ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(f11_validation_notice_deadline) {
  CaseFacts f = Facts();
  f.first_communication_at = At(kChicago, 2025, 9, 1, 10, 0);
  Action letter = Message(ActionKind::kLetter, "1 Main St");
  BOOST_TEST(Summary(Eval(f, {}, letter, At(kChicago, 2025, 9, 6, 20, 0))) == "ALLOW");  // day 5
  Decision overdue = Eval(f, {}, letter, At(kChicago, 2025, 9, 7, 9, 0));
  BOOST_TEST(Summary(overdue) == "ALLOW_WITH_FLAGS F11");
  BOOST_TEST(HasFlag(overdue, "VALIDATION_NOTICE_OVERDUE"));

  CaseFacts late = f;
  late.validation_notice_sent_at = At(kChicago, 2025, 9, 8, 9, 0);
  BOOST_TEST(
      HasFlag(Eval(late, {}, letter, At(kChicago, 2025, 9, 10, 9, 0)), "VALIDATION_NOTICE_LATE"));
  CaseFacts on_time = f;
  on_time.validation_notice_sent_at = At(kChicago, 2025, 9, 6, 9, 0);
  BOOST_TEST(Summary(Eval(on_time, {}, letter, At(kChicago, 2025, 9, 10, 9, 0))) == "ALLOW");
  CaseFacts paid = f;
  paid.paid_in_full = true;
  BOOST_TEST(Summary(Eval(paid, {}, letter, At(kChicago, 2025, 9, 10, 9, 0))) == "ALLOW");
  CaseFacts in_initial = f;
  in_initial.validation_in_initial_communication = true;
  BOOST_TEST(Summary(Eval(in_initial, {}, letter, At(kChicago, 2025, 9, 10, 9, 0))) == "ALLOW");
  // Counted in business days, by policy: Sep 1 2025 is Labor Day; Sep 8 is the fifth.
  v1::CompliancePolicy business = DefaultPolicy();
  business.set_validation_notice_deadline_business_days(true);
  BOOST_TEST(Summary(Eval(f, {}, letter, At(kChicago, 2025, 9, 8, 20, 0), business)) == "ALLOW");
  BOOST_TEST(Summary(Eval(f, {}, letter, At(kChicago, 2025, 9, 9, 9, 0), business)) ==
             "ALLOW_WITH_FLAGS F11");
}

// ---- F13 details ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(f13_partial_oral_and_original_creditor) {
  CaseFacts f = Facts();
  f.validation_notice_sent_at = At(kChicago, 2025, 12, 1, 9, 0);
  const absl::Time dec16 = At(kChicago, 2025, 12, 16, 10, 0);
  Action demand = OfKind(ActionKind::kDemand);
  demand.has_debt_collector_disclosure = true;

  CaseFacts partial = f;
  partial.disputes.push_back(Dispute{
      "D1", true, DisputeForm::kWritten, At(kChicago, 2025, 12, 15, 9, 0), true, {}, false, {}});
  BOOST_TEST(Summary(Eval(partial, {}, demand, dec16)) == "BLOCK F13");
  demand.limited_to_undisputed_part = true;
  BOOST_TEST(Summary(Eval(partial, {}, demand, dec16)) == "ALLOW");
  demand.limited_to_undisputed_part = false;

  CaseFacts oral = f;
  oral.disputes.push_back(Dispute{
      "D1", true, DisputeForm::kOral, At(kChicago, 2025, 12, 15, 9, 0), false, {}, false, {}});
  BOOST_TEST(Summary(Eval(oral, {}, demand, dec16)) == "ALLOW");

  CaseFacts creditor = f;
  creditor.disputes.push_back(Dispute{
      "D1", false, DisputeForm::kWritten, At(kChicago, 2025, 12, 15, 9, 0), false, {}, true, {}});
  BOOST_TEST(Summary(Eval(creditor, {}, demand, dec16)) == "BLOCK F13");
  creditor.disputes[0].original_creditor_sent_at = At(kChicago, 2025, 12, 16, 9, 0);
  BOOST_TEST(Summary(Eval(creditor, {}, demand, dec16)) == "ALLOW");

  // The dispute is about D2; D1 may still be collected.
  CaseFacts other = f;
  other.debt_ids = {"D1", "D2"};
  other.disputes.push_back(Dispute{
      "D2", true, DisputeForm::kWritten, At(kChicago, 2025, 12, 15, 9, 0), false, {}, false, {}});
  BOOST_TEST(Summary(Eval(other, {}, demand, dec16)) == "ALLOW");
  // The verification itself is not collection.
  Action notice = Message(ActionKind::kLetter, "1 Main St");
  notice.required_by_law = true;
  BOOST_TEST(Summary(Eval(partial, {}, notice, dec16)) == "ALLOW");
}

// ---- F14 ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(f14_payment_application_and_postdated_cheques) {
  CaseFacts f = Facts();
  f.debt_ids = {"D1", "D2"};
  f.disputes.push_back(Dispute{
      "D2", true, DisputeForm::kWritten, At(kChicago, 2025, 3, 1, 9, 0), false, {}, false, {}});
  const absl::Time now = At(kChicago, 2025, 3, 10, 10, 0);

  Action post = OfKind(ActionKind::kPaymentPosting);
  post.debt_ids = {"D1"};
  BOOST_TEST(Summary(Eval(f, {}, post, now)) == "ALLOW");
  post.debt_ids = {"D2"};
  BOOST_TEST(Summary(Eval(f, {}, post, now)) == "BLOCK F14");  // disputed
  CaseFacts undisputed = f;
  undisputed.disputes.clear();
  post.consumer_directed_debt_ids = {"D1"};
  BOOST_TEST(Summary(Eval(undisputed, {}, post, now)) == "BLOCK F14");  // not as directed
  post.consumer_directed_debt_ids = {"D2"};
  BOOST_TEST(Summary(Eval(undisputed, {}, post, now)) == "ALLOW");

  // Cheques. Received Monday 2025-03-03.
  Action cheque = OfKind(ActionKind::kPaymentPosting);
  cheque.cheque_received_at = At(kChicago, 2025, 3, 3, 9, 0);
  cheque.cheque_date = absl::CivilDay(2025, 3, 8);  // post-dated 5 days: no notice needed
  Decision early = Eval(Facts(), {}, cheque, At(kChicago, 2025, 3, 7, 10, 0));
  BOOST_TEST(Summary(early) == "BLOCK F14");
  BOOST_TEST(*early.allowed_from == At(kChicago, 2025, 3, 8, 0, 0));
  BOOST_TEST(Summary(Eval(Facts(), {}, cheque, At(kChicago, 2025, 3, 8, 10, 0))) == "ALLOW");

  cheque.cheque_date = absl::CivilDay(2025, 3, 14);             // post-dated 11 days: notice needed
  const absl::Time deposit = At(kChicago, 2025, 3, 14, 10, 0);  // Friday
  BOOST_TEST(Summary(Eval(Facts(), {}, cheque, deposit)) == "BLOCK F14");
  cheque.postdated_notice_sent_at = At(kChicago, 2025, 3, 11, 9, 0);  // Tue: 3 business days
  BOOST_TEST(Summary(Eval(Facts(), {}, cheque, deposit)) == "ALLOW");
  cheque.postdated_notice_sent_at = At(kChicago, 2025, 3, 12, 9, 0);  // Wed: 2 business days
  Decision too_soon = Eval(Facts(), {}, cheque, deposit);
  BOOST_TEST(Summary(too_soon) == "BLOCK F14");
  BOOST_TEST(*too_soon.allowed_from == At(kChicago, 2025, 3, 17, 0, 0));
  cheque.postdated_notice_sent_at = At(kChicago, 2025, 2, 28, 9, 0);  // Fri: 10 business days
  BOOST_TEST(Summary(Eval(Facts(), {}, cheque, deposit)) == "ALLOW");
  cheque.postdated_notice_sent_at = At(kChicago, 2025, 2, 27, 9, 0);  // Thu: 11 business days
  BOOST_TEST(Summary(Eval(Facts(), {}, cheque, deposit)) == "BLOCK F14");
}

// ---- F15 - F18 ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(f15_to_f18) {
  const absl::Time may1 = At(kChicago, 2025, 5, 1, 10, 0);
  auto barred = [](CaseFacts& f) { f.limitations_last_day = absl::CivilDay(2025, 4, 30); };
  const FactCase cases[] = {
      {"F15 proof of claim in bankruptcy",
       [&](auto& f, auto& a) {
         barred(f);
         a = OfKind(ActionKind::kLegalReferral);
         a.bankruptcy_proof_of_claim = true;
       },
       "ALLOW"},
      {"F15 letter that threatens suit",
       [&](auto& f, auto& a) {
         barred(f);
         a = Message(ActionKind::kLetter, "1 Main St");
         a.threatens_suit = true;
       },
       "BLOCK F15"},
      {"F15 letter without a threat",
       [&](auto& f, auto& a) {
         barred(f);
         a = Message(ActionKind::kLetter, "1 Main St");
       },
       "ALLOW"},
      {"F15 threat before the limit ran out",
       [](auto& f, auto& a) {
         f.limitations_last_day = absl::CivilDay(2025, 5, 1);
         a = Message(ActionKind::kLetter, "1 Main St");
         a.threatens_suit = true;
       },
       "ALLOW"},
      {"F17 paid: agency placement",
       [](auto& f, auto& a) {
         f.paid_in_full = true;
         a = OfKind(ActionKind::kAgencyPlacement);
       },
       "BLOCK F17"},
      {"F17 settled: sale",
       [](auto& f, auto& a) {
         f.settled = true;
         a = OfKind(ActionKind::kDebtSale);
       },
       "BLOCK F17"},
      {"F17 identity theft: sale",
       [](auto& f, auto& a) {
         f.identity_theft = true;
         a = OfKind(ActionKind::kDebtSale);
       },
       "BLOCK F17"},
      {"F17 open debt: sale", [](auto&, auto& a) { a = OfKind(ActionKind::kDebtSale); }, "ALLOW"},
      {"F18 purge within 3 years of the last activity",
       [](auto& f, auto& a) {
         f.last_collection_activity_at = At(kChicago, 2022, 5, 2, 10, 0);
         a = OfKind(ActionKind::kPurgeRecords);
       },
       "BLOCK F18"},
      {"F18 purge on the third anniversary",
       [](auto& f, auto& a) {
         f.last_collection_activity_at = At(kChicago, 2022, 5, 1, 10, 0);
         a = OfKind(ActionKind::kPurgeRecords);
       },
       "ALLOW"},
      {"F18 purge with the last activity unknown",
       [](auto&, auto& a) { a = OfKind(ActionKind::kPurgeRecords); }, "BLOCK F18"},
      {"F18 call recording 3 years old",
       [](auto&, auto& a) {
         a = OfKind(ActionKind::kPurgeRecords);
         a.purge_scope = PurgeScope::kCallRecording;
         a.record_time = At(kChicago, 2022, 4, 30, 10, 0);
       },
       "ALLOW"},
      {"F18 call recording under 3 years old",
       [](auto&, auto& a) {
         a = OfKind(ActionKind::kPurgeRecords);
         a.purge_scope = PurgeScope::kCallRecording;
         a.record_time = At(kChicago, 2022, 5, 2, 10, 0);
       },
       "BLOCK F18"},
  };
  RunFactCases(std::begin(cases), std::end(cases), may1, [] { return Call(); });

  CaseFacts f = Facts();
  f.last_collection_activity_at = At(kChicago, 2022, 5, 2, 10, 0);
  Decision d = Eval(f, {}, OfKind(ActionKind::kPurgeRecords), may1);
  BOOST_TEST(FormatAllowedFrom(d) == "2025-05-02T00:00 America/Chicago");
}

BOOST_AUTO_TEST_CASE(f16_conversation_or_first_report_done) {
  CaseFacts f = Facts();
  const absl::Time now = At(kChicago, 2025, 5, 3, 10, 0);
  BOOST_TEST(Summary(Eval(f, {}, BureauReport(), now)) == "BLOCK F16");
  CaseFacts talked = f;
  talked.bureau.conversation_held = true;
  BOOST_TEST(Summary(Eval(talked, {}, BureauReport(), now)) == "ALLOW");
  ContactHistory h;
  h.attempts.push_back(
      OutboundCall("c1", At(kChicago, 2025, 5, 2, 10, 0), ContactOutcome::kRightPartyConversation));
  BOOST_TEST(Summary(Eval(f, h, BureauReport(), now)) == "ALLOW");
  CaseFacts reported = f;
  reported.bureau.first_report_done = true;
  BOOST_TEST(Summary(Eval(reported, {}, BureauReport(), now)) == "ALLOW");
  // An undeliverable notice after the 14 quiet days does not undo them.
  CaseFacts late_bounce = f;
  late_bounce.bureau.messages.push_back(SentMessage{
      Channel::kEmail, At(kChicago, 2025, 5, 2, 15, 0), At(kChicago, 2025, 5, 20, 9, 0)});
  BOOST_TEST(Summary(Eval(late_bounce, {}, BureauReport(), At(kChicago, 2025, 5, 21, 9, 0))) ==
             "ALLOW");
}

// ---- C1 - C4, O1, O2 ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(c2_to_c4_credit_reporting) {
  CaseFacts f = Facts();
  f.bureau.first_report_done = true;
  f.date_of_first_delinquency = absl::CivilDay(2018, 1, 15);
  f.original_balance_minor = 120000;
  // C3: 2018-01-15 + 180 days = 2018-07-14; + 7 years = 2025-07-14.
  BOOST_TEST(Summary(Eval(f, {}, BureauReport(), At(kChicago, 2025, 7, 13, 23, 0))) == "ALLOW");
  BOOST_TEST(Summary(Eval(f, {}, BureauReport(), At(kChicago, 2025, 7, 14, 0, 0))) == "BLOCK C3");
  Action moved = BureauReport();
  moved.reported_dofd = absl::CivilDay(2019, 3, 1);  // a payment never restarts the DOFD
  BOOST_TEST(Summary(Eval(f, {}, moved, At(kChicago, 2024, 1, 10, 10, 0))) == "BLOCK C3");
  moved.reported_dofd = absl::CivilDay(2018, 1, 15);
  BOOST_TEST(Summary(Eval(f, {}, moved, At(kChicago, 2024, 1, 10, 10, 0))) == "ALLOW");

  // C2: a paid debt reported as still assigned to collections.
  CaseFacts paid = f;
  paid.paid_in_full = true;
  Decision stale = Eval(paid, {}, BureauReport(), At(kChicago, 2024, 1, 10, 10, 0));
  BOOST_TEST(Summary(stale) == "ALLOW_WITH_FLAGS C2");
  Action paid_report = BureauReport();
  paid_report.account_status = "62";
  BOOST_TEST(Summary(Eval(paid, {}, paid_report, At(kChicago, 2024, 1, 10, 10, 0))) == "ALLOW");

  // C4 medical.
  CaseFacts medical = Facts();
  medical.bureau.first_report_done = true;
  medical.debt_type = DebtType::kMedical;
  medical.date_of_first_delinquency = absl::CivilDay(2024, 1, 10);
  medical.original_balance_minor = 60000;
  const absl::Time now = At(kChicago, 2025, 1, 10, 10, 0);  // 366 days after the DOFD
  BOOST_TEST(Summary(Eval(medical, {}, BureauReport(), now)) == "ALLOW");
  Decision young = Eval(medical, {}, BureauReport(), At(kChicago, 2025, 1, 8, 10, 0));
  BOOST_TEST(Summary(young) == "ALLOW_WITH_FLAGS C4");
  BOOST_TEST(HasFlag(young, "MEDICAL_NOT_DISPLAYED"));
  CaseFacts small = medical;
  small.original_balance_minor = 49999;
  BOOST_TEST(Summary(Eval(small, {}, BureauReport(), now)) == "ALLOW_WITH_FLAGS C4");
  small.original_balance_minor = 50000;
  BOOST_TEST(Summary(Eval(small, {}, BureauReport(), now)) == "ALLOW");
  CaseFacts paid_medical = medical;
  paid_medical.paid_in_full = true;
  Action report62 = BureauReport();
  report62.account_status = "62";
  BOOST_TEST(Summary(Eval(paid_medical, {}, report62, now)) == "ALLOW_WITH_FLAGS C4");
  CaseFacts not_medical = small;
  not_medical.debt_type = DebtType::kOther;
  not_medical.original_balance_minor = 100;
  BOOST_TEST(Summary(Eval(not_medical, {}, BureauReport(), now)) == "ALLOW");
}

BOOST_AUTO_TEST_CASE(o1_bankruptcy_and_o2_scra) {
  const absl::Time noon = At(kChicago, 2025, 7, 15, 12, 0);
  const FactCase cases[] = {
      {"O1 pending: call", [](auto& f, auto&) { f.bankruptcy_pending = true; }, "BLOCK O1"},
      {"O1 pending: demand",
       [](auto& f, auto& a) {
         f.bankruptcy_pending = true;
         a = OfKind(ActionKind::kDemand);
       },
       "BLOCK O1"},
      {"O1 pending: legal referral",
       [](auto& f, auto& a) {
         f.bankruptcy_pending = true;
         a = OfKind(ActionKind::kLegalReferral);
       },
       "BLOCK O1"},
      {"O1 pending: promise to pay",
       [](auto& f, auto& a) {
         f.bankruptcy_pending = true;
         a = OfKind(ActionKind::kPromiseToPay);
       },
       "BLOCK O1"},
      {"O1 discharged: letter, creditor too",
       [](auto& f, auto& a) {
         f.bankruptcy_discharged = true;
         f.reg_f_applies = false;
         a = Message(ActionKind::kLetter, "1 Main St");
       },
       "BLOCK O1"},
      {"O1 pending: payment posting is not blocked",
       [](auto& f, auto& a) {
         f.bankruptcy_pending = true;
         a = OfKind(ActionKind::kPaymentPosting);
       },
       "ALLOW"},
      {"O2 7% on a servicemember's pre-service debt",
       [](auto& f, auto& a) {
         f.servicemember_active = true;
         a = OfKind(ActionKind::kInterestAccrual);
         a.rate_basis_points = 700;
       },
       "BLOCK O2"},
      {"O2 exactly 6%",
       [](auto& f, auto& a) {
         f.servicemember_active = true;
         a = OfKind(ActionKind::kInterestAccrual);
         a.rate_basis_points = 600;
       },
       "ALLOW"},
      {"O2 debt incurred during service",
       [](auto& f, auto& a) {
         f.servicemember_active = true;
         f.debt_predates_service = false;
         a = OfKind(ActionKind::kInterestAccrual);
         a.rate_basis_points = 1800;
       },
       "ALLOW"},
      {"O2 creditor too",
       [](auto& f, auto& a) {
         f.servicemember_active = true;
         f.reg_f_applies = false;
         a = OfKind(ActionKind::kInterestAccrual);
         a.rate_basis_points = 601;
       },
       "BLOCK O2"},
  };
  RunFactCases(std::begin(cases), std::end(cases), noon, [] { return Call(); });
}

// ---- State overlays ------------------------------------------------------------------------

ContactAttempt MaContact(const std::string& id, absl::Time t, ContactOutcome outcome,
                         PhoneType type = PhoneType::kCell) {
  ContactAttempt a = OutboundCall(id, t, outcome);
  a.phone_type = type;
  return a;
}

BOOST_AUTO_TEST_CASE(s_ma_massachusetts) {
  CaseFacts f = Facts(kNewYork);
  f.jurisdiction = "MA";
  f.reg_f_applies = false;  // a creditor: the overlay still applies
  ContactHistory h;
  h.attempts.push_back(
      MaContact("m1", At(kNewYork, 2025, 6, 2, 10, 0), ContactOutcome::kVoicemailLeft));
  h.attempts.push_back(
      MaContact("m2", At(kNewYork, 2025, 6, 4, 10, 0), ContactOutcome::kAnsweringMachineNoMessage));
  Decision d = Eval(f, h, Call(), At(kNewYork, 2025, 6, 5, 10, 0));
  BOOST_TEST(Summary(d) == "BLOCK S-MA");
  BOOST_TEST(d.counters.at("ma_contacts_in_window") == 2);
  BOOST_TEST(FormatAllowedFrom(d) == "2025-06-09T00:00 America/New_York");
  BOOST_TEST(Summary(Eval(f, h, Call(), At(kNewYork, 2025, 6, 9, 10, 0))) == "ALLOW");

  // A text counts and is limited too.
  Action text = Message(ActionKind::kText, "+13125550100");
  BOOST_TEST(Summary(Eval(f, h, text, At(kNewYork, 2025, 6, 5, 10, 0))) == "BLOCK S-MA");

  // Rang out with no way to leave a message: does not count.
  ContactHistory no_message = h;
  no_message.attempts[1].outcome = ContactOutcome::kNoAnswer;
  BOOST_TEST(Summary(Eval(f, no_message, Call(), At(kNewYork, 2025, 6, 5, 10, 0))) == "ALLOW");

  // Work numbers: 2 in 30 days, counted apart from personal ones.
  ContactHistory work;
  work.attempts.push_back(MaContact("w1", At(kNewYork, 2025, 6, 1, 10, 0),
                                    ContactOutcome::kVoicemailLeft, PhoneType::kWork));
  work.attempts.push_back(MaContact("w2", At(kNewYork, 2025, 6, 20, 10, 0),
                                    ContactOutcome::kRightPartyConversation, PhoneType::kWork));
  Action work_call = Call();
  work_call.phone_type = PhoneType::kWork;
  BOOST_TEST(Summary(Eval(f, work, work_call, At(kNewYork, 2025, 6, 30, 10, 0))) == "BLOCK S-MA");
  BOOST_TEST(Summary(Eval(f, work, work_call, At(kNewYork, 2025, 7, 1, 10, 0))) == "ALLOW");
  BOOST_TEST(Summary(Eval(f, work, Call(), At(kNewYork, 2025, 6, 30, 10, 0))) == "ALLOW");

  // Per debt.
  CaseFacts two = f;
  two.debt_ids = {"D1", "D2"};
  BOOST_TEST(Summary(Eval(two, h, Call({"D2"}), At(kNewYork, 2025, 6, 5, 10, 0))) == "ALLOW");

  // A response to the debtor's own request is not creditor-initiated.
  ContactHistory asked = h;
  ContactAttempt inbound =
      OutboundCall("in", At(kNewYork, 2025, 6, 5, 9, 0), ContactOutcome::kVoicemailLeft);
  inbound.direction = Direction::kInbound;
  asked.attempts.push_back(inbound);
  Action callback = Call();
  callback.in_reply_to = "in";
  BOOST_TEST(Summary(Eval(f, asked, callback, At(kNewYork, 2025, 6, 5, 10, 0))) == "ALLOW");

  // Elsewhere the overlay is off.
  CaseFacts il = f;
  il.jurisdiction = "IL";
  Decision off = Eval(il, h, Call(), At(kNewYork, 2025, 6, 5, 10, 0));
  BOOST_TEST(Summary(off) == "ALLOW");
  BOOST_TEST(!Evaluated(off, "S-MA"));
}

BOOST_AUTO_TEST_CASE(s_nyc_new_york_city) {
  CaseFacts f = Facts(kNewYork);
  f.jurisdiction = "NY";
  f.nyc = true;
  ContactHistory h;
  h.attempts.push_back(OutboundCall("n1", At(kNewYork, 2025, 6, 2, 10, 0)));
  ContactAttempt letter =
      OutboundCall("n2", At(kNewYork, 2025, 6, 3, 10, 0), ContactOutcome::kDelivered);
  letter.channel = Channel::kLetter;
  h.attempts.push_back(letter);
  ContactAttempt busy = OutboundCall("n3", At(kNewYork, 2025, 6, 4, 10, 0), ContactOutcome::kBusy);
  h.attempts.push_back(busy);

  Decision d = Eval(f, h, Call(), At(kNewYork, 2025, 6, 5, 10, 0));
  BOOST_TEST(Summary(d) == "BLOCK S-NYC");
  BOOST_TEST(d.counters.at("nyc_contacts_in_window") == 3);
  BOOST_TEST(FormatAllowedFrom(d) == "2025-06-09T00:00 America/New_York");
  BOOST_TEST(Summary(Eval(f, h, Call(), At(kNewYork, 2025, 6, 9, 10, 0))) == "ALLOW");

  // E-mail needs consent.
  ContactHistory quiet;
  Action email = Message(ActionKind::kEmail);
  BOOST_TEST(Summary(Eval(f, quiet, email, At(kNewYork, 2025, 6, 5, 10, 0))) == "BLOCK S-NYC");
  CaseFacts consented = f;
  consented.consents.push_back(
      ConsentRecord{ConsentScope::kElectronic, Utc(2025, 6, 1, 0, 0), {}, ""});
  BOOST_TEST(Summary(Eval(consented, quiet, email, At(kNewYork, 2025, 6, 5, 10, 0))) == "ALLOW");

  // Behind the policy flag.
  v1::CompliancePolicy off = DefaultPolicy();
  off.set_nyc_enabled(false);
  Decision disabled = Eval(f, h, Call(), At(kNewYork, 2025, 6, 5, 10, 0), off);
  BOOST_TEST(Summary(disabled) == "ALLOW");
  BOOST_TEST(!Evaluated(disabled, "S-NYC"));
}

// ---- Applicability, facts, formatting ------------------------------------------------------

BOOST_AUTO_TEST_CASE(creditor_case_evaluates_only_non_reg_f_rules) {
  CaseFacts f = Facts();
  f.reg_f_applies = false;
  Decision d = Eval(f, SevenUnansweredCalls(), Call(), At(kChicago, 2025, 10, 12, 6, 0));
  BOOST_TEST(Summary(d) == "ALLOW");
  BOOST_TEST(d.rules_evaluated == (std::vector<std::string>{"O1", "C1", "C2", "C3", "C4", "O2"}));

  Decision collector = Eval(Facts(), {}, Call(), At(kChicago, 2025, 10, 12, 12, 0));
  BOOST_TEST(collector.rules_evaluated.size() == 23u);
  BOOST_TEST(Evaluated(collector, "F1"));
  BOOST_TEST(Evaluated(collector, "F18"));
  BOOST_TEST(!Evaluated(collector, "S-MA"));
}

BOOST_AUTO_TEST_CASE(unknown_consumer_zone_fails_closed) {
  CaseFacts f = Facts("Atlantis/Capital");
  Decision d = Eval(f, {}, Call(), Utc(2025, 6, 10, 16, 0));
  BOOST_TEST(Summary(d) == "BLOCK FACTS");
  BOOST_TEST(d.reason.find("Atlantis/Capital") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(format_local) {
  BOOST_TEST(FormatLocal(At(kNewYork, 2025, 11, 11, 0, 0), kNewYork) ==
             "2025-11-11T00:00 America/New_York");
  BOOST_TEST(FormatLocal(Utc(2025, 3, 9, 12, 30), kNewYork) == "2025-03-09T08:30 America/New_York");
  BOOST_TEST(FormatLocal(Utc(2025, 3, 9, 12, 30), "Nowhere/Else") == "2025-03-09T12:30 UTC");
  BOOST_TEST(FormatAllowedFrom(Decision{}) == "");
}

// ---- A back-dated action joins every window that contains it ------------------------------

struct BackdateCase {
  const char* why;
  absl::Time at;  // the action's (business) instant
  const char* expected;
};

BOOST_AUTO_TEST_CASE(a_back_dated_call_is_judged_by_every_window_it_joins) {
  // Given seven unanswered calls Oct 6 ... 12 at 10:00 (the cap), recorded already.
  CaseFacts f = AnyHourFacts();
  const ContactHistory h = SevenUnansweredCalls();
  const BackdateCase cases[] = {
      {"dated before the first call, same day: the window Oct 6-12 would hold 8",
       At(kChicago, 2025, 10, 6, 9, 0), "BLOCK F1"},
      {"dated a day earlier: every window with it holds at most 7",
       At(kChicago, 2025, 10, 5, 10, 0), "ALLOW"},
      {"dated a month earlier: no window holds a recorded call", At(kChicago, 2025, 9, 12, 10, 0),
       "ALLOW"},
      {"dated Oct 9 among them: the window ending Oct 12 holds 7", At(kChicago, 2025, 10, 9, 12, 0),
       "BLOCK F1"},
      {"dated Oct 12 before the last call, the window ending Oct 12 is full",
       At(kChicago, 2025, 10, 12, 8, 0), "BLOCK F1"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.why) { BOOST_TEST(Summary(Eval(f, h, Call(), c.at)) == c.expected); }
  }
  // A later window is the one that overfills: its reason says which, and counts what it saw.
  Decision d = Eval(f, h, Call(), At(kChicago, 2025, 10, 6, 9, 0));
  BOOST_TEST(d.reason.find("ending 2025-10-12") != std::string::npos, d.reason);
  BOOST_TEST(d.counted_event_ids.size() == 7u);
  BOOST_TEST(!d.allowed_from.has_value());

  // Rolling 7 x 24 hours: a call at Oct 6 11:00 joins the window ending at the Oct 12 call,
  // which holds all seven; one at Oct 5 09:00 joins at most the six of Oct 6 ... 11.
  v1::CompliancePolicy rolling = Policy();
  rolling.set_window_counting(v1::CompliancePolicy::WINDOW_COUNTING_ROLLING_HOURS);
  BOOST_TEST(Summary(Eval(f, h, Call(), At(kChicago, 2025, 10, 6, 11, 0), rolling)) == "BLOCK F1");
  BOOST_TEST(Summary(Eval(f, h, Call(), At(kChicago, 2025, 10, 5, 9, 0), rolling)) == "ALLOW");
}

BOOST_AUTO_TEST_CASE(a_back_dated_contact_joins_the_state_windows_too) {
  CaseFacts f = Facts(kNewYork);
  f.jurisdiction = "MA";
  f.reg_f_applies = false;
  ContactHistory h;
  h.attempts.push_back(
      MaContact("m1", At(kNewYork, 2025, 6, 4, 10, 0), ContactOutcome::kVoicemailLeft));
  h.attempts.push_back(
      MaContact("m2", At(kNewYork, 2025, 6, 6, 10, 0), ContactOutcome::kRightPartyConversation));
  // June 1 joins the window Jun 1-7, which holds both later contacts; May 28 joins none.
  BOOST_TEST(Summary(Eval(f, h, Call(), At(kNewYork, 2025, 6, 1, 10, 0))) == "BLOCK S-MA");
  BOOST_TEST(Summary(Eval(f, h, Call(), At(kNewYork, 2025, 5, 28, 10, 0))) == "ALLOW");
}

// ---- Outcomes Massachusetts counts ----------------------------------------------------------

struct OutcomeCase {
  const char* why;
  ContactOutcome outcome;
  const char* expected;  // a third call on Jun 5 after two with this outcome on Jun 2 and 4
};

BOOST_AUTO_TEST_CASE(s_ma_counts_the_outcomes_the_regulation_names) {
  CaseFacts f = Facts(kNewYork);
  f.jurisdiction = "MA";
  f.reg_f_applies = false;
  const OutcomeCase cases[] = {
      {"unanswered where a message could have been left", ContactOutcome::kNoAnswerMessagePossible,
       "BLOCK S-MA"},
      {"answering machine, no message", ContactOutcome::kAnsweringMachineNoMessage, "BLOCK S-MA"},
      {"message left", ContactOutcome::kVoicemailLeft, "BLOCK S-MA"},
      {"live call", ContactOutcome::kRightPartyConversation, "BLOCK S-MA"},
      {"rang out with no way to leave a message", ContactOutcome::kNoAnswer, "ALLOW"},
      {"busy", ContactOutcome::kBusy, "ALLOW"},
      {"not in service", ContactOutcome::kNotInService, "ALLOW"},
  };
  for (const auto& c : cases) {
    ContactHistory h;
    h.attempts.push_back(MaContact("m1", At(kNewYork, 2025, 6, 2, 10, 0), c.outcome));
    h.attempts.push_back(MaContact("m2", At(kNewYork, 2025, 6, 4, 10, 0), c.outcome));
    BOOST_TEST_CONTEXT(c.why) {
      BOOST_TEST(Summary(Eval(f, h, Call(), At(kNewYork, 2025, 6, 5, 10, 0))) == c.expected);
    }
  }
}

// ---- Consent is a fact on the account --------------------------------------------------------

BOOST_AUTO_TEST_CASE(only_recorded_consent_exempts_a_call) {
  CaseFacts f = AnyHourFacts();
  ContactHistory h = SevenUnansweredCalls();
  Decision none = Eval(f, h, Call(), At(kChicago, 2025, 10, 12, 16, 0));
  BOOST_TEST(Summary(none) == "BLOCK F1");
  BOOST_TEST(!none.exempt_by_consent);
  // Consent given directly on Oct 12: the call that day is exempt and says so.
  f.consents.push_back(
      {ConsentScope::kCallFrequency, At(kChicago, 2025, 10, 12, 12, 0), std::nullopt, "", {}});
  Decision given = Eval(f, h, Call(), At(kChicago, 2025, 10, 12, 16, 0));
  BOOST_TEST(Summary(given) == "ALLOW");
  BOOST_TEST(given.exempt_by_consent);
  // Consent day is day 1: on day 8 (Oct 19) it no longer covers a call.
  BOOST_TEST(!Eval(f, h, Call(), At(kChicago, 2025, 10, 19, 10, 0)).exempt_by_consent);
}

// ---- Commercial debts: the customer-level policy (B1, B2) -------------------------------------

// A business's debt, placed with a third-party collector: Reg F would bind the collector for
// a consumer's debt, not for this one.
CaseFacts CommercialFacts() {
  CaseFacts f = Facts(kChicago);
  f.commercial = true;
  return f;
}

BOOST_AUTO_TEST_CASE(commercial_debts_skip_the_consumer_rules) {
  // Monday 2025-10-06 10:00, a consumer's debt with a written dispute, in New York City rules
  // and Massachusetts: none of it applies to a business.
  CaseFacts f = CommercialFacts();
  f.jurisdiction = "MA";
  f.nyc = true;
  Dispute written;
  written.received_at = At(kChicago, 2025, 10, 1, 9, 0);
  f.disputes.push_back(written);
  const absl::Time monday = At(kChicago, 2025, 10, 6, 10, 0);
  Decision call = Eval(f, {}, Call(), monday);
  BOOST_TEST(Summary(call) == "ALLOW");
  BOOST_TEST(call.rules_evaluated == (std::vector<std::string>{"O1", "O2", "B2", "B1"}));
  // No credit-reporting rule: a business debt goes to the business bureaus, not under FCRA.
  Decision report = Eval(f, {}, BureauReport(), monday);
  BOOST_TEST(Summary(report) == "ALLOW");
  BOOST_TEST(!Evaluated(report, "C1"));
  BOOST_TEST(!Evaluated(report, "F16"));
  // An e-mail needs no opt-out line or debt-collector disclosure (F9, F10).
  Action bare = Message(ActionKind::kEmail);
  bare.has_opt_out_notice = false;
  bare.has_debt_collector_disclosure = false;
  BOOST_TEST(Summary(Eval(f, {}, bare, monday)) == "ALLOW");
  // The bankruptcy stay protects a business as much as a person.
  f.bankruptcy_pending = true;
  BOOST_TEST(Summary(Eval(f, {}, Call(), monday)) == "BLOCK O1");
  // Recorded consent is a consumer's Reg F exemption: never reported for a business.
  CaseFacts consented = CommercialFacts();
  consented.consents.push_back(
      {ConsentScope::kCallFrequency, At(kChicago, 2025, 10, 6, 9, 0), std::nullopt, "", {}});
  BOOST_TEST(!Eval(consented, {}, Call(), monday).exempt_by_consent);
}

BOOST_AUTO_TEST_CASE(b1_commercial_contact_only_in_business_hours) {
  // Wednesday 2025-10-08 20:00 in Chicago: after a business's hours, within a consumer's.
  const absl::Time evening = At(kChicago, 2025, 10, 8, 20, 0);
  Decision business = Eval(CommercialFacts(), {}, Call(), evening);
  BOOST_TEST(Summary(business) == "BLOCK B1");
  BOOST_TEST(FormatAllowedFrom(business) == "2025-10-09T08:00 America/Chicago");
  BOOST_TEST(business.reason.find("08:00 to 18:00") != std::string::npos, business.reason);
  BOOST_TEST(business.reason.find("20:00:00 in America/Chicago") != std::string::npos,
             business.reason);
  BOOST_TEST(!Evaluated(business, "F4"));
  Decision consumer = Eval(Facts(kChicago), {}, Call(), evening);
  BOOST_TEST(Summary(consumer) == "ALLOW");
  BOOST_TEST(Summary(Eval(Facts(kChicago), {}, Call(), At(kChicago, 2025, 10, 8, 21, 0, 1))) ==
             "BLOCK F4");

  const struct {
    const char* why;
    Action action;
    absl::Time at;
    const char* expected;
    const char* allowed_from;  // "" = none
  } cases[] = {
      {"08:00 sharp (the ends are included)", Call(), At(kChicago, 2025, 10, 8, 8, 0), "ALLOW",
       ""},
      {"18:00 sharp", Call(), At(kChicago, 2025, 10, 8, 18, 0), "ALLOW", ""},
      {"18:00:01", Call(), At(kChicago, 2025, 10, 8, 18, 0, 1), "BLOCK B1",
       "2025-10-09T08:00 America/Chicago"},
      {"07:59 waits for the same morning", Call(), At(kChicago, 2025, 10, 8, 7, 59), "BLOCK B1",
       "2025-10-08T08:00 America/Chicago"},
      {"a text after hours", Message(ActionKind::kText, "+13125550100"), evening, "BLOCK B1",
       "2025-10-09T08:00 America/Chicago"},
      {"a visit after hours", OfKind(ActionKind::kVisit), evening, "BLOCK B1",
       "2025-10-09T08:00 America/Chicago"},
      {"a voicemail after hours", OfKind(ActionKind::kVoicemail), evening, "BLOCK B1",
       "2025-10-09T08:00 America/Chicago"},
      {"an e-mail waits in the inbox", Message(ActionKind::kEmail), evening, "ALLOW", ""},
      {"a letter", Message(ActionKind::kLetter, "1 Main St"), evening, "ALLOW", ""},
      // Saturday: the next business day is Tuesday, Monday 2025-10-13 being Columbus Day.
      {"Saturday 10:00", Call(), At(kChicago, 2025, 10, 11, 10, 0), "BLOCK B1",
       "2025-10-14T08:00 America/Chicago"},
      {"a federal holiday", Call(), At(kChicago, 2025, 10, 13, 10, 0), "BLOCK B1",
       "2025-10-14T08:00 America/Chicago"},
      {"Friday after hours waits for Monday", Call(), At(kChicago, 2025, 10, 17, 18, 30),
       "BLOCK B1", "2025-10-20T08:00 America/Chicago"},
      {"an e-mail on Saturday", Message(ActionKind::kEmail), At(kChicago, 2025, 10, 11, 10, 0),
       "ALLOW", ""},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.why) {
      Decision d = Eval(CommercialFacts(), {}, c.action, c.at);
      BOOST_TEST(Summary(d) == c.expected);
      BOOST_TEST(FormatAllowedFrom(d) == c.allowed_from);
      BOOST_TEST(Evaluated(d, "B1"));
    }
  }
  Decision saturday = Eval(CommercialFacts(), {}, Call(), At(kChicago, 2025, 10, 11, 10, 0));
  BOOST_TEST(saturday.reason.find("Saturday 2025-10-11, not a business day") != std::string::npos,
             saturday.reason);
  Decision holiday = Eval(CommercialFacts(), {}, Call(), At(kChicago, 2025, 10, 13, 10, 0));
  BOOST_TEST(holiday.reason.find("(Columbus Day)") != std::string::npos, holiday.reason);

  // The hours are policy data, read in the account's zone.
  v1::CompliancePolicy late = Policy();
  late.mutable_commercial_contact_end()->set_hours(21);
  BOOST_TEST(Summary(Eval(CommercialFacts(), {}, Call(), evening, late)) == "ALLOW");
  CaseFacts la = CommercialFacts();
  la.time_zone = kLosAngeles;
  Decision pacific = Eval(la, {}, Call(), evening);  // 18:00 in Los Angeles
  BOOST_TEST(Summary(pacific) == "ALLOW");
  // Exclusive ends (time_of_day_boundaries_inclusive false): 08:00:00 is not yet allowed.
  v1::CompliancePolicy exclusive = Policy();
  exclusive.set_time_of_day_boundaries_inclusive(false);
  Decision sharp = Eval(CommercialFacts(), {}, Call(), At(kChicago, 2025, 10, 8, 8, 0), exclusive);
  BOOST_TEST(Summary(sharp) == "BLOCK B1");
  BOOST_TEST(*sharp.allowed_from == At(kChicago, 2025, 10, 8, 8, 0, 1));
}

// Calls in business hours, Monday 2025-10-06 ... Friday 10-10, at 09:00 and 11:00: `n` of them.
ContactHistory WeekdayCalls(int n) {
  ContactHistory h;
  for (int i = 0; i < n; ++i) {
    h.attempts.push_back(OutboundCall(absl::StrCat("call-", i + 1),
                                      At(kChicago, 2025, 10, 6 + i / 2, i % 2 == 0 ? 9 : 11, 0)));
  }
  return h;
}

BOOST_AUTO_TEST_CASE(b2_commercial_call_cadence) {
  // The 8th call in 7 days: F1 would refuse it for a consumer; for a business only B2 counts.
  const absl::Time thursday = At(kChicago, 2025, 10, 9, 14, 0);
  Decision eighth = Eval(CommercialFacts(), WeekdayCalls(7), Call(), thursday);
  BOOST_TEST(Summary(eighth) == "ALLOW");
  BOOST_TEST(!Evaluated(eighth, "F1"));
  BOOST_TEST(eighth.counters.at("commercial_calls_in_window") == 7);
  BOOST_TEST(Summary(Eval(Facts(kChicago), WeekdayCalls(7), Call(), thursday)) == "BLOCK F1");

  // The 11th: refused, with what was counted and when the window frees up.
  const absl::Time friday = At(kChicago, 2025, 10, 10, 15, 0);
  BOOST_TEST(Summary(Eval(CommercialFacts(), WeekdayCalls(9), Call(), friday)) == "ALLOW");
  Decision eleventh = Eval(CommercialFacts(), WeekdayCalls(10), Call(), friday);
  BOOST_TEST(Summary(eleventh) == "BLOCK B2");
  BOOST_TEST(eleventh.counters.at("commercial_calls_in_window") == 10);
  BOOST_TEST(eleventh.counted_event_ids.size() == 10u);
  BOOST_TEST(FormatAllowedFrom(eleventh) == "2025-10-13T00:00 America/Chicago");
  BOOST_TEST(eleventh.reason.find("at most 10") != std::string::npos, eleventh.reason);
  BOOST_TEST(eleventh.also_blocked_by.empty());

  // Counted as F1 counts: a busy signal is not an attempt that reached the line.
  ContactHistory busy = WeekdayCalls(10);
  busy.attempts[3].outcome = ContactOutcome::kBusy;
  BOOST_TEST(Summary(Eval(CommercialFacts(), busy, Call(), friday)) == "ALLOW");
  // Texts are not calls.
  BOOST_TEST(Summary(Eval(CommercialFacts(), WeekdayCalls(10),
                          Message(ActionKind::kText, "+13125550100"), friday)) == "ALLOW");
  // Per debt (F3): another debt of the business has its own count.
  CaseFacts two = CommercialFacts();
  two.debt_ids = {"D1", "D2"};
  BOOST_TEST(Summary(Eval(two, WeekdayCalls(10), Call({"D2"}), friday)) == "ALLOW");
  // Recorded consent does not lift the cap.
  CaseFacts consented = CommercialFacts();
  consented.consents.push_back(
      {ConsentScope::kCallFrequency, At(kChicago, 2025, 10, 6, 8, 0), std::nullopt, "", {}});
  BOOST_TEST(Summary(Eval(consented, WeekdayCalls(10), Call(), friday)) == "BLOCK B2");
  // 0 = no cap; the cap is policy data.
  v1::CompliancePolicy uncapped = Policy();
  uncapped.set_commercial_max_calls_per_7_days(0);
  BOOST_TEST(Summary(Eval(CommercialFacts(), WeekdayCalls(10), Call(), friday, uncapped)) ==
             "ALLOW");
  v1::CompliancePolicy three = Policy();
  three.set_commercial_max_calls_per_7_days(3);
  BOOST_TEST(Summary(Eval(CommercialFacts(), WeekdayCalls(3), Call(), friday, three)) ==
             "BLOCK B2");
  // After hours with a full week: both rules say so, the cap first (as F1 before F4).
  Decision both =
      Eval(CommercialFacts(), WeekdayCalls(10), Call(), At(kChicago, 2025, 10, 10, 19, 0));
  BOOST_TEST(Summary(both) == "BLOCK B2");
  BOOST_TEST(both.also_blocked_by == std::vector<std::string>{"B1"});
}

}  // namespace
}  // namespace collections::compliance
