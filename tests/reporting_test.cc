// Reporting end to end: a known event history driven through gRPC on the real broker with a
// test clock, then every report (aging, activity, collector performance, CEI, roll rates)
// checked against figures computed by hand below, a back-dated payment posted after October
// closed that must show up as a correction and leave October's figures unchanged, a rebuilt
// reporting store with the same bytes, and the CLI's CSV export.
#define BOOST_TEST_MODULE reporting
#include "projections/reporting/report_csv.h"
#include "projections/reporting/reporting_projector.h"
#include "projections/reporting/reporting_store.h"
#include "services/domain/hashing.h"
#include "services/domain/internal.h"
#include "tests/support/harness.h"

#include "absl/time/civil_time.h"
#include "collections/v1/reporting_service.grpc.pb.h"

#include <rocksdb/db.h>
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

namespace collections::testing {
namespace {

using Stub = v1::CaseCommandService::Stub;

const absl::TimeZone kChicago = [] {
  absl::TimeZone tz;
  absl::LoadTimeZone("America/Chicago", &tz);
  return tz;
}();

absl::Time Local(int y, int m, int d, int hh, int mm = 0) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), kChicago);
}

v1::LocalDate Date(int y, int m, int d) {
  v1::LocalDate date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

// The history every test reads. All accounts are in America/Chicago; every command is sent at
// the clock time shown, so its business date and recorded date are that day, except the
// back-dated payment at the end.
//
//   account  creditor    queue  assignee  currency  opened      balance  due         Reg F
//   ACC-1    Acme Bank   early  alice     USD       2025-09-15  1000.00  2025-09-01  no
//   ACC-2    Acme Bank   early  bob       USD       2025-09-15   500.00  2025-09-20  no
//   ACC-3    Zen Credit  late   alice     USD       2025-09-15   800.00  2025-07-01  yes
//   ACC-4    Zen Credit  late   bob       EUR       2025-09-15   400.00  2025-10-20  no
//   ACC-5    Acme Bank   early  alice     USD       2025-10-10   300.00  2025-11-30  no
//
//   10-01 10:00 ACC-1 payment P1 200.00          11:00 ACC-1 call, right party
//         11:30 ACC-1 promise PR1 300.00 due 10-08
//   10-02 10:00 ACC-2 call, no answer            10:30 ACC-2 call, voicemail
//         11:00 ACC-2 payment P2 100.00
//   10-03 10:00 ACC-2 P2 reversed (NSF)
//   10-06 10:00 ACC-1 payment P3 300.00 -> PR1 kept
//         11:00 ACC-2 promise PR2 200.00 due 10-07 (grace 3 days: broken at 10-11 00:00)
//   10-07 10:00 ACC-3 call, no answer            22:00 ACC-3 call: refused by F4 (ContactBlocked)
//   10-08 10:00 ACC-4 fee accrual 15.00 EUR      11:00 ACC-4 dispute D1 opened
//   10-09 10:00 ACC-4 D1 resolved, rejected
//   10-10 10:00 ACC-5 opened (a new placement)   11:00 ACC-1 small-balance write-off 20.00
//   10-11 09:00 clock tick: PR2 broken
//   10-14 10:00 ACC-2 payment P4 550.00 (500.00 applied, 50.00 to credit)
//         11:00 ACC-2 refund R1 50.00
//   10-15 10:00 ACC-4 dispute D2 (partial, 10.00 EUR) opened
//   10-16 10:00 ACC-4 D2 upheld -> DISPUTE_UPHELD adjustment of 10.00 EUR
//   10-20 10:00 ACC-3 call, right party
//   11-01 10:00 October's reports are taken ("before")
//   11-03 10:00 ACC-3 payment P5 100.00 with occurred_at 2025-10-25 12:00: back-dated into the
//               closed October (server close: 0 days)
struct History {
  TempDir dir;
  ManualClock clock{Local(2025, 9, 15, 10)};
  TestService service{TestOptions("reporting", dir.path), &clock};
  std::unique_ptr<v1::ReportingService::Stub> reports;
  v1::CommandReply last;
  int counter = 0;
  int64_t late_payment_sequence = 0;
  // October's reports at 11-01, before the back-dated payment.
  v1::GetActivityReportResponse october_before;
  v1::GetAgingReportResponse aging_before;
  v1::GetCollectionEffectivenessResponse cei_before;
  v1::GetRollRatesResponse rolls_before;

  template <typename Request>
  grpc::Status Send(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                 v1::CommandReply*),
                    Request r, const std::string& account) {
    r.set_account_id(account);
    r.set_command_id("cmd-" + std::to_string(++counter));
    r.mutable_actor()->set_id("collector-1");
    r.mutable_actor()->set_role("collector");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return (service.commands().*method)(&ctx, r, &last);
  }
  template <typename Request>
  void Must(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, v1::CommandReply*),
            Request r, const std::string& account) {
    auto s = Send(method, std::move(r), account);
    BOOST_REQUIRE_MESSAGE(s.ok(), Request::descriptor()->name()
                                      << " on " << account << ": " << s.error_message());
  }
  // Waits until the reporting projection has applied everything on the topic.
  void Sync() {
    for (const auto& e : ReadTopic(service.options().log.topic)) {
      BOOST_REQUIRE(service.app().reporting_projector().WaitForPosition(
          e.partition, e.offset, absl::Now() + absl::Seconds(20)));
    }
  }
  void At(absl::Time t) {
    clock.Set(t);
    BOOST_REQUIRE(service.app().router().Tick().ok());
  }

  void Open(const std::string& id, const std::string& creditor, const std::string& queue,
            const std::string& assignee, const std::string& currency, int64_t principal,
            v1::LocalDate due, bool third_party) {
    v1::OpenCaseRequest r = OpenCase(id, "unused", principal);
    r.mutable_balances()->clear_fees_minor();
    r.set_creditor(creditor);
    r.set_queue(queue);
    r.set_assignee(assignee);
    r.set_currency(currency);
    *r.mutable_due_date() = due;
    r.set_third_party_collector(third_party);
    Must(&Stub::OpenCase, r, id);
  }
  void Pay(const std::string& id, const std::string& payment, int64_t amount,
           const std::string& currency = "USD") {
    v1::PostPaymentRequest r = PostPayment(id, "unused", payment, amount);
    r.mutable_amount()->set_currency(currency);
    Must(&Stub::PostPayment, r, id);
  }
  v1::RecordContactAttemptRequest Call(const std::string& contact, v1::ContactOutcome outcome) {
    v1::RecordContactAttemptRequest call;
    call.set_contact_id(contact);
    call.set_channel(v1::CONTACT_CHANNEL_CALL);
    call.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
    call.set_address("+13125550100");
    call.set_phone_type(v1::PHONE_TYPE_CELL);
    call.set_outcome(outcome);
    return call;
  }
  void Promise(const std::string& id, const std::string& promise, int64_t amount,
               v1::LocalDate due) {
    v1::RecordPromiseToPayRequest r;
    r.set_promise_id(promise);
    r.mutable_amount()->set_amount_minor(amount);
    r.mutable_amount()->set_currency("USD");
    *r.mutable_due_date() = due;
    Must(&Stub::RecordPromiseToPay, r, id);
  }
  void OpenDispute(const std::string& id, const std::string& dispute, int64_t partial_amount) {
    v1::OpenDisputeRequest r;
    r.set_dispute_id(dispute);
    r.set_reason("not my balance");
    if (partial_amount > 0) {
      r.set_partial(true);
      r.set_disputed_amount_minor(partial_amount);
    }
    Must(&Stub::OpenDispute, r, id);
  }
  void Resolve(const std::string& id, const std::string& dispute, bool upheld) {
    v1::ResolveDisputeRequest r;
    r.set_dispute_id(dispute);
    r.set_upheld(upheld);
    r.set_resolution(upheld ? "consumer was right" : "debt verified");
    Must(&Stub::ResolveDispute, r, id);
  }

  template <typename Request, typename Response>
  Response Report(grpc::Status (v1::ReportingService::Stub::*method)(grpc::ClientContext*,
                                                                     const Request&, Response*),
                  const Request& request) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    Response out;
    grpc::Status s = ((*reports).*method)(&ctx, request, &out);
    BOOST_REQUIRE_MESSAGE(s.ok(), Request::descriptor()->name() << ": " << s.error_message());
    return out;
  }
  v1::GetActivityReportResponse Activity(
      v1::ReportPeriod period, v1::LocalDate start,
      v1::ReportGroupBy group_by = v1::REPORT_GROUP_BY_UNSPECIFIED,
      const v1::LocalDate* known_at = nullptr) {
    v1::GetActivityReportRequest r;
    r.set_period(period);
    *r.mutable_start() = start;
    r.set_group_by(group_by);
    if (known_at != nullptr) *r.mutable_as_known_at() = *known_at;
    return Report(&v1::ReportingService::Stub::GetActivityReport, r);
  }
  v1::GetAgingReportResponse Aging(v1::LocalDate as_of, const v1::LocalDate* known_at = nullptr) {
    v1::GetAgingReportRequest r;
    *r.mutable_as_of() = as_of;
    r.set_group_by(v1::REPORT_GROUP_BY_CREDITOR_AND_QUEUE);
    if (known_at != nullptr) *r.mutable_as_known_at() = *known_at;
    return Report(&v1::ReportingService::Stub::GetAgingReport, r);
  }
  v1::GetCollectionEffectivenessResponse Cei(const v1::LocalDate* known_at = nullptr) {
    v1::GetCollectionEffectivenessRequest r;
    *r.mutable_start() = Date(2025, 10, 1);
    *r.mutable_end() = Date(2025, 10, 31);
    if (known_at != nullptr) *r.mutable_as_known_at() = *known_at;
    return Report(&v1::ReportingService::Stub::GetCollectionEffectiveness, r);
  }
  v1::GetRollRatesResponse Rolls() {
    v1::GetRollRatesRequest r;
    *r.mutable_month() = Date(2025, 10, 1);
    return Report(&v1::ReportingService::Stub::GetRollRates, r);
  }

  History() {
    reports = v1::ReportingService::NewStub(ChannelAs(service.app().address(), "reporting-reader"));
    Open("ACC-1", "Acme Bank", "early", "alice", "USD", 100000, Date(2025, 9, 1), false);
    Open("ACC-2", "Acme Bank", "early", "bob", "USD", 50000, Date(2025, 9, 20), false);
    Open("ACC-3", "Zen Credit", "late", "alice", "USD", 80000, Date(2025, 7, 1), true);
    Open("ACC-4", "Zen Credit", "late", "bob", "EUR", 40000, Date(2025, 10, 20), false);

    At(Local(2025, 10, 1, 10));
    Pay("ACC-1", "P1", 20000);
    At(Local(2025, 10, 1, 11));
    Must(&Stub::RecordContactAttempt, Call("C1", v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION),
         "ACC-1");
    At(Local(2025, 10, 1, 11, 30));
    Promise("ACC-1", "PR1", 30000, Date(2025, 10, 8));

    At(Local(2025, 10, 2, 10));
    Must(&Stub::RecordContactAttempt, Call("C2", v1::CONTACT_OUTCOME_NO_ANSWER), "ACC-2");
    At(Local(2025, 10, 2, 10, 30));
    Must(&Stub::RecordContactAttempt, Call("C3", v1::CONTACT_OUTCOME_VOICEMAIL), "ACC-2");
    At(Local(2025, 10, 2, 11));
    Pay("ACC-2", "P2", 10000);
    At(Local(2025, 10, 3, 10));
    v1::ReversePaymentRequest reverse = ReversePayment("ACC-2", "unused", "P2");
    reverse.set_reason(v1::REVERSAL_REASON_NSF);
    Must(&Stub::ReversePayment, reverse, "ACC-2");

    At(Local(2025, 10, 6, 10));
    Pay("ACC-1", "P3", 30000);
    At(Local(2025, 10, 6, 11));
    Promise("ACC-2", "PR2", 20000, Date(2025, 10, 7));

    At(Local(2025, 10, 7, 10));
    Must(&Stub::RecordContactAttempt, Call("C4", v1::CONTACT_OUTCOME_NO_ANSWER), "ACC-3");
    At(Local(2025, 10, 7, 22));
    grpc::Status blocked =
        Send(&Stub::RecordContactAttempt, Call("C5", v1::CONTACT_OUTCOME_NO_ANSWER), "ACC-3");
    BOOST_REQUIRE(blocked.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    BOOST_REQUIRE(ErrorReason(blocked) == "F4");

    At(Local(2025, 10, 8, 10));
    v1::PostAdjustmentRequest accrual;
    accrual.set_adjustment_id("ADJ1");
    accrual.set_kind(v1::ADJUSTMENT_KIND_FEE_ACCRUAL);
    accrual.mutable_amounts()->set_fees_minor(1500);
    accrual.set_reason("late fee");
    Must(&Stub::PostAdjustment, accrual, "ACC-4");
    At(Local(2025, 10, 8, 11));
    OpenDispute("ACC-4", "D1", 0);
    At(Local(2025, 10, 9, 10));
    Resolve("ACC-4", "D1", false);

    At(Local(2025, 10, 10, 10));
    Open("ACC-5", "Acme Bank", "early", "alice", "USD", 30000, Date(2025, 11, 30), false);
    At(Local(2025, 10, 10, 11));
    v1::PostAdjustmentRequest write_off;
    write_off.set_adjustment_id("WO1");
    write_off.set_kind(v1::ADJUSTMENT_KIND_SMALL_BALANCE_WRITE_OFF);
    write_off.mutable_amounts()->set_principal_minor(2000);
    write_off.set_reason("small balance");
    Must(&Stub::PostAdjustment, write_off, "ACC-1");

    At(Local(2025, 10, 11, 9));  // PR2 (due 10-07 + 3 grace days) breaks at 10-11 00:00

    At(Local(2025, 10, 14, 10));
    Pay("ACC-2", "P4", 55000);
    At(Local(2025, 10, 14, 11));
    v1::RefundCreditRequest refund;
    refund.set_refund_id("R1");
    refund.mutable_amount()->set_amount_minor(5000);
    refund.mutable_amount()->set_currency("USD");
    refund.set_method(v1::PAYMENT_METHOD_ACH);
    Must(&Stub::RefundCredit, refund, "ACC-2");

    At(Local(2025, 10, 15, 10));
    OpenDispute("ACC-4", "D2", 1000);
    At(Local(2025, 10, 16, 10));
    Resolve("ACC-4", "D2", true);

    At(Local(2025, 10, 20, 10));
    Must(&Stub::RecordContactAttempt, Call("C6", v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION),
         "ACC-3");

    At(Local(2025, 11, 1, 10));
    Sync();
    october_before = Activity(v1::REPORT_PERIOD_MONTH, Date(2025, 10, 1));
    aging_before = Aging(Date(2025, 10, 31));
    cei_before = Cei();
    rolls_before = Rolls();

    At(Local(2025, 11, 3, 10));
    v1::PostPaymentRequest late = PostPayment("ACC-3", "unused", "P5", 10000);
    *late.mutable_occurred_at() = internal::ToProto(Local(2025, 10, 25, 12));
    Must(&Stub::PostPayment, late, "ACC-3");
    late_payment_sequence = last.version();  // the command's only event
    Sync();
  }
};

