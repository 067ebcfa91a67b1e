#include "projections/query/priority.h"

#include "services/domain/case_aggregate.h"
#include "services/domain/internal.h"

#include "absl/strings/str_cat.h"

namespace collections {

using internal::ToTime;

Priority Prioritize(const v1::Account& a, absl::Time now) {
  Priority p;
  switch (a.status()) {
    case v1::ACCOUNT_STATUS_PAID_IN_FULL:
    case v1::ACCOUNT_STATUS_SETTLED:
    case v1::ACCOUNT_STATUS_CLOSED:
    case v1::ACCOUNT_STATUS_SOLD:
    case v1::ACCOUNT_STATUS_PLACED_WITH_AGENCY:
    case v1::ACCOUNT_STATUS_LEGAL:
      return p;
    default:
      break;
  }
  const auto& flags = a.flags();
  if (flags.bankruptcy() == v1::BANKRUPTCY_STATUS_PENDING ||
      flags.bankruptcy() == v1::BANKRUPTCY_STATUS_DISCHARGED || flags.deceased() ||
      flags.cease_communication()) {
    return p;
  }
  for (const auto& d : a.disputes()) {
    if (d.status() == v1::DISPUTE_STATUS_OPEN) return p;
  }
  auto add = [&p](const std::string& code, const std::string& detail, int32_t weight) {
    v1::PriorityReason r;
    r.set_code(code);
    r.set_detail(detail);
    r.set_weight(weight);
    p.reasons.push_back(std::move(r));
    p.score += weight;
  };
  if (!a.promises().empty()) {
    const v1::Promise& last = a.promises(a.promises_size() - 1);
    absl::Time last_payment =
        a.has_last_payment() ? ToTime(a.last_payment().posted_at()) : absl::InfinitePast();
    if (last.status() == v1::PROMISE_STATUS_BROKEN && last_payment < ToTime(last.resolved_at())) {
      add("BROKEN_PROMISE", "promise " + last.promise_id() + " was broken", 100);
    }
    if (last.status() == v1::PROMISE_STATUS_PENDING &&
        internal::ToCivil(last.due_date()) <= internal::LocalDay(now, internal::Zone(a))) {
      add("PROMISE_DUE", "promise " + last.promise_id() + " is due", 50);
    }
  }
  const auto& plan = a.plan();
  if (plan.status() == v1::PLAN_STATUS_DEFAULTED) {
    add("MISSED_INSTALMENT", "plan " + plan.plan_id() + " defaulted", 90);
  } else if (plan.status() == v1::PLAN_STATUS_ACTIVE && plan.missed_count() > 0) {
    add("MISSED_INSTALMENT",
        absl::StrCat("plan ", plan.plan_id(), " has ", plan.missed_count(), " missed"), 90);
  }
  if (a.has_callback_at() && ToTime(a.callback_at()) <= now)
    add("CALLBACK_DUE", "the consumer asked for a callback", 80);
  const int32_t dpd = DaysPastDue(a, now);
  const v1::AgingBucket bucket = BucketFor(dpd);
  if (bucket == v1::AGING_BUCKET_1_29 && a.contacts().empty()) {
    add("NEW_DELINQUENCY", absl::StrCat(dpd, " days past due, not contacted yet"), 60);
  }
  if (dpd > 0) {
    add("DAYS_PAST_DUE", absl::StrCat(dpd, " days past due (", v1::AgingBucket_Name(bucket), ")"),
        5 * (static_cast<int32_t>(bucket) - 1));
  }
  if (p.reasons.empty()) return p;
  p.actionable = true;
  if (a.has_contact_blocked_until() && ToTime(a.contact_blocked_until()) > now) {
    p.contact_allowed_from = ToTime(a.contact_blocked_until());
    add("CONTACT_BLOCKED", "a compliance rule blocks contact until the time given", -1000);
  }
  return p;
}

}  // namespace collections
