// ValidateRequest: shape checks of every command, before any state is looked at. Every field
// that can reach an event is checked here, and every violation of a request is reported.
#include "services/common/time_zone.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/currency.h"
#include "services/domain/customer_aggregate.h"
#include "services/domain/limits.h"

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

#include <algorithm>
#include <cctype>

namespace collections {
namespace {

// Collects every violation of one request, in field order.
class Violations {
 public:
  void Add(std::string field, std::string description) {
    list_.push_back({std::move(field), std::move(description)});
  }
  bool empty() const { return list_.empty(); }
  size_t size() const { return list_.size(); }
  std::vector<FieldViolation> Take() { return std::move(list_); }

 private:
  std::vector<FieldViolation> list_;
};

std::string Index(const std::string& field, int i) { return absl::StrCat(field, "[", i, "]"); }

bool PrintableAscii(const std::string& value) {
  return std::all_of(value.begin(), value.end(),
                     [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

// An identifier: 1..kMaxIdBytes printable ASCII characters, no spaces.
void Id(Violations& v, const std::string& field, const std::string& value, bool required = true) {
  if (value.empty()) {
    if (required) v.Add(field, "is required");
    return;
  }
  if (value.size() > kMaxIdBytes) {
    v.Add(field, absl::StrCat("is ", value.size(), " bytes; at most ", kMaxIdBytes));
  } else if (!PrintableAscii(value)) {
    v.Add(field, "must be printable ASCII without spaces");
  }
}

// Free text (names, reasons, notes, addresses): at most `max` bytes of UTF-8 (protobuf
// already refused invalid UTF-8), no NUL.
void Text(Violations& v, const std::string& field, const std::string& value, bool required,
          size_t max = kMaxTextBytes) {
  if (value.empty()) {
    if (required) v.Add(field, "is required");
    return;
  }
  if (value.size() > max) {
    v.Add(field, absl::StrCat("is ", value.size(), " bytes; at most ", max));
  } else if (value.find('\0') != std::string::npos) {
    v.Add(field, "must not contain NUL characters");
  }
}

bool Count(Violations& v, const std::string& field, int count, int max) {
  if (count <= max) return true;
  v.Add(field, absl::StrCat("has ", count, " entries; at most ", max));
  return false;
}

void Currency(Violations& v, const std::string& field, const std::string& value) {
  if (value.empty()) {
    v.Add(field, "is required (an ISO 4217 code like \"USD\")");
  } else if (!IsIsoCurrency(value)) {
    v.Add(field, "must be an active ISO 4217 currency code like \"USD\", not " + Quoted(value));
  }
}

void TimeZone(Violations& v, const std::string& field, const std::string& value, bool required) {
  if (value.empty()) {
    if (required) v.Add(field, "is required (an IANA zone like \"America/Chicago\")");
    return;
  }
  absl::TimeZone tz;
  if (!IsIanaZoneName(value)) {
    v.Add(field, "must be an IANA zone name like \"America/Chicago\", not " + Quoted(value));
  } else if (!absl::LoadTimeZone(value, &tz)) {
    v.Add(field, "unknown IANA time zone " + Quoted(value));
  }
}

bool IsEmpty(const v1::LocalDate& d) { return d.year() == 0 && d.month() == 0 && d.day() == 0; }

bool ValidDate(const v1::LocalDate& d) {
  if (d.year() < 1 || d.year() > 9999 || d.month() < 1 || d.month() > 12 || d.day() < 1 ||
      d.day() > 31) {
    return false;
  }
  absl::CivilDay day(d.year(), d.month(), d.day());
  return day.year() == d.year() && day.month() == d.month() && day.day() == d.day();
}

void Date(Violations& v, const std::string& field, const v1::LocalDate& d, bool required) {
  if (IsEmpty(d)) {
    if (required) v.Add(field, "is required");
    return;
  }
  if (!ValidDate(d)) {
    v.Add(field, absl::StrCat("is not a calendar date (", d.year(), "-", d.month(), "-", d.day(),
                              "); year 1..9999, month 1..12, a day the month has"));
  }
}

void Timestamp(Violations& v, const std::string& field, const google::protobuf::Timestamp& ts) {
  if (ts.seconds() < kMinTimestampSeconds || ts.seconds() > kMaxTimestampSeconds) {
    v.Add(field + ".seconds",
          "must be within 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z (seconds -62135596800.."
          "253402300799)");
  }
  if (ts.nanos() < 0 || ts.nanos() > 999'999'999) v.Add(field + ".nanos", "must be 0..999999999");
}

enum class Sign { kPositive, kNonNegative };

void Amount(Violations& v, const std::string& field, int64_t value, Sign sign) {
  if (value < 0) {
    v.Add(field, "must not be negative");
  } else if (value == 0 && sign == Sign::kPositive) {
    v.Add(field, "must be greater than zero");
  } else if (value > kMaxAmountMinor) {
    v.Add(field, absl::StrCat("is above the limit of ", kMaxAmountMinor, " minor units"));
  }
}

void Money(Violations& v, const std::string& field, const v1::Money& m) {
  Amount(v, field + ".amount_minor", m.amount_minor(), Sign::kPositive);
  Currency(v, field + ".currency", m.currency());
}

void Balances(Violations& v, const std::string& field, const v1::Balances& b,
              bool allow_zero_total) {
  const size_t before = v.size();
  Amount(v, field + ".principal_minor", b.principal_minor(), Sign::kNonNegative);
  Amount(v, field + ".interest_minor", b.interest_minor(), Sign::kNonNegative);
  Amount(v, field + ".fees_minor", b.fees_minor(), Sign::kNonNegative);
  Amount(v, field + ".costs_minor", b.costs_minor(), Sign::kNonNegative);
  if (v.size() != before) return;  // the total of wrong components says nothing more
  const int64_t total = Total(b);  // each component <= 10^15: no overflow
  if (!allow_zero_total && total <= 0) v.Add(field, "must total more than zero");
  if (total > kMaxAmountMinor) {
    v.Add(field,
          absl::StrCat("totals ", total, ", above the limit of ", kMaxAmountMinor, " minor units"));
  }
}

template <typename Enum>
void EnumValue(Violations& v, const std::string& field, Enum value, bool (*is_valid)(int),
               const char* allowed, bool required = true) {
  const int n = static_cast<int>(value);
  if (!is_valid(n)) {
    v.Add(field, absl::StrCat("unknown value ", n, "; one of ", allowed));
  } else if (n == 0 && required) {
    v.Add(field, absl::StrCat("is required; one of ", allowed));
  }
}

constexpr char kChannels[] = "CALL, TEXT, EMAIL, LETTER, VISIT";
constexpr char kPaymentMethods[] = "CARD, ACH, CHEQUE, CASH, WIRE";

void Channel(Violations& v, const std::string& field, v1::ContactChannel c, bool required) {
  EnumValue(v, field, c, v1::ContactChannel_IsValid, kChannels, required);
}

bool E164(const std::string& n) {
  return n.size() >= 8 && n.size() <= 16 && n[0] == '+' &&
         std::all_of(n.begin() + 1, n.end(), [](unsigned char c) { return std::isdigit(c); });
}

void PhoneNumber(Violations& v, const std::string& field, const std::string& n) {
  if (!E164(n)) v.Add(field, "must be E.164, like \"+12125550100\", not " + Quoted(n));
}

void Phone(Violations& v, const std::string& f, const v1::Phone& phone) {
  PhoneNumber(v, f + ".number", phone.number());
  EnumValue(v, f + ".type", phone.type(), v1::PhoneType_IsValid, "HOME, CELL, WORK");
  TimeZone(v, f + ".time_zone", phone.time_zone(), false);
}

void Email(Violations& v, const std::string& f, const std::string& m, bool required = true) {
  if (m.empty()) {
    if (required) v.Add(f, "is required");
    return;
  }
  if (m.size() > kMaxEmailBytes) {
    v.Add(f,
          absl::StrCat("is ", m.size(), " bytes; an e-mail address has at most ", kMaxEmailBytes));
    return;
  }
  auto at = m.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= m.size() || !PrintableAscii(m)) {
    v.Add(f, "not an e-mail address: " + Quoted(m));
  }
}

void Emails(Violations& v, const std::string& f,
            const google::protobuf::RepeatedPtrField<std::string>& list) {
  if (!Count(v, f, list.size(), kMaxEmails)) return;
  for (int i = 0; i < list.size(); ++i) Email(v, Index(f, i), list.Get(i));
}

void PostalAddress(Violations& v, const std::string& f, const v1::PostalAddress& a) {
  if (Count(v, f + ".lines", a.lines_size(), kMaxAddressLines)) {
    for (int i = 0; i < a.lines_size(); ++i)
      Text(v, Index(f + ".lines", i), a.lines(i), false, kMaxAddressPartBytes);
  }
  Text(v, f + ".city", a.city(), false, kMaxAddressPartBytes);
  Text(v, f + ".region", a.region(), false, kMaxAddressPartBytes);
  Text(v, f + ".postal_code", a.postal_code(), false, kMaxPostalCodeBytes);
  const std::string& c = a.country();
  if (!c.empty() && (c.size() != 2 || !std::isupper(static_cast<unsigned char>(c[0])) ||
                     !std::isupper(static_cast<unsigned char>(c[1])))) {
    v.Add(f + ".country", "must be an ISO 3166-1 alpha-2 code like \"US\", not " + Quoted(c));
  }
}

void ContactPoints(Violations& v, const std::string& f, const v1::ContactPoints& cp) {
  if (Count(v, f + ".phones", cp.phones_size(), kMaxPhones)) {
    for (int i = 0; i < cp.phones_size(); ++i) Phone(v, Index(f + ".phones", i), cp.phones(i));
  }
  Emails(v, f + ".emails", cp.emails());
  Emails(v, f + ".verified_emails", cp.verified_emails());
  Emails(v, f + ".invalid_emails", cp.invalid_emails());
  if (cp.has_address()) PostalAddress(v, f + ".address", cp.address());
}

void Content(Violations& v, const std::string& f, const v1::ContentFlags& c) {
  EnumValue(v, f + ".cease_exception", c.cease_exception(), v1::CeaseException_IsValid,
            "NONE, EFFORTS_ENDING, MAY_INVOKE_REMEDY, INTENDS_REMEDY", false);
}

void Actor(Violations& v, const v1::Actor& a) {
  Id(v, "actor.id", a.id(), false);
  Id(v, "actor.on_behalf_of", a.on_behalf_of(), false);
  EnumValue(v, "actor.kind", a.kind(), v1::ActorKind_IsValid, "SERVICE, PERSON", false);
  if (a.role().size() > kMaxRoleBytes) {
    v.Add("actor.role", absl::StrCat("is ", a.role().size(), " bytes; at most ", kMaxRoleBytes));
  } else if (!a.role().empty() && !PrintableAscii(a.role())) {
    v.Add("actor.role", "must be printable ASCII without spaces");
  }
}

void GraceDays(Violations& v, int32_t days) {
  if (days < 0 || days > kMaxGraceDays)
    v.Add("grace_days", absl::StrCat("must be 0..", kMaxGraceDays));
}

// A request about several debts of one customer (F3): the customer and the other accounts,
// distinct, not the account the request is sent to, at most kMaxSeveralDebts.
void SeveralDebtsField(Violations& v, const std::string& account_id, const v1::SeveralDebts& d) {
  if (d.customer_id().empty() && d.other_account_ids().empty() &&
      d.recorded_on_account_id().empty())
    return;
  Id(v, "several_debts.customer_id", d.customer_id());
  if (d.other_account_ids().empty() && d.recorded_on_account_id().empty())
    v.Add("several_debts.other_account_ids", "name at least one other account of the customer");
  if (d.other_account_ids_size() > kMaxSeveralDebts) {
    v.Add("several_debts.other_account_ids",
          absl::StrCat("names ", d.other_account_ids_size(), " accounts; at most ",
                       kMaxSeveralDebts));
    return;
  }
  std::vector<std::string> seen;
  for (int i = 0; i < d.other_account_ids_size(); ++i) {
    const std::string field = absl::StrCat("several_debts.other_account_ids[", i, "]");
    const std::string& id = d.other_account_ids(i);
    Id(v, field, id);
    if (id == account_id && d.recorded_on_account_id().empty())
      v.Add(field, "is the account the request is sent to");
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) v.Add(field, "is named twice");
    seen.push_back(id);
  }
  Id(v, "several_debts.recorded_on_account_id", d.recorded_on_account_id(), false);
}

struct Validator {
  Violations& v;

  void operator()(const v1::OpenCaseRequest& r) const {
    if (r.account_id().starts_with(kCustomerStreamPrefix)) {
      v.Add("account_id", absl::StrCat("must not start with \"", std::string(kCustomerStreamPrefix),
                                       "\": that prefix keys the customers' streams"));
    }
    Text(v, "creditor", r.creditor(), true);
    Text(v, "debtor_name", r.debtor_name(), true);
    ContactPoints(v, "contact_points", r.contact_points());
    Currency(v, "currency", r.currency());
    Balances(v, "balances", r.balances(), false);
    Date(v, "due_date", r.due_date(), true);
    TimeZone(v, "time_zone", r.time_zone(), true);
    EnumValue(v, "debt_type", r.debt_type(), v1::DebtType_IsValid,
              "CONSUMER, COMMERCIAL, MEDICAL, STUDENT_LOAN", false);
    Text(v, "original_creditor", r.original_creditor(), false);
    Date(v, "date_of_first_delinquency", r.date_of_first_delinquency(), false);
    const std::string& j = r.jurisdiction();
    if (!j.empty() && (j.size() != 2 || !std::isupper(static_cast<unsigned char>(j[0])) ||
                       !std::isupper(static_cast<unsigned char>(j[1])))) {
      v.Add("jurisdiction", "must be a US state code like \"MA\", not " + Quoted(j));
    }
    Date(v, "statute_of_limitations_date", r.statute_of_limitations_date(), false);
    Id(v, "assignee", r.assignee(), false);
    Id(v, "queue", r.queue(), false);
    Id(v, "customer_id", r.customer_id(), false);
  }
  void operator()(const state::v1::LinkAccountToCustomerRequest& r) const {
    Id(v, "customer_id", r.customer_id());
    Text(v, "reason", r.reason(), false);
    Id(v, "moved_from_customer_id", r.moved_from_customer_id(), false);
    Id(v, "moved_to_customer_id", r.moved_to_customer_id(), false);
    TimeZone(v, "consumer_time_zone", r.consumer_time_zone(), false);
  }
  void operator()(const v1::PostPaymentRequest& r) const {
    Id(v, "payment_id", r.payment_id());
    Money(v, "amount", r.amount());
    EnumValue(v, "method", r.method(), v1::PaymentMethod_IsValid, kPaymentMethods);
    Text(v, "reference", r.reference(), false);
    Date(v, "effective_date", r.effective_date(), false);
  }
  void operator()(const v1::ReversePaymentRequest& r) const {
    Id(v, "payment_id", r.payment_id());
    EnumValue(v, "reason", r.reason(), v1::ReversalReason_IsValid,
              "NSF, RETURNED_CHEQUE, CHARGEBACK, POSTING_ERROR");
    Text(v, "note", r.note(), false);
  }
  void operator()(const v1::AssignCaseRequest& r) const {
    if (r.assignee().empty() && r.queue().empty())
      v.Add("assignee", "give an assignee, a queue or both");
    Id(v, "assignee", r.assignee(), false);
    Id(v, "queue", r.queue(), false);
    Text(v, "reason", r.reason(), false);
  }
  void operator()(const v1::EscalateCaseRequest& r) const {
    Id(v, "supervisor", r.supervisor());
    Text(v, "reason", r.reason(), true);
  }
  void operator()(const v1::UpdateFlagRequest& r) const {
    Text(v, "reason", r.reason(), true);
    SeveralDebtsField(v, r.account_id(), r.several_debts());
    switch (r.change_case()) {
      case v1::UpdateFlagRequest::CHANGE_NOT_SET:
        v.Add("change", "name the flag to change (bankruptcy, deceased, ...)");
        break;
      case v1::UpdateFlagRequest::kBankruptcy:
        EnumValue(v, "bankruptcy.status", r.bankruptcy().status(), v1::BankruptcyStatus_IsValid,
                  "NONE, PENDING, DISCHARGED, DISMISSED", false);
        Text(v, "bankruptcy.case_number", r.bankruptcy().case_number(), false, kMaxIdBytes);
        break;
      case v1::UpdateFlagRequest::kConsent: {
        const auto& c = r.consent();
        Id(v, "consent.consent_id", c.consent_id());
        EnumValue(v, "consent.kind", c.kind(), v1::ConsentKind_IsValid,
                  "CALLS, CONTACT_TIMES, ELECTRONIC, WORKPLACE, ATTORNEY_DIRECT");
        Channel(v, "consent.channel", c.channel(), false);
        if (c.has_given_at()) Timestamp(v, "consent.given_at", c.given_at());
        break;
      }
      case v1::UpdateFlagRequest::kOptOut: {
        const auto& o = r.opt_out();
        Channel(v, "opt_out.channel", o.channel(), true);
        Text(v, "opt_out.address", o.address(), false);
        if (o.has_received_at()) Timestamp(v, "opt_out.received_at", o.received_at());
        break;
      }
      case v1::UpdateFlagRequest::kInconvenientWindow: {
        const auto& w = r.inconvenient_window();
        if (w.start_minute() < 0 || w.start_minute() >= 1440 ||
            w.end_minute() <= w.start_minute() || w.end_minute() > 1440) {
          v.Add("inconvenient_window",
                "start_minute and end_minute must satisfy 0 <= start < end <= 1440");
        }
        break;
      }
      case v1::UpdateFlagRequest::kAttorney: {
        const auto& a = r.attorney().attorney();
        Text(v, "attorney.attorney.name", a.name(), r.attorney().represented());
        if (!a.phone().empty()) PhoneNumber(v, "attorney.attorney.phone", a.phone());
        Email(v, "attorney.attorney.email", a.email(), false);
        if (a.has_address()) PostalAddress(v, "attorney.attorney.address", a.address());
        break;
      }
      default:  // deceased, cease_communication, servicemember, employer: booleans only
        break;
    }
  }
  void operator()(const v1::CloseCaseRequest& r) const { Text(v, "reason", r.reason(), true); }
  void operator()(const v1::RecordContactAttemptRequest& r) const {
    Id(v, "contact_id", r.contact_id());
    Channel(v, "channel", r.channel(), true);
    EnumValue(v, "direction", r.direction(), v1::ContactDirection_IsValid, "OUTBOUND, INBOUND");
    EnumValue(v, "outcome", r.outcome(), v1::ContactOutcome_IsValid,
              "NO_ANSWER, BUSY, NOT_IN_SERVICE, VOICEMAIL, RIGHT_PARTY_CONVERSATION, "
              "THIRD_PARTY, WRONG_NUMBER, UNDELIVERABLE, DELIVERED, NO_ANSWER_MESSAGE_POSSIBLE, "
              "ANSWERING_MACHINE_NO_MESSAGE, MESSAGE_LEFT");
    const bool phone_channel =
        r.channel() == v1::CONTACT_CHANNEL_CALL || r.channel() == v1::CONTACT_CHANNEL_TEXT;
    if (phone_channel) {
      PhoneNumber(v, "address", r.address());
      EnumValue(v, "phone_type", r.phone_type(), v1::PhoneType_IsValid, "HOME, CELL, WORK");
    } else {
      EnumValue(v, "phone_type", r.phone_type(), v1::PhoneType_IsValid, "HOME, CELL, WORK", false);
      if (r.channel() == v1::CONTACT_CHANNEL_EMAIL) {
        Email(v, "address", r.address());
      } else {
        Text(v, "address", r.address(), r.channel() != v1::CONTACT_CHANNEL_VISIT);
      }
    }
    Content(v, "content", r.content());
    if (r.has_callback_at()) Timestamp(v, "callback_at", r.callback_at());
    Text(v, "note", r.note(), false);
    Id(v, "reservation_id", r.reservation_id(), false);
    SeveralDebtsField(v, r.account_id(), r.several_debts());
  }
  void operator()(const v1::RecordCorrespondenceRequest& r) const {
    Id(v, "correspondence_id", r.correspondence_id());
    EnumValue(v, "kind", r.kind(), v1::CorrespondenceKind_IsValid,
              "VALIDATION_NOTICE, DELINQUENCY_NOTICE, PAYMENT_REMINDER, SETTLEMENT_OFFER, OTHER");
    if (r.channel() != v1::CONTACT_CHANNEL_LETTER && r.channel() != v1::CONTACT_CHANNEL_EMAIL)
      v.Add("channel", "correspondence goes by LETTER or EMAIL");
    if (r.channel() == v1::CONTACT_CHANNEL_EMAIL) {
      Email(v, "address", r.address());
    } else {
      Text(v, "address", r.address(), true);
    }
    const bool notice = r.kind() == v1::CORRESPONDENCE_KIND_VALIDATION_NOTICE;
    if (notice || r.has_itemization()) {
      const auto& it = r.itemization();
      Date(v, "itemization.itemization_date", it.itemization_date(), notice);
      Amount(v, "itemization.amount_on_itemization_date_minor",
             it.amount_on_itemization_date_minor(), Sign::kNonNegative);
      Amount(v, "itemization.interest_since_minor", it.interest_since_minor(), Sign::kNonNegative);
      Amount(v, "itemization.fees_since_minor", it.fees_since_minor(), Sign::kNonNegative);
      Amount(v, "itemization.payments_and_credits_since_minor",
             it.payments_and_credits_since_minor(), Sign::kNonNegative);
      Amount(v, "itemization.current_amount_minor", it.current_amount_minor(), Sign::kNonNegative);
    }
    Content(v, "content", r.content());
  }
  void operator()(const v1::UpdateContactPointRequest& r) const {
    EnumValue(v, "action", r.action(), v1::ContactPointAction_IsValid, "ADD, VERIFY, INVALIDATE");
    switch (r.point_case()) {
      case v1::UpdateContactPointRequest::kPhone:
        Phone(v, "phone", r.phone());
        break;
      case v1::UpdateContactPointRequest::kEmail:
        Email(v, "email", r.email());
        break;
      case v1::UpdateContactPointRequest::kAddress:
        if (r.address().lines_size() == 0) v.Add("address.lines", "an address needs a line");
        PostalAddress(v, "address", r.address());
        break;
      default:
        v.Add("point", "give a phone, an email or an address");
    }
    Text(v, "source", r.source(), false);
  }
  void operator()(const v1::SetLocationStatusRequest& r) const {
    Text(v, "source", r.source(), false);
  }
  void operator()(const v1::RecordPromiseToPayRequest& r) const {
    Id(v, "promise_id", r.promise_id());
    Money(v, "amount", r.amount());
    Date(v, "due_date", r.due_date(), true);
    Channel(v, "channel", r.channel(), false);
    GraceDays(v, r.grace_days());
  }
  void operator()(const v1::CancelPromiseToPayRequest& r) const {
    Id(v, "promise_id", r.promise_id());
    Text(v, "reason", r.reason(), true);
  }
  void operator()(const v1::ProposePaymentPlanRequest& r) const {
    Id(v, "plan_id", r.plan_id());
    if (r.instalments_size() == 0) v.Add("instalments", "a plan needs at least one instalment");
    if (Count(v, "instalments", r.instalments_size(), kMaxInstalments)) {
      for (int i = 0; i < r.instalments_size(); ++i) {
        const std::string f = Index("instalments", i);
        Amount(v, f + ".amount_minor", r.instalments(i).amount_minor(), Sign::kPositive);
        Date(v, f + ".due_date", r.instalments(i).due_date(), true);
        if (i > 0 && ValidDate(r.instalments(i - 1).due_date()) &&
            ValidDate(r.instalments(i).due_date())) {
          const auto& a = r.instalments(i - 1).due_date();
          const auto& b = r.instalments(i).due_date();
          if (absl::CivilDay(b.year(), b.month(), b.day()) <=
              absl::CivilDay(a.year(), a.month(), a.day())) {
            v.Add(f + ".due_date", "instalment due dates must increase");
          }
        }
      }
    }
    GraceDays(v, r.grace_days());
    if (r.missed_to_default() < 0 || r.missed_to_default() > kMaxMissedToDefault)
      v.Add("missed_to_default", absl::StrCat("must be 0..", kMaxMissedToDefault));
  }
  void operator()(const v1::AcceptPaymentPlanRequest& r) const { Id(v, "plan_id", r.plan_id()); }
  void operator()(const v1::CancelPaymentPlanRequest& r) const {
    Id(v, "plan_id", r.plan_id());
    Text(v, "reason", r.reason(), true);
  }
  void operator()(const v1::AgreeSettlementRequest& r) const {
    Id(v, "settlement_id", r.settlement_id());
    Money(v, "amount", r.amount());
    Date(v, "due_date", r.due_date(), true);
  }
  void operator()(const v1::RefundCreditRequest& r) const {
    Id(v, "refund_id", r.refund_id());
    Money(v, "amount", r.amount());
    EnumValue(v, "method", r.method(), v1::PaymentMethod_IsValid, kPaymentMethods);
    Text(v, "reference", r.reference(), false);
  }
  void operator()(const v1::PostAdjustmentRequest& r) const {
    Id(v, "adjustment_id", r.adjustment_id());
    EnumValue(v, "kind", r.kind(), v1::AdjustmentKind_IsValid,
              "SMALL_BALANCE_WRITE_OFF, CHARGE_OFF, CREDIT_MEMO, FEE_ACCRUAL, INTEREST_ACCRUAL, "
              "SETTLEMENT_DISCOUNT, CORRECTION");
    if (r.kind() == v1::ADJUSTMENT_KIND_DISPUTE_UPHELD)
      v.Add("kind", "DISPUTE_UPHELD adjustments come from ResolveDispute");
    const size_t before = v.size();
    Balances(v, "amounts", r.amounts(), r.kind() == v1::ADJUSTMENT_KIND_CHARGE_OFF);
    if (v.size() == before) {
      if (r.kind() == v1::ADJUSTMENT_KIND_FEE_ACCRUAL &&
          Total(r.amounts()) != r.amounts().fees_minor() + r.amounts().costs_minor()) {
        v.Add("amounts", "a fee accrual adds to fees or costs only");
      }
      if (r.kind() == v1::ADJUSTMENT_KIND_INTEREST_ACCRUAL &&
          Total(r.amounts()) != r.amounts().interest_minor()) {
        v.Add("amounts", "an interest accrual adds to interest only");
      }
    }
    Text(v, "reason", r.reason(), true);
    Id(v, "approved_by", r.approved_by(), false);
    if (r.rate_basis_points() < 0 || r.rate_basis_points() > kMaxRateBasisPoints)
      v.Add("rate_basis_points", absl::StrCat("must be 0..", kMaxRateBasisPoints));
  }
  void operator()(const v1::OpenDisputeRequest& r) const {
    Id(v, "dispute_id", r.dispute_id());
    Amount(v, "disputed_amount_minor", r.disputed_amount_minor(),
           r.partial() ? Sign::kPositive : Sign::kNonNegative);
    Text(v, "reason", r.reason(), true);
  }
  void operator()(const v1::SendDisputeVerificationRequest& r) const {
    Id(v, "dispute_id", r.dispute_id());
  }
  void operator()(const v1::ResolveDisputeRequest& r) const {
    Id(v, "dispute_id", r.dispute_id());
    Text(v, "resolution", r.resolution(), true);
  }
  void operator()(const v1::WithdrawDisputeRequest& r) const {
    Id(v, "dispute_id", r.dispute_id());
  }
  void operator()(const v1::PlaceWithAgencyRequest& r) const {
    Id(v, "agency", r.agency());
    Text(v, "reason", r.reason(), true);
  }
  void operator()(const v1::RecallFromAgencyRequest& r) const {
    Text(v, "reason", r.reason(), true);
  }
  void operator()(const v1::ReferToLegalRequest& r) const {
    Text(v, "firm", r.firm(), true);
    Text(v, "reason", r.reason(), true);
  }
  void operator()(const v1::ReportToBureauRequest& r) const {
    Id(v, "report_id", r.report_id());
    Text(v, "bureau", r.bureau(), true, kMaxIdBytes);
    static const char* kStatus[] = {"11", "13", "61", "62", "63", "64", "65", "71",
                                    "78", "80", "82", "83", "84", "88", "89", "93",
                                    "94", "95", "96", "97", "DA", "DF"};
    if (std::none_of(std::begin(kStatus), std::end(kStatus),
                     [&](const char* s) { return r.status_code() == s; })) {
      v.Add("status_code",
            "not a Metro 2 account status code (93 collections, 62 paid, 97 charged off ...)");
    }
    const std::string& cc = r.compliance_condition_code();
    if (!cc.empty() && cc != "XB" && cc != "XC" && cc != "XH" && cc != "XR")
      v.Add("compliance_condition_code", "must be XB, XC, XH, XR or empty");
  }
  void operator()(const v1::AuthorizeOverrideRequest& r) const {
    Id(v, "override_id", r.override_id());
    Id(v, "rule_id", r.rule_id());
    Id(v, "command", r.command());
    Text(v, "reason", r.reason(), true);
    if (r.has_expires_at()) Timestamp(v, "expires_at", r.expires_at());
  }
  void operator()(const v1::TransferDebtRequest& r) const {
    Text(v, "new_owner", r.new_owner(), true);
    Text(v, "reason", r.reason(), true);
  }

  void operator()(const v1::ReserveContactRequest& r) const {
    Id(v, "reservation_id", r.reservation_id());
    Channel(v, "channel", r.channel(), true);
    const bool phone_channel =
        r.channel() == v1::CONTACT_CHANNEL_CALL || r.channel() == v1::CONTACT_CHANNEL_TEXT;
    if (phone_channel) {
      PhoneNumber(v, "address", r.address());
      EnumValue(v, "phone_type", r.phone_type(), v1::PhoneType_IsValid, "HOME, CELL, WORK");
    } else {
      EnumValue(v, "phone_type", r.phone_type(), v1::PhoneType_IsValid, "HOME, CELL, WORK",
                false);
      if (r.channel() == v1::CONTACT_CHANNEL_EMAIL) {
        Email(v, "address", r.address());
      } else {
        Text(v, "address", r.address(), r.channel() != v1::CONTACT_CHANNEL_VISIT);
      }
    }
    Content(v, "content", r.content());
  }
};

// Fields 1-6, which every request (case or customer) shares.
template <typename Request>
void CommonFields(Violations& v, const Request& r) {
  const size_t bytes = r.ByteSizeLong();
  if (bytes > kMaxRequestBytes) {
    v.Add("request", absl::StrCat("is ", bytes, " bytes serialized; at most ", kMaxRequestBytes));
  }
  Id(v, "command_id", r.command_id());
  if (r.has_expected_version() && r.expected_version() < 0)
    v.Add("expected_version", "must not be negative");
  Actor(v, r.actor());
  Id(v, "correlation_id", r.correlation_id(), false);
  Text(v, "late_entry_reason", r.late_entry_reason(), false);
  if (!r.has_occurred_at()) return;
  const size_t before = v.size();
  Timestamp(v, "occurred_at", r.occurred_at());
  const int64_t seconds = r.occurred_at().seconds();
  if (v.size() == before &&
      (seconds < kMinBusinessTimeSeconds || seconds > kMaxBusinessTimeSeconds)) {
    v.Add("occurred_at.seconds",
          "business time must be within 0001-01-02T00:00:00Z..9999-12-30T23:59:59Z, so "
          "that its local date is a calendar date in every zone");
  }
}

Status AsError(Violations& v) {
  if (v.empty()) return std::nullopt;
  std::vector<FieldViolation> list = v.Take();
  Error error = Error::InvalidArgument(list.front().field, list.front().description);
  if (list.size() > 1)
    error.message = absl::StrCat(list.size(), " fields of the request are invalid");
  error.violations = std::move(list);
  return error;
}

constexpr char kShortReasons[] =
    "DEDUCTION, PRICING_DISPUTE, DAMAGED_GOODS, SHORT_SHIPMENT, PROMOTIONAL_ALLOWANCE, "
    "EARLY_PAYMENT_DISCOUNT, OTHER";

void Directions(Violations& v, const std::string& f,
                const google::protobuf::RepeatedPtrField<v1::PaymentDirection>& list) {
  if (!Count(v, f, list.size(), kMaxPaymentDirections)) return;
  for (int i = 0; i < list.size(); ++i) {
    const std::string d = Index(f, i);
    const v1::PaymentDirection& x = list.Get(i);
    if (x.invoice_id().empty() == x.account_id().empty()) {
      v.Add(d, "names exactly one of invoice_id and account_id");
    }
    Id(v, d + ".invoice_id", x.invoice_id(), false);
    Id(v, d + ".account_id", x.account_id(), false);
    Amount(v, d + ".amount_minor", x.amount_minor(), Sign::kNonNegative);
    EnumValue(v, d + ".short_reason", x.short_reason(), v1::ShortPaymentReason_IsValid,
              kShortReasons, false);
    if (x.short_reason() != v1::SHORT_PAYMENT_REASON_UNSPECIFIED &&
        (x.invoice_id().empty() || x.amount_minor() == 0)) {
      v.Add(d + ".short_reason",
            "applies to an invoice paid short: needs invoice_id and amount_minor");
    }
    Text(v, d + ".note", x.note(), false);
  }
}

struct CustomerValidator {
  Violations& v;

  void operator()(const v1::OpenCustomerRequest& r) const {
    EnumValue(v, "kind", r.kind(), v1::CustomerKind_IsValid, "PERSON, COMPANY");
    Text(v, "name", r.name(), true);
    if (Count(v, "contacts", r.contacts_size(), kMaxCustomerContacts)) {
      for (int i = 0; i < r.contacts_size(); ++i) {
        const std::string f = Index("contacts", i);
        const v1::CustomerContact& c = r.contacts(i);
        Id(v, f + ".contact_id", c.contact_id());
        Text(v, f + ".name", c.name(), true);
        if (Count(v, f + ".roles", c.roles_size(), kMaxCustomerContactRoles)) {
          for (int j = 0; j < c.roles_size(); ++j) Id(v, Index(f + ".roles", j), c.roles(j));
        }
        Email(v, f + ".email", c.email(), false);
        if (!c.phone().number().empty()) Phone(v, f + ".phone", c.phone());
        for (int j = 0; j < i; ++j) {
          if (r.contacts(j).contact_id() == c.contact_id() && !c.contact_id().empty()) {
            v.Add(f + ".contact_id", "repeats contacts[" + std::to_string(j) + "].contact_id");
            break;
          }
        }
      }
    }
    Currency(v, "currency", r.currency());
    TimeZone(v, "time_zone", r.time_zone(), true);
    EnumValue(v, "cash_application_rule", r.cash_application_rule(),
              v1::CashApplicationRule_IsValid, "OLDEST_FIRST, PRO_RATA", false);
  }
  void operator()(const v1::LinkCustomerAccountRequest& r) const {
    Id(v, "linked_account_id", r.linked_account_id());
    Text(v, "reason", r.reason(), false);
    Id(v, "moved_from_customer_id", r.moved_from_customer_id(), false);
    if (!r.moved_from_customer_id().empty() && r.moved_from_customer_id() == r.customer_id())
      v.Add("moved_from_customer_id", "is this customer");
    if (!r.moved_from_customer_id().empty() && r.reason().empty())
      v.Add("reason", "is required when an account moves between customers");
  }
  void operator()(const v1::UnlinkCustomerAccountRequest& r) const {
    Id(v, "linked_account_id", r.linked_account_id());
    Text(v, "reason", r.reason(), true);
    Id(v, "moved_to_customer_id", r.moved_to_customer_id(), false);
    if (!r.moved_to_customer_id().empty() && r.moved_to_customer_id() == r.customer_id())
      v.Add("moved_to_customer_id", "is this customer");
  }
  void operator()(const v1::RecordInvoiceRequest& r) const {
    const v1::Invoice& i = r.invoice();
    Id(v, "invoice.invoice_id", i.invoice_id());
    Text(v, "invoice.number", i.number(), true, kMaxIdBytes);
    Id(v, "invoice.account_id", i.account_id());
    Date(v, "invoice.invoice_date", i.invoice_date(), true);
    Date(v, "invoice.due_date", i.due_date(), true);
    if (ValidDate(i.invoice_date()) && ValidDate(i.due_date()) &&
        absl::CivilDay(i.due_date().year(), i.due_date().month(), i.due_date().day()) <
            absl::CivilDay(i.invoice_date().year(), i.invoice_date().month(),
                           i.invoice_date().day())) {
      v.Add("invoice.due_date", "is before invoice.invoice_date");
    }
    Money(v, "invoice.amount", i.amount());
  }
  void operator()(const v1::ReceiveCustomerPaymentRequest& r) const {
    Id(v, "payment_id", r.payment_id());
    Money(v, "amount", r.amount());
    EnumValue(v, "method", r.method(), v1::PaymentMethod_IsValid, kPaymentMethods);
    Text(v, "payer_reference", r.payer_reference(), false, kMaxIdBytes);
    Date(v, "received_date", r.received_date(), true);
    Directions(v, "directions", r.directions());
    Id(v, "refund_id", r.refund_id(), false);
  }
  void operator()(const v1::ApplyUnappliedCashRequest& r) const {
    Id(v, "application_id", r.application_id());
    Amount(v, "amount_minor", r.amount_minor(), Sign::kNonNegative);
    Directions(v, "directions", r.directions());
  }
  void operator()(const v1::ResolveShortPaymentRequest& r) const {
    Id(v, "discrepancy_id", r.discrepancy_id());
    EnumValue(v, "resolution", r.resolution(), v1::DiscrepancyResolution_IsValid,
              "ACCEPTED, REJECTED");
    Text(v, "note", r.note(), false);
    Id(v, "adjustment_id", r.adjustment_id(),
       r.resolution() == v1::DISCREPANCY_RESOLUTION_ACCEPTED);
  }
  void operator()(const v1::AdjustInvoiceRequest& r) const {
    Id(v, "adjustment_id", r.adjustment_id());
    Id(v, "invoice_id", r.invoice_id());
    EnumValue(v, "kind", r.kind(), v1::InvoiceAdjustmentKind_IsValid, "CREDIT_MEMO, DEBIT_MEMO");
    Amount(v, "amount_minor", r.amount_minor(), Sign::kPositive);
    Text(v, "reason", r.reason(), true);
  }
  void operator()(const v1::DisputeInvoiceRequest& r) const {
    Id(v, "invoice_id", r.invoice_id());
    Id(v, "dispute_id", r.dispute_id());
    Text(v, "reason", r.reason(), true);
  }
  void operator()(const v1::ResolveInvoiceDisputeRequest& r) const {
    Id(v, "invoice_id", r.invoice_id());
    Id(v, "dispute_id", r.dispute_id());
    Text(v, "resolution", r.resolution(), true);
  }
  void operator()(const v1::SetCreditLimitRequest& r) const {
    Amount(v, "limit.amount_minor", r.limit().amount_minor(), Sign::kNonNegative);
    Currency(v, "limit.currency", r.limit().currency());
    Text(v, "reason", r.reason(), true);
  }
  void operator()(const v1::RecommendCreditHoldRequest& r) const {
    Id(v, "hold_id", r.hold_id());
    Text(v, "reason", r.reason(), true);
  }
  void operator()(const v1::ApproveCreditHoldRequest& r) const {
    Id(v, "hold_id", r.hold_id());
    Text(v, "note", r.note(), false);
  }
  void operator()(const v1::ReleaseCreditHoldRequest& r) const {
    Id(v, "hold_id", r.hold_id());
    Text(v, "reason", r.reason(), true);
  }
};

}  // namespace

Status ValidateCustomerRequest(const CustomerCommand& command) {
  Violations v;
  std::visit([&v](const auto& r) { CommonFields(v, r); }, command);
  Id(v, "customer_id", CustomerIdOf(command));
  std::visit(CustomerValidator{v}, command);
  return AsError(v);
}

Status ValidateRequest(const Command& command) {
  Violations v;
  std::visit([&v](const auto& r) { CommonFields(v, r); }, command);
  Id(v, "account_id", AccountId(command));
  std::visit(Validator{v}, command);
  if (v.empty()) return std::nullopt;

  std::vector<FieldViolation> list = v.Take();
  Error error = Error::InvalidArgument(list.front().field, list.front().description);
  if (list.size() > 1)
    error.message = absl::StrCat(list.size(), " fields of the request are invalid");
  error.violations = std::move(list);
  return error;
}

}  // namespace collections