History* g_history = nullptr;

// Builds the history once for all test cases (it takes a few seconds on the broker) and shuts
// the service down before the process exits.
struct SharedHistory {
  SharedHistory() = default;
  ~SharedHistory() {
    delete g_history;
    g_history = nullptr;
  }
};
BOOST_TEST_GLOBAL_FIXTURE(SharedHistory);

History& H() {
  if (g_history == nullptr) g_history = new History();
  return *g_history;
}

std::string Bytes(const google::protobuf::Message& m) { return CanonicalBytes(m); }

// The one correction every October report must carry: P5, dated 10-25, recorded 11-03.
void ExpectLatePayment(const google::protobuf::RepeatedPtrField<v1::ReportFact>& corrections) {
  BOOST_REQUIRE_EQUAL(corrections.size(), 1);
  const v1::ReportFact& c = corrections[0];
  BOOST_TEST(c.account_id() == "ACC-3");
  BOOST_TEST(c.sequence() == H().late_payment_sequence);
  BOOST_TEST(c.kind() == v1::REPORT_FACT_KIND_PAYMENT);
  BOOST_TEST(reporting::DateText(c.business_date()) == "2025-10-25");
  BOOST_TEST(reporting::DateText(c.recorded_date()) == "2025-11-03");
  BOOST_TEST(c.amount_minor() == 10000);
  BOOST_TEST(c.balance_change_minor() == -10000);
  BOOST_TEST(c.assignee() == "alice");
}

