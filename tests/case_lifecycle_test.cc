// Every family of collections work end to end: commands through gRPC to the real broker, the
// time-driven events from a test clock, and what the queries then show.
#define BOOST_TEST_MODULE case_lifecycle
#include "tests/support/fixture.h"

#include "absl/time/civil_time.h"

#include <boost/test/unit_test.hpp>

namespace collections::testing {
namespace {

const absl::TimeZone kChicago = Zone("America/Chicago");

absl::Time Local(int y, int m, int d, int hh = 12) {
  return absl::FromCivil(absl::CivilHour(y, m, d, hh), kChicago);
}

struct Fixture : ClockedService {
  Fixture() : ClockedService(Local(2025, 10, 1, 9), "lifecycle") {}
  void Open(const std::string& id, v1::LocalDate due, const std::string& assignee = "collector-7",
            const std::string& queue = "early") {
    v1::OpenCaseRequest r = OpenCase(id, "open-" + id);
    r.clear_command_id();
    *r.mutable_due_date() = due;
    r.set_debt_type(v1::DEBT_TYPE_MEDICAL);
    r.set_original_creditor("City Hospital");
    *r.mutable_date_of_first_delinquency() = due;
    r.set_jurisdiction("IL");
    r.set_third_party_collector(true);
    r.set_assignee(assignee);
    r.set_queue(queue);
    Must(&Stub::OpenCase, r, id);
  }
};

std::vector<std::string> TypesFor(const std::string& topic, const std::string& account) {
  std::vector<std::string> out;
  for (const auto& e : ReadTopic(topic)) {
    if (e.envelope.account_id() == account) out.push_back(e.headers.at("ce_type").substr(15));
  }
  return out;
}

BOOST_AUTO_TEST_CASE(case_and_debtor_assignment_flags_and_listings) {
  Fixture f;
  f.Open("ACC-1", Date(2025, 9, 1), "collector-7", "early");
  f.Open("ACC-2", Date(2025, 9, 20), "collector-7", "early");
  f.Open("ACC-3", Date(2025, 9, 25), "collector-8", "late");
  f.Open("ACC-4", Date(2025, 9, 28), "collector-7", "late");
  f.Open("ACC-5", Date(2025, 6, 1), "collector-7", "early");

  v1::Account a = f.Account("ACC-1");
  BOOST_TEST(a.debt_type() == v1::DEBT_TYPE_MEDICAL);
  BOOST_TEST(a.original_creditor() == "City Hospital");
  BOOST_TEST(a.third_party_collector());
  BOOST_TEST(a.days_past_due() == 30);
  BOOST_TEST(a.aging_bucket() == v1::AGING_BUCKET_30_59);

  v1::AssignCaseRequest assign;
  assign.set_assignee("collector-9");
  assign.set_reason("rebalancing");
  f.Must(&Stub::AssignCase, assign, "ACC-2");
  v1::EscalateCaseRequest escalate;
  escalate.set_supervisor("supervisor-1");
  escalate.set_reason("hardship request");
  f.Must(&Stub::EscalateCase, escalate, "ACC-2");
  BOOST_TEST(f.Account("ACC-2").assignee() == "collector-9");
  BOOST_TEST(f.Account("ACC-2").escalated_to() == "supervisor-1");

  v1::UpdateFlagRequest bankruptcy;
  bankruptcy.set_reason("notice from court");
  bankruptcy.mutable_bankruptcy()->set_status(v1::BANKRUPTCY_STATUS_PENDING);
  bankruptcy.mutable_bankruptcy()->set_case_number("25-10001");
  f.Must(&Stub::UpdateFlag, bankruptcy, "ACC-3");
  v1::UpdateFlagRequest attorney;
  attorney.set_reason("consumer said so");
  attorney.mutable_attorney()->set_represented(true);
  attorney.mutable_attorney()->mutable_attorney()->set_name("Sam Lawyer");
  f.Must(&Stub::UpdateFlag, attorney, "ACC-3");
  v1::UpdateFlagRequest no_reason = attorney;
  no_reason.clear_reason();
  auto refused = f.Send(&Stub::UpdateFlag, no_reason, "ACC-3");
  BOOST_TEST(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(BadRequestField(refused) == "reason");
  v1::Account flagged = f.Account("ACC-3");
  BOOST_TEST(flagged.flags().bankruptcy() == v1::BANKRUPTCY_STATUS_PENDING);
  BOOST_TEST(flagged.flags().attorney_represented());
  BOOST_TEST(flagged.flags().attorney().name() == "Sam Lawyer");

  // Listings: by assignee (paged), by queue, by bucket, by status.
  auto list = [&](v1::ListAccountsRequest r) {
    std::vector<std::string> ids;
    for (;;) {
      grpc::ClientContext ctx;
      v1::ListAccountsResponse resp;
      BOOST_REQUIRE(f.service.queries().ListAccounts(&ctx, r, &resp).ok());
      BOOST_REQUIRE(resp.accounts_size() <= (r.page_size() == 0 ? 50 : r.page_size()));
      for (const auto& s : resp.accounts()) ids.push_back(s.account_id());
      if (resp.next_page_token().empty()) return ids;
      r.set_page_token(resp.next_page_token());
    }
  };
  v1::ListAccountsRequest by_assignee;
  by_assignee.set_assignee("collector-7");
  by_assignee.set_page_size(2);
  BOOST_TEST((list(by_assignee) == std::vector<std::string>{"ACC-1", "ACC-4", "ACC-5"}));
  v1::ListAccountsRequest by_queue;
  by_queue.set_queue("late");
  BOOST_TEST((list(by_queue) == std::vector<std::string>{"ACC-3", "ACC-4"}));
  v1::ListAccountsRequest by_bucket;
  by_bucket.set_aging_bucket(v1::AGING_BUCKET_120_149);
  BOOST_TEST((list(by_bucket) == std::vector<std::string>{"ACC-5"}));
  v1::ListAccountsRequest by_creditor_and_queue;
  by_creditor_and_queue.set_creditor("Acme Bank");
  by_creditor_and_queue.set_queue("early");
  // ACC-2 was reassigned to another collector but stays in its queue.
  BOOST_TEST((list(by_creditor_and_queue) == std::vector<std::string>{"ACC-1", "ACC-2", "ACC-5"}));
}

BOOST_AUTO_TEST_CASE(contact_correspondence_and_skip_tracing) {
  Fixture f;
  f.Open("ACC-1", Date(2025, 9, 1));
  v1::RecordContactAttemptRequest call;
  call.set_contact_id("C1");
  call.set_channel(v1::CONTACT_CHANNEL_CALL);
  call.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  call.set_address("+13125550100");
  call.set_phone_type(v1::PHONE_TYPE_CELL);
  call.set_outcome(v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION);
  *call.mutable_callback_at() = internal::ToProto(Local(2025, 10, 2, 10));
  f.Must(&Stub::RecordContactAttempt, call);
  v1::RecordCorrespondenceRequest notice;
  notice.set_correspondence_id("VN1");
  notice.set_kind(v1::CORRESPONDENCE_KIND_VALIDATION_NOTICE);
  notice.set_channel(v1::CONTACT_CHANNEL_LETTER);
  notice.set_address("1 Main St, Chicago IL");
  *notice.mutable_itemization()->mutable_itemization_date() = Date(2025, 9, 1);
  notice.mutable_itemization()->set_current_amount_minor(102500);
  notice.mutable_content()->set_has_debt_collector_disclosure(true);  // F10
  // Sent on Nov 20: the service clock must have reached it (a future occurred_at is refused).
  f.clock.Set(Local(2025, 11, 20, 10));
  *notice.mutable_occurred_at() = internal::ToProto(Local(2025, 11, 20, 10));
  f.Must(&Stub::RecordCorrespondence, notice);
  v1::RecordCorrespondenceRequest no_itemization = notice;
  no_itemization.set_correspondence_id("VN2");
  no_itemization.clear_itemization();
  BOOST_TEST(BadRequestField(f.Send(&Stub::RecordCorrespondence, no_itemization)) ==
             "itemization.itemization_date");
  v1::UpdateContactPointRequest add;
  add.set_action(v1::CONTACT_POINT_ACTION_ADD);
  add.set_email("jane@example.com");
  add.set_source("skip-trace vendor");
  f.Must(&Stub::UpdateContactPoint, add);
  add.set_action(v1::CONTACT_POINT_ACTION_VERIFY);
  f.Must(&Stub::UpdateContactPoint, add);
  v1::SetLocationStatusRequest found;
  found.set_location_unknown(false);
  found.set_source("new address on file");
  f.Must(&Stub::SetLocationStatus, found);

  v1::Account a = f.Account();
  BOOST_TEST(a.last_contact().outcome() == v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION);
  BOOST_TEST(a.callback_at().seconds() == absl::ToUnixSeconds(Local(2025, 10, 2, 10)));
  BOOST_TEST(a.validation_period_end().month() == 12);
  BOOST_TEST(a.validation_period_end().day() == 28);
  BOOST_TEST(a.contact_points().verified_emails(0) == "jane@example.com");

  f.AdvanceTo(Local(2025, 12, 29, 1));
  BOOST_TEST(f.Account().validation_period_ended());
}

BOOST_AUTO_TEST_CASE(broken_promise_is_emitted_by_the_clock_and_tops_the_work_queue) {
  Fixture f;
  f.Open("ACC-1", Date(2025, 9, 20));
  f.Open("ACC-2", Date(2025, 6, 1));  // older debt, no promise
  v1::RecordPromiseToPayRequest promise;
  promise.set_promise_id("PR1");
  promise.mutable_amount()->set_amount_minor(5000);
  promise.mutable_amount()->set_currency("USD");
  *promise.mutable_due_date() = Date(2025, 10, 10);
  f.Must(&Stub::RecordPromiseToPay, promise);
  f.Must(&Stub::PostPayment, PostPayment("", "", "P1", 1000));  // partial: does not keep it

  f.AdvanceTo(Local(2025, 10, 13, 23));  // grace: 11, 12, 13
  BOOST_TEST(f.Account().promises(0).status() == v1::PROMISE_STATUS_PENDING);
  f.AdvanceTo(Local(2025, 10, 14, 1));
  v1::Account a = f.Account();
  BOOST_TEST(a.promises(0).status() == v1::PROMISE_STATUS_BROKEN);
  BOOST_TEST(a.promises(0).paid_toward_minor() == 1000);

  grpc::ClientContext ctx;
  v1::GetWorkQueueRequest q;
  q.set_assignee("collector-7");
  v1::GetWorkQueueResponse queue;
  BOOST_REQUIRE(f.service.queries().GetWorkQueue(&ctx, q, &queue).ok());
  BOOST_REQUIRE(queue.items_size() == 2);
  BOOST_TEST(queue.items(0).account().account_id() == "ACC-1");
  BOOST_TEST(queue.items(0).reasons(0).code() == "BROKEN_PROMISE");
  BOOST_TEST(queue.items(0).priority() > queue.items(1).priority());

  // The event came from the clock, with its own effective time.
  for (const auto& e : ReadTopic(f.service.options().log.topic)) {
    if (!e.envelope.has_promise_broken()) continue;
    BOOST_TEST(e.envelope.occurred_at().seconds() == absl::ToUnixSeconds(Local(2025, 10, 14, 0)));
    BOOST_TEST(e.envelope.actor().role() == "system");
  }
}

BOOST_AUTO_TEST_CASE(payment_plan_defaults_when_an_instalment_is_missed) {
  Fixture f;
  f.Open("ACC-1", Date(2025, 9, 20));
  v1::ProposePaymentPlanRequest plan;
  plan.set_plan_id("PL1");
  for (auto [amount, day] : std::vector<std::pair<int64_t, int>>{{20000, 11}, {20000, 22}}) {
    auto* i = plan.add_instalments();
    i->set_amount_minor(amount);
    *i->mutable_due_date() = Date(2025, 10, day);  // Sat 10-11 rolls past Columbus Day to Tue 10-14
  }
  f.Must(&Stub::ProposePaymentPlan, plan);
  v1::AcceptPaymentPlanRequest accept;
  accept.set_plan_id("PL1");
  f.Must(&Stub::AcceptPaymentPlan, accept);
  BOOST_TEST(f.Account().status() == v1::ACCOUNT_STATUS_IN_PAYMENT_PLAN);
  BOOST_TEST(f.Account().plan().instalments(0).effective_due_date().day() == 14);
  f.Must(&Stub::PostPayment, PostPayment("", "", "P1", 20000));
  f.AdvanceTo(Local(2025, 10, 27, 23));  // 10-22 + 5 grace days: still on time
  BOOST_TEST(f.Account().plan().status() == v1::PLAN_STATUS_ACTIVE);
  f.AdvanceTo(Local(2025, 10, 28, 1));
  v1::Account a = f.Account();
  BOOST_TEST(a.plan().status() == v1::PLAN_STATUS_DEFAULTED);
  BOOST_TEST(a.status() == v1::ACCOUNT_STATUS_OPEN);
  bool missed_reason = false;
  for (const auto& r : a.priority())
    missed_reason = missed_reason || r.code() == "MISSED_INSTALMENT";
  BOOST_TEST(missed_reason);
}

BOOST_AUTO_TEST_CASE(money_settlement_refund_adjustments_and_disputes) {
  Fixture f;
  f.Open("ACC-1", Date(2025, 9, 20));  // 100000 principal + 2500 fees
  v1::AgreeSettlementRequest settle;
  settle.set_settlement_id("S1");
  settle.mutable_amount()->set_amount_minor(40000);
  settle.mutable_amount()->set_currency("USD");
  *settle.mutable_due_date() = Date(2025, 10, 30);
  auto refused = f.Send(&Stub::AgreeSettlement, settle);
  BOOST_TEST(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  BOOST_TEST(ErrorReason(refused) == "SUPERVISOR_APPROVAL_REQUIRED");
  f.Must(&Stub::AgreeSettlement, settle, "ACC-1", "supervisor");
  f.Must(&Stub::PostPayment, PostPayment("", "", "P1", 45000));
  v1::Account a = f.Account();
  BOOST_TEST(a.status() == v1::ACCOUNT_STATUS_SETTLED);
  BOOST_TEST(a.total_balance_minor() == 0);
  BOOST_TEST(a.credit_balance_minor() == 5000);
  v1::RefundCreditRequest refund;
  refund.set_refund_id("R1");
  refund.mutable_amount()->set_amount_minor(5001);
  refund.mutable_amount()->set_currency("USD");
  refund.set_method(v1::PAYMENT_METHOD_ACH);
  BOOST_TEST(ErrorReason(f.Send(&Stub::RefundCredit, refund)) == "REFUND_EXCEEDS_CREDIT");
  refund.mutable_amount()->set_amount_minor(5000);
  f.Must(&Stub::RefundCredit, refund);
  BOOST_TEST(f.Account().credit_balance_minor() == 0);

  f.Open("ACC-2", Date(2025, 9, 20));
  v1::PostAdjustmentRequest accrual;
  accrual.set_adjustment_id("A1");
  accrual.set_kind(v1::ADJUSTMENT_KIND_INTEREST_ACCRUAL);
  accrual.mutable_amounts()->set_interest_minor(1200);
  accrual.set_reason("monthly interest");
  f.Must(&Stub::PostAdjustment, accrual, "ACC-2");
  v1::PostAdjustmentRequest write_off;
  write_off.set_adjustment_id("A2");
  write_off.set_kind(v1::ADJUSTMENT_KIND_SMALL_BALANCE_WRITE_OFF);
  write_off.mutable_amounts()->set_interest_minor(1200);
  write_off.set_reason("small balance");
  f.Must(&Stub::PostAdjustment, write_off, "ACC-2");
  BOOST_TEST(f.Account("ACC-2").written_off_minor() == 1200);

  v1::OpenDisputeRequest dispute;
  dispute.set_dispute_id("D1");
  dispute.set_written(true);
  dispute.set_partial(true);
  dispute.set_disputed_amount_minor(2500);
  dispute.set_reason("fees not owed");
  f.Must(&Stub::OpenDispute, dispute, "ACC-2");
  BOOST_TEST(f.Account("ACC-2").status() == v1::ACCOUNT_STATUS_DISPUTED);
  v1::SendDisputeVerificationRequest verify;
  verify.set_dispute_id("D1");
  f.Must(&Stub::SendDisputeVerification, verify, "ACC-2");
  v1::ResolveDisputeRequest resolve;
  resolve.set_dispute_id("D1");
  resolve.set_upheld(true);
  resolve.set_resolution("fees waived");
  f.Must(&Stub::ResolveDispute, resolve, "ACC-2");
  v1::Account d = f.Account("ACC-2");
  BOOST_TEST(d.disputes(0).status() == v1::DISPUTE_STATUS_UPHELD);
  BOOST_TEST(d.total_balance_minor() == 100000);
  BOOST_TEST(d.status() == v1::ACCOUNT_STATUS_OPEN);
}

BOOST_AUTO_TEST_CASE(placement_bureau_transfer_and_closure) {
  Fixture f;
  f.Open("ACC-1", Date(2025, 9, 20));
  v1::PlaceWithAgencyRequest place;
  place.set_agency("AGENCY-1");
  place.set_reason("no contact in 60 days");
  f.Must(&Stub::PlaceWithAgency, place);
  BOOST_TEST(f.Account().status() == v1::ACCOUNT_STATUS_PLACED_WITH_AGENCY);
  v1::RecallFromAgencyRequest recall;
  recall.set_reason("recalled");
  f.Must(&Stub::RecallFromAgency, recall);
  v1::ReportToBureauRequest report;
  report.set_report_id("B1");
  report.set_bureau("experian");
  report.set_status_code("93");
  // F16: no report before a conversation (or a delivered letter and 14 quiet days).
  auto blocked = f.Send(&Stub::ReportToBureau, report);
  BOOST_TEST(blocked.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  BOOST_TEST(ErrorReason(blocked) == "F16");
  v1::RecordContactAttemptRequest call;
  call.set_contact_id("C1");
  call.set_channel(v1::CONTACT_CHANNEL_CALL);
  call.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  call.set_address("+13125550100");
  call.set_phone_type(v1::PHONE_TYPE_CELL);
  call.set_outcome(v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION);
  f.Must(&Stub::RecordContactAttempt, call);
  report.set_report_id("B2");
  f.Must(&Stub::ReportToBureau, report);
  v1::ReferToLegalRequest legal;
  legal.set_firm("Law LLP");
  legal.set_reason("suit");
  f.Must(&Stub::ReferToLegal, legal);
  BOOST_TEST(f.Account().status() == v1::ACCOUNT_STATUS_LEGAL);
  v1::TransferDebtRequest sale;
  sale.set_sale(true);
  sale.set_new_owner("Debt Buyer Inc");
  sale.set_reason("portfolio sale");
  f.Must(&Stub::TransferDebt, sale);
  v1::Account a = f.Account();
  BOOST_TEST(a.status() == v1::ACCOUNT_STATUS_SOLD);
  BOOST_TEST(a.bureau_reports(0).report_id() == "B2");
  BOOST_TEST(a.bureau_reports(0).status_code() == "93");
  auto refused = f.Send(&Stub::PlaceWithAgency, place);
  BOOST_TEST(ErrorReason(refused) == "ACCOUNT_SOLD");

  f.Open("ACC-2", Date(2025, 9, 20));
  v1::CloseCaseRequest close;
  close.set_reason("creditor recall");
  f.Must(&Stub::CloseCase, close, "ACC-2");
  BOOST_TEST(f.Account("ACC-2").status() == v1::ACCOUNT_STATUS_CLOSED);
}

BOOST_AUTO_TEST_CASE(a_100_day_jump_emits_every_bucket_change_in_order) {
  Fixture f;
  f.Open("ACC-1", Date(2025, 10, 1));  // due today: current
  BOOST_TEST(f.Account().aging_bucket() == v1::AGING_BUCKET_CURRENT);
  f.AdvanceTo(Local(2025, 10, 1, 9) + absl::Hours(24 * 100));
  v1::Account a = f.Account();
  BOOST_TEST(a.aging_bucket() == v1::AGING_BUCKET_90_119);
  BOOST_TEST(a.days_past_due() == 100);
  std::vector<int64_t> times;
  std::vector<int> to;
  for (const auto& e : ReadTopic(f.service.options().log.topic)) {
    if (!e.envelope.has_aging_bucket_changed()) continue;
    times.push_back(e.envelope.occurred_at().seconds());
    to.push_back(e.envelope.aging_bucket_changed().to());
  }
  BOOST_TEST((to == std::vector<int>{v1::AGING_BUCKET_1_29, v1::AGING_BUCKET_30_59,
                                     v1::AGING_BUCKET_60_89, v1::AGING_BUCKET_90_119}));
  BOOST_TEST((times == std::vector<int64_t>{absl::ToUnixSeconds(Local(2025, 10, 2, 0)),
                                            absl::ToUnixSeconds(Local(2025, 10, 31, 0)),
                                            absl::ToUnixSeconds(Local(2025, 11, 30, 0)),
                                            absl::ToUnixSeconds(Local(2025, 12, 30, 0))}));
  // A restart does not emit them again.
  f.service.Restart();
  BOOST_REQUIRE(f.service.app().router().Tick().ok());
  BOOST_TEST(TypesFor(f.service.options().log.topic, "ACC-1").size() == 5u);
}

}  // namespace
}  // namespace collections::testing
