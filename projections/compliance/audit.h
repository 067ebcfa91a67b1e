#pragma once

#include "services/authz/signing.h"

#include "services/authz/integrity.h"
#include "services/authz/signing.h"

#include "absl/time/time.h"
#include "collections/v1/account.pb.h"
#include "collections/v1/compliance_service.pb.h"
#include "collections/v1/events.pb.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace collections::compliance {

// The audit trail's pure core: chain verification, bitemporal replay and audit entries over
// a list of records read from the log. No I/O, no clock: the gRPC service and the unit tests
// feed it records, so what is proven in tests is exactly what the service answers.
// All functions are thread-compatible (they only read their arguments).

// One record of the topic as the audit sees it. `parsed` is false when `raw` is not an
// EventEnvelope; such a record still counts, because a verifier must report it.
struct LoggedRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;  // the account id the producer keyed the record with
  bool parsed = false;
  v1::EventEnvelope envelope;
};

// Decodes a raw record value. Never fails: an undecodable value gives parsed = false.
LoggedRecord DecodeRecord(int32_t partition, int64_t offset, std::string key,
                          const std::string& value);

// The account a record belongs to: the envelope's account id, or the record key when the
// record could not be parsed.
const std::string& AccountOf(const LoggedRecord& record);

// Records grouped by account, each account's records in log order (its partition's offset
// order, which is the order the writer appended them).
using RecordsByAccount = std::map<std::string, std::vector<LoggedRecord>>;

// Groups `records` (any order) by account, sorting each account's records by offset.
RecordsByAccount GroupByAccount(std::vector<LoggedRecord> records);

// The reasons chain breaks are reported with. Kept as constants so callers and tests compare
// against the same text.
inline constexpr const char kHashMismatch[] = "hash mismatch";
inline constexpr const char kPrevHashMismatch[] = "prev_hash does not match previous event";
inline constexpr const char kUnparseable[] = "unparseable record";
// "sequence gap: expected N got M"
std::string SequenceGapReason(int64_t expected, int64_t got);

// Recomputes one account's chain over its records in log order. Checks, per record: that it
// parses, that its sequence is the next one (1, 2, 3 ...), that its hash is ChainHash of its
// content, and that its prev_hash is the hash of the record before it (empty for the first).
// A sequence gap is reported instead of the prev_hash mismatch it also causes. Returns every
// break, in log order; empty = intact.
std::vector<v1::ChainBreak> VerifyChain(const std::string& account_id,
                                        const std::vector<LoggedRecord>& records);

// Checks the writer's signatures over one account's records in log order with `keys` (the
// public keys alone): every event must be covered by a valid Ed25519 signature (events.proto
// EventSignature). Returns a break per event signed badly (BAD_SIGNATURE), with an untrusted
// key (UNKNOWN_KEY) or covered by no signature (UNSIGNED).
std::vector<v1::ChainBreak> VerifySignatures(const std::string& account_id,
                                             const std::vector<LoggedRecord>& records,
                                             const std::vector<authz::VerifyingKey>& keys);

// VerifyChain (and, with keys, VerifySignatures) over every account. Fills intact,
// accounts_checked, events_checked and breaks (accounts in id order).
v1::VerifyAuditTrailResponse VerifyAll(const RecordsByAccount& accounts,
                                       const std::vector<authz::VerifyingKey>& keys = {});

// Which of one account's records (log order) are not the service's, as the projection's
// integrity gate judges them: index -> reason (CHAIN_BROKEN, HASH_MISMATCH, SEQUENCE_GAP,
// BAD_SIGNATURE, UNKNOWN_KEY, UNSIGNED). Records after the first such one are all listed (the
// account is quarantined there). Without keys only the chain is judged.
std::map<size_t, std::string> IntegrityLabels(const std::vector<LoggedRecord>& records,
                                              const std::vector<authz::VerifyingKey>& keys);

// VerifyChain fed one record at a time, in log order, for any number of accounts: what the
// service runs while it streams a topic, so memory is one small cursor per account (the next
// expected sequence and the previous hash) instead of every record. VerifyChain and VerifyAll
// are built on it. Lifetime: one verification. Threading: thread-compatible.
class ChainVerifier {
 public:
  // With `keys`, also checks the writer's signatures with the public keys alone: every event
  // must be covered by a valid Ed25519 signature (events.proto EventSignature); a break names
  // each event signed badly (BAD_SIGNATURE), with an untrusted key (UNKNOWN_KEY) or covered by
  // no signature (UNSIGNED).
  explicit ChainVerifier(std::vector<authz::VerifyingKey> keys = {}) : keys_(std::move(keys)) {}
  // Checks `record` against its account's previous records (see VerifyChain).
  void Add(const LoggedRecord& record);
  // The verdict: intact, accounts_checked, events_checked and breaks (accounts in id order,
  // each account's breaks in log order).
  v1::VerifyAuditTrailResponse Finish();

