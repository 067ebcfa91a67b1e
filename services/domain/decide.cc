// Decide: what each command does to the account, or why it may not.
#include "services/compliance/calendar.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/internal.h"
#include "services/domain/limits.h"
#include "services/domain/roles.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace collections {

using namespace internal;  // NOLINT(google-build-using-namespace)

namespace {

using Events = std::vector<v1::EventEnvelope>;
using Decision = Result<Events>;

Error Refuse(Errc code, std::string reason, std::string message, std::string field = "",
             std::string subject = "") {
  return Error{code, std::move(reason), std::move(message), std::move(field), std::move(subject)};
}

Error AccountNotFound(const std::string& account_id) {
  return Refuse(Errc::kNotFound, "ACCOUNT_NOT_FOUND",
                "account " + account_id + " has no case; open one with OpenCase first", "",
                account_id);
}

const v1::PendingApproval* FindPendingApproval(const AccountState& a, const std::string& privilege,
                                               const std::string& subject) {
  for (const auto& p : a.pending_approvals()) {
    if (p.privilege() == privilege && p.subject() == subject) return &p;
  }
  return nullptr;
}

// Four eyes for an approval: someone else's request must be waiting for it.
std::optional<Error> CheckFourEyes(const AccountState& a, const v1::Actor& approver,
                                   const std::string& privilege, const std::string& subject,
                                   const std::string& what, const std::set<std::string>& roles) {
  const v1::PendingApproval* pending = FindPendingApproval(a, privilege, subject);
  if (pending == nullptr) {
    return Denied(approver, "SELF_APPROVAL", privilege,
                  what + " needs a request by someone else before a supervisor approves it "
                         "(four eyes); nobody has asked for " + subject,
                  subject, roles);
  }
  if (IsPerson(approver, pending->requested_by())) {
    return Denied(approver, "SELF_APPROVAL", privilege,
                  "a supervisor cannot approve their own request: " + what + " " + subject +
                      " was requested by " + pending->requested_by() + " (four eyes)",
                  subject, roles);
  }
  return std::nullopt;
}

// Takes `amount` off `owed` in the settings' allocation order; returns what each component got.
v1::Balances Allocate(const v1::Balances& owed, int64_t amount, const DomainSettings& settings,
                      int64_t& left_over) {
  v1::Balances applied;
  int64_t left = amount;
  for (Component c : settings.allocation_order) {
    auto take = [&left](int64_t component) {
      int64_t t = std::min(left, std::max<int64_t>(component, 0));
      left -= t;
      return t;
    };
    switch (c) {
      case Component::kPrincipal:
        applied.set_principal_minor(take(owed.principal_minor()));
        break;
      case Component::kInterest:
        applied.set_interest_minor(take(owed.interest_minor()));
        break;
      case Component::kFees:
        applied.set_fees_minor(take(owed.fees_minor()));
        break;
      case Component::kCosts:
        applied.set_costs_minor(take(owed.costs_minor()));
        break;
    }
  }
  left_over = left;
  return applied;
}

// Returns the first component of `want` that exceeds `have`, or "".
std::string Exceeding(const v1::Balances& want, const v1::Balances& have) {
  if (want.principal_minor() > have.principal_minor()) return "principal_minor";
  if (want.interest_minor() > have.interest_minor()) return "interest_minor";
  if (want.fees_minor() > have.fees_minor()) return "fees_minor";
  if (want.costs_minor() > have.costs_minor()) return "costs_minor";
  return "";
}

// Refuses a command whose events would take a money total of the account past its limit
// (limits.h), so that no sum over an accepted history, here or in a projection, can overflow.
// Only growth is refused: an account already beyond a limit (history older than the limit)
// still takes commands that bring it down.
Status CheckAmountLimits(const std::string& account_id, const AccountState* before,
                         const AccountState& after) {
  struct Quantity {
    const char* name;
    int64_t before;
    int64_t after;
    int64_t limit;
  };
  const v1::Balances none;
  const v1::Balances& was = before ? before->balances() : none;
  const v1::Balances& is = after.balances();
  const Quantity quantities[] = {
      {"balances.principal_minor", was.principal_minor(), is.principal_minor(), kMaxAmountMinor},
      {"balances.interest_minor", was.interest_minor(), is.interest_minor(), kMaxAmountMinor},
      {"balances.fees_minor", was.fees_minor(), is.fees_minor(), kMaxAmountMinor},
      {"balances.costs_minor", was.costs_minor(), is.costs_minor(), kMaxAmountMinor},
      {"total_balance_minor", before ? Total(was) : 0, Total(is), kMaxAmountMinor},
      {"credit_balance_minor", before ? before->credit_balance_minor() : 0,
       after.credit_balance_minor(), kMaxAmountMinor},
      {"written_off_minor", before ? before->written_off_minor() : 0, after.written_off_minor(),
       kMaxWrittenOffMinor},
  };
  for (const Quantity& q : quantities) {
    if (q.after > q.limit && q.after > q.before) {
      return Error{Errc::kFailedPrecondition,
                   "AMOUNT_OVERFLOW",
                   absl::StrCat("the command would take the account's ", q.name, " to ", q.after,
                                ", above the limit of ", q.limit, " minor units"),
                   q.name,
                   account_id,
                   {{"limit", absl::StrCat(q.limit)}}};
    }
  }
  return std::nullopt;
}

// Whether `id` is among the hashes of pruned ids (PrunedIdHash).
bool Pruned(const google::protobuf::RepeatedField<uint64_t>& hashes, const std::string& id) {
  const uint64_t hashed = PrunedIdHash(id);
  return std::find(hashes.begin(), hashes.end(), hashed) != hashes.end();
}

struct Decider {
  const AccountState* state;
  absl::Time received;
  const DomainSettings& settings;

  absl::Time When(const Command& c) const { return OccurredAt(c, received); }

