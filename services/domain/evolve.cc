// Evolve: how each event changes the account. Events are facts; nothing here refuses.
#include "services/domain/case_aggregate.h"
#include "services/domain/internal.h"

#include <algorithm>
#include <type_traits>

namespace collections {

using namespace internal;  // NOLINT(google-build-using-namespace): this file's helpers

namespace {

template <typename A>
void ApplyPayment(A& a, const v1::EventEnvelope& e) {
  const auto& p = e.payment_posted();
  AddBalances(*a.mutable_balances(), p.applied(), -1);
  a.set_credit_balance_minor(SaturatingAdd(a.credit_balance_minor(), p.to_credit_minor()));
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
  const int64_t amount = p.amount().amount_minor();
  for (auto& promise : *a.mutable_promises()) {
    if (promise.status() == v1::PROMISE_STATUS_PENDING) {
      promise.set_paid_toward_minor(SaturatingAdd(promise.paid_toward_minor(), amount));
    }
  }
  if (PlanActive(a)) {
    int64_t left = amount;
    for (auto& inst : *a.mutable_plan()->mutable_instalments()) {
      int64_t owed = inst.amount_minor() - inst.paid_minor();
      if (owed <= 0 || left <= 0) continue;
      int64_t take = std::min(owed, left);
      inst.set_paid_minor(inst.paid_minor() + take);
      left -= take;
    }
  }
  if (a.settlement().status() == v1::SETTLEMENT_STATUS_ACTIVE) {
    a.mutable_settlement()->set_paid_minor(SaturatingAdd(a.settlement().paid_minor(), amount));
  }
}

template <typename A>
void ApplyReversal(A& a, const v1::PaymentReversed& r) {
  AddBalances(*a.mutable_balances(), r.reopened(), +1);
  a.set_credit_balance_minor(SaturatingSub(a.credit_balance_minor(), r.credit_removed_minor()));
  int64_t amount = 0;
  if (v1::PaymentRecord* rec = FindPayment(a, r.payment_id())) {
    rec->set_reversed(true);
    rec->set_reversal_reason(r.reason());
    amount = rec->amount().amount_minor();
  }
  if (a.last_payment().payment_id() == r.payment_id()) {
    a.mutable_last_payment()->set_reversed(true);
    a.mutable_last_payment()->set_reversal_reason(r.reason());
  }
  // The money never arrived: take it back from what pending promises, the plan and the
  // settlement counted (latest instalments first).
  for (auto& promise : *a.mutable_promises()) {
    if (promise.status() == v1::PROMISE_STATUS_PENDING) {
      promise.set_paid_toward_minor(std::max<int64_t>(0, promise.paid_toward_minor() - amount));
    }
  }
  if (PlanActive(a)) {
    int64_t left = amount;
    auto* instalments = a.mutable_plan()->mutable_instalments();
    for (int i = instalments->size() - 1; i >= 0 && left > 0; --i) {
      auto* inst = instalments->Mutable(i);
      int64_t take = std::min(inst->paid_minor(), left);
      inst->set_paid_minor(inst->paid_minor() - take);
      left -= take;
    }
  }
  if (a.settlement().status() == v1::SETTLEMENT_STATUS_ACTIVE) {
    a.mutable_settlement()->set_paid_minor(
        std::max<int64_t>(0, a.settlement().paid_minor() - amount));
  }
}

template <typename A>
void ApplyFlag(A& a, const v1::EventEnvelope& e) {
  const auto& f = e.flag_changed();
  v1::AccountFlags* flags = a.mutable_flags();
  switch (f.change_case()) {
    case v1::FlagChanged::kBankruptcy:
      flags->set_bankruptcy(f.bankruptcy().status());
      flags->set_bankruptcy_case_number(f.bankruptcy().case_number());
      break;
    case v1::FlagChanged::kDeceased:
      flags->set_deceased(f.deceased());
      break;
    case v1::FlagChanged::kCeaseCommunication:
      flags->set_cease_communication(f.cease_communication().in_effect());
      if (f.cease_communication().in_effect())
        *flags->mutable_cease_received_at() = e.occurred_at();
      else
        flags->clear_cease_received_at();
      break;
    case v1::FlagChanged::kAttorney:
      flags->set_attorney_represented(f.attorney().represented());
      *flags->mutable_attorney() = f.attorney().attorney();
      break;
    case v1::FlagChanged::kServicemember:
      flags->set_servicemember(f.servicemember());
      break;
    case v1::FlagChanged::kConsent: {
      v1::ConsentRecord consent = f.consent();
      *consent.mutable_given_at() = e.occurred_at();
      bool replaced = false;
      for (auto& c : *flags->mutable_consents()) {
        if (c.consent_id() == consent.consent_id()) {
          // A revocation keeps when the consent was given: the calls it covered stay covered.
          if (consent.revoked() && !c.revoked()) {
            *consent.mutable_given_at() = c.given_at();
            *consent.mutable_revoked_at() = e.occurred_at();
          }
          c = consent;
          replaced = true;
        }
      }
      if (!replaced && consent.revoked()) *consent.mutable_revoked_at() = e.occurred_at();
      if (!replaced) *flags->add_consents() = consent;
      break;
    }
    case v1::FlagChanged::kOptOut: {
      v1::ChannelOptOut opt = f.opt_out();
      *opt.mutable_received_at() = e.occurred_at();
      bool replaced = false;
      for (auto& o : *flags->mutable_opt_outs()) {
        if (o.channel() == opt.channel() && o.address() == opt.address()) {
          o = opt;
          replaced = true;
        }
      }
      if (!replaced) *flags->add_opt_outs() = opt;
      break;
    }
    case v1::FlagChanged::kEmployerProhibitsContact:
      flags->set_employer_prohibits_contact(f.employer_prohibits_contact());
      break;
    case v1::FlagChanged::kInconvenientWindow:
      *flags->add_inconvenient_windows() = f.inconvenient_window();
      break;
    case v1::FlagChanged::CHANGE_NOT_SET:
      break;
  }
}

template <typename A>
void RemoveReservation(A& a, const std::string& reservation_id) {
  auto* live = a.mutable_reservations();
  for (int i = 0; i < live->size(); ++i) {
    if (live->Get(i).reservation_id() == reservation_id) {
      live->DeleteSubrange(i, 1);
      return;
    }
  }
}

template <typename A>
void ApplyContactPoint(A& a, const v1::ContactPointChanged& c) {
  v1::ContactPoints* cp = a.mutable_contact_points();
  const bool verify = c.action() == v1::CONTACT_POINT_ACTION_VERIFY;
  const bool invalidate = c.action() == v1::CONTACT_POINT_ACTION_INVALIDATE;
  switch (c.point_case()) {
    case v1::ContactPointChanged::kPhone: {
      v1::Phone* found = nullptr;
      for (auto& p : *cp->mutable_phones())
        if (p.number() == c.phone().number()) found = &p;
      if (found == nullptr) {
        found = cp->add_phones();
        *found = c.phone();
      }
      if (verify) {
        found->set_verified(true);
        found->set_invalid(false);
      }
      if (invalidate) {
        found->set_invalid(true);
        found->set_verified(false);
      }
      break;
    }
    case v1::ContactPointChanged::kEmail: {
      if (std::find(cp->emails().begin(), cp->emails().end(), c.email()) == cp->emails().end()) {
        cp->add_emails(c.email());
      }
      auto remove = [&](google::protobuf::RepeatedPtrField<std::string>* list) {
        for (int i = list->size() - 1; i >= 0; --i)
          if (list->Get(i) == c.email()) list->DeleteSubrange(i, 1);
      };
      if (verify) {
        remove(cp->mutable_invalid_emails());
        cp->add_verified_emails(c.email());
      }
      if (invalidate) {
        remove(cp->mutable_verified_emails());
        cp->add_invalid_emails(c.email());
      }
      break;
    }
    case v1::ContactPointChanged::kAddress: {
      if (c.action() == v1::CONTACT_POINT_ACTION_ADD) *cp->mutable_address() = c.address();
      if (verify) {
        cp->mutable_address()->set_verified(true);
        cp->mutable_address()->set_invalid(false);
      }
      if (invalidate) {
        cp->mutable_address()->set_invalid(true);
        cp->mutable_address()->set_verified(false);
      }
      break;
    }
    case v1::ContactPointChanged::POINT_NOT_SET:
      break;
  }
}

template <typename A>
void ApplyAdjustment(A& a, const v1::AdjustmentPosted& adj) {
  AddBalances(*a.mutable_balances(), adj.increase(), +1);
  AddBalances(*a.mutable_balances(), adj.decrease(), -1);
  switch (adj.kind()) {
    case v1::ADJUSTMENT_KIND_SMALL_BALANCE_WRITE_OFF:
    case v1::ADJUSTMENT_KIND_CHARGE_OFF:
    case v1::ADJUSTMENT_KIND_SETTLEMENT_DISCOUNT:
      a.set_written_off_minor(SaturatingAdd(a.written_off_minor(), Total(adj.decrease())));
      break;
    default:
      break;
  }
  if (adj.kind() == v1::ADJUSTMENT_KIND_CHARGE_OFF) a.set_charged_off(true);
}

}  // namespace

int64_t Total(const v1::Balances& b) {
  // Saturating: Decide keeps every accepted account far below the limit (limits.h), and a sum
  // of facts must never wrap to a negative balance whatever the history holds.
  return SaturatingAdd(SaturatingAdd(b.principal_minor(), b.interest_minor()),
                       SaturatingAdd(b.fees_minor(), b.costs_minor()));
}

namespace {

template <typename A>
v1::AccountStatus DeriveStatusOf(const A& a) {
  if (a.closed()) return v1::ACCOUNT_STATUS_CLOSED;
  if (!a.owner().empty()) return v1::ACCOUNT_STATUS_SOLD;
  if (a.settlement().status() == v1::SETTLEMENT_STATUS_COMPLETED) return v1::ACCOUNT_STATUS_SETTLED;
  if (Total(a.balances()) == 0) return v1::ACCOUNT_STATUS_PAID_IN_FULL;
  if (a.charged_off()) return v1::ACCOUNT_STATUS_CHARGED_OFF;
  if (a.legal_referral()) return v1::ACCOUNT_STATUS_LEGAL;
  if (!a.placed_with_agency().empty()) return v1::ACCOUNT_STATUS_PLACED_WITH_AGENCY;
  for (const auto& d : a.disputes()) {
    if (DisputeOpen(d)) return v1::ACCOUNT_STATUS_DISPUTED;
  }
  if (PlanActive(a)) return v1::ACCOUNT_STATUS_IN_PAYMENT_PLAN;
  return v1::ACCOUNT_STATUS_OPEN;
}

template <typename A>
int32_t DaysPastDueOf(const A& a, absl::Time now) {
  if (Total(a.balances()) <= 0 || !IsSet(a.due_date())) return 0;
  int64_t days = LocalDay(now, Zone(a)) - ToCivil(a.due_date());
  return static_cast<int32_t>(std::clamp<int64_t>(days, 0, 100000));
}

}  // namespace

v1::AccountStatus DeriveStatus(const v1::Account& a) { return DeriveStatusOf(a); }
v1::AccountStatus DeriveStatus(const AccountState& a) { return DeriveStatusOf(a); }
int32_t DaysPastDue(const v1::Account& a, absl::Time now) { return DaysPastDueOf(a, now); }
int32_t DaysPastDue(const AccountState& a, absl::Time now) { return DaysPastDueOf(a, now); }

v1::AgingBucket BucketFor(int32_t dpd) {
  if (dpd <= 0) return v1::AGING_BUCKET_CURRENT;
  if (dpd < 30) return v1::AGING_BUCKET_1_29;
  if (dpd < 60) return v1::AGING_BUCKET_30_59;
  if (dpd < 90) return v1::AGING_BUCKET_60_89;
  if (dpd < 120) return v1::AGING_BUCKET_90_119;
  if (dpd < 150) return v1::AGING_BUCKET_120_149;
  if (dpd < 180) return v1::AGING_BUCKET_150_179;
  return v1::AGING_BUCKET_180_PLUS;
}

namespace {

// The person behind an event: the one a service acted for, else the principal itself.
const std::string& Requester(const v1::EventEnvelope& e) {
  return e.actor().on_behalf_of().empty() ? e.actor().id() : e.actor().on_behalf_of();
}

template <typename A>
void RemovePendingApproval(A& a, const std::string& privilege,
                           const std::string& subject) {
  auto* pending = a.mutable_pending_approvals();
  for (int i = pending->size() - 1; i >= 0; --i) {
    if (pending->Get(i).privilege() == privilege && pending->Get(i).subject() == subject) {
      pending->DeleteSubrange(i, 1);
    }
  }
}

// Records (or replaces) the request for `privilege` on `subject` as waiting for approval.
template <typename A>
void AddPendingApproval(A& a, const std::string& privilege, const std::string& subject,
                        const v1::EventEnvelope& e) {
  RemovePendingApproval(a, privilege, subject);
  v1::PendingApproval* p = a.add_pending_approvals();
  p->set_privilege(privilege);
  p->set_subject(subject);
  p->set_requested_by(Requester(e));
  p->set_event_id(e.event_id());
  p->set_sequence(e.sequence());
}

}  // namespace

namespace {

// What the writer's state keeps of a contact or a letter it may later prune: the first
// communication (both meanings the rules use) and whether a conversation by call or visit
// took place. The read model has the contacts themselves.
void Earliest(google::protobuf::Timestamp* field, bool has, const google::protobuf::Timestamp& t) {
  if (!has || ToTime(t) < ToTime(*field)) *field = t;
}

void NoteContact(AccountState& a, const v1::ContactRecord& c) {
  const bool conversation = c.outcome() == v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION;
  if (conversation) {
    Earliest(a.mutable_first_conversation_or_letter_at(), a.has_first_conversation_or_letter_at(),
             c.at());
    if (c.channel() == v1::CONTACT_CHANNEL_CALL || c.channel() == v1::CONTACT_CHANNEL_VISIT)
      a.set_conversation_held(true);
  }
  if (conversation || (c.direction() == v1::CONTACT_DIRECTION_OUTBOUND &&
                       c.outcome() == v1::CONTACT_OUTCOME_DELIVERED)) {
    Earliest(a.mutable_first_communication_at(), a.has_first_communication_at(), c.at());
  }
}

void NoteCorrespondence(AccountState& a, const v1::CorrespondenceRecord& c) {
  Earliest(a.mutable_first_conversation_or_letter_at(), a.has_first_conversation_or_letter_at(),
           c.sent_at());
  Earliest(a.mutable_first_communication_at(), a.has_first_communication_at(), c.sent_at());
}

// A delivered or returned outbound letter, e-mail or text: F16 reads them until a first
// bureau report or a conversation makes the rule moot.
bool BureauMessage(const v1::ContactRecord& c) {
  const bool message = c.channel() == v1::CONTACT_CHANNEL_LETTER ||
                       c.channel() == v1::CONTACT_CHANNEL_EMAIL ||
                       c.channel() == v1::CONTACT_CHANNEL_TEXT;
  return message && c.direction() == v1::CONTACT_DIRECTION_OUTBOUND &&
         (c.outcome() == v1::CONTACT_OUTCOME_DELIVERED ||
          c.outcome() == v1::CONTACT_OUTCOME_UNDELIVERABLE);
}

// Removes from `list` the entries `drop` selects, remembering each one's id hash in `pruned`;
// the order of the rest is kept.
template <typename List, typename Drop, typename Id>
void PruneList(List* list, google::protobuf::RepeatedField<uint64_t>* pruned, Drop drop, Id id) {
  int kept = 0;
  for (int i = 0; i < list->size(); ++i) {
    if (drop(list->Get(i))) {
      pruned->Add(PrunedIdHash(id(list->Get(i))));
      continue;
    }
    if (kept != i) list->SwapElements(kept, i);
    ++kept;
  }
  if (kept < list->size()) list->DeleteSubrange(kept, list->size() - kept);
}

// Drops the payments posted longer than the payment horizon before the latest recorded time.
void PrunePayments(AccountState& a, const v1::EventEnvelope& e, absl::Duration horizon) {
  if (horizon == absl::InfiniteDuration() || !e.has_recorded_at()) return;
  const absl::Time cutoff = ToTime(e.recorded_at()) - horizon;
  PruneList(
      a.mutable_payments(), a.mutable_pruned_payment_ids(),
      [&](const v1::PaymentRecord& p) { return ToTime(p.posted_at()) < cutoff; },
      [](const v1::PaymentRecord& p) -> const std::string& { return p.payment_id(); });
}

// Drops the contacts, and the promises resolved, longer than the horizon before the latest
// recorded time (see Evolve).
void Prune(AccountState& a, const v1::EventEnvelope& e, const StateHorizon& horizon) {
  PrunePayments(a, e, horizon.payments);
  if (horizon.contacts == absl::InfiniteDuration() || !e.has_recorded_at()) return;
  absl::Time cutoff = ToTime(e.recorded_at()) - horizon.contacts;
  if (a.has_pruned_before() && cutoff <= ToTime(a.pruned_before())) {
    cutoff = ToTime(a.pruned_before());
  } else {
    *a.mutable_pruned_before() = ToProto(cutoff);
  }
  const bool keep_messages = a.bureau_reports().empty() && !a.conversation_held();
  PruneList(
      a.mutable_contacts(), a.mutable_pruned_contact_ids(),
      [&](const v1::ContactRecord& c) {
        return ToTime(c.at()) < cutoff && !(keep_messages && BureauMessage(c));
      },
      [](const v1::ContactRecord& c) -> const std::string& { return c.contact_id(); });
  PruneList(
      a.mutable_promises(), a.mutable_pruned_promise_ids(),
      [&](const v1::Promise& p) {
        return p.status() != v1::PROMISE_STATUS_PENDING && p.has_resolved_at() &&
               ToTime(p.resolved_at()) < cutoff;
      },
      [](const v1::Promise& p) -> const std::string& { return p.promise_id(); });
}

template <typename A>
void EvolveAny(A& a, const v1::EventEnvelope& e, const StateHorizon& horizon) {
  constexpr bool kState = std::is_same_v<A, AccountState>;
  switch (e.payload_case()) {
    case v1::EventEnvelope::kAccessDenied: {
      // A settlement or write-off refused for want of an approval waits for a supervisor;
      // other denials change nothing but the audit trail.
      const auto& d = e.access_denied();
      if (d.reason() == "SUPERVISOR_APPROVAL_REQUIRED" && !d.subject().empty()) {
        AddPendingApproval(a, d.privilege(), d.subject(), e);
      }
      break;
    }
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
      a.set_debt_type(o.debt_type());
      a.set_original_creditor(o.original_creditor());
      *a.mutable_date_of_first_delinquency() = o.date_of_first_delinquency();
      a.set_jurisdiction(o.jurisdiction());
      a.set_third_party_collector(o.third_party_collector());
      *a.mutable_statute_of_limitations_date() = o.statute_of_limitations_date();
      a.set_assignee(o.assignee());
      a.set_queue(o.queue());
      a.set_days_past_due(o.days_past_due());
      a.set_aging_bucket(o.aging_bucket());
      a.set_status(v1::ACCOUNT_STATUS_OPEN);
      break;
    }
    case v1::EventEnvelope::kPaymentPosted:
      ApplyPayment(a, e);
      break;
    case v1::EventEnvelope::kPaymentReversed:
      ApplyReversal(a, e.payment_reversed());
      break;
    case v1::EventEnvelope::kCaseAssigned:
      a.set_assignee(e.case_assigned().assignee());
      a.set_queue(e.case_assigned().queue());
      break;
    case v1::EventEnvelope::kCaseEscalated:
      a.set_escalated_to(e.case_escalated().supervisor());
      break;
    case v1::EventEnvelope::kFlagChanged:
      ApplyFlag(a, e);
      break;
    case v1::EventEnvelope::kCaseClosed:
      a.set_closed(true);
      break;
    case v1::EventEnvelope::kStatusChanged:
      a.set_status(e.status_changed().to());
      break;
    case v1::EventEnvelope::kContactAttempted: {
      v1::ContactRecord rec = e.contact_attempted().contact();
      *rec.mutable_at() = e.occurred_at();
      rec.set_sequence(e.sequence());
      rec.set_event_id(e.event_id());
      if (!rec.reservation_id().empty()) RemoveReservation(a, rec.reservation_id());
      if constexpr (kState) NoteContact(a, rec);
      *a.add_contacts() = rec;
      *a.mutable_last_contact() = rec;
      if (e.contact_attempted().has_callback_at())
        *a.mutable_callback_at() = e.contact_attempted().callback_at();
      else if (rec.outcome() == v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION)
        a.clear_callback_at();
      break;
    }
    case v1::EventEnvelope::kCorrespondenceSent: {
      v1::CorrespondenceRecord rec = e.correspondence_sent().correspondence();
      *rec.mutable_sent_at() = e.occurred_at();
      if constexpr (kState) NoteCorrespondence(a, rec);
      *a.add_correspondence() = rec;
      if (rec.kind() == v1::CORRESPONDENCE_KIND_VALIDATION_NOTICE) {
        *a.mutable_validation_period_end() = rec.validation_period_end();
        a.set_validation_period_ended(false);
      }
      break;
    }
    case v1::EventEnvelope::kContactPointChanged:
      ApplyContactPoint(a, e.contact_point_changed());
      break;
    case v1::EventEnvelope::kLocationStatusChanged:
      a.mutable_flags()->set_location_unknown(e.location_status_changed().location_unknown());
      break;
    case v1::EventEnvelope::kPromiseMade: {
      v1::Promise p = e.promise_made().promise();
      *p.mutable_made_at() = e.occurred_at();
      *a.add_promises() = p;
      break;
    }
    case v1::EventEnvelope::kPromiseKept:
    case v1::EventEnvelope::kPromiseBroken:
    case v1::EventEnvelope::kPromiseCancelled: {
      const std::string& id = e.has_promise_kept()     ? e.promise_kept().promise_id()
                              : e.has_promise_broken() ? e.promise_broken().promise_id()
                                                       : e.promise_cancelled().promise_id();
      if (v1::Promise* p = FindPromise(a, id)) {
        p->set_status(e.has_promise_kept()     ? v1::PROMISE_STATUS_KEPT
                      : e.has_promise_broken() ? v1::PROMISE_STATUS_BROKEN
                                               : v1::PROMISE_STATUS_CANCELLED);
        *p->mutable_resolved_at() = e.occurred_at();
      }
      break;
    }
    case v1::EventEnvelope::kPlanProposed:
      if (a.has_plan()) *a.add_past_plans() = a.plan();
      *a.mutable_plan() = e.plan_proposed().plan();
      *a.mutable_plan()->mutable_proposed_at() = e.occurred_at();
      break;
    case v1::EventEnvelope::kPlanAccepted:
      a.mutable_plan()->set_status(v1::PLAN_STATUS_ACCEPTED);
      break;
    case v1::EventEnvelope::kPlanActivated:
      a.mutable_plan()->set_status(v1::PLAN_STATUS_ACTIVE);
      break;
    case v1::EventEnvelope::kInstalmentMissed: {
      for (auto& inst : *a.mutable_plan()->mutable_instalments()) {
        if (inst.number() == e.instalment_missed().number()) inst.set_missed(true);
      }
      a.mutable_plan()->set_missed_count(a.plan().missed_count() + 1);
      break;
    }
    case v1::EventEnvelope::kPlanCompleted:
      a.mutable_plan()->set_status(v1::PLAN_STATUS_COMPLETED);
      break;
    case v1::EventEnvelope::kPlanDefaulted:
      a.mutable_plan()->set_status(v1::PLAN_STATUS_DEFAULTED);
      break;
    case v1::EventEnvelope::kPlanCancelled:
      a.mutable_plan()->set_status(v1::PLAN_STATUS_CANCELLED);
      break;
    case v1::EventEnvelope::kSettlementAgreed:
      *a.mutable_settlement() = e.settlement_agreed().settlement();
      RemovePendingApproval(a, "PRIVILEGE_SETTLEMENT_APPROVAL",
                            e.settlement_agreed().settlement().settlement_id());
      break;
    case v1::EventEnvelope::kSettlementCompleted: {
      AddBalances(*a.mutable_balances(), e.settlement_completed().written_off(), -1);
      a.set_written_off_minor(
          SaturatingAdd(a.written_off_minor(), Total(e.settlement_completed().written_off())));
      a.mutable_settlement()->set_status(v1::SETTLEMENT_STATUS_COMPLETED);
      break;
    }
    case v1::EventEnvelope::kCreditRefunded:
      a.set_credit_balance_minor(
          SaturatingSub(a.credit_balance_minor(), e.credit_refunded().amount().amount_minor()));
      break;
    case v1::EventEnvelope::kAdjustmentPosted:
      ApplyAdjustment(a, e.adjustment_posted());
      RemovePendingApproval(a, "PRIVILEGE_WRITE_OFF_APPROVAL", e.adjustment_posted().adjustment_id());
      break;
    case v1::EventEnvelope::kDisputeOpened: {
      v1::Dispute d = e.dispute_opened().dispute();
      *d.mutable_received_at() = e.occurred_at();
      *a.add_disputes() = d;
      break;
    }
    case v1::EventEnvelope::kDisputeVerificationSent:
      if (v1::Dispute* d = FindDispute(a, e.dispute_verification_sent().dispute_id())) {
        d->set_status(v1::DISPUTE_STATUS_VERIFICATION_SENT);
        *d->mutable_verification_sent_at() = e.occurred_at();
      }
      break;
    case v1::EventEnvelope::kDisputeResolved:
      if (v1::Dispute* d = FindDispute(a, e.dispute_resolved().dispute_id())) {
        d->set_status(e.dispute_resolved().upheld() ? v1::DISPUTE_STATUS_UPHELD
                                                    : v1::DISPUTE_STATUS_REJECTED);
        *d->mutable_resolved_at() = e.occurred_at();
      }
      break;
    case v1::EventEnvelope::kDisputeWithdrawn:
      if (v1::Dispute* d = FindDispute(a, e.dispute_withdrawn().dispute_id())) {
        d->set_status(v1::DISPUTE_STATUS_WITHDRAWN);
        *d->mutable_resolved_at() = e.occurred_at();
      }
      break;
    case v1::EventEnvelope::kPlacedWithAgency:
      a.set_placed_with_agency(e.placed_with_agency().agency());
      break;
    case v1::EventEnvelope::kRecalledFromAgency:
      a.clear_placed_with_agency();
      break;
    case v1::EventEnvelope::kReferredToLegal:
      a.set_legal_referral(true);
      break;
    case v1::EventEnvelope::kReportedToBureau: {
      v1::BureauReportRecord r = e.reported_to_bureau().report();
      *r.mutable_reported_at() = e.occurred_at();
      *a.add_bureau_reports() = r;
      break;
    }
    case v1::EventEnvelope::kDebtTransferred:
      a.set_owner(e.debt_transferred().new_owner());
      break;
    case v1::EventEnvelope::kAgingBucketChanged:
      a.set_aging_bucket(e.aging_bucket_changed().to());
      a.set_days_past_due(e.aging_bucket_changed().days_past_due());
      break;
    case v1::EventEnvelope::kValidationPeriodEnded:
      a.set_validation_period_ended(true);
      break;
    case v1::EventEnvelope::kValidationNoticeOverdue:
      a.set_validation_notice_overdue(true);
      break;
    case v1::EventEnvelope::kContactBlocked:
      // A blocked contact lowers the account in work queues until it may be contacted again.
      if (e.decision().has_allowed_from() &&
          ToTime(e.decision().allowed_from()) > ToTime(a.contact_blocked_until())) {
        *a.mutable_contact_blocked_until() = e.decision().allowed_from();
      }
      // Who issued the blocked command: they may not override it themselves (four eyes).
      AddPendingApproval(a, "PRIVILEGE_OVERRIDE_GRANT",
                         e.decision().rule_id() + ":" + e.contact_blocked().command(), e);
      break;
    case v1::EventEnvelope::kContactReserved: {
      const auto& r = e.contact_reserved();
      v1::ContactReservation* live = a.add_reservations();
      live->set_reservation_id(r.reservation_id());
      live->set_channel(r.channel());
      live->set_address(r.address());
      live->set_phone_type(r.phone_type());
      *live->mutable_reserved_at() = e.occurred_at();
      *live->mutable_expires_at() = r.expires_at();
      live->set_event_id(e.event_id());
      live->set_reserved_by(e.actor().id());
      break;
    }
    case v1::EventEnvelope::kContactReservationExpired:
      RemoveReservation(a, e.contact_reservation_expired().reservation_id());
      break;
    case v1::EventEnvelope::kComplianceViolationRecorded:
      // The contact it concerns is recorded (and marked) by the event before it.
      break;
    case v1::EventEnvelope::kComplianceOverrideGranted: {
      const auto& g = e.compliance_override_granted();
      RemovePendingApproval(a, "PRIVILEGE_OVERRIDE_GRANT", g.rule_id() + ":" + g.command());
      v1::ComplianceOverride* o = a.add_overrides();
      o->set_override_id(g.override_id());
      o->set_rule_id(g.rule_id());
      o->set_command(g.command());
      o->set_reason(g.reason());
      o->set_granted_by(e.actor().id());
      *o->mutable_granted_at() = e.occurred_at();
      if (g.has_expires_at()) *o->mutable_expires_at() = g.expires_at();
      break;
    }
    case v1::EventEnvelope::kAccountCustomerLinked:
      a.set_customer_id(e.account_customer_linked().customer_id());
      a.set_commercial(e.account_customer_linked().commercial());
      a.set_consumer_time_zone(e.account_customer_linked().consumer_time_zone());
      break;
    case v1::EventEnvelope::kAccountCustomerUnlinked:
      // Only the customer it still belongs to: a move links the new customer first.
      if (a.customer_id() == e.account_customer_unlinked().customer_id()) {
        a.clear_customer_id();
        a.set_commercial(false);
        a.clear_consumer_time_zone();
      }
      break;
    // A customer's own events (services/customer) are on the customer's stream, never on an
    // account's: an account has nothing to apply from them.
    case v1::EventEnvelope::kCustomerOpened:
    case v1::EventEnvelope::kCustomerAccountLinked:
    case v1::EventEnvelope::kCustomerAccountUnlinked:
    case v1::EventEnvelope::kInvoiceRecorded:
    case v1::EventEnvelope::kCustomerPaymentReceived:
    case v1::EventEnvelope::kPaymentApplied:
    case v1::EventEnvelope::kUnappliedCashRecorded:
    case v1::EventEnvelope::kUnappliedCashApplied:
    case v1::EventEnvelope::kShortPaymentDiscrepancyOpened:
    case v1::EventEnvelope::kShortPaymentDiscrepancyResolved:
    case v1::EventEnvelope::kDuplicatePaymentRefunded:
    case v1::EventEnvelope::kInvoiceAdjusted:
    case v1::EventEnvelope::kInvoiceDisputed:
    case v1::EventEnvelope::kInvoiceDisputeResolved:
    case v1::EventEnvelope::kCreditLimitSet:
    case v1::EventEnvelope::kCreditHoldRecommended:
    case v1::EventEnvelope::kCreditHoldApproved:
    case v1::EventEnvelope::kCreditHoldReleased:
    case v1::EventEnvelope::PAYLOAD_NOT_SET:
      break;
  }
  if (!e.decision().override_id().empty()) {
    for (auto& o : *a.mutable_overrides()) {
      if (o.override_id() == e.decision().override_id()) o.set_consumed(true);
    }
  }
  a.set_total_balance_minor(Total(a.balances()));
  a.set_version(e.sequence());
  *a.mutable_updated_at() = e.recorded_at();
  a.set_last_hash(e.hash());
  if constexpr (kState) Prune(a, e, horizon);
}

}  // namespace

