// DecideCustomer: what each customer command does to the customer's receivables ledger, or why
// it may not. Cash application lives here: a payment's every application is decided at once,
// so its events are one command's, appended together or not at all.
#include "services/domain/customer_aggregate.h"
#include "services/domain/internal.h"
#include "services/domain/limits.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"

#include <algorithm>
#include <map>

namespace collections {

using namespace internal;  // NOLINT(google-build-using-namespace)

namespace {

using Events = std::vector<v1::EventEnvelope>;
using Decision = Result<Events>;
using InvoiceState = state::v1::CustomerInvoiceState;

Error Refuse(Errc code, std::string reason, std::string message, std::string field = "",
             std::string subject = "") {
  return Error{code, std::move(reason), std::move(message), std::move(field), std::move(subject)};
}

Error Invalid(std::vector<FieldViolation> list) {
  Error error = Error::InvalidArgument(list.front().field, list.front().description);
  if (list.size() > 1) {
    error.message = absl::StrCat(list.size(), " fields of the request are invalid");
  }
  error.violations = std::move(list);
  return error;
}

Error Overflow(const std::string& customer_id, const std::string& what) {
  return Refuse(Errc::kFailedPrecondition, "AMOUNT_OVERFLOW",
                absl::StrCat("the command would take ", what, " of customer ", customer_id,
                             " above the limit of ", kMaxAmountMinor, " minor units"),
                "", customer_id);
}

// a + b when both are >= 0 and the sum stays within kMaxAmountMinor.
bool WithinLimit(int64_t a, int64_t b) {
  int64_t sum = 0;
  return !__builtin_add_overflow(a, b, &sum) && sum <= kMaxAmountMinor;
}

std::string Person(const v1::Actor& actor) {
  return actor.on_behalf_of().empty() ? actor.id() : actor.on_behalf_of();
}

const InvoiceState* FindInvoice(const CustomerState& s, const std::string& id) {
  for (const auto& i : s.invoices()) {
    if (i.invoice().invoice_id() == id) return &i;
  }
  return nullptr;
}

bool Linked(const CustomerState& s, const std::string& account_id) {
  return std::find(s.account_ids().begin(), s.account_ids().end(), account_id) !=
         s.account_ids().end();
}

template <typename List>
bool Contains(const List& list, const std::string& id) {
  return std::find(list.begin(), list.end(), id) != list.end();
}

const state::v1::CustomerHoldState* FindHold(const CustomerState& s, const std::string& id) {
  for (const auto& h : s.holds()) {
    if (h.hold_id() == id) return &h;
  }
  return nullptr;
}

const state::v1::CustomerHoldState* ActiveHold(const CustomerState& s) {
  for (const auto& h : s.holds()) {
    if (!h.released()) return &h;
  }
  return nullptr;
}

// Oldest first: due date, then invoice date, then the order the invoices were recorded in.
bool Older(const InvoiceState* a, int a_index, const InvoiceState* b, int b_index) {
  const absl::CivilDay ad = ToCivil(a->invoice().due_date());
  const absl::CivilDay bd = ToCivil(b->invoice().due_date());
  if (ad != bd) return ad < bd;
  const absl::CivilDay ai = ToCivil(a->invoice().invoice_date());
  const absl::CivilDay bi = ToCivil(b->invoice().invoice_date());
  if (ai != bi) return ai < bi;
  return a_index < b_index;
}

v1::CashApplicationRule EffectiveRule(v1::CashApplicationRule rule) {
  return rule == v1::CASH_APPLICATION_RULE_UNSPECIFIED ? v1::CASH_APPLICATION_RULE_OLDEST_FIRST
                                                       : rule;
}

// One application of cash to one invoice, as decided.
struct Application {
  const InvoiceState* invoice = nullptr;
  int64_t amount = 0;
  bool directed = false;
  v1::CashApplicationRule rule = v1::CASH_APPLICATION_RULE_UNSPECIFIED;
  int64_t open_after = 0;
  // Directed short on purpose: the shortfall opens a discrepancy.
  v1::ShortPaymentReason short_reason = v1::SHORT_PAYMENT_REASON_UNSPECIFIED;
  std::string note;
};

// Applies an amount of cash across the customer's invoices: the payer's directions first, then
// (if asked) the customer's rule. Works on its own copy of what is open, so several directions
// to one invoice add up. Never touches a disputed invoice (F14).
class CashApplier {
 public:
  CashApplier(const CustomerState& s, int64_t amount) : s_(s), left_(amount) {
    for (int i = 0; i < s.invoices_size(); ++i) {
      open_[s.invoices(i).invoice().invoice_id()] = s.invoices(i).open_minor();
      index_[&s.invoices(i)] = i;
    }
  }