  // Accounts that are closed or sold take money movements only.
  Status Open(const std::string& command) const {
    if (state->closed()) {
      return Refuse(Errc::kFailedPrecondition, "ACCOUNT_CLOSED",
                    "account " + state->account_id() + " is closed; " + command + " is not allowed",
                    "", state->account_id());
    }
    if (!state->owner().empty()) {
      return Refuse(Errc::kFailedPrecondition, "ACCOUNT_SOLD",
                    "account " + state->account_id() + " was transferred to " + state->owner() +
                        "; " + command + " is not allowed",
                    "", state->account_id());
    }
    return std::nullopt;
  }

  // F3: a request about several debts of one customer is recorded only on accounts linked to
  // that customer (the link is a recorded fact, AccountCustomerLinked, not the caller's word).
  Status SameCustomer(const v1::SeveralDebts& d) const {
    if (d.customer_id().empty() || state->customer_id() == d.customer_id()) return std::nullopt;
    return Refuse(Errc::kFailedPrecondition, "NOT_THE_CUSTOMERS_DEBT",
                  "account " + state->account_id() + " is " +
                      (state->customer_id().empty()
                           ? std::string("not linked to any customer")
                           : "linked to customer " + state->customer_id()) +
                      ", not to customer " + d.customer_id() +
                      " (rule F3: only the customer's own debts can share a contact or a fact)",
                  "several_debts.customer_id", d.customer_id());
  }

  Decision operator()(const state::v1::LinkAccountToCustomerRequest& r) const {
    v1::EventEnvelope e;
    if (r.unlink()) {
      auto* u = e.mutable_account_customer_unlinked();
      u->set_customer_id(r.customer_id());
      u->set_reason(r.reason());
      u->set_moved_to_customer_id(r.moved_to_customer_id());
      return Events{e};
    }
    // An account belongs to one customer: moving it names the customer it leaves.
    if (!state->customer_id().empty() && state->customer_id() != r.customer_id() &&
        state->customer_id() != r.moved_from_customer_id()) {
      return Refuse(Errc::kFailedPrecondition, "ACCOUNT_LINKED_TO_ANOTHER_CUSTOMER",
                    "account " + state->account_id() + " belongs to customer " +
                        state->customer_id() + "; to move it, link it with moved_from_customer_id " +
                        state->customer_id() + " and a reason",
                    "linked_account_id", state->account_id());
    }
    auto* l = e.mutable_account_customer_linked();
    l->set_customer_id(r.customer_id());
    l->set_reason(r.reason());
    l->set_commercial(r.commercial());
    l->set_moved_from_customer_id(r.moved_from_customer_id());
    l->set_consumer_time_zone(r.consumer_time_zone());
    return Events{e};
  }

  Decision operator()(const v1::OpenCaseRequest& r) const {
    if (state != nullptr) {
      return Refuse(Errc::kAlreadyExists, "ACCOUNT_EXISTS",
                    "account " + r.account_id() + " already has a case (version " +
                        std::to_string(state->version()) + ")",
                    "account_id", r.account_id());
    }
    v1::EventEnvelope e;
    auto* o = e.mutable_case_opened();
    o->set_creditor(r.creditor());
    o->set_debtor_name(r.debtor_name());
    *o->mutable_contact_points() = r.contact_points();
    o->set_currency(r.currency());
    *o->mutable_balances() = r.balances();
    *o->mutable_due_date() = r.due_date();
    o->set_time_zone(r.time_zone());
    o->set_debt_type(r.debt_type() == v1::DEBT_TYPE_UNSPECIFIED ? v1::DEBT_TYPE_CONSUMER
                                                                : r.debt_type());
    o->set_original_creditor(r.original_creditor());
    *o->mutable_date_of_first_delinquency() = r.date_of_first_delinquency();
    o->set_jurisdiction(r.jurisdiction());
    o->set_third_party_collector(r.third_party_collector());
    *o->mutable_statute_of_limitations_date() = r.statute_of_limitations_date();
    o->set_assignee(r.assignee());
    o->set_queue(r.queue());
    AccountState probe;
    *probe.mutable_balances() = r.balances();
    *probe.mutable_due_date() = r.due_date();
    probe.set_time_zone(r.time_zone());
    int32_t dpd = DaysPastDue(probe, When(r));
    o->set_days_past_due(dpd);
    o->set_aging_bucket(BucketFor(dpd));
    return Events{e};
  }

  Decision operator()(const v1::PostPaymentRequest& r) const {
    if (r.amount().currency() != state->currency()) {
      return Error::InvalidArgument("amount.currency",
                                    "account " + r.account_id() + " is in " + state->currency() +
                                        "; the payment is in " + r.amount().currency());
    }
    if (FindPayment(*state, r.payment_id()) != nullptr ||
        Pruned(state->pruned_payment_ids(), r.payment_id())) {
      return Refuse(Errc::kAlreadyExists, "PAYMENT_EXISTS",
                    "payment " + r.payment_id() + " is already posted on account " + r.account_id(),
                    "payment_id", r.payment_id());
    }
    const int64_t amount = r.amount().amount_minor();
    Events out;
    v1::EventEnvelope e;
    auto* posted = e.mutable_payment_posted();
    posted->set_payment_id(r.payment_id());
    *posted->mutable_amount() = r.amount();
    posted->set_method(r.method());
    posted->set_reference(r.reference());
    *posted->mutable_effective_date() =
        r.has_effective_date() ? r.effective_date() : ToLocalDate(LocalDay(When(r), Zone(*state)));
    // An active settlement caps what is owed at the settlement amount: pay up to what remains
    // of it; the completion below writes off the rest.
    int64_t to_credit = 0;
    const auto& settlement = state->settlement();
    int64_t applicable = amount;
    if (settlement.status() == v1::SETTLEMENT_STATUS_ACTIVE) {
      applicable = std::min(
          amount, std::max<int64_t>(0, settlement.amount_minor() - settlement.paid_minor()));
    }
    *posted->mutable_applied() = Allocate(state->balances(), applicable, settings, to_credit);
    posted->set_to_credit_minor(to_credit + amount - applicable);
    out.push_back(e);

    if (const v1::Promise* p = PendingPromise(*state);
        p && p->paid_toward_minor() + amount >= p->amount_minor()) {
      v1::EventEnvelope kept;
      kept.mutable_promise_kept()->set_promise_id(p->promise_id());
      kept.mutable_promise_kept()->set_paid_toward_minor(p->paid_toward_minor() + amount);
      out.push_back(kept);
    }
    if (PlanActive(*state)) {
      int64_t owed = 0;
      for (const auto& inst : state->plan().instalments())
        owed += inst.amount_minor() - inst.paid_minor();
      if (amount >= owed) {
        v1::EventEnvelope done;
        done.mutable_plan_completed()->set_plan_id(state->plan().plan_id());
        out.push_back(done);
      }
    }
    const auto& s = state->settlement();
    if (s.status() == v1::SETTLEMENT_STATUS_ACTIVE && s.paid_minor() + amount >= s.amount_minor()) {
      v1::Balances remaining = state->balances();
      AddBalances(remaining, posted->applied(), -1);
      v1::EventEnvelope done;
      done.mutable_settlement_completed()->set_settlement_id(s.settlement_id());
      *done.mutable_settlement_completed()->mutable_written_off() = remaining;
      out.push_back(done);
    }
    return out;
  }

