#pragma once

#include "services/authz/signing.h"

#include "collections/state/v1/account_state.pb.h"
#include "collections/state/v1/customer_state.pb.h"
#include "collections/v1/account.pb.h"
#include "collections/v1/events.pb.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace collections::authz {

// Decides, event by event, whether what the log says about an account is the service's own
// writing, before anything applies it: the event must extend the account's hash chain
// (sequence, prev_hash, hash) and a valid writer signature must cover it. A command's events
// are held (in Account.unsigned_events) until the signature on its last event arrives, then
// released together; anything else quarantines the account (Account.quarantine) at its last
// genuine event, and every later event of the account is refused.
//
// Pure and deterministic (the outcome depends only on the account and the event), so the
// projector, a rebuild and the writer's restore all reach the same state. Immutable after
// construction; safe from any thread.
class IntegrityGate {
 public:
  // `keys`: the writer public keys to trust. Empty = signatures are not checked (the chain
  // still is).
  explicit IntegrityGate(std::vector<VerifyingKey> keys) : keys_(std::move(keys)) {}

  struct Outcome {
    Outcome() = default;
    Outcome(Outcome&&) = default;
    Outcome& operator=(Outcome&&) = default;
    Outcome(const Outcome&) = delete;  // `apply` points into `released`
    // Events to apply now, in order (empty while held or when refused): the events held
    // before (in `released`) and the admitted event itself (the caller's: valid while it is).
    std::vector<const v1::EventEnvelope*> apply;
    // The held events this event released, parsed from the account's unsigned_events.
    std::vector<std::unique_ptr<v1::EventEnvelope>> released;
    // True when this event quarantined the account (newly): log an alert.
    bool quarantined_now = false;
    // True when the account was already quarantined: the event is ignored.
    bool ignored = false;
  };

  // Checks `event` against `account` (as stored, with its unsigned_events and quarantine) and
  // updates those two fields of it; the caller then Evolves `account` with Outcome::apply.
  // `partition`/`offset` locate the event for the quarantine record. `Account` is the read
  // model (v1::Account, the projector) or the writer's internal state::v1::AccountState, or a
  // customer's stream (state::v1::CustomerState, keyed "customer/<id>"): the same fields, the
  // same outcome. `record`, when given, is the bytes `event` was parsed from: its hash is then
  // checked on them as they are when they are the writer's (see ChainHashHolds).
  template <typename Account>
  Outcome Admit(Account& account, const v1::EventEnvelope& event, int32_t partition,
                int64_t offset, std::string_view record = {}) const;

  bool checks_signatures() const { return !keys_.empty(); }
  const std::vector<VerifyingKey>& keys() const { return keys_; }

 private:
  std::vector<VerifyingKey> keys_;
};

}  // namespace collections::authz
