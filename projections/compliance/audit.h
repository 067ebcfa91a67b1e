#pragma once

#include "absl/time/time.h"
#include "collections/v1/account.pb.h"
#include "collections/v1/compliance_service.pb.h"
#include "collections/v1/events.pb.h"

#include <cstdint>
#include <map>
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

// VerifyChain over every account. Fills intact, accounts_checked, events_checked and breaks
// (accounts in id order).
v1::VerifyAuditTrailResponse VerifyAll(const RecordsByAccount& accounts);

// VerifyChain fed one record at a time, in log order, for any number of accounts: what the
// service runs while it streams a topic, so memory is one small cursor per account (the next
// expected sequence and the previous hash) instead of every record. VerifyChain and VerifyAll
// are built on it. Lifetime: one verification. Threading: thread-compatible.
class ChainVerifier {
 public:
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
  };
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
std::vector<v1::ReplayStep> Replay(const std::vector<LoggedRecord>& records, const ReplayCut& cut);

// Replay one step at a time, for streaming: it keeps only the account's current state, so a
// replay of an account with thousands of events costs one state, not one per step.
// Lifetime: one replay of one account. Threading: thread-compatible.
class Replayer {
 public:
  explicit Replayer(ReplayCut cut) : cut_(std::move(cut)) {}
  // Evolves the state by `record`. Returns false (and leaves `step` alone) when the record is
  // skipped (unparseable, or outside the cut); otherwise fills `step` with the event and its
  // position, and, when `with_state`, the state after it.
  bool Next(const LoggedRecord& record, bool with_state, v1::ReplayStep* step);
  // The state after the last event taken (last_position set as in a step).
  const v1::Account& state() const { return state_; }

 private:
  ReplayCut cut_;
  v1::Account state_;
};

// The payload's reason fields as "field.path: value" (fields named reason, note, resolution
// or *_reason, found at any depth of the payload), in field order.
std::vector<std::string> PayloadReasons(const v1::EventEnvelope& event);

// One record as an examiner reads it: who, what, when, why, where.
v1::AuditEntry ToAuditEntry(const LoggedRecord& record);

// CSV export: the header line and one line per entry (RFC 4180 quoting, "\n" line ends).
// Columns: account_id, sequence, event_id, event_type, occurred_at, recorded_at, actor_id,
// actor_role, command_id, correlation_id, reason, rule_id, policy_version, hash_hex,
// prev_hash_hex. `reason` joins the payload reasons and the decision's reason with "; ".
std::string CsvHeader();
std::string CsvRow(const v1::AuditEntry& entry);

// RFC 3339 text of a timestamp in UTC ("" when unset).
std::string Rfc3339(const google::protobuf::Timestamp& timestamp);

}  // namespace collections::compliance
