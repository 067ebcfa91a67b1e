#include "services/domain/case_aggregate.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

namespace collections {
namespace {

// Largest amount accepted anywhere: keeps every sum of components far from int64 overflow.
constexpr int64_t kMaxAmountMinor = 1'000'000'000'000'000;  // 10^15 minor units

Status CheckId(const std::string& field, const std::string& value) {
  if (value.empty()) return Error::InvalidArgument(field, field + " is required");
  if (value.size() > 128) return Error::InvalidArgument(field, field + " is longer than 128 characters");
  for (unsigned char c : value) {
    if (c <= 0x20 || c >= 0x7f) {
      return Error::InvalidArgument(field, field + " must be printable ASCII without spaces");
    }
  }
  return std::nullopt;
}

Status CheckRequired(const std::string& field, const std::string& value) {
  if (value.empty()) return Error::InvalidArgument(field, field + " is required");
  return std::nullopt;
}

Status CheckCurrency(const std::string& field, const std::string& value) {
  bool ok = value.size() == 3 &&
            std::all_of(value.begin(), value.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!ok) {
    return Error::InvalidArgument(field, field + " must be an ISO 4217 code like \"USD\", got \"" +
                                             value + "\"");
  }
  return std::nullopt;
}

Status CheckTimeZone(const std::string& field, const std::string& value, bool required) {
  if (value.empty()) {
    if (!required) return std::nullopt;
    return Error::InvalidArgument(field, field + " is required (an IANA zone like \"America/Chicago\")");
  }
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(value, &tz)) {
    return Error::InvalidArgument(field, "unknown IANA time zone \"" + value + "\"");
  }
  return std::nullopt;
}

bool ValidDate(const v1::LocalDate& d) {
  if (d.year() < 1 || d.year() > 9999) return false;
  absl::CivilDay day(d.year(), d.month(), d.day());
  return day.year() == d.year() && day.month() == d.month() && day.day() == d.day();
}

Status CheckDate(const std::string& field, const v1::LocalDate& d, bool required) {
  bool empty = d.year() == 0 && d.month() == 0 && d.day() == 0;
  if (empty && !required) return std::nullopt;
  if (!ValidDate(d)) {
    return Error::InvalidArgument(field, field + " is not a valid calendar date (year, month, day)");
  }
  return std::nullopt;
}

Status CheckAmount(const std::string& field, int64_t v, bool allow_zero) {
  if (v < 0 || (!allow_zero && v == 0)) {
    return Error::InvalidArgument(field, field + (allow_zero ? " must not be negative"
                                                            : " must be greater than zero"));
  }
  if (v > kMaxAmountMinor) return Error::InvalidArgument(field, field + " is too large");
  return std::nullopt;
}

Status CheckBalances(const std::string& field, const v1::Balances& b) {
  if (auto e = CheckAmount(field + ".principal_minor", b.principal_minor(), true)) return e;
  if (auto e = CheckAmount(field + ".interest_minor", b.interest_minor(), true)) return e;
  if (auto e = CheckAmount(field + ".fees_minor", b.fees_minor(), true)) return e;
  if (auto e = CheckAmount(field + ".costs_minor", b.costs_minor(), true)) return e;
  if (Total(b) <= 0) return Error::InvalidArgument(field, field + " must total more than zero");
  return std::nullopt;
}

Status CheckContactPoints(const v1::ContactPoints& cp) {
  for (int i = 0; i < cp.phones_size(); ++i) {
    const auto& phone = cp.phones(i);
    std::string f = absl::StrCat("contact_points.phones[", i, "]");
    const std::string& n = phone.number();
    bool e164 = n.size() >= 8 && n.size() <= 16 && n[0] == '+' &&
                std::all_of(n.begin() + 1, n.end(), [](unsigned char c) { return std::isdigit(c); });
    if (!e164) {
      return Error::InvalidArgument(f + ".number", "phone number must be E.164, like \"+12125550100\"");
    }
    if (phone.type() == v1::PHONE_TYPE_UNSPECIFIED || !v1::PhoneType_IsValid(phone.type())) {
      return Error::InvalidArgument(f + ".type", "phone type must be HOME, CELL or WORK");
    }
    if (auto e = CheckTimeZone(f + ".time_zone", phone.time_zone(), false)) return e;
  }
  for (int i = 0; i < cp.emails_size(); ++i) {
    const std::string& m = cp.emails(i);
    auto at = m.find('@');
    if (at == std::string::npos || at == 0 || at + 1 >= m.size()) {
      return Error::InvalidArgument(absl::StrCat("contact_points.emails[", i, "]"),
                                    "not an e-mail address: \"" + m + "\"");
    }
  }
  return std::nullopt;
}

Status CheckCommon(const std::string& command_id, const std::string& account_id,
                   const std::optional<int64_t>& expected_version) {
  if (auto e = CheckId("command_id", command_id)) return e;
  if (auto e = CheckId("account_id", account_id)) return e;
  if (expected_version && *expected_version < 0) {
    return Error::InvalidArgument("expected_version", "expected_version must not be negative");
  }
  return std::nullopt;
}

struct Validator {
  Status operator()(const v1::OpenCaseRequest& r) const {
    if (auto e = CheckRequired("creditor", r.creditor())) return e;
    if (auto e = CheckRequired("debtor_name", r.debtor_name())) return e;
    if (auto e = CheckCurrency("currency", r.currency())) return e;
    if (auto e = CheckBalances("balances", r.balances())) return e;
    if (auto e = CheckDate("due_date", r.due_date(), true)) return e;
    if (auto e = CheckTimeZone("time_zone", r.time_zone(), true)) return e;
    return CheckContactPoints(r.contact_points());
  }
  Status operator()(const v1::PostPaymentRequest& r) const {
    if (auto e = CheckId("payment_id", r.payment_id())) return e;
    if (auto e = CheckAmount("amount.amount_minor", r.amount().amount_minor(), false)) return e;
    if (auto e = CheckCurrency("amount.currency", r.amount().currency())) return e;
    if (r.method() == v1::PAYMENT_METHOD_UNSPECIFIED || !v1::PaymentMethod_IsValid(r.method())) {
      return Error::InvalidArgument("method", "method must be CARD, ACH, CHEQUE, CASH or WIRE");
    }
    return CheckDate("effective_date", r.effective_date(), false);
  }
  Status operator()(const v1::ReversePaymentRequest& r) const {
    if (auto e = CheckId("payment_id", r.payment_id())) return e;
    if (r.reason() == v1::REVERSAL_REASON_UNSPECIFIED || !v1::ReversalReason_IsValid(r.reason())) {
      return Error::InvalidArgument(
          "reason", "reason must be NSF, RETURNED_CHEQUE, CHARGEBACK or POSTING_ERROR");
    }
    return std::nullopt;
  }
};

Error AccountNotFound(const std::string& account_id) {
  return Error{Errc::kNotFound, "ACCOUNT_NOT_FOUND",
               "account " + account_id + " has no case; open one with OpenCase first", "",
               account_id};
}

const v1::PaymentRecord* FindPayment(const v1::Account& account, const std::string& payment_id) {
  for (const auto& p : account.payments()) {
    if (p.payment_id() == payment_id) return &p;
  }
  return nullptr;
}

v1::LocalDate BusinessDate(absl::Time t, const std::string& zone) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(zone, &tz)) tz = absl::UTCTimeZone();
  absl::CivilDay day = absl::ToCivilDay(t, tz);
  v1::LocalDate d;
  d.set_year(static_cast<int32_t>(day.year()));
  d.set_month(day.month());
  d.set_day(day.day());
  return d;
}