  Decision operator()(const v1::ReversePaymentRequest& r) const {
    const v1::PaymentRecord* payment = FindPayment(*state, r.payment_id());
    const int window_days = settings.payment_reversal_days;
    if ((payment == nullptr && Pruned(state->pruned_payment_ids(), r.payment_id())) ||
        (payment != nullptr && window_days > 0 &&
         received - ToTime(payment->posted_at()) > absl::Hours(24) * window_days)) {
      return Refuse(Errc::kFailedPrecondition, "PAYMENT_REVERSAL_WINDOW_PASSED",
                    absl::StrCat("payment ", r.payment_id(), " was posted more than ", window_days,
                                 " days ago; a payment is reversed within ", window_days,
                                 " days of its posting (correct an older one with an adjustment)"),
                    "payment_id", r.payment_id());
    }
    if (payment == nullptr) {
      return Refuse(Errc::kNotFound, "PAYMENT_NOT_FOUND",
                    "account " + r.account_id() + " has no payment " + r.payment_id(), "payment_id",
                    r.payment_id());
    }
    if (payment->reversed()) {
      return Refuse(
          Errc::kFailedPrecondition, "PAYMENT_ALREADY_REVERSED",
          "payment " + r.payment_id() + " was already reversed; a payment is reversed once",
          "payment_id", r.payment_id());
    }
    v1::EventEnvelope e;
    auto* reversed = e.mutable_payment_reversed();
    reversed->set_payment_id(r.payment_id());
    reversed->set_reason(r.reason());
    reversed->set_note(r.note());
    *reversed->mutable_reopened() = payment->applied();
    // The credit the payment created comes back out of the credit balance; what of it was
    // refunded meanwhile is owed as principal again.
    int64_t credit_removed = std::min(payment->to_credit_minor(), state->credit_balance_minor());
    reversed->set_credit_removed_minor(credit_removed);
    reversed->mutable_reopened()->set_principal_minor(payment->applied().principal_minor() +
                                                      payment->to_credit_minor() - credit_removed);
    return Events{e};
  }

  Decision operator()(const v1::AssignCaseRequest& r) const {
    if (auto e = Open("AssignCase")) return *e;
    v1::EventEnvelope e;
    e.mutable_case_assigned()->set_assignee(r.assignee().empty() ? state->assignee()
                                                                 : r.assignee());
    e.mutable_case_assigned()->set_queue(r.queue().empty() ? state->queue() : r.queue());
    e.mutable_case_assigned()->set_reason(r.reason());
    return Events{e};
  }

  Decision operator()(const v1::EscalateCaseRequest& r) const {
    if (auto e = Open("EscalateCase")) return *e;
    v1::EventEnvelope e;
    e.mutable_case_escalated()->set_supervisor(r.supervisor());
    e.mutable_case_escalated()->set_reason(r.reason());
    return Events{e};
  }

  Decision operator()(const v1::UpdateFlagRequest& r) const {
    if (auto e = Open("UpdateFlag")) return *e;
    if (auto e = SameCustomer(r.several_debts())) return *e;
    v1::EventEnvelope e;
    auto* f = e.mutable_flag_changed();
    f->set_reason(r.reason());
    if (r.has_several_debts()) *f->mutable_several_debts() = r.several_debts();
    switch (r.change_case()) {
      case v1::UpdateFlagRequest::kBankruptcy:
        *f->mutable_bankruptcy() = r.bankruptcy();
        break;
      case v1::UpdateFlagRequest::kDeceased:
        f->set_deceased(r.deceased());
        break;
      case v1::UpdateFlagRequest::kCeaseCommunication:
        *f->mutable_cease_communication() = r.cease_communication();
        break;
      case v1::UpdateFlagRequest::kAttorney:
        *f->mutable_attorney() = r.attorney();
        break;
      case v1::UpdateFlagRequest::kServicemember:
        f->set_servicemember(r.servicemember());
        break;
      case v1::UpdateFlagRequest::kConsent:
        *f->mutable_consent() = r.consent();
        // To whom: the collector's agent who took it, unless the request names another.
        if (f->consent().given_to().empty()) f->mutable_consent()->set_given_to(r.actor().id());
        break;
      case v1::UpdateFlagRequest::kOptOut:
        *f->mutable_opt_out() = r.opt_out();
        break;
      case v1::UpdateFlagRequest::kEmployerProhibitsContact:
        f->set_employer_prohibits_contact(r.employer_prohibits_contact());
        break;
      case v1::UpdateFlagRequest::kInconvenientWindow:
        *f->mutable_inconvenient_window() = r.inconvenient_window();
        break;
      case v1::UpdateFlagRequest::CHANGE_NOT_SET:
        break;
    }
    return Events{e};
  }

