#pragma once

#include "services/compliance/engine.h"
#include "services/domain/command.h"
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
  v1::ComplianceDecision record;  // to put on the events (or on ContactBlocked)
};

// Evaluates `command` against `state` (which must exist) under `policy`.
GateDecision Gate(const v1::Account& state, const Command& command, absl::Time at,
                  const v1::CompliancePolicy& policy);

// The refusal a blocked command gets: FAILED_PRECONDITION, reason = the rule id, the rule's
// reason and when the action becomes allowed, if knowable.
Error BlockedError(const std::string& account_id, const v1::ComplianceDecision& decision);

// The engine's inputs built from an account (exposed for tests and the pre-flight check).
compliance::CaseFacts FactsFor(const v1::Account& state);
compliance::ContactHistory HistoryFor(const v1::Account& state);

}  // namespace collections
