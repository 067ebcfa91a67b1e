#pragma once

#include <vector>

#include "absl/time/time.h"
#include "collections/v1/account.pb.h"
#include "collections/v1/events.pb.h"
#include "services/domain/command.h"
#include "services/domain/error.h"

namespace collections {

// The case aggregate: pure functions over the account state, no I/O, no clock of its own.
// The writer calls Decide under its partition's single thread; the projectors and the
// replay call Evolve. The same Evolve everywhere is what makes a rebuilt projection equal
// to the live one.

// Checks the request on its own (required fields, formats, ranges). Returns the first
// violation as kInvalidArgument naming the field.
Status ValidateRequest(const Command& command);

// Decides what `command` does to the account. `state` is the account, or nullptr when no
// event exists for it. `received` is when the writer took the command (business time if the
// command carries none). Returns the events' envelopes with only the payload set (the
// writer fills the rest), or the refusal. Does not check expected_version or command ids:
// that is the writer's job, because it needs the log.
Result<std::vector<v1::EventEnvelope>> Decide(const v1::Account* state, const Command& command,
                                              absl::Time received);

// Applies one event to the account. `state` is empty (default) before the first event.
// Sets version = sequence and last_hash = hash. Never fails: events are facts; an event
// that does not fit is applied as far as it can be and reported by the audit verifier.
void Evolve(v1::Account& state, const v1::EventEnvelope& event);

// Sum of the components.
int64_t Total(const v1::Balances& balances);

// The CloudEvents type of an event, e.g. "collections.v1.PaymentPosted".
std::string EventType(const v1::EventEnvelope& event);

}  // namespace collections
