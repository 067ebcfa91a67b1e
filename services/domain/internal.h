#pragma once

// Helpers shared by the domain's .cc files. Not part of the module's contract.

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "collections/v1/account.pb.h"
#include "google/protobuf/timestamp.pb.h"

#include <string>

namespace collections::internal {

inline absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

inline google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  int64_t nanos = absl::ToUnixNanos(t);
  int64_t seconds = nanos / 1'000'000'000;
  int64_t rest = nanos % 1'000'000'000;
  if (rest < 0) {
    rest += 1'000'000'000;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(rest));
  return ts;
}

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
inline absl::TimeZone Zone(const v1::Account& a) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(a.time_zone(), &tz)) return absl::UTCTimeZone();
  return tz;
}

// The instant local `day` starts in `tz` (DST-correct: absl resolves the civil time).
inline absl::Time StartOfDay(absl::CivilDay day, absl::TimeZone tz) {
  return absl::FromCivil(day, tz);
}

inline absl::CivilDay LocalDay(absl::Time t, absl::TimeZone tz) { return absl::ToCivilDay(t, tz); }

inline void AddBalances(v1::Balances& into, const v1::Balances& delta, int sign) {
  into.set_principal_minor(into.principal_minor() + sign * delta.principal_minor());
  into.set_interest_minor(into.interest_minor() + sign * delta.interest_minor());
  into.set_fees_minor(into.fees_minor() + sign * delta.fees_minor());
  into.set_costs_minor(into.costs_minor() + sign * delta.costs_minor());
}

inline v1::PaymentRecord* FindPayment(v1::Account& a, const std::string& id) {
  for (auto& p : *a.mutable_payments())
    if (p.payment_id() == id) return &p;
  return nullptr;
}
inline const v1::PaymentRecord* FindPayment(const v1::Account& a, const std::string& id) {
  for (const auto& p : a.payments())
    if (p.payment_id() == id) return &p;
  return nullptr;
}
inline v1::Promise* FindPromise(v1::Account& a, const std::string& id) {
  for (auto& p : *a.mutable_promises())
    if (p.promise_id() == id) return &p;
  return nullptr;
}
inline const v1::Promise* FindPromise(const v1::Account& a, const std::string& id) {
  for (const auto& p : a.promises())
    if (p.promise_id() == id) return &p;
  return nullptr;
}
inline v1::Dispute* FindDispute(v1::Account& a, const std::string& id) {
  for (auto& d : *a.mutable_disputes())
    if (d.dispute_id() == id) return &d;
  return nullptr;
}
inline const v1::Dispute* FindDispute(const v1::Account& a, const std::string& id) {
  for (const auto& d : a.disputes())
    if (d.dispute_id() == id) return &d;
  return nullptr;
}
inline const v1::Promise* PendingPromise(const v1::Account& a) {
  for (const auto& p : a.promises())
    if (p.status() == v1::PROMISE_STATUS_PENDING) return &p;
  return nullptr;
}
inline bool PlanActive(const v1::Account& a) { return a.plan().status() == v1::PLAN_STATUS_ACTIVE; }
inline bool DisputeOpen(const v1::Dispute& d) {
  return d.status() == v1::DISPUTE_STATUS_OPEN ||
         d.status() == v1::DISPUTE_STATUS_VERIFICATION_SENT;
}

}  // namespace collections::internal