  // Returns the refusal (F14) or collects violations of `directions` into `violations`.
  std::optional<Error> Direct(const google::protobuf::RepeatedPtrField<v1::PaymentDirection>& ds,
                              std::vector<FieldViolation>& violations) {
    for (int n = 0; n < ds.size(); ++n) {
      const v1::PaymentDirection& d = ds.Get(n);
      const std::string f = absl::StrCat("directions[", n, "]");
      if (!d.invoice_id().empty()) {
        const InvoiceState* invoice = FindInvoice(s_, d.invoice_id());
        if (invoice == nullptr) {
          violations.push_back({f + ".invoice_id", "no invoice " + Quoted(d.invoice_id()) +
                                                       " on the customer"});
          continue;
        }
        if (!invoice->open_dispute_id().empty()) {
          Error e = Refuse(Errc::kFailedPrecondition, "PAYMENT_TO_DISPUTED_INVOICE",
                           "invoice " + d.invoice_id() + " is disputed (dispute " +
                               invoice->open_dispute_id() +
                               "): a payment is never applied to a disputed debt (F14); direct "
                               "it elsewhere or leave it unapplied",
                           f + ".invoice_id", d.invoice_id());
          e.metadata = {{"rule_id", "F14"}, {"dispute_id", invoice->open_dispute_id()}};
          return e;
        }
        int64_t& open = open_[d.invoice_id()];
        const int64_t amount = d.amount_minor() == 0 ? std::min(open, left_) : d.amount_minor();
        if (open == 0) {
          violations.push_back({f + ".invoice_id", "invoice " + Quoted(d.invoice_id()) +
                                                       " has nothing open"});
          continue;
        }
        if (amount > open) {
          violations.push_back(
              {f + ".amount_minor", absl::StrCat("is ", amount, "; invoice ", d.invoice_id(),
                                                 " has ", open, " open")});
          continue;
        }
        if (amount > left_) {
          violations.push_back(
              {f + ".amount_minor",
               absl::StrCat("is ", amount, "; only ", left_, " of the payment is left for it")});
          continue;
        }
        Apply(invoice, amount, true, v1::CASH_APPLICATION_RULE_UNSPECIFIED);
        if (d.short_reason() != v1::SHORT_PAYMENT_REASON_UNSPECIFIED) {
          if (applications_.back().open_after == 0) {
            violations.push_back({f + ".short_reason", "the invoice is paid in full: not short"});
            continue;
          }
          applications_.back().short_reason = d.short_reason();
          applications_.back().note = d.note();
        }
        continue;
      }
      // To an account: its open, undisputed invoices, oldest first.
      if (!Linked(s_, d.account_id())) {
        violations.push_back({f + ".account_id", "account " + Quoted(d.account_id()) +
                                                     " is not linked to the customer"});
        continue;
      }
      const int64_t available = Applicable(d.account_id(), false);
      const int64_t amount =
          d.amount_minor() == 0 ? std::min(available, left_) : d.amount_minor();
      if (amount > available) {
        violations.push_back(
            {f + ".amount_minor", absl::StrCat("is ", amount, "; account ", d.account_id(),
                                               " has ", available, " open and undisputed")});
        continue;
      }
      if (amount > left_) {
        violations.push_back(
            {f + ".amount_minor",
             absl::StrCat("is ", amount, "; only ", left_, " of the payment is left for it")});
        continue;
      }
      OldestFirst(d.account_id(), amount, true, v1::CASH_APPLICATION_RULE_UNSPECIFIED, false);
    }
    return std::nullopt;
  }

  // What is left goes by `rule` across every open, undisputed invoice; amounts under a
  // short-payment discrepancy are left alone (the payer withheld them on purpose).
  void ByRule(v1::CashApplicationRule rule) {
    rule = EffectiveRule(rule);
    if (left_ == 0) return;
    if (rule == v1::CASH_APPLICATION_RULE_OLDEST_FIRST) {
      OldestFirst("", left_, false, rule, true);
      return;
    }
    // Pro rata, exactly: floor(left * open_i / total) each (128-bit products), then the
    // minor units that the floors left over, one each, oldest first.
    std::vector<std::pair<const InvoiceState*, int64_t>> open = Eligible("", true);
    int64_t total = 0;
    for (const auto& [invoice, amount] : open) total += amount;  // <= open_total <= 10^15
    if (total == 0) return;
    if (left_ >= total) {
      for (const auto& [invoice, amount] : open) Apply(invoice, amount, false, rule);
      return;
    }
    std::vector<int64_t> share(open.size());
    int64_t given = 0;
    for (size_t i = 0; i < open.size(); ++i) {
      share[i] = static_cast<int64_t>(static_cast<__int128>(left_) * open[i].second / total);
      given += share[i];
    }
    int64_t rest = left_ - given;  // < open.size(), and every share is below its invoice's open
    for (size_t i = 0; i < open.size() && rest > 0; ++i) {
      if (share[i] < open[i].second) {
        ++share[i];
        --rest;
      }
    }
    for (size_t i = 0; i < open.size(); ++i) {
      if (share[i] > 0) Apply(open[i].first, share[i], false, rule);
    }
  }

