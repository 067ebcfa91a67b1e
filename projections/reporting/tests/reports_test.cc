// The reporting core on hand-built histories: what each event contributes, and each report's
// figures computed by hand in the comments.
#define BOOST_TEST_MODULE reporting_reports
#include "projections/reporting/reports.h"

#include "projections/reporting/facts.h"
#include "projections/reporting/report_csv.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/internal.h"

#include "absl/time/civil_time.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>

namespace collections::reporting {
namespace {

const absl::TimeZone kChicago = [] {
  absl::TimeZone tz;
  absl::LoadTimeZone("America/Chicago", &tz);
  return tz;
}();

google::protobuf::Timestamp At(int y, int m, int d, int hh) {
  return internal::ToProto(absl::FromCivil(absl::CivilHour(y, m, d, hh), kChicago));
}

v1::LocalDate Date(int y, int m, int d) { return ToDate(absl::CivilDay(y, m, d)); }
absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }

// A fact as the projector would store it, for the report tests.
struct F {
  std::string account;
  int64_t seq;
  v1::ReportFactKind kind;
  absl::CivilDay business, recorded;
  int64_t amount = 0, change = 0;
};

v1::ReportFact Fact(const F& f, const std::string& currency = "USD",
                    const std::string& creditor = "Acme", const std::string& queue = "early",
                    const std::string& assignee = "c1") {
  v1::ReportFact out;
  out.set_account_id(f.account);
  out.set_sequence(f.seq);
  out.set_kind(f.kind);
  *out.mutable_business_date() = ToDate(f.business);
  *out.mutable_recorded_date() = ToDate(f.recorded);
  out.set_amount_minor(f.amount);
  out.set_balance_change_minor(f.change);
  out.set_currency(currency);
  out.set_creditor(creditor);
  out.set_queue(queue);
  out.set_assignee(assignee);
  return out;
}

v1::ReportFact Placement(const std::string& account, absl::CivilDay day, int64_t amount,
                         absl::CivilDay due, const std::string& currency = "USD",
                         const std::string& creditor = "Acme", const std::string& queue = "early") {
  v1::ReportFact f = Fact({account, 1, v1::REPORT_FACT_KIND_PLACEMENT, day, day, amount, amount},
                          currency, creditor, queue);
  *f.mutable_due_date() = ToDate(due);
  return f;
}

BOOST_AUTO_TEST_CASE(events_become_facts_in_the_account_zone) {
  v1::Account brief;
  v1::EventEnvelope open;
  open.set_account_id("A");
  open.set_sequence(1);
  auto* o = open.mutable_case_opened();
  o->set_creditor("Acme");
  o->set_currency("USD");
  o->set_time_zone("America/Chicago");
  o->set_assignee("c1");
  o->set_queue("early");
  o->mutable_balances()->set_principal_minor(100000);
  o->mutable_balances()->set_fees_minor(2500);
  *o->mutable_due_date() = Date(2025, 9, 1);
  // 2025-10-01 02:00 UTC is 2025-09-30 21:00 in Chicago (CDT, UTC-5): the business date is
  // the consumer's, not UTC's.
  open.mutable_occurred_at()->set_seconds(
      absl::ToUnixSeconds(absl::FromCivil(absl::CivilHour(2025, 10, 1, 2), absl::UTCTimeZone())));
  *open.mutable_recorded_at() = At(2025, 10, 1, 9);
  auto placed = ApplyEvent(brief, open);
  BOOST_REQUIRE(placed);
  BOOST_TEST(placed->kind() == v1::REPORT_FACT_KIND_PLACEMENT);
  BOOST_TEST(DateText(placed->business_date()) == "2025-09-30");
  BOOST_TEST(DateText(placed->recorded_date()) == "2025-10-01");
  BOOST_TEST(placed->amount_minor() == 102500);  // 100000 principal + 2500 fees
  BOOST_TEST(placed->balance_change_minor() == 102500);
  BOOST_TEST(placed->event_type() == "collections.v1.CaseOpened");

  v1::EventEnvelope pay;
  pay.set_account_id("A");
  pay.set_sequence(2);
  *pay.mutable_occurred_at() = At(2025, 10, 2, 10);
  *pay.mutable_recorded_at() = At(2025, 10, 2, 10);
  pay.mutable_payment_posted()->mutable_amount()->set_amount_minor(110000);
  pay.mutable_payment_posted()->mutable_applied()->set_principal_minor(100000);
  pay.mutable_payment_posted()->mutable_applied()->set_fees_minor(2500);
  pay.mutable_payment_posted()->set_to_credit_minor(7500);
  auto paid = ApplyEvent(brief, pay);
  BOOST_REQUIRE(paid);
  // The whole 1100.00 was collected, but only the 1025.00 applied leaves the receivable.
  BOOST_TEST(paid->amount_minor() == 110000);
  BOOST_TEST(paid->balance_change_minor() == -102500);
  BOOST_TEST(paid->assignee() == "c1");

  v1::EventEnvelope reverse;
  reverse.set_account_id("A");
  reverse.set_sequence(3);
  *reverse.mutable_occurred_at() = At(2025, 10, 3, 10);
  *reverse.mutable_recorded_at() = At(2025, 10, 3, 10);
  reverse.mutable_payment_reversed()->mutable_reopened()->set_principal_minor(100000);
  reverse.mutable_payment_reversed()->mutable_reopened()->set_fees_minor(2500);
  reverse.mutable_payment_reversed()->set_credit_removed_minor(7500);
  auto reversed = ApplyEvent(brief, reverse);
  BOOST_REQUIRE(reversed);
  BOOST_TEST(reversed->amount_minor() == 110000);          // 102500 reopened + 7500 credit
  BOOST_TEST(reversed->balance_change_minor() == 102500);  // only the reopened part is owed again

  v1::EventEnvelope assign;
  assign.set_account_id("A");
  assign.set_sequence(4);
  assign.mutable_case_assigned()->set_assignee("c2");
  assign.mutable_case_assigned()->set_queue("late");
  auto assigned = ApplyEvent(brief, assign);
  BOOST_REQUIRE(assigned);
  BOOST_TEST(assigned->assignee() == "c2");
  BOOST_TEST(brief.queue() == "late");

  v1::EventEnvelope charge_off;
  charge_off.set_account_id("A");
  charge_off.mutable_adjustment_posted()->set_kind(v1::ADJUSTMENT_KIND_CHARGE_OFF);
  charge_off.mutable_adjustment_posted()->mutable_decrease()->set_principal_minor(40000);
  auto written_off = ApplyEvent(brief, charge_off);
  BOOST_REQUIRE(written_off);
  BOOST_TEST(written_off->kind() == v1::REPORT_FACT_KIND_WRITE_OFF);
  BOOST_TEST(written_off->amount_minor() == 40000);
  BOOST_TEST(written_off->balance_change_minor() == -40000);

  v1::EventEnvelope accrual;
  accrual.set_account_id("A");
  accrual.mutable_adjustment_posted()->set_kind(v1::ADJUSTMENT_KIND_FEE_ACCRUAL);
  accrual.mutable_adjustment_posted()->mutable_increase()->set_fees_minor(1500);
  auto adjusted = ApplyEvent(brief, accrual);
  BOOST_REQUIRE(adjusted);
  BOOST_TEST(adjusted->kind() == v1::REPORT_FACT_KIND_ADJUSTMENT);
  BOOST_TEST(adjusted->amount_minor() == 1500);

  v1::EventEnvelope settled;
  settled.set_account_id("A");
  settled.mutable_settlement_completed()->mutable_written_off()->set_principal_minor(20000);
  auto forgiven = ApplyEvent(brief, settled);
  BOOST_REQUIRE(forgiven);
  BOOST_TEST(forgiven->kind() == v1::REPORT_FACT_KIND_WRITE_OFF);
  BOOST_TEST(forgiven->adjustment_kind() == v1::ADJUSTMENT_KIND_SETTLEMENT_DISCOUNT);
  BOOST_TEST(forgiven->balance_change_minor() == -20000);

  v1::EventEnvelope blocked;
  blocked.set_account_id("A");
  blocked.mutable_contact_blocked()->set_command("RecordContactAttempt");
  blocked.mutable_decision()->set_rule_id("F4");
  auto block = ApplyEvent(brief, blocked);
  BOOST_REQUIRE(block);
  BOOST_TEST(block->rule_id() == "F4");

  v1::EventEnvelope status;
  status.set_account_id("A");
  status.mutable_status_changed()->set_to(v1::ACCOUNT_STATUS_PAID_IN_FULL);
  BOOST_TEST(!ApplyEvent(brief, status).has_value());
}

BOOST_AUTO_TEST_CASE(aging_as_of_a_date_recomputes_days_past_due) {
  const absl::CivilDay d(2025, 10, 31);
  std::vector<v1::ReportFact> facts = {
      // A: due 09-01, 1000.00 owed, 400.00 paid on 10-10 -> 600.00 at 60 dpd (10-31 minus 09-01).
      Placement("A", D(2025, 9, 5), 100000, D(2025, 9, 1)),
      Fact({"A", 2, v1::REPORT_FACT_KIND_PAYMENT, D(2025, 10, 10), D(2025, 10, 10), 40000, -40000}),
      // B: due 10-15, 500.00 -> 16 dpd, bucket 1-29.
      Placement("B", D(2025, 10, 1), 50000, D(2025, 10, 15)),
      // C: due 11-15 (not yet due) -> CURRENT; other queue.
      Placement("C", D(2025, 10, 2), 30000, D(2025, 11, 15), "USD", "Acme", "late"),
      // D: paid off -> not a receivable.
      Placement("D", D(2025, 10, 1), 20000, D(2025, 9, 1)),
      Fact({"D", 2, v1::REPORT_FACT_KIND_PAYMENT, D(2025, 10, 20), D(2025, 10, 20), 20000, -20000}),
      // E: opened after the as-of date -> absent.
      Placement("E", D(2025, 11, 1), 99900, D(2025, 9, 1)),
      // F: in EUR, due 08-01 -> 91 dpd, bucket 90-119.
      Placement("F", D(2025, 9, 1), 70000, D(2025, 8, 1), "EUR", "Euro Bank", "early"),
  };
  auto r = BuildAging(facts, d, d, v1::REPORT_GROUP_BY_QUEUE, true);
  // Rows are by group (queue), then currency, then bucket.
  BOOST_REQUIRE_EQUAL(r.rows_size(), 4);
  BOOST_TEST(r.rows(0).queue() == "early");
  BOOST_TEST(r.rows(0).currency() == "EUR");
  BOOST_TEST(r.rows(0).bucket() == v1::AGING_BUCKET_90_119);
  BOOST_TEST(r.rows(0).balance_minor() == 70000);
  BOOST_TEST(r.rows(1).currency() == "USD");
  BOOST_TEST(r.rows(1).bucket() == v1::AGING_BUCKET_1_29);
  BOOST_TEST(r.rows(1).balance_minor() == 50000);
  BOOST_TEST(r.rows(2).bucket() == v1::AGING_BUCKET_60_89);
  BOOST_TEST(r.rows(2).balance_minor() == 60000);  // 100000 - 40000
  BOOST_TEST(r.rows(3).queue() == "late");
  BOOST_TEST(r.rows(3).bucket() == v1::AGING_BUCKET_CURRENT);
  BOOST_TEST(r.rows(3).balance_minor() == 30000);
  BOOST_REQUIRE_EQUAL(r.totals_size(), 2);
  BOOST_TEST(r.totals(1).currency() == "USD");
  BOOST_TEST(r.totals(1).account_count() == 3);       // A, B, C
  BOOST_TEST(r.totals(1).balance_minor() == 140000);  // 60000 + 50000 + 30000
  BOOST_REQUIRE_EQUAL(r.accounts_size(), 4);
  BOOST_TEST(r.accounts(0).account_id() == "A");
  BOOST_TEST(r.accounts(0).days_past_due() == 60);  // Sep has 30 days: 09-01 + 60 = 10-31
}

BOOST_AUTO_TEST_CASE(late_facts_are_corrections_not_figures) {
  const absl::CivilDay start(2025, 10, 1), end(2025, 10, 31);
  std::vector<v1::ReportFact> facts = {
      Fact({"A", 2, v1::REPORT_FACT_KIND_PAYMENT, D(2025, 10, 5), D(2025, 10, 5), 10000, -10000}),
      // Dated 10-20 but recorded 11-03: after October closed (close 0 days).
      Fact({"A", 3, v1::REPORT_FACT_KIND_PAYMENT, D(2025, 10, 20), D(2025, 11, 3), 5000, -5000}),
      Fact({"A", 4, v1::REPORT_FACT_KIND_REVERSAL, D(2025, 10, 6), D(2025, 10, 6), 10000, 10000}),
      Fact({"A", 5, v1::REPORT_FACT_KIND_REFUND, D(2025, 10, 7), D(2025, 10, 7), 700, 0}),
  };
  auto closed = BuildActivity(facts, start, end, end, v1::REPORT_GROUP_BY_UNSPECIFIED);
  BOOST_REQUIRE_EQUAL(closed.groups_size(), 1);
  const auto& m = closed.groups(0).money(0);
  BOOST_TEST(m.payments_count() == 1);
  BOOST_TEST(m.payments_minor() == 10000);
  BOOST_TEST(m.net_collected_minor() == -700);  // 10000 paid - 10000 reversed - 700 refunded
  BOOST_REQUIRE_EQUAL(closed.corrections_size(), 1);
  BOOST_TEST(closed.corrections(0).sequence() == 3);
  BOOST_TEST(DateText(closed.corrections(0).recorded_date()) == "2025-11-03");

  // Restated as known on 11-03: the late payment counts and is no longer a correction.
  auto restated = BuildActivity(facts, start, end, D(2025, 11, 3), v1::REPORT_GROUP_BY_UNSPECIFIED);
  BOOST_TEST(restated.groups(0).money(0).payments_minor() == 15000);
  BOOST_TEST(restated.corrections_size() == 0);
}

BOOST_AUTO_TEST_CASE(activity_counts_promises_contacts_disputes_and_blocks) {
  const absl::CivilDay day(2025, 10, 6);
  auto f = [&](int64_t seq, v1::ReportFactKind kind, const std::string& assignee) {
    return Fact({"A", seq, kind, day, day}, "USD", "Acme", "early", assignee);
  };
  std::vector<v1::ReportFact> facts;
  facts.push_back(f(1, v1::REPORT_FACT_KIND_PROMISE_KEPT, "c1"));
  facts.push_back(f(2, v1::REPORT_FACT_KIND_PROMISE_KEPT, "c1"));
  facts.push_back(f(3, v1::REPORT_FACT_KIND_PROMISE_BROKEN, "c1"));
  for (int i = 0; i < 3; ++i) {
    v1::ReportFact call = f(10 + i, v1::REPORT_FACT_KIND_CONTACT_ATTEMPT, "c1");
    call.set_channel(v1::CONTACT_CHANNEL_CALL);
    call.set_right_party_contact(i == 0);
    facts.push_back(call);
  }
  v1::ReportFact blocked = f(20, v1::REPORT_FACT_KIND_COMPLIANCE_BLOCK, "c2");
  blocked.set_rule_id("F4");
  facts.push_back(blocked);
  v1::ReportFact upheld = f(21, v1::REPORT_FACT_KIND_DISPUTE_RESOLVED, "c2");
  upheld.set_upheld(true);
  facts.push_back(upheld);
  auto r = BuildActivity(facts, day, day, day, v1::REPORT_GROUP_BY_ASSIGNEE);
  BOOST_REQUIRE_EQUAL(r.groups_size(), 2);
  const auto& c1 = r.groups(0);
  BOOST_TEST(c1.assignee() == "c1");
  BOOST_TEST(c1.money_size() == 0);                            // no money moved
  BOOST_TEST(c1.promises().kept_rate_basis_points() == 6667);  // 2 / 3 = 0.66666 -> 66.67%
  BOOST_REQUIRE_EQUAL(c1.contacts_size(), 1);
  BOOST_TEST(c1.contacts(0).right_party_contact_rate_basis_points() == 3333);  // 1 / 3
  const auto& c2 = r.groups(1);
  BOOST_TEST(!c2.promises().has_kept_rate_basis_points());  // nothing kept or broken
  BOOST_TEST(c2.disputes().resolved() == 1);
  BOOST_TEST(c2.disputes().upheld() == 1);
  BOOST_REQUIRE_EQUAL(c2.compliance_blocks_size(), 1);
  BOOST_TEST(c2.compliance_blocks(0).count() == 1);
}

BOOST_AUTO_TEST_CASE(collection_effectiveness_index) {
  const absl::CivilDay start(2025, 10, 1), end(2025, 10, 31);
  std::vector<v1::ReportFact> facts = {
      // Opening (end of 09-30): A 1000.00 (due 09-01).
      Placement("A", D(2025, 9, 10), 100000, D(2025, 9, 1)),
      // New placements in October: B 500.00, due 12-01 (current at month end).
      Placement("B", D(2025, 10, 10), 50000, D(2025, 12, 1)),
      // Collected: 300.00 on A, 100.00 on B.
      Fact({"A", 2, v1::REPORT_FACT_KIND_PAYMENT, D(2025, 10, 15), D(2025, 10, 15), 30000, -30000}),
      Fact({"B", 2, v1::REPORT_FACT_KIND_PAYMENT, D(2025, 10, 16), D(2025, 10, 16), 10000, -10000}),
  };
  auto r = BuildCollectionEffectiveness(facts, start, end, end);
  BOOST_REQUIRE_EQUAL(r.figures_size(), 1);
  const auto& c = r.figures(0);
  BOOST_TEST(c.opening_receivables_minor() == 100000);
  BOOST_TEST(c.new_placements_minor() == 50000);
  BOOST_TEST(c.closing_total_receivables_minor() == 110000);   // 70000 + 40000
  BOOST_TEST(c.closing_current_receivables_minor() == 40000);  // B only
  // (100000 + 50000 - 110000) / (100000 + 50000 - 40000) = 40000 / 110000 = 36.3636% -> 3636 bp
  BOOST_TEST(c.numerator_minor() == 40000);
  BOOST_TEST(c.denominator_minor() == 110000);
  BOOST_TEST(c.cei_basis_points() == 3636);
}

BOOST_AUTO_TEST_CASE(roll_rates_month_over_month) {
  // Month of October: buckets at 09-30 against buckets at 10-31.
  std::vector<v1::ReportFact> facts = {
      // A due 09-15: 15 dpd at 09-30 (1-29), 46 at 10-31 (30-59): rolls forward.
      Placement("A", D(2025, 9, 1), 60000, D(2025, 9, 15)),
      // B due 09-20: 10 dpd (1-29); paid in full 10-10: exits.
      Placement("B", D(2025, 9, 1), 40000, D(2025, 9, 20)),
      Fact({"B", 2, v1::REPORT_FACT_KIND_PAYMENT, D(2025, 10, 10), D(2025, 10, 10), 40000, -40000}),
      // C due 10-15: CURRENT at 09-30, 16 dpd (1-29) at 10-31.
      Placement("C", D(2025, 9, 1), 25000, D(2025, 10, 15)),
      // D placed in October: not in any from bucket.
      Placement("D", D(2025, 10, 2), 10000, D(2025, 9, 1)),
  };
  auto r = BuildRollRates(facts, D(2025, 10, 1), D(2025, 10, 31));
  BOOST_TEST(DateText(r.from_date()) == "2025-09-30");
  BOOST_TEST(DateText(r.to_date()) == "2025-10-31");
  BOOST_REQUIRE_EQUAL(r.rates_size(), 3);
  // Ordered by currency, from bucket, exited, to bucket.
  BOOST_TEST(r.rates(0).from_bucket() == v1::AGING_BUCKET_CURRENT);
  BOOST_TEST(r.rates(0).to_bucket() == v1::AGING_BUCKET_1_29);
  BOOST_TEST(r.rates(0).rate_basis_points() == 10000);
  BOOST_TEST(r.rates(1).from_bucket() == v1::AGING_BUCKET_1_29);
  BOOST_TEST(!r.rates(1).exited());
  BOOST_TEST(r.rates(1).to_bucket() == v1::AGING_BUCKET_30_59);
  BOOST_TEST(r.rates(1).rate_basis_points() == 6000);  // 60000 / (60000 + 40000)
  BOOST_TEST(r.rates(2).exited());
  BOOST_TEST(r.rates(2).from_balance_minor() == 40000);
  BOOST_TEST(r.rates(2).to_balance_minor() == 0);
  BOOST_TEST(r.rates(2).rate_basis_points() == 4000);
}

BOOST_AUTO_TEST_CASE(rounding_periods_and_csv) {
  BOOST_TEST(BasisPoints(1, 3) == 3333);
  BOOST_TEST(BasisPoints(2, 3) == 6667);
  BOOST_TEST(BasisPoints(1, 8) == 1250);
  BOOST_TEST(BasisPoints(-1, 3) == -3333);
  BOOST_TEST(BasisPoints(1, 20000) == 1);  // 0.5 bp rounds half up
  auto month = ResolvePeriod(v1::REPORT_PERIOD_MONTH, D(2024, 2, 1));
  BOOST_TEST(month.valid);
  BOOST_TEST(month.end == absl::CivilDay(2024, 2, 29));
  BOOST_TEST(!ResolvePeriod(v1::REPORT_PERIOD_MONTH, D(2024, 2, 2)).valid);
  BOOST_TEST(ResolvePeriod(v1::REPORT_PERIOD_WEEK, D(2025, 12, 29)).end ==
             absl::CivilDay(2026, 1, 4));

  v1::GetAgingReportResponse aging;
  *aging.mutable_as_of() = Date(2025, 10, 31);
  *aging.mutable_known_at() = Date(2025, 10, 31);
  auto* row = aging.add_rows();
  row->set_creditor("Acme, \"Inc\"");
  row->set_currency("USD");
  row->set_bucket(v1::AGING_BUCKET_30_59);
  row->set_account_count(2);
  row->set_balance_minor(12345);
  std::string csv;
  AppendCsv(AgingTable(aging), true, &csv);
  BOOST_TEST(csv ==
             "as_of,known_at,creditor,queue,assignee,currency,bucket,accounts,balance_minor,"
             "currency_exponent\n"
             "2025-10-31,2025-10-31,\"Acme, \"\"Inc\"\"\",,,USD,30_59,2,12345,2\n");
}


// A history as the projector sees it: per account, recorded dates move forward with the
// sequence, business dates sometimes lag them (back-dated corrections: payments, reversals,
// adjustments, re-assignments dated weeks earlier) and now and then lead them.
std::vector<v1::ReportFact> RandomHistory(uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  const char* queues[] = {"early", "late", "legal"};
  const char* people[] = {"c1", "c2", "c3"};
  std::vector<v1::ReportFact> out;
  for (int a = 0; a < 12; ++a) {
    const std::string id = "acct-" + std::to_string(a);
    const std::string currency = a % 4 == 0 ? "EUR" : "USD";
    const std::string creditor = a % 3 == 0 ? "Acme" : "Bolt";
    absl::CivilDay recorded = D(2025, 11, 1) + pick(120);
    const int64_t amount = 1000 + 100 * pick(500);
    v1::ReportFact placed = Placement(id, recorded, amount, recorded + pick(60) - 20, currency,
                                      creditor, queues[pick(3)]);
    out.push_back(placed);
    for (int64_t seq = 2; seq < 2 + pick(25); ++seq) {
      recorded += pick(12);
      absl::CivilDay business = recorded;
      const int lag = pick(10);
      if (lag < 3) business = recorded - pick(75);  // back-dated
      if (lag == 9) business = recorded + pick(3);  // dated ahead of its recording
      static const v1::ReportFactKind kinds[] = {
          v1::REPORT_FACT_KIND_PAYMENT,         v1::REPORT_FACT_KIND_PAYMENT,
          v1::REPORT_FACT_KIND_REVERSAL,        v1::REPORT_FACT_KIND_ADJUSTMENT,
          v1::REPORT_FACT_KIND_WRITE_OFF,       v1::REPORT_FACT_KIND_ASSIGNMENT,
          v1::REPORT_FACT_KIND_CONTACT_ATTEMPT, v1::REPORT_FACT_KIND_PROMISE_MADE,
          v1::REPORT_FACT_KIND_OFF_BOOK,
      };
      const v1::ReportFactKind kind = kinds[pick(9)];
      int64_t change = 0;
      if (kind == v1::REPORT_FACT_KIND_PAYMENT || kind == v1::REPORT_FACT_KIND_WRITE_OFF)
        change = -100 * pick(40);
      if (kind == v1::REPORT_FACT_KIND_REVERSAL) change = 100 * pick(40);
      if (kind == v1::REPORT_FACT_KIND_ADJUSTMENT) change = 100 * (pick(40) - 20);
      out.push_back(Fact({id, seq, kind, business, recorded, -change, change}, currency, creditor,
                         queues[pick(3)], people[pick(3)]));
    }
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

// What the reporting store hands a report (ReportingStore::ReadInput), from the snapshots the
// projector folds: the facts arrive in log order, which is not business order.
ReportInput FromAggregates(const std::vector<v1::ReportFact>& facts, absl::CivilDay first,
                           absl::CivilDay last, absl::CivilDay known_at) {
  std::map<std::string, std::map<absl::CivilDay, PositionState>> snapshots;
  for (const auto& f : facts) FoldIntoSnapshots(snapshots[f.account_id()], f);
  ReportInput input;
  input.base_date = SnapshotDateFor(first, known_at);
  for (const auto& [id, by_month] : snapshots) {
    auto it = by_month.upper_bound(*input.base_date);
    if (it == by_month.begin()) continue;
    // Through the stored bytes, as the store reads them.
    PositionState state;
    BOOST_REQUIRE(DecodeState(EncodeState(std::prev(it)->second), &state));
    input.base.emplace(id, state);
  }
  for (const auto& f : facts) {
    if (NeededBeyondSnapshot(f, *input.base_date, last)) input.facts.push_back(f);
  }
  return input;
}

BOOST_AUTO_TEST_CASE(snapshots_are_the_same_bytes_in_any_order) {
  std::vector<v1::ReportFact> facts = RandomHistory(7);
  std::map<std::string, std::map<absl::CivilDay, PositionState>> a, b;
  for (const auto& f : facts) FoldIntoSnapshots(a[f.account_id()], f);
  std::reverse(facts.begin(), facts.end());
  for (const auto& f : facts) FoldIntoSnapshots(b[f.account_id()], f);
  BOOST_REQUIRE_EQUAL(a.size(), b.size());
  size_t months = 0;
  for (const auto& [id, by_month] : a) {
    BOOST_REQUIRE_EQUAL(by_month.size(), b[id].size());
    for (const auto& [day, state] : by_month) {
      BOOST_TEST(EncodeState(state) == EncodeState(b[id].at(day)));
      ++months;
    }
  }
  BOOST_TEST(months > a.size());  // accounts span several months
}

BOOST_AUTO_TEST_CASE(reports_from_aggregates_equal_reports_from_a_full_scan) {
  // Back-dated corrections straddle month-ends: a payment recorded 2026-02-03 dated 2026-01-20
  // is not in the January snapshot, so a report as of January known in February must add it.
  int compared = 0, with_corrections = 0, with_rows = 0;
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    const std::vector<v1::ReportFact> facts = RandomHistory(seed);
    for (absl::CivilDay as_of = D(2025, 11, 15); as_of <= D(2026, 6, 30); as_of += 23) {
      for (int known_lag : {-40, -1, 0, 1, 9, 31, 400}) {
        const absl::CivilDay known = as_of + known_lag;
        for (auto by : {v1::REPORT_GROUP_BY_UNSPECIFIED, v1::REPORT_GROUP_BY_ASSIGNEE,
                        v1::REPORT_GROUP_BY_CREDITOR_AND_QUEUE}) {
          const auto scan = BuildAging(facts, as_of, known, by, true);
          const auto agg =
              BuildAging(FromAggregates(facts, as_of, as_of, known), as_of, known, by, true);
          BOOST_REQUIRE_MESSAGE(scan.SerializeAsString() == agg.SerializeAsString(),
                                "aging as of " << as_of << " known " << known << " seed " << seed
                                               << "\nscan " << scan.DebugString() << "\nagg "
                                               << agg.DebugString());
          with_corrections += scan.corrections_size() > 0;
          with_rows += scan.rows_size() > 0;
          ++compared;
        }
        const absl::CivilDay start = as_of - 20;
        const auto cei_scan = BuildCollectionEffectiveness(facts, start, as_of, known);
        const auto cei_agg = BuildCollectionEffectiveness(
            FromAggregates(facts, start - 1, as_of, known), start, as_of, known);
        BOOST_REQUIRE_MESSAGE(cei_scan.SerializeAsString() == cei_agg.SerializeAsString(),
                              "CEI " << start << ".." << as_of << " known " << known);
        const absl::CivilDay month = absl::CivilDay(absl::CivilMonth(as_of));
        const absl::CivilDay month_end = MonthEnd(as_of);
        const auto roll_scan = BuildRollRates(facts, month, known);
        const auto roll_agg =
            BuildRollRates(FromAggregates(facts, month - 1, month_end, known), month, known);
        BOOST_REQUIRE_MESSAGE(roll_scan.SerializeAsString() == roll_agg.SerializeAsString(),
                              "roll rates " << month << " known " << known);
        compared += 2;
      }
    }
  }
  // The comparison saw real figures and real corrections, not empty reports.
  BOOST_TEST(compared > 1000);
  BOOST_TEST(with_rows > 100);
  BOOST_TEST(with_corrections > 100);
}

// RandomHistory plus accounts long past due: placed in mid-2025, due months before, still owing
// when their later payments come (their snapshots then hold due dates that are aged out).
std::vector<v1::ReportFact> WithAgedOutAccounts(uint32_t seed) {
  std::vector<v1::ReportFact> out = RandomHistory(seed);
  for (int a = 0; a < 3; ++a) {
    const std::string id = "old-" + std::to_string(a);
    const absl::CivilDay placed = D(2025, 6, 1) + 10 * a;
    out.push_back(Placement(id, placed, 90000, placed - 40 * a, a == 1 ? "EUR" : "USD"));
    for (int64_t seq = 2; seq < 6; ++seq) {
      const absl::CivilDay day = placed + 61 * seq + static_cast<int>(seed);
      out.push_back(Fact({id, seq, v1::REPORT_FACT_KIND_PAYMENT, day - (seq == 4 ? 20 : 0), day,
                          1000, -1000},
                         a == 1 ? "EUR" : "USD"));
    }
  }
  return out;
}

// The aggregate deltas as the projector writes them: the facts in log order, cut into batches
// of `batch` facts; per batch, each account's snapshots before and after, from the first
// month-end the batch moved.
AggregateDeltas ProjectedDeltas(const std::vector<v1::ReportFact>& facts, size_t batch,
                                std::map<std::string, std::map<absl::CivilDay, PositionState>>*
                                    snapshots_out = nullptr) {
  std::map<std::string, std::map<absl::CivilDay, PositionState>> snapshots;
  AggregateDeltas deltas;
  for (size_t i = 0; i < facts.size(); i += batch) {
    std::map<std::string, std::map<absl::CivilDay, PositionState>> before;
    std::map<std::string, absl::CivilDay> from;
    for (size_t j = i; j < std::min(facts.size(), i + batch); ++j) {
      const v1::ReportFact& f = facts[j];
      if (!MovesPosition(f.kind())) continue;
      before.try_emplace(f.account_id(), snapshots[f.account_id()]);
      FoldIntoSnapshots(snapshots[f.account_id()], f);
      const absl::CivilDay end =
          MonthEnd(std::max(ToDay(f.business_date()), ToDay(f.recorded_date())));
      auto [it, inserted] = from.emplace(f.account_id(), end);
      if (!inserted) it->second = std::min(it->second, end);
    }
    for (const auto& [id, first] : from) {
      AddSnapshotDeltas(deltas, before.at(id), first, -1);
      AddSnapshotDeltas(deltas, snapshots.at(id), first, +1);
    }
  }
  if (snapshots_out != nullptr) *snapshots_out = std::move(snapshots);
  return deltas;
}

// The aggregate at `month_end` as the store sums it: every delta row of a month-end <= it,
// through the stored bytes.
Aggregate SumDeltas(const AggregateDeltas& deltas, absl::CivilDay month_end) {
  Aggregate out;
  for (const auto& [day, rows] : deltas) {
    if (day > month_end) break;
    for (const auto& [key, sums] : rows) {
      AggregateKey k;
      AggregateSums v;
      BOOST_REQUIRE(DecodeAggregateKey(EncodeAggregateKey(key), &k));
      BOOST_REQUIRE(DecodeSums(EncodeSums(sums), &v));
      AddSums(out, k, v);
    }
  }
  return out;
}

std::string Text(const Aggregate& a) {
  std::string out;
  for (const auto& [k, v] : a) {
    out += EncodeAggregateKey(k) + "=" + EncodeSums(v) + ";";
  }
  return out;
}

// What the store hands a report without listing accounts: the snapshots of the accounts the
// facts after the base move, and the aggregate of every other account.
ReportInput FromAggregateRows(const std::vector<v1::ReportFact>& facts,
                              const AggregateDeltas& deltas, absl::CivilDay first,
                              absl::CivilDay last, absl::CivilDay known_at) {
  std::map<std::string, std::map<absl::CivilDay, PositionState>> snapshots;
  for (const auto& f : facts) FoldIntoSnapshots(snapshots[f.account_id()], f);
  ReportInput input;
  input.base_date = SnapshotDateFor(first, known_at);
  for (const auto& f : facts) {
    if (NeededBeyondSnapshot(f, *input.base_date, last)) input.facts.push_back(f);
  }
  Aggregate unmoved = SumDeltas(deltas, *input.base_date);
  for (const auto& f : input.facts) {
    if (!MovesPosition(f.kind()) || input.base.count(f.account_id())) continue;
    const auto& by_month = snapshots[f.account_id()];
    auto it = by_month.upper_bound(*input.base_date);
    if (it == by_month.begin()) continue;
    --it;
    input.base.emplace(f.account_id(), it->second);
    AddContribution(unmoved, it->second, it->first, -1);
  }
  input.unmoved = std::move(unmoved);
  return input;
}

BOOST_AUTO_TEST_CASE(aggregate_rows_do_not_depend_on_batches_and_sum_every_snapshot) {
  int clamped = 0;
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    const std::vector<v1::ReportFact> facts = WithAgedOutAccounts(seed);
    std::map<std::string, std::map<absl::CivilDay, PositionState>> snapshots;
    const AggregateDeltas one_by_one = ProjectedDeltas(facts, 1, &snapshots);
    // A rebuild reads the log in other batches: the same rows, byte for byte.
    for (size_t batch : {size_t{7}, size_t{50}, facts.size()}) {
      const AggregateDeltas rebuilt = ProjectedDeltas(facts, batch);
      BOOST_REQUIRE_EQUAL(rebuilt.size(), one_by_one.size());
      for (const auto& [day, rows] : one_by_one) {
        BOOST_TEST(Text(rows) == Text(rebuilt.at(day)), "month " << day << " batch " << batch);
      }
    }
    // The sum of the rows up to C is every account's last snapshot <= C, summed.
    for (absl::CivilDay c = D(2025, 5, 31); c <= D(2026, 8, 31); c = MonthEnd(c + 1)) {
      Aggregate direct;
      for (const auto& [id, by_month] : snapshots) {
        auto it = by_month.upper_bound(c);
        if (it == by_month.begin()) continue;
        --it;
        AddContribution(direct, it->second, it->first, +1);
        if (IsReceivable(it->second.position) &&
            it->second.position.due_date < it->first - kAgedOutDays) {
          ++clamped;
        }
      }
      BOOST_TEST(Text(SumDeltas(one_by_one, c)) == Text(direct), "seed " << seed << " at " << c);
    }
  }
  BOOST_TEST(clamped > 0);  // some due dates were old enough to share the aged-out key
  // The aged-out key is exact: from kAgedOutDays on every day is in the last bucket.
  BOOST_TEST(BucketFor(kAgedOutDays - 1) != v1::AGING_BUCKET_180_PLUS);
  for (int32_t dpd : {kAgedOutDays, kAgedOutDays + 1, 1000, 100000}) {
    BOOST_TEST(BucketFor(dpd) == v1::AGING_BUCKET_180_PLUS);
  }
}

BOOST_AUTO_TEST_CASE(reports_from_aggregate_rows_equal_reports_from_a_full_scan) {
  // As above, but the accounts no fact after the base moves come as aggregate rows only.
  int compared = 0, with_rows = 0, fewer_snapshots = 0;
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    const std::vector<v1::ReportFact> facts = WithAgedOutAccounts(seed);
    const AggregateDeltas deltas = ProjectedDeltas(facts, 5);
    for (absl::CivilDay as_of = D(2025, 7, 15); as_of <= D(2026, 6, 30); as_of += 23) {
      for (int known_lag : {-40, -1, 0, 1, 9, 31, 400}) {
        const absl::CivilDay known = as_of + known_lag;
        const ReportInput aging_input = FromAggregateRows(facts, deltas, as_of, as_of, known);
        fewer_snapshots += aging_input.base.size() < 15 && !aging_input.unmoved->empty();
        for (auto by : {v1::REPORT_GROUP_BY_UNSPECIFIED, v1::REPORT_GROUP_BY_ASSIGNEE,
                        v1::REPORT_GROUP_BY_CREDITOR_AND_QUEUE, v1::REPORT_GROUP_BY_QUEUE}) {
          const auto scan = BuildAging(facts, as_of, known, by, false);
          const auto agg = BuildAging(aging_input, as_of, known, by, false);
          BOOST_REQUIRE_MESSAGE(scan.SerializeAsString() == agg.SerializeAsString(),
                                "aging as of " << as_of << " known " << known << " seed " << seed
                                               << "\nscan " << scan.DebugString() << "\nagg "
                                               << agg.DebugString());
          with_rows += scan.rows_size() > 0;
          ++compared;
        }
        for (int days : {0, 20, 45}) {
          const absl::CivilDay start = as_of - days;
          const auto cei_scan = BuildCollectionEffectiveness(facts, start, as_of, known);
          const auto cei_agg = BuildCollectionEffectiveness(
              FromAggregateRows(facts, deltas, start - 1, as_of, known), start, as_of, known);
          BOOST_REQUIRE_MESSAGE(cei_scan.SerializeAsString() == cei_agg.SerializeAsString(),
                                "CEI " << start << ".." << as_of << " known " << known << "\nscan "
                                       << cei_scan.DebugString() << "\nagg "
                                       << cei_agg.DebugString());
          ++compared;
        }
        const absl::CivilDay month = absl::CivilDay(absl::CivilMonth(as_of));
        const auto roll_scan = BuildRollRates(facts, month, known);
        const auto roll_agg = BuildRollRates(
            FromAggregateRows(facts, deltas, month - 1, MonthEnd(as_of), known), month, known);
        BOOST_REQUIRE_MESSAGE(roll_scan.SerializeAsString() == roll_agg.SerializeAsString(),
                              "roll rates " << month << " known " << known << "\nscan "
                                            << roll_scan.DebugString() << "\nagg "
                                            << roll_agg.DebugString());
        ++compared;
      }
    }
  }
  BOOST_TEST(compared > 1000);
  BOOST_TEST(with_rows > 100);
  BOOST_TEST(fewer_snapshots > 50);  // reports that read fewer snapshots than there are accounts
}

