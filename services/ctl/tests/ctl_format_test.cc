#define BOOST_TEST_MODULE ctl_format
#include "services/ctl/ctl_format.h"

#include "collections/v1/case_service.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

#include <boost/test/unit_test.hpp>

namespace collections::ctl {
namespace {

BOOST_AUTO_TEST_CASE(money_uses_the_currency_exponent) {
  BOOST_TEST(Money(15000, "JPY") == "15,000 JPY");  // not "150.00 JPY"
  BOOST_TEST(Money(150000, "USD") == "1,500.00 USD");
  BOOST_TEST(Money(-5, "KWD") == "-0.005 KWD");
  BOOST_TEST(Money(7, "USD") == "0.07 USD");
  BOOST_TEST(Money(0, "EUR") == "0.00 EUR");
  BOOST_TEST(Money(123456789, "EUR") == "1,234,567.89 EUR");
  BOOST_TEST(Money(100, "ZZZ") == "100 (minor units) ZZZ");
  BOOST_TEST(DecimalAmount(15000, "JPY") == "15000");
  BOOST_TEST(DecimalAmount(-150000, "USD") == "-1500.00");
  BOOST_TEST(DecimalAmount(1, "BHD") == "0.001");
  BOOST_TEST(DecimalAmount(INT64_MIN, "JPY") == "-9223372036854775808");
}

BOOST_AUTO_TEST_CASE(statuses_are_named_and_map_to_documented_exit_codes) {
  BOOST_TEST(StatusCodeName(5) == "NOT_FOUND");
  BOOST_TEST(StatusCodeName(7) == "PERMISSION_DENIED");
  BOOST_TEST(StatusCodeName(14) == "UNAVAILABLE");
  BOOST_TEST(StatusCodeName(16) == "UNAUTHENTICATED");
  BOOST_TEST(StatusCodeName(99) == "CODE_99");
  BOOST_TEST(ExitCodeFor(0) == kExitOk);
  BOOST_TEST(ExitCodeFor(5) == kExitNotFound);
  BOOST_TEST(ExitCodeFor(7) == kExitRefused);
  BOOST_TEST(ExitCodeFor(16) == kExitRefused);
  BOOST_TEST(ExitCodeFor(3) == kExitRefused);
  BOOST_TEST(ExitCodeFor(9) == kExitRefused);
  BOOST_TEST(ExitCodeFor(14) == kExitUnreachable);
  BOOST_TEST(ExitCodeFor(4) == kExitUnreachable);
  BOOST_TEST(ExitCodeFor(13) == kExitUnreachable);
  // Four outcomes a script tells apart.
  BOOST_TEST(kExitBroken != kExitNotFound);
  BOOST_TEST(kExitNotFound != kExitRefused);
  BOOST_TEST(kExitRefused != kExitUnreachable);
}

BOOST_AUTO_TEST_CASE(rich_details_are_printed_with_reason_and_field_violations) {
  google::rpc::Status status;
  status.set_code(3);
  google::rpc::ErrorInfo info;
  info.set_reason("INVALID_REQUEST");
  info.set_domain("collections.v1");
  (*info.mutable_metadata())["account_id"] = "ACC-1";
  status.add_details()->PackFrom(info);
  google::rpc::BadRequest bad;
  auto* v = bad.add_field_violations();
  v->set_field("amount.currency");
  v->set_description("not an ISO 4217 code");
  v = bad.add_field_violations();
  v->set_field("command_id");
  v->set_description("required");
  status.add_details()->PackFrom(bad);
  const std::string text = DescribeStatus(3, "bad request", status.SerializeAsString());
  BOOST_TEST(text ==
             "INVALID_ARGUMENT: bad request\n"
             "  reason: INVALID_REQUEST (collections.v1)\n"
             "  account_id: ACC-1\n"
             "  field amount.currency: not an ISO 4217 code\n"
             "  field command_id: required\n");
  BOOST_TEST(DescribeStatus(5, "no account ACC-9", "") == "NOT_FOUND: no account ACC-9\n");
}

BOOST_AUTO_TEST_CASE(a_blocked_request_is_decoded_not_base64) {
  v1::RecordContactAttemptRequest refused;
  refused.set_account_id("ACC-1");
  refused.set_command_id("call-8");
  v1::EventEnvelope e;
  e.mutable_contact_blocked()->set_command("RecordContactAttempt");
  e.mutable_contact_blocked()->set_command_type("collections.v1.RecordContactAttemptRequest");
  e.mutable_contact_blocked()->set_command_request(refused.SerializeAsString());
  e.mutable_decision()->set_rule_id("F1");
  e.mutable_decision()->set_reason("F1: 7 calls in 7 days");
  auto json = BlockedRequestJson(e);
  BOOST_REQUIRE(json.has_value());
  BOOST_TEST(*json ==
             "collections.v1.RecordContactAttemptRequest "
             "{\"command_id\":\"call-8\",\"account_id\":\"ACC-1\"}");
  BOOST_TEST(EventRule(e) == "F1");
  const std::string reason = EventReason(e);
  BOOST_TEST(reason.find("decision: F1: 7 calls in 7 days") != std::string::npos, reason);
  BOOST_TEST(reason.find("\"command_id\":\"call-8\"") != std::string::npos, reason);

  e.mutable_contact_blocked()->set_command_request("\xff\xff\xff");
  BOOST_TEST(BlockedRequestJson(e)->find("do not decode") != std::string::npos);
  BOOST_TEST(!BlockedRequestJson(v1::EventEnvelope()).has_value());
}

BOOST_AUTO_TEST_CASE(events_carry_their_amounts) {
  v1::EventEnvelope opened;
  opened.mutable_case_opened()->set_currency("JPY");
  opened.mutable_case_opened()->mutable_balances()->set_principal_minor(15000);
  opened.mutable_case_opened()->mutable_balances()->set_fees_minor(500);
  BOOST_TEST(*EventAmountMinor(opened) == 15500);
  BOOST_TEST(EventCurrency(opened) == "JPY");
  v1::EventEnvelope adjusted;
  adjusted.mutable_adjustment_posted()->mutable_increase()->set_fees_minor(100);
  adjusted.mutable_adjustment_posted()->mutable_decrease()->set_principal_minor(400);
  BOOST_TEST(*EventAmountMinor(adjusted) == -300);
  v1::EventEnvelope assigned;
  assigned.mutable_case_assigned();
  BOOST_TEST(!EventAmountMinor(assigned).has_value());
}

}  // namespace
}  // namespace collections::ctl