  Decision operator()(const v1::CloseCaseRequest& r) const {
    if (auto e = Open("CloseCase")) return *e;
    v1::EventEnvelope e;
    e.mutable_case_closed()->set_reason(r.reason());
    return Events{e};
  }

  Decision operator()(const v1::RecordContactAttemptRequest& r) const {
    if (auto e = Open("RecordContactAttempt")) return *e;
    if (auto e = SameCustomer(r.several_debts())) return *e;
    // Recent contacts by id, older (pruned) ones by the hash of their id.
    bool exists = Pruned(state->pruned_contact_ids(), r.contact_id());
    for (const auto& c : state->contacts()) exists = exists || c.contact_id() == r.contact_id();
    if (exists) {
      return Refuse(Errc::kAlreadyExists, "CONTACT_EXISTS",
                    "contact " + r.contact_id() + " is already recorded", "contact_id",
                    r.contact_id());
    }
    if (!r.reservation_id().empty()) {
      const v1::ContactReservation* reserved = nullptr;
      for (const auto& live : state->reservations()) {
        if (live.reservation_id() == r.reservation_id()) reserved = &live;
      }
      if (reserved == nullptr) {
        return Refuse(Errc::kNotFound, "RESERVATION_NOT_FOUND",
                      "no live reservation " + r.reservation_id() +
                          " (expired or already completed): record the contact without "
                          "reservation_id, with took_place set",
                      "reservation_id", r.reservation_id());
      }
      if (reserved->channel() != r.channel() || reserved->address() != r.address() ||
          r.direction() != v1::CONTACT_DIRECTION_OUTBOUND) {
        return Refuse(Errc::kFailedPrecondition, "RESERVATION_MISMATCH",
                      "reservation " + r.reservation_id() + " is for an outbound " +
                          v1::ContactChannel_Name(reserved->channel()) + " to " +
                          reserved->address() + "; this contact is another",
                      "reservation_id", r.reservation_id());
      }
    }
    v1::EventEnvelope e;
    auto* rec = e.mutable_contact_attempted()->mutable_contact();
    rec->set_contact_id(r.contact_id());
    rec->set_reservation_id(r.reservation_id());
    rec->set_channel(r.channel());
    rec->set_direction(r.direction());
    rec->set_address(r.address());
    rec->set_phone_type(r.phone_type());
    rec->set_outcome(r.outcome());
    rec->set_under_consent(r.under_consent());
    *rec->mutable_content() = r.content();
    if (r.has_several_debts()) *rec->mutable_several_debts() = r.several_debts();
    if (r.has_callback_at())
      *e.mutable_contact_attempted()->mutable_callback_at() = r.callback_at();
    e.mutable_contact_attempted()->set_note(r.note());
    return Events{e};
  }

  Decision operator()(const v1::ReserveContactRequest& r) const {
    if (auto e = Open("ReserveContact")) return *e;
    for (const auto& live : state->reservations()) {
      if (live.reservation_id() == r.reservation_id()) {
        return Refuse(Errc::kAlreadyExists, "RESERVATION_EXISTS",
                      "reservation " + r.reservation_id() + " is live on account " +
                          r.account_id() + "; use a new reservation_id",
                      "reservation_id", r.reservation_id());
      }
    }
    v1::EventEnvelope e;
    auto* reserved = e.mutable_contact_reserved();
    reserved->set_reservation_id(r.reservation_id());
    reserved->set_channel(r.channel());
    reserved->set_address(r.address());
    reserved->set_phone_type(r.phone_type());
    *reserved->mutable_content() = r.content();
    *reserved->mutable_expires_at() =
        ToProto(When(r) + absl::Seconds(settings.reservation_ttl_seconds));
    return Events{e};
  }

  Decision operator()(const v1::RecordCorrespondenceRequest& r) const {
    if (auto e = Open("RecordCorrespondence")) return *e;
    v1::EventEnvelope e;
    auto* rec = e.mutable_correspondence_sent()->mutable_correspondence();
    rec->set_correspondence_id(r.correspondence_id());
    rec->set_kind(r.kind());
    rec->set_channel(r.channel());
    rec->set_address(r.address());
    *rec->mutable_itemization() = r.itemization();
    if (r.kind() == v1::CORRESPONDENCE_KIND_VALIDATION_NOTICE) {
      auto period = compliance::ValidationPeriod(LocalDay(When(r), Zone(*state)));
      *rec->mutable_validation_period_end() = ToLocalDate(period.period_end_day);
    }
    *e.mutable_correspondence_sent()->mutable_content() = r.content();
    return Events{e};
  }

  Decision operator()(const v1::UpdateContactPointRequest& r) const {
    if (auto e = Open("UpdateContactPoint")) return *e;
    v1::EventEnvelope e;
    auto* c = e.mutable_contact_point_changed();
    c->set_action(r.action());
    c->set_source(r.source());
    switch (r.point_case()) {
      case v1::UpdateContactPointRequest::kPhone:
        *c->mutable_phone() = r.phone();
        break;
      case v1::UpdateContactPointRequest::kEmail:
        c->set_email(r.email());
        break;
      case v1::UpdateContactPointRequest::kAddress:
        *c->mutable_address() = r.address();
        break;
      case v1::UpdateContactPointRequest::POINT_NOT_SET:
        break;
    }
    return Events{e};
  }

  Decision operator()(const v1::SetLocationStatusRequest& r) const {
    if (auto e = Open("SetLocationStatus")) return *e;
    v1::EventEnvelope e;
    e.mutable_location_status_changed()->set_location_unknown(r.location_unknown());
    e.mutable_location_status_changed()->set_source(r.source());
    return Events{e};
  }