  int64_t left() const { return left_; }
  const std::vector<Application>& applications() const { return applications_; }

 private:
  // Open, undisputed invoices (of `account_id`, or all when empty), oldest first, with what
  // may be applied to each.
  std::vector<std::pair<const InvoiceState*, int64_t>> Eligible(const std::string& account_id,
                                                                bool spare_discrepancies) {
    std::vector<std::pair<const InvoiceState*, int64_t>> out;
    for (const auto& i : s_.invoices()) {
      if (!account_id.empty() && i.invoice().account_id() != account_id) continue;
      if (!i.open_dispute_id().empty()) continue;
      int64_t open = open_[i.invoice().invoice_id()];
      if (spare_discrepancies) open -= std::min(open, i.in_discrepancy_minor());
      if (open > 0) out.emplace_back(&i, open);
    }
    std::sort(out.begin(), out.end(), [this](const auto& a, const auto& b) {
      return Older(a.first, index_[a.first], b.first, index_[b.first]);
    });
    return out;
  }

  int64_t Applicable(const std::string& account_id, bool spare_discrepancies) {
    int64_t sum = 0;
    for (const auto& [invoice, amount] : Eligible(account_id, spare_discrepancies)) sum += amount;
    return sum;
  }

  void OldestFirst(const std::string& account_id, int64_t amount, bool directed,
                   v1::CashApplicationRule rule, bool spare_discrepancies) {
    for (const auto& [invoice, open] : Eligible(account_id, spare_discrepancies)) {
      if (amount == 0) break;
      const int64_t take = std::min(open, amount);
      Apply(invoice, take, directed, rule);
      amount -= take;
    }
  }

  void Apply(const InvoiceState* invoice, int64_t amount, bool directed,
             v1::CashApplicationRule rule) {
    int64_t& open = open_[invoice->invoice().invoice_id()];
    open -= amount;
    left_ -= amount;
    Application a;
    a.invoice = invoice;
    a.amount = amount;
    a.directed = directed;
    a.rule = rule;
    a.open_after = open;
    applications_.push_back(std::move(a));
  }

  const CustomerState& s_;
  int64_t left_;
  std::map<std::string, int64_t> open_;
  std::map<const InvoiceState*, int> index_;
  std::vector<Application> applications_;
};

struct CustomerDecider {
  const CustomerState* state;
  absl::Time received;
  const DomainSettings& settings;
  std::string customer_id;

  template <typename R>
  absl::Time When(const R& r) const {
    return r.has_occurred_at() ? ToTime(r.occurred_at()) : received;
  }

  template <typename R>
  v1::LocalDate Today(const R& r) const {
    absl::TimeZone tz;
    if (!LoadIanaTimeZone(state->time_zone(), &tz)) tz = absl::UTCTimeZone();
    return ToLocalDate(LocalDay(When(r), tz));
  }

  std::optional<Error> Currency(const v1::Money& m, const std::string& field) const {
    if (m.currency() == state->currency()) return std::nullopt;
    return Error::InvalidArgument(field, "must be the customer's currency " + state->currency() +
                                             ", not " + Quoted(m.currency()));
  }

  // The application's events, then unapplied cash; short payments open their discrepancies.
  void AppendApplications(const CashApplier& applier, const std::string& payment_id,
                          Events& out) const {
    for (const Application& a : applier.applications()) {
      v1::EventEnvelope e;
      auto* p = e.mutable_payment_applied();
      p->set_payment_id(payment_id);
      p->set_invoice_id(a.invoice->invoice().invoice_id());
      p->set_account_id(a.invoice->invoice().account_id());
      p->set_amount_minor(a.amount);
      p->set_directed(a.directed);
      p->set_rule(a.rule);
      p->set_invoice_open_after_minor(a.open_after);
      out.push_back(std::move(e));
      if (a.short_reason != v1::SHORT_PAYMENT_REASON_UNSPECIFIED) {
        v1::EventEnvelope d;
        auto* o = d.mutable_short_payment_discrepancy_opened();
        o->set_discrepancy_id(payment_id + ":" + a.invoice->invoice().invoice_id());
        o->set_payment_id(payment_id);
        o->set_invoice_id(a.invoice->invoice().invoice_id());
        o->set_account_id(a.invoice->invoice().account_id());
        o->set_amount_minor(a.open_after);
        o->set_reason(a.short_reason);
        o->set_note(a.note);
        out.push_back(std::move(d));
      }
    }
  }

