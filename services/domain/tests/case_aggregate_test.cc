#define BOOST_TEST_MODULE case_aggregate
#include "services/domain/case_aggregate.h"

#include "services/compliance/policy.h"
#include "services/domain/compliance_gate.h"
#include "services/domain/hashing.h"

#include "absl/time/civil_time.h"

#include <boost/test/unit_test.hpp>

namespace collections {
namespace {

const absl::TimeZone kChicago = [] {
  absl::TimeZone tz;
  absl::LoadTimeZone("America/Chicago", &tz);
  return tz;
}();

absl::Time Local(int y, int m, int d, int hh = 12, int mm = 0) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), kChicago);
}

v1::LocalDate Date(int y, int m, int d) {
  v1::LocalDate date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

template <typename Request>
Request With(const std::string& command_id, Request r) {
  r.set_command_id(command_id);
  r.set_account_id("ACC-1");
  r.mutable_actor()->set_id("collector-7");
  r.mutable_actor()->set_role("collector");
  return r;
}

v1::OpenCaseRequest OpenRequest(v1::LocalDate due = Date(2025, 9, 1)) {
  v1::OpenCaseRequest r;
  r.set_creditor("Acme Bank");
  r.set_debtor_name("Jane Doe");
  r.set_currency("USD");
  r.mutable_balances()->set_principal_minor(100000);
  r.mutable_balances()->set_interest_minor(2500);
  r.mutable_balances()->set_fees_minor(1500);
  r.mutable_balances()->set_costs_minor(1000);
  *r.mutable_due_date() = due;
  r.set_time_zone("America/Chicago");
  r.set_jurisdiction("IL");
  auto* phone = r.mutable_contact_points()->add_phones();
  phone->set_number("+13125550100");
  phone->set_type(v1::PHONE_TYPE_CELL);
  return With("open", r);
}

v1::PostPaymentRequest Payment(const std::string& id, int64_t amount) {
  v1::PostPaymentRequest r;
  r.set_payment_id(id);
  r.mutable_amount()->set_amount_minor(amount);
  r.mutable_amount()->set_currency("USD");
  r.set_method(v1::PAYMENT_METHOD_ACH);
  return With("pay-" + id, r);
}

v1::ReversePaymentRequest Reversal(const std::string& payment_id) {
  v1::ReversePaymentRequest r;
  r.set_payment_id(payment_id);
  r.set_reason(v1::REVERSAL_REASON_NSF);
  return With("rev-" + payment_id, r);
}

// Plays the writer's part: time-driven events first, then the command, numbering events.
struct Case {
  AccountState account;
  absl::Time now = Local(2025, 10, 9);
  DomainSettings settings;
  std::vector<v1::EventEnvelope> log;

  void Append(std::vector<v1::EventEnvelope> events) {
    for (auto& e : events) {
      e.set_account_id("ACC-1");
      // As the writer does: business time is the command's unless the event carries its own.
      if (!e.has_occurred_at()) e.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(now));
      e.set_sequence(account.version() + 1);
      Evolve(account, e, StateHorizon{});
      log.push_back(e);
    }
  }
  // Moves the clock and applies what fell due. Returns the events it produced.
  std::vector<v1::EventEnvelope> AdvanceTo(absl::Time t) {
    now = t;
    auto events = DecideTime(account, now, settings);
    size_t first = log.size();
    Append(events);
    return {log.begin() + static_cast<long>(first), log.end()};
  }
  Result<std::vector<v1::EventEnvelope>> Run(const Command& command) {
    AdvanceTo(now);
    auto decided = Decide(account.version() == 0 ? nullptr : &account, command, now, settings);
    if (!decided && IsRecordedDenial(decided.error())) {
      // As the writer does: a refused privileged action is recorded (AccessDenied).
      v1::EventEnvelope denied = AccessDeniedEvent(decided.error(), command);
      *denied.mutable_actor() = CommandActor(command);
      Append({denied});
    }
    if (!decided) return decided;
    size_t first = log.size();
    Append(decided.value());
    return std::vector<v1::EventEnvelope>(log.begin() + static_cast<long>(first), log.end());
  }
  void Must(const Command& command) {
    auto r = Run(command);
    BOOST_REQUIRE_MESSAGE(r.ok(), CommandName(command)
                                      << ": " << (r.ok() ? "" : r.error().message));
  }
  Error Refused(const Command& command) {
    auto r = Run(command);
    BOOST_REQUIRE_MESSAGE(!r.ok(), CommandName(command) << " was accepted");
    return r.error();
  }
};

Case Opened() {
  Case c;
  c.Must(OpenRequest());
  return c;
}

int Code(const Error& e) { return static_cast<int>(e.code); }

std::vector<std::string> Types(const std::vector<v1::EventEnvelope>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    out.push_back(EventType(e).substr(std::string("collections.v1.").size()));
  return out;
}

// ---- case, validation, money ----

BOOST_AUTO_TEST_CASE(open_case_sets_balances_status_version_and_aging) {
  Case c = Opened();
  BOOST_TEST(c.account.version() == 1);
  BOOST_TEST(c.account.status() == v1::ACCOUNT_STATUS_OPEN);
  BOOST_TEST(c.account.total_balance_minor() == 105000);
  BOOST_TEST(c.account.debt_type() == v1::DEBT_TYPE_CONSUMER);
  // Due 2025-09-01, opened 2025-10-09 in Chicago: 38 days past due.
  BOOST_TEST(c.account.days_past_due() == 38);
  BOOST_TEST(c.account.aging_bucket() == v1::AGING_BUCKET_30_59);
}

BOOST_AUTO_TEST_CASE(open_case_twice_is_already_exists) {
  Case c = Opened();
  Error e = c.Refused(OpenRequest());
  BOOST_TEST(Code(e) == static_cast<int>(Errc::kAlreadyExists));
  BOOST_TEST(e.reason == "ACCOUNT_EXISTS");
}