  Decision operator()(const v1::RecordPromiseToPayRequest& r) const {
    if (auto e = Open("RecordPromiseToPay")) return *e;
    if (r.amount().currency() != state->currency()) {
      return Error::InvalidArgument("amount.currency", "the account is in " + state->currency());
    }
    if (FindPromise(*state, r.promise_id()) != nullptr ||
        Pruned(state->pruned_promise_ids(), r.promise_id())) {
      return Refuse(Errc::kAlreadyExists, "PROMISE_EXISTS", "promise " + r.promise_id() + " exists",
                    "promise_id", r.promise_id());
    }
    if (const v1::Promise* p = PendingPromise(*state)) {
      return Refuse(Errc::kFailedPrecondition, "PROMISE_PENDING",
                    "promise " + p->promise_id() +
                        " is still pending; cancel it or wait until it is kept or broken",
                    "promise_id", p->promise_id());
    }
    if (ToCivil(r.due_date()) < LocalDay(When(r), Zone(*state))) {
      return Error::InvalidArgument("due_date",
                                    "a promise cannot be due before the day it is made");
    }
    v1::EventEnvelope e;
    auto* p = e.mutable_promise_made()->mutable_promise();
    p->set_promise_id(r.promise_id());
    p->set_amount_minor(r.amount().amount_minor());
    *p->mutable_due_date() = r.due_date();
    p->set_channel(r.channel());
    p->set_status(v1::PROMISE_STATUS_PENDING);
    p->set_grace_days(r.grace_days() > 0 ? r.grace_days() : settings.promise_grace_days);
    return Events{e};
  }

  Decision operator()(const v1::CancelPromiseToPayRequest& r) const {
    const v1::Promise* p = FindPromise(*state, r.promise_id());
    if (p == nullptr && Pruned(state->pruned_promise_ids(), r.promise_id())) {
      return Refuse(Errc::kFailedPrecondition, "PROMISE_NOT_PENDING",
                    "promise " + r.promise_id() + " was kept, broken or cancelled long ago",
                    "promise_id", r.promise_id());
    }
    if (p == nullptr) {
      return Refuse(Errc::kNotFound, "PROMISE_NOT_FOUND", "no promise " + r.promise_id(),
                    "promise_id", r.promise_id());
    }
    if (p->status() != v1::PROMISE_STATUS_PENDING) {
      return Refuse(Errc::kFailedPrecondition, "PROMISE_NOT_PENDING",
                    "promise " + r.promise_id() + " is " + v1::PromiseStatus_Name(p->status()) +
                        ", not pending",
                    "promise_id", r.promise_id());
    }
    v1::EventEnvelope e;
    e.mutable_promise_cancelled()->set_promise_id(r.promise_id());
    e.mutable_promise_cancelled()->set_reason(r.reason());
    return Events{e};
  }

  Decision operator()(const v1::ProposePaymentPlanRequest& r) const {
    if (auto e = Open("ProposePaymentPlan")) return *e;
    const auto& current = state->plan();
    if (current.status() == v1::PLAN_STATUS_PROPOSED ||
        current.status() == v1::PLAN_STATUS_ACCEPTED ||
        current.status() == v1::PLAN_STATUS_ACTIVE) {
      return Refuse(Errc::kFailedPrecondition, "PLAN_IN_PROGRESS",
                    "plan " + current.plan_id() + " is " + v1::PlanStatus_Name(current.status()) +
                        "; cancel it before proposing another",
                    "plan_id", current.plan_id());
    }
    if (current.plan_id() == r.plan_id()) {
      return Refuse(Errc::kAlreadyExists, "PLAN_EXISTS", "plan " + r.plan_id() + " exists",
                    "plan_id", r.plan_id());
    }
    int64_t sum = 0;
    for (const auto& i : r.instalments()) sum += i.amount_minor();
    if (sum > state->total_balance_minor()) {
      return Error::InvalidArgument(
          "instalments", absl::StrCat("the instalments total ", sum, ", more than the balance ",
                                      state->total_balance_minor()));
    }
    v1::EventEnvelope e;
    auto* plan = e.mutable_plan_proposed()->mutable_plan();
    plan->set_plan_id(r.plan_id());
    plan->set_status(v1::PLAN_STATUS_PROPOSED);
    plan->set_grace_days(r.grace_days() > 0 ? r.grace_days() : settings.plan_grace_days);
    plan->set_missed_to_default(r.missed_to_default() > 0 ? r.missed_to_default()
                                                          : settings.plan_missed_to_default);
    for (int i = 0; i < r.instalments_size(); ++i) {
      auto* inst = plan->add_instalments();
      inst->set_number(i + 1);
      inst->set_amount_minor(r.instalments(i).amount_minor());
      *inst->mutable_due_date() = r.instalments(i).due_date();
      *inst->mutable_effective_due_date() =
          ToLocalDate(compliance::NextBusinessDay(ToCivil(r.instalments(i).due_date())));
    }
    return Events{e};
  }

  Decision operator()(const v1::AcceptPaymentPlanRequest& r) const {
    if (auto e = Open("AcceptPaymentPlan")) return *e;
    if (state->plan().plan_id() != r.plan_id()) {
      return Refuse(Errc::kNotFound, "PLAN_NOT_FOUND", "no plan " + r.plan_id() + " is proposed",
                    "plan_id", r.plan_id());
    }
    if (state->plan().status() != v1::PLAN_STATUS_PROPOSED) {
      return Refuse(Errc::kFailedPrecondition, "PLAN_NOT_PROPOSED",
                    "plan " + r.plan_id() + " is " + v1::PlanStatus_Name(state->plan().status()),
                    "plan_id", r.plan_id());
    }
    v1::EventEnvelope accepted, activated;
    accepted.mutable_plan_accepted()->set_plan_id(r.plan_id());
    activated.mutable_plan_activated()->set_plan_id(r.plan_id());
    return Events{accepted, activated};
  }