BOOST_AUTO_TEST_CASE(activity_for_october_and_the_back_dated_payment) {
  History& h = H();
  auto r = h.Activity(v1::REPORT_PERIOD_MONTH, Date(2025, 10, 1));
  BOOST_TEST(reporting::DateText(r.end()) == "2025-10-31");
  BOOST_TEST(reporting::DateText(r.known_at()) == "2025-10-31");  // last day + close of 0 days
  BOOST_TEST(!r.provisional());
  BOOST_REQUIRE_EQUAL(r.groups_size(), 1);
  const v1::ActivityGroup& g = r.groups(0);
  BOOST_REQUIRE_EQUAL(g.money_size(), 2);  // EUR, then USD

  const v1::MoneyActivity& eur = g.money(0);
  BOOST_TEST(eur.currency() == "EUR");
  BOOST_TEST(eur.payments_count() == 0);
  BOOST_REQUIRE_EQUAL(eur.adjustments_size(), 2);
  BOOST_TEST(eur.adjustments(0).kind() == v1::ADJUSTMENT_KIND_FEE_ACCRUAL);  // ADJ1: +15.00
  BOOST_TEST(eur.adjustments(0).increase_minor() == 1500);
  BOOST_TEST(eur.adjustments(1).kind() == v1::ADJUSTMENT_KIND_DISPUTE_UPHELD);  // D2: -10.00
  BOOST_TEST(eur.adjustments(1).decrease_minor() == 1000);

  const v1::MoneyActivity& usd = g.money(1);
  BOOST_TEST(usd.currency() == "USD");
  // P1 200.00 + P2 100.00 + P3 300.00 + P4 550.00 = 1150.00 (P5 is dated October but recorded
  // after it closed: a correction, not a figure).
  BOOST_TEST(usd.payments_count() == 4);
  BOOST_TEST(usd.payments_minor() == 115000);
  BOOST_TEST(usd.reversals_count() == 1);  // P2
  BOOST_TEST(usd.reversals_minor() == 10000);
  BOOST_TEST(usd.refunds_count() == 1);  // R1
  BOOST_TEST(usd.refunds_minor() == 5000);
  BOOST_TEST(usd.net_collected_minor() == 100000);  // 115000 - 10000 - 5000
  BOOST_TEST(usd.adjustments_size() == 0);
  BOOST_REQUIRE_EQUAL(usd.write_offs_size(), 1);
  BOOST_TEST(usd.write_offs(0).kind() == v1::ADJUSTMENT_KIND_SMALL_BALANCE_WRITE_OFF);
  BOOST_TEST(usd.write_offs(0).decrease_minor() == 2000);
  BOOST_TEST(usd.promised_minor() == 50000);  // PR1 300.00 + PR2 200.00

  BOOST_TEST(g.promises().made() == 2);
  BOOST_TEST(g.promises().kept() == 1);                       // PR1
  BOOST_TEST(g.promises().broken() == 1);                     // PR2
  BOOST_TEST(g.promises().kept_rate_basis_points() == 5000);  // 1 / (1 + 1)
  // Calls C1 (RPC), C2, C3, C4, C6 (RPC); the refused 22:00 call C5 is not an attempt.
  BOOST_REQUIRE_EQUAL(g.contacts_size(), 1);
  BOOST_TEST(g.contacts(0).channel() == v1::CONTACT_CHANNEL_CALL);
  BOOST_TEST(g.contacts(0).attempts() == 5);
  BOOST_TEST(g.contacts(0).right_party_contacts() == 2);
  BOOST_TEST(g.contacts(0).right_party_contact_rate_basis_points() == 4000);  // 2 / 5
  BOOST_TEST(g.disputes().opened() == 2);                                     // D1, D2
  BOOST_TEST(g.disputes().resolved() == 2);
  BOOST_TEST(g.disputes().upheld() == 1);    // D2
  BOOST_TEST(g.disputes().rejected() == 1);  // D1
  BOOST_REQUIRE_EQUAL(g.compliance_blocks_size(), 1);
  BOOST_TEST(g.compliance_blocks(0).rule_id() == "F4");
  BOOST_TEST(g.compliance_blocks(0).count() == 1);

  // Reproducible: asked again after the back-dated payment, October's figures are the same
  // bytes as on 11-01; the payment is listed as a correction with its own dates.
  BOOST_TEST(h.october_before.corrections_size() == 0);
  BOOST_TEST(Bytes(h.october_before.groups(0)) == Bytes(g));
  ExpectLatePayment(r.corrections());

  // Restated as known at 11-03: P5 counts (5 payments, 1250.00), nothing left to correct.
  const v1::LocalDate nov3 = Date(2025, 11, 3);
  auto restated = h.Activity(v1::REPORT_PERIOD_MONTH, Date(2025, 10, 1),
                             v1::REPORT_GROUP_BY_UNSPECIFIED, &nov3);
  BOOST_TEST(restated.groups(0).money(1).payments_count() == 5);
  BOOST_TEST(restated.groups(0).money(1).payments_minor() == 125000);
  BOOST_TEST(restated.groups(0).money(1).net_collected_minor() == 110000);
  BOOST_TEST(restated.corrections_size() == 0);

  // November: P5 is dated October, so it is no part of November's activity.
  auto november = h.Activity(v1::REPORT_PERIOD_MONTH, Date(2025, 11, 1));
  BOOST_TEST(november.groups_size() == 0);
}

