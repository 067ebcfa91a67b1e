// Business time: how far from the service clock a command's occurred_at may be.
#include "services/domain/compliance_gate.h"
#include "services/domain/internal.h"
#include "services/domain/roles.h"

#include "absl/strings/str_cat.h"

namespace collections {

using namespace internal;  // NOLINT(google-build-using-namespace)

BackdateFamily BackdateFamilyOf(const Command& command, const v1::CompliancePolicy& policy) {
  if (std::holds_alternative<v1::RecordContactAttemptRequest>(command) ||
      std::holds_alternative<v1::ReserveContactRequest>(command)) {
    return {"contact", absl::Hours(policy.contact_backdate_hours())};
  }
  if (std::holds_alternative<v1::PostPaymentRequest>(command) ||
      std::holds_alternative<v1::ReversePaymentRequest>(command) ||
      std::holds_alternative<v1::RefundCreditRequest>(command)) {
    return {"payment", absl::Hours(24) * policy.payment_backdate_days()};
  }
  if (std::holds_alternative<v1::RecordCorrespondenceRequest>(command)) {
    return {"correspondence", absl::Hours(24) * policy.correspondence_backdate_days()};
  }
  return {"other", absl::Hours(24) * policy.other_backdate_days()};
}

namespace {

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// The earliest business instant the command claims: occurred_at, or for a payment its value
// (effective) date, read at the start of that day in UTC so no zone makes it look later.
absl::Time EarliestClaimed(const Command& command, absl::Time received) {
  absl::Time at = OccurredAt(command, received);
  if (const auto* p = std::get_if<v1::PostPaymentRequest>(&command);
      p != nullptr && IsSet(p->effective_date())) {
    absl::CivilDay value = ToCivil(p->effective_date());
    // A value date is a local date: allow the widest zone (UTC-12) before calling it late.
    at = std::min(at, absl::FromCivil(value + 1, absl::UTCTimeZone()) + absl::Hours(12) -
                          absl::Seconds(1));
  }
  return at;
}

}  // namespace

namespace {

// What business time judges of a command, whichever stream it is for.
struct ClaimedTime {
  absl::Time occurred;  // occurred_at, else when the writer took the command
  absl::Time earliest;  // the earliest business instant the command claims
  BackdateFamily family;
  const v1::Actor* actor;
  const std::string* late_entry_reason;
  std::string stream_id;  // the account id, or the customer's stream key
};

Result<std::optional<v1::LateEntry>> CheckClaimedTime(const ClaimedTime& c, absl::Time received,
                                                      const v1::CompliancePolicy& policy) {
  const absl::Duration skew = absl::Seconds(policy.future_skew_seconds());
  if (c.occurred > received + skew) {
    return Error::InvalidArgument(
        "occurred_at", "occurred_at " + Rfc3339(c.occurred) + " is in the future: the service " +
                           "clock reads " + Rfc3339(received) + " and allows " +
                           absl::StrCat(policy.future_skew_seconds()) + " s of clock skew");
  }
  const BackdateFamily& family = c.family;
  const absl::Duration late_by = received - c.earliest;
  if (late_by <= family.limit) return std::optional<v1::LateEntry>();

  const v1::Actor& actor = *c.actor;
  const std::string& reason = *c.late_entry_reason;
  const std::string limit_text = absl::FormatDuration(family.limit);
  if (!HasLateEntryRole(actor, policy)) {
    std::string roles;
    for (const auto& r : policy.late_entry_roles()) roles += (roles.empty() ? "" : ", ") + r;
    Error e{Errc::kFailedPrecondition, "LATE_ENTRY_NOT_AUTHORIZED",
            "occurred_at is " + absl::FormatDuration(late_by) + " before the service clock; " +
                family.name + " actions may be recorded at most " + limit_text +
                " late. A late entry needs an actor with role " + roles +
                " and a late_entry_reason",
            "occurred_at", c.stream_id};
    e.metadata = {{"family", family.name},
                  {"limit_seconds", absl::StrCat(absl::ToInt64Seconds(family.limit))},
                  {"policy_version", policy.version()}};
    return e;
  }
  if (reason.empty()) {
    return Error::InvalidArgument("late_entry_reason",
                                  "occurred_at is more than " + limit_text +
                                      " before the service clock: say why in late_entry_reason");
  }
  if (reason.size() > 1000) {
    return Error::InvalidArgument("late_entry_reason",
                                  "late_entry_reason is longer than 1000 characters");
  }
  v1::LateEntry mark;
  mark.set_family(family.name);
  mark.set_late_by_seconds(absl::ToInt64Seconds(late_by));
  mark.set_limit_seconds(absl::ToInt64Seconds(family.limit));
  mark.set_authorized_by(actor.id());
  mark.set_role(actor.role());
  mark.set_reason(reason);
  return std::optional<v1::LateEntry>(std::move(mark));
}

template <typename CommandVariant>
const std::string& LateEntryReason(const CommandVariant& command) {
  return std::visit([](const auto& r) -> const std::string& { return r.late_entry_reason(); },
                    command);
}

}  // namespace

Result<std::optional<v1::LateEntry>> CheckBusinessTime(const Command& command, absl::Time received,
                                                       const v1::CompliancePolicy& policy) {
  const absl::Time occurred = OccurredAt(command, received);
  return CheckClaimedTime({occurred, EarliestClaimed(command, received),
                           BackdateFamilyOf(command, policy), &CommandActor(command),
                           &LateEntryReason(command), AccountId(command)},
                          received, policy);
}

BackdateFamily BackdateFamilyOf(const CustomerCommand& command,
                                const v1::CompliancePolicy& policy) {
  if (std::holds_alternative<v1::ReceiveCustomerPaymentRequest>(command) ||
      std::holds_alternative<v1::ApplyUnappliedCashRequest>(command)) {
    return {"payment", absl::Hours(24) * policy.payment_backdate_days()};
  }
  return {"other", absl::Hours(24) * policy.other_backdate_days()};
}

Result<std::optional<v1::LateEntry>> CheckBusinessTime(const CustomerCommand& command,
                                                       absl::Time received,
                                                       const v1::CompliancePolicy& policy) {
  const absl::Time occurred = CustomerOccurredAt(command, received);
  return CheckClaimedTime({occurred, occurred, BackdateFamilyOf(command, policy),
                           &CustomerCommandActor(command), &LateEntryReason(command),
                           CustomerStreamKey(CustomerIdOf(command))},
                          received, policy);
}

}  // namespace collections
