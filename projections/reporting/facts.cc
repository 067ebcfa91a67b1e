#include "projections/reporting/facts.h"

#include "services/domain/case_aggregate.h"
#include "services/domain/internal.h"

namespace collections::reporting {

absl::CivilDay ToDay(const v1::LocalDate& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

v1::LocalDate ToDate(absl::CivilDay day) { return internal::ToLocalDate(day); }

bool IsWriteOff(v1::AdjustmentKind kind) {
  return kind == v1::ADJUSTMENT_KIND_SMALL_BALANCE_WRITE_OFF ||
         kind == v1::ADJUSTMENT_KIND_CHARGE_OFF || kind == v1::ADJUSTMENT_KIND_SETTLEMENT_DISCOUNT;
}

std::optional<v1::ReportFact> ApplyEvent(v1::Account& brief, const v1::EventEnvelope& e) {
  // The brief moves first, so a placement or an assignment stamps its own values.
  if (e.has_case_opened()) {
    const auto& o = e.case_opened();
    brief.set_account_id(e.account_id());
    brief.set_creditor(o.creditor());
    brief.set_currency(o.currency());
    brief.set_time_zone(o.time_zone());
    brief.set_assignee(o.assignee());
    brief.set_queue(o.queue());
    *brief.mutable_due_date() = o.due_date();
  } else if (e.has_case_assigned()) {
    // As the domain's Evolve does: both fields take the event's values.
    brief.set_assignee(e.case_assigned().assignee());
    brief.set_queue(e.case_assigned().queue());
  }

  v1::ReportFact f;
  switch (e.payload_case()) {
    case v1::EventEnvelope::kCaseOpened:
      f.set_kind(v1::REPORT_FACT_KIND_PLACEMENT);
      f.set_amount_minor(Total(e.case_opened().balances()));
      f.set_balance_change_minor(f.amount_minor());
      *f.mutable_due_date() = e.case_opened().due_date();
      break;
    case v1::EventEnvelope::kCaseAssigned:
      f.set_kind(v1::REPORT_FACT_KIND_ASSIGNMENT);
      break;
    case v1::EventEnvelope::kPaymentPosted:
      f.set_kind(v1::REPORT_FACT_KIND_PAYMENT);
      f.set_amount_minor(e.payment_posted().amount().amount_minor());
      // Only what was applied leaves the receivable; an overpayment becomes credit.
      f.set_balance_change_minor(-Total(e.payment_posted().applied()));
      break;
    case v1::EventEnvelope::kPaymentReversed:
      f.set_kind(v1::REPORT_FACT_KIND_REVERSAL);
      // What the payment paid: the reopened balance plus the credit it had made.
      f.set_amount_minor(Total(e.payment_reversed().reopened()) +
                         e.payment_reversed().credit_removed_minor());
      f.set_balance_change_minor(Total(e.payment_reversed().reopened()));
      break;
    case v1::EventEnvelope::kCreditRefunded:
      f.set_kind(v1::REPORT_FACT_KIND_REFUND);
      f.set_amount_minor(e.credit_refunded().amount().amount_minor());
      break;
    case v1::EventEnvelope::kAdjustmentPosted: {
      const auto& adj = e.adjustment_posted();
      const int64_t change = Total(adj.increase()) - Total(adj.decrease());
      f.set_adjustment_kind(adj.kind());
      f.set_balance_change_minor(change);
      if (IsWriteOff(adj.kind())) {
        f.set_kind(v1::REPORT_FACT_KIND_WRITE_OFF);
        f.set_amount_minor(-change);
      } else {
        f.set_kind(v1::REPORT_FACT_KIND_ADJUSTMENT);
        f.set_amount_minor(change);
      }
      break;
    }
    case v1::EventEnvelope::kSettlementCompleted:
      // The remainder a settlement forgives is a write-off in every report.
      f.set_kind(v1::REPORT_FACT_KIND_WRITE_OFF);
      f.set_adjustment_kind(v1::ADJUSTMENT_KIND_SETTLEMENT_DISCOUNT);
      f.set_amount_minor(Total(e.settlement_completed().written_off()));
      f.set_balance_change_minor(-f.amount_minor());
      break;
    case v1::EventEnvelope::kPromiseMade:
      f.set_kind(v1::REPORT_FACT_KIND_PROMISE_MADE);
      f.set_amount_minor(e.promise_made().promise().amount_minor());
      break;
    case v1::EventEnvelope::kPromiseKept:
      f.set_kind(v1::REPORT_FACT_KIND_PROMISE_KEPT);
      break;
    case v1::EventEnvelope::kPromiseBroken:
      f.set_kind(v1::REPORT_FACT_KIND_PROMISE_BROKEN);
      break;
    case v1::EventEnvelope::kPromiseCancelled:
      f.set_kind(v1::REPORT_FACT_KIND_PROMISE_CANCELLED);
      break;
    case v1::EventEnvelope::kContactAttempted:
      f.set_kind(v1::REPORT_FACT_KIND_CONTACT_ATTEMPT);
      f.set_channel(e.contact_attempted().contact().channel());
      f.set_right_party_contact(e.contact_attempted().contact().outcome() ==
                                v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION);
      break;
    case v1::EventEnvelope::kDisputeOpened:
      f.set_kind(v1::REPORT_FACT_KIND_DISPUTE_OPENED);
      break;
    case v1::EventEnvelope::kDisputeResolved:
      f.set_kind(v1::REPORT_FACT_KIND_DISPUTE_RESOLVED);
      f.set_upheld(e.dispute_resolved().upheld());
      break;
    case v1::EventEnvelope::kDisputeWithdrawn:
      f.set_kind(v1::REPORT_FACT_KIND_DISPUTE_WITHDRAWN);
      break;
    case v1::EventEnvelope::kContactBlocked:
      f.set_kind(v1::REPORT_FACT_KIND_COMPLIANCE_BLOCK);
      f.set_rule_id(e.decision().rule_id());
      break;
    case v1::EventEnvelope::kCaseClosed:
    case v1::EventEnvelope::kDebtTransferred:
      f.set_kind(v1::REPORT_FACT_KIND_OFF_BOOK);
      break;
    default:
      return std::nullopt;
  }
  const absl::TimeZone tz = internal::Zone(brief);
  f.set_account_id(e.account_id());
  f.set_sequence(e.sequence());
  f.set_event_id(e.event_id());
  f.set_event_type(EventType(e));
  *f.mutable_business_date() = ToDate(internal::LocalDay(internal::ToTime(e.occurred_at()), tz));
  *f.mutable_recorded_date() = ToDate(internal::LocalDay(internal::ToTime(e.recorded_at()), tz));
  *f.mutable_recorded_at() = e.recorded_at();
  f.set_currency(brief.currency());
  f.set_creditor(brief.creditor());
  f.set_assignee(brief.assignee());
  f.set_queue(brief.queue());
  return f;
}

}  // namespace collections::reporting