  // A credit memo's approval rule, as a write-off's: above the threshold it needs an approver
  // role, and someone else's request waiting for it (four eyes).
  std::optional<Error> CreditMemoApproval(const v1::Actor& actor, int64_t amount,
                                          const std::string& adjustment_id) const {
    if (amount <= settings.credit_memo_threshold_minor) return std::nullopt;
    const std::string privilege = "PRIVILEGE_WRITE_OFF_APPROVAL";
    if (!HasRoleIn(actor, settings.write_off_approver_roles)) {
      return Denied(actor, "SUPERVISOR_APPROVAL_REQUIRED", privilege,
                    absl::StrCat("a credit memo of ", amount, " is above the threshold ",
                                 settings.credit_memo_threshold_minor,
                                 "; the request is recorded and waits for a supervisor to "
                                 "approve it (the same request, sent by the supervisor)"),
                    adjustment_id, settings.write_off_approver_roles);
    }
    const v1::PendingApproval* pending = nullptr;
    for (const auto& p : state->pending_approvals()) {
      if (p.privilege() == privilege && p.subject() == adjustment_id) pending = &p;
    }
    if (pending == nullptr) {
      return Denied(actor, "SELF_APPROVAL", privilege,
                    "a credit memo above the threshold needs a request by someone else before a "
                    "supervisor approves it (four eyes); nobody has asked for " + adjustment_id,
                    adjustment_id, settings.write_off_approver_roles);
    }
    if (IsPerson(actor, pending->requested_by())) {
      return Denied(actor, "SELF_APPROVAL", privilege,
                    "a supervisor cannot approve their own request: credit memo " +
                        adjustment_id + " was requested by " + pending->requested_by() +
                        " (four eyes)",
                    adjustment_id, settings.write_off_approver_roles);
    }
    return std::nullopt;
  }

  Decision operator()(const v1::OpenCustomerRequest& r) const {
    if (state != nullptr) {
      return Refuse(Errc::kAlreadyExists, "CUSTOMER_EXISTS",
                    "customer " + customer_id + " exists", "customer_id", customer_id);
    }
    v1::EventEnvelope e;
    auto* o = e.mutable_customer_opened();
    o->set_kind(r.kind());
    o->set_name(r.name());
    *o->mutable_contacts() = r.contacts();
    o->set_commercial(r.commercial());
    o->set_currency(r.currency());
    o->set_time_zone(r.time_zone());
    o->set_cash_application_rule(EffectiveRule(r.cash_application_rule()));
    o->set_auto_release_hold_when_current(r.auto_release_hold_when_current());
    return Events{e};
  }

  Decision operator()(const v1::LinkCustomerAccountRequest& r) const {
    if (Linked(*state, r.linked_account_id())) {
      return Refuse(Errc::kAlreadyExists, "ACCOUNT_LINKED",
                    "account " + r.linked_account_id() + " is linked to customer " + customer_id,
                    "linked_account_id", r.linked_account_id());
    }
    v1::EventEnvelope e;
    auto* l = e.mutable_customer_account_linked();
    l->set_linked_account_id(r.linked_account_id());
    l->set_reason(r.reason());
    l->set_moved_from_customer_id(r.moved_from_customer_id());
    return Events{e};
  }

  Decision operator()(const v1::UnlinkCustomerAccountRequest& r) const {
    if (!Linked(*state, r.linked_account_id())) {
      return Refuse(Errc::kNotFound, "ACCOUNT_NOT_LINKED",
                    "account " + r.linked_account_id() + " is not linked to customer " +
                        customer_id,
                    "linked_account_id", r.linked_account_id());
    }
    for (const auto& i : state->invoices()) {
      if (i.invoice().account_id() == r.linked_account_id() && i.open_minor() > 0) {
        return Refuse(Errc::kFailedPrecondition, "ACCOUNT_HAS_OPEN_INVOICES",
                      "account " + r.linked_account_id() + " has open invoice " +
                          i.invoice().invoice_id() +
                          " on this customer's ledger; settle or credit it before the account "
                          "moves",
                      "linked_account_id", r.linked_account_id());
      }
    }
    v1::EventEnvelope e;
    auto* u = e.mutable_customer_account_unlinked();
    u->set_linked_account_id(r.linked_account_id());
    u->set_reason(r.reason());
    u->set_moved_to_customer_id(r.moved_to_customer_id());
    return Events{e};
  }

  Decision operator()(const v1::RecordInvoiceRequest& r) const {
    const v1::Invoice& i = r.invoice();
    std::vector<FieldViolation> violations;
    if (FindInvoice(*state, i.invoice_id()) != nullptr) {
      return Refuse(Errc::kAlreadyExists, "INVOICE_EXISTS",
                    "invoice " + i.invoice_id() + " exists on customer " + customer_id,
                    "invoice.invoice_id", i.invoice_id());
    }
    if (!Linked(*state, i.account_id())) {
      violations.push_back({"invoice.account_id", "account " + Quoted(i.account_id()) +
                                                      " is not linked to the customer; link it "
                                                      "first (LinkCustomerAccount)"});
    }
    if (auto e = Currency(i.amount(), "invoice.amount.currency")) {
      violations.push_back({e->field, e->message});
    }
    if (!violations.empty()) return Invalid(std::move(violations));
    if (!WithinLimit(state->open_total_minor(), i.amount().amount_minor())) {
      return Overflow(customer_id, "the open invoices");
    }
    v1::EventEnvelope e;
    *e.mutable_invoice_recorded()->mutable_invoice() = i;
    return Events{e};
  }