void Evolve(v1::Account& state, const v1::EventEnvelope& event) {
  EvolveAny(state, event, StateHorizon{});
}

void Evolve(AccountState& state, const v1::EventEnvelope& event, const StateHorizon& horizon) {
  EvolveAny(state, event, horizon);
}

namespace internal {

AccountState CopyWithout(const AccountState& state, std::initializer_list<std::string_view> skip) {
  AccountState copy;
  const auto* reflection = state.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(state, &fields);
  for (const auto* f : fields) {
    if (std::find(skip.begin(), skip.end(), f->name()) != skip.end()) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(state, f); ++i) {
        switch (f->cpp_type()) {
          case google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE:
            reflection->AddMessage(&copy, f)->CopyFrom(reflection->GetRepeatedMessage(state, f, i));
            break;
          case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
            reflection->AddString(&copy, f, reflection->GetRepeatedString(state, f, i));
            break;
          case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
            reflection->AddUInt64(&copy, f, reflection->GetRepeatedUInt64(state, f, i));
            break;
          default:
            break;  // see below
        }
      }
      continue;
    }
    switch (f->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE:
        reflection->MutableMessage(&copy, f)->CopyFrom(reflection->GetMessage(state, f));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
        reflection->SetString(&copy, f, reflection->GetString(state, f));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_BOOL:
        reflection->SetBool(&copy, f, reflection->GetBool(state, f));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT32:
        reflection->SetInt32(&copy, f, reflection->GetInt32(state, f));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
        reflection->SetInt64(&copy, f, reflection->GetInt64(state, f));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_ENUM:
        reflection->SetEnumValue(&copy, f, reflection->GetEnumValue(state, f));
        break;
      default:
        // AccountState has no field of another type; a new one must be added here (the
        // domain's tests compare a full copy with this one).
        break;
    }
  }
  return copy;
}

}  // namespace internal

uint64_t PrunedIdHash(const std::string& id) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char ch : id) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string EventType(const v1::EventEnvelope& event) {
  if (event.payload_case() == v1::EventEnvelope::PAYLOAD_NOT_SET) return "collections.v1.Unknown";
  const auto* field = v1::EventEnvelope::descriptor()->FindFieldByNumber(event.payload_case());
  return "collections.v1." + field->message_type()->name();
}

}  // namespace collections
