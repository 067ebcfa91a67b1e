// A customer's accounts receivable end to end: CustomerCommandService over mutual TLS, the
// real broker, the writer's store across a restart, and the event topic as a downstream
// consumer reads it (read_committed).
#define BOOST_TEST_MODULE customer_lifecycle
#include "services/domain/customer_aggregate.h"
#include "tests/support/fixture.h"

#include "collections/v1/compliance_service.grpc.pb.h"
#include "collections/v1/customer_command_service.grpc.pb.h"
#include "collections/v1/customer_query_service.grpc.pb.h"

#include <boost/test/unit_test.hpp>
#include <set>

namespace collections::testing {
namespace {

using CustomerStub = v1::CustomerCommandService::Stub;

v1::Money Usd(int64_t minor) {
  v1::Money m;
  m.set_amount_minor(minor);
  m.set_currency("USD");
  return m;
}

// Sends customer commands as a given principal ("test-suite" is admin; "collector-1",
// "supervisor-1" and "supervisor-2" hold their roles in the shipped access policy).
struct Customers {
  explicit Customers(TestService& s, std::string customer = "C-1")
      : service(s), customer_id(std::move(customer)) {}

  TestService& service;
  std::string customer_id;
  int counter = 0;
  v1::CommandReply last;
  std::map<std::string, std::unique_ptr<CustomerStub>> stubs;

  CustomerStub& As(const std::string& principal) {
    auto& stub = stubs[principal];
    if (stub == nullptr) stub = v1::CustomerCommandService::NewStub(service.channel_as(principal));
    return *stub;
  }
  template <typename Request>
  grpc::Status Send(grpc::Status (CustomerStub::*rpc)(grpc::ClientContext*, const Request&,
                                                      v1::CommandReply*),
                    Request r, const std::string& principal = kTestPrincipal) {
    if (r.customer_id().empty()) r.set_customer_id(customer_id);
    if (r.command_id().empty()) r.set_command_id("cust-" + std::to_string(++counter));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return (As(principal).*rpc)(&ctx, r, &last);
  }
  template <typename Request>
  v1::CommandReply Must(grpc::Status (CustomerStub::*rpc)(grpc::ClientContext*, const Request&,
                                                          v1::CommandReply*),
                        Request r, const std::string& principal = kTestPrincipal) {
    auto s = Send(rpc, std::move(r), principal);
    BOOST_REQUIRE_MESSAGE(s.ok(), Request::descriptor()->name()
                                      << " as " << principal << ": " << s.error_message());
    return last;
  }