BOOST_AUTO_TEST_CASE(activity_for_a_day_and_a_week) {
  History& h = H();
  // 10-02: C2 (no answer), C3 (voicemail), P2 100.00.
  auto day = h.Activity(v1::REPORT_PERIOD_DAY, Date(2025, 10, 2));
  BOOST_REQUIRE_EQUAL(day.groups_size(), 1);
  BOOST_REQUIRE_EQUAL(day.groups(0).money_size(), 1);
  BOOST_TEST(day.groups(0).money(0).payments_minor() == 10000);
  BOOST_TEST(day.groups(0).money(0).reversals_minor() == 0);  // reversed the next day
  BOOST_TEST(day.groups(0).contacts(0).attempts() == 2);
  BOOST_TEST(day.groups(0).contacts(0).right_party_contact_rate_basis_points() == 0);

  // Week 10-06 .. 10-12: P3 300.00, PR1 kept, PR2 made and broken (10-11), C4, the F4 block,
  // ADJ1 +15.00 EUR, D1 opened and rejected, WO1 20.00. ACC-5's placement is not activity.
  auto week = h.Activity(v1::REPORT_PERIOD_WEEK, Date(2025, 10, 6));
  BOOST_TEST(reporting::DateText(week.end()) == "2025-10-12");
  const auto& g = week.groups(0);
  BOOST_REQUIRE_EQUAL(g.money_size(), 2);
  BOOST_TEST(g.money(0).adjustments(0).increase_minor() == 1500);
  BOOST_TEST(g.money(1).payments_count() == 1);
  BOOST_TEST(g.money(1).payments_minor() == 30000);
  BOOST_TEST(g.money(1).write_offs(0).decrease_minor() == 2000);
  BOOST_TEST(g.money(1).promised_minor() == 20000);
  BOOST_TEST(g.promises().made() == 1);
  BOOST_TEST(g.promises().kept() == 1);
  BOOST_TEST(g.promises().broken() == 1);
  BOOST_TEST(g.promises().kept_rate_basis_points() == 5000);
  BOOST_TEST(g.contacts(0).attempts() == 1);
  BOOST_TEST(g.disputes().opened() == 1);
  BOOST_TEST(g.disputes().rejected() == 1);
  BOOST_TEST(g.compliance_blocks(0).rule_id() == "F4");
  BOOST_TEST(week.corrections_size() == 0);
}

