#define BOOST_TEST_MODULE case_aggregate
#include <boost/test/unit_test.hpp>

#include "services/domain/case_aggregate.h"
#include "services/domain/hashing.h"

namespace collections {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1760000000);  // 2025-10-09T08:53:20Z

v1::OpenCaseRequest OpenRequest() {
  v1::OpenCaseRequest r;
  r.set_command_id("cmd-open-1");
  r.set_account_id("ACC-1");
  r.set_creditor("Acme Bank");
  r.set_debtor_name("Jane Doe");
  r.set_currency("USD");
  r.mutable_balances()->set_principal_minor(100000);
  r.mutable_balances()->set_interest_minor(2500);
  r.mutable_balances()->set_fees_minor(1500);
  r.mutable_balances()->set_costs_minor(1000);
  r.mutable_due_date()->set_year(2025);
  r.mutable_due_date()->set_month(9);
  r.mutable_due_date()->set_day(1);
  r.set_time_zone("America/Chicago");
  auto* phone = r.mutable_contact_points()->add_phones();
  phone->set_number("+13125550100");
  phone->set_type(v1::PHONE_TYPE_CELL);
  return r;
}

v1::PostPaymentRequest PaymentRequest(const std::string& id, int64_t amount) {
  v1::PostPaymentRequest r;
  r.set_command_id("cmd-pay-" + id);
  r.set_account_id("ACC-1");
  r.set_payment_id(id);
  r.mutable_amount()->set_amount_minor(amount);
  r.mutable_amount()->set_currency("USD");
  r.set_method(v1::PAYMENT_METHOD_ACH);
  return r;
}

// Decides and applies, as the writer does, numbering the events.
Result<v1::Account> Apply(v1::Account account, const Command& command) {
  auto decided = Decide(account.version() == 0 ? nullptr : &account, command, kNow);
  if (!decided) return decided.error();
  for (auto& e : decided.value()) {
    e.set_account_id(AccountId(command));
    e.set_sequence(account.version() + 1);
    Evolve(account, e);
  }
  return account;
}

v1::Account Opened() {
  auto a = Apply(v1::Account(), OpenRequest());
  BOOST_REQUIRE(a.ok());
  return a.value();
}

BOOST_AUTO_TEST_CASE(open_case_sets_balances_status_and_version) {
  v1::Account a = Opened();
  BOOST_TEST(a.version() == 1);
  BOOST_TEST(a.status() == v1::ACCOUNT_STATUS_OPEN);
  BOOST_TEST(a.total_balance_minor() == 105000);
  BOOST_TEST(a.currency() == "USD");
  BOOST_TEST(a.time_zone() == "America/Chicago");
}

BOOST_AUTO_TEST_CASE(open_case_twice_is_already_exists) {
  auto again = Apply(Opened(), OpenRequest());
  BOOST_REQUIRE(!again.ok());
  BOOST_TEST(static_cast<int>(again.error().code) == static_cast<int>(Errc::kAlreadyExists));
  BOOST_TEST(again.error().reason == "ACCOUNT_EXISTS");
}

struct FieldCase {
  const char* name;
  std::function<void(v1::OpenCaseRequest&)> mutate;
  const char* field;
};

BOOST_AUTO_TEST_CASE(open_case_rejects_each_bad_field_by_name) {
  std::vector<FieldCase> cases = {
      {"no command id", [](auto& r) { r.clear_command_id(); }, "command_id"},
      {"space in account id", [](auto& r) { r.set_account_id("A 1"); }, "account_id"},
      {"no creditor", [](auto& r) { r.clear_creditor(); }, "creditor"},
      {"lower-case currency", [](auto& r) { r.set_currency("usd"); }, "currency"},
      {"negative fees", [](auto& r) { r.mutable_balances()->set_fees_minor(-1); }, "balances.fees_minor"},
      {"zero balance", [](auto& r) { r.clear_balances(); }, "balances"},
      {"30 February", [](auto& r) { r.mutable_due_date()->set_month(2); r.mutable_due_date()->set_day(30); }, "due_date"},
      {"unknown zone", [](auto& r) { r.set_time_zone("America/Atlantis"); }, "time_zone"},
      {"phone not E.164", [](auto& r) { r.mutable_contact_points()->mutable_phones(0)->set_number("555-0100"); }, "contact_points.phones[0].number"},
      {"phone without type", [](auto& r) { r.mutable_contact_points()->mutable_phones(0)->clear_type(); }, "contact_points.phones[0].type"},
      {"bad e-mail", [](auto& r) { r.mutable_contact_points()->add_emails("nobody"); }, "contact_points.emails[0]"},
      {"negative expected version", [](auto& r) { r.set_expected_version(-1); }, "expected_version"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      v1::OpenCaseRequest r = OpenRequest();
      c.mutate(r);
      auto result = Apply(v1::Account(), r);
      BOOST_REQUIRE(!result.ok());
      BOOST_TEST(static_cast<int>(result.error().code) == static_cast<int>(Errc::kInvalidArgument));
      BOOST_TEST(result.error().field == c.field);
    }
  }
}