  Decision operator()(const v1::CancelPaymentPlanRequest& r) const {
    const auto& plan = state->plan();
    if (plan.plan_id() != r.plan_id()) {
      return Refuse(Errc::kNotFound, "PLAN_NOT_FOUND", "no plan " + r.plan_id(), "plan_id",
                    r.plan_id());
    }
    if (plan.status() != v1::PLAN_STATUS_PROPOSED && plan.status() != v1::PLAN_STATUS_ACCEPTED &&
        plan.status() != v1::PLAN_STATUS_ACTIVE) {
      return Refuse(Errc::kFailedPrecondition, "PLAN_NOT_IN_PROGRESS",
                    "plan " + r.plan_id() + " is " + v1::PlanStatus_Name(plan.status()), "plan_id",
                    r.plan_id());
    }
    v1::EventEnvelope e;
    e.mutable_plan_cancelled()->set_plan_id(r.plan_id());
    e.mutable_plan_cancelled()->set_reason(r.reason());
    return Events{e};
  }

  Decision operator()(const v1::AgreeSettlementRequest& r) const {
    if (auto e = Open("AgreeSettlement")) return *e;
    if (r.amount().currency() != state->currency()) {
      return Error::InvalidArgument("amount.currency", "the account is in " + state->currency());
    }
    if (state->settlement().status() == v1::SETTLEMENT_STATUS_ACTIVE) {
      return Refuse(Errc::kFailedPrecondition, "SETTLEMENT_ACTIVE",
                    "settlement " + state->settlement().settlement_id() + " is already agreed",
                    "settlement_id", state->settlement().settlement_id());
    }
    const int64_t total = state->total_balance_minor();
    if (r.amount().amount_minor() >= total) {
      return Error::InvalidArgument(
          "amount.amount_minor", absl::StrCat("a settlement is below the balance (", total, ")"));
    }
    // In 128 bits: 10^15 minor units times 10000 does not fit in int64.
    const int32_t bp = static_cast<int32_t>(static_cast<__int128>(r.amount().amount_minor()) *
                                            10000 / std::max<int64_t>(total, 1));
    const bool needs_approval = bp < settings.min_settlement_basis_points;
    if (needs_approval && !HasRoleIn(r.actor(), settings.settlement_approver_roles)) {
      return Denied(
          r.actor(), "SUPERVISOR_APPROVAL_REQUIRED", "PRIVILEGE_SETTLEMENT_APPROVAL",
          absl::StrCat("a settlement at ", bp / 100.0, "% of the balance is below the minimum ",
                       settings.min_settlement_basis_points / 100.0,
                       "%; the request is recorded and waits for a supervisor to approve it (the "
                       "same AgreeSettlement, sent by the supervisor)"),
          r.settlement_id(), settings.settlement_approver_roles);
    }
    if (needs_approval) {
      if (auto e = CheckFourEyes(*state, r.actor(), "PRIVILEGE_SETTLEMENT_APPROVAL",
                                 r.settlement_id(), "settlement",
                                 settings.settlement_approver_roles)) {
        return *e;
      }
    }
    v1::EventEnvelope e;
    auto* s = e.mutable_settlement_agreed()->mutable_settlement();
    s->set_settlement_id(r.settlement_id());
    s->set_amount_minor(r.amount().amount_minor());
    *s->mutable_due_date() = r.due_date();
    s->set_status(v1::SETTLEMENT_STATUS_ACTIVE);
    s->set_approved_by(needs_approval ? r.actor().id() : "");
    s->set_percent_basis_points(bp);
    return Events{e};
  }

  Decision operator()(const v1::RefundCreditRequest& r) const {
    if (r.amount().currency() != state->currency()) {
      return Error::InvalidArgument("amount.currency", "the account is in " + state->currency());
    }
    if (r.amount().amount_minor() > state->credit_balance_minor()) {
      return Refuse(
          Errc::kFailedPrecondition, "REFUND_EXCEEDS_CREDIT",
          absl::StrCat("the refund (", r.amount().amount_minor(), ") exceeds the credit balance (",
                       state->credit_balance_minor(), ")"),
          "amount.amount_minor", r.refund_id());
    }
    v1::EventEnvelope e;
    auto* refund = e.mutable_credit_refunded();
    refund->set_refund_id(r.refund_id());
    *refund->mutable_amount() = r.amount();
    refund->set_method(r.method());
    refund->set_reference(r.reference());
    return Events{e};
  }

  Decision operator()(const v1::PostAdjustmentRequest& r) const {
    if (auto e = Open("PostAdjustment")) return *e;
    const bool increase = r.kind() == v1::ADJUSTMENT_KIND_FEE_ACCRUAL ||
                          r.kind() == v1::ADJUSTMENT_KIND_INTEREST_ACCRUAL ||
                          (r.kind() == v1::ADJUSTMENT_KIND_CORRECTION && r.increase());
    if (!increase) {
      if (std::string c = Exceeding(r.amounts(), state->balances()); !c.empty()) {
        return Error::InvalidArgument("amounts." + c,
                                      "the adjustment takes off more " + c + " than is owed");
      }
    }
    if (r.kind() == v1::ADJUSTMENT_KIND_SMALL_BALANCE_WRITE_OFF &&
        Total(r.amounts()) > settings.small_balance_threshold_minor) {
      if (!HasRoleIn(r.actor(), settings.write_off_approver_roles)) {
        return Denied(r.actor(), "SUPERVISOR_APPROVAL_REQUIRED", "PRIVILEGE_WRITE_OFF_APPROVAL",
                      absl::StrCat("a write-off of ", Total(r.amounts()),
                                   " is above the small-balance threshold ",
                                   settings.small_balance_threshold_minor,
                                   "; the request is recorded and waits for a supervisor to "
                                   "approve it (the same PostAdjustment, sent by the supervisor)"),
                      r.adjustment_id(), settings.write_off_approver_roles);
      }
      if (auto e = CheckFourEyes(*state, r.actor(), "PRIVILEGE_WRITE_OFF_APPROVAL",
                                 r.adjustment_id(), "write-off",
                                 settings.write_off_approver_roles)) {
        return *e;
      }
    }
    v1::EventEnvelope e;
    auto* adj = e.mutable_adjustment_posted();
    adj->set_adjustment_id(r.adjustment_id());
    adj->set_kind(r.kind());
    *(increase ? adj->mutable_increase() : adj->mutable_decrease()) = r.amounts();
    adj->set_reason(r.reason());
    // Who approved is the authenticated caller, never what the request claims.
    adj->set_approved_by(r.actor().id());
    return Events{e};
  }

