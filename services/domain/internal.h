#pragma once

// Helpers shared by the domain's .cc files. Not part of the module's contract.

#include "services/common/time_zone.h"
#include "services/domain/error.h"

#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "collections/state/v1/account_state.pb.h"
#include "collections/v1/account.pb.h"
#include "collections/v1/events.pb.h"
#include "google/protobuf/timestamp.pb.h"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <variant>

namespace collections::internal {

// The one Timestamp <-> absl::Time conversion. Both go through whole seconds plus a
// sub-second part, never through int64 nanoseconds since the epoch: those end in 2262, and
// going through them turned 9999-12-31 into 2262-04-11.
inline absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

inline google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t seconds = absl::ToUnixSeconds(t);  // rounds towards the infinite past
  const int64_t nanos = absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds));
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(nanos));
  return ts;
}

// a + b, or the int64 limit it would pass. Evolve uses it so that no history, however old,
// can wrap a balance; Decide refuses any command that would get near the limits (limits.h).
inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum))
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  return sum;
}
inline int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t diff = 0;
  if (__builtin_sub_overflow(a, b, &diff))
    return b < 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  return diff;
}

// A copy of `state` without the repeated fields named in `skip` (e.g. the lists that grow with
// history), for simulations that do not read them: no per-command copy of the history.
state::v1::AccountState CopyWithout(const state::v1::AccountState& state,
                                    std::initializer_list<std::string_view> skip);

inline bool IsSet(const v1::LocalDate& d) { return d.year() != 0; }

inline absl::CivilDay ToCivil(const v1::LocalDate& d) {
  return absl::CivilDay(d.year(), d.month(), d.day());
}

inline v1::LocalDate ToLocalDate(absl::CivilDay day) {
  v1::LocalDate d;
  d.set_year(static_cast<int32_t>(day.year()));
  d.set_month(day.month());
  d.set_day(day.day());
  return d;
}

// The consumer's zone (validated when the case was opened; UTC if somehow unknown).
// The helpers below take the read model (v1::Account) or the writer's state (AccountState):
// both have these fields under the same names.
template <typename A>
absl::TimeZone Zone(const A& a) {
  absl::TimeZone tz;
  if (!LoadIanaTimeZone(a.time_zone(), &tz)) return absl::UTCTimeZone();
  return tz;
}

// The instant local `day` starts in `tz` (DST-correct: absl resolves the civil time).
inline absl::Time StartOfDay(absl::CivilDay day, absl::TimeZone tz) {
  return absl::FromCivil(day, tz);
}

inline absl::CivilDay LocalDay(absl::Time t, absl::TimeZone tz) { return absl::ToCivilDay(t, tz); }

inline void AddBalances(v1::Balances& into, const v1::Balances& delta, int sign) {
  auto add = [sign](int64_t a, int64_t b) {
    return sign >= 0 ? SaturatingAdd(a, b) : SaturatingSub(a, b);
  };
  into.set_principal_minor(add(into.principal_minor(), delta.principal_minor()));
  into.set_interest_minor(add(into.interest_minor(), delta.interest_minor()));
  into.set_fees_minor(add(into.fees_minor(), delta.fees_minor()));
  into.set_costs_minor(add(into.costs_minor(), delta.costs_minor()));
}

template <typename A>
v1::PaymentRecord* FindPayment(A& a, const std::string& id) {
  for (auto& p : *a.mutable_payments())
    if (p.payment_id() == id) return &p;
  return nullptr;
}
template <typename A>
const v1::PaymentRecord* FindPayment(const A& a, const std::string& id) {
  for (const auto& p : a.payments())
    if (p.payment_id() == id) return &p;
  return nullptr;
}
template <typename A>
v1::Promise* FindPromise(A& a, const std::string& id) {
  for (auto& p : *a.mutable_promises())
    if (p.promise_id() == id) return &p;
  return nullptr;
}
template <typename A>
const v1::Promise* FindPromise(const A& a, const std::string& id) {
  for (const auto& p : a.promises())
    if (p.promise_id() == id) return &p;
  return nullptr;
}
template <typename A>
v1::Dispute* FindDispute(A& a, const std::string& id) {
  for (auto& d : *a.mutable_disputes())
    if (d.dispute_id() == id) return &d;
  return nullptr;
}
template <typename A>
const v1::Dispute* FindDispute(const A& a, const std::string& id) {
  for (const auto& d : a.disputes())
    if (d.dispute_id() == id) return &d;
  return nullptr;
}
template <typename A>
const v1::Promise* PendingPromise(const A& a) {
  for (const auto& p : a.promises())
    if (p.status() == v1::PROMISE_STATUS_PENDING) return &p;
  return nullptr;
}
template <typename A>
bool PlanActive(const A& a) {
  return a.plan().status() == v1::PLAN_STATUS_ACTIVE;
}
inline bool DisputeOpen(const v1::Dispute& d) {
  return d.status() == v1::DISPUTE_STATUS_OPEN ||
         d.status() == v1::DISPUTE_STATUS_VERIFICATION_SENT;
}

// The AccessDenied event recording `error` (a refused privileged action, IsRecordedDenial) for
// `command`, one request of a command variant (a case Command or a CustomerCommand): principal,
// role, privilege, reason, the request's bytes and, for an approval still to be given, the
// subject waiting for it. `name` is the command's name ("PostAdjustment", "AdjustInvoice").
template <typename CommandVariant>
v1::EventEnvelope AccessDeniedFor(const Error& error, const std::string& name,
                                  const CommandVariant& command) {
  v1::EventEnvelope e;
  auto* d = e.mutable_access_denied();
  d->set_command(name);
  for (const auto& [k, v] : error.metadata) {
    if (k == "privilege") d->set_privilege(v);
  }
  d->set_reason(error.reason);
  std::visit(
      [&](const auto& r) {
        d->set_principal(r.actor().id());
        d->set_role(r.actor().role());
        d->set_command_request(r.SerializeAsString());
        d->set_command_type(r.GetDescriptor()->full_name());
      },
      command);
  if (error.reason == "SUPERVISOR_APPROVAL_REQUIRED") d->set_subject(error.subject);
  return e;
}

inline bool HasRoleIn(const v1::Actor& actor, const std::set<std::string>& roles) {
  return roles.count(actor.role()) > 0;
}

// The person behind a request: the one a service acts for, else the principal.
inline bool IsPerson(const v1::Actor& actor, const std::string& person) {
  return !person.empty() && (actor.id() == person || actor.on_behalf_of() == person);
}

// A privileged action refused to the authenticated caller, on an account or a customer. The
// writer records it as an AccessDenied event (IsRecordedDenial), so the attempt is on the
// audit trail.
inline Error Denied(const v1::Actor& actor, std::string reason, const std::string& privilege,
                    std::string message, const std::string& subject,
                    const std::set<std::string>& roles) {
  return Error{Errc::kPermissionDenied,
               std::move(reason),
               std::move(message),
               "",
               subject,
               {{"principal", actor.id()},
                {"role", actor.role()},
                {"privilege", privilege},
                {"roles_allowed", absl::StrJoin(roles, ",")},
                {"recorded", "AccessDenied"}}};
}

}  // namespace collections::internal
