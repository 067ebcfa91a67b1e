#pragma once

#include "services/domain/command.h"
#include "services/domain/error.h"
#include "services/domain/settings.h"

#include "absl/time/time.h"
#include "collections/v1/account.pb.h"
#include "collections/v1/events.pb.h"

#include <optional>
#include <vector>

namespace collections {

// The case aggregate: pure functions over the account state, no I/O, no clock of its own.
// The writer calls Decide/DecideTime on its partition's single thread; the projectors and the
// replay call Evolve. The same Evolve everywhere is what makes a rebuilt projection equal to
// the live one.

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
Result<std::vector<v1::EventEnvelope>> Decide(const v1::Account* state, const Command& command,
                                              absl::Time received, const DomainSettings& settings);

// Time-driven events due on the account up to `now`, in order, each with its own occurred_at
// (the instant it became due): aging bucket changes, broken promises, missed instalments,
// defaulted plans, the end of the validation period. A jump in time emits every one of them.
std::vector<v1::EventEnvelope> DecideTime(const v1::Account& state, absl::Time now,
                                          const DomainSettings& settings);

// When the next time-driven event falls due, if any.
std::optional<absl::Time> NextDueTime(const v1::Account& state, const DomainSettings& settings);

// Applies one event to the account. `state` is empty (default) before the first event.
// Sets version = sequence and last_hash = hash. Never fails: events are facts.
void Evolve(v1::Account& state, const v1::EventEnvelope& event);

// The status the account's facts call for (closed, sold, settled, paid, charged off, legal,
// placed, disputed, in a plan, open: the first that holds).
v1::AccountStatus DeriveStatus(const v1::Account& state);

// Days past due at `now` in the consumer's zone (0 when nothing is owed), and its bucket.
int32_t DaysPastDue(const v1::Account& state, absl::Time now);
v1::AgingBucket BucketFor(int32_t days_past_due);

// Sum of the components.
int64_t Total(const v1::Balances& balances);

// The CloudEvents type of an event, e.g. "collections.v1.PaymentPosted".
std::string EventType(const v1::EventEnvelope& event);

}  // namespace collections
