// The event topic as a downstream consumer sees it: drives every command of CaseCommandService
// and CustomerCommandService (and the writer's clock) until every event type is on the topic,
// then runs the Python consumer of tests/python (confluent-kafka, read_committed, generated
// *_pb2 and the installed descriptor set) against it, which must decode every record, find
// every CloudEvents header and partition as the README says, and see every event type.
#define BOOST_TEST_MODULE event_contract
#include "tests/support/harness.h"

#include "collections/v1/customer_command_service.grpc.pb.h"

#include "absl/time/civil_time.h"

#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>

namespace collections::testing {
namespace {

absl::Time At(int year, int month, int day, int hour) {
  return absl::FromCivil(absl::CivilHour(year, month, day, hour), absl::UTCTimeZone());
}

v1::LocalDate Date(int year, int month, int day) {
  v1::LocalDate d;
  d.set_year(year);
  d.set_month(month);
  d.set_day(day);
  return d;
}

v1::Money Usd(int64_t minor) {
  v1::Money m;
  m.set_amount_minor(minor);
  m.set_currency("USD");
  return m;
}

// Sends every command through the gRPC API with fresh command ids and one actor.
class Driver {
 public:
  explicit Driver(TestService& service) : service_(service) {}

  // Fills the fields every request shares, calls `rpc` and requires OK.
  template <typename Request, typename Rpc>
  v1::CommandReply Send(const std::string& account_id, Request request, Rpc rpc,
                        const std::string& role = "collector") {
    request.set_account_id(account_id);
    request.set_command_id("cmd-" + std::to_string(++commands_));
    request.mutable_actor()->set_id(role + "-1");
    request.mutable_actor()->set_kind(v1::ACTOR_KIND_PERSON);
    request.mutable_actor()->set_role(role);
    request.set_correlation_id("contract-" + std::to_string(commands_));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::CommandReply reply;
    grpc::Status status = (StubFor(role).*rpc)(&context, request, &reply);
    BOOST_REQUIRE_MESSAGE(status.ok(), request.GetDescriptor()->name()
                                           << " on " << account_id << ": "
                                           << status.error_message());
    return reply;
  }

  // Like Send, for a command the service must refuse; returns the refusal.
  // The caller is its certificate: the default role sends as the test principal (admin, every
  // command); a named role as its test principal "<role>-1".
  v1::CaseCommandService::Stub& StubFor(const std::string& role) {
    if (role == "collector") return service_.commands();
    auto& stub = stubs_[role];
    // "collector-1" names a principal; "supervisor" the role's test principal.
    if (stub == nullptr)
      stub = service_.commands_as(role.find('-') != std::string::npos ? role : role + "-1");
    return *stub;
  }

  template <typename Request, typename Rpc>
  grpc::Status SendRefused(const std::string& account_id, Request request, Rpc rpc,
                           const std::string& role = "collector") {
    request.set_account_id(account_id);
    request.set_command_id("cmd-" + std::to_string(++commands_));
    request.mutable_actor()->set_id("col-1");
    request.mutable_actor()->set_kind(v1::ACTOR_KIND_PERSON);
    request.mutable_actor()->set_role("collector");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::CommandReply reply;
    return (StubFor(role).*rpc)(&context, request, &reply);
  }