  Decision operator()(const v1::ReceiveCustomerPaymentRequest& r) const {
    for (const auto& p : state->payments()) {
      if (p.payment_id() == r.payment_id()) {
        return Refuse(Errc::kAlreadyExists, "PAYMENT_EXISTS",
                      "payment " + r.payment_id() + " exists on customer " + customer_id,
                      "payment_id", r.payment_id());
      }
    }
    if (auto e = Currency(r.amount(), "amount.currency")) return *e;
    v1::EventEnvelope received_event;
    auto* p = received_event.mutable_customer_payment_received();
    p->set_payment_id(r.payment_id());
    *p->mutable_amount() = r.amount();
    p->set_method(r.method());
    p->set_payer_reference(r.payer_reference());
    *p->mutable_received_date() = r.received_date();
    *p->mutable_directions() = r.directions();

    // The same remittance twice (payer reference, amount, date): recognised and refunded,
    // never applied a second time.
    if (!r.payer_reference().empty()) {
      for (const auto& earlier : state->payments()) {
        if (earlier.duplicate_of_payment_id().empty() &&
            earlier.payer_reference() == r.payer_reference() &&
            earlier.amount().amount_minor() == r.amount().amount_minor() &&
            ToCivil(earlier.received_date()) == ToCivil(r.received_date())) {
          const std::string refund_id =
              r.refund_id().empty() ? "refund:" + r.payment_id() : r.refund_id();
          if (Contains(state->refund_ids(), refund_id)) {
            return Refuse(Errc::kAlreadyExists, "REFUND_EXISTS",
                          "refund " + refund_id + " exists on customer " + customer_id,
                          "refund_id", refund_id);
          }
          p->set_duplicate_of_payment_id(earlier.payment_id());
          v1::EventEnvelope refund;
          auto* d = refund.mutable_duplicate_payment_refunded();
          d->set_refund_id(refund_id);
          d->set_payment_id(r.payment_id());
          d->set_duplicate_of_payment_id(earlier.payment_id());
          *d->mutable_amount() = r.amount();
          d->set_method(r.method());
          return Events{received_event, refund};
        }
      }
    }

    CashApplier applier(*state, r.amount().amount_minor());
    std::vector<FieldViolation> violations;
    if (auto e = applier.Direct(r.directions(), violations)) return *e;
    if (!violations.empty()) return Invalid(std::move(violations));
    if (!r.has_apply_remainder_by_rule() || r.apply_remainder_by_rule()) {
      applier.ByRule(state->cash_application_rule());
    }
    if (!WithinLimit(state->unapplied_cash_minor(), applier.left())) {
      return Overflow(customer_id, "the unapplied cash");
    }
    Events out{received_event};
    AppendApplications(applier, r.payment_id(), out);
    if (applier.left() > 0) {
      v1::EventEnvelope u;
      auto* c = u.mutable_unapplied_cash_recorded();
      c->set_payment_id(r.payment_id());
      c->set_amount_minor(applier.left());
      c->set_unapplied_total_minor(state->unapplied_cash_minor() + applier.left());
      out.push_back(std::move(u));
    }
    return out;
  }

  Decision operator()(const v1::ApplyUnappliedCashRequest& r) const {
    if (Contains(state->application_ids(), r.application_id())) {
      return Refuse(Errc::kAlreadyExists, "APPLICATION_EXISTS",
                    "application " + r.application_id() + " exists on customer " + customer_id,
                    "application_id", r.application_id());
    }
    const int64_t amount = r.amount_minor() == 0 ? state->unapplied_cash_minor() : r.amount_minor();
    if (amount == 0 || amount > state->unapplied_cash_minor()) {
      return Error::InvalidArgument(
          "amount_minor", absl::StrCat("the customer has ", state->unapplied_cash_minor(),
                                       " unapplied cash; ", amount, " cannot be applied"));
    }
    CashApplier applier(*state, amount);
    std::vector<FieldViolation> violations;
    if (auto e = applier.Direct(r.directions(), violations)) return *e;
    if (!violations.empty()) return Invalid(std::move(violations));
    applier.ByRule(state->cash_application_rule());
    const int64_t applied = amount - applier.left();
    if (applied == 0) {
      return Refuse(Errc::kFailedPrecondition, "NOTHING_TO_APPLY",
                    "customer " + customer_id + " has no open, undisputed invoice to apply to",
                    "", customer_id);
    }
    v1::EventEnvelope e;
    auto* u = e.mutable_unapplied_cash_applied();
    u->set_application_id(r.application_id());
    u->set_amount_minor(applied);
    u->set_unapplied_total_minor(state->unapplied_cash_minor() - applied);
    Events out{e};
    AppendApplications(applier, r.application_id(), out);
    return out;
  }

