// Time-driven events: what becomes due on an account as its consumer's calendar advances.
#include "services/compliance/calendar.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/internal.h"

#include <array>

namespace collections {

using namespace internal;  // NOLINT(google-build-using-namespace)

namespace {

constexpr std::array<int, 7> kBucketStarts = {1, 30, 60, 90, 120, 150, 180};

struct DueEvent {
  absl::Time at;
  std::vector<v1::EventEnvelope> events;  // all due at `at`, in order
};

// The earliest time-driven event of the account, whether or not it is due yet.
// When the consumer was first communicated with (a letter or e-mail sent, a delivered message,
// a conversation), if ever.
// The state keeps it as contacts and letters are applied (Evolve), so pruning loses nothing.
std::optional<absl::Time> FirstCommunication(const AccountState& a) {
  if (!a.has_first_communication_at()) return std::nullopt;
  return ToTime(a.first_communication_at());
}

std::optional<DueEvent> NextTimeEvent(const AccountState& a, const DomainSettings& settings) {
  if (a.version() == 0 || a.closed() || !a.owner().empty()) return std::nullopt;
  const absl::TimeZone tz = Zone(a);
  std::optional<DueEvent> best;
  auto offer = [&best](absl::Time at, std::vector<v1::EventEnvelope> events) {
    if (!best || at < best->at) best = DueEvent{at, std::move(events)};
  };

  if (Total(a.balances()) > 0 && IsSet(a.due_date())) {
    for (int start : kBucketStarts) {
      if (BucketFor(start) <= a.aging_bucket()) continue;
      v1::EventEnvelope e;
      auto* changed = e.mutable_aging_bucket_changed();
      changed->set_from(a.aging_bucket());
      changed->set_to(BucketFor(start));
      changed->set_days_past_due(start);
      offer(StartOfDay(ToCivil(a.due_date()) + start, tz), {e});
      break;
    }
  }
  if (const v1::Promise* p = PendingPromise(a)) {
    v1::EventEnvelope e;
    e.mutable_promise_broken()->set_promise_id(p->promise_id());
    e.mutable_promise_broken()->set_paid_toward_minor(p->paid_toward_minor());
    offer(StartOfDay(ToCivil(p->due_date()) + p->grace_days() + 1, tz), {e});
  }
  if (PlanActive(a)) {
    for (const auto& inst : a.plan().instalments()) {
      if (inst.missed() || inst.paid_minor() >= inst.amount_minor()) continue;
      std::vector<v1::EventEnvelope> events(1);
      auto* missed = events[0].mutable_instalment_missed();
      missed->set_plan_id(a.plan().plan_id());
      missed->set_number(inst.number());
      missed->set_paid_minor(inst.paid_minor());
      missed->set_amount_minor(inst.amount_minor());
      if (a.plan().missed_count() + 1 >= a.plan().missed_to_default()) {
        events.emplace_back();
        events.back().mutable_plan_defaulted()->set_plan_id(a.plan().plan_id());
        events.back().mutable_plan_defaulted()->set_missed_count(a.plan().missed_count() + 1);
      }
      offer(StartOfDay(ToCivil(inst.effective_due_date()) + a.plan().grace_days() + 1, tz),
            std::move(events));
      break;
    }
  }
  // F11: a debt collector's validation notice is due within N days of the first communication.
  // Not for a commercial debt: Regulation F covers consumer debts only.
  if (a.third_party_collector() && !a.commercial() && !a.validation_notice_overdue() &&
      !IsSet(a.validation_period_end()) && Total(a.balances()) > 0) {
    if (auto first = FirstCommunication(a)) {
      absl::CivilDay deadline = LocalDay(*first, tz) + settings.validation_notice_deadline_days;
      v1::EventEnvelope e;
      auto* overdue = e.mutable_validation_notice_overdue();
      *overdue->mutable_first_communication_at() = ToProto(*first);
      *overdue->mutable_deadline() = ToLocalDate(deadline);
      overdue->set_rule_id("F11");
      offer(StartOfDay(deadline + 1, tz), {e});
    }
  }
  // ReserveContact: an unused reservation expires and stops counting against the caps.
  for (const auto& r : a.reservations()) {
    v1::EventEnvelope e;
    e.mutable_contact_reservation_expired()->set_reservation_id(r.reservation_id());
    *e.mutable_contact_reservation_expired()->mutable_reserved_at() = r.reserved_at();
    offer(ToTime(r.expires_at()), {e});
  }
  if (IsSet(a.validation_period_end()) && !a.validation_period_ended()) {
    v1::EventEnvelope e;
    *e.mutable_validation_period_ended()->mutable_period_end() = a.validation_period_end();
    for (const auto& c : a.correspondence()) {
      if (c.kind() == v1::CORRESPONDENCE_KIND_VALIDATION_NOTICE) {
        e.mutable_validation_period_ended()->set_correspondence_id(c.correspondence_id());
      }
    }
    offer(StartOfDay(ToCivil(a.validation_period_end()) + 1, tz), {e});
  }
  return best;
}

}  // namespace

std::optional<absl::Time> NextDueTime(const AccountState& state, const DomainSettings& settings) {
  auto next = NextTimeEvent(state, settings);
  if (!next) return std::nullopt;
  return next->at;
}

std::vector<v1::EventEnvelope> DecideTime(const AccountState& state, absl::Time now,
                                          const DomainSettings& settings) {
  std::vector<v1::EventEnvelope> out;
  // Most commands find nothing due: only then is the state copied to simulate on, without the
  // lists the time rules do not read.
  if (auto next = NextTimeEvent(state, settings); !next || next->at > now) return out;
  AccountState sim = CopyWithout(state, {"payments", "contacts", "past_plans", "bureau_reports",
                                         "overrides", "pending_approvals", "unsigned_events",
                                         "pruned_contact_ids", "pruned_payment_ids",
                                         "pruned_promise_ids"});
  // Each step moves the account past one due instant; the guard only stops a bug from
  // looping forever (a century of daily events is far below it).
  for (int guard = 0; guard < 100000; ++guard) {
    auto next = NextTimeEvent(sim, settings);
    if (!next || next->at > now) break;
    for (auto& e : next->events) {
      *e.mutable_occurred_at() = ToProto(next->at);
      e.set_sequence(sim.version() + 1);
      Evolve(sim, e, StateHorizon{});
      out.push_back(std::move(e));
      v1::AccountStatus status = DeriveStatus(sim);
      if (status != sim.status()) {
        v1::EventEnvelope s;
        s.mutable_status_changed()->set_from(sim.status());
        s.mutable_status_changed()->set_to(status);
        *s.mutable_occurred_at() = ToProto(next->at);
        s.set_sequence(sim.version() + 1);
        Evolve(sim, s, StateHorizon{});
        out.push_back(std::move(s));
      }
    }
  }
  return out;
}

}  // namespace collections