// Applies `amount` to the balance in the documented order (costs, fees, interest, then
// principal). Returns what went to each component; the rest is `to_credit`.
v1::Balances Allocate(const v1::Balances& owed, int64_t amount, int64_t& to_credit) {
  v1::Balances applied;
  int64_t left = amount;
  auto take = [&left](int64_t component) {
    int64_t t = std::min(left, component);
    left -= t;
    return t;
  };
  applied.set_costs_minor(take(owed.costs_minor()));
  applied.set_fees_minor(take(owed.fees_minor()));
  applied.set_interest_minor(take(owed.interest_minor()));
  applied.set_principal_minor(take(owed.principal_minor()));
  to_credit = left;
  return applied;
}

void AddBalances(v1::Balances& into, const v1::Balances& delta, int sign) {
  into.set_principal_minor(into.principal_minor() + sign * delta.principal_minor());
  into.set_interest_minor(into.interest_minor() + sign * delta.interest_minor());
  into.set_fees_minor(into.fees_minor() + sign * delta.fees_minor());
  into.set_costs_minor(into.costs_minor() + sign * delta.costs_minor());
}

struct Decider {
  const v1::Account* state;
  absl::Time received;

  Result<std::vector<v1::EventEnvelope>> operator()(const v1::OpenCaseRequest& r) const {
    if (state != nullptr) {
      return Error{Errc::kAlreadyExists, "ACCOUNT_EXISTS",
                   "account " + r.account_id() + " already has a case (version " +
                       std::to_string(state->version()) + ")",
                   "account_id", r.account_id()};
    }
    v1::EventEnvelope e;
    auto* opened = e.mutable_case_opened();
    opened->set_creditor(r.creditor());
    opened->set_debtor_name(r.debtor_name());
    *opened->mutable_contact_points() = r.contact_points();
    opened->set_currency(r.currency());
    *opened->mutable_balances() = r.balances();
    *opened->mutable_due_date() = r.due_date();
    opened->set_time_zone(r.time_zone());
    return std::vector<v1::EventEnvelope>{std::move(e)};
  }