  Decision operator()(const v1::ResolveShortPaymentRequest& r) const {
    const state::v1::CustomerDiscrepancyState* d = nullptr;
    for (const auto& x : state->discrepancies()) {
      if (x.discrepancy_id() == r.discrepancy_id()) d = &x;
    }
    if (d == nullptr) {
      return Refuse(Errc::kNotFound, "DISCREPANCY_NOT_FOUND",
                    "no short-payment discrepancy " + r.discrepancy_id() + " on customer " +
                        customer_id,
                    "discrepancy_id", r.discrepancy_id());
    }
    if (d->resolved()) {
      return Refuse(Errc::kFailedPrecondition, "DISCREPANCY_RESOLVED",
                    "discrepancy " + r.discrepancy_id() + " is already resolved",
                    "discrepancy_id", r.discrepancy_id());
    }
    Events out;
    v1::EventEnvelope resolved;
    auto* x = resolved.mutable_short_payment_discrepancy_resolved();
    x->set_discrepancy_id(r.discrepancy_id());
    x->set_resolution(r.resolution());
    x->set_note(r.note());
    if (r.resolution() == v1::DISCREPANCY_RESOLUTION_ACCEPTED) {
      if (Contains(state->adjustment_ids(), r.adjustment_id())) {
        return Refuse(Errc::kAlreadyExists, "ADJUSTMENT_EXISTS",
                      "adjustment " + r.adjustment_id() + " exists on customer " + customer_id,
                      "adjustment_id", r.adjustment_id());
      }
      const InvoiceState* invoice = FindInvoice(*state, d->invoice_id());
      const int64_t amount = std::min(d->amount_minor(), invoice ? invoice->open_minor() : 0);
      if (amount > 0) {
        if (auto e = CreditMemoApproval(r.actor(), amount, r.adjustment_id())) return *e;
        v1::EventEnvelope memo;
        auto* m = memo.mutable_invoice_adjusted();
        m->set_adjustment_id(r.adjustment_id());
        m->set_invoice_id(d->invoice_id());
        m->set_account_id(invoice->invoice().account_id());
        m->set_kind(v1::INVOICE_ADJUSTMENT_KIND_CREDIT_MEMO);
        m->set_amount_minor(amount);
        m->set_reason("short payment accepted: " +
                      std::string(v1::ShortPaymentReason_Name(d->reason())));
        m->set_approved_by(r.actor().id());
        m->set_discrepancy_id(r.discrepancy_id());
        m->set_invoice_open_after_minor(invoice->open_minor() - amount);
        out.push_back(std::move(memo));
        x->set_adjustment_id(r.adjustment_id());
      }
    }
    out.push_back(std::move(resolved));
    return out;
  }

  Decision operator()(const v1::AdjustInvoiceRequest& r) const {
    if (Contains(state->adjustment_ids(), r.adjustment_id())) {
      return Refuse(Errc::kAlreadyExists, "ADJUSTMENT_EXISTS",
                    "adjustment " + r.adjustment_id() + " exists on customer " + customer_id,
                    "adjustment_id", r.adjustment_id());
    }
    const InvoiceState* invoice = FindInvoice(*state, r.invoice_id());
    if (invoice == nullptr) {
      return Refuse(Errc::kNotFound, "INVOICE_NOT_FOUND",
                    "no invoice " + r.invoice_id() + " on customer " + customer_id, "invoice_id",
                    r.invoice_id());
    }
    const bool credit = r.kind() == v1::INVOICE_ADJUSTMENT_KIND_CREDIT_MEMO;
    if (credit && r.amount_minor() > invoice->open_minor()) {
      return Error::InvalidArgument(
          "amount_minor", absl::StrCat("a credit memo of ", r.amount_minor(), " is above the ",
                                       invoice->open_minor(), " open on invoice ", r.invoice_id()));
    }
    if (!credit && !(WithinLimit(invoice->open_minor(), r.amount_minor()) &&
                     WithinLimit(state->open_total_minor(), r.amount_minor()))) {
      return Overflow(customer_id, "the open invoices");
    }
    if (credit) {
      if (auto e = CreditMemoApproval(r.actor(), r.amount_minor(), r.adjustment_id())) return *e;
    }
    v1::EventEnvelope e;
    auto* a = e.mutable_invoice_adjusted();
    a->set_adjustment_id(r.adjustment_id());
    a->set_invoice_id(r.invoice_id());
    a->set_account_id(invoice->invoice().account_id());
    a->set_kind(r.kind());
    a->set_amount_minor(r.amount_minor());
    a->set_reason(r.reason());
    // Who approved is the authenticated caller, never what the request claims.
    a->set_approved_by(r.actor().id());
    a->set_invoice_open_after_minor(invoice->open_minor() +
                                    (credit ? -r.amount_minor() : r.amount_minor()));
    return Events{e};
  }

