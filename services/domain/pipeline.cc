#include "services/domain/pipeline.h"

#include "services/domain/case_aggregate.h"
#include "services/domain/compliance_gate.h"
#include "services/domain/hashing.h"
#include "services/domain/internal.h"

#include "absl/strings/str_cat.h"

namespace collections {
namespace {

using internal::ToProto;

// Who a run of events is recorded for.
struct RunOf {
  std::string command_id;
  v1::Actor actor;
  std::string correlation_id;
  absl::Time occurred_at;
  std::string fingerprint;
};

// Numbers, stamps, chains and signs `events` as one run after `state` (an account's or a
// customer's: what they share is the stream's version and last hash). Does not touch `state`.
// Returns the size of the first event over settings.max_event_bytes, if any.
template <typename StreamState>
std::optional<int64_t> Stamp(const StreamState& state, const std::string& account_id,
                             std::vector<v1::EventEnvelope>& events, const RunOf& run,
                             absl::Time now, const PipelineSettings& settings) {
  std::vector<std::string> run_hashes;
  std::string prev_hash = state.last_hash();
  for (size_t k = 0; k < events.size(); ++k) {
    v1::EventEnvelope& e = events[k];
    e.set_event_id(settings.new_event_id ? settings.new_event_id() : NewUuid());
    e.set_account_id(account_id);
    e.set_sequence(state.version() + static_cast<int64_t>(k) + 1);
    e.set_command_id(run.command_id);
    *e.mutable_actor() = run.actor;
    e.set_correlation_id(run.correlation_id);
    if (!e.has_occurred_at()) *e.mutable_occurred_at() = ToProto(run.occurred_at);
    *e.mutable_recorded_at() = ToProto(now);
    e.set_policy_version(settings.policy->version());
    e.set_command_fingerprint(run.fingerprint);
    e.set_command_event_count(static_cast<int32_t>(events.size()));
    e.set_command_event_index(static_cast<int32_t>(k));
    if (!settings.deployment_id.empty()) e.set_deployment_id(settings.deployment_id);
    e.set_prev_hash(prev_hash);
    e.set_hash(ChainHash(e));
    prev_hash = e.hash();
    run_hashes.push_back(e.hash());
    // The command's last event carries the signature over all of its events' hashes.
    if (k + 1 == events.size() && settings.sign) settings.sign(run_hashes, &e);
  }
  if (settings.max_event_bytes > 0 && settings.record_bytes) {
    for (const auto& e : events) {
      const int64_t bytes = settings.record_bytes(e);
      if (bytes > settings.max_event_bytes) return bytes;
    }
  }
  return std::nullopt;
}

void ApplyAll(AccountState& state, const std::vector<v1::EventEnvelope>& events,
              const PipelineSettings& settings) {
  const StateHorizon horizon = StateHorizonFor(*settings.policy, *settings.domain);
  for (const auto& e : events) Evolve(state, e, horizon);
}

CommandOutcome Refused(CommandOutcome outcome, Error error) {
  outcome.kind = CommandOutcome::Kind::kRefused;
  outcome.error = std::move(error);
  return outcome;
}

// The same command id on the same stream: another request with it is refused.
Error CommandIdReused(const std::string& command_id, const std::string& stream_id) {
  return Error{Errc::kAlreadyExists, "COMMAND_ID_REUSED",
               "command_id " + command_id + " was already used on account " + stream_id +
                   " for a different request; use a new command_id",
               "command_id", command_id};
}

// expected_version, when given, must be the stream's version.
std::optional<Error> CheckVersion(std::optional<int64_t> expected, int64_t version,
                                  const std::string& stream_id) {
  if (!expected || *expected == version) return std::nullopt;
  return Error{Errc::kAborted, "VERSION_MISMATCH",
               absl::StrCat("account ", stream_id, " is at version ", version,
                            ", the command expected ", *expected,
                            "; read the account and decide again"),
               "expected_version", stream_id};
}

// A stream whose log holds an event that is not the service's takes no command.
template <typename StreamState>
std::optional<Error> CheckQuarantine(const StreamState& state, bool exists,
                                     const std::string& stream_id) {
  if (!exists || !state.has_quarantine()) return std::nullopt;
  return Error{Errc::kFailedPrecondition, "ACCOUNT_QUARANTINED",
               absl::StrCat("account ", stream_id,
                            " is quarantined: its log holds an event that is not the service's "
                            "(sequence ",
                            state.quarantine().sequence(), ", ", state.quarantine().reason(),
                            "); nothing is appended until it is resolved"),
               "", stream_id};
}

Error TooLarge(int64_t bytes, const PipelineSettings& settings, const std::string& stream_id) {
  return Error{Errc::kInvalidArgument, "EVENT_TOO_LARGE",
               absl::StrCat("the command would append an event of ", bytes,
                            " bytes; the limit is ", settings.max_event_bytes,
                            " bytes per event: shorten its longest fields"),
               "request", stream_id};
}

}  // namespace

std::vector<v1::EventEnvelope> RunTime(AccountState& state, absl::Time now,
                                       const PipelineSettings& settings) {
  auto events = DecideTime(state, now, *settings.domain);
  if (events.empty()) return events;
  RunOf run;
  run.command_id = absl::StrCat("clock:", state.version() + 1);
  run.actor.set_id("collections-writer");
  run.actor.set_kind(v1::ACTOR_KIND_SERVICE);
  run.actor.set_role("system");
  run.occurred_at = now;
  // The clock's events are small and fixed: no size limit applies to them.
  PipelineSettings unlimited = settings;
  unlimited.max_event_bytes = 0;
  (void)Stamp(state, state.account_id(), events, run, now, unlimited);
  ApplyAll(state, events, settings);
  return events;
}

CommandOutcome RunCommand(AccountState& state, bool exists, const CommandInput& input,
                          const PipelineSettings& settings) {
  const Command& command = *input.command;
  const std::string& account_id = AccountId(command);
  const absl::Time now = input.now;
  CommandOutcome outcome;
  if (auto e = ValidateRequest(command)) return Refused(std::move(outcome), *e);
  const std::string fingerprint =
      std::visit([](const auto& r) { return Fingerprint(r); }, command);

  // The command id: the same request again gets the earlier outcome; another request with
  // it is refused. A compliance block is the exception: it is judged anew.
  bool retry_of_block = false;
  if (input.prior != nullptr) {
    if (input.prior->fingerprint != fingerprint) {
      return Refused(std::move(outcome), CommandIdReused(CommandId(command), account_id));
    }
    if (!input.prior->blocked) {
      outcome.kind = CommandOutcome::Kind::kRepeat;
      return outcome;
    }
    retry_of_block = true;
  }

  // What fell due before the command happens first, whatever becomes of the command.
  if (exists) outcome.time_events = RunTime(state, now, settings);

  const int64_t version = exists ? state.version() : 0;
  if (auto e = CheckVersion(ExpectedVersion(command), version, account_id)) {
    return Refused(std::move(outcome), std::move(*e));
  }
  if (auto e = CheckQuarantine(state, exists, account_id)) {
    return Refused(std::move(outcome), std::move(*e));
  }
  // Business time: the service clock is the authority (a pre-flight asks about any time).
  std::optional<v1::LateEntry> late;
  if (!input.dry_run) {
    auto checked = CheckBusinessTime(command, now, *settings.policy);
    if (!checked) return Refused(std::move(outcome), checked.error());
    late = std::move(checked.value());
  }
  RunOf run{CommandId(command), CommandActor(command), CorrelationId(command),
            OccurredAt(command, now), fingerprint};
  auto decided = Decide(exists ? &state : nullptr, command, now, *settings.domain);
  if (!decided && !input.dry_run && IsRecordedDenial(decided.error())) {
    // A refused privileged action is itself recorded (AccessDenied), like a compliance block.
    std::vector<v1::EventEnvelope> denied{AccessDeniedEvent(decided.error(), command)};
    if (Stamp(state, account_id, denied, run, now, settings)) {
      return Refused(std::move(outcome), decided.error());
    }
    ApplyAll(state, denied, settings);
    outcome.kind = CommandOutcome::Kind::kAppend;
    outcome.events = std::move(denied);
    outcome.error = decided.error();
    return outcome;
  }
  if (!decided) return Refused(std::move(outcome), decided.error());

  // Compliance: every rule judged before anything is appended.
  GateDecision gate;
  if (exists) gate = Gate(state, command, OccurredAt(command, now), *settings.policy);
  if (input.dry_run) {
    outcome.kind = CommandOutcome::Kind::kDryRun;
    outcome.decision = gate.record;
    outcome.version = version;
    return outcome;
  }
  GatedEvents gated = ApplyGate(command, gate, std::move(decided.value()));
  if (retry_of_block && gated.refusal) {
    // Still blocked: the block is on the trail once already, under this command id.
    return Refused(std::move(outcome), std::move(*gated.refusal));
  }
  std::vector<v1::EventEnvelope> events = std::move(gated.events);
  if (late) {
    for (auto& e : events) *e.mutable_late_entry() = *late;
  }
  if (auto too_large = Stamp(state, account_id, events, run, now, settings)) {
    return Refused(std::move(outcome), TooLarge(*too_large, settings, account_id));
  }
  ApplyAll(state, events, settings);
  outcome.kind = CommandOutcome::Kind::kAppend;
  outcome.events = std::move(events);
  outcome.error = std::move(gated.refusal);
  return outcome;
}

CommandOutcome RunCustomerCommand(CustomerState& state, bool exists,
                                  const CustomerCommandInput& input,
                                  const PipelineSettings& settings) {
  const CustomerCommand& command = *input.command;
  const std::string stream_id = CustomerStreamKey(CustomerIdOf(command));
  const absl::Time now = input.now;
  CommandOutcome outcome;
  if (auto e = ValidateCustomerRequest(command)) return Refused(std::move(outcome), *e);
  const std::string fingerprint =
      std::visit([](const auto& r) { return Fingerprint(r); }, command);
  const std::string& command_id = CustomerCommandId(command);
  if (input.prior != nullptr) {
    // No compliance block on a customer: a repeat is always the earlier outcome.
    if (input.prior->fingerprint != fingerprint) {
      return Refused(std::move(outcome), CommandIdReused(command_id, stream_id));
    }
    outcome.kind = CommandOutcome::Kind::kRepeat;
    return outcome;
  }
  const int64_t version = exists ? state.version() : 0;
  if (auto e = CheckVersion(CustomerExpectedVersion(command), version, stream_id)) {
    return Refused(std::move(outcome), std::move(*e));
  }
  if (auto e = CheckQuarantine(state, exists, stream_id)) {
    return Refused(std::move(outcome), std::move(*e));
  }
  auto late = CheckBusinessTime(command, now, *settings.policy);
  if (!late) return Refused(std::move(outcome), late.error());
  RunOf run{command_id, CustomerCommandActor(command), CustomerCorrelationId(command),
            CustomerOccurredAt(command, now), fingerprint};
  auto decided = DecideCustomer(exists ? &state : nullptr, command, now, *settings.domain);
  std::vector<v1::EventEnvelope> events;
  if (!decided && IsRecordedDenial(decided.error())) {
    // As for an account: the refused privileged action is on the customer's trail.
    events.push_back(CustomerAccessDeniedEvent(decided.error(), command));
    outcome.error = decided.error();
  } else if (!decided) {
    return Refused(std::move(outcome), decided.error());
  } else {
    events = std::move(decided.value());
    if (late.value()) {
      for (auto& e : events) *e.mutable_late_entry() = *late.value();
    }
  }
  if (auto too_large = Stamp(state, stream_id, events, run, now, settings)) {
    Error refusal = outcome.error ? *outcome.error : TooLarge(*too_large, settings, stream_id);
    return Refused(std::move(outcome), std::move(refusal));
  }
  for (const auto& e : events) EvolveCustomer(state, e);
  outcome.kind = CommandOutcome::Kind::kAppend;
  outcome.events = std::move(events);
  return outcome;
}

}  // namespace collections