  Result<std::vector<v1::EventEnvelope>> operator()(const v1::PostPaymentRequest& r) const {
    if (state == nullptr) return AccountNotFound(r.account_id());
    if (r.amount().currency() != state->currency()) {
      return Error::InvalidArgument("amount.currency", "account " + r.account_id() + " is in " +
                                                           state->currency() + "; the payment is in " +
                                                           r.amount().currency());
    }
    if (FindPayment(*state, r.payment_id()) != nullptr) {
      return Error{Errc::kAlreadyExists, "PAYMENT_EXISTS",
                   "payment " + r.payment_id() + " is already posted on account " + r.account_id(),
                   "payment_id", r.payment_id()};
    }
    v1::EventEnvelope e;
    auto* posted = e.mutable_payment_posted();
    posted->set_payment_id(r.payment_id());
    *posted->mutable_amount() = r.amount();
    posted->set_method(r.method());
    posted->set_reference(r.reference());
    if (r.has_effective_date()) {
      *posted->mutable_effective_date() = r.effective_date();
    } else {
      *posted->mutable_effective_date() =
          BusinessDate(OccurredAt(Command(r), received), state->time_zone());
    }
    int64_t to_credit = 0;
    *posted->mutable_applied() = Allocate(state->balances(), r.amount().amount_minor(), to_credit);
    posted->set_to_credit_minor(to_credit);
    return std::vector<v1::EventEnvelope>{std::move(e)};
  }

  Result<std::vector<v1::EventEnvelope>> operator()(const v1::ReversePaymentRequest& r) const {
    if (state == nullptr) return AccountNotFound(r.account_id());
    const v1::PaymentRecord* payment = FindPayment(*state, r.payment_id());
    if (payment == nullptr) {
      return Error{Errc::kNotFound, "PAYMENT_NOT_FOUND",
                   "account " + r.account_id() + " has no payment " + r.payment_id(), "payment_id",
                   r.payment_id()};
    }
    if (payment->reversed()) {
      return Error{Errc::kFailedPrecondition, "PAYMENT_ALREADY_REVERSED",
                   "payment " + r.payment_id() + " was already reversed; a payment is reversed once",
                   "payment_id", r.payment_id()};
    }
    v1::EventEnvelope e;
    auto* reversed = e.mutable_payment_reversed();
    reversed->set_payment_id(r.payment_id());
    reversed->set_reason(r.reason());
    reversed->set_note(r.note());
    *reversed->mutable_reopened() = payment->applied();
    // The credit the payment created comes back out of the credit balance; if some of it
    // is no longer there, that part is owed as principal again.
    int64_t credit_removed = std::min(payment->to_credit_minor(), state->credit_balance_minor());
    reversed->set_credit_removed_minor(credit_removed);
    int64_t shortfall = payment->to_credit_minor() - credit_removed;
    reversed->mutable_reopened()->set_principal_minor(payment->applied().principal_minor() + shortfall);
    return std::vector<v1::EventEnvelope>{std::move(e)};
  }
};