  Decision operator()(const v1::DisputeInvoiceRequest& r) const {
    const InvoiceState* invoice = FindInvoice(*state, r.invoice_id());
    if (invoice == nullptr) {
      return Refuse(Errc::kNotFound, "INVOICE_NOT_FOUND",
                    "no invoice " + r.invoice_id() + " on customer " + customer_id, "invoice_id",
                    r.invoice_id());
    }
    if (!invoice->open_dispute_id().empty()) {
      return Refuse(Errc::kAlreadyExists, "INVOICE_DISPUTED",
                    "invoice " + r.invoice_id() + " is already disputed (dispute " +
                        invoice->open_dispute_id() + ")",
                    "invoice_id", r.invoice_id());
    }
    v1::EventEnvelope e;
    auto* d = e.mutable_invoice_disputed();
    d->set_invoice_id(r.invoice_id());
    d->set_dispute_id(r.dispute_id());
    d->set_reason(r.reason());
    return Events{e};
  }

  Decision operator()(const v1::ResolveInvoiceDisputeRequest& r) const {
    const InvoiceState* invoice = FindInvoice(*state, r.invoice_id());
    if (invoice == nullptr || invoice->open_dispute_id() != r.dispute_id()) {
      return Refuse(Errc::kNotFound, "DISPUTE_NOT_FOUND",
                    "no open dispute " + r.dispute_id() + " on invoice " + r.invoice_id(),
                    "dispute_id", r.dispute_id());
    }
    v1::EventEnvelope e;
    auto* d = e.mutable_invoice_dispute_resolved();
    d->set_invoice_id(r.invoice_id());
    d->set_dispute_id(r.dispute_id());
    d->set_resolution(r.resolution());
    return Events{e};
  }

  Decision operator()(const v1::SetCreditLimitRequest& r) const {
    if (auto e = Currency(r.limit(), "limit.currency")) return *e;
    v1::EventEnvelope e;
    auto* l = e.mutable_credit_limit_set();
    *l->mutable_limit() = r.limit();
    l->set_previous_minor(state->credit_limit_minor());
    l->set_reason(r.reason());
    return Events{e};
  }

  Decision operator()(const v1::RecommendCreditHoldRequest& r) const {
    if (!HasRoleIn(r.actor(), settings.credit_hold_recommender_roles)) {
      return Denied(r.actor(), "ROLE_NOT_ALLOWED", "PRIVILEGE_CREDIT_HOLD_RECOMMEND",
                    "only a collector or supervisor recommends a credit hold", r.hold_id(),
                    settings.credit_hold_recommender_roles);
    }
    if (FindHold(*state, r.hold_id()) != nullptr) {
      return Refuse(Errc::kAlreadyExists, "HOLD_EXISTS",
                    "hold " + r.hold_id() + " exists on customer " + customer_id, "hold_id",
                    r.hold_id());
    }
    if (const auto* active = ActiveHold(*state)) {
      return Refuse(Errc::kFailedPrecondition, "HOLD_ACTIVE",
                    "customer " + customer_id + " already has hold " + active->hold_id() +
                        (active->approved() ? " in effect" : " waiting for approval"),
                    "hold_id", active->hold_id());
    }
    v1::EventEnvelope e;
    auto* h = e.mutable_credit_hold_recommended();
    h->set_hold_id(r.hold_id());
    h->set_reason(r.reason());
    h->set_recommended_by(Person(r.actor()));
    h->set_exposure_minor(CustomerExposure(*state));
    h->set_days_past_due(CustomerDaysPastDue(*state, Today(r)));
    return Events{e};
  }

  Decision operator()(const v1::ApproveCreditHoldRequest& r) const {
    if (!HasRoleIn(r.actor(), settings.credit_hold_approver_roles)) {
      return Denied(r.actor(), "ROLE_NOT_ALLOWED", "PRIVILEGE_CREDIT_HOLD_APPROVAL",
                    "only a supervisor approves a credit hold", r.hold_id(),
                    settings.credit_hold_approver_roles);
    }
    const auto* hold = FindHold(*state, r.hold_id());
    if (hold == nullptr) {
      return Refuse(Errc::kNotFound, "HOLD_NOT_FOUND",
                    "no hold " + r.hold_id() + " on customer " + customer_id, "hold_id",
                    r.hold_id());
    }
    if (hold->released() || hold->approved()) {
      return Refuse(Errc::kFailedPrecondition, hold->released() ? "HOLD_RELEASED" : "HOLD_APPROVED",
                    "hold " + r.hold_id() + " is already " +
                        (hold->released() ? "released" : "approved"),
                    "hold_id", r.hold_id());
    }
    if (IsPerson(r.actor(), hold->recommended_by())) {
      return Denied(r.actor(), "SELF_APPROVAL", "PRIVILEGE_CREDIT_HOLD_APPROVAL",
                    "a supervisor cannot approve a hold they recommended: hold " + r.hold_id() +
                        " was recommended by " + hold->recommended_by() + " (four eyes)",
                    r.hold_id(), settings.credit_hold_approver_roles);
    }
    v1::EventEnvelope e;
    auto* a = e.mutable_credit_hold_approved();
    a->set_hold_id(r.hold_id());
    a->set_approved_by(Person(r.actor()));
    a->set_recommended_by(hold->recommended_by());
    a->set_reason(hold->reason());
    a->set_exposure_minor(CustomerExposure(*state));
    a->set_days_past_due(CustomerDaysPastDue(*state, Today(r)));
    return Events{e};
  }