 private:
  TestService& service_;
  std::map<std::string, std::unique_ptr<v1::CaseCommandService::Stub>> stubs_;
  int commands_ = 0;
};

using Stub = v1::CaseCommandService::Stub;

// One account through its whole life: every case, contact, promise, plan, dispute and
// placement command, then the clock moved on until every time-driven event fell due.
void DriveLifecycleAccount(Driver& d, TestService& service, ManualClock& clock) {
  const std::string a = "ACC-LIFE";
  d.Send(a, OpenCase(a, "unused"), &Stub::OpenCase);  // due 2025-09-01: 30 days past due

  v1::AssignCaseRequest assign;
  assign.set_assignee("col-1");
  assign.set_queue("early-stage");
  assign.set_reason("new placement");
  d.Send(a, assign, &Stub::AssignCase);

  v1::EscalateCaseRequest escalate;
  escalate.set_supervisor("sup-1");
  escalate.set_reason("consumer asked for a supervisor");
  d.Send(a, escalate, &Stub::EscalateCase);

  v1::RecordContactAttemptRequest call;
  call.set_contact_id("call-1");
  call.set_channel(v1::CONTACT_CHANNEL_CALL);
  call.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  call.set_address("+13125550100");
  call.set_phone_type(v1::PHONE_TYPE_CELL);
  call.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
  d.Send(a, call, &Stub::RecordContactAttempt);

  v1::RecordCorrespondenceRequest letter;
  letter.set_correspondence_id("letter-1");
  letter.set_kind(v1::CORRESPONDENCE_KIND_VALIDATION_NOTICE);
  letter.set_channel(v1::CONTACT_CHANNEL_LETTER);
  letter.set_address("1 Main St, Chicago IL 60601");
  *letter.mutable_itemization()->mutable_itemization_date() = Date(2025, 9, 1);
  letter.mutable_itemization()->set_amount_on_itemization_date_minor(102500);
  letter.mutable_itemization()->set_current_amount_minor(102500);
  letter.mutable_content()->set_is_initial_communication(true);
  d.Send(a, letter, &Stub::RecordCorrespondence);

  v1::UpdateFlagRequest flag;
  flag.set_reason("active duty orders received");
  flag.set_servicemember(true);
  d.Send(a, flag, &Stub::UpdateFlag);

  v1::UpdateContactPointRequest email;
  email.set_action(v1::CONTACT_POINT_ACTION_ADD);
  email.set_email("jane@example.com");
  email.set_source("consumer");
  d.Send(a, email, &Stub::UpdateContactPoint);

  v1::SetLocationStatusRequest location;
  location.set_location_unknown(true);
  location.set_source("returned mail");
  d.Send(a, location, &Stub::SetLocationStatus);

  // Promises: one cancelled, one kept by a payment, one left to break.
  auto promise = [&](const std::string& id, int day) {
    v1::RecordPromiseToPayRequest p;
    p.set_promise_id(id);
    *p.mutable_amount() = Usd(5000);
    *p.mutable_due_date() = Date(2025, 10, day);
    p.set_channel(v1::CONTACT_CHANNEL_CALL);
    p.set_grace_days(1);
    d.Send(a, p, &Stub::RecordPromiseToPay);
  };
  promise("promise-1", 3);
  v1::CancelPromiseToPayRequest cancel_promise;
  cancel_promise.set_promise_id("promise-1");
  cancel_promise.set_reason("consumer changed the date");
  d.Send(a, cancel_promise, &Stub::CancelPromiseToPay);
  promise("promise-2", 2);
  d.Send(a, PostPayment(a, "unused", "pay-1", 5000), &Stub::PostPayment);  // keeps promise-2
  promise("promise-3", 5);                                                 // broken on 2025-10-07

  // Plans: one cancelled, one accepted whose first instalment is missed (defaults it).
  auto plan = [&](const std::string& id) {
    v1::ProposePaymentPlanRequest p;
    p.set_plan_id(id);
    auto* first = p.add_instalments();
    first->set_amount_minor(1000);
    *first->mutable_due_date() = Date(2025, 10, 10);
    auto* second = p.add_instalments();
    second->set_amount_minor(1000);
    *second->mutable_due_date() = Date(2025, 11, 10);
    p.set_missed_to_default(1);
    d.Send(a, p, &Stub::ProposePaymentPlan);
  };
  plan("plan-1");
  v1::CancelPaymentPlanRequest cancel_plan;
  cancel_plan.set_plan_id("plan-1");
  cancel_plan.set_reason("consumer asked for other dates");
  d.Send(a, cancel_plan, &Stub::CancelPaymentPlan);
  plan("plan-2");
  v1::AcceptPaymentPlanRequest accept;
  accept.set_plan_id("plan-2");
  d.Send(a, accept, &Stub::AcceptPaymentPlan);

  v1::PostAdjustmentRequest fee;
  fee.set_adjustment_id("adj-1");
  fee.set_kind(v1::ADJUSTMENT_KIND_FEE_ACCRUAL);
  fee.mutable_amounts()->set_fees_minor(100);
  fee.set_reason("late fee");
  d.Send(a, fee, &Stub::PostAdjustment);

  // Disputes: one verified and resolved, one withdrawn.
  auto dispute = [&](const std::string& id) {
    v1::OpenDisputeRequest o;
    o.set_dispute_id(id);
    o.set_written(true);
    o.set_reason("not my debt");
    d.Send(a, o, &Stub::OpenDispute);
  };
  dispute("dispute-1");
  v1::SendDisputeVerificationRequest verify;
  verify.set_dispute_id("dispute-1");
  d.Send(a, verify, &Stub::SendDisputeVerification);
  v1::ResolveDisputeRequest resolve;
  resolve.set_dispute_id("dispute-1");
  resolve.set_upheld(false);
  resolve.set_resolution("signed contract on file");
  d.Send(a, resolve, &Stub::ResolveDispute);
  dispute("dispute-2");
  v1::WithdrawDisputeRequest withdraw;
  withdraw.set_dispute_id("dispute-2");
  d.Send(a, withdraw, &Stub::WithdrawDispute);

  v1::PlaceWithAgencyRequest place;
  place.set_agency("agency-1");
  place.set_reason("no contact in 30 days");
  d.Send(a, place, &Stub::PlaceWithAgency);
  v1::RecallFromAgencyRequest recall;
  recall.set_reason("agency contract ended");
  d.Send(a, recall, &Stub::RecallFromAgency);

  v1::ReferToLegalRequest legal;
  legal.set_firm("Smith & Jones LLP");
  legal.set_reason("balance above the legal threshold");
  d.Send(a, legal, &Stub::ReferToLegal);

  v1::ReportToBureauRequest report;
  report.set_report_id("report-1");
  report.set_bureau("equifax");
  report.set_status_code("93");
  report.set_compliance_condition_code("XH");  // C1: the disputes on file are resolved
  d.Send(a, report, &Stub::ReportToBureau);

  // Two months on: the promise breaks (Oct 7), the instalment is missed and the plan defaults
  // (Oct 16), the validation period ends, the account ages into 60-89 and 90-119 days.
  clock.Set(At(2025, 12, 1, 16));
  auto ticked = service.app().router().Tick();
  BOOST_REQUIRE_MESSAGE(ticked, "tick failed");

  v1::TransferDebtRequest transfer;
  transfer.set_sale(true);
  transfer.set_new_owner("Debt Buyer Inc");
  transfer.set_reason("portfolio sale");
  d.Send(a, transfer, &Stub::TransferDebt);
}

// An account that pays: a plan completed, a settlement completed, an overpayment refunded
// and a payment reversed, then closed.
void DriveMoneyAccount(Driver& d) {
  const std::string b = "ACC-MONEY";
  d.Send(b, OpenCase(b, "unused", 10000), &Stub::OpenCase);  // 10000 principal + 2500 fees

  v1::ProposePaymentPlanRequest plan;
  plan.set_plan_id("plan-b");
  auto* only = plan.add_instalments();
  only->set_amount_minor(2000);
  *only->mutable_due_date() = Date(2025, 12, 20);
  d.Send(b, plan, &Stub::ProposePaymentPlan);
  v1::AcceptPaymentPlanRequest accept;
  accept.set_plan_id("plan-b");
  d.Send(b, accept, &Stub::AcceptPaymentPlan);
  d.Send(b, PostPayment(b, "unused", "pay-b1", 2000), &Stub::PostPayment);  // completes it

  v1::AgreeSettlementRequest settle;  // 5000 of 10500: below 60%, so a supervisor agrees it
  settle.set_settlement_id("settlement-b");
  *settle.mutable_amount() = Usd(5000);
  *settle.mutable_due_date() = Date(2025, 12, 31);
  // A collector asks (refused, recorded as AccessDenied); a supervisor approves the request.
  grpc::Status asked = d.SendRefused(b, settle, &Stub::AgreeSettlement, "collector-1");
  BOOST_REQUIRE_MESSAGE(asked.error_code() == grpc::StatusCode::PERMISSION_DENIED,
                        asked.error_message());
  d.Send(b, settle, &Stub::AgreeSettlement, "supervisor");
  d.Send(b, PostPayment(b, "unused", "pay-b2", 5000), &Stub::PostPayment);  // completes it

  d.Send(b, PostPayment(b, "unused", "pay-b3", 3000), &Stub::PostPayment);  // all credit
  v1::RefundCreditRequest refund;
  refund.set_refund_id("refund-b");
  *refund.mutable_amount() = Usd(1000);
  refund.set_method(v1::PAYMENT_METHOD_ACH);
  d.Send(b, refund, &Stub::RefundCredit);
  d.Send(b, ReversePayment(b, "unused", "pay-b3"), &Stub::ReversePayment);

  v1::CloseCaseRequest close;
  close.set_reason("settled");
  d.Send(b, close, &Stub::CloseCase);
}

// The compliance side: a call at 22:00 the consumer's time, which Regulation F (F4) forbids, is
// refused and recorded as ContactBlocked; a compliance officer then authorises one.
void DriveBlockedAccount(Driver& d, TestService& service, ManualClock& clock) {
  const std::string c = "ACC-BLOCKED";
  auto open = OpenCase(c, "unused");
  open.set_third_party_collector(true);  // a debt collector: Regulation F applies
  d.Send(c, open, &Stub::OpenCase);

  // A conversation on Dec 1 and no validation notice by Dec 6: F11 is recorded on Dec 7.
  clock.Set(At(2025, 12, 1, 16));  // 10:00 in Chicago
  v1::RecordContactAttemptRequest talk;
  talk.set_contact_id("talk-1");
  talk.set_channel(v1::CONTACT_CHANNEL_CALL);
  talk.set_direction(v1::CONTACT_DIRECTION_INBOUND);
  talk.set_address("+13125550100");
  talk.set_phone_type(v1::PHONE_TYPE_CELL);
  talk.set_outcome(v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION);
  d.Send(c, talk, &Stub::RecordContactAttempt);

  clock.Set(At(2025, 12, 2, 4));  // 22:00 on Dec 1 in Chicago
  v1::RecordContactAttemptRequest call;
  call.set_contact_id("late-call");
  call.set_channel(v1::CONTACT_CHANNEL_CALL);
  call.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  call.set_address("+13125550100");
  call.set_phone_type(v1::PHONE_TYPE_CELL);
  call.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
  grpc::Status blocked = d.SendRefused(c, call, &Stub::RecordContactAttempt);
  BOOST_REQUIRE_MESSAGE(!blocked.ok(), "a call at 22:00 local time was allowed");
  // The same call reported as one that already took place: recorded, with its violation.
  v1::RecordContactAttemptRequest happened = call;
  happened.set_contact_id("late-call-made");
  happened.set_took_place(true);
  BOOST_REQUIRE(d.Send(c, happened, &Stub::RecordContactAttempt).decision().outcome() ==
                "VIOLATION");

  v1::AuthorizeOverrideRequest authorize;
  authorize.set_override_id("override-1");
  authorize.set_rule_id("F4");
  authorize.set_command("RecordContactAttempt");
  authorize.set_reason("consumer asked to be called back tonight");
  d.Send(c, authorize, &Stub::AuthorizeOverride, "compliance_officer");

  clock.Set(At(2025, 12, 8, 16));
  BOOST_REQUIRE_MESSAGE(service.app().router().Tick(), "tick failed");

  // A dialer's reservation that is never used expires and stops counting.
  v1::ReserveContactRequest reserve;
  reserve.set_reservation_id("res-1");
  reserve.set_channel(v1::CONTACT_CHANNEL_CALL);
  reserve.set_address("+13125550100");
  reserve.set_phone_type(v1::PHONE_TYPE_CELL);
  d.Send(c, reserve, &Stub::ReserveContact);
  clock.Set(At(2025, 12, 8, 17));
  BOOST_REQUIRE_MESSAGE(service.app().router().Tick(), "tick failed");
}

// A customer's stream (CustomerCommandService): every customer payload the commands emit.
void DriveCustomer(TestService& service) {
  using CustomerStub = v1::CustomerCommandService::Stub;
  std::map<std::string, std::unique_ptr<CustomerStub>> stubs;
  int commands = 0;
  auto send = [&](auto request, auto rpc, const std::string& principal = kTestPrincipal) {
    request.set_customer_id("C-CONTRACT");
    request.set_command_id("customer-cmd-" + std::to_string(++commands));
    auto& stub = stubs[principal];
    if (stub == nullptr) stub = v1::CustomerCommandService::NewStub(service.channel_as(principal));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::CommandReply reply;
    grpc::Status status = ((*stub).*rpc)(&context, request, &reply);
    BOOST_REQUIRE_MESSAGE(status.ok(), request.GetDescriptor()->name() << ": "
                                                                       << status.error_message());
  };
  v1::OpenCustomerRequest open;
  open.set_kind(v1::CUSTOMER_KIND_COMPANY);
  open.set_name("Contoso Ltd");
  open.set_commercial(true);
  open.set_currency("USD");
  open.set_time_zone("America/Chicago");
  send(open, &CustomerStub::OpenCustomer);
  // The accounts are cases too, so each link and unlink is also on the account's stream
  // (AccountCustomerLinked, AccountCustomerUnlinked).
  auto cases = service.commands_as(kTestPrincipal);
  for (const char* account : {"CUST-ACC-1", "CUST-ACC-2"}) {
    v1::CommandReply opened;
    grpc::Status status =
        Call(*cases, OpenCase(account, std::string("open-") + account), &opened);
    BOOST_REQUIRE_MESSAGE(status.ok(), status.error_message());
  }
  for (const char* account : {"CUST-ACC-1", "CUST-ACC-2"}) {
    v1::LinkCustomerAccountRequest link;
    link.set_linked_account_id(account);
    send(link, &CustomerStub::LinkCustomerAccount);
  }
  v1::UnlinkCustomerAccountRequest unlink;
  unlink.set_linked_account_id("CUST-ACC-2");
  unlink.set_reason("sold to another customer");
  send(unlink, &CustomerStub::UnlinkCustomerAccount);
  for (const char* id : {"INV-1", "INV-2", "INV-3"}) {
    v1::RecordInvoiceRequest invoice;
    invoice.mutable_invoice()->set_invoice_id(id);
    invoice.mutable_invoice()->set_number(std::string("N-") + id);
    invoice.mutable_invoice()->set_account_id("CUST-ACC-1");
    *invoice.mutable_invoice()->mutable_invoice_date() = Date(2025, 9, 1);
    *invoice.mutable_invoice()->mutable_due_date() = Date(2025, 9, 30);
    *invoice.mutable_invoice()->mutable_amount() = Usd(10000);
    send(invoice, &CustomerStub::RecordInvoice);
  }
  auto payment = [](const std::string& id, int64_t minor, const std::string& reference) {
    v1::ReceiveCustomerPaymentRequest r;
    r.set_payment_id(id);
    *r.mutable_amount() = Usd(minor);
    r.set_method(v1::PAYMENT_METHOD_WIRE);
    r.set_payer_reference(reference);
    *r.mutable_received_date() = Date(2025, 10, 1);
    return r;
  };
  auto short_paid = payment("P-1", 8000, "REF-1");
  auto* direction = short_paid.add_directions();
  direction->set_invoice_id("INV-1");
  direction->set_amount_minor(8000);
  direction->set_short_reason(v1::SHORT_PAYMENT_REASON_DEDUCTION);
  send(short_paid, &CustomerStub::ReceiveCustomerPayment);
  auto unapplied = payment("P-2", 5000, "REF-2");
  unapplied.set_apply_remainder_by_rule(false);
  send(unapplied, &CustomerStub::ReceiveCustomerPayment);
  send(payment("P-3", 5000, "REF-2"), &CustomerStub::ReceiveCustomerPayment);  // a duplicate
  v1::ApplyUnappliedCashRequest apply;
  apply.set_application_id("A-1");
  send(apply, &CustomerStub::ApplyUnappliedCash);
  v1::ResolveShortPaymentRequest resolve;
  resolve.set_discrepancy_id("P-1:INV-1");
  resolve.set_resolution(v1::DISCREPANCY_RESOLUTION_REJECTED);
  send(resolve, &CustomerStub::ResolveShortPayment);
  v1::AdjustInvoiceRequest memo;
  memo.set_adjustment_id("CM-1");
  memo.set_invoice_id("INV-2");
  memo.set_kind(v1::INVOICE_ADJUSTMENT_KIND_CREDIT_MEMO);
  memo.set_amount_minor(1000);
  memo.set_reason("pricing error");
  send(memo, &CustomerStub::AdjustInvoice);
  v1::DisputeInvoiceRequest dispute;
  dispute.set_invoice_id("INV-3");
  dispute.set_dispute_id("D-1");
  dispute.set_reason("not ordered");
  send(dispute, &CustomerStub::DisputeInvoice);
  v1::ResolveInvoiceDisputeRequest resolved;
  resolved.set_invoice_id("INV-3");
  resolved.set_dispute_id("D-1");
  resolved.set_resolution("purchase order found");
  send(resolved, &CustomerStub::ResolveInvoiceDispute);
  v1::SetCreditLimitRequest limit;
  *limit.mutable_limit() = Usd(1000000);
  limit.set_reason("annual review");
  send(limit, &CustomerStub::SetCreditLimit);
  v1::RecommendCreditHoldRequest recommend;
  recommend.set_hold_id("H-1");
  recommend.set_reason("past due");
  send(recommend, &CustomerStub::RecommendCreditHold, "collector-1");
  v1::ApproveCreditHoldRequest approve;
  approve.set_hold_id("H-1");
  send(approve, &CustomerStub::ApproveCreditHold, "supervisor-1");
  v1::ReleaseCreditHoldRequest release;
  release.set_hold_id("H-1");
  release.set_reason("paid");
  send(release, &CustomerStub::ReleaseCreditHold, "supervisor-1");
}

// Runs `command`, returns its exit status and puts what it printed (stdout and stderr) in `out`.
int Run(const std::string& command, std::string* out) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  BOOST_REQUIRE_MESSAGE(pipe != nullptr, "cannot run " << command);
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out->append(buffer, n);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The count the consumer's summary gives for a payload field ("  <field> <Message> <count>"),
// or -1 when the summary does not list it.
int64_t SummaryCount(const std::string& summary, const std::string& field) {
  std::istringstream lines(summary);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string name, message;
    int64_t count = 0;
    if (words >> name >> message >> count && name == field) return count;
  }
  return -1;
}

BOOST_AUTO_TEST_CASE(a_python_consumer_decodes_every_event_type_from_the_readme_alone) {
  TempDir dir;
  ManualClock clock(At(2025, 10, 1, 15));  // 10:00 in Chicago, the accounts' zone
  TestService service(TestOptions("contract", dir.path), &clock);
  Driver driver(service);
  DriveLifecycleAccount(driver, service, clock);
  DriveMoneyAccount(driver);
  DriveBlockedAccount(driver, service, clock);
  DriveCustomer(service);

  // What the service emitted, read back by our own reader: every payload type there is.
  const auto* payload = v1::EventEnvelope::descriptor()->FindOneofByName("payload");
  BOOST_REQUIRE(payload != nullptr);
  std::set<std::string> emitted;
  for (const auto& e : ReadTopic(service.options().log.topic)) {
    const auto* reflection = e.envelope.GetReflection();
    if (const auto* field = reflection->GetOneofFieldDescriptor(e.envelope, payload)) {
      emitted.insert(field->name());
    }
  }
  // Every payload type is emitted by some command above.
  const std::set<std::string> not_served_yet = {};
  for (int i = 0; i < payload->field_count(); ++i) {
    if (not_served_yet.count(payload->field(i)->name()) > 0) continue;
    BOOST_TEST(emitted.count(payload->field(i)->name()) == 1u,
               "the service emitted no " << payload->field(i)->name() << ": drive it above");
  }

  std::string allow_missing;
  for (const std::string& name : not_served_yet) {
    allow_missing += (allow_missing.empty() ? "" : ",") + name;
  }
  const std::string consumer = std::string(COLLECTIONS_PYTHON) + " " + COLLECTIONS_CONSUMER_SCRIPT +
                               " --bootstrap " + Bootstrap() + " --topic " +
                               service.options().log.topic + " --expect-all" +
                               (allow_missing.empty() ? "" : " --allow-missing " + allow_missing);
  // Once with generated code, once with nothing but the descriptor set the build installs.
  for (const std::string& decode :
       {std::string(" --pb2-dir ") + COLLECTIONS_PYTHON_PB2_DIR,
        std::string(" --descriptor-set ") + COLLECTIONS_DESCRIPTOR_SET}) {
    std::string out;
    int exit_code = Run(consumer + decode, &out);
    BOOST_TEST_MESSAGE(out);
    BOOST_TEST(exit_code == 0, "the consumer failed (" << decode << "):\n" << out);
    for (int i = 0; i < payload->field_count(); ++i) {
      const std::string& name = payload->field(i)->name();
      if (not_served_yet.count(name) > 0) continue;
      int64_t count = SummaryCount(out, name);
      BOOST_TEST(count > 0, "the consumer's summary shows no " << name);
    }
  }
}

}  // namespace
}  // namespace collections::testing