BOOST_AUTO_TEST_CASE(payment_is_applied_costs_fees_interest_then_principal) {
  auto a = Apply(Opened(), PaymentRequest("P1", 4000));
  BOOST_REQUIRE(a.ok());
  BOOST_TEST(a->balances().costs_minor() == 0);
  BOOST_TEST(a->balances().fees_minor() == 0);
  BOOST_TEST(a->balances().interest_minor() == 1000);
  BOOST_TEST(a->balances().principal_minor() == 100000);
  BOOST_TEST(a->total_balance_minor() == 101000);
  BOOST_TEST(a->last_payment().payment_id() == "P1");
  BOOST_TEST(a->version() == 2);
}

BOOST_AUTO_TEST_CASE(overpayment_pays_in_full_and_creates_credit) {
  auto a = Apply(Opened(), PaymentRequest("P1", 105500));
  BOOST_REQUIRE(a.ok());
  BOOST_TEST(a->total_balance_minor() == 0);
  BOOST_TEST(a->credit_balance_minor() == 500);
  BOOST_TEST(a->status() == v1::ACCOUNT_STATUS_PAID_IN_FULL);
}

BOOST_AUTO_TEST_CASE(payment_refusals) {
  auto no_account = Apply(v1::Account(), PaymentRequest("P1", 100));
  BOOST_REQUIRE(!no_account.ok());
  BOOST_TEST(no_account.error().reason == "ACCOUNT_NOT_FOUND");

  auto zero = Apply(Opened(), PaymentRequest("P1", 0));
  BOOST_REQUIRE(!zero.ok());
  BOOST_TEST(zero.error().field == "amount.amount_minor");

  auto negative = Apply(Opened(), PaymentRequest("P1", -5));
  BOOST_REQUIRE(!negative.ok());
  BOOST_TEST(negative.error().field == "amount.amount_minor");

  auto euro = PaymentRequest("P1", 100);
  euro.mutable_amount()->set_currency("EUR");
  auto wrong_currency = Apply(Opened(), euro);
  BOOST_REQUIRE(!wrong_currency.ok());
  BOOST_TEST(wrong_currency.error().field == "amount.currency");

  auto once = Apply(Opened(), PaymentRequest("P1", 100));
  BOOST_REQUIRE(once.ok());
  auto twice = Apply(once.value(), PaymentRequest("P1", 100));
  BOOST_REQUIRE(!twice.ok());
  BOOST_TEST(twice.error().reason == "PAYMENT_EXISTS");
}

v1::ReversePaymentRequest Reversal(const std::string& payment_id) {
  v1::ReversePaymentRequest r;
  r.set_command_id("cmd-rev-" + payment_id);
  r.set_account_id("ACC-1");
  r.set_payment_id(payment_id);
  r.set_reason(v1::REVERSAL_REASON_NSF);
  return r;
}

BOOST_AUTO_TEST_CASE(reversal_reopens_exactly_what_the_payment_paid) {
  v1::Account opened = Opened();
  auto paid = Apply(opened, PaymentRequest("P1", 105500));
  BOOST_REQUIRE(paid.ok());
  auto reversed = Apply(paid.value(), Reversal("P1"));
  BOOST_REQUIRE(reversed.ok());
  BOOST_TEST(reversed->balances().DebugString() == opened.balances().DebugString());
  BOOST_TEST(reversed->credit_balance_minor() == 0);
  BOOST_TEST(reversed->status() == v1::ACCOUNT_STATUS_OPEN);
  BOOST_TEST(reversed->last_payment().reversed());

  auto again = Apply(reversed.value(), Reversal("P1"));
  BOOST_REQUIRE(!again.ok());
  BOOST_TEST(again.error().reason == "PAYMENT_ALREADY_REVERSED");
  BOOST_TEST(static_cast<int>(again.error().code) == static_cast<int>(Errc::kFailedPrecondition));

  auto unknown = Apply(paid.value(), Reversal("P404"));
  BOOST_REQUIRE(!unknown.ok());
  BOOST_TEST(unknown.error().reason == "PAYMENT_NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(effective_date_defaults_to_business_date_in_the_consumers_zone) {
  // 2025-10-09T03:00Z is still 2025-10-08 in Chicago (UTC-5 in October).
  auto r = PaymentRequest("P1", 100);
  r.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(absl::FromCivil(
      absl::CivilSecond(2025, 10, 9, 3, 0, 0), absl::UTCTimeZone())));
  auto events = Decide(&static_cast<const v1::Account&>(Opened()), r, kNow);
  BOOST_REQUIRE(events.ok());
  const auto& d = events.value()[0].payment_posted().effective_date();
  BOOST_TEST(d.year() == 2025);
  BOOST_TEST(d.month() == 10);
  BOOST_TEST(d.day() == 8);
}

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
  BOOST_TEST(Fingerprint(PaymentRequest("P1", 100)) == Fingerprint(PaymentRequest("P1", 100)));
  BOOST_TEST(Fingerprint(PaymentRequest("P1", 100)) != Fingerprint(PaymentRequest("P1", 101)));
}

BOOST_AUTO_TEST_CASE(uuid_is_version_4_text) {
  std::string id = NewUuid();
  BOOST_TEST(id.size() == 36u);
  BOOST_TEST(id[14] == '4');
  BOOST_TEST(NewUuid() != id);
}

}  // namespace
}  // namespace collections