  Decision operator()(const v1::OpenDisputeRequest& r) const {
    if (auto e = Open("OpenDispute")) return *e;
    if (FindDispute(*state, r.dispute_id()) != nullptr) {
      return Refuse(Errc::kAlreadyExists, "DISPUTE_EXISTS", "dispute " + r.dispute_id() + " exists",
                    "dispute_id", r.dispute_id());
    }
    if (r.partial() && r.disputed_amount_minor() > state->total_balance_minor()) {
      return Error::InvalidArgument("disputed_amount_minor",
                                    "a partial dispute cannot exceed the balance");
    }
    v1::EventEnvelope e;
    auto* d = e.mutable_dispute_opened()->mutable_dispute();
    d->set_dispute_id(r.dispute_id());
    d->set_written(r.written());
    d->set_partial(r.partial());
    d->set_disputed_amount_minor(r.partial() ? r.disputed_amount_minor()
                                             : state->total_balance_minor());
    d->set_reason(r.reason());
    d->set_status(v1::DISPUTE_STATUS_OPEN);
    d->set_original_creditor_request(r.original_creditor_request());
    d->set_within_validation_period(IsSet(state->validation_period_end()) &&
                                    LocalDay(When(r), Zone(*state)) <=
                                        ToCivil(state->validation_period_end()));
    return Events{e};
  }

  Result<const v1::Dispute*> OpenDisputeNamed(const std::string& id) const {
    const v1::Dispute* d = FindDispute(*state, id);
    if (d == nullptr)
      return Refuse(Errc::kNotFound, "DISPUTE_NOT_FOUND", "no dispute " + id, "dispute_id", id);
    if (!DisputeOpen(*d)) {
      return Refuse(Errc::kFailedPrecondition, "DISPUTE_CLOSED",
                    "dispute " + id + " is " + v1::DisputeStatus_Name(d->status()), "dispute_id",
                    id);
    }
    return d;
  }

  Decision operator()(const v1::SendDisputeVerificationRequest& r) const {
    auto d = OpenDisputeNamed(r.dispute_id());
    if (!d) return d.error();
    if (d.value()->status() == v1::DISPUTE_STATUS_VERIFICATION_SENT) {
      return Refuse(Errc::kFailedPrecondition, "VERIFICATION_ALREADY_SENT",
                    "verification was already sent", "dispute_id", r.dispute_id());
    }
    v1::EventEnvelope e;
    e.mutable_dispute_verification_sent()->set_dispute_id(r.dispute_id());
    return Events{e};
  }

  Decision operator()(const v1::ResolveDisputeRequest& r) const {
    auto d = OpenDisputeNamed(r.dispute_id());
    if (!d) return d.error();
    Events out;
    if (r.upheld()) {
      // The consumer was right about the disputed amount: it comes off the balance.
      int64_t left = 0;
      v1::Balances off =
          Allocate(state->balances(),
                   std::min(d.value()->disputed_amount_minor(), state->total_balance_minor()),
                   settings, left);
      v1::EventEnvelope adj;
      adj.mutable_adjustment_posted()->set_adjustment_id("dispute-" + r.dispute_id());
      adj.mutable_adjustment_posted()->set_kind(v1::ADJUSTMENT_KIND_DISPUTE_UPHELD);
      *adj.mutable_adjustment_posted()->mutable_decrease() = off;
      adj.mutable_adjustment_posted()->set_reason(r.resolution());
      adj.mutable_adjustment_posted()->set_approved_by(r.actor().id());
      out.push_back(adj);
    }
    v1::EventEnvelope e;
    e.mutable_dispute_resolved()->set_dispute_id(r.dispute_id());
    e.mutable_dispute_resolved()->set_upheld(r.upheld());
    e.mutable_dispute_resolved()->set_resolution(r.resolution());
    out.push_back(e);
    return out;
  }

  Decision operator()(const v1::WithdrawDisputeRequest& r) const {
    auto d = OpenDisputeNamed(r.dispute_id());
    if (!d) return d.error();
    v1::EventEnvelope e;
    e.mutable_dispute_withdrawn()->set_dispute_id(r.dispute_id());
    return Events{e};
  }

  Decision operator()(const v1::PlaceWithAgencyRequest& r) const {
    if (auto e = Open("PlaceWithAgency")) return *e;
    if (!state->placed_with_agency().empty()) {
      return Refuse(
          Errc::kFailedPrecondition, "ALREADY_PLACED",
          "the account is placed with " + state->placed_with_agency() + "; recall it first",
          "agency", state->placed_with_agency());
    }
    v1::EventEnvelope e;
    e.mutable_placed_with_agency()->set_agency(r.agency());
    e.mutable_placed_with_agency()->set_reason(r.reason());
    return Events{e};
  }

  Decision operator()(const v1::RecallFromAgencyRequest& r) const {
    if (state->placed_with_agency().empty()) {
      return Refuse(Errc::kFailedPrecondition, "NOT_PLACED",
                    "the account is not placed with an agency", "", r.account_id());
    }
    v1::EventEnvelope e;
    e.mutable_recalled_from_agency()->set_agency(state->placed_with_agency());
    e.mutable_recalled_from_agency()->set_reason(r.reason());
    return Events{e};
  }

  Decision operator()(const v1::ReferToLegalRequest& r) const {
    if (auto e = Open("ReferToLegal")) return *e;
    v1::EventEnvelope e;
    e.mutable_referred_to_legal()->set_firm(r.firm());
    e.mutable_referred_to_legal()->set_reason(r.reason());
    e.mutable_referred_to_legal()->set_bankruptcy_proof_of_claim(r.bankruptcy_proof_of_claim());
    return Events{e};
  }