BOOST_AUTO_TEST_CASE(open_case_rejects_each_bad_field_by_name) {
  struct FieldCase {
    const char* name;
    std::function<void(v1::OpenCaseRequest&)> mutate;
    const char* field;
  };
  std::vector<FieldCase> cases = {
      {"no command id", [](auto& r) { r.clear_command_id(); }, "command_id"},
      {"space in account id", [](auto& r) { r.set_account_id("A 1"); }, "account_id"},
      {"no creditor", [](auto& r) { r.clear_creditor(); }, "creditor"},
      {"lower-case currency", [](auto& r) { r.set_currency("usd"); }, "currency"},
      {"negative fees", [](auto& r) { r.mutable_balances()->set_fees_minor(-1); },
       "balances.fees_minor"},
      {"zero balance", [](auto& r) { r.clear_balances(); }, "balances"},
      {"30 February",
       [](auto& r) {
         r.mutable_due_date()->set_month(2);
         r.mutable_due_date()->set_day(30);
       },
       "due_date"},
      {"unknown zone", [](auto& r) { r.set_time_zone("America/Atlantis"); }, "time_zone"},
      {"bad state", [](auto& r) { r.set_jurisdiction("Mass"); }, "jurisdiction"},
      {"phone not E.164",
       [](auto& r) { r.mutable_contact_points()->mutable_phones(0)->set_number("555-0100"); },
       "contact_points.phones[0].number"},
      {"phone without type",
       [](auto& r) { r.mutable_contact_points()->mutable_phones(0)->clear_type(); },
       "contact_points.phones[0].type"},
      {"bad e-mail", [](auto& r) { r.mutable_contact_points()->add_emails("nobody"); },
       "contact_points.emails[0]"},
      {"negative expected version", [](auto& r) { r.set_expected_version(-1); },
       "expected_version"},
  };
  for (const auto& fc : cases) {
    BOOST_TEST_CONTEXT(fc.name) {
      v1::OpenCaseRequest r = OpenRequest();
      fc.mutate(r);
      Case c;
      Error e = c.Refused(r);
      BOOST_TEST(Code(e) == static_cast<int>(Errc::kInvalidArgument));
      BOOST_TEST(e.field == fc.field);
      BOOST_TEST(c.log.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(payment_is_applied_oldest_component_first_by_default) {
  Case c = Opened();
  c.Must(Payment("P1", 101000));
  BOOST_TEST(c.account.balances().principal_minor() == 0);
  BOOST_TEST(c.account.balances().interest_minor() == 1500);  // 2500 - (101000 - 100000)
  BOOST_TEST(c.account.balances().fees_minor() == 1500);
  BOOST_TEST(c.account.balances().costs_minor() == 1000);
  BOOST_TEST(c.account.last_payment().payment_id() == "P1");
}

BOOST_AUTO_TEST_CASE(allocation_order_is_configurable) {
  Case c;
  c.settings.allocation_order = {Component::kCosts, Component::kFees, Component::kInterest,
                                 Component::kPrincipal};
  c.Must(OpenRequest());
  c.Must(Payment("P1", 4000));
  BOOST_TEST(c.account.balances().costs_minor() == 0);
  BOOST_TEST(c.account.balances().fees_minor() == 0);
  BOOST_TEST(c.account.balances().interest_minor() == 1000);
  BOOST_TEST(c.account.balances().principal_minor() == 100000);
}

BOOST_AUTO_TEST_CASE(overpayment_pays_in_full_creates_credit_and_a_refund_cannot_exceed_it) {
  Case c = Opened();
  auto events = c.Run(Payment("P1", 105500));
  BOOST_REQUIRE(events.ok());
  BOOST_TEST(c.account.total_balance_minor() == 0);
  BOOST_TEST(c.account.credit_balance_minor() == 500);
  BOOST_TEST(c.account.status() == v1::ACCOUNT_STATUS_PAID_IN_FULL);
  BOOST_TEST(c.account.aging_bucket() == v1::AGING_BUCKET_CURRENT);
  BOOST_TEST((Types(events.value()) ==
              std::vector<std::string>{"PaymentPosted", "AgingBucketChanged", "StatusChanged"}));

  v1::RefundCreditRequest refund;
  refund.set_refund_id("R1");
  refund.mutable_amount()->set_amount_minor(600);
  refund.mutable_amount()->set_currency("USD");
  refund.set_method(v1::PAYMENT_METHOD_ACH);
  Error e = c.Refused(With("refund-1", refund));
  BOOST_TEST(e.reason == "REFUND_EXCEEDS_CREDIT");
  refund.mutable_amount()->set_amount_minor(500);
  c.Must(With("refund-2", refund));
  BOOST_TEST(c.account.credit_balance_minor() == 0);
}

BOOST_AUTO_TEST_CASE(payment_refusals) {
  Case none;
  BOOST_TEST(none.Refused(Payment("P1", 100)).reason == "ACCOUNT_NOT_FOUND");
  Case c = Opened();
  BOOST_TEST(c.Refused(Payment("P1", 0)).field == "amount.amount_minor");
  BOOST_TEST(c.Refused(Payment("P1", -5)).field == "amount.amount_minor");
  auto euro = Payment("P1", 100);
  euro.mutable_amount()->set_currency("EUR");
  BOOST_TEST(c.Refused(euro).field == "amount.currency");
  c.Must(Payment("P1", 100));
  BOOST_TEST(c.Refused(Payment("P1", 100)).reason == "PAYMENT_EXISTS");
}

BOOST_AUTO_TEST_CASE(reversal_reopens_exactly_what_the_payment_paid) {
  Case c = Opened();
  v1::Balances opened = c.account.balances();
  c.Must(Payment("P1", 105500));
  auto events = c.Run(Reversal("P1"));
  BOOST_REQUIRE(events.ok());
  BOOST_TEST(c.account.balances().DebugString() == opened.DebugString());
  BOOST_TEST(c.account.credit_balance_minor() == 0);
  BOOST_TEST(c.account.status() == v1::ACCOUNT_STATUS_OPEN);
  BOOST_TEST(c.account.aging_bucket() == v1::AGING_BUCKET_30_59);
  BOOST_TEST(c.account.last_payment().reversed());
  BOOST_TEST(c.Refused(Reversal("P1")).reason == "PAYMENT_ALREADY_REVERSED");
  BOOST_TEST(c.Refused(Reversal("P404")).reason == "PAYMENT_NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(effective_date_defaults_to_business_date_in_the_consumers_zone) {
  Case c = Opened();
  auto r = Payment("P1", 100);
  // 2025-10-09T03:00Z is still 2025-10-08 in Chicago (UTC-5 in October).
  r.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilSecond(2025, 10, 9, 3, 0, 0), absl::UTCTimeZone())));
  c.Must(r);
  BOOST_TEST(c.account.last_payment().effective_date().day() == 8);
}

// ---- promises ----

v1::RecordPromiseToPayRequest Promise(const std::string& id, int64_t amount, v1::LocalDate due) {
  v1::RecordPromiseToPayRequest r;
  r.set_promise_id(id);
  r.mutable_amount()->set_amount_minor(amount);
  r.mutable_amount()->set_currency("USD");
  *r.mutable_due_date() = due;
  r.set_channel(v1::CONTACT_CHANNEL_CALL);
  return With("promise-" + id, r);
}

BOOST_AUTO_TEST_CASE(promise_is_kept_when_the_amount_arrives) {
  Case c = Opened();
  c.Must(Promise("PR1", 5000, Date(2025, 10, 15)));
  BOOST_TEST(c.Refused(Promise("PR2", 100, Date(2025, 10, 20))).reason == "PROMISE_PENDING");
  c.Must(Payment("P1", 2000));
  BOOST_TEST(c.account.promises(0).status() ==
             v1::PROMISE_STATUS_PENDING);  // partial does not keep it
  auto events = c.Run(Payment("P2", 3000));
  BOOST_REQUIRE(events.ok());
  BOOST_TEST((Types(events.value()) == std::vector<std::string>{"PaymentPosted", "PromiseKept"}));
  BOOST_TEST(c.account.promises(0).status() == v1::PROMISE_STATUS_KEPT);
  BOOST_TEST(c.AdvanceTo(Local(2025, 11, 1)).empty() == false);  // aging moves on, but no break
  BOOST_TEST(c.account.promises(0).status() == v1::PROMISE_STATUS_KEPT);
}

BOOST_AUTO_TEST_CASE(promise_breaks_at_local_midnight_after_due_date_plus_grace) {
  Case c = Opened();
  c.Must(Promise("PR1", 5000, Date(2025, 10, 15)));
  c.Must(Payment("P1", 4999));                                        // partial: does not keep it
  BOOST_TEST(c.AdvanceTo(Local(2025, 10, 18, 23, 59)).size() == 0u);  // grace 3 days: 16, 17, 18
  auto events = c.AdvanceTo(Local(2025, 10, 19, 0, 0));
  BOOST_REQUIRE(events.size() == 1u);
  BOOST_TEST(events[0].has_promise_broken());
  BOOST_TEST(events[0].promise_broken().paid_toward_minor() == 4999);
  BOOST_TEST(events[0].occurred_at().seconds() == absl::ToUnixSeconds(Local(2025, 10, 19, 0, 0)));
  BOOST_TEST(c.account.promises(0).status() == v1::PROMISE_STATUS_BROKEN);
  // A new promise may now be made.
  c.Must(Promise("PR2", 5000, Date(2025, 10, 25)));
}

BOOST_AUTO_TEST_CASE(promise_can_be_cancelled_once) {
  Case c = Opened();
  c.Must(Promise("PR1", 5000, Date(2025, 10, 15)));
  v1::CancelPromiseToPayRequest cancel;
  cancel.set_promise_id("PR1");
  cancel.set_reason("consumer asked");
  c.Must(With("cancel-1", cancel));
  BOOST_TEST(c.account.promises(0).status() == v1::PROMISE_STATUS_CANCELLED);
  BOOST_TEST(c.Refused(With("cancel-2", cancel)).reason == "PROMISE_NOT_PENDING");
  BOOST_TEST(c.AdvanceTo(Local(2025, 10, 30)).size() == 0u);
}

// ---- payment plans ----

v1::ProposePaymentPlanRequest Plan(const std::string& id,
                                   std::vector<std::pair<int64_t, v1::LocalDate>> terms) {
  v1::ProposePaymentPlanRequest r;
  r.set_plan_id(id);
  for (auto& [amount, due] : terms) {
    auto* t = r.add_instalments();
    t->set_amount_minor(amount);
    *t->mutable_due_date() = due;
  }
  return With("plan-" + id, r);
}

v1::AcceptPaymentPlanRequest Accept(const std::string& id) {
  v1::AcceptPaymentPlanRequest r;
  r.set_plan_id(id);
  return With("accept-" + id, r);
}

BOOST_AUTO_TEST_CASE(plan_due_dates_roll_past_weekends_and_federal_holidays) {
  Case c = Opened();
  // Saturday 2025-11-22 -> Monday 11-24; Thanksgiving Thursday 11-27 -> Friday 11-28;
  // Thursday 2025-12-25 (Christmas) -> Friday 12-26; a Tuesday stays.
  c.Must(Plan("PL1", {{1000, Date(2025, 11, 22)},
                      {1000, Date(2025, 11, 27)},
                      {1000, Date(2025, 12, 25)},
                      {1000, Date(2025, 12, 30)}}));
  const auto& inst = c.account.plan().instalments();
  BOOST_TEST(inst[0].effective_due_date().day() == 24);
  BOOST_TEST(inst[1].effective_due_date().day() == 28);
  BOOST_TEST(inst[2].effective_due_date().day() == 26);
  BOOST_TEST(inst[3].effective_due_date().day() == 30);
  BOOST_TEST(c.account.plan().status() == v1::PLAN_STATUS_PROPOSED);
}

BOOST_AUTO_TEST_CASE(plan_lifecycle_active_then_completed) {
  Case c = Opened();
  c.Must(Plan("PL1", {{3000, Date(2025, 10, 20)}, {3000, Date(2025, 11, 20)}}));
  BOOST_TEST(c.Refused(Plan("PL2", {{1, Date(2025, 10, 20)}})).reason == "PLAN_IN_PROGRESS");
  auto accepted = c.Run(Accept("PL1"));
  BOOST_REQUIRE(accepted.ok());
  BOOST_TEST((Types(accepted.value()) ==
              std::vector<std::string>{"PlanAccepted", "PlanActivated", "StatusChanged"}));
  BOOST_TEST(c.account.status() == v1::ACCOUNT_STATUS_IN_PAYMENT_PLAN);
  c.Must(Payment("P1", 3000));
  c.now = Local(2025, 11, 10);
  auto done = c.Run(Payment("P2", 3000));
  BOOST_REQUIRE(done.ok());
  BOOST_TEST(Types(done.value())[1] == "PlanCompleted");
  BOOST_TEST(c.account.plan().status() == v1::PLAN_STATUS_COMPLETED);
  BOOST_TEST(c.account.status() == v1::ACCOUNT_STATUS_OPEN);
}

BOOST_AUTO_TEST_CASE(missed_instalment_after_grace_defaults_the_plan) {
  Case c = Opened();
  // Due Friday 2025-10-24; grace 5 days: missed at local midnight starting 2025-10-30.
  c.Must(Plan("PL1", {{3000, Date(2025, 10, 24)}, {3000, Date(2025, 11, 24)}}));
  c.Must(Accept("PL1"));
  c.Must(Payment("P1", 2999));
  BOOST_TEST(c.AdvanceTo(Local(2025, 10, 29, 23, 59)).size() == 0u);
  auto events = c.AdvanceTo(Local(2025, 10, 30, 0, 0));
  BOOST_TEST((Types(events) ==
              std::vector<std::string>{"InstalmentMissed", "PlanDefaulted", "StatusChanged"}));
  BOOST_TEST(c.account.plan().status() == v1::PLAN_STATUS_DEFAULTED);
  BOOST_TEST(c.account.status() == v1::ACCOUNT_STATUS_OPEN);
}

BOOST_AUTO_TEST_CASE(plan_defaults_after_the_configured_number_of_missed_instalments) {
  Case c = Opened();
  auto plan = Plan(
      "PL1", {{3000, Date(2025, 10, 24)}, {3000, Date(2025, 11, 24)}, {3000, Date(2025, 12, 24)}});
  plan.set_missed_to_default(2);
  c.Must(plan);
  c.Must(Accept("PL1"));
  auto first = Types(c.AdvanceTo(Local(2025, 11, 15)));
  BOOST_TEST(std::count(first.begin(), first.end(), "InstalmentMissed") == 1);
  BOOST_TEST(c.account.plan().status() == v1::PLAN_STATUS_ACTIVE);
  // 2025-11-24 is a Monday; grace 5: missed from 2025-11-30 00:00.
  auto second = c.AdvanceTo(Local(2025, 11, 30, 0, 0));
  auto types = Types(second);
  BOOST_TEST(std::count(types.begin(), types.end(), "PlanDefaulted") == 1);
  BOOST_TEST(c.account.plan().missed_count() == 2);
}

// ---- settlement ----

v1::AgreeSettlementRequest Settle(int64_t amount, const std::string& role) {
  v1::AgreeSettlementRequest r;
  r.set_settlement_id("S1");
  r.mutable_amount()->set_amount_minor(amount);
  r.mutable_amount()->set_currency("USD");
  *r.mutable_due_date() = Date(2025, 11, 30);
  r = With("settle-" + role, r);
  r.mutable_actor()->set_role(role);
  r.mutable_actor()->set_id(role + "-7");
  return r;
}

BOOST_AUTO_TEST_CASE(
    settlement_below_minimum_needs_a_supervisor_and_completion_writes_off_the_rest) {
  Case c = Opened();                                // 105000
  Error e = c.Refused(Settle(50000, "collector"));  // 47.6% < 60%
  BOOST_TEST(e.reason == "SUPERVISOR_APPROVAL_REQUIRED");
  BOOST_TEST(Code(e) == static_cast<int>(Errc::kPermissionDenied));
  BOOST_TEST(c.log.back().has_access_denied());  // the request, waiting for a supervisor
  c.Must(Settle(50000, "supervisor"));            // a supervisor approves someone else's request
  BOOST_TEST(c.account.settlement().approved_by() == "supervisor-7");
  BOOST_TEST(c.account.settlement().percent_basis_points() == 4761);
  auto events = c.Run(Payment("P1", 50000));
  BOOST_REQUIRE(events.ok());
  BOOST_TEST(
      (Types(events.value()) == std::vector<std::string>{"PaymentPosted", "SettlementCompleted",
                                                         "AgingBucketChanged", "StatusChanged"}));
  BOOST_TEST(c.account.total_balance_minor() == 0);
  BOOST_TEST(c.account.written_off_minor() == 55000);
  BOOST_TEST(c.account.status() == v1::ACCOUNT_STATUS_SETTLED);
}

BOOST_AUTO_TEST_CASE(paying_more_than_the_settlement_leaves_the_excess_as_credit) {
  Case c = Opened();
  c.Must(Settle(70000, "collector"));
  c.Must(Payment("P1", 30000));
  BOOST_TEST(c.account.settlement().paid_minor() == 30000);
  c.Must(Payment("P2", 45000));
  BOOST_TEST(c.account.status() == v1::ACCOUNT_STATUS_SETTLED);
  BOOST_TEST(c.account.credit_balance_minor() == 5000);
  BOOST_TEST(c.account.written_off_minor() == 35000);
}

BOOST_AUTO_TEST_CASE(settlement_at_or_above_minimum_needs_no_supervisor) {
  Case c = Opened();
  c.Must(Settle(63000, "collector"));  // 60%
  BOOST_TEST(c.account.settlement().status() == v1::SETTLEMENT_STATUS_ACTIVE);
  BOOST_TEST(c.Refused(Settle(200000, "supervisor")).reason == "SETTLEMENT_ACTIVE");
}

// ---- adjustments ----

v1::PostAdjustmentRequest Adjust(const std::string& id, v1::AdjustmentKind kind, int64_t principal,
                                 int64_t interest = 0, const std::string& role = "collector") {
  v1::PostAdjustmentRequest r;
  r.set_adjustment_id(id);
  r.set_kind(kind);
  r.mutable_amounts()->set_principal_minor(principal);
  r.mutable_amounts()->set_interest_minor(interest);
  r.set_reason("test");
  r = With("adj-" + id + "-" + role, r);
  r.mutable_actor()->set_role(role);
  r.mutable_actor()->set_id(role + "-7");
  return r;
}

BOOST_AUTO_TEST_CASE(
    adjustments_move_the_balance_and_write_offs_above_threshold_need_a_supervisor) {
  Case c = Opened();
  c.Must(Adjust("A1", v1::ADJUSTMENT_KIND_INTEREST_ACCRUAL, 0, 700));
  BOOST_TEST(c.account.balances().interest_minor() == 3200);
  BOOST_TEST(c.Refused(Adjust("A2", v1::ADJUSTMENT_KIND_INTEREST_ACCRUAL, 5, 700)).field ==
             "amounts");
  c.Must(Adjust("A3", v1::ADJUSTMENT_KIND_CREDIT_MEMO, 1000));
  BOOST_TEST(c.account.balances().principal_minor() == 99000);
  BOOST_TEST(c.Refused(Adjust("A4", v1::ADJUSTMENT_KIND_CREDIT_MEMO, 0, 999999)).field ==
             "amounts.interest_minor");
  BOOST_TEST(c.Refused(Adjust("A5", v1::ADJUSTMENT_KIND_SMALL_BALANCE_WRITE_OFF, 2501)).reason ==
             "SUPERVISOR_APPROVAL_REQUIRED");
  c.Must(Adjust("A6", v1::ADJUSTMENT_KIND_SMALL_BALANCE_WRITE_OFF, 2500));
  // A supervisor posts the write-off a collector asked for (A5); one nobody asked for is refused
  // (four eyes).
  BOOST_TEST(c.Refused(Adjust("A7", v1::ADJUSTMENT_KIND_SMALL_BALANCE_WRITE_OFF, 2501, 0,
                              "supervisor"))
                 .reason == "SELF_APPROVAL");
  c.Must(Adjust("A5", v1::ADJUSTMENT_KIND_SMALL_BALANCE_WRITE_OFF, 2501, 0, "supervisor"));
  BOOST_TEST(c.account.written_off_minor() == 5001);
  c.Must(Adjust("A8", v1::ADJUSTMENT_KIND_CHARGE_OFF, 0));
  BOOST_TEST(c.account.status() == v1::ACCOUNT_STATUS_CHARGED_OFF);
}

// ---- disputes ----

v1::OpenDisputeRequest DisputeReq(const std::string& id, bool partial, int64_t amount) {
  v1::OpenDisputeRequest r;
  r.set_dispute_id(id);
  r.set_written(true);
  r.set_partial(partial);
  r.set_disputed_amount_minor(amount);
  r.set_reason("not my debt");
  return With("dispute-" + id, r);
}

BOOST_AUTO_TEST_CASE(dispute_lifecycle_upheld_adjusts_the_disputed_amount) {
  Case c = Opened();
  c.Must(DisputeReq("D1", true, 5000));
  BOOST_TEST(c.account.status() == v1::ACCOUNT_STATUS_DISPUTED);
  v1::SendDisputeVerificationRequest verify;
  verify.set_dispute_id("D1");
  c.Must(With("verify", verify));
  BOOST_TEST(c.Refused(With("verify-2", verify)).reason == "VERIFICATION_ALREADY_SENT");
  v1::ResolveDisputeRequest resolve;
  resolve.set_dispute_id("D1");
  resolve.set_upheld(true);
  resolve.set_resolution("payment was misapplied");
  auto events = c.Run(With("resolve", resolve));
  BOOST_REQUIRE(events.ok());
  BOOST_TEST(Types(events.value())[0] == "AdjustmentPosted");
  BOOST_TEST(c.account.total_balance_minor() == 100000);
  BOOST_TEST(c.account.status() == v1::ACCOUNT_STATUS_OPEN);
  BOOST_TEST(c.Refused(With("resolve-2", resolve)).reason == "DISPUTE_CLOSED");
}

BOOST_AUTO_TEST_CASE(dispute_rejected_or_withdrawn_leaves_the_balance) {
  Case c = Opened();
  c.Must(DisputeReq("D1", false, 0));
  BOOST_TEST(c.account.disputes(0).disputed_amount_minor() == 105000);
  v1::WithdrawDisputeRequest withdraw;
  withdraw.set_dispute_id("D1");
  c.Must(With("withdraw", withdraw));
  BOOST_TEST(c.account.disputes(0).status() == v1::DISPUTE_STATUS_WITHDRAWN);
  BOOST_TEST(c.account.total_balance_minor() == 105000);
  BOOST_TEST(c.account.status() == v1::ACCOUNT_STATUS_OPEN);
}

// ---- correspondence and the validation period (docs/rules.md scenario 4) ----

v1::RecordCorrespondenceRequest ValidationNotice(absl::Time sent) {
  v1::RecordCorrespondenceRequest r;
  r.set_correspondence_id("VN1");
  r.set_kind(v1::CORRESPONDENCE_KIND_VALIDATION_NOTICE);
  r.set_channel(v1::CONTACT_CHANNEL_LETTER);
  r.set_address("1 Main St, Chicago IL");
  *r.mutable_itemization()->mutable_itemization_date() = Date(2025, 9, 1);
  r.mutable_itemization()->set_current_amount_minor(105000);
  r.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(sent));
  return With("vn", r);
}

BOOST_AUTO_TEST_CASE(validation_period_ends_on_the_computed_day_and_disputes_know_if_inside) {
  Case c = Opened();
  c.now = Local(2025, 11, 20, 10, 0);
  c.Must(ValidationNotice(Local(2025, 11, 20, 10, 0)));
  // Thursday 2025-11-20: receipt assumed 11-28 (weekend and Thanksgiving skipped), end 12-28.
  BOOST_TEST(c.account.validation_period_end().month() == 12);
  BOOST_TEST(c.account.validation_period_end().day() == 28);
  c.now = Local(2025, 12, 28, 22, 0);
  c.Must(DisputeReq("D1", false, 0));
  BOOST_TEST(c.account.disputes(0).within_validation_period());
  auto ended = c.AdvanceTo(Local(2025, 12, 29, 0, 0));
  auto types = Types(ended);
  BOOST_TEST(std::count(types.begin(), types.end(), "ValidationPeriodEnded") == 1);
  BOOST_TEST(c.account.validation_period_ended());
  c.Must(DisputeReq("D2", false, 0));
  BOOST_TEST(!c.account.disputes(1).within_validation_period());
}

BOOST_AUTO_TEST_CASE(f11_overdue_validation_notice_is_recorded_the_day_after_the_deadline) {
  Case c;
  auto open = OpenRequest();
  open.set_third_party_collector(true);
  c.Must(open);
  v1::RecordContactAttemptRequest talk;
  talk.set_contact_id("T1");
  talk.set_channel(v1::CONTACT_CHANNEL_CALL);
  talk.set_direction(v1::CONTACT_DIRECTION_INBOUND);
  talk.set_address("+13125550100");
  talk.set_phone_type(v1::PHONE_TYPE_CELL);
  talk.set_outcome(v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION);
  c.Must(With("talk", talk));  // Thursday 2025-10-09: deadline 2025-10-14
  auto none = Types(c.AdvanceTo(Local(2025, 10, 14, 23, 59)));
  BOOST_TEST(std::count(none.begin(), none.end(), "ValidationNoticeOverdue") == 0);
  auto events = c.AdvanceTo(Local(2025, 10, 15, 0, 0));
  BOOST_REQUIRE(events.size() == 1u);
  BOOST_TEST(events[0].validation_notice_overdue().deadline().day() == 14);
  BOOST_TEST(c.account.validation_notice_overdue());
  // A creditor collecting its own debt is not bound by it.
  Case own;
  own.Must(OpenRequest());
  own.Must(With("talk", talk));
  BOOST_TEST(own.AdvanceTo(Local(2025, 10, 20)).empty());
  // Nor is a collector collecting a business's debt: Regulation F covers consumer debts only.
  Case business;
  business.Must(open);
  v1::EventEnvelope linked;
  linked.mutable_account_customer_linked()->set_customer_id("CUST-1");
  linked.mutable_account_customer_linked()->set_commercial(true);
  business.Append({linked});
  business.Must(With("talk", talk));
  BOOST_TEST(business.AdvanceTo(Local(2025, 10, 20)).empty());
}

// ---- time: no state skipped ----

BOOST_AUTO_TEST_CASE(a_100_day_jump_emits_every_bucket_change_in_order_each_at_its_own_time) {
  Case c;
  c.now = Local(2025, 10, 1, 9, 0);
  c.Must(OpenRequest(Date(2025, 10, 1)));  // due today: current
  BOOST_TEST(c.account.aging_bucket() == v1::AGING_BUCKET_CURRENT);
  auto events = c.AdvanceTo(c.now + absl::Hours(24 * 100));
  std::vector<v1::AgingBucket> buckets;
  std::vector<int64_t> times;
  for (const auto& e : events) {
    if (!e.has_aging_bucket_changed()) continue;
    buckets.push_back(e.aging_bucket_changed().to());
    times.push_back(e.occurred_at().seconds());
  }
  BOOST_TEST(
      (buckets == std::vector<v1::AgingBucket>{v1::AGING_BUCKET_1_29, v1::AGING_BUCKET_30_59,
                                               v1::AGING_BUCKET_60_89, v1::AGING_BUCKET_90_119}));
  // Local midnight of due + 1, 30, 60, 90 days; the November DST change does not shift them.
  std::vector<int64_t> expected = {absl::ToUnixSeconds(Local(2025, 10, 2, 0, 0)),
                                   absl::ToUnixSeconds(Local(2025, 10, 31, 0, 0)),
                                   absl::ToUnixSeconds(Local(2025, 11, 30, 0, 0)),
                                   absl::ToUnixSeconds(Local(2025, 12, 30, 0, 0))};
  BOOST_TEST(times == expected);
  BOOST_TEST(c.account.days_past_due() == 90);
  // Sequences stay gap-free and in time order.
  for (size_t i = 1; i < c.log.size(); ++i) {
    BOOST_TEST(c.log[i].sequence() == c.log[i - 1].sequence() + 1);
    BOOST_TEST(c.log[i].occurred_at().seconds() >= c.log[i - 1].occurred_at().seconds());
  }
  // The same jump again emits nothing.
  BOOST_TEST(c.AdvanceTo(c.now).empty());
}

BOOST_AUTO_TEST_CASE(jump_interleaves_promise_plan_and_aging_in_time_order) {
  Case c;
  c.now = Local(2025, 10, 1, 9, 0);
  c.Must(OpenRequest(Date(2025, 10, 1)));
  c.Must(Promise("PR1", 5000, Date(2025, 10, 10)));  // breaks 2025-10-14 00:00
  auto events = c.AdvanceTo(Local(2025, 11, 5));
  std::vector<std::string> types = Types(events);
  BOOST_TEST((types == std::vector<std::string>{"AgingBucketChanged", "PromiseBroken",
                                                "AgingBucketChanged"}));
}

// ---- case handling, placement, closure ----

BOOST_AUTO_TEST_CASE(assignment_escalation_flags_contacts_and_skip_tracing_are_recorded) {
  Case c = Opened();
  v1::AssignCaseRequest assign;
  assign.set_assignee("collector-7");
  assign.set_queue("early-stage");
  c.Must(With("assign", assign));
  BOOST_TEST(c.account.assignee() == "collector-7");
  BOOST_TEST(c.account.queue() == "early-stage");

  v1::UpdateFlagRequest flag;
  flag.set_reason("letter received");
  flag.mutable_cease_communication()->set_in_effect(true);
  flag.mutable_cease_communication()->set_written(true);
  c.Must(With("cease", flag));
  BOOST_TEST(c.account.flags().cease_communication());
  v1::UpdateFlagRequest no_reason = flag;
  no_reason.clear_reason();
  BOOST_TEST(c.Refused(With("cease-2", no_reason)).field == "reason");

  v1::RecordContactAttemptRequest call;
  call.set_contact_id("C1");
  call.set_channel(v1::CONTACT_CHANNEL_CALL);
  call.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  call.set_address("+13125550100");
  call.set_phone_type(v1::PHONE_TYPE_CELL);
  call.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
  c.Must(With("call-1", call));
  BOOST_TEST(c.account.last_contact().contact_id() == "C1");
  BOOST_TEST(c.Refused(With("call-2", call)).reason == "CONTACT_EXISTS");
  call.set_contact_id("C2");
  call.set_address("555");
  BOOST_TEST(c.Refused(With("call-3", call)).field == "address");

  v1::UpdateContactPointRequest skip;
  skip.set_action(v1::CONTACT_POINT_ACTION_INVALIDATE);
  skip.mutable_phone()->set_number("+13125550100");
  skip.mutable_phone()->set_type(v1::PHONE_TYPE_CELL);
  c.Must(With("skip", skip));
  BOOST_TEST(c.account.contact_points().phones(0).invalid());
}

BOOST_AUTO_TEST_CASE(placement_legal_transfer_and_closure_change_status) {
  Case c = Opened();
  v1::PlaceWithAgencyRequest place;
  place.set_agency("AGENCY-1");
  place.set_reason("120 days");
  c.Must(With("place", place));
  BOOST_TEST(c.account.status() == v1::ACCOUNT_STATUS_PLACED_WITH_AGENCY);
  BOOST_TEST(c.Refused(With("place-2", place)).reason == "ALREADY_PLACED");
  v1::RecallFromAgencyRequest recall;
  recall.set_reason("no progress");
  c.Must(With("recall", recall));
  BOOST_TEST(c.account.status() == v1::ACCOUNT_STATUS_OPEN);
  v1::ReportToBureauRequest report;
  report.set_report_id("B1");
  report.set_bureau("equifax");
  report.set_status_code("93");
  c.Must(With("report", report));
  BOOST_TEST(c.account.bureau_reports(0).balance_minor() == 105000);
  report.set_report_id("B2");
  report.set_status_code("XX");
  BOOST_TEST(c.Refused(With("report-2", report)).field == "status_code");
  v1::CloseCaseRequest close;
  close.set_reason("recalled by creditor");
  c.Must(With("close", close));
  BOOST_TEST(c.account.status() == v1::ACCOUNT_STATUS_CLOSED);
  BOOST_TEST(c.Refused(With("place-3", place)).reason == "ACCOUNT_CLOSED");
  c.Must(Payment("P1", 100));                          // money still posts to a closed account
  BOOST_TEST(c.AdvanceTo(Local(2026, 6, 1)).empty());  // and it no longer ages
}

// ---- hashing ----

BOOST_AUTO_TEST_CASE(chain_hash_changes_with_any_byte_and_with_the_previous_hash) {
  v1::EventEnvelope e;
  e.set_account_id("ACC-1");
  e.set_sequence(1);
  e.mutable_payment_posted()->mutable_amount()->set_amount_minor(100);
  std::string h1 = ChainHash(e);
  BOOST_TEST(h1.size() == 32u);
  e.set_hash(h1);
  BOOST_TEST(ChainHash(e) == h1);  // the hash field itself is excluded
  e.mutable_payment_posted()->mutable_amount()->set_amount_minor(101);
  BOOST_TEST(ChainHash(e) != h1);
  e.mutable_payment_posted()->mutable_amount()->set_amount_minor(100);
  e.set_prev_hash(std::string(32, 'x'));
  BOOST_TEST(ChainHash(e) != h1);
  BOOST_TEST(Hex(Sha256("abc")) ==
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

BOOST_AUTO_TEST_CASE(fingerprint_differs_when_the_request_differs) {
  BOOST_TEST(Fingerprint(Payment("P1", 100)) == Fingerprint(Payment("P1", 100)));
  BOOST_TEST(Fingerprint(Payment("P1", 100)) != Fingerprint(Payment("P1", 101)));
}

BOOST_AUTO_TEST_CASE(uuid_is_version_4_text) {
  std::string id = NewUuid();
  BOOST_TEST(id.size() == 36u);
  BOOST_TEST(id[14] == '4');
  BOOST_TEST(NewUuid() != id);
}

// ---- customers: the account side of a link, several debts (F3) ----

state::v1::LinkAccountToCustomerRequest LinkTo(const std::string& customer, bool commercial,
                                               const std::string& moved_from = "") {
  state::v1::LinkAccountToCustomerRequest r;
  r.set_customer_id(customer);
  r.set_commercial(commercial);
  r.set_reason("placement");
  r.set_moved_from_customer_id(moved_from);
  return With("link-" + customer, r);
}

BOOST_AUTO_TEST_CASE(an_account_records_its_customer_and_moves_only_when_told_from_where) {
  Case c = Opened();
  auto linked = c.Run(LinkTo("C-1", true));
  BOOST_REQUIRE(linked.ok());
  BOOST_TEST(Types(linked.value()) == std::vector<std::string>{"AccountCustomerLinked"});
  BOOST_TEST(c.account.customer_id() == "C-1");
  BOOST_TEST(c.account.commercial());

  // Another customer cannot take it silently: a move names the customer it leaves.
  Error e = c.Refused(LinkTo("C-2", false));
  BOOST_TEST(e.reason == "ACCOUNT_LINKED_TO_ANOTHER_CUSTOMER");
  BOOST_TEST(Code(e) == static_cast<int>(Errc::kFailedPrecondition));
  c.Must(LinkTo("C-2", false, "C-1"));
  BOOST_TEST(c.account.customer_id() == "C-2");
  BOOST_TEST(!c.account.commercial());

  // The old customer's unlink, arriving after the move, leaves the new link alone.
  state::v1::LinkAccountToCustomerRequest unlink = With("unlink-C-1", LinkTo("C-1", false));
  unlink.set_unlink(true);
  c.Must(unlink);
  BOOST_TEST(c.account.customer_id() == "C-2");
  unlink = With("unlink-C-2", LinkTo("C-2", false));
  unlink.set_unlink(true);
  auto unlinked = c.Run(unlink);
  BOOST_REQUIRE(unlinked.ok());
  BOOST_TEST(Types(unlinked.value()) == std::vector<std::string>{"AccountCustomerUnlinked"});
  BOOST_TEST(c.account.customer_id().empty());
}

BOOST_AUTO_TEST_CASE(a_contact_about_several_debts_is_recorded_only_on_the_customers_accounts) {
  Case c = Opened();
  v1::RecordContactAttemptRequest call;
  call.set_contact_id("call-1");
  call.set_channel(v1::CONTACT_CHANNEL_CALL);
  call.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  call.set_address("+13125550100");
  call.set_phone_type(v1::PHONE_TYPE_CELL);
  call.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
  call.mutable_several_debts()->set_customer_id("C-1");
  call.mutable_several_debts()->add_other_account_ids("ACC-2");
  call = With("call-1", call);
  // Not linked yet: the customer's word is not taken for it.
  Error e = c.Refused(call);
  BOOST_TEST(e.reason == "NOT_THE_CUSTOMERS_DEBT");
  BOOST_TEST(e.field == "several_debts.customer_id");
  c.Must(LinkTo("C-1", false));
  auto recorded = c.Run(call);
  BOOST_REQUIRE(recorded.ok());
  const v1::ContactRecord& rec = recorded.value().front().contact_attempted().contact();
  BOOST_TEST(rec.several_debts().other_account_ids(0) == "ACC-2");
  BOOST_TEST(c.account.contacts_size() == 1);

  // A cease letter naming the customer's debts: the same check, and the fact names them.
  v1::UpdateFlagRequest cease;
  cease.set_reason("letter naming both debts");
  cease.mutable_cease_communication()->set_in_effect(true);
  cease.mutable_cease_communication()->set_written(true);
  cease.mutable_several_debts()->set_customer_id("C-9");
  cease.mutable_several_debts()->add_other_account_ids("ACC-2");
  cease = With("cease-1", cease);
  BOOST_TEST(c.Refused(cease).reason == "NOT_THE_CUSTOMERS_DEBT");
}

BOOST_AUTO_TEST_CASE(a_persons_zone_from_the_customer_limits_calls_on_each_of_their_debts) {
  // A Chicago account whose consumer, per the customer record, lives in New York: 20:30 in
  // Chicago is 21:30 in New York, too late for F4 there.
  Case c;
  v1::OpenCaseRequest open = OpenRequest();
  open.set_third_party_collector(true);
  c.Must(open);
  v1::RecordContactAttemptRequest call;
  call.set_contact_id("late-call");
  call.set_channel(v1::CONTACT_CHANNEL_CALL);
  call.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  call.set_address("+13125550100");
  call.set_phone_type(v1::PHONE_TYPE_CELL);
  call.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
  call = With("late-call", call);
  const v1::CompliancePolicy policy = compliance::DefaultPolicy();
  const absl::Time late = Local(2025, 10, 9, 20, 30);
  BOOST_TEST(!Gate(c.account, call, late, policy).blocked);

  state::v1::LinkAccountToCustomerRequest link = LinkTo("P-1", false);
  link.set_consumer_time_zone("America/New_York");
  c.Must(link);
  BOOST_TEST(c.account.consumer_time_zone() == "America/New_York");
  GateDecision gate = Gate(c.account, call, late, policy);
  BOOST_TEST(gate.blocked);
  BOOST_TEST(gate.record.rule_id() == "F4");
  BOOST_TEST(!Gate(c.account, call, Local(2025, 10, 9, 19, 30), policy).blocked);
}

BOOST_AUTO_TEST_CASE(several_debts_are_validated_field_by_field) {
  v1::RecordContactAttemptRequest call;
  call.set_contact_id("call-1");
  call.set_channel(v1::CONTACT_CHANNEL_CALL);
  call.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  call.set_address("+13125550100");
  call.set_phone_type(v1::PHONE_TYPE_CELL);
  call.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
  call.mutable_several_debts()->add_other_account_ids("ACC-1");  // itself
  call.mutable_several_debts()->add_other_account_ids("ACC-2");
  call.mutable_several_debts()->add_other_account_ids("ACC-2");  // twice
  Status e = ValidateRequest(Command(With("call-1", call)));
  BOOST_REQUIRE(e.has_value());
  std::vector<std::string> fields;
  for (const auto& v : e->violations) fields.push_back(v.field);
  BOOST_TEST(fields == (std::vector<std::string>{"several_debts.customer_id",
                                                 "several_debts.other_account_ids[0]",
                                                 "several_debts.other_account_ids[2]"}),
             boost::test_tools::per_element());
}

}  // namespace
}  // namespace collections
