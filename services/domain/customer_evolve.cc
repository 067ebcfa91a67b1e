// EvolveCustomer: the customer's state from its stream's events. Events are facts: nothing here
// refuses, and every sum saturates (DecideCustomer keeps accepted sums below the limits).
#include "services/domain/customer_aggregate.h"
#include "services/domain/internal.h"

#include "absl/time/civil_time.h"

namespace collections {

using namespace internal;  // NOLINT(google-build-using-namespace)

namespace {

state::v1::CustomerInvoiceState* FindInvoice(CustomerState& s, const std::string& id) {
  for (auto& i : *s.mutable_invoices()) {
    if (i.invoice().invoice_id() == id) return &i;
  }
  return nullptr;
}

state::v1::CustomerPaymentState* FindPaymentState(CustomerState& s, const std::string& id) {
  for (auto& p : *s.mutable_payments()) {
    if (p.payment_id() == id) return &p;
  }
  return nullptr;
}

state::v1::CustomerDiscrepancyState* FindDiscrepancy(CustomerState& s, const std::string& id) {
  for (auto& d : *s.mutable_discrepancies()) {
    if (d.discrepancy_id() == id) return &d;
  }
  return nullptr;
}

state::v1::CustomerHoldState* FindHold(CustomerState& s, const std::string& id) {
  for (auto& h : *s.mutable_holds()) {
    if (h.hold_id() == id) return &h;
  }
  return nullptr;
}

std::string Requester(const v1::EventEnvelope& e) {
  return e.actor().on_behalf_of().empty() ? e.actor().id() : e.actor().on_behalf_of();
}

void RemovePendingApproval(CustomerState& s, const std::string& privilege,
                           const std::string& subject) {
  auto* pending = s.mutable_pending_approvals();
  for (int i = pending->size() - 1; i >= 0; --i) {
    if (pending->Get(i).privilege() == privilege && pending->Get(i).subject() == subject) {
      pending->DeleteSubrange(i, 1);
    }
  }
}

// Moves `delta` onto an invoice's open amount and the customer's open total.
void MoveOpen(CustomerState& s, state::v1::CustomerInvoiceState& invoice, int64_t delta) {
  invoice.set_open_minor(std::max<int64_t>(0, SaturatingAdd(invoice.open_minor(), delta)));
  s.set_open_total_minor(std::max<int64_t>(0, SaturatingAdd(s.open_total_minor(), delta)));
}

}  // namespace

void EvolveCustomer(CustomerState& s, const v1::EventEnvelope& e) {
  switch (e.payload_case()) {
    case v1::EventEnvelope::kCustomerOpened: {
      const auto& o = e.customer_opened();
      s.set_customer_id(e.customer_id());
      s.set_kind(o.kind());
      s.set_name(o.name());
      *s.mutable_contacts() = o.contacts();
      s.set_commercial(o.commercial());
      s.set_currency(o.currency());
      s.set_time_zone(o.time_zone());
      s.set_cash_application_rule(o.cash_application_rule());
      s.set_auto_release_hold_when_current(o.auto_release_hold_when_current());
      *s.mutable_opened_at() = e.occurred_at();
      break;
    }
    case v1::EventEnvelope::kCustomerAccountLinked:
      s.add_account_ids(e.customer_account_linked().linked_account_id());
      break;
    case v1::EventEnvelope::kCustomerAccountUnlinked: {
      auto* ids = s.mutable_account_ids();
      for (int i = ids->size() - 1; i >= 0; --i) {
        if (ids->Get(i) == e.customer_account_unlinked().linked_account_id()) {
          ids->DeleteSubrange(i, 1);
        }
      }
      break;
    }
    case v1::EventEnvelope::kInvoiceRecorded: {
      auto* i = s.add_invoices();
      *i->mutable_invoice() = e.invoice_recorded().invoice();
      i->set_open_minor(0);
      MoveOpen(s, *i, e.invoice_recorded().invoice().amount().amount_minor());
      break;
    }
    case v1::EventEnvelope::kCustomerPaymentReceived: {
      const auto& p = e.customer_payment_received();
      auto* ps = s.add_payments();
      ps->set_payment_id(p.payment_id());
      *ps->mutable_amount() = p.amount();
      ps->set_payer_reference(p.payer_reference());
      *ps->mutable_received_date() = p.received_date();
      ps->set_duplicate_of_payment_id(p.duplicate_of_payment_id());
      break;
    }
    case v1::EventEnvelope::kPaymentApplied: {
      const auto& a = e.payment_applied();
      if (auto* i = FindInvoice(s, a.invoice_id())) {
        MoveOpen(s, *i, -a.amount_minor());
        i->set_paid_minor(SaturatingAdd(i->paid_minor(), a.amount_minor()));
      }
      if (auto* p = FindPaymentState(s, a.payment_id())) {
        p->set_applied_minor(SaturatingAdd(p->applied_minor(), a.amount_minor()));
      }
      break;
    }
    case v1::EventEnvelope::kUnappliedCashRecorded: {
      const auto& u = e.unapplied_cash_recorded();
      s.set_unapplied_cash_minor(SaturatingAdd(s.unapplied_cash_minor(), u.amount_minor()));
      if (auto* p = FindPaymentState(s, u.payment_id())) {
        p->set_unapplied_minor(SaturatingAdd(p->unapplied_minor(), u.amount_minor()));
      }
      break;
    }
    case v1::EventEnvelope::kUnappliedCashApplied: {
      const auto& u = e.unapplied_cash_applied();
      s.set_unapplied_cash_minor(
          std::max<int64_t>(0, SaturatingSub(s.unapplied_cash_minor(), u.amount_minor())));
      s.add_application_ids(u.application_id());
      break;
    }
    case v1::EventEnvelope::kShortPaymentDiscrepancyOpened: {
      const auto& d = e.short_payment_discrepancy_opened();
      auto* ds = s.add_discrepancies();
      ds->set_discrepancy_id(d.discrepancy_id());
      ds->set_payment_id(d.payment_id());
      ds->set_invoice_id(d.invoice_id());
      ds->set_amount_minor(d.amount_minor());
      ds->set_reason(d.reason());
      if (auto* i = FindInvoice(s, d.invoice_id())) {
        i->set_in_discrepancy_minor(SaturatingAdd(i->in_discrepancy_minor(), d.amount_minor()));
      }
      break;
    }
    case v1::EventEnvelope::kShortPaymentDiscrepancyResolved: {
      const auto& r = e.short_payment_discrepancy_resolved();
      if (auto* d = FindDiscrepancy(s, r.discrepancy_id())) {
        d->set_resolved(true);
        d->set_resolution(r.resolution());
        if (auto* i = FindInvoice(s, d->invoice_id())) {
          i->set_in_discrepancy_minor(
              std::max<int64_t>(0, SaturatingSub(i->in_discrepancy_minor(), d->amount_minor())));
        }
      }
      break;
    }
    case v1::EventEnvelope::kDuplicatePaymentRefunded: {
      const auto& r = e.duplicate_payment_refunded();
      s.add_refund_ids(r.refund_id());
      if (auto* p = FindPaymentState(s, r.payment_id())) p->set_refunded(true);
      break;
    }
    case v1::EventEnvelope::kInvoiceAdjusted: {
      const auto& a = e.invoice_adjusted();
      s.add_adjustment_ids(a.adjustment_id());
      RemovePendingApproval(s, "PRIVILEGE_WRITE_OFF_APPROVAL", a.adjustment_id());
      if (auto* i = FindInvoice(s, a.invoice_id())) {
        if (a.kind() == v1::INVOICE_ADJUSTMENT_KIND_DEBIT_MEMO) {
          MoveOpen(s, *i, a.amount_minor());
          i->set_debited_minor(SaturatingAdd(i->debited_minor(), a.amount_minor()));
        } else {
          MoveOpen(s, *i, -a.amount_minor());
          i->set_credited_minor(SaturatingAdd(i->credited_minor(), a.amount_minor()));
        }
      }
      break;
    }
    case v1::EventEnvelope::kInvoiceDisputed:
      if (auto* i = FindInvoice(s, e.invoice_disputed().invoice_id())) {
        i->set_open_dispute_id(e.invoice_disputed().dispute_id());
      }
      break;
    case v1::EventEnvelope::kInvoiceDisputeResolved:
      if (auto* i = FindInvoice(s, e.invoice_dispute_resolved().invoice_id())) {
        i->clear_open_dispute_id();
      }
      break;
    case v1::EventEnvelope::kCreditLimitSet:
      s.set_credit_limit_minor(e.credit_limit_set().limit().amount_minor());
      break;
    case v1::EventEnvelope::kCreditHoldRecommended: {
      const auto& r = e.credit_hold_recommended();
      auto* h = s.add_holds();
      h->set_hold_id(r.hold_id());
      h->set_reason(r.reason());
      h->set_recommended_by(r.recommended_by());
      break;
    }
    case v1::EventEnvelope::kCreditHoldApproved:
      if (auto* h = FindHold(s, e.credit_hold_approved().hold_id())) {
        h->set_approved(true);
        h->set_approved_by(e.credit_hold_approved().approved_by());
      }
      break;
    case v1::EventEnvelope::kCreditHoldReleased:
      if (auto* h = FindHold(s, e.credit_hold_released().hold_id())) h->set_released(true);
      break;
    case v1::EventEnvelope::kAccessDenied: {
      // A credit memo refused for want of an approval waits for an approver.
      const auto& d = e.access_denied();
      if (d.reason() == "SUPERVISOR_APPROVAL_REQUIRED" && !d.subject().empty()) {
        RemovePendingApproval(s, d.privilege(), d.subject());
        v1::PendingApproval* p = s.add_pending_approvals();
        p->set_privilege(d.privilege());
        p->set_subject(d.subject());
        p->set_requested_by(Requester(e));
        p->set_event_id(e.event_id());
        p->set_sequence(e.sequence());
      }
      break;
    }
    default:
      // An account's events never reach a customer's stream; nothing to apply.
      break;
  }
  s.set_version(e.sequence());
  *s.mutable_updated_at() = e.recorded_at();
  s.set_last_hash(e.hash());
}

int32_t CustomerDaysPastDue(const CustomerState& s, const v1::LocalDate& today) {
  const absl::CivilDay day = ToCivil(today);
  int32_t worst = 0;
  for (const auto& i : s.invoices()) {
    // Disputed invoices and amounts under a short-payment discrepancy are not delinquent.
    if (!i.open_dispute_id().empty() || i.open_minor() - i.in_discrepancy_minor() <= 0) continue;
    const int64_t days = day - ToCivil(i.invoice().due_date());
    if (days > worst) worst = static_cast<int32_t>(std::min<int64_t>(days, INT32_MAX));
  }
  return worst;
}

int64_t CustomerExposure(const CustomerState& s) {
  return std::max<int64_t>(0, SaturatingSub(s.open_total_minor(), s.unapplied_cash_minor()));
}

}  // namespace collections
