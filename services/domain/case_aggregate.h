#pragma once

#include "services/domain/command.h"
#include "services/domain/error.h"
#include "services/domain/settings.h"

#include "absl/time/time.h"
#include "collections/state/v1/account_state.pb.h"
#include "collections/v1/account.pb.h"
#include "collections/v1/events.pb.h"

#include <optional>
#include <vector>

namespace collections {

// The case aggregate: pure functions over the account state, no I/O, no clock of its own.
// The writer calls Decide/DecideTime on its partition's single thread; the projectors and the
// replay call Evolve. The same Evolve everywhere is what makes a rebuilt projection equal to
// the live one.
//
// Two shapes of the same account: the decisions are taken on AccountState, the writer's
// internal state (not a published message; bounded: see Evolve), while the projections keep
// v1::Account, the public read model with the whole history. One Evolve (a template over both,
// evolve.cc) builds both, so every field they share means the same thing in both.
using AccountState = state::v1::AccountState;

// Checks the request on its own (required fields, formats, ranges, the limits of limits.h, the
// whole request's size). Returns every violation, in field order, as one kInvalidArgument
// whose `violations` name the fields (`field` is the first of them). Quotes of
// the input in descriptions are bounded excerpts.
Status ValidateRequest(const Command& command);

// Decides what `command` does to the account. `state` is the account, or nullptr when no
// event exists for it. `received` is when the writer took the command (its business time if
// the command carries none). Returns the events' envelopes with the payload set (and
// occurred_at for events that happen at another time than the command), or the refusal.
// A status change the events cause is appended as a StatusChanged event. Does not check
// expected_version or command ids: that is the writer's job, because it needs the log.
// Call DecideTime first so the state is current at `received`. Refuses with
// kFailedPrecondition "AMOUNT_OVERFLOW" a command whose events would take a balance
// component, the total, the credit balance or the written-off amount past its limit
// (limits.h), so that no sum over an accepted history can overflow.
Result<std::vector<v1::EventEnvelope>> Decide(const AccountState* state, const Command& command,
                                              absl::Time received, const DomainSettings& settings);

// Time-driven events due on the account up to `now`, in order, each with its own occurred_at
// (the instant it became due): aging bucket changes, broken promises, missed instalments,
// defaulted plans, the end of the validation period. A jump in time emits every one of them.
std::vector<v1::EventEnvelope> DecideTime(const AccountState& state, absl::Time now,
                                          const DomainSettings& settings);

// When the next time-driven event falls due, if any.
std::optional<absl::Time> NextDueTime(const AccountState& state, const DomainSettings& settings);

// Applies one event to the account. `state` is empty (default) before the first event.
// Sets version = sequence and last_hash = hash. Never fails: events are facts.
void Evolve(v1::Account& state, const v1::EventEnvelope& event);
// How far back the writer's state keeps the history its rules may still read (see Evolve).
// The default keeps everything.
struct StateHorizon {
  // Contacts, and promises kept, broken or cancelled: pruned once they are this much older
  // than the latest recorded_at applied (compliance_gate.h's ContactHorizon).
  absl::Duration contacts = absl::InfiniteDuration();
  // Payments: pruned once they were posted this much before the latest recorded_at applied;
  // a payment may be reversed for DomainSettings::payment_reversal_days after it was posted.
  absl::Duration payments = absl::InfiniteDuration();
};

// The same for the writer's state, which is also bounded: after the event, contacts that took
// place more than `horizon.contacts` before the latest recorded_at applied so far are pruned
// (the event's recorded time, never a clock, so a restore from the log reaches the same state),
// keeping of them only what the rules read (first communication, a conversation held, their
// ids). Outbound letters, e-mails and texts delivered or returned are kept while no bureau
// report was made and no conversation held (F16 reads them). Promises resolved that long ago
// go too, and payments posted more than `horizon.payments` before it; of both only the hash of
// their id is kept, so an id stays unique on the account for ever. StateHorizon{} prunes
// nothing.
void Evolve(AccountState& state, const v1::EventEnvelope& event, const StateHorizon& horizon);

// The status the account's facts call for (closed, sold, settled, paid, charged off, legal,
// placed, disputed, in a plan, open: the first that holds).
v1::AccountStatus DeriveStatus(const v1::Account& state);
v1::AccountStatus DeriveStatus(const AccountState& state);

// Days past due at `now` in the consumer's zone (0 when nothing is owed), and its bucket.
int32_t DaysPastDue(const v1::Account& state, absl::Time now);
int32_t DaysPastDue(const AccountState& state, absl::Time now);
v1::AgingBucket BucketFor(int32_t days_past_due);

// The stable 64-bit hash (FNV-1a) a pruned contact's, promise's or payment's id is remembered by.
uint64_t PrunedIdHash(const std::string& id);

// Sum of the components.
int64_t Total(const v1::Balances& balances);

// True when `error` refuses a privileged action to the authenticated caller (kPermissionDenied
// from Decide: no privilege, or four eyes): the writer appends AccessDeniedEvent for it, so
// the attempt is on the audit trail, and answers with the error.
bool IsRecordedDenial(const Error& error);
// The AccessDenied event recording `error` for `command` (principal, role, privilege, reason,
// the request's bytes and, for approvals, the subject waiting for one).
v1::EventEnvelope AccessDeniedEvent(const Error& error, const Command& command);

// The CloudEvents type of an event, e.g. "collections.v1.PaymentPosted".
std::string EventType(const v1::EventEnvelope& event);

}  // namespace collections