BOOST_AUTO_TEST_CASE(collector_performance_by_assignee) {
  History& h = H();
  auto r = h.Activity(v1::REPORT_PERIOD_MONTH, Date(2025, 10, 1), v1::REPORT_GROUP_BY_ASSIGNEE);
  BOOST_REQUIRE_EQUAL(r.groups_size(), 2);
  // alice: ACC-1 (P1, P3, C1, PR1 kept, WO1), ACC-3 (C4, F4 block, C6), ACC-5 (placement only).
  const auto& alice = r.groups(0);
  BOOST_TEST(alice.assignee() == "alice");
  BOOST_REQUIRE_EQUAL(alice.money_size(), 1);
  BOOST_TEST(alice.money(0).payments_count() == 2);
  BOOST_TEST(alice.money(0).payments_minor() == 50000);  // 20000 + 30000
  BOOST_TEST(alice.money(0).net_collected_minor() == 50000);
  BOOST_TEST(alice.money(0).write_offs(0).decrease_minor() == 2000);
  BOOST_TEST(alice.money(0).promised_minor() == 30000);
  BOOST_TEST(alice.promises().kept_rate_basis_points() == 10000);                 // 1 kept / 1
  BOOST_TEST(alice.contacts(0).attempts() == 3);                                  // C1, C4, C6
  BOOST_TEST(alice.contacts(0).right_party_contacts() == 2);                      // C1, C6
  BOOST_TEST(alice.contacts(0).right_party_contact_rate_basis_points() == 6667);  // 2 / 3 = 66.67%
  BOOST_TEST(alice.compliance_blocks(0).count() == 1);
  BOOST_TEST(alice.disputes().opened() == 0);
  // bob: ACC-2 (C2, C3, P2 and its reversal, PR2 broken, P4, R1), ACC-4 (ADJ1, D1, D2).
  const auto& bob = r.groups(1);
  BOOST_TEST(bob.assignee() == "bob");
  BOOST_REQUIRE_EQUAL(bob.money_size(), 2);
  BOOST_TEST(bob.money(0).currency() == "EUR");
  BOOST_TEST(bob.money(0).adjustments_size() == 2);
  BOOST_TEST(bob.money(1).payments_minor() == 65000);       // 10000 + 55000
  BOOST_TEST(bob.money(1).net_collected_minor() == 50000);  // 65000 - 10000 - 5000
  BOOST_TEST(bob.promises().broken() == 1);
  BOOST_TEST(bob.promises().kept_rate_basis_points() == 0);  // 0 kept / 1
  BOOST_TEST(bob.contacts(0).attempts() == 2);
  BOOST_TEST(bob.contacts(0).right_party_contacts() == 0);
  BOOST_TEST(bob.disputes().opened() == 2);
  BOOST_TEST(bob.compliance_blocks_size() == 0);

  // Queue performance: the late queue (ACC-3 alice, ACC-4 bob).
  auto queues = h.Activity(v1::REPORT_PERIOD_MONTH, Date(2025, 10, 1), v1::REPORT_GROUP_BY_QUEUE);
  BOOST_REQUIRE_EQUAL(queues.groups_size(), 2);
  BOOST_TEST(queues.groups(1).queue() == "late");
  BOOST_TEST(queues.groups(1).contacts(0).attempts() == 2);  // C4, C6
  BOOST_TEST(queues.groups(1).disputes().opened() == 2);
  BOOST_TEST(queues.groups(1).compliance_blocks(0).count() == 1);
}

BOOST_AUTO_TEST_CASE(aging_at_the_end_of_october) {
  History& h = H();
  auto r = h.Aging(Date(2025, 10, 31));
  // Balances at the end of 10-31:
  //   ACC-1  100000 - 20000 (P1) - 30000 (P3) - 2000 (WO1) = 48000, due 09-01: 60 days -> 60-89
  //   ACC-2  50000 - 10000 + 10000 - 50000 (P4 applied) = 0: not a receivable
  //   ACC-3  80000 (P5 not known by 10-31), due 07-01: 31 + 31 + 30 + 30 = 122 days -> 120-149
  //   ACC-4  40000 + 1500 - 1000 = 40500 EUR, due 10-20: 11 days -> 1-29
  //   ACC-5  30000, due 11-30: CURRENT
  BOOST_REQUIRE_EQUAL(r.rows_size(), 4);
  auto row = [&](int i, const std::string& creditor, const std::string& currency,
                 v1::AgingBucket bucket, int64_t balance) {
    BOOST_TEST_CONTEXT("row " << i) {
      BOOST_TEST(r.rows(i).creditor() == creditor);
      BOOST_TEST(r.rows(i).currency() == currency);
      BOOST_TEST(r.rows(i).bucket() == bucket);
      BOOST_TEST(r.rows(i).account_count() == 1);
      BOOST_TEST(r.rows(i).balance_minor() == balance);
    }
  };
  row(0, "Acme Bank", "USD", v1::AGING_BUCKET_CURRENT, 30000);
  row(1, "Acme Bank", "USD", v1::AGING_BUCKET_60_89, 48000);
  row(2, "Zen Credit", "EUR", v1::AGING_BUCKET_1_29, 40500);
  row(3, "Zen Credit", "USD", v1::AGING_BUCKET_120_149, 80000);
  BOOST_TEST(r.rows(0).queue() == "early");
  BOOST_TEST(r.rows(3).queue() == "late");
  BOOST_REQUIRE_EQUAL(r.totals_size(), 2);
  BOOST_TEST(r.totals(0).balance_minor() == 40500);
  BOOST_TEST(r.totals(1).account_count() == 3);
  BOOST_TEST(r.totals(1).balance_minor() == 158000);  // 30000 + 48000 + 80000
  BOOST_TEST(Bytes(h.aging_before.totals(1)) == Bytes(r.totals(1)));
  ExpectLatePayment(r.corrections());

  // Restated with what was known on 11-03: ACC-3 owes 700.00.
  const v1::LocalDate nov3 = Date(2025, 11, 3);
  auto restated = h.Aging(Date(2025, 10, 31), &nov3);
  BOOST_TEST(restated.rows(3).balance_minor() == 70000);
  BOOST_TEST(restated.totals(1).balance_minor() == 148000);
  BOOST_TEST(restated.corrections_size() == 0);

  // As of 09-30 (before October): ACC-1 29 days (1-29), ACC-2 10 days (1-29), ACC-3 91 days
  // (90-119), ACC-4 not yet due (CURRENT).
  auto september = h.Aging(Date(2025, 9, 30));
  BOOST_REQUIRE_EQUAL(september.rows_size(), 3);
  BOOST_TEST(september.rows(0).bucket() == v1::AGING_BUCKET_1_29);
  BOOST_TEST(september.rows(0).account_count() == 2);
  BOOST_TEST(september.rows(0).balance_minor() == 150000);
  BOOST_TEST(september.rows(1).bucket() == v1::AGING_BUCKET_CURRENT);
  BOOST_TEST(september.rows(2).bucket() == v1::AGING_BUCKET_90_119);
}

