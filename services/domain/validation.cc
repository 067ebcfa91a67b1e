// ValidateRequest: shape checks of every command, before any state is looked at.
#include "services/domain/case_aggregate.h"

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

#include <algorithm>
#include <cctype>

namespace collections {
namespace {

// Largest amount accepted anywhere: keeps every sum of components far from int64 overflow.
constexpr int64_t kMaxAmountMinor = 1'000'000'000'000'000;  // 10^15 minor units

Status CheckId(const std::string& field, const std::string& value) {
  if (value.empty()) return Error::InvalidArgument(field, field + " is required");
  if (value.size() > 128)
    return Error::InvalidArgument(field, field + " is longer than 128 characters");
  for (unsigned char c : value) {
    if (c <= 0x20 || c >= 0x7f) {
      return Error::InvalidArgument(field, field + " must be printable ASCII without spaces");
    }
  }
  return std::nullopt;
}

Status CheckRequired(const std::string& field, const std::string& value) {
  if (value.empty()) return Error::InvalidArgument(field, field + " is required");
  if (value.size() > 1000)
    return Error::InvalidArgument(field, field + " is longer than 1000 characters");
  return std::nullopt;
}

Status CheckCurrency(const std::string& field, const std::string& value) {
  bool ok = value.size() == 3 &&
            std::all_of(value.begin(), value.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!ok) {
    return Error::InvalidArgument(
        field, field + " must be an ISO 4217 code like \"USD\", got \"" + value + "\"");
  }
  return std::nullopt;
}

Status CheckTimeZone(const std::string& field, const std::string& value, bool required) {
  if (value.empty()) {
    if (!required) return std::nullopt;
    return Error::InvalidArgument(field,
                                  field + " is required (an IANA zone like \"America/Chicago\")");
  }
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(value, &tz)) {
    return Error::InvalidArgument(field, "unknown IANA time zone \"" + value + "\"");
  }
  return std::nullopt;
}

bool IsEmpty(const v1::LocalDate& d) { return d.year() == 0 && d.month() == 0 && d.day() == 0; }

Status CheckDate(const std::string& field, const v1::LocalDate& d, bool required) {
  if (IsEmpty(d) && !required) return std::nullopt;
  bool valid = d.year() >= 1 && d.year() <= 9999;
  if (valid) {
    absl::CivilDay day(d.year(), d.month(), d.day());
    valid = day.year() == d.year() && day.month() == d.month() && day.day() == d.day();
  }
  if (!valid) {
    return Error::InvalidArgument(field,
                                  field + " is not a valid calendar date (year, month, day)");
  }
  return std::nullopt;
}

Status CheckAmount(const std::string& field, int64_t v, bool allow_zero) {
  if (v < 0 || (!allow_zero && v == 0)) {
    return Error::InvalidArgument(
        field, field + (allow_zero ? " must not be negative" : " must be greater than zero"));
  }
  if (v > kMaxAmountMinor) return Error::InvalidArgument(field, field + " is too large");
  return std::nullopt;
}

Status CheckMoney(const std::string& field, const v1::Money& m) {
  if (auto e = CheckAmount(field + ".amount_minor", m.amount_minor(), false)) return e;
  return CheckCurrency(field + ".currency", m.currency());
}

Status CheckBalances(const std::string& field, const v1::Balances& b, bool allow_zero_total) {
  if (auto e = CheckAmount(field + ".principal_minor", b.principal_minor(), true)) return e;
  if (auto e = CheckAmount(field + ".interest_minor", b.interest_minor(), true)) return e;
  if (auto e = CheckAmount(field + ".fees_minor", b.fees_minor(), true)) return e;
  if (auto e = CheckAmount(field + ".costs_minor", b.costs_minor(), true)) return e;
  if (!allow_zero_total && Total(b) <= 0) {
    return Error::InvalidArgument(field, field + " must total more than zero");
  }
  return std::nullopt;
}

Status CheckPhone(const std::string& f, const v1::Phone& phone) {
  const std::string& n = phone.number();
  bool e164 = n.size() >= 8 && n.size() <= 16 && n[0] == '+' &&
              std::all_of(n.begin() + 1, n.end(), [](unsigned char c) { return std::isdigit(c); });
  if (!e164)
    return Error::InvalidArgument(f + ".number",
                                  "phone number must be E.164, like \"+12125550100\"");
  if (phone.type() == v1::PHONE_TYPE_UNSPECIFIED || !v1::PhoneType_IsValid(phone.type())) {
    return Error::InvalidArgument(f + ".type", "phone type must be HOME, CELL or WORK");
  }
  return CheckTimeZone(f + ".time_zone", phone.time_zone(), false);
}

Status CheckEmail(const std::string& f, const std::string& m) {
  auto at = m.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= m.size() ||
      m.find(' ') != std::string::npos) {
    return Error::InvalidArgument(f, "not an e-mail address: \"" + m + "\"");
  }
  return std::nullopt;
}

