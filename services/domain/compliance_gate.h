#pragma once

#include "services/compliance/engine.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/command.h"
#include "services/domain/customer_aggregate.h"
#include "services/domain/error.h"

#include "absl/time/time.h"
#include "collections/v1/account.pb.h"
#include "collections/v1/events.pb.h"
#include "collections/v1/policy.pb.h"

#include <optional>
#include <string>

namespace collections {

// The bridge between the case aggregate and the pure compliance policy engine: it reads the
// account (contact history, flags, disputes, correspondence) as the engine's facts, turns a
// command into the action the rules judge, and applies a compliance officer's override.
// Pure functions; safe from any thread.

// What the gate decided about a command at `at`.
struct GateDecision {
  bool evaluated = false;         // false: the command is not an action any rule judges
  bool blocked = false;           // true: refuse the command and record a ContactBlocked event
  // With `blocked`: the command reports a contact that already took place (took_place, or it
  // completes a reservation), so it is recorded as a violation instead of refused.
  bool took_place = false;
  v1::ComplianceDecision record;  // to put on the events (or on ContactBlocked)
};

// Evaluates `command` against `state` (which must exist) under `policy`, at `at` (its business
// time, which may lie before contacts already recorded: they count too). Live reservations
// count as attempts, except the one a RecordContactAttempt completes.
GateDecision Gate(const AccountState& state, const Command& command, absl::Time at,
                  const v1::CompliancePolicy& policy);

// What the writer appends for a command, and whether the caller hears a refusal.
struct GatedEvents {
  std::vector<v1::EventEnvelope> events;
  std::optional<Error> refusal;  // set: answer with it once the events are committed
};

// Turns the events Decide produced into what is appended, after the gate's decision: the
// events with the decision on each (allowed, or let through by an override); a ContactBlocked
// event and a refusal (blocked); or, for a contact that already took place, the contact
// marked as a violation plus a ComplianceViolationRecorded event, decision outcome
// "VIOLATION", and no refusal.
GatedEvents ApplyGate(const Command& command, const GateDecision& gate,
                      std::vector<v1::EventEnvelope> decided);

// Business time. The service clock (`received`) is the authority: an occurred_at more than
// policy.future_skew_seconds after it is kInvalidArgument naming occurred_at. An occurred_at
// older than the command's family allows (BackdateFamily) needs an actor with a late-entry
// role (HasLateEntryRole) and a late_entry_reason, or it is kFailedPrecondition
// "LATE_ENTRY_NOT_AUTHORIZED" (kInvalidArgument naming late_entry_reason when only the reason
// is missing). Returns the mark to put on the command's events, or nullopt when on time.
Result<std::optional<v1::LateEntry>> CheckBusinessTime(const Command& command, absl::Time received,
                                                       const v1::CompliancePolicy& policy);

// The back-dating family of a command ("contact", "payment", "correspondence", "other") and
// how late it may be recorded without authorisation under `policy`.
struct BackdateFamily {
  std::string name;
  absl::Duration limit;
};
BackdateFamily BackdateFamilyOf(const Command& command, const v1::CompliancePolicy& policy);

// The same rules for a customer's command, on the customer's stream: a payment received (or
// unapplied cash applied) is of the "payment" family, everything else "other".
Result<std::optional<v1::LateEntry>> CheckBusinessTime(const CustomerCommand& command,
                                                       absl::Time received,
                                                       const v1::CompliancePolicy& policy);
BackdateFamily BackdateFamilyOf(const CustomerCommand& command,
                                const v1::CompliancePolicy& policy);

// The refusal a blocked command gets: FAILED_PRECONDITION, reason = the rule id, the rule's
// reason and when the action becomes allowed, if knowable.
Error BlockedError(const std::string& account_id, const v1::ComplianceDecision& decision);

// The engine's inputs built from an account (exposed for tests and the pre-flight check).
// FactsFor reads the state's summaries of pruned contacts (first communication, conversation
// held), so its cost does not grow with the account's history.
compliance::CaseFacts FactsFor(const AccountState& state);
// Live reservations (not expired at `at`, other than `completing`) count as attempts. With a
// `policy`, only the contacts its windows around `at` can reach are materialised (plus inbound
// contacts and the replies to them); without one, every contact the state holds.
compliance::ContactHistory HistoryFor(const AccountState& state, absl::Time at,
                                      const std::string& completing = "",
                                      const v1::CompliancePolicy* policy = nullptr);

// The longest contact window of `policy` (F1, F2, S-MA, S-NYC, B2), with a day for local
// midnights.
absl::Duration LongestWindow(const v1::CompliancePolicy& policy);
// How long the writer's state keeps a contact (Evolve's contact_horizon): the longest window
// plus how late a contact may be recorded without a late-entry authorisation, plus a day. The
// writer store records it: a store kept under another horizon is rebuilt from the log.
absl::Duration ContactHorizon(const v1::CompliancePolicy& policy);
// The writer state's horizons: ContactHorizon(policy) for contacts and resolved promises, and
// settings.payment_reversal_days for payments (0: payments are kept for ever).
StateHorizon StateHorizonFor(const v1::CompliancePolicy& policy, const DomainSettings& settings);

}  // namespace collections
