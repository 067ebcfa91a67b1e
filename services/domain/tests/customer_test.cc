#define BOOST_TEST_MODULE customer
#include "services/domain/case_aggregate.h"
#include "services/domain/customer_aggregate.h"

#include "absl/time/civil_time.h"

#include <boost/test/unit_test.hpp>

// The customer aggregate as given events / when command / expect events or refusal: the
// receivables lifecycles of a customer (invoices, cash application, short payments, duplicates,
// credit memos, disputes, credit holds), no broker.

namespace collections {
namespace {

const absl::TimeZone kChicago = [] {
  absl::TimeZone tz;
  absl::LoadTimeZone("America/Chicago", &tz);
  return tz;
}();

absl::Time Local(int y, int m, int d) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, 12, 0), kChicago);
}

v1::LocalDate Date(int y, int m, int d) {
  v1::LocalDate date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

template <typename Request>
Request By(const std::string& actor, const std::string& role, Request r) {
  r.mutable_actor()->set_id(actor);
  r.mutable_actor()->set_role(role);
  return r;
}

template <typename Request>
Request With(const std::string& command_id, Request r) {
  r.set_command_id(command_id);
  r.set_customer_id("C-1");
  return By("collector-1", "collector", std::move(r));
}

v1::OpenCustomerRequest Open(v1::CashApplicationRule rule = v1::CASH_APPLICATION_RULE_OLDEST_FIRST,
                             bool auto_release = false) {
  v1::OpenCustomerRequest r;
  r.set_kind(v1::CUSTOMER_KIND_COMPANY);
  r.set_name("Northwind Traders");
  auto* c = r.add_contacts();
  c->set_contact_id("ap");
  c->set_name("Ann Payable");
  c->add_roles("accounts_payable");
  r.set_commercial(true);
  r.set_currency("USD");
  r.set_time_zone("America/Chicago");
  r.set_cash_application_rule(rule);
  r.set_auto_release_hold_when_current(auto_release);
  return With("open", r);
}

v1::LinkCustomerAccountRequest Link(const std::string& account) {
  v1::LinkCustomerAccountRequest r;
  r.set_linked_account_id(account);
  r.set_reason("opened for the customer");
  return With("link-" + account, r);
}

v1::RecordInvoiceRequest InvoiceOf(const std::string& id, const std::string& account,
                                   int64_t amount, v1::LocalDate due) {
  v1::RecordInvoiceRequest r;
  auto* i = r.mutable_invoice();
  i->set_invoice_id(id);
  i->set_number("N-" + id);
  i->set_account_id(account);
  *i->mutable_invoice_date() = Date(2025, 8, 1);
  *i->mutable_due_date() = due;
  i->mutable_amount()->set_amount_minor(amount);
  i->mutable_amount()->set_currency("USD");
  return With("inv-" + id, r);
}

v1::PaymentDirection ToInvoice(
    const std::string& invoice, int64_t amount = 0,
    v1::ShortPaymentReason reason = v1::SHORT_PAYMENT_REASON_UNSPECIFIED) {
  v1::PaymentDirection d;
  d.set_invoice_id(invoice);
  d.set_amount_minor(amount);
  d.set_short_reason(reason);
  return d;
}

v1::ReceiveCustomerPaymentRequest Payment(const std::string& id, int64_t amount,
                                          std::vector<v1::PaymentDirection> directions = {},
                                          const std::string& reference = "") {
  v1::ReceiveCustomerPaymentRequest r;
  r.set_payment_id(id);
  r.mutable_amount()->set_amount_minor(amount);
  r.mutable_amount()->set_currency("USD");
  r.set_method(v1::PAYMENT_METHOD_WIRE);
  r.set_payer_reference(reference.empty() ? "REM-" + id : reference);
  *r.mutable_received_date() = Date(2025, 10, 9);
  for (auto& d : directions) *r.add_directions() = d;
  return With("pay-" + id, r);
}

// Plays the writer's part for one customer: decide, number, apply.
struct Customer {
  CustomerState state;
  bool exists = false;
  absl::Time now = Local(2025, 10, 9);
  DomainSettings settings;
  std::vector<v1::EventEnvelope> log;

  Result<std::vector<v1::EventEnvelope>> When(const CustomerCommand& c) {
    auto r = DecideCustomer(exists ? &state : nullptr, c, now, settings);
    if (!r.ok()) return r;
    for (auto& e : r.value()) {
      e.set_sequence(state.version() + 1);
      *e.mutable_actor() = CustomerCommandActor(c);
      EvolveCustomer(state, e);
      exists = true;
      log.push_back(e);
    }
    return r;
  }
  // A step of the history the test relies on: it must be accepted.
  std::vector<v1::EventEnvelope> Given(const CustomerCommand& c) {
    auto r = When(c);
    BOOST_REQUIRE_MESSAGE(r.ok(), CustomerCommandName(c) + " refused: " +
                                      (r.ok() ? "" : r.error().reason + " " + r.error().message));
    return r.value();
  }
  // A refusal the writer records (AccessDenied) goes on the stream as it would.
  void Record(const Error& e, const CustomerCommand& c) {
    BOOST_REQUIRE(IsRecordedDenial(e));
    v1::EventEnvelope denied = CustomerAccessDeniedEvent(e, c);
    denied.set_sequence(state.version() + 1);
    *denied.mutable_actor() = CustomerCommandActor(c);
    EvolveCustomer(state, denied);
    log.push_back(denied);
  }
  const state::v1::CustomerInvoiceState& Invoice(const std::string& id) const {
    for (const auto& i : state.invoices()) {
      if (i.invoice().invoice_id() == id) return i;
    }
    BOOST_FAIL("no invoice " + id);
    return state.invoices(0);
  }
};

std::vector<v1::EventEnvelope::PayloadCase> Kinds(const std::vector<v1::EventEnvelope>& events) {
  std::vector<v1::EventEnvelope::PayloadCase> out;
  for (const auto& e : events) out.push_back(e.payload_case());
  return out;
}

using E = v1::EventEnvelope;

// A customer with two accounts and five invoices, 1,000.00 .. 5,000.00, due 1 Sept .. 1 Oct,
// recorded out of due order (INV-5 is the oldest).
Customer FiveInvoices(v1::CashApplicationRule rule = v1::CASH_APPLICATION_RULE_OLDEST_FIRST,
                      bool auto_release = false) {
  Customer c;
  c.Given(Open(rule, auto_release));
  c.Given(Link("ACC-1"));
  c.Given(Link("ACC-2"));
  c.Given(InvoiceOf("INV-1", "ACC-1", 100000, Date(2025, 9, 10)));
  c.Given(InvoiceOf("INV-2", "ACC-1", 200000, Date(2025, 9, 15)));
  c.Given(InvoiceOf("INV-3", "ACC-2", 300000, Date(2025, 9, 20)));
  c.Given(InvoiceOf("INV-4", "ACC-2", 400000, Date(2025, 10, 1)));
  c.Given(InvoiceOf("INV-5", "ACC-1", 500000, Date(2025, 9, 1)));
  return c;
}

BOOST_AUTO_TEST_CASE(customer_events_ride_on_the_customer_stream) {
  Customer c = FiveInvoices();
  BOOST_TEST(c.state.open_total_minor() == 1500000);
  BOOST_TEST(c.state.account_ids_size() == 2);
  for (const auto& e : c.log) {
    BOOST_TEST(e.account_id() == "customer/C-1");
    BOOST_TEST(e.customer_id() == "C-1");
  }
  BOOST_TEST(c.log.front().customer_opened().commercial());
}

BOOST_AUTO_TEST_CASE(payment_directed_to_two_invoices_leaves_the_rest_unapplied) {
  Customer c = FiveInvoices();
  auto p = Payment("P-1", 450000, {ToInvoice("INV-2"), ToInvoice("INV-4", 150000)});
  p.set_apply_remainder_by_rule(false);
  auto events = c.Given(p);
  BOOST_TEST((Kinds(events) == std::vector{E::kCustomerPaymentReceived, E::kPaymentApplied,
                                            E::kPaymentApplied, E::kUnappliedCashRecorded}));
  BOOST_TEST(events[1].payment_applied().invoice_id() == "INV-2");
  BOOST_TEST(events[1].payment_applied().amount_minor() == 200000);
  BOOST_TEST(events[1].payment_applied().directed());
  BOOST_TEST(events[1].payment_applied().invoice_open_after_minor() == 0);
  BOOST_TEST(events[2].payment_applied().invoice_id() == "INV-4");
  BOOST_TEST(events[2].payment_applied().account_id() == "ACC-2");
  BOOST_TEST(events[2].payment_applied().amount_minor() == 150000);
  BOOST_TEST(events[2].payment_applied().invoice_open_after_minor() == 250000);
  BOOST_TEST(events[3].unapplied_cash_recorded().amount_minor() == 100000);
  BOOST_TEST(c.state.unapplied_cash_minor() == 100000);
  BOOST_TEST(c.state.open_total_minor() == 1150000);
  BOOST_TEST(c.Invoice("INV-1").open_minor() == 100000);  // not directed: untouched
}

BOOST_AUTO_TEST_CASE(undirected_remainder_goes_oldest_first) {
  Customer c = FiveInvoices();
  // 2,000 directed to INV-3, then 6,000 by rule: INV-5 (due 1 Sept, 5,000) then 1,000 of INV-1.
  auto events = c.Given(Payment("P-1", 800000, {ToInvoice("INV-3", 200000)}));
  BOOST_TEST((Kinds(events) == std::vector{E::kCustomerPaymentReceived, E::kPaymentApplied,
                                            E::kPaymentApplied, E::kPaymentApplied}));
  BOOST_TEST(events[2].payment_applied().invoice_id() == "INV-5");
  BOOST_TEST(events[2].payment_applied().amount_minor() == 500000);
  BOOST_TEST(!events[2].payment_applied().directed());
  BOOST_TEST(events[2].payment_applied().rule() == v1::CASH_APPLICATION_RULE_OLDEST_FIRST);
  BOOST_TEST(events[3].payment_applied().invoice_id() == "INV-1");
  BOOST_TEST(events[3].payment_applied().amount_minor() == 100000);
  BOOST_TEST(c.state.unapplied_cash_minor() == 0);
}

BOOST_AUTO_TEST_CASE(pro_rata_is_exact_and_gives_the_odd_units_oldest_first) {
  Customer c;
  c.Given(Open(v1::CASH_APPLICATION_RULE_PRO_RATA));
  c.Given(Link("ACC-1"));
  c.Given(InvoiceOf("A", "ACC-1", 100, Date(2025, 9, 3)));
  c.Given(InvoiceOf("B", "ACC-1", 200, Date(2025, 9, 2)));
  c.Given(InvoiceOf("C", "ACC-1", 400, Date(2025, 9, 1)));
  // 100 of 700: floors 14 (A), 28 (B), 57 (C) = 99; the odd unit goes to the oldest, C.
  auto events = c.Given(Payment("P-1", 100));
  std::map<std::string, int64_t> applied;
  for (const auto& e : events) {
    if (e.has_payment_applied()) {
      applied[e.payment_applied().invoice_id()] = e.payment_applied().amount_minor();
    }
  }
  BOOST_TEST(applied["A"] == 14);
  BOOST_TEST(applied["B"] == 28);
  BOOST_TEST(applied["C"] == 58);
  BOOST_TEST(c.state.open_total_minor() == 600);
  BOOST_TEST(c.state.unapplied_cash_minor() == 0);
}

BOOST_AUTO_TEST_CASE(short_payment_with_a_deduction_opens_a_discrepancy_until_resolved) {
  Customer c = FiveInvoices();
  // 100.00 withheld: at the credit-memo threshold, so a collector may accept it alone.
  auto events = c.Given(Payment(
      "P-1", 90000, {ToInvoice("INV-1", 90000, v1::SHORT_PAYMENT_REASON_DEDUCTION)}));
  BOOST_TEST((Kinds(events) == std::vector{E::kCustomerPaymentReceived, E::kPaymentApplied,
                                            E::kShortPaymentDiscrepancyOpened}));
  const auto& d = events[2].short_payment_discrepancy_opened();
  BOOST_TEST(d.discrepancy_id() == "P-1:INV-1");
  BOOST_TEST(d.amount_minor() == 10000);
  BOOST_TEST(d.reason() == v1::SHORT_PAYMENT_REASON_DEDUCTION);
  BOOST_TEST(c.Invoice("INV-1").open_minor() == 10000);

  // Cash by rule leaves the withheld 100.00 alone: it goes to the oldest invoice, INV-5.
  auto more = c.Given(Payment("P-2", 10000));
  BOOST_TEST(more[1].payment_applied().invoice_id() == "INV-5");
  BOOST_TEST(c.Invoice("INV-1").open_minor() == 10000);

  // The deduction is accepted: a credit memo takes it off, in the same command.
  v1::ResolveShortPaymentRequest resolve;
  resolve.set_discrepancy_id("P-1:INV-1");
  resolve.set_resolution(v1::DISCREPANCY_RESOLUTION_ACCEPTED);
  resolve.set_adjustment_id("CM-P-1");
  resolve.set_note("valid promotional deduction");
  auto resolved = c.Given(With("resolve", resolve));
  BOOST_TEST((Kinds(resolved) == std::vector{E::kInvoiceAdjusted,
                                              E::kShortPaymentDiscrepancyResolved}));
  BOOST_TEST(resolved[0].invoice_adjusted().amount_minor() == 10000);
  BOOST_TEST(resolved[0].invoice_adjusted().discrepancy_id() == "P-1:INV-1");
  BOOST_TEST(resolved[1].short_payment_discrepancy_resolved().adjustment_id() == "CM-P-1");
  BOOST_TEST(c.Invoice("INV-1").open_minor() == 0);
  BOOST_TEST(c.Invoice("INV-1").in_discrepancy_minor() == 0);

  auto again = c.When(With("resolve-2", resolve));
  BOOST_REQUIRE(!again.ok());
  BOOST_TEST(again.error().reason == "DISCREPANCY_RESOLVED");
}

BOOST_AUTO_TEST_CASE(rejected_deduction_stays_owed_and_collectible) {
  Customer c = FiveInvoices();
  c.Given(Payment("P-1", 70000,
                  {ToInvoice("INV-1", 70000, v1::SHORT_PAYMENT_REASON_PRICING_DISPUTE)}));
  v1::ResolveShortPaymentRequest resolve;
  resolve.set_discrepancy_id("P-1:INV-1");
  resolve.set_resolution(v1::DISCREPANCY_RESOLUTION_REJECTED);
  auto resolved = c.Given(With("resolve", resolve));
  BOOST_TEST((Kinds(resolved) == std::vector{E::kShortPaymentDiscrepancyResolved}));
  BOOST_TEST(c.Invoice("INV-1").open_minor() == 30000);
  // Now the rule may apply to it: 5,000 to INV-5, then 300 to INV-1.
  auto more = c.Given(Payment("P-2", 530000));
  BOOST_TEST(more[2].payment_applied().invoice_id() == "INV-1");
  BOOST_TEST(more[2].payment_applied().amount_minor() == 30000);
}

BOOST_AUTO_TEST_CASE(a_duplicate_payment_is_refunded_not_applied_again) {
  Customer c = FiveInvoices();
  c.Given(Payment("P-1", 100000, {ToInvoice("INV-1")}, "WIRE-42"));
  const int64_t open = c.state.open_total_minor();
  auto events = c.Given(Payment("P-1-again", 100000, {ToInvoice("INV-2")}, "WIRE-42"));
  BOOST_TEST((Kinds(events) == std::vector{E::kCustomerPaymentReceived,
                                            E::kDuplicatePaymentRefunded}));
  BOOST_TEST(events[0].customer_payment_received().duplicate_of_payment_id() == "P-1");
  BOOST_TEST(events[1].duplicate_payment_refunded().refund_id() == "refund:P-1-again");
  BOOST_TEST(events[1].duplicate_payment_refunded().amount().amount_minor() == 100000);
  BOOST_TEST(c.state.open_total_minor() == open);
  BOOST_TEST(c.state.unapplied_cash_minor() == 0);
  // The same reference with another amount is a new payment.
  auto other = c.Given(Payment("P-2", 5000, {}, "WIRE-42"));
  BOOST_TEST(other[1].has_payment_applied());
}

BOOST_AUTO_TEST_CASE(credit_memo_above_the_threshold_needs_another_persons_approval) {
  Customer c = FiveInvoices();
  v1::AdjustInvoiceRequest small;
  small.set_adjustment_id("CM-1");
  small.set_invoice_id("INV-2");
  small.set_kind(v1::INVOICE_ADJUSTMENT_KIND_CREDIT_MEMO);
  small.set_amount_minor(5000);
  small.set_reason("late delivery");
  auto events = c.Given(With("cm-1", small));
  BOOST_TEST(events[0].invoice_adjusted().invoice_open_after_minor() == 195000);
  BOOST_TEST(events[0].invoice_adjusted().approved_by() == "collector-1");

  v1::AdjustInvoiceRequest big = small;
  big.set_adjustment_id("CM-2");
  big.set_amount_minor(50000);
  auto asked = c.When(With("cm-2", big));
  BOOST_REQUIRE(!asked.ok());
  BOOST_TEST(asked.error().reason == "SUPERVISOR_APPROVAL_REQUIRED");
  c.Record(asked.error(), With("cm-2", big));
  BOOST_TEST(c.state.pending_approvals_size() == 1);

  auto approved = c.Given(By("supervisor-1", "supervisor", With("cm-2-approve", big)));
  BOOST_TEST(approved[0].invoice_adjusted().approved_by() == "supervisor-1");
  BOOST_TEST(c.Invoice("INV-2").open_minor() == 145000);
  BOOST_TEST(c.state.pending_approvals_size() == 0);

  // A supervisor alone cannot issue one: nobody asked (four eyes).
  big.set_adjustment_id("CM-3");
  auto alone = c.When(By("supervisor-1", "supervisor", With("cm-3", big)));
  BOOST_REQUIRE(!alone.ok());
  BOOST_TEST(alone.error().reason == "SELF_APPROVAL");

  // More than is open is refused, naming the field.
  small.set_adjustment_id("CM-4");
  small.set_amount_minor(150000);
  auto too_much = c.When(With("cm-4", small));
  BOOST_REQUIRE(!too_much.ok());
  BOOST_TEST(too_much.error().field == "amount_minor");
}

BOOST_AUTO_TEST_CASE(payment_directed_to_a_disputed_invoice_is_refused) {
  Customer c = FiveInvoices();
  v1::DisputeInvoiceRequest dispute;
  dispute.set_invoice_id("INV-3");
  dispute.set_dispute_id("D-1");
  dispute.set_reason("goods never arrived");
  c.Given(With("dispute", dispute));
  const int64_t version = c.state.version();

  auto refused = c.When(Payment("P-1", 300000, {ToInvoice("INV-3")}));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(static_cast<int>(refused.error().code) == static_cast<int>(Errc::kFailedPrecondition));
  BOOST_TEST(refused.error().reason == "PAYMENT_TO_DISPUTED_INVOICE");
  BOOST_TEST(refused.error().field == "directions[0].invoice_id");
  BOOST_TEST(refused.error().metadata.front().second == "F14");
  BOOST_TEST(c.state.version() == version);  // nothing appended

  // By rule, the disputed invoice is skipped: INV-5, INV-1, INV-2, then INV-4 (not INV-3).
  auto events = c.Given(Payment("P-2", 1000000));
  for (const auto& e : events) {
    if (e.has_payment_applied()) BOOST_TEST(e.payment_applied().invoice_id() != "INV-3");
  }
  BOOST_TEST(c.Invoice("INV-3").open_minor() == 300000);
  BOOST_TEST(c.Invoice("INV-4").open_minor() == 200000);
}

BOOST_AUTO_TEST_CASE(wrong_directions_are_all_named) {
  Customer c = FiveInvoices();
  v1::PaymentDirection to_account;
  to_account.set_account_id("ACC-9");
  auto refused = c.When(Payment(
      "P-1", 100000, {ToInvoice("INV-9"), ToInvoice("INV-1", 200000), to_account}));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(static_cast<int>(refused.error().code) == static_cast<int>(Errc::kInvalidArgument));
  BOOST_REQUIRE(refused.error().violations.size() == 3u);
  BOOST_TEST(refused.error().violations[0].field == "directions[0].invoice_id");
  BOOST_TEST(refused.error().violations[1].field == "directions[1].amount_minor");
  BOOST_TEST(refused.error().violations[2].field == "directions[2].account_id");

  auto euros = Payment("P-2", 100);
  euros.mutable_amount()->set_currency("EUR");
  auto wrong_currency = c.When(euros);
  BOOST_REQUIRE(!wrong_currency.ok());
  BOOST_TEST(wrong_currency.error().field == "amount.currency");
}

BOOST_AUTO_TEST_CASE(invalid_requests_name_every_wrong_field) {
  v1::ReceiveCustomerPaymentRequest r;
  r.set_command_id("c");
  r.mutable_amount()->set_amount_minor(-5);
  v1::PaymentDirection both;
  both.set_invoice_id("I");
  both.set_account_id("A");
  *r.add_directions() = both;
  auto error = ValidateCustomerRequest(r);
  BOOST_REQUIRE(error.has_value());
  std::vector<std::string> fields;
  for (const auto& v : error->violations) fields.push_back(v.field);
  BOOST_TEST((fields == std::vector<std::string>{"customer_id", "payment_id",
                                                 "amount.amount_minor", "amount.currency",
                                                 "method", "received_date", "directions[0]"}));

  // An account id may not take the customers' key space.
  v1::OpenCaseRequest open;
  open.set_command_id("c");
  open.set_account_id("customer/C-1");
  auto account_error = ValidateRequest(Command{open});
  BOOST_REQUIRE(account_error.has_value());
  BOOST_TEST(account_error->violations.front().field == "account_id");
}

BOOST_AUTO_TEST_CASE(credit_hold_recommended_approved_released) {
  Customer c = FiveInvoices();
  v1::RecommendCreditHoldRequest recommend;
  recommend.set_hold_id("H-1");
  recommend.set_reason("45 days past due, no promise");
  auto recommended = c.Given(With("hold", recommend));
  BOOST_TEST(recommended[0].credit_hold_recommended().recommended_by() == "collector-1");
  BOOST_TEST(recommended[0].credit_hold_recommended().exposure_minor() == 1500000);
  // Oldest open invoice INV-5 was due 2025-09-01; today is 2025-10-09.
  BOOST_TEST(recommended[0].credit_hold_recommended().days_past_due() == 38);

  v1::ApproveCreditHoldRequest approve;
  approve.set_hold_id("H-1");
  auto by_collector = c.When(With("approve-1", approve));
  BOOST_REQUIRE(!by_collector.ok());
  BOOST_TEST(static_cast<int>(by_collector.error().code) ==
             static_cast<int>(Errc::kPermissionDenied));

  auto approved = c.Given(By("supervisor-1", "supervisor", With("approve-2", approve)));
  BOOST_TEST((Kinds(approved) == std::vector{E::kCreditHoldApproved}));
  BOOST_TEST(approved[0].credit_hold_approved().approved_by() == "supervisor-1");
  BOOST_TEST(approved[0].credit_hold_approved().recommended_by() == "collector-1");
  BOOST_TEST(approved[0].credit_hold_approved().reason() == "45 days past due, no promise");

  v1::ReleaseCreditHoldRequest release;
  release.set_hold_id("H-1");
  release.set_reason("payment plan agreed");
  auto released = c.Given(By("supervisor-1", "supervisor", With("release", release)));
  BOOST_TEST(!released[0].credit_hold_released().automatic());
  BOOST_TEST(c.state.holds(0).released());
}

BOOST_AUTO_TEST_CASE(a_supervisor_cannot_approve_a_hold_they_recommended) {
  Customer c = FiveInvoices();
  v1::RecommendCreditHoldRequest recommend;
  recommend.set_hold_id("H-1");
  recommend.set_reason("over limit");
  c.Given(By("supervisor-1", "supervisor", With("hold", recommend)));
  v1::ApproveCreditHoldRequest approve;
  approve.set_hold_id("H-1");
  auto self = c.When(By("supervisor-1", "supervisor", With("approve", approve)));
  BOOST_REQUIRE(!self.ok());
  BOOST_TEST(self.error().reason == "SELF_APPROVAL");
  BOOST_TEST(c.Given(By("supervisor-2", "supervisor", With("approve-2", approve))).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_hold_releases_itself_when_the_customer_becomes_current) {
  Customer c = FiveInvoices(v1::CASH_APPLICATION_RULE_OLDEST_FIRST, /*auto_release=*/true);
  v1::RecommendCreditHoldRequest recommend;
  recommend.set_hold_id("H-1");
  recommend.set_reason("past due");
  c.Given(With("hold", recommend));
  v1::ApproveCreditHoldRequest approve;
  approve.set_hold_id("H-1");
  c.Given(By("supervisor-1", "supervisor", With("approve", approve)));

  // Paying what is past due (INV-5, -1, -2, -3 and INV-4, due 1 Oct) makes it current.
  auto part = c.Given(Payment("P-1", 600000));
  BOOST_TEST(part.back().has_payment_applied());  // still past due: no release
  auto rest = c.Given(Payment("P-2", 900000));
  BOOST_TEST(rest.back().has_credit_hold_released());
  BOOST_TEST(rest.back().credit_hold_released().automatic());
  BOOST_TEST(c.state.holds(0).released());
}

BOOST_AUTO_TEST_CASE(invoices_need_a_linked_account_and_the_customers_currency) {
  Customer c = FiveInvoices();
  auto r = InvoiceOf("INV-9", "ACC-9", 100, Date(2025, 11, 1));
  r.mutable_invoice()->mutable_amount()->set_currency("EUR");
  auto refused = c.When(r);
  BOOST_REQUIRE(!refused.ok());
  BOOST_REQUIRE(refused.error().violations.size() == 2u);
  BOOST_TEST(refused.error().violations[0].field == "invoice.account_id");
  BOOST_TEST(refused.error().violations[1].field == "invoice.amount.currency");

  // An account with open invoices does not leave the customer.
  v1::UnlinkCustomerAccountRequest unlink;
  unlink.set_linked_account_id("ACC-1");
  unlink.set_reason("moved to the parent company");
  unlink.set_moved_to_customer_id("C-2");
  auto moved = c.When(With("unlink", unlink));
  BOOST_REQUIRE(!moved.ok());
  BOOST_TEST(moved.error().reason == "ACCOUNT_HAS_OPEN_INVOICES");
}

BOOST_AUTO_TEST_CASE(a_rebuild_from_the_log_equals_the_live_state) {
  Customer c = FiveInvoices();
  c.Given(Payment("P-1", 80000,
                  {ToInvoice("INV-1", 80000, v1::SHORT_PAYMENT_REASON_DAMAGED_GOODS)}));
  c.Given(Payment("P-2", 123457));
  CustomerState rebuilt;
  for (const auto& e : c.log) EvolveCustomer(rebuilt, e);
  BOOST_TEST(rebuilt.SerializeAsString() == c.state.SerializeAsString());
}

}  // namespace
}  // namespace collections
