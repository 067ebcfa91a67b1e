// ValidateRequest, the currency table, the Timestamp conversion and the money limits, as
// tables: a bad field is named, every bad field is named, the boundary values pass.
#define BOOST_TEST_MODULE validation
#include "services/domain/case_aggregate.h"
#include "services/domain/currency.h"
#include "services/domain/internal.h"
#include "services/domain/limits.h"

#include "absl/time/civil_time.h"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <functional>

namespace collections {
namespace {

v1::LocalDate Date(int y, int m, int d) {
  v1::LocalDate date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

template <typename Request>
Request With(Request r) {
  r.set_command_id("cmd-1");
  r.set_account_id("ACC-1");
  r.mutable_actor()->set_id("collector-7");
  r.mutable_actor()->set_kind(v1::ACTOR_KIND_PERSON);
  r.mutable_actor()->set_role("collector");
  r.set_correlation_id("corr-1");
  return r;
}

v1::OpenCaseRequest Open() {
  v1::OpenCaseRequest r;
  r.set_creditor("Acme Bank");
  r.set_debtor_name("Jane Doe");
  r.set_currency("USD");
  r.mutable_balances()->set_principal_minor(100000);
  *r.mutable_due_date() = Date(2025, 9, 1);
  r.set_time_zone("America/Chicago");
  r.set_jurisdiction("IL");
  auto* phone = r.mutable_contact_points()->add_phones();
  phone->set_number("+13125550100");
  phone->set_type(v1::PHONE_TYPE_CELL);
  r.mutable_contact_points()->add_emails("jane@example.com");
  r.mutable_contact_points()->mutable_address()->add_lines("1 Main St");
  return With(r);
}

v1::PostPaymentRequest Payment() {
  v1::PostPaymentRequest r;
  r.set_payment_id("P1");
  r.mutable_amount()->set_amount_minor(1000);
  r.mutable_amount()->set_currency("USD");
  r.set_method(v1::PAYMENT_METHOD_ACH);
  return With(r);
}

v1::ProposePaymentPlanRequest Plan(int instalments) {
  v1::ProposePaymentPlanRequest r;
  r.set_plan_id("PLAN-1");
  absl::CivilDay day(2025, 10, 1);
  for (int i = 0; i < instalments; ++i) {
    auto* inst = r.add_instalments();
    inst->set_amount_minor(100);
    *inst->mutable_due_date() = Date(static_cast<int>(day.year()), day.month(), day.day());
    day += 7;
  }
  return With(r);
}

v1::RecordContactAttemptRequest Call() {
  v1::RecordContactAttemptRequest r;
  r.set_contact_id("C1");
  r.set_channel(v1::CONTACT_CHANNEL_CALL);
  r.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  r.set_address("+13125550100");
  r.set_phone_type(v1::PHONE_TYPE_CELL);
  r.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
  return With(r);
}

v1::RecordCorrespondenceRequest Notice() {
  v1::RecordCorrespondenceRequest r;
  r.set_correspondence_id("VN1");
  r.set_kind(v1::CORRESPONDENCE_KIND_VALIDATION_NOTICE);
  r.set_channel(v1::CONTACT_CHANNEL_LETTER);
  r.set_address("1 Main St, Chicago IL");
  *r.mutable_itemization()->mutable_itemization_date() = Date(2025, 9, 1);
  r.mutable_itemization()->set_current_amount_minor(102500);
  return With(r);
}

v1::PostAdjustmentRequest Correction(int64_t principal) {
  v1::PostAdjustmentRequest r;
  r.set_adjustment_id("ADJ-1");
  r.set_kind(v1::ADJUSTMENT_KIND_CORRECTION);
  r.set_increase(true);
  r.mutable_amounts()->set_principal_minor(principal);
  r.set_reason("correction");
  return With(r);
}

std::vector<std::string> Fields(const Status& s) {
  std::vector<std::string> out;
  if (!s) return out;
  if (s->violations.empty()) return {s->field};
  for (const auto& v : s->violations) out.push_back(v.field);
  return out;
}

std::string Describe(const Status& s) {
  if (!s) return "accepted";
  std::string out = s->message + " [";
  for (const auto& v : s->violations) out += v.field + ": " + v.description + "; ";
  return out + "]";
}

google::protobuf::Timestamp Ts(int64_t seconds, int32_t nanos) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  t.set_nanos(nanos);
  return t;
}

struct BadCase {
  const char* name;
  std::function<Command()> make;
  std::vector<std::string> fields;  // every field that must be named, in order
};

BOOST_AUTO_TEST_CASE(well_formed_requests_pass) {
  for (const Command& c :
       std::vector<Command>{Open(), Payment(), Plan(3), Call(), Notice(), Correction(100)}) {
    Status s = ValidateRequest(c);
    BOOST_TEST(!s.has_value(), CommandName(c) << ": " << Describe(s));
  }
}

BOOST_AUTO_TEST_CASE(each_bad_field_is_named) {
  const std::string long_id(129, 'a');
  const std::string long_text(1001, 'x');
  std::vector<BadCase> cases = {
      {"command_id missing",
       [] {
         auto r = Payment();
         r.clear_command_id();
         return r;
       },
       {"command_id"}},
      {"command_id too long",
       [&] {
         auto r = Payment();
         r.set_command_id(long_id);
         return r;
       },
       {"command_id"}},
      {"command_id with a space",
       [] {
         auto r = Payment();
         r.set_command_id("a b");
         return r;
       },
       {"command_id"}},
      {"account_id non-ASCII",
       [] {
         auto r = Payment();
         r.set_account_id("ACC-\xc3\xa9");
         return r;
       },
       {"account_id"}},
      {"correlation_id too long",
       [&] {
         auto r = Payment();
         r.set_correlation_id(long_id);
         return r;
       },
       {"correlation_id"}},
      {"actor.id too long",
       [&] {
         auto r = Payment();
         r.mutable_actor()->set_id(long_id);
         return r;
       },
       {"actor.id"}},
      {"actor.kind unknown",
       [] {
         auto r = Payment();
         r.mutable_actor()->set_kind(static_cast<v1::ActorKind>(9));
         return r;
       },
       {"actor.kind"}},
      {"actor.role too long",
       [] {
         auto r = Payment();
         r.mutable_actor()->set_role(std::string(65, 'r'));
         return r;
       },
       {"actor.role"}},
      {"expected_version negative",
       [] {
         auto r = Payment();
         r.set_expected_version(-1);
         return r;
       },
       {"expected_version"}},
      {"occurred_at year 0",
       [] {
         auto r = Payment();
         *r.mutable_occurred_at() = Ts(-62135596801, 0);
         return r;
       },
       {"occurred_at.seconds"}},
      {"occurred_at year 10000",
       [] {
         auto r = Payment();
         *r.mutable_occurred_at() = Ts(253402300800, 0);
         return r;
       },
       {"occurred_at.seconds"}},
      {"occurred_at nanos -1",
       [] {
         auto r = Payment();
         *r.mutable_occurred_at() = Ts(1700000000, -1);
         return r;
       },
       {"occurred_at.nanos"}},
      {"occurred_at nanos 10^9",
       [] {
         auto r = Payment();
         *r.mutable_occurred_at() = Ts(1700000000, 1000000000);
         return r;
       },
       {"occurred_at.nanos"}},
      {"currency XYZ",
       [] {
         auto r = Payment();
         r.mutable_amount()->set_currency("XYZ");
         return r;
       },
       {"amount.currency"}},
      {"currency ZZZ",
       [] {
         auto r = Open();
         r.set_currency("ZZZ");
         return r;
       },
       {"currency"}},
      {"currency lower case",
       [] {
         auto r = Open();
         r.set_currency("usd");
         return r;
       },
       {"currency"}},
      {"currency test code XTS",
       [] {
         auto r = Open();
         r.set_currency("XTS");
         return r;
       },
       {"currency"}},
      {"amount above 10^15",
       [] {
         auto r = Payment();
         r.mutable_amount()->set_amount_minor(kMaxAmountMinor + 1);
         return r;
       },
       {"amount.amount_minor"}},
      {"method unknown",
       [] {
         auto r = Payment();
         r.set_method(static_cast<v1::PaymentMethod>(77));
         return r;
       },
       {"method"}},
      {"effective_date 2025-02-29",
       [] {
         auto r = Payment();
         *r.mutable_effective_date() = Date(2025, 2, 29);
         return r;
       },
       {"effective_date"}},
      {"reference too long",
       [&] {
         auto r = Payment();
         r.set_reference(long_text);
         return r;
       },
       {"reference"}},
      {"time_zone absolute path",
       [] {
         auto r = Open();
         r.set_time_zone("/etc/passwd");
         return r;
       },
       {"time_zone"}},
      {"time_zone relative path",
       [] {
         auto r = Open();
         r.set_time_zone("../../../tmp/fifo");
         return r;
       },
       {"time_zone"}},
      {"time_zone dot dot inside",
       [] {
         auto r = Open();
         r.set_time_zone("America/../../etc/localtime");
         return r;
       },
       {"time_zone"}},
      {"time_zone localtime",
       [] {
         auto r = Open();
         r.set_time_zone("localtime");
         return r;
       },
       {"time_zone"}},
      {"time_zone empty segment",
       [] {
         auto r = Open();
         r.set_time_zone("America//Chicago");
         return r;
       },
       {"time_zone"}},
      {"time_zone unknown name",
       [] {
         auto r = Open();
         r.set_time_zone("Mars/Olympus");
         return r;
       },
       {"time_zone"}},
      {"time_zone with a NUL",
       [] {
         auto r = Open();
         r.set_time_zone(std::string("UTC\0x", 5));
         return r;
       },
       {"time_zone"}},
      {"phone zone a path",
       [] {
         auto r = Open();
         r.mutable_contact_points()->mutable_phones(0)->set_time_zone("/dev/zero");
         return r;
       },
       {"contact_points.phones[0].time_zone"}},
      {"due_date month 13",
       [] {
         auto r = Open();
         *r.mutable_due_date() = Date(2025, 13, 1);
         return r;
       },
       {"due_date"}},
      {"due_date year 0",
       [] {
         auto r = Open();
         *r.mutable_due_date() = Date(0, 1, 1);
         return r;
       },
       {"due_date"}},
      {"negative fees",
       [] {
         auto r = Open();
         r.mutable_balances()->set_fees_minor(-5);
         return r;
       },
       {"balances.fees_minor"}},
      {"balances total above 10^15",
       [] {
         auto r = Open();
         r.mutable_balances()->set_principal_minor(kMaxAmountMinor);
         r.mutable_balances()->set_fees_minor(1);
         return r;
       },
       {"balances"}},
      {"creditor too long",
       [&] {
         auto r = Open();
         r.set_creditor(long_text);
         return r;
       },
       {"creditor"}},
      {"debt_type unknown",
       [] {
         auto r = Open();
         r.set_debt_type(static_cast<v1::DebtType>(42));
         return r;
       },
       {"debt_type"}},
      {"assignee too long",
       [&] {
         auto r = Open();
         r.set_assignee(long_id);
         return r;
       },
       {"assignee"}},
      {"queue with a space",
       [] {
         auto r = Open();
         r.set_queue("late stage");
         return r;
       },
       {"queue"}},
      {"21 phones",
       [] {
         auto r = Open();
         for (int i = 0; i < 20; ++i)
           *r.mutable_contact_points()->add_phones() = r.contact_points().phones(0);
         return r;
       },
       {"contact_points.phones"}},
      {"21 emails",
       [] {
         auto r = Open();
         for (int i = 0; i < 20; ++i) r.mutable_contact_points()->add_emails("a@b.c");
         return r;
       },
       {"contact_points.emails"}},
      {"email too long",
       [] {
         auto r = Open();
         r.mutable_contact_points()->add_invalid_emails(std::string(250, 'a') + "@b.com");
         return r;
       },
       {"contact_points.invalid_emails[0]"}},
      {"address line too long",
       [] {
         auto r = Open();
         r.mutable_contact_points()->mutable_address()->add_lines(std::string(201, 'l'));
         return r;
       },
       {"contact_points.address.lines[1]"}},
      {"7 address lines",
       [] {
         auto r = Open();
         for (int i = 0; i < 6; ++i) r.mutable_contact_points()->mutable_address()->add_lines("x");
         return r;
       },
       {"contact_points.address.lines"}},
      {"country not alpha-2",
       [] {
         auto r = Open();
         r.mutable_contact_points()->mutable_address()->set_country("USA");
         return r;
       },
       {"contact_points.address.country"}},
      {"itemization impossible date",
       [] {
         auto r = Notice();
         *r.mutable_itemization()->mutable_itemization_date() = Date(2025, 4, 31);
         return r;
       },
       {"itemization.itemization_date"}},
      {"itemization negative interest",
       [] {
         auto r = Notice();
         r.mutable_itemization()->set_interest_since_minor(-1);
         return r;
       },
       {"itemization.interest_since_minor"}},
      {"itemization on a reminder has a bad date",
       [] {
         auto r = Notice();
         r.set_kind(v1::CORRESPONDENCE_KIND_PAYMENT_REMINDER);
         *r.mutable_itemization()->mutable_itemization_date() = Date(2025, 2, 30);
         return r;
       },
       {"itemization.itemization_date"}},
      {"content cease_exception unknown",
       [] {
         auto r = Call();
         r.mutable_content()->set_cease_exception(static_cast<v1::CeaseException>(8));
         return r;
       },
       {"content.cease_exception"}},
      {"callback_at nanos -1",
       [] {
         auto r = Call();
         *r.mutable_callback_at() = Ts(1700000000, -1);
         return r;
       },
       {"callback_at.nanos"}},
      {"call to a non-E.164 number",
       [] {
         auto r = Call();
         r.set_address("555-0100");
         return r;
       },
       {"address"}},
      {"note too long",
       [&] {
         auto r = Call();
         r.set_note(long_text);
         return r;
       },
       {"note"}},
      {"negative disputed amount, not partial",
       [] {
         v1::OpenDisputeRequest r;
         r.set_dispute_id("D1");
         r.set_reason("no");
         r.set_disputed_amount_minor(-10);
         return Command(With(r));
       },
       {"disputed_amount_minor"}},
      {"negative disputed amount, partial",
       [] {
         v1::OpenDisputeRequest r;
         r.set_dispute_id("D1");
         r.set_reason("no");
         r.set_partial(true);
         r.set_disputed_amount_minor(-10);
         return Command(With(r));
       },
       {"disputed_amount_minor"}},
      {"601 instalments", [] { return Plan(601); }, {"instalments"}},
      {"instalment 2025-02-29",
       [] {
         auto r = Plan(3);
         *r.mutable_instalments(1)->mutable_due_date() = Date(2025, 2, 29);
         return r;
       },
       {"instalments[1].due_date"}},
      {"missed_to_default 1000",
       [] {
         auto r = Plan(2);
         r.set_missed_to_default(1000);
         return r;
       },
       {"missed_to_default"}},
      {"negative rate",
       [] {
         auto r = Correction(100);
         r.set_rate_basis_points(-1);
         return r;
       },
       {"rate_basis_points"}},
      {"consent given_at year 0",
       [] {
         v1::UpdateFlagRequest r;
         r.set_reason("asked");
         r.mutable_consent()->set_consent_id("K1");
         r.mutable_consent()->set_kind(v1::CONSENT_KIND_CALLS);
         *r.mutable_consent()->mutable_given_at() = Ts(-62135596801, 0);
         return Command(With(r));
       },
       {"consent.given_at.seconds"}},
      {"attorney e-mail invalid",
       [] {
         v1::UpdateFlagRequest r;
         r.set_reason("asked");
         r.mutable_attorney()->set_represented(true);
         r.mutable_attorney()->mutable_attorney()->set_name("Sam");
         r.mutable_attorney()->mutable_attorney()->set_email("nope");
         return Command(With(r));
       },
       {"attorney.attorney.email"}},
      {"override expires_at nanos",
       [] {
         v1::AuthorizeOverrideRequest r;
         r.set_override_id("O1");
         r.set_rule_id("F5");
         r.set_command("RecordContactAttempt");
         r.set_reason("ok");
         *r.mutable_expires_at() = Ts(1700000000, 2000000000);
         return Command(With(r));
       },
       {"expires_at.nanos"}},
      {"contact point address without a line",
       [] {
         v1::UpdateContactPointRequest r;
         r.set_action(v1::CONTACT_POINT_ACTION_ADD);
         r.mutable_address()->set_city("Chicago");
         return Command(With(r));
       },
       {"address.lines"}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Status s = ValidateRequest(c.make());
      BOOST_REQUIRE(s.has_value());
      BOOST_TEST(static_cast<int>(s->code) == static_cast<int>(Errc::kInvalidArgument));
      BOOST_TEST(Fields(s) == c.fields, Describe(s));
      for (const auto& v : s->violations) BOOST_TEST(v.description.size() <= 300u);
    }
  }
}

// occurred_at becomes a local date: 9999-12-31T23:00Z is 10000-01-01 in Tokyo.
BOOST_AUTO_TEST_CASE(business_time_keeps_a_day_from_the_ends_of_the_timestamp_range) {
  for (int64_t seconds : {kMaxTimestampSeconds, kMaxBusinessTimeSeconds + 1, kMinTimestampSeconds,
                          kMinBusinessTimeSeconds - 1}) {
    auto r = Payment();
    *r.mutable_occurred_at() = Ts(seconds, 0);
    Status s = ValidateRequest(r);
    BOOST_TEST(Fields(s) == std::vector<std::string>{"occurred_at.seconds"}, Describe(s));
  }
}

BOOST_AUTO_TEST_CASE(every_bad_field_of_one_request_is_named) {
  auto r = Open();
  r.clear_command_id();
  *r.mutable_occurred_at() = Ts(253402300800, -1);
  r.set_currency("XYZ");
  r.set_time_zone("/etc/localtime");
  *r.mutable_due_date() = Date(2025, 2, 30);
  r.mutable_balances()->set_interest_minor(-1);
  r.mutable_contact_points()->mutable_phones(0)->set_number("12");
  r.set_debtor_name(std::string(3 * 1024 * 1024, 'd'));
  Status s = ValidateRequest(r);
  BOOST_REQUIRE(s.has_value());
  std::vector<std::string> expected = {"request",
                                       "command_id",
                                       "occurred_at.seconds",
                                       "occurred_at.nanos",
                                       "debtor_name",
                                       "contact_points.phones[0].number",
                                       "currency",
                                       "balances.interest_minor",
                                       "due_date",
                                       "time_zone"};
  BOOST_TEST(Fields(s) == expected, Describe(s));
  // No description carries more than a bounded excerpt of the input.
  for (const auto& v : s->violations) BOOST_TEST(v.description.size() <= 300u);
}

BOOST_AUTO_TEST_CASE(boundary_values_are_accepted) {
  const std::string id(kMaxIdBytes, 'i');
  const std::string text(kMaxTextBytes, 't');
  std::vector<std::pair<const char*, Command>> cases;
  {
    auto r = Open();
    r.set_command_id(id);
    r.set_account_id(id);
    r.set_correlation_id(id);
    r.mutable_actor()->set_id(id);
    r.set_creditor(text);
    r.set_debtor_name(text);
    r.mutable_balances()->set_principal_minor(kMaxAmountMinor);
    *r.mutable_due_date() = Date(9999, 12, 31);
    *r.mutable_statute_of_limitations_date() = Date(2024, 2, 29);
    *r.mutable_date_of_first_delinquency() = Date(1, 1, 1);
    r.set_time_zone("America/Argentina/Buenos_Aires");
    for (int i = 1; i < kMaxPhones; ++i)
      *r.mutable_contact_points()->add_phones() = r.contact_points().phones(0);
    for (int i = 1; i < kMaxEmails; ++i) r.mutable_contact_points()->add_emails("a@b.c");
    cases.push_back({"largest OpenCase", r});
  }
  for (const char* zone : {"UTC", "Etc/GMT+5", "Etc/GMT-14", "America/Port-au-Prince", "EST5EDT"}) {
    auto r = Open();
    r.set_time_zone(zone);
    cases.push_back({zone, r});
  }
  for (const char* currency : {"JPY", "KWD", "CLF", "EUR", "XOF"}) {
    auto r = Open();
    r.set_currency(currency);
    cases.push_back({currency, r});
  }
  {
    auto r = Payment();
    *r.mutable_occurred_at() = Ts(kMaxBusinessTimeSeconds, 999'999'999);
    r.mutable_amount()->set_amount_minor(kMaxAmountMinor);
    cases.push_back({"occurred_at 9999-12-30T23:59:59.999999999Z", r});
  }
  {
    auto r = Payment();
    *r.mutable_occurred_at() = Ts(kMinBusinessTimeSeconds, 0);
    cases.push_back({"occurred_at 0001-01-02T00:00:00Z", r});
  }
  {
    auto r = Call();
    *r.mutable_callback_at() = Ts(kMaxTimestampSeconds, 999'999'999);
    cases.push_back({"callback_at 9999-12-31T23:59:59.999999999Z", r});
  }
  {
    auto r = Call();
    *r.mutable_callback_at() = Ts(kMinTimestampSeconds, 0);
    cases.push_back({"callback_at 0001-01-01T00:00:00Z", r});
  }
  cases.push_back({"600 instalments", Plan(kMaxInstalments)});
  {
    auto r = Call();
    r.set_note(text);
    cases.push_back({"longest note", r});
  }
  for (const auto& [name, command] : cases) {
    BOOST_TEST_CONTEXT(name) {
      Status s = ValidateRequest(command);
      BOOST_TEST(!s.has_value(), Describe(s));
    }
  }
}

// Unknown fields are kept by protobuf and would travel into a refused command's event.
BOOST_AUTO_TEST_CASE(a_request_over_256_kib_is_refused_whole) {
  auto r = Payment();
  r.GetReflection()->MutableUnknownFields(&r)->AddLengthDelimited(999,
                                                                  std::string(300 * 1024, 'u'));
  Status s = ValidateRequest(r);
  BOOST_REQUIRE(s.has_value());
  BOOST_TEST(Fields(s) == std::vector<std::string>{"request"}, Describe(s));
}

// Zones already in an account (written before names were checked) go through the same gate:
// "localtime" or a path never reaches the file system, the account reads in UTC instead.
BOOST_AUTO_TEST_CASE(stored_zone_names_are_loaded_only_when_they_are_iana_names) {
  absl::TimeZone tz;
  BOOST_TEST(LoadIanaTimeZone("America/Chicago", &tz));
  for (const char* bad : {"localtime", "LocalTime", "/etc/passwd", "../zoneinfo/UTC", "posixrules",
                          "America/../UTC", "", "UTC "}) {
    BOOST_TEST(!LoadIanaTimeZone(bad, &tz), bad);
    v1::Account a;
    a.set_time_zone(bad);
    BOOST_TEST(internal::Zone(a).name() == "UTC", bad);
  }
}

BOOST_AUTO_TEST_CASE(iso_4217_codes_with_their_minor_unit) {
  BOOST_TEST(CurrencyExponent("USD").value_or(-1) == 2);
  BOOST_TEST(CurrencyExponent("JPY").value_or(-1) == 0);
  BOOST_TEST(CurrencyExponent("KWD").value_or(-1) == 3);
  BOOST_TEST(CurrencyExponent("CLF").value_or(-1) == 4);
  BOOST_TEST(CurrencyExponent("AED").value_or(-1) == 2);  // first of the table
  BOOST_TEST(CurrencyExponent("ZWG").value_or(-1) == 2);  // last of the table
  for (const char* bad : {"XYZ", "ZZZ", "XTS", "XXX", "XAU", "usd", "US", "USDX", "", "HRK"})
    BOOST_TEST(!CurrencyExponent(bad).has_value(), bad);
}

// 9999-12-31 was stored as 2262-04-11: the conversion went through int64 nanoseconds.
BOOST_AUTO_TEST_CASE(timestamps_round_trip_over_the_whole_protobuf_range) {
  for (auto [seconds, nanos] :
       std::vector<std::pair<int64_t, int32_t>>{{kMaxTimestampSeconds, 999'999'999},
                                                {kMinTimestampSeconds, 0},
                                                {-1, 500'000'000},
                                                {0, 0},
                                                {1'700'000'000, 123'456'789}}) {
    auto back = internal::ToProto(internal::ToTime(Ts(seconds, nanos)));
    BOOST_TEST(back.seconds() == seconds);
    BOOST_TEST(back.nanos() == nanos);
  }
  v1::PostPaymentRequest r = Payment();
  *r.mutable_occurred_at() = Ts(kMaxTimestampSeconds, 0);
  BOOST_TEST(absl::FormatTime("%Y-%m-%d", OccurredAt(r, absl::UnixEpoch()), absl::UTCTimeZone()) ==
             "9999-12-31");
}

// Plays the writer's part, as the aggregate test does.
struct Account {
  AccountState state;
  absl::Time now = absl::FromCivil(absl::CivilDay(2025, 10, 9), absl::UTCTimeZone());
  DomainSettings settings;
  Result<std::vector<v1::EventEnvelope>> Run(const Command& command) {
    auto decided = Decide(state.version() == 0 ? nullptr : &state, command, now, settings);
    if (!decided) return decided;
    for (auto e : decided.value()) {
      e.set_account_id("ACC-1");
      if (!e.has_occurred_at()) *e.mutable_occurred_at() = internal::ToProto(now);
      e.set_sequence(state.version() + 1);
      Evolve(state, e, StateHorizon{});
    }
    return decided;
  }
};

// 2,310 corrections of 10^15 used to wrap the total to a negative number.
BOOST_AUTO_TEST_CASE(no_command_can_take_a_balance_past_the_limit) {
  Account a;
  auto open = Open();
  open.mutable_balances()->set_principal_minor(kMaxAmountMinor / 2);
  BOOST_REQUIRE(a.Run(open).ok());
  int accepted = 0;
  for (int i = 0; i < 2310; ++i) {
    auto c = Correction(kMaxAmountMinor / 4);
    c.set_command_id("c" + std::to_string(i));
    c.set_adjustment_id("adj" + std::to_string(i));
    auto r = a.Run(c);
    if (r.ok()) {
      ++accepted;
      continue;
    }
    BOOST_TEST(static_cast<int>(r.error().code) == static_cast<int>(Errc::kFailedPrecondition));
    BOOST_TEST(r.error().reason == "AMOUNT_OVERFLOW");
    BOOST_TEST(r.error().field == "balances.principal_minor");
  }
  BOOST_TEST(accepted == 2);  // 0.5 + 0.25 + 0.25 = 1.0 x 10^15; the third would pass it
  BOOST_TEST(a.state.total_balance_minor() == kMaxAmountMinor);

  // Components each within the limit but a total beyond it.
  auto fees = Correction(0);
  fees.mutable_amounts()->set_fees_minor(1);
  fees.set_adjustment_id("fee");
  auto r = a.Run(fees);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().reason == "AMOUNT_OVERFLOW");
  BOOST_TEST(r.error().field == "total_balance_minor");
}

BOOST_AUTO_TEST_CASE(overpayments_cannot_grow_the_credit_balance_past_the_limit) {
  Account a;
  BOOST_REQUIRE(a.Run(Open()).ok());  // owes 100000
  auto big = Payment();
  big.mutable_amount()->set_amount_minor(kMaxAmountMinor);
  big.set_payment_id("P-big");
  BOOST_REQUIRE(a.Run(big).ok());
  BOOST_TEST(a.state.credit_balance_minor() == kMaxAmountMinor - 100000);
  auto more = Payment();
  more.mutable_amount()->set_amount_minor(100001);
  more.set_payment_id("P-more");
  auto r = a.Run(more);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().reason == "AMOUNT_OVERFLOW");
  BOOST_TEST(r.error().field == "credit_balance_minor");
  BOOST_TEST(a.state.credit_balance_minor() == kMaxAmountMinor - 100000);
}

// amount * 10000 overflowed int64 for amounts above 9.2 x 10^14.
BOOST_AUTO_TEST_CASE(a_settlement_near_the_limit_computes_its_percentage) {
  Account a;
  auto open = Open();
  open.mutable_balances()->set_principal_minor(kMaxAmountMinor);
  BOOST_REQUIRE(a.Run(open).ok());
  v1::AgreeSettlementRequest s;
  s.set_settlement_id("S1");
  s.mutable_amount()->set_amount_minor(kMaxAmountMinor - 1);
  s.mutable_amount()->set_currency("USD");
  *s.mutable_due_date() = Date(2025, 12, 1);
  auto r = a.Run(With(s));
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(a.state.settlement().percent_basis_points() == 9999);
}

BOOST_AUTO_TEST_CASE(saturating_sums_never_wrap) {
  v1::Balances b;
  b.set_principal_minor(std::numeric_limits<int64_t>::max());
  b.set_fees_minor(1);
  BOOST_TEST(Total(b) == std::numeric_limits<int64_t>::max());
}

}  // namespace
}  // namespace collections