  void Open(bool auto_release = false) {
    v1::OpenCustomerRequest r;
    r.set_kind(v1::CUSTOMER_KIND_COMPANY);
    r.set_name("Northwind Traders");
    r.set_commercial(true);
    r.set_currency("USD");
    r.set_time_zone("America/Chicago");
    r.set_cash_application_rule(v1::CASH_APPLICATION_RULE_OLDEST_FIRST);
    r.set_auto_release_hold_when_current(auto_release);
    auto* contact = r.add_contacts();
    contact->set_contact_id("ap-1");
    contact->set_name("Pat Payables");
    contact->add_roles("accounts_payable");
    Must(&CustomerStub::OpenCustomer, r);
  }
  void Link(const std::string& account) {
    v1::LinkCustomerAccountRequest r;
    r.set_linked_account_id(account);
    r.set_reason("master agreement");
    Must(&CustomerStub::LinkCustomerAccount, r);
  }
  v1::RecordInvoiceRequest Invoice(const std::string& id, const std::string& account, int day,
                                   int64_t minor) {
    v1::RecordInvoiceRequest r;
    r.mutable_invoice()->set_invoice_id(id);
    r.mutable_invoice()->set_number("N-" + id);
    r.mutable_invoice()->set_account_id(account);
    *r.mutable_invoice()->mutable_invoice_date() = Date(2025, 8, day);
    *r.mutable_invoice()->mutable_due_date() = Date(2025, 9, day);
    *r.mutable_invoice()->mutable_amount() = Usd(minor);
    return r;
  }
  v1::ReceiveCustomerPaymentRequest Payment(const std::string& id, int64_t minor,
                                            const std::string& reference) {
    v1::ReceiveCustomerPaymentRequest r;
    r.set_payment_id(id);
    *r.mutable_amount() = Usd(minor);
    r.set_method(v1::PAYMENT_METHOD_CHEQUE);
    r.set_payer_reference(reference);
    *r.mutable_received_date() = Date(2025, 10, 14);
    return r;
  }
  static void Direct(v1::ReceiveCustomerPaymentRequest& r, const std::string& invoice,
                     int64_t minor,
                     v1::ShortPaymentReason reason = v1::SHORT_PAYMENT_REASON_UNSPECIFIED) {
    auto* d = r.add_directions();
    d->set_invoice_id(invoice);
    d->set_amount_minor(minor);
    d->set_short_reason(reason);
  }
};

google::protobuf::Timestamp Stamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

// The customer's events on the topic, in sequence order (one partition: the stream's).
std::vector<LoggedEvent> StreamOf(const std::string& topic, const std::string& customer_id) {
  std::vector<LoggedEvent> out;
  for (auto& e : ReadTopic(topic)) {
    if (e.key == CustomerStreamKey(customer_id)) out.push_back(std::move(e));
  }
  return out;
}

// The events `reply` appended, decoded from the topic.
std::vector<v1::EventEnvelope> EventsOf(const std::string& topic, const v1::CommandReply& reply) {
  std::set<std::string> ids(reply.event_ids().begin(), reply.event_ids().end());
  std::vector<v1::EventEnvelope> out;
  for (const auto& e : ReadTopic(topic)) {
    if (ids.count(e.envelope.event_id()) > 0) out.push_back(e.envelope);
  }
  return out;
}

const v1::EventEnvelope* First(const std::vector<v1::EventEnvelope>& events,
                               v1::EventEnvelope::PayloadCase payload) {
  for (const auto& e : events) {
    if (e.payload_case() == payload) return &e;
  }
  return nullptr;
}

struct Fixture : ClockedService {
  Fixture() : ClockedService(absl::FromCivil(absl::CivilHour(2025, 10, 15, 15),
                                             absl::UTCTimeZone()),
                             "customer"),
              customers(service) {}
  Customers customers;
  std::string topic() const { return service.options().log.topic; }
};

BOOST_AUTO_TEST_CASE(a_customer_with_five_invoices_through_payments_memos_disputes_and_holds) {
  Fixture f;
  Customers& c = f.customers;
  // An account of the customer is an ordinary case as well.
  f.Must(&Stub::OpenCase, OpenCase("ACC-A", "open-acc-a"), "ACC-A");
  c.Open();
  c.Link("ACC-A");
  c.Link("ACC-B");
  for (int i = 1; i <= 5; ++i) {
    c.Must(&CustomerStub::RecordInvoice,
           c.Invoice("INV-" + std::to_string(i), i <= 3 ? "ACC-A" : "ACC-B", i, 20000));
  }
  BOOST_TEST(c.last.account_id() == "customer/C-1");
  BOOST_TEST(c.last.version() == 8);  // opened, two links, five invoices

  // Bad input names every wrong field, and appends nothing.
  {
    v1::RecordInvoiceRequest bad = c.Invoice("", "", 1, -5);
    auto s = c.Send(&CustomerStub::RecordInvoice, bad);
    BOOST_TEST(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    for (const char* field : {"invoice.invoice_id", "invoice.account_id",
                              "invoice.amount.amount_minor"}) {
      BOOST_TEST(s.error_message().find(field) != std::string::npos, s.error_message());
    }
    BOOST_TEST(BadRequestField(s) == "invoice.invoice_id");
  }

  // A payment directed to two invoices: both applications and the receipt are one command's
  // events, in one transaction.
  auto paid = c.Payment("P-1", 25000, "WIRE-100");
  Customers::Direct(paid, "INV-2", 20000);
  Customers::Direct(paid, "INV-4", 5000);
  v1::CommandReply reply = c.Must(&CustomerStub::ReceiveCustomerPayment, paid);
  auto events = EventsOf(f.topic(), reply);
  BOOST_REQUIRE(events.size() == 3u);
  BOOST_TEST(events[0].has_customer_payment_received());
  BOOST_TEST(events[1].payment_applied().invoice_id() == "INV-2");
  BOOST_TEST(events[1].payment_applied().amount_minor() == 20000);
  BOOST_TEST(events[1].payment_applied().directed());
  BOOST_TEST(events[1].payment_applied().invoice_open_after_minor() == 0);
  BOOST_TEST(events[2].payment_applied().invoice_id() == "INV-4");
  BOOST_TEST(events[2].payment_applied().invoice_open_after_minor() == 15000);
  for (const auto& e : events) {
    BOOST_TEST(e.customer_id() == "C-1");
    BOOST_TEST(e.command_event_count() == 3);
    // The actor is the authenticated caller, whatever the request said.
    BOOST_TEST(e.actor().id() == kTestPrincipal);
  }

  // A short payment with a deduction: the rest of the invoice opens a discrepancy.
  auto short_paid = c.Payment("P-2", 15000, "CHQ-77");
  Customers::Direct(short_paid, "INV-1", 15000, v1::SHORT_PAYMENT_REASON_DEDUCTION);
  events = EventsOf(f.topic(), c.Must(&CustomerStub::ReceiveCustomerPayment, short_paid,
                                      "collector-1"));
  const auto* opened = First(events, v1::EventEnvelope::kShortPaymentDiscrepancyOpened);
  BOOST_REQUIRE(opened != nullptr);
  BOOST_TEST(opened->short_payment_discrepancy_opened().discrepancy_id() == "P-2:INV-1");
  BOOST_TEST(opened->short_payment_discrepancy_opened().amount_minor() == 5000);
  BOOST_TEST(opened->short_payment_discrepancy_opened().reason() ==
             v1::SHORT_PAYMENT_REASON_DEDUCTION);
  // ... and its resolution: the deduction is accepted with a credit memo below the threshold.
  v1::ResolveShortPaymentRequest resolve;
  resolve.set_discrepancy_id("P-2:INV-1");
  resolve.set_resolution(v1::DISCREPANCY_RESOLUTION_ACCEPTED);
  resolve.set_adjustment_id("CM-DED-1");
  resolve.set_note("promotional deduction agreed with sales");
  events = EventsOf(f.topic(), c.Must(&CustomerStub::ResolveShortPayment, resolve, "collector-1"));
  BOOST_REQUIRE(First(events, v1::EventEnvelope::kShortPaymentDiscrepancyResolved) != nullptr);
  const auto* memo = First(events, v1::EventEnvelope::kInvoiceAdjusted);
  BOOST_REQUIRE(memo != nullptr);
  BOOST_TEST(memo->invoice_adjusted().discrepancy_id() == "P-2:INV-1");
  BOOST_TEST(memo->invoice_adjusted().invoice_open_after_minor() == 0);

  // The same cheque again: recognised as a duplicate and refunded, nothing applied.
  events = EventsOf(f.topic(), c.Must(&CustomerStub::ReceiveCustomerPayment,
                                      c.Payment("P-3", 15000, "CHQ-77")));
  BOOST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[0].customer_payment_received().duplicate_of_payment_id() == "P-2");
  BOOST_TEST(events[1].duplicate_payment_refunded().payment_id() == "P-3");
  BOOST_TEST(events[1].duplicate_payment_refunded().amount().amount_minor() == 15000);
  BOOST_TEST(First(events, v1::EventEnvelope::kPaymentApplied) == nullptr);

  // A credit memo above the threshold (100.00): a collector's request is refused and
  // recorded; a supervisor then issues it.
  v1::AdjustInvoiceRequest credit;
  credit.set_adjustment_id("CM-2");
  credit.set_invoice_id("INV-3");
  credit.set_kind(v1::INVOICE_ADJUSTMENT_KIND_CREDIT_MEMO);
  credit.set_amount_minor(15000);
  credit.set_reason("damaged shipment");
  auto s = c.Send(&CustomerStub::AdjustInvoice, credit, "collector-1");
  BOOST_TEST(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  BOOST_TEST(ErrorReason(s) == "SUPERVISOR_APPROVAL_REQUIRED");
  auto stream = StreamOf(f.topic(), "C-1");
  BOOST_REQUIRE(!stream.empty());
  BOOST_TEST(stream.back().envelope.access_denied().reason() == "SUPERVISOR_APPROVAL_REQUIRED");
  BOOST_TEST(stream.back().envelope.access_denied().principal() == "collector-1");
  // Asking again is refused again: only someone else, with the approval, can issue it.
  credit.set_command_id("cm-2-again");
  s = c.Send(&CustomerStub::AdjustInvoice, credit, "collector-1");
  BOOST_TEST(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  credit.set_command_id("cm-2-approved");
  events = EventsOf(f.topic(), c.Must(&CustomerStub::AdjustInvoice, credit, "supervisor-1"));
  BOOST_REQUIRE(events.size() == 1u);
  BOOST_TEST(events[0].invoice_adjusted().approved_by() == "supervisor-1");
  BOOST_TEST(events[0].invoice_adjusted().invoice_open_after_minor() == 5000);

  // A payment directed to a disputed invoice is refused, naming the rule, and appends nothing.
  v1::DisputeInvoiceRequest dispute;
  dispute.set_invoice_id("INV-5");
  dispute.set_dispute_id("D-1");
  dispute.set_reason("goods never arrived");
  c.Must(&CustomerStub::DisputeInvoice, dispute, "collector-1");
  const size_t before_refusal = StreamOf(f.topic(), "C-1").size();
  auto to_disputed = c.Payment("P-4", 20000, "WIRE-200");
  Customers::Direct(to_disputed, "INV-5", 20000);
  s = c.Send(&CustomerStub::ReceiveCustomerPayment, to_disputed);
  BOOST_TEST(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  BOOST_TEST(ErrorReason(s) == "PAYMENT_TO_DISPUTED_INVOICE");
  BOOST_TEST(s.error_message().find("F14") != std::string::npos, s.error_message());
  BOOST_TEST(StreamOf(f.topic(), "C-1").size() == before_refusal);

  // A credit hold: recommended by a collector, refused to a collector's approval (the role
  // matrix), approved by a supervisor, released.
  v1::RecommendCreditHoldRequest recommend;
  recommend.set_hold_id("H-1");
  recommend.set_reason("INV-3 and INV-4 past due");
  c.Must(&CustomerStub::RecommendCreditHold, recommend, "collector-1");
  v1::ApproveCreditHoldRequest approve;
  approve.set_hold_id("H-1");
  s = c.Send(&CustomerStub::ApproveCreditHold, approve, "collector-1");
  BOOST_TEST(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  BOOST_TEST(ErrorReason(s) == "RPC_NOT_ALLOWED");
  approve.set_command_id("approve-h-1");
  v1::CommandReply approved = c.Must(&CustomerStub::ApproveCreditHold, approve, "supervisor-1");

  // The sales side's consumer, reading the topic read_committed, sees the notice with the
  // customer it is about, routable by its headers alone.
  bool seen = false;
  for (const auto& e : ReadTopic(f.topic())) {
    if (!e.envelope.has_credit_hold_approved()) continue;
    seen = true;
    BOOST_TEST(e.envelope.customer_id() == "C-1");
    BOOST_TEST(e.key == "customer/C-1");
    BOOST_TEST(e.headers.at("ce_type") == "collections.v1.CreditHoldApproved");
    BOOST_TEST(e.headers.at("ce_subject") == "customer/C-1");
    BOOST_TEST(e.envelope.credit_hold_approved().approved_by() == "supervisor-1");
    BOOST_TEST(e.envelope.credit_hold_approved().recommended_by() == "collector-1");
    BOOST_TEST(e.envelope.credit_hold_approved().exposure_minor() > 0);
  }
  BOOST_TEST(seen);
  v1::ReleaseCreditHoldRequest release;
  release.set_hold_id("H-1");
  release.set_reason("payment plan agreed");
  events = EventsOf(f.topic(), c.Must(&CustomerStub::ReleaseCreditHold, release, "supervisor-1"));
  BOOST_REQUIRE(events.size() == 1u);
  BOOST_TEST(events[0].credit_hold_released().hold_id() == "H-1");
  BOOST_TEST(!events[0].credit_hold_released().automatic());

  // The customer's stream is one hash chain with no gap, every command signed on its last event.
  stream = StreamOf(f.topic(), "C-1");
  std::string prev;
  for (size_t i = 0; i < stream.size(); ++i) {
    const auto& e = stream[i].envelope;
    BOOST_TEST(e.sequence() == static_cast<int64_t>(i + 1));
    BOOST_TEST(e.prev_hash() == prev);
    prev = e.hash();
    if (e.command_event_index() + 1 == e.command_event_count()) {
      BOOST_TEST(e.has_signature(), "event " << e.sequence() << " is unsigned");
    }
    BOOST_TEST(stream[i].partition == stream[0].partition);
  }
  BOOST_TEST(stream.back().envelope.sequence() == approved.version() + 1);

  // The audit verifies the customer's stream like an account's.
  auto compliance = v1::ComplianceService::NewStub(f.service.channel_as("compliance-officer-1"));
  for (const auto& e : ReadTopic(f.topic())) {
    BOOST_REQUIRE(f.service.app().projector().WaitForPosition(e.partition, e.offset,
                                                              absl::Now() + absl::Seconds(20)));
  }
  v1::VerifyAuditTrailRequest verify;
  verify.set_account_id("customer/C-1");
  v1::VerifyAuditTrailResponse verified;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto vs = compliance->VerifyAuditTrail(&ctx, verify, &verified);
  BOOST_REQUIRE_MESSAGE(vs.ok(), vs.error_message());
  BOOST_TEST(verified.intact());
  BOOST_TEST(verified.events_checked() == static_cast<int64_t>(stream.size()));

  // The accounts' read side is untouched by the customer's stream.
  BOOST_TEST(f.Account("ACC-A").account_id() == "ACC-A");
  v1::Account none;
  auto missing = GetAccount(f.service.queries(), "customer/C-1", nullptr, &none);
  BOOST_TEST(missing.error_code() == grpc::StatusCode::NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(a_restart_keeps_the_customer_and_a_retry_gets_the_same_answer) {
  Fixture f;
  Customers& c = f.customers;
  c.Open();
  c.Link("ACC-A");
  c.Must(&CustomerStub::RecordInvoice, c.Invoice("INV-1", "ACC-A", 1, 30000));
  auto paid = c.Payment("P-1", 10000, "WIRE-1");
  paid.set_command_id("pay-1");
  const v1::CommandReply first = c.Must(&CustomerStub::ReceiveCustomerPayment, paid);
  BOOST_TEST(!first.deduplicated());

  f.service.Restart();
  c.stubs.clear();

  // The retry after the restart is answered from the writer's store: the same reply,
  // nothing appended.
  const size_t before = StreamOf(f.topic(), "C-1").size();
  const v1::CommandReply again = c.Must(&CustomerStub::ReceiveCustomerPayment, paid);
  BOOST_TEST(again.deduplicated());
  BOOST_TEST(again.version() == first.version());
  BOOST_TEST(again.position().offset() == first.position().offset());
  BOOST_TEST(std::vector<std::string>(again.event_ids().begin(), again.event_ids().end()) ==
             std::vector<std::string>(first.event_ids().begin(), first.event_ids().end()));
  BOOST_TEST(StreamOf(f.topic(), "C-1").size() == before);
  // The same command id for another request is refused.
  auto other = c.Payment("P-9", 500, "WIRE-9");
  other.set_command_id("pay-1");
  auto s = c.Send(&CustomerStub::ReceiveCustomerPayment, other);
  BOOST_TEST(s.error_code() == grpc::StatusCode::ALREADY_EXISTS);

  // The state survived: what is open on INV-1 is what the first payment left.
  auto too_much = c.Payment("P-2", 20001, "WIRE-2");
  Customers::Direct(too_much, "INV-1", 20001);
  s = c.Send(&CustomerStub::ReceiveCustomerPayment, too_much);
  BOOST_TEST(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(s.error_message().find("has 20000 open") != std::string::npos, s.error_message());
  BOOST_TEST(BadRequestField(s) == "directions[0].amount_minor");
  // An out-of-date expected_version is ABORTED; the current one goes through.
  v1::SetCreditLimitRequest limit;
  *limit.mutable_limit() = Usd(500000);
  limit.set_reason("annual review");
  limit.set_expected_version(first.version() - 1);
  s = c.Send(&CustomerStub::SetCreditLimit, limit);
  BOOST_TEST(s.error_code() == grpc::StatusCode::ABORTED);
  limit.set_expected_version(first.version());
  limit.clear_command_id();
  const v1::CommandReply next = c.Must(&CustomerStub::SetCreditLimit, limit);
  BOOST_TEST(next.version() == first.version() + 1);
}

// The read side of the same service: what the commands did, as GetCustomer, the reconciliation
// statement and the shutdown report show it, read-your-writes from the command's position; a
// statement asked as known at an instant stays byte for byte the same after a back-dated
// credit memo is recorded.
BOOST_AUTO_TEST_CASE(the_customer_queries_show_what_the_commands_did) {
  Fixture f;
  Customers& c = f.customers;
  c.Open();
  c.Link("ACC-A");
  for (int i = 1; i <= 3; ++i) {
    c.Must(&CustomerStub::RecordInvoice, c.Invoice("INV-" + std::to_string(i), "ACC-A", i, 20000));
  }
  auto paid = c.Payment("P-1", 25000, "WIRE-100");
  Customers::Direct(paid, "INV-2", 20000);
  Customers::Direct(paid, "INV-3", 5000);
  c.Must(&CustomerStub::ReceiveCustomerPayment, paid);
  v1::RecommendCreditHoldRequest recommend;
  recommend.set_hold_id("H-1");
  recommend.set_reason("INV-1 45 days past due");
  c.Must(&CustomerStub::RecommendCreditHold, recommend, "collector-1");
  v1::ApproveCreditHoldRequest approve;
  approve.set_hold_id("H-1");
  const v1::CommandReply approved = c.Must(&CustomerStub::ApproveCreditHold, approve,
                                           "supervisor-1");

  auto queries = v1::CustomerQueryService::NewStub(f.service.channel_as("collector-1"));
  auto deadline = [] { return std::chrono::system_clock::now() + std::chrono::seconds(20); };
  v1::GetCustomerRequest get;
  get.set_customer_id("C-1");
  *get.mutable_min_position() = approved.position();
  v1::GetCustomerResponse customer;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline());
    auto s = queries->GetCustomer(&ctx, get, &customer);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
  }
  BOOST_TEST(customer.name() == "Northwind Traders");
  BOOST_TEST(customer.version() == approved.version());
  BOOST_TEST(std::vector<std::string>(customer.account_ids().begin(),
                                      customer.account_ids().end()) ==
             std::vector<std::string>{"ACC-A"});
  BOOST_TEST(customer.totals().open_minor() == 35000);  // 60,000 invoiced, 25,000 paid
  BOOST_TEST(customer.totals().open_invoices() == 2);
  BOOST_TEST(customer.hold_status() == v1::CREDIT_HOLD_STATUS_APPROVED);
  BOOST_REQUIRE(customer.holds_size() == 1);
  BOOST_TEST(customer.holds(0).hold_id() == "H-1");
  BOOST_TEST(customer.days_past_due() > 0);
  int64_t open_on_pages = 0;
  for (const auto& invoice : customer.invoices()) open_on_pages += invoice.open_minor();
  BOOST_TEST(open_on_pages == 35000);

  // The shutdown report lists the customer with its approved hold.
  {
    auto reporting = v1::CustomerQueryService::NewStub(f.service.channel_as("supervisor-1"));
    v1::GetShutdownReportRequest r;
    v1::GetShutdownReportResponse report;
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline());
    auto s = reporting->GetShutdownReport(&ctx, r, &report);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
    BOOST_REQUIRE(report.entries_size() == 1);
    BOOST_TEST(report.entries(0).customer_id() == "C-1");
    BOOST_TEST(report.entries(0).exposure_minor() == 35000);
  }

  // October's statement as known now, as CSV.
  const absl::Time known_at = f.clock.Now() + absl::Minutes(1);
  auto statement = [&](absl::Time as_known_at, v1::ReportFormat format) {
    v1::GetCustomerReconciliationRequest r;
    r.set_customer_id("C-1");
    *r.mutable_from() = Date(2025, 10, 1);
    *r.mutable_to() = Date(2025, 10, 31);
    *r.mutable_as_known_at() = Stamp(as_known_at);
    r.set_format(format);
    *r.mutable_min_position() = c.last.position();
    v1::GetCustomerReconciliationResponse out;
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline());
    auto s = queries->GetCustomerReconciliation(&ctx, r, &out);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
    return out;
  };
  const auto before = statement(known_at, v1::REPORT_FORMAT_CSV);
  BOOST_TEST(before.content_type().find("text/csv") == 0, before.content_type());
  BOOST_TEST(before.document().find("WIRE-100") != std::string::npos, before.document());
  const auto as_message = statement(known_at, v1::REPORT_FORMAT_PROTO).statement();
  // The invoices were recorded in October (a line's date is when it happened, occurred_at).
  BOOST_TEST(as_message.opening_balance_minor() == 0);
  BOOST_TEST(as_message.invoiced_minor() == 60000);
  BOOST_TEST(as_message.payments_minor() == 25000);
  BOOST_TEST(as_message.closing_balance_minor() == 35000);
  BOOST_TEST(as_message.open_items_minor() == 35000);
  const auto printable = statement(known_at, v1::REPORT_FORMAT_HTML);
  BOOST_TEST(printable.content_type().find("text/html") == 0, printable.content_type());
  BOOST_TEST(printable.document().find("Northwind Traders") != std::string::npos);

  // An hour later a credit memo dated before the statement was asked is recorded.
  f.clock.Set(f.clock.Now() + absl::Hours(1));
  v1::AdjustInvoiceRequest memo;
  memo.set_adjustment_id("CM-LATE");
  memo.set_invoice_id("INV-1");
  memo.set_kind(v1::INVOICE_ADJUSTMENT_KIND_CREDIT_MEMO);
  memo.set_amount_minor(3000);
  memo.set_reason("pricing error found in the audit");
  *memo.mutable_occurred_at() = Stamp(known_at - absl::Hours(2));
  c.Must(&CustomerStub::AdjustInvoice, memo, "supervisor-1");

  // As known at the first instant, the statement is the same bytes; as known now it shows
  // the memo.
  const auto again = statement(known_at, v1::REPORT_FORMAT_CSV);
  BOOST_TEST(again.document() == before.document());
  const auto now = statement(f.clock.Now(), v1::REPORT_FORMAT_PROTO).statement();
  BOOST_TEST(now.credit_memos_minor() == 3000);
  BOOST_TEST(now.closing_balance_minor() == 32000);
}

// The events of account `account_id`'s stream of one payload type, in order.
std::vector<v1::EventEnvelope> AccountEvents(const std::string& topic, const std::string& account_id,
                                             v1::EventEnvelope::PayloadCase payload) {
  std::vector<v1::EventEnvelope> out;
  for (auto& e : ReadTopic(topic)) {
    if (e.key == account_id && e.envelope.payload_case() == payload) out.push_back(e.envelope);
  }
  return out;
}

v1::RecordContactAttemptRequest CallAbout(const std::string& contact_id,
                                          const std::string& customer_id,
                                          std::vector<std::string> others) {
  v1::RecordContactAttemptRequest r;
  r.set_contact_id(contact_id);
  r.set_channel(v1::CONTACT_CHANNEL_CALL);
  r.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  r.set_address("+13125550100");
  r.set_phone_type(v1::PHONE_TYPE_CELL);
  r.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
  if (!others.empty()) {
    r.mutable_several_debts()->set_customer_id(customer_id);
    for (auto& o : others) r.mutable_several_debts()->add_other_account_ids(o);
  }
  return r;
}

// A person with two debts: the link is on both streams (at opening and later), a call about
// both is recorded once and counted against each (F3), a cease letter naming both covers both,
// and nothing is recorded for a request one of the debts refuses. A company's account carries
// the customer's commercial flag.
BOOST_AUTO_TEST_CASE(links_are_on_both_streams_and_a_call_about_two_debts_counts_against_each) {
  Fixture f;
  Customers person(f.service, "P-1");
  {
    v1::OpenCustomerRequest r;
    r.set_kind(v1::CUSTOMER_KIND_PERSON);
    r.set_name("Jane Doe");
    r.set_currency("USD");
    r.set_time_zone("America/Chicago");
    person.Must(&CustomerStub::OpenCustomer, r);
  }
  // Linked at opening: OpenCase with the customer records the link on both streams.
  v1::OpenCaseRequest open1 = OpenCase("ACC-1", "open-1");
  open1.set_third_party_collector(true);
  open1.set_customer_id("P-1");
  f.Must(&Stub::OpenCase, open1, "ACC-1");
  // Linked later.
  v1::OpenCaseRequest open2 = OpenCase("ACC-2", "open-2");
  open2.set_third_party_collector(true);
  f.Must(&Stub::OpenCase, open2, "ACC-2");
  person.Link("ACC-2");
  for (const char* id : {"ACC-1", "ACC-2"}) {
    auto linked = AccountEvents(f.topic(), id, v1::EventEnvelope::kAccountCustomerLinked);
    BOOST_REQUIRE_MESSAGE(linked.size() == 1u, id);
    BOOST_TEST(linked[0].account_customer_linked().customer_id() == "P-1");
    BOOST_TEST(!linked[0].account_customer_linked().commercial());
    // A person's zone goes with each of their debts (F4 reads it beside the account's own).
    BOOST_TEST(linked[0].account_customer_linked().consumer_time_zone() == "America/Chicago");
    BOOST_TEST(linked[0].actor().id() == kTestPrincipal);
  }
  auto customer_links = StreamOf(f.topic(), "P-1");
  int links = 0;
  for (const auto& e : customer_links) links += e.envelope.has_customer_account_linked() ? 1 : 0;
  BOOST_TEST(links == 2);
  // Retrying OpenCase with its command id appends nothing more on either stream.
  f.Must(&Stub::OpenCase, open1, "ACC-1");
  BOOST_TEST(f.last.deduplicated());
  BOOST_TEST(AccountEvents(f.topic(), "ACC-1", v1::EventEnvelope::kAccountCustomerLinked).size() ==
             1u);
  BOOST_TEST(StreamOf(f.topic(), "P-1").size() == customer_links.size());

  // A company's account carries the company's commercial flag (from its CustomerOpened).
  f.Must(&Stub::OpenCase, OpenCase("ACC-A", "open-a"), "ACC-A");
  f.customers.Open();
  f.customers.Link("ACC-A");
  auto company = AccountEvents(f.topic(), "ACC-A", v1::EventEnvelope::kAccountCustomerLinked);
  BOOST_REQUIRE(company.size() == 1u);
  BOOST_TEST(company[0].account_customer_linked().commercial());
  BOOST_TEST(company[0].account_customer_linked().consumer_time_zone().empty());
  // ... and the account's read model shows it (read-your-writes from a later command on it).
  f.Must(&Stub::RecordContactAttempt, CallAbout("a-call", "", {}), "ACC-A");
  BOOST_TEST(f.Account("ACC-A").commercial());
  BOOST_TEST(f.Account("ACC-A").customer_id() == "C-1");

  // An account of one customer cannot be linked to another without saying it moves, and the
  // refusal leaves both customers' streams as they were.
  const size_t c1_before = StreamOf(f.topic(), "C-1").size();
  {
    v1::LinkCustomerAccountRequest r;
    r.set_linked_account_id("ACC-2");
    auto s = f.customers.Send(&CustomerStub::LinkCustomerAccount, r);
    BOOST_TEST(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    BOOST_TEST(ErrorReason(s) == "ACCOUNT_LINKED_TO_ANOTHER_CUSTOMER", s.error_message());
  }
  BOOST_TEST(StreamOf(f.topic(), "C-1").size() == c1_before);

  // F3: seven calls about both debts, each recorded on ACC-1 and counted on ACC-2.
  for (int i = 1; i <= 7; ++i) {
    auto call = CallAbout("call-" + std::to_string(i), "P-1", {"ACC-2"});
    call.set_command_id("call-cmd-" + std::to_string(i));
    f.Must(&Stub::RecordContactAttempt, call, "ACC-1");
  }
  auto counted = AccountEvents(f.topic(), "ACC-2", v1::EventEnvelope::kContactAttempted);
  BOOST_REQUIRE(counted.size() == 7u);
  BOOST_TEST(counted[0].contact_attempted().contact().several_debts().recorded_on_account_id() ==
             "ACC-1");
  BOOST_TEST(counted[0].contact_attempted().contact().contact_id() == "call-1");
  // A retry of the last one (same command id) appends nothing on either account.
  {
    auto again = CallAbout("call-7", "P-1", {"ACC-2"});
    again.set_command_id("call-cmd-7");
    f.Must(&Stub::RecordContactAttempt, again, "ACC-1");
    BOOST_TEST(f.last.deduplicated());
    BOOST_TEST(AccountEvents(f.topic(), "ACC-2", v1::EventEnvelope::kContactAttempted).size() ==
               7u);
    BOOST_TEST(AccountEvents(f.topic(), "ACC-1", v1::EventEnvelope::kContactAttempted).size() ==
               7u);
  }
  // An eighth call about ACC-2 alone is refused: the seven count against it (F1 via F3).
  auto s = f.Send(&Stub::RecordContactAttempt, CallAbout("call-8", "", {}), "ACC-2");
  BOOST_TEST(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  BOOST_TEST(ErrorReason(s) == "F1", s.error_message());
  // So is an eighth call about both, sent to ACC-1, and it appends nothing on ACC-1.
  const size_t acc1_contacts =
      AccountEvents(f.topic(), "ACC-1", v1::EventEnvelope::kContactAttempted).size();
  s = f.Send(&Stub::RecordContactAttempt, CallAbout("call-9", "P-1", {"ACC-2"}), "ACC-1");
  BOOST_TEST(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  BOOST_TEST(ErrorReason(s) == "F1", s.error_message());
  BOOST_TEST(s.error_message().find("F3") != std::string::npos, s.error_message());
  BOOST_TEST(s.error_message().find("ACC-2") != std::string::npos, s.error_message());
  BOOST_TEST(AccountEvents(f.topic(), "ACC-1", v1::EventEnvelope::kContactAttempted).size() ==
             acc1_contacts);

  // Another customer's debt cannot share the call; a caller cannot forge the copy marker.
  s = f.Send(&Stub::RecordContactAttempt, CallAbout("call-10", "P-1", {"ACC-A"}), "ACC-1");
  BOOST_TEST(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  BOOST_TEST(ErrorReason(s) == "NOT_THE_CUSTOMERS_DEBT", s.error_message());
  auto forged = CallAbout("call-11", "P-1", {"ACC-2"});
  forged.mutable_several_debts()->set_recorded_on_account_id("ACC-9");
  s = f.Send(&Stub::RecordContactAttempt, forged, "ACC-1");
  BOOST_TEST(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(BadRequestField(s) == "several_debts.recorded_on_account_id");

  // A written cease naming both debts is recorded on both.
  v1::UpdateFlagRequest cease;
  cease.set_reason("cease letter naming both accounts");
  cease.mutable_cease_communication()->set_in_effect(true);
  cease.mutable_cease_communication()->set_written(true);
  cease.mutable_several_debts()->set_customer_id("P-1");
  cease.mutable_several_debts()->add_other_account_ids("ACC-2");
  cease.set_command_id("cease-1");
  f.Must(&Stub::UpdateFlag, cease, "ACC-1");
  auto flags = AccountEvents(f.topic(), "ACC-2", v1::EventEnvelope::kFlagChanged);
  BOOST_REQUIRE(flags.size() == 1u);
  BOOST_TEST(flags[0].flag_changed().cease_communication().in_effect());
  BOOST_TEST(flags[0].flag_changed().several_debts().recorded_on_account_id() == "ACC-1");
  // Its retry appends nothing on either.
  f.Must(&Stub::UpdateFlag, cease, "ACC-1");
  BOOST_TEST(f.last.deduplicated());
  BOOST_TEST(AccountEvents(f.topic(), "ACC-2", v1::EventEnvelope::kFlagChanged).size() == 1u);
  BOOST_TEST(AccountEvents(f.topic(), "ACC-1", v1::EventEnvelope::kFlagChanged).size() == 1u);

  // Unlinking records both sides too.
  v1::UnlinkCustomerAccountRequest unlink;
  unlink.set_linked_account_id("ACC-2");
  unlink.set_reason("debt sold separately");
  person.Must(&CustomerStub::UnlinkCustomerAccount, unlink);
  auto unlinked = AccountEvents(f.topic(), "ACC-2", v1::EventEnvelope::kAccountCustomerUnlinked);
  BOOST_REQUIRE(unlinked.size() == 1u);
  BOOST_TEST(unlinked[0].account_customer_unlinked().customer_id() == "P-1");
}

}  // namespace
}  // namespace collections::testing