  Decision operator()(const v1::ReportToBureauRequest& r) const {
    for (const auto& b : state->bureau_reports()) {
      if (b.report_id() == r.report_id()) {
        return Refuse(Errc::kAlreadyExists, "REPORT_EXISTS", "report " + r.report_id() + " exists",
                      "report_id", r.report_id());
      }
    }
    v1::EventEnvelope e;
    auto* rep = e.mutable_reported_to_bureau()->mutable_report();
    rep->set_report_id(r.report_id());
    rep->set_bureau(r.bureau());
    rep->set_status_code(r.status_code());
    rep->set_balance_minor(state->total_balance_minor());
    rep->set_compliance_condition_code(r.compliance_condition_code());
    return Events{e};
  }

  Decision operator()(const v1::AuthorizeOverrideRequest& r) const {
    if (!HasRoleIn(r.actor(), settings.override_roles)) {
      return Denied(r.actor(), "COMPLIANCE_OFFICER_REQUIRED", "PRIVILEGE_OVERRIDE_GRANT",
                    "only a compliance officer may authorise an override; role " +
                        r.actor().role() + " of " + r.actor().id() + " may not",
                    r.override_id(), settings.override_roles);
    }
    // Four eyes: not on a block of a command one issued oneself.
    if (const v1::PendingApproval* blocked = FindPendingApproval(
            *state, "PRIVILEGE_OVERRIDE_GRANT", r.rule_id() + ":" + r.command());
        blocked != nullptr && IsPerson(r.actor(), blocked->requested_by())) {
      return Denied(r.actor(), "SELF_OVERRIDE", "PRIVILEGE_OVERRIDE_GRANT",
                    "a compliance officer cannot override a block on a command they issued "
                    "themselves: " + r.command() + " blocked by " + r.rule_id() + " was issued by " +
                        blocked->requested_by() + " (four eyes)",
                    r.override_id(), settings.override_roles);
    }
    for (const auto& o : state->overrides()) {
      if (o.override_id() == r.override_id()) {
        return Refuse(Errc::kAlreadyExists, "OVERRIDE_EXISTS",
                      "override " + r.override_id() + " exists", "override_id", r.override_id());
      }
    }
    v1::EventEnvelope e;
    auto* o = e.mutable_compliance_override_granted();
    o->set_override_id(r.override_id());
    o->set_rule_id(r.rule_id());
    o->set_command(r.command());
    o->set_reason(r.reason());
    if (r.has_expires_at()) *o->mutable_expires_at() = r.expires_at();
    return Events{e};
  }

  Decision operator()(const v1::TransferDebtRequest& r) const {
    if (auto e = Open("TransferDebt")) return *e;
    v1::EventEnvelope e;
    e.mutable_debt_transferred()->set_sale(r.sale());
    e.mutable_debt_transferred()->set_new_owner(r.new_owner());
    e.mutable_debt_transferred()->set_reason(r.reason());
    return Events{e};
  }
};

}  // namespace

Result<std::vector<v1::EventEnvelope>> Decide(const AccountState* state, const Command& command,
                                              absl::Time received, const DomainSettings& settings) {
  if (auto e = ValidateRequest(command)) return *e;
  if (state == nullptr && !std::holds_alternative<v1::OpenCaseRequest>(command)) {
    return AccountNotFound(AccountId(command));
  }
  auto decided = std::visit(Decider{state, received, settings}, command);
  if (!decided) return decided;

  // Follow-on events: a changed status, and the aging bucket when the balance crossed zero.
  const absl::Time at = OccurredAt(command, received);
  // The follow-on events depend on balances, dates, status, plan, settlement and disputes, not
  // on the lists that grow with history: simulate on a copy without them.
  AccountState sim;
  if (state != nullptr) {
    sim = CopyWithout(*state, {"payments", "contacts", "correspondence", "promises", "past_plans",
                               "bureau_reports", "overrides", "pending_approvals",
                               "unsigned_events", "pruned_contact_ids", "pruned_payment_ids",
                               "pruned_promise_ids"});
  }
  std::vector<v1::EventEnvelope> out;
  auto apply = [&](v1::EventEnvelope e) {
    e.set_sequence(sim.version() + 1);
    Evolve(sim, e, StateHorizon{});
    out.push_back(std::move(e));
  };
  for (auto& e : decided.value()) apply(std::move(e));
  if (auto e = CheckAmountLimits(AccountId(command), state, sim)) return *e;
  const v1::AgingBucket bucket = BucketFor(DaysPastDue(sim, at));
  if (state != nullptr && bucket != sim.aging_bucket() &&
      (sim.total_balance_minor() == 0 || state->total_balance_minor() == 0)) {
    v1::EventEnvelope e;
    e.mutable_aging_bucket_changed()->set_from(sim.aging_bucket());
    e.mutable_aging_bucket_changed()->set_to(bucket);
    e.mutable_aging_bucket_changed()->set_days_past_due(DaysPastDue(sim, at));
    apply(std::move(e));
  }
  if (v1::AccountStatus status = DeriveStatus(sim); state != nullptr && status != sim.status()) {
    v1::EventEnvelope e;
    e.mutable_status_changed()->set_from(sim.status());
    e.mutable_status_changed()->set_to(status);
    apply(std::move(e));
  }
  // The writer numbers the events itself; leave sequence unset as documented.
  for (auto& e : out) e.clear_sequence();
  return out;
}

bool IsRecordedDenial(const Error& error) {
  if (error.code != Errc::kPermissionDenied) return false;
  for (const auto& [k, v] : error.metadata) {
    if (k == "recorded" && v == "AccessDenied") return true;
  }
  return false;
}

v1::EventEnvelope AccessDeniedEvent(const Error& error, const Command& command) {
  return internal::AccessDeniedFor(error, CommandName(command), command);
}

}  // namespace collections