void UpdateStatus(v1::Account& a) {
  a.set_total_balance_minor(Total(a.balances()));
  a.set_status(a.total_balance_minor() == 0 ? v1::ACCOUNT_STATUS_PAID_IN_FULL
                                            : v1::ACCOUNT_STATUS_OPEN);
}

}  // namespace

int64_t Total(const v1::Balances& b) {
  return b.principal_minor() + b.interest_minor() + b.fees_minor() + b.costs_minor();
}

Status ValidateRequest(const Command& command) {
  if (auto e = CheckCommon(CommandId(command), AccountId(command), ExpectedVersion(command))) {
    return e;
  }
  return std::visit(Validator{}, command);
}

Result<std::vector<v1::EventEnvelope>> Decide(const v1::Account* state, const Command& command,
                                              absl::Time received) {
  if (auto e = ValidateRequest(command)) return *e;
  return std::visit(Decider{state, received}, command);
}

void Evolve(v1::Account& a, const v1::EventEnvelope& e) {
  switch (e.payload_case()) {
    case v1::EventEnvelope::kCaseOpened: {
      const auto& o = e.case_opened();
      a.set_account_id(e.account_id());
      a.set_creditor(o.creditor());
      a.set_debtor_name(o.debtor_name());
      *a.mutable_contact_points() = o.contact_points();
      a.set_currency(o.currency());
      *a.mutable_balances() = o.balances();
      *a.mutable_original_balances() = o.balances();
      *a.mutable_due_date() = o.due_date();
      a.set_time_zone(o.time_zone());
      *a.mutable_opened_at() = e.occurred_at();
      UpdateStatus(a);
      break;
    }
    case v1::EventEnvelope::kPaymentPosted: {
      const auto& p = e.payment_posted();
      AddBalances(*a.mutable_balances(), p.applied(), -1);
      a.set_credit_balance_minor(a.credit_balance_minor() + p.to_credit_minor());
      v1::PaymentRecord* rec = a.add_payments();
      rec->set_payment_id(p.payment_id());
      *rec->mutable_amount() = p.amount();
      rec->set_method(p.method());
      rec->set_reference(p.reference());
      *rec->mutable_effective_date() = p.effective_date();
      *rec->mutable_applied() = p.applied();
      rec->set_to_credit_minor(p.to_credit_minor());
      *rec->mutable_posted_at() = e.occurred_at();
      rec->set_posted_sequence(e.sequence());
      *a.mutable_last_payment() = *rec;
      UpdateStatus(a);
      break;
    }
    case v1::EventEnvelope::kPaymentReversed: {
      const auto& r = e.payment_reversed();
      AddBalances(*a.mutable_balances(), r.reopened(), +1);
      a.set_credit_balance_minor(a.credit_balance_minor() - r.credit_removed_minor());
      for (auto& rec : *a.mutable_payments()) {
        if (rec.payment_id() == r.payment_id()) {
          rec.set_reversed(true);
          rec.set_reversal_reason(r.reason());
        }
      }
      if (a.last_payment().payment_id() == r.payment_id()) {
        a.mutable_last_payment()->set_reversed(true);
        a.mutable_last_payment()->set_reversal_reason(r.reason());
      }
      UpdateStatus(a);
      break;
    }
    case v1::EventEnvelope::PAYLOAD_NOT_SET:
      break;
  }
  a.set_version(e.sequence());
  *a.mutable_updated_at() = e.recorded_at();
  a.set_last_hash(e.hash());
}

std::string EventType(const v1::EventEnvelope& event) {
  if (event.payload_case() == v1::EventEnvelope::PAYLOAD_NOT_SET) return "collections.v1.Unknown";
  const auto* field = v1::EventEnvelope::descriptor()->FindFieldByNumber(event.payload_case());
  return "collections.v1." + field->message_type()->name();
}

}  // namespace collections