 private:
  struct Cursor {
    int64_t expected = 1;
    std::string prev_hash;  // the hash the next event must point back to
    int64_t events = 0;
    std::vector<v1::ChainBreak> breaks;
    std::unique_ptr<authz::SignatureChecker> signatures;  // with keys only
    std::vector<LoggedRecord> unsigned_records;  // since the last signature (envelope-less)
  };
  void CheckSignature(const std::string& account_id, Cursor& c, const LoggedRecord& record);
  std::vector<authz::VerifyingKey> keys_;
  std::map<std::string, Cursor> accounts_;
};

// Bitemporal cut-offs of a replay; an unset one does not filter.
struct ReplayCut {
  std::optional<absl::Time> as_of_business_time;  // occurred_at <= it
  std::optional<absl::Time> as_known_at;          // recorded_at <= it
};

// True when the event is inside the cut.
bool InCut(const v1::EventEnvelope& event, const ReplayCut& cut);

// Replays one account's records in log order through the domain's Evolve (the code the writer
// and the projector run), keeping only events inside `cut`. Each step carries the state after
// its event with last_position set to the event's position, as the projector stores it, so
// the last step's state equals the projection's row byte for byte (for an uncut replay).
// Unparseable records are skipped, as the projector skips them. Log order is the account's
// sequence order (the writer appends an account's events in order to one partition); a log
// where it is not is a broken chain that VerifyAuditTrail names.
// With `keys`, a step whose event is not the service's (the projection's integrity gate:
// chain and writer signature) carries ReplayStep.integrity and is not applied, nor is anything
// after it: state_after stays at the last genuine event, as the projection's quarantine
// leaves it.
std::vector<v1::ReplayStep> Replay(const std::vector<LoggedRecord>& records, const ReplayCut& cut,
                                   const std::vector<authz::VerifyingKey>& keys = {});

// Replay one step at a time, for streaming: it keeps only the account's current state, so a
// replay of an account with thousands of events costs one state, not one per step.
// Lifetime: one replay of one account. Threading: thread-compatible.
class Replayer {
 public:
  explicit Replayer(ReplayCut cut, std::vector<authz::VerifyingKey> keys = {})
      : cut_(std::move(cut)), gate_(std::move(keys)) {}
  // Evolves the state by `record`. Returns false (and leaves `step` alone) when the record is
  // skipped (unparseable, or outside the cut); otherwise fills `step` with the event and its
  // position, and, when `with_state`, the state after it.
  bool Next(const LoggedRecord& record, bool with_state, v1::ReplayStep* step);
  // The state after the last event taken (last_position set as in a step).
  const v1::Account& state() const { return state_; }

 private:
  ReplayCut cut_;
  v1::Account state_;
  // The integrity gate's own view of the account (its chain head, held events, quarantine),
  // and the state as of the last event the gate released.
  authz::IntegrityGate gate_;
  v1::Account shadow_;
  v1::Account genuine_state_;
};

// The payload's reason fields as "field.path: value" (fields named reason, note, resolution
// or *_reason, found at any depth of the payload), in field order.
std::vector<std::string> PayloadReasons(const v1::EventEnvelope& event);

// One record as an examiner reads it: who, what, when, why, where.
v1::AuditEntry ToAuditEntry(const LoggedRecord& record);

// CSV export: the header line and one line per entry (CsvCell: RFC 4180 quoting, cells a
// spreadsheet would run as formulas defused; "\n" line ends).
// Columns: account_id, sequence, event_id, event_type, occurred_at, recorded_at, actor_id,
// actor_role, command_id, correlation_id, reason, rule_id, policy_version, hash_hex,
// prev_hash_hex. `reason` joins the payload reasons and the decision's reason with "; ".
std::string CsvHeader();
std::string CsvRow(const v1::AuditEntry& entry);

// RFC 3339 text of a timestamp in UTC ("" when unset).
std::string Rfc3339(const google::protobuf::Timestamp& timestamp);

}  // namespace collections::compliance