BOOST_AUTO_TEST_CASE(collection_effectiveness_for_october) {
  History& h = H();
  auto r = h.Cei();
  BOOST_REQUIRE_EQUAL(r.figures_size(), 2);
  // EUR: opening 40000 (ACC-4 at 09-30), no placements, closing 40500 of which current 0
  // (ACC-4 is 11 days past due). (40000 + 0 - 40500) / (40000 + 0 - 0) = -1.25% -> -125 bp.
  const auto& eur = r.figures(0);
  BOOST_TEST(eur.currency() == "EUR");
  BOOST_TEST(eur.opening_receivables_minor() == 40000);
  BOOST_TEST(eur.closing_total_receivables_minor() == 40500);
  BOOST_TEST(eur.closing_current_receivables_minor() == 0);
  BOOST_TEST(eur.cei_basis_points() == -125);
  // USD: opening 100000 + 50000 + 80000 = 230000; new placements 30000 (ACC-5); closing
  // 48000 + 80000 + 30000 = 158000, current 30000 (ACC-5).
  // (230000 + 30000 - 158000) / (230000 + 30000 - 30000) = 102000 / 230000 = 44.3478% -> 4435 bp.
  const auto& usd = r.figures(1);
  BOOST_TEST(usd.opening_receivables_minor() == 230000);
  BOOST_TEST(usd.new_placements_minor() == 30000);
  BOOST_TEST(usd.closing_total_receivables_minor() == 158000);
  BOOST_TEST(usd.closing_current_receivables_minor() == 30000);
  BOOST_TEST(usd.numerator_minor() == 102000);
  BOOST_TEST(usd.denominator_minor() == 230000);
  BOOST_TEST(usd.cei_basis_points() == 4435);
  BOOST_TEST(Bytes(h.cei_before.figures(1)) == Bytes(usd));
  ExpectLatePayment(r.corrections());

  // Known at 11-03: closing 148000, (260000 - 148000) / 230000 = 48.6957% -> 4870 bp.
  const v1::LocalDate nov3 = Date(2025, 11, 3);
  BOOST_TEST(h.Cei(&nov3).figures(1).cei_basis_points() == 4870);
}

BOOST_AUTO_TEST_CASE(roll_rates_for_october) {
  History& h = H();
  auto r = h.Rolls();
  BOOST_TEST(reporting::DateText(r.from_date()) == "2025-09-30");
  BOOST_TEST(reporting::DateText(r.to_date()) == "2025-10-31");
  // At 09-30: ACC-1 1-29 (100000), ACC-2 1-29 (50000), ACC-3 90-119 (80000), ACC-4 EUR CURRENT.
  // At 10-31: ACC-1 60-89 (48000), ACC-2 paid off, ACC-3 120-149, ACC-4 1-29 (40500).
  BOOST_REQUIRE_EQUAL(r.rates_size(), 4);
  BOOST_TEST(r.rates(0).currency() == "EUR");
  BOOST_TEST(r.rates(0).from_bucket() == v1::AGING_BUCKET_CURRENT);
  BOOST_TEST(r.rates(0).to_bucket() == v1::AGING_BUCKET_1_29);
  BOOST_TEST(r.rates(0).to_balance_minor() == 40500);
  BOOST_TEST(r.rates(0).rate_basis_points() == 10000);
  BOOST_TEST(r.rates(1).from_bucket() == v1::AGING_BUCKET_1_29);
  BOOST_TEST(r.rates(1).to_bucket() == v1::AGING_BUCKET_60_89);
  BOOST_TEST(r.rates(1).from_balance_minor() == 100000);
  BOOST_TEST(r.rates(1).to_balance_minor() == 48000);
  BOOST_TEST(r.rates(1).rate_basis_points() == 6667);  // 100000 / 150000
  BOOST_TEST(r.rates(2).exited());                     // ACC-2
  BOOST_TEST(r.rates(2).from_balance_minor() == 50000);
  BOOST_TEST(r.rates(2).rate_basis_points() == 3333);  // 50000 / 150000
  BOOST_TEST(r.rates(3).from_bucket() == v1::AGING_BUCKET_90_119);
  BOOST_TEST(r.rates(3).to_bucket() == v1::AGING_BUCKET_120_149);
  BOOST_TEST(r.rates(3).rate_basis_points() == 10000);
  BOOST_TEST(h.rolls_before.rates_size() == 4);
  for (int i = 0; i < 4; ++i) BOOST_TEST(Bytes(h.rolls_before.rates(i)) == Bytes(r.rates(i)));
  ExpectLatePayment(r.corrections());
}