  Decision operator()(const v1::ReleaseCreditHoldRequest& r) const {
    if (!HasRoleIn(r.actor(), settings.credit_hold_approver_roles)) {
      return Denied(r.actor(), "ROLE_NOT_ALLOWED", "PRIVILEGE_CREDIT_HOLD_APPROVAL",
                    "only a supervisor releases a credit hold", r.hold_id(),
                    settings.credit_hold_approver_roles);
    }
    const auto* hold = FindHold(*state, r.hold_id());
    if (hold == nullptr) {
      return Refuse(Errc::kNotFound, "HOLD_NOT_FOUND",
                    "no hold " + r.hold_id() + " on customer " + customer_id, "hold_id",
                    r.hold_id());
    }
    if (hold->released()) {
      return Refuse(Errc::kFailedPrecondition, "HOLD_RELEASED",
                    "hold " + r.hold_id() + " is already released", "hold_id", r.hold_id());
    }
    v1::EventEnvelope e;
    auto* x = e.mutable_credit_hold_released();
    x->set_hold_id(r.hold_id());
    x->set_reason(r.reason());
    return Events{e};
  }
};

// Commands after which an approved hold may have become releasable.
bool MayMakeCurrent(const CustomerCommand& c) {
  return std::holds_alternative<v1::ReceiveCustomerPaymentRequest>(c) ||
         std::holds_alternative<v1::ApplyUnappliedCashRequest>(c) ||
         std::holds_alternative<v1::AdjustInvoiceRequest>(c) ||
         std::holds_alternative<v1::ResolveShortPaymentRequest>(c) ||
         std::holds_alternative<v1::DisputeInvoiceRequest>(c);
}

}  // namespace

Result<std::vector<v1::EventEnvelope>> DecideCustomer(const CustomerState* state,
                                                      const CustomerCommand& command,
                                                      absl::Time received,
                                                      const DomainSettings& settings) {
  if (auto e = ValidateCustomerRequest(command)) return *e;
  const std::string& customer_id = CustomerIdOf(command);
  if (state == nullptr && !std::holds_alternative<v1::OpenCustomerRequest>(command)) {
    return Refuse(Errc::kNotFound, "CUSTOMER_NOT_FOUND",
                  "customer " + customer_id + " does not exist; open it with OpenCustomer first",
                  "", customer_id);
  }
  auto decided = std::visit(CustomerDecider{state, received, settings, customer_id}, command);
  if (!decided) return decided;
  Events& events = decided.value();

  // Automatic release: a hold in effect ends in the same command that made the customer current,
  // when the customer's policy says so.
  if (state != nullptr && state->auto_release_hold_when_current() && MayMakeCurrent(command)) {
    const auto* hold = ActiveHold(*state);
    if (hold != nullptr && hold->approved()) {
      // The lists that the events change are small next to the command; simulate on a copy.
      CustomerState after = *state;
      for (const auto& e : events) EvolveCustomer(after, e);
      absl::TimeZone tz;
      if (!LoadIanaTimeZone(state->time_zone(), &tz)) tz = absl::UTCTimeZone();
      const absl::Time at = std::visit(
          [&](const auto& r) { return r.has_occurred_at() ? ToTime(r.occurred_at()) : received; },
          command);
      if (CustomerDaysPastDue(after, ToLocalDate(LocalDay(at, tz))) == 0) {
        v1::EventEnvelope e;
        auto* x = e.mutable_credit_hold_released();
        x->set_hold_id(hold->hold_id());
        x->set_reason("nothing past due: released automatically by the customer's policy");
        x->set_automatic(true);
        events.push_back(std::move(e));
      }
    }
  }
  const std::string key = CustomerStreamKey(customer_id);
  for (auto& e : events) {
    e.set_account_id(key);
    e.set_customer_id(customer_id);
  }
  return decided;
}

v1::EventEnvelope CustomerAccessDeniedEvent(const Error& error, const CustomerCommand& command) {
  v1::EventEnvelope e = AccessDeniedFor(error, CustomerCommandName(command), command);
  e.set_account_id(CustomerStreamKey(CustomerIdOf(command)));
  e.set_customer_id(CustomerIdOf(command));
  return e;
}

}  // namespace collections
