#pragma once

#include "services/domain/case_aggregate.h"
#include "services/domain/command.h"
#include "services/domain/customer_aggregate.h"
#include "services/domain/error.h"
#include "services/domain/settings.h"

#include "absl/time/time.h"
#include "collections/v1/account.pb.h"
#include "collections/v1/events.pb.h"
#include "collections/v1/policy.pb.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace collections {

// The command pipeline: everything between "a command arrived" and "these records go into the
// log", as pure functions over the account state. Validation, the repeat of a command id,
// the expected version, the time-driven events due first, Decide, the compliance gate, the
// blocked-attempt (or access-denied) event, stamping, chaining and signing all happen here;
// the writer only looks up state, batches, appends and commits. No I/O, no clock of its own;
// safe from any thread for distinct states.

// What the pipeline needs besides the state and the command. The callbacks must be pure
// enough to be called from the writer's thread; each has a default for an empty function.
struct PipelineSettings {
  const DomainSettings* domain = nullptr;       // required
  const v1::CompliancePolicy* policy = nullptr;  // required; its version goes on every event
  // Signs a command's run of events: given the run's hashes (in order) and its last event, sets
  // that event's signature. Empty = nothing is signed.
  std::function<void(const std::vector<std::string>& hashes, v1::EventEnvelope* last)> sign;
  // The id of a new event. Empty = a random UUID (tests give fixed ids).
  std::function<std::string()> new_event_id;
  // The size of an event as a log record, and the largest allowed (0 = no limit): a command
  // whose event would be larger is refused (EVENT_TOO_LARGE) before anything is staged.
  std::function<int64_t(const v1::EventEnvelope&)> record_bytes;
  int64_t max_event_bytes = 0;
  // The writer's deployment identity, stamped on every event (EventEnvelope.deployment_id).
  // Empty = not stamped (unit-level uses).
  std::string deployment_id;
};

// What the log says about an earlier command with the same id on the same account.
struct PriorCommand {
  std::string fingerprint;  // of the earlier request
  bool refused = false;     // its refusal was recorded (ContactBlocked, AccessDenied)
  // Refused by the compliance policy: a repeat is judged anew (the window may have opened);
  // blocked again, it is refused without a second ContactBlocked event.
  bool blocked = false;
};

// One command through the pipeline.
struct CommandInput {
  const Command* command = nullptr;  // required
  absl::Time now;                    // the service clock when the writer took it
  bool dry_run = false;              // CheckContact: decide and gate only, stage nothing
  const PriorCommand* prior = nullptr;  // nullptr: the command id is new on this account
};

struct CommandOutcome {
  enum class Kind {
    kRefused = 0,  // answer with `error`; nothing of the command is appended
    kRepeat = 1,   // the same request as `prior`: answer with the earlier outcome
    kAppend = 2,   // append `events`; then answer OK, or with `error` when it is set
    kDryRun = 3,   // answer with `decision` and `version`; nothing is appended
  };
  Kind kind = Kind::kRefused;
  // Time-driven events that fell due before the command, stamped and applied to the state:
  // they are appended whatever becomes of the command.
  std::vector<v1::EventEnvelope> time_events;
  // kAppend: the command's events, stamped, chained, signed and applied to the state.
  std::vector<v1::EventEnvelope> events;
  std::optional<Error> error;
  v1::ComplianceDecision decision;  // kDryRun
  int64_t version = 0;              // kDryRun: the account's version
};

// Runs `input` against `state`, the committed account as the log leaves it (plus whatever
// the caller staged before in the same transaction); `exists` is false when the account has
// no event yet (then `state` must be empty). Events the outcome carries are applied to
// `state` in place (Evolve, with StateHorizonFor the settings), so the caller keeps no copy:
// should the append fail, the caller must drop `state` and read the committed account again.
// Nothing here copies the account or walks its whole history: the cost of a command depends
// on what the policy's windows hold, not on how many events the account has.
CommandOutcome RunCommand(AccountState& state, bool exists, const CommandInput& input,
                          const PipelineSettings& settings);

// The time-driven events due on `state` at `now` (aging, broken promises, missed instalments
// ...), stamped as the clock's own run (command id "clock:<first sequence>") and applied to
// `state` in place. Empty when nothing is due.
std::vector<v1::EventEnvelope> RunTime(AccountState& state, absl::Time now,
                                       const PipelineSettings& settings);

// One customer command through the pipeline (customer_aggregate.h).
struct CustomerCommandInput {
  const CustomerCommand* command = nullptr;  // required
  absl::Time now;                            // the service clock when the writer took it
  const PriorCommand* prior = nullptr;       // nullptr: the command id is new on the stream
};

// RunCommand for a customer's stream ("customer/<id>"): validation, the repeat of a command
// id, the expected version, the quarantine, business time, DecideCustomer, the AccessDenied
// event of a refused privileged action, and the same stamping, chaining and signing as an
// account's events. `state` is the committed customer (empty, `exists` false, before its first
// event); the outcome's events are applied to it in place (EvolveCustomer), so should the
// append fail the caller drops `state`. No time-driven events and no compliance gate: a
// customer's rules are decided by DecideCustomer alone (kDryRun is never returned).
CommandOutcome RunCustomerCommand(CustomerState& state, bool exists,
                                  const CustomerCommandInput& input,
                                  const PipelineSettings& settings);

}  // namespace collections