BOOST_AUTO_TEST_CASE(bad_requests_name_the_field) {
  History& h = H();
  grpc::ClientContext ctx;
  v1::GetActivityReportRequest month_mid;
  month_mid.set_period(v1::REPORT_PERIOD_MONTH);
  *month_mid.mutable_start() = Date(2025, 10, 2);
  v1::GetActivityReportResponse out;
  grpc::Status s = h.reports->GetActivityReport(&ctx, month_mid, &out);
  BOOST_TEST(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(BadRequestField(s) == "period");
  grpc::ClientContext ctx2;
  v1::GetAgingReportRequest no_date;
  v1::GetAgingReportResponse aging;
  s = h.reports->GetAgingReport(&ctx2, no_date, &aging);
  BOOST_TEST(BadRequestField(s) == "as_of");
}

BOOST_AUTO_TEST_CASE(rebuilt_reporting_store_has_the_same_bytes) {
  History& h = H();
  h.Sync();
  TempDir dir;
  auto rebuilt = reporting::ReportingStore::Open((dir.path / "rebuilt").string());
  BOOST_REQUIRE(rebuilt.ok());
  reporting::ReportingProjector projector(h.service.options().log, *rebuilt.value(),
                                          h.service.options().log.partitions,
                                          h.service.options().log.topic + "-rebuild");
  BOOST_REQUIRE(!projector.CatchUp(absl::Seconds(60)).has_value());
  auto live = h.service.app().reporting_store().Digest();
  auto again = rebuilt.value()->Digest();
  BOOST_REQUIRE(live.ok());
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(live.value() == again.value());
  // The aggregate rows (in the digest too) sum, at each month-end, every account's last
  // snapshot: the live store got them event by event, the rebuilt one in the rebuild's batches.
  for (absl::CivilDay c : {absl::CivilDay(2025, 9, 30), absl::CivilDay(2025, 10, 31),
                           absl::CivilDay(2025, 11, 30)}) {
    reporting::Aggregate expected;
    for (const char* id : {"ACC-1", "ACC-2", "ACC-3", "ACC-4", "ACC-5"}) {
      auto snapshots = rebuilt.value()->GetSnapshots(id);
      BOOST_REQUIRE(snapshots.ok());
      auto it = snapshots.value().upper_bound(c);
      if (it == snapshots.value().begin()) continue;
      --it;
      reporting::AddContribution(expected, it->second, it->first, +1);
    }
    BOOST_TEST(!expected.empty());
    const reporting::ReportingStore* live_store = &h.service.app().reporting_store();
    const reporting::ReportingStore* rebuilt_store = rebuilt.value().get();
    for (const reporting::ReportingStore* store : {live_store, rebuilt_store}) {
      auto aggregate = store->ReadAggregate(c);
      BOOST_REQUIRE(aggregate.ok());
      BOOST_REQUIRE_EQUAL(aggregate.value().size(), expected.size());
      for (const auto& [key, sums] : expected) {
        BOOST_REQUIRE(aggregate.value().count(key) == 1);
        BOOST_TEST(aggregate.value().at(key).accounts == sums.accounts);
        BOOST_TEST((aggregate.value().at(key).balance_minor == sums.balance_minor));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(reports_from_the_aggregates_equal_a_full_scan_of_the_store) {
  // The service reads month-end snapshots, the report's own dates and the late index; here
  // the same store is also read whole (every fact ever recorded) and both must give the same
  // bytes, before and after the back-dated payment of 10-20 recorded on 11-03.
  History& h = H();
  h.Sync();
  const reporting::ReportingStore& store = h.service.app().reporting_store();
  auto snapshots = store.GetSnapshots("ACC-1");
  BOOST_REQUIRE(snapshots.ok());
  BOOST_TEST(snapshots.value().size() >= 2);  // several months of ACC-1 are folded
  const absl::CivilDay beginning(1, 1, 1);
  int corrections = 0, fewer_snapshots = 0;
  for (absl::CivilDay as_of : {absl::CivilDay(2025, 9, 30), absl::CivilDay(2025, 10, 20),
                               absl::CivilDay(2025, 10, 31), absl::CivilDay(2025, 11, 30)}) {
    for (absl::CivilDay known : {as_of, absl::CivilDay(2025, 11, 2), absl::CivilDay(2025, 11, 3),
                                 absl::CivilDay(2026, 1, 31)}) {
      auto all = store.ScanFacts(beginning, as_of);
      BOOST_REQUIRE(all.ok());
      auto input = store.ReadInput(reporting::SnapshotDateFor(as_of, known), as_of, true);
      BOOST_REQUIRE(input.ok());
      const auto scan = reporting::BuildAging(all.value(), as_of, known,
                                              v1::REPORT_GROUP_BY_CREDITOR_AND_QUEUE, true);
      const auto agg = reporting::BuildAging(input.value(), as_of, known,
                                             v1::REPORT_GROUP_BY_CREDITOR_AND_QUEUE, true);
      BOOST_TEST(Bytes(scan) == Bytes(agg), "aging as of " << as_of << " known " << known);
      corrections += scan.corrections_size();
      // Without the account list: the moved accounts' snapshots and the aggregate rows.
      reporting::ReportingStore::ReadStats stats;
      auto rows_input =
          store.ReadInput(reporting::SnapshotDateFor(as_of, known), as_of, false, &stats);
      BOOST_REQUIRE(rows_input.ok());
      BOOST_TEST(stats.snapshots == static_cast<int64_t>(rows_input.value().base.size()));
      if (stats.snapshots < 5) ++fewer_snapshots;
      for (auto by : {v1::REPORT_GROUP_BY_CREDITOR_AND_QUEUE, v1::REPORT_GROUP_BY_ASSIGNEE}) {
        BOOST_TEST(Bytes(reporting::BuildAging(all.value(), as_of, known, by, false)) ==
                       Bytes(reporting::BuildAging(rows_input.value(), as_of, known, by, false)),
                   "aging from the aggregate rows as of " << as_of << " known " << known);
      }
      const absl::CivilDay month = absl::CivilDay(absl::CivilMonth(as_of));
      auto cei_input = store.ReadInput(reporting::SnapshotDateFor(month - 1, known), as_of);
      BOOST_REQUIRE(cei_input.ok());
      BOOST_TEST(Bytes(reporting::BuildCollectionEffectiveness(all.value(), month, as_of, known)) ==
                 Bytes(reporting::BuildCollectionEffectiveness(cei_input.value(), month, as_of,
                                                               known)));
      auto month_all = store.ScanFacts(beginning, reporting::MonthEnd(as_of));
      BOOST_REQUIRE(month_all.ok());
      auto roll_input = store.ReadInput(reporting::SnapshotDateFor(month - 1, known),
                                        reporting::MonthEnd(as_of));
      BOOST_REQUIRE(roll_input.ok());
      BOOST_TEST(Bytes(reporting::BuildRollRates(month_all.value(), month, known)) ==
                 Bytes(reporting::BuildRollRates(roll_input.value(), month, known)));
    }
  }
  BOOST_TEST(corrections > 0);  // the late payment was listed, from the late index
  BOOST_TEST(fewer_snapshots > 0);  // some reports read only the accounts their facts move
}

BOOST_AUTO_TEST_CASE(a_store_of_the_older_layout_is_rebuilt_from_the_log) {
  History& h = H();
  h.Sync();
  for (int layout : {1, 2}) {
    TempDir dir;
    const std::string path = (dir.path / "old").string();
    {
      // Layout 1: offsets, briefs and facts only, no layout row, no snapshots, no late index.
      // Layout 2: snapshots and the late index but no aggregate rows.
      rocksdb::Options options;
      options.create_if_missing = true;
      options.create_missing_column_families = true;
      std::vector<rocksdb::ColumnFamilyDescriptor> families = {
          {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
          {"accounts", rocksdb::ColumnFamilyOptions()},
          {"facts", rocksdb::ColumnFamilyOptions()},
      };
      if (layout == 2) {
        families.emplace_back("late", rocksdb::ColumnFamilyOptions());
        families.emplace_back("snapshots", rocksdb::ColumnFamilyOptions());
      }
      std::vector<rocksdb::ColumnFamilyHandle*> handles;
      rocksdb::DB* db = nullptr;
      BOOST_REQUIRE(rocksdb::DB::Open(options, path, families, &handles, &db).ok());
      BOOST_REQUIRE(db->Put(rocksdb::WriteOptions(), handles[0], "offset/0", "1000000").ok());
      if (layout == 2) BOOST_REQUIRE(db->Put(rocksdb::WriteOptions(), handles[0], "layout", "2").ok());
      for (auto* handle : handles) BOOST_REQUIRE(db->DestroyColumnFamilyHandle(handle).ok());
      delete db;
    }
    auto store = reporting::ReportingStore::Open(path);
    BOOST_REQUIRE(store.ok());
    auto offsets = store.value()->LoadOffsets();
    BOOST_REQUIRE(offsets.ok());
    // Deleted: the projector starts again from offset 0.
    BOOST_TEST(offsets.value().empty(), "layout " << layout);
    reporting::ReportingProjector projector(
        h.service.options().log, *store.value(), h.service.options().log.partitions,
        h.service.options().log.topic + "-relayout" + std::to_string(layout));
    BOOST_REQUIRE(!projector.CatchUp(absl::Seconds(60)).has_value());
    auto live = h.service.app().reporting_store().Digest();
    auto again = store.value()->Digest();
    BOOST_REQUIRE(live.ok());
    BOOST_REQUIRE(again.ok());
    BOOST_TEST(live.value() == again.value(), "layout " << layout);
  }
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int Run(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

BOOST_AUTO_TEST_CASE(cli_exports_csv_with_progress) {
  History& h = H();
  TempDir dir;
  const CertFiles reader = ClientCert("reporting-reader");
  const std::string ctl = std::string(COLLECTIONS_CTL_BINARY) + " report --target " +
                          h.service.app().address() + " --tls-ca " + Pki().ca() +
                          " --tls-cert " + reader.cert + " --tls-key " + reader.key;
  const std::string cei = (dir.path / "cei.csv").string(),
                    corrections = (dir.path / "corr.csv").string(),
                    err = (dir.path / "err.txt").string();
  BOOST_REQUIRE_EQUAL(Run(ctl + " cei --start 2025-10-01 --end 2025-10-31 --format csv --out " +
                          cei + " --corrections-out " + corrections + " 2>" + err),
                      0);
  BOOST_TEST(
      Slurp(cei) ==
      "start,end,known_at,currency,opening_receivables_minor,new_placements_minor,"
      "closing_total_receivables_minor,closing_current_receivables_minor,numerator_minor,"
      "denominator_minor,cei_basis_points,cei_percent,currency_exponent\n"
      "2025-10-01,2025-10-31,2025-10-31,EUR,40000,0,40500,0,-500,40000,-125,-1.25,2\n"
      "2025-10-01,2025-10-31,2025-10-31,USD,230000,30000,158000,30000,102000,230000,4435,44.35,2\n");
  BOOST_TEST(
      Slurp(corrections) ==
      "account_id,sequence,event_type,kind,business_date,recorded_date,currency,amount_minor,"
      "balance_change_minor,assignee,queue,currency_exponent\n"
      "ACC-3," +
          std::to_string(h.late_payment_sequence) +
          ",collections.v1.PaymentPosted,PAYMENT,2025-10-25,2025-11-03,USD,10000,-10000,alice,"
          "late,2\n");

  // Two consecutive weeks by collector, with progress per period on stderr.
  const std::string weeks = (dir.path / "weeks.csv").string();
  BOOST_REQUIRE_EQUAL(Run(ctl +
                          " activity --period week --start 2025-10-06 --count 2 --group-by assignee"
                          " --format csv --out " +
                          weeks + " 2>" + err),
                      0);
  const std::string progress = Slurp(err);
  BOOST_TEST(progress.find("2025-10-06..2025-10-12 (1/2)") != std::string::npos, progress);
  BOOST_TEST(progress.find("2025-10-13..2025-10-19 (2/2)") != std::string::npos, progress);
  const std::string csv = Slurp(weeks);
  // One header, then rows of both weeks. Week 2 for bob: P4 550.00, R1 50.00, D2 upheld.
  BOOST_TEST(
      csv.rfind(
          "period_start,period_end,known_at,creditor,queue,assignee,measure,type,currency,count,"
          "amount_minor,rate_basis_points,currency_exponent\n",
          0) == 0);
  BOOST_TEST(csv.find("2025-10-13,2025-10-19,2025-10-19,,,bob,payments,,USD,1,55000,,2\n") !=
             std::string::npos);
  BOOST_TEST(csv.find("2025-10-13,2025-10-19,2025-10-19,,,bob,refunds,,USD,1,5000,,2\n") !=
             std::string::npos);
  BOOST_TEST(
      csv.find("2025-10-13,2025-10-19,2025-10-19,,,bob,adjustment,DISPUTE_UPHELD,EUR,1,-1000,,2\n") !=
      std::string::npos);
  BOOST_TEST(csv.find("2025-10-06,2025-10-12,2025-10-12,,,alice,compliance_blocks,F4,,1,,,\n") !=
             std::string::npos);
  BOOST_TEST(csv.find("period_start", 10) == std::string::npos);  // the header only once

  // Aging as a table, the back-dated payment printed under the figures.
  const std::string table = (dir.path / "aging.txt").string();
  BOOST_REQUIRE_EQUAL(
      Run(ctl + " aging --as-of 2025-10-31 --group-by creditor --out " + table + " 2>" + err), 0);
  const std::string text = Slurp(table);
  BOOST_TEST(text.find("120_149") != std::string::npos, text);
  BOOST_TEST(text.find("corrections") != std::string::npos, text);
  BOOST_TEST(Run(ctl + " aging 2>" + err) == 2);  // --as-of is required
}

}  // namespace
}  // namespace collections::testing