Status CheckContactPoints(const v1::ContactPoints& cp) {
  for (int i = 0; i < cp.phones_size(); ++i) {
    if (auto e = CheckPhone(absl::StrCat("contact_points.phones[", i, "]"), cp.phones(i))) return e;
  }
  for (int i = 0; i < cp.emails_size(); ++i) {
    if (auto e = CheckEmail(absl::StrCat("contact_points.emails[", i, "]"), cp.emails(i))) return e;
  }
  return std::nullopt;
}

template <typename Enum>
Status CheckEnum(const std::string& field, Enum value, bool (*is_valid)(int),
                 const std::string& allowed) {
  if (static_cast<int>(value) == 0 || !is_valid(static_cast<int>(value))) {
    return Error::InvalidArgument(field, field + " must be one of " + allowed);
  }
  return std::nullopt;
}

Status CheckChannel(const std::string& field, v1::ContactChannel c) {
  return CheckEnum(field, c, v1::ContactChannel_IsValid, "CALL, TEXT, EMAIL, LETTER, VISIT");
}

struct Validator {
  Status operator()(const v1::OpenCaseRequest& r) const {
    if (auto e = CheckRequired("creditor", r.creditor())) return e;
    if (auto e = CheckRequired("debtor_name", r.debtor_name())) return e;
    if (auto e = CheckCurrency("currency", r.currency())) return e;
    if (auto e = CheckBalances("balances", r.balances(), false)) return e;
    if (auto e = CheckDate("due_date", r.due_date(), true)) return e;
    if (auto e = CheckTimeZone("time_zone", r.time_zone(), true)) return e;
    if (!v1::DebtType_IsValid(r.debt_type()))
      return Error::InvalidArgument("debt_type", "unknown debt_type");
    if (auto e = CheckDate("date_of_first_delinquency", r.date_of_first_delinquency(), false))
      return e;
    if (auto e = CheckDate("statute_of_limitations_date", r.statute_of_limitations_date(), false))
      return e;
    if (!r.jurisdiction().empty() &&
        (r.jurisdiction().size() != 2 ||
         !std::isupper(static_cast<unsigned char>(r.jurisdiction()[0])) ||
         !std::isupper(static_cast<unsigned char>(r.jurisdiction()[1])))) {
      return Error::InvalidArgument("jurisdiction",
                                    "jurisdiction must be a US state code like \"MA\"");
    }
    return CheckContactPoints(r.contact_points());
  }
  Status operator()(const v1::PostPaymentRequest& r) const {
    if (auto e = CheckId("payment_id", r.payment_id())) return e;
    if (auto e = CheckMoney("amount", r.amount())) return e;
    if (auto e = CheckEnum("method", r.method(), v1::PaymentMethod_IsValid,
                           "CARD, ACH, CHEQUE, CASH, WIRE"))
      return e;
    return CheckDate("effective_date", r.effective_date(), false);
  }
  Status operator()(const v1::ReversePaymentRequest& r) const {
    if (auto e = CheckId("payment_id", r.payment_id())) return e;
    return CheckEnum("reason", r.reason(), v1::ReversalReason_IsValid,
                     "NSF, RETURNED_CHEQUE, CHARGEBACK, POSTING_ERROR");
  }
  Status operator()(const v1::AssignCaseRequest& r) const {
    if (r.assignee().empty() && r.queue().empty()) {
      return Error::InvalidArgument("assignee", "give an assignee, a queue or both");
    }
    if (!r.assignee().empty()) {
      if (auto e = CheckId("assignee", r.assignee())) return e;
    }
    if (!r.queue().empty()) {
      if (auto e = CheckId("queue", r.queue())) return e;
    }
    return std::nullopt;
  }
  Status operator()(const v1::EscalateCaseRequest& r) const {
    if (auto e = CheckId("supervisor", r.supervisor())) return e;
    return CheckRequired("reason", r.reason());
  }
  Status operator()(const v1::UpdateFlagRequest& r) const {
    if (auto e = CheckRequired("reason", r.reason())) return e;
    switch (r.change_case()) {
      case v1::UpdateFlagRequest::CHANGE_NOT_SET:
        return Error::InvalidArgument("change",
                                      "name the flag to change (bankruptcy, deceased, ...)");
      case v1::UpdateFlagRequest::kConsent: {
        if (auto e = CheckId("consent.consent_id", r.consent().consent_id())) return e;
        return CheckEnum("consent.kind", r.consent().kind(), v1::ConsentKind_IsValid,
                         "CALLS, CONTACT_TIMES, ELECTRONIC, WORKPLACE, ATTORNEY_DIRECT");
      }
      case v1::UpdateFlagRequest::kOptOut:
        return CheckChannel("opt_out.channel", r.opt_out().channel());
      case v1::UpdateFlagRequest::kInconvenientWindow: {
        const auto& w = r.inconvenient_window();
        if (w.start_minute() < 0 || w.start_minute() >= 1440 ||
            w.end_minute() <= w.start_minute() || w.end_minute() > 1440) {
          return Error::InvalidArgument(
              "inconvenient_window",
              "start_minute and end_minute must satisfy 0 <= start < end <= 1440");
        }
        return std::nullopt;
      }
      case v1::UpdateFlagRequest::kAttorney:
        if (r.attorney().represented() && r.attorney().attorney().name().empty()) {
          return Error::InvalidArgument("attorney.attorney.name", "name the attorney");
        }
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }
  Status operator()(const v1::CloseCaseRequest& r) const {
    return CheckRequired("reason", r.reason());
  }
  Status operator()(const v1::RecordContactAttemptRequest& r) const {
    if (auto e = CheckId("contact_id", r.contact_id())) return e;
    if (auto e = CheckChannel("channel", r.channel())) return e;
    if (auto e = CheckEnum("direction", r.direction(), v1::ContactDirection_IsValid,
                           "OUTBOUND, INBOUND"))
      return e;
    if (auto e = CheckEnum("outcome", r.outcome(), v1::ContactOutcome_IsValid,
                           "NO_ANSWER, BUSY, NOT_IN_SERVICE, VOICEMAIL, RIGHT_PARTY_CONVERSATION, "
                           "THIRD_PARTY, WRONG_NUMBER, UNDELIVERABLE, DELIVERED")) {
      return e;
    }
    if (r.channel() != v1::CONTACT_CHANNEL_VISIT) {
      if (auto e = CheckRequired("address", r.address())) return e;
    }
    if (r.channel() == v1::CONTACT_CHANNEL_CALL || r.channel() == v1::CONTACT_CHANNEL_TEXT) {
      v1::Phone phone;
      phone.set_number(r.address());
      phone.set_type(r.phone_type());
      if (auto e = CheckPhone("phone", phone)) {
        e->field = e->field == "phone.number" ? "address" : "phone_type";
        return e;
      }
    }
    if (r.channel() == v1::CONTACT_CHANNEL_EMAIL) return CheckEmail("address", r.address());
    return std::nullopt;
  }
  Status operator()(const v1::RecordCorrespondenceRequest& r) const {
    if (auto e = CheckId("correspondence_id", r.correspondence_id())) return e;
    if (auto e = CheckEnum(
            "kind", r.kind(), v1::CorrespondenceKind_IsValid,
            "VALIDATION_NOTICE, DELINQUENCY_NOTICE, PAYMENT_REMINDER, SETTLEMENT_OFFER, OTHER")) {
      return e;
    }
    if (r.channel() != v1::CONTACT_CHANNEL_LETTER && r.channel() != v1::CONTACT_CHANNEL_EMAIL) {
      return Error::InvalidArgument("channel", "correspondence goes by LETTER or EMAIL");
    }
    if (auto e = CheckRequired("address", r.address())) return e;
    if (r.kind() == v1::CORRESPONDENCE_KIND_VALIDATION_NOTICE) {
      if (auto e =
              CheckDate("itemization.itemization_date", r.itemization().itemization_date(), true))
        return e;
      if (auto e = CheckAmount("itemization.current_amount_minor",
                               r.itemization().current_amount_minor(), true))
        return e;
    }
    return std::nullopt;
  }
  Status operator()(const v1::UpdateContactPointRequest& r) const {
    if (auto e = CheckEnum("action", r.action(), v1::ContactPointAction_IsValid,
                           "ADD, VERIFY, INVALIDATE"))
      return e;
    switch (r.point_case()) {
      case v1::UpdateContactPointRequest::kPhone:
        return CheckPhone("phone", r.phone());
      case v1::UpdateContactPointRequest::kEmail:
        return CheckEmail("email", r.email());
      case v1::UpdateContactPointRequest::kAddress:
        if (r.address().lines_size() == 0)
          return Error::InvalidArgument("address.lines", "an address needs a line");
        return std::nullopt;
      default:
        return Error::InvalidArgument("point", "give a phone, an email or an address");
    }
  }
  Status operator()(const v1::SetLocationStatusRequest&) const { return std::nullopt; }
  Status operator()(const v1::RecordPromiseToPayRequest& r) const {
    if (auto e = CheckId("promise_id", r.promise_id())) return e;
    if (auto e = CheckMoney("amount", r.amount())) return e;
    if (auto e = CheckDate("due_date", r.due_date(), true)) return e;
    if (r.grace_days() < 0 || r.grace_days() > 60)
      return Error::InvalidArgument("grace_days", "grace_days must be 0..60");
    if (r.channel() != v1::CONTACT_CHANNEL_UNSPECIFIED) return CheckChannel("channel", r.channel());
    return std::nullopt;
  }
  Status operator()(const v1::CancelPromiseToPayRequest& r) const {
    if (auto e = CheckId("promise_id", r.promise_id())) return e;
    return CheckRequired("reason", r.reason());
  }
  Status operator()(const v1::ProposePaymentPlanRequest& r) const {
    if (auto e = CheckId("plan_id", r.plan_id())) return e;
    if (r.instalments_size() == 0)
      return Error::InvalidArgument("instalments", "a plan needs at least one instalment");
    if (r.instalments_size() > 600)
      return Error::InvalidArgument("instalments", "at most 600 instalments");
    for (int i = 0; i < r.instalments_size(); ++i) {
      std::string f = absl::StrCat("instalments[", i, "]");
      if (auto e = CheckAmount(f + ".amount_minor", r.instalments(i).amount_minor(), false))
        return e;
      if (auto e = CheckDate(f + ".due_date", r.instalments(i).due_date(), true)) return e;
      if (i > 0) {
        const auto& a = r.instalments(i - 1).due_date();
        const auto& b = r.instalments(i).due_date();
        if (absl::CivilDay(b.year(), b.month(), b.day()) <=
            absl::CivilDay(a.year(), a.month(), a.day())) {
          return Error::InvalidArgument(f + ".due_date", "instalment due dates must increase");
        }
      }
    }
    if (r.grace_days() < 0 || r.grace_days() > 60)
      return Error::InvalidArgument("grace_days", "grace_days must be 0..60");
    if (r.missed_to_default() < 0)
      return Error::InvalidArgument("missed_to_default", "must not be negative");
    return std::nullopt;
  }
  Status operator()(const v1::AcceptPaymentPlanRequest& r) const {
    return CheckId("plan_id", r.plan_id());
  }
  Status operator()(const v1::CancelPaymentPlanRequest& r) const {
    if (auto e = CheckId("plan_id", r.plan_id())) return e;
    return CheckRequired("reason", r.reason());
  }
  Status operator()(const v1::AgreeSettlementRequest& r) const {
    if (auto e = CheckId("settlement_id", r.settlement_id())) return e;
    if (auto e = CheckMoney("amount", r.amount())) return e;
    return CheckDate("due_date", r.due_date(), true);
  }
  Status operator()(const v1::RefundCreditRequest& r) const {
    if (auto e = CheckId("refund_id", r.refund_id())) return e;
    if (auto e = CheckMoney("amount", r.amount())) return e;
    return CheckEnum("method", r.method(), v1::PaymentMethod_IsValid,
                     "CARD, ACH, CHEQUE, CASH, WIRE");
  }
  Status operator()(const v1::PostAdjustmentRequest& r) const {
    if (auto e = CheckId("adjustment_id", r.adjustment_id())) return e;
    if (auto e = CheckEnum(
            "kind", r.kind(), v1::AdjustmentKind_IsValid,
            "SMALL_BALANCE_WRITE_OFF, CHARGE_OFF, CREDIT_MEMO, FEE_ACCRUAL, INTEREST_ACCRUAL, "
            "SETTLEMENT_DISCOUNT, CORRECTION")) {
      return e;
    }
    if (r.kind() == v1::ADJUSTMENT_KIND_DISPUTE_UPHELD) {
      return Error::InvalidArgument("kind", "DISPUTE_UPHELD adjustments come from ResolveDispute");
    }
    if (auto e = CheckBalances("amounts", r.amounts(), r.kind() == v1::ADJUSTMENT_KIND_CHARGE_OFF))
      return e;
    if (r.kind() == v1::ADJUSTMENT_KIND_FEE_ACCRUAL &&
        Total(r.amounts()) != r.amounts().fees_minor() + r.amounts().costs_minor()) {
      return Error::InvalidArgument("amounts", "a fee accrual adds to fees or costs only");
    }
    if (r.kind() == v1::ADJUSTMENT_KIND_INTEREST_ACCRUAL &&
        Total(r.amounts()) != r.amounts().interest_minor()) {
      return Error::InvalidArgument("amounts", "an interest accrual adds to interest only");
    }
    return CheckRequired("reason", r.reason());
  }
  Status operator()(const v1::OpenDisputeRequest& r) const {
    if (auto e = CheckId("dispute_id", r.dispute_id())) return e;
    if (r.partial()) {
      if (auto e = CheckAmount("disputed_amount_minor", r.disputed_amount_minor(), false)) return e;
    }
    return CheckRequired("reason", r.reason());
  }
  Status operator()(const v1::SendDisputeVerificationRequest& r) const {
    return CheckId("dispute_id", r.dispute_id());
  }
  Status operator()(const v1::ResolveDisputeRequest& r) const {
    if (auto e = CheckId("dispute_id", r.dispute_id())) return e;
    return CheckRequired("resolution", r.resolution());
  }
  Status operator()(const v1::WithdrawDisputeRequest& r) const {
    return CheckId("dispute_id", r.dispute_id());
  }
  Status operator()(const v1::PlaceWithAgencyRequest& r) const {
    if (auto e = CheckId("agency", r.agency())) return e;
    return CheckRequired("reason", r.reason());
  }
  Status operator()(const v1::RecallFromAgencyRequest& r) const {
    return CheckRequired("reason", r.reason());
  }
  Status operator()(const v1::ReferToLegalRequest& r) const {
    if (auto e = CheckRequired("firm", r.firm())) return e;
    return CheckRequired("reason", r.reason());
  }
  Status operator()(const v1::ReportToBureauRequest& r) const {
    if (auto e = CheckId("report_id", r.report_id())) return e;
    if (auto e = CheckRequired("bureau", r.bureau())) return e;
    static const char* kStatus[] = {"11", "13", "61", "62", "63", "64", "65", "71",
                                    "78", "80", "82", "83", "84", "88", "89", "93",
                                    "94", "95", "96", "97", "DA", "DF"};
    if (std::none_of(std::begin(kStatus), std::end(kStatus),
                     [&](const char* s) { return r.status_code() == s; })) {
      return Error::InvalidArgument(
          "status_code",
          "not a Metro 2 account status code (93 collections, 62 paid, 97 charged off ...)");
    }
    const std::string& cc = r.compliance_condition_code();
    if (!cc.empty() && cc != "XB" && cc != "XC" && cc != "XH" && cc != "XR") {
      return Error::InvalidArgument("compliance_condition_code", "must be XB, XC, XH, XR or empty");
    }
    return std::nullopt;
  }
  Status operator()(const v1::AuthorizeOverrideRequest& r) const {
    if (auto e = CheckId("override_id", r.override_id())) return e;
    if (auto e = CheckRequired("rule_id", r.rule_id())) return e;
    if (auto e = CheckRequired("command", r.command())) return e;
    return CheckRequired("reason", r.reason());
  }
  Status operator()(const v1::TransferDebtRequest& r) const {
    if (auto e = CheckRequired("new_owner", r.new_owner())) return e;
    return CheckRequired("reason", r.reason());
  }

  // ---- Contact rules (business time, reservations): requests added with ReserveContact ----
  Status operator()(const v1::ReserveContactRequest& r) const {
    if (auto e = CheckId("reservation_id", r.reservation_id())) return e;
    if (auto e = CheckChannel("channel", r.channel())) return e;
    if (r.channel() != v1::CONTACT_CHANNEL_VISIT) {
      if (auto e = CheckRequired("address", r.address())) return e;
    }
    if (r.channel() == v1::CONTACT_CHANNEL_CALL || r.channel() == v1::CONTACT_CHANNEL_TEXT) {
      v1::Phone phone;
      phone.set_number(r.address());
      phone.set_type(r.phone_type());
      if (auto e = CheckPhone("phone", phone)) {
        e->field = e->field == "phone.number" ? "address" : "phone_type";
        return e;
      }
    }
    if (r.channel() == v1::CONTACT_CHANNEL_EMAIL) return CheckEmail("address", r.address());
    return std::nullopt;
  }
};

}  // namespace

Status ValidateRequest(const Command& command) {
  if (auto e = CheckId("command_id", CommandId(command))) return e;
  if (auto e = CheckId("account_id", AccountId(command))) return e;
  if (auto v = ExpectedVersion(command); v && *v < 0) {
    return Error::InvalidArgument("expected_version", "expected_version must not be negative");
  }
  return std::visit(Validator{}, command);
}

}  // namespace collections