BOOST_AUTO_TEST_CASE(aggregate_rows_that_do_not_parse_are_refused) {
  const AggregateKey key{"Acme", "early", "c1", "USD", D(2025, 9, 1)};
  AggregateKey k;
  BOOST_REQUIRE(DecodeAggregateKey(EncodeAggregateKey(key), &k));
  BOOST_TEST((k == key));
  BOOST_TEST(!DecodeAggregateKey(EncodeAggregateKey(key) + "x", &k));
  AggregateSums sums{-3, -(static_cast<__int128>(1) << 70) - 5};
  AggregateSums back;
  BOOST_REQUIRE(DecodeSums(EncodeSums(sums), &back));
  BOOST_TEST(back.accounts == -3);
  BOOST_TEST((back.balance_minor == sums.balance_minor));
  BOOST_TEST(!DecodeSums(EncodeSums(sums).substr(1), &back));
  BOOST_TEST(!DecodeSums("", &back));
}

BOOST_AUTO_TEST_CASE(a_state_that_does_not_parse_is_refused) {
  PositionState state;
  state.position.account_id = "A";
  state.position.balance_minor = -42;
  const std::string bytes = EncodeState(state);
  PositionState back;
  BOOST_REQUIRE(DecodeState(bytes, &back));
  BOOST_TEST(back.position.balance_minor == -42);
  BOOST_TEST(!DecodeState(bytes.substr(0, bytes.size() - 1), &back));
  BOOST_TEST(!DecodeState(bytes + "x", &back));
  BOOST_TEST(!DecodeState("", &back));
}

}  // namespace
}  // namespace collections::reporting
