#include "projections/compliance/audit.h"

#include "services/common/csv.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/hashing.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

#include <algorithm>

namespace collections::compliance {
namespace {

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

v1::ChainBreak Break(const std::string& account_id, int64_t sequence, const LoggedRecord& record,
                     std::string reason, v1::ChainBreakKind kind) {
  v1::ChainBreak b;
  b.set_account_id(account_id);
  b.set_sequence(sequence);
  b.set_partition(record.partition);
  b.set_offset(record.offset);
  b.set_reason(std::move(reason));
  b.set_kind(kind);
  return b;
}

bool IsReasonField(const google::protobuf::FieldDescriptor& field) {
  const std::string& name = field.name();
  return name == "reason" || name == "note" || name == "resolution" ||
         (name.size() > 7 && name.compare(name.size() - 7, 7, "_reason") == 0);
}

// Walks the payload by reflection, because the reason of 40 event types lives in
// differently shaped messages (PaymentReversed.reason is an enum, Dispute.reason a nested
// string); a hand-written switch would silently miss the next event type added.
void CollectReasons(const google::protobuf::Message& message, const std::string& path, int depth,
                    std::vector<std::string>& out) {
  if (depth > 4) return;  // payloads are shallow; the bound only guards against recursion
  const auto* reflection = message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const auto* field : fields) {
    const std::string name = path.empty() ? field->name() : absl::StrCat(path, ".", field->name());
    if (field->is_repeated()) continue;  // reasons are single values in every event type
    if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      CollectReasons(reflection->GetMessage(message, field), name, depth + 1, out);
      continue;
    }
    if (!IsReasonField(*field)) continue;
    if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
      std::string value = reflection->GetString(message, field);
      if (!value.empty()) out.push_back(absl::StrCat(name, ": ", value));
    } else if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_ENUM) {
      out.push_back(absl::StrCat(name, ": ", reflection->GetEnum(message, field)->name()));
    }
  }
}

}  // namespace

LoggedRecord DecodeRecord(int32_t partition, int64_t offset, std::string key,
                          const std::string& value) {
  LoggedRecord record;
  record.partition = partition;
  record.offset = offset;
  record.key = std::move(key);
  record.parsed = record.envelope.ParseFromString(value);
  if (!record.parsed) record.envelope.Clear();
  return record;
}

const std::string& AccountOf(const LoggedRecord& record) {
  return record.parsed && !record.envelope.account_id().empty() ? record.envelope.account_id()
                                                                : record.key;
}

RecordsByAccount GroupByAccount(std::vector<LoggedRecord> records) {
  RecordsByAccount out;
  for (auto& r : records) {
    std::string account = AccountOf(r);
    out[account].push_back(std::move(r));
  }
  for (auto& [account, list] : out) {
    std::stable_sort(list.begin(), list.end(), [](const LoggedRecord& a, const LoggedRecord& b) {
      return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
    });
  }
  return out;
}

std::string SequenceGapReason(int64_t expected, int64_t got) {
  return absl::StrCat("sequence gap: expected ", expected, " got ", got);
}

void ChainVerifier::Add(const LoggedRecord& record) {
  const std::string& account_id = AccountOf(record);
  Cursor& c = accounts_[account_id];
  ++c.events;
  if (!record.parsed) {
    c.breaks.push_back(
        Break(account_id, c.expected, record, kUnparseable, v1::CHAIN_BREAK_KIND_UNPARSEABLE));
    return;
  }
  const v1::EventEnvelope& e = record.envelope;
  const bool gap = e.sequence() != c.expected;
  if (gap) {
    c.breaks.push_back(Break(account_id, e.sequence(), record,
                             SequenceGapReason(c.expected, e.sequence()),
                             v1::CHAIN_BREAK_KIND_SEQUENCE_GAP));
  }
  if (ChainHash(e) != e.hash()) {
    c.breaks.push_back(Break(account_id, e.sequence(), record, kHashMismatch,
                             v1::CHAIN_BREAK_KIND_HASH_MISMATCH));
  }
  // After a gap the link to the previous record is broken by definition; saying so twice
  // would only make the examiner's list longer.
  if (!gap && e.prev_hash() != c.prev_hash) {
    c.breaks.push_back(Break(account_id, e.sequence(), record, kPrevHashMismatch,
                             v1::CHAIN_BREAK_KIND_PREV_HASH_MISMATCH));
  }
  // Continue from what this record claims, so one bad record is reported once and the
  // records after it are still checked against each other.
  c.expected = e.sequence() + 1;
  c.prev_hash = e.hash();
  if (!keys_.empty()) CheckSignature(account_id, c, record);
}

void ChainVerifier::CheckSignature(const std::string& account_id, Cursor& c,
                                   const LoggedRecord& record) {
  if (c.signatures == nullptr) c.signatures = std::make_unique<authz::SignatureChecker>(keys_);
  const v1::EventEnvelope& e = record.envelope;
  auto unsigned_break = [&](const LoggedRecord& r) {
    c.breaks.push_back(Break(account_id, r.envelope.sequence(), r,
                             "no writer signature covers the event",
                             v1::CHAIN_BREAK_KIND_UNSIGNED));
  };
  // Keep what a break needs (position, sequence), not the whole event.
  LoggedRecord light;
  light.partition = record.partition;
  light.offset = record.offset;
  light.envelope.set_sequence(e.sequence());
  c.unsigned_records.push_back(std::move(light));
  auto r = c.signatures->Feed(e);
  using O = authz::SignatureChecker::Outcome;
  switch (r.outcome) {
    case O::kPending:
      return;
    case O::kSigned:
      c.unsigned_records.clear();
      return;
    case O::kUnknownKey:
    case O::kBadSignature:
      c.breaks.push_back(Break(account_id, e.sequence(), record, r.message,
                               r.outcome == O::kUnknownKey ? v1::CHAIN_BREAK_KIND_UNKNOWN_KEY
                                                           : v1::CHAIN_BREAK_KIND_BAD_SIGNATURE));
      // What it claimed to cover is covered by nothing trustworthy.
      for (size_t i = 0; i + 1 < c.unsigned_records.size(); ++i)
        unsigned_break(c.unsigned_records[i]);
      c.unsigned_records.clear();
      c.signatures->Reset();
      return;
    case O::kBadCoverage: {
      // A valid signature that leaves earlier events out: those are unsigned.
      const size_t covered = static_cast<size_t>(std::max(1, e.signature().event_count()));
      const size_t uncovered = c.unsigned_records.size() > covered
                                   ? c.unsigned_records.size() - covered
                                   : c.unsigned_records.size();
      for (size_t i = 0; i < uncovered; ++i) unsigned_break(c.unsigned_records[i]);
      c.unsigned_records.clear();
      return;
    }
  }
}

v1::VerifyAuditTrailResponse ChainVerifier::Finish() {
  v1::VerifyAuditTrailResponse out;
  for (auto& [account, cursor] : accounts_) {
    // Events at the end of the account that no signature covered.
    for (const auto& r : cursor.unsigned_records) {
      cursor.breaks.push_back(Break(account, r.envelope.sequence(), r,
                                    "no writer signature covers the event",
                                    v1::CHAIN_BREAK_KIND_UNSIGNED));
    }
    out.set_accounts_checked(out.accounts_checked() + 1);
    out.set_events_checked(out.events_checked() + cursor.events);
    for (auto& b : cursor.breaks) *out.add_breaks() = std::move(b);
  }
  out.set_intact(out.breaks_size() == 0);
  accounts_.clear();
  return out;
}

std::vector<v1::ChainBreak> VerifyChain(const std::string& account_id,
                                        const std::vector<LoggedRecord>& records) {
  // The account is given rather than taken from each record, so key the verifier by it.
  ChainVerifier verifier;
  for (const auto& record : records) {
    if (AccountOf(record) == account_id) {
      verifier.Add(record);
    } else {
      LoggedRecord copy = record;
      copy.key = account_id;
      if (copy.parsed) copy.envelope.set_account_id(account_id);
      verifier.Add(copy);
    }
  }
  auto verdict = verifier.Finish();
  return {verdict.breaks().begin(), verdict.breaks().end()};
}

v1::VerifyAuditTrailResponse VerifyAll(const RecordsByAccount& accounts,
                                       const std::vector<authz::VerifyingKey>& keys) {
  v1::VerifyAuditTrailResponse out;
  for (const auto& [account, records] : accounts) {
    out.set_accounts_checked(out.accounts_checked() + 1);
    out.set_events_checked(out.events_checked() + static_cast<int64_t>(records.size()));
    if (keys.empty()) {
      for (auto& b : VerifyChain(account, records)) *out.add_breaks() = std::move(b);
      continue;
    }
    ChainVerifier verifier(keys);
    for (const auto& r : records) verifier.Add(r);
    auto verdict = verifier.Finish();
    for (auto& b : *verdict.mutable_breaks()) *out.add_breaks() = std::move(b);
  }
  out.set_intact(out.breaks_size() == 0);
  return out;
}

bool InCut(const v1::EventEnvelope& event, const ReplayCut& cut) {
  if (cut.as_of_business_time && ToTime(event.occurred_at()) > *cut.as_of_business_time)
    return false;
  if (cut.as_known_at && ToTime(event.recorded_at()) > *cut.as_known_at) return false;
  return true;
}

bool Replayer::Next(const LoggedRecord& record, bool with_state, v1::ReplayStep* step) {
  if (!record.parsed) return false;
  // The integrity gate sees every record (the chain runs through those outside the cut too).
  std::string integrity;
  bool released = true;
  if (gate_.checks_signatures()) {
    auto outcome = gate_.Admit(shadow_, record.envelope, record.partition, record.offset);
    if (!outcome.apply.empty()) {
      shadow_.set_version(outcome.apply.back()->sequence());
      shadow_.set_last_hash(outcome.apply.back()->hash());
    }
    released = !outcome.apply.empty();
    if (outcome.quarantined_now || outcome.ignored) {
      integrity = shadow_.quarantine().reason();
      // Events of its command held for a signature that never came are not genuine either.
      if (outcome.quarantined_now) state_ = genuine_state_;
    }
  }
  if (!InCut(record.envelope, cut_)) {
    if (released && integrity.empty()) genuine_state_ = state_;
    return false;
  }
  step->Clear();
  if (integrity.empty()) {
    Evolve(state_, record.envelope);
    state_.mutable_last_position()->set_partition(record.partition);
    state_.mutable_last_position()->set_offset(record.offset);
    if (released) genuine_state_ = state_;
  } else {
    step->set_integrity(integrity);  // shown, marked, never applied
  }
  *step->mutable_event() = record.envelope;
  if (with_state) *step->mutable_state_after() = state_;
  step->mutable_position()->set_partition(record.partition);
  step->mutable_position()->set_offset(record.offset);
  return true;
}

std::vector<v1::ReplayStep> Replay(const std::vector<LoggedRecord>& records, const ReplayCut& cut,
                                   const std::vector<authz::VerifyingKey>& keys) {
  std::vector<v1::ReplayStep> steps;
  Replayer replayer(cut, keys);
  v1::ReplayStep step;
  for (const auto& r : records) {
    if (replayer.Next(r, /*with_state=*/true, &step)) steps.push_back(step);
  }
  return steps;
}

std::vector<std::string> PayloadReasons(const v1::EventEnvelope& event) {
  std::vector<std::string> out;
  if (event.payload_case() == v1::EventEnvelope::PAYLOAD_NOT_SET) return out;
  const auto* field = v1::EventEnvelope::descriptor()->FindFieldByNumber(event.payload_case());
  CollectReasons(event.GetReflection()->GetMessage(event, field), field->name(), 0, out);
  return out;
}

v1::AuditEntry ToAuditEntry(const LoggedRecord& record) {
  v1::AuditEntry entry;
  entry.set_account_id(AccountOf(record));
  entry.mutable_position()->set_partition(record.partition);
  entry.mutable_position()->set_offset(record.offset);
  if (!record.parsed) {
    entry.set_event_type("unparseable");
    return entry;
  }
  const v1::EventEnvelope& e = record.envelope;
  entry.set_sequence(e.sequence());
  entry.set_event_id(e.event_id());
  entry.set_event_type(EventType(e));
  *entry.mutable_actor() = e.actor();
  *entry.mutable_occurred_at() = e.occurred_at();
  *entry.mutable_recorded_at() = e.recorded_at();
  for (auto& reason : PayloadReasons(e)) entry.add_reasons(std::move(reason));
  if (e.has_late_entry()) {
    // Recorded after its family's back-dating limit: the examiner sees who allowed it and why.
    entry.add_reasons("late entry: " + e.late_entry().reason() + " (" + e.late_entry().family() +
                      ", by " + e.late_entry().authorized_by() + " as " + e.late_entry().role() +
                      ")");
  }
  if (e.has_decision()) *entry.mutable_decision() = e.decision();
  *entry.mutable_envelope() = e;
  return entry;
}

std::string CsvHeader() {
  return "account_id,sequence,event_id,event_type,occurred_at,recorded_at,actor_id,actor_role,"
         "command_id,correlation_id,reason,rule_id,policy_version,hash_hex,prev_hash_hex\n";
}

std::string CsvRow(const v1::AuditEntry& entry) {
  const v1::EventEnvelope& e = entry.envelope();
  std::vector<std::string> reasons(entry.reasons().begin(), entry.reasons().end());
  if (!entry.decision().reason().empty())
    reasons.push_back("decision: " + entry.decision().reason());
  const std::string& policy =
      e.policy_version().empty() ? entry.decision().policy_version() : e.policy_version();
  std::vector<std::string> fields = {entry.account_id(),
                                     absl::StrCat(entry.sequence()),
                                     entry.event_id(),
                                     entry.event_type(),
                                     Rfc3339(entry.occurred_at()),
                                     Rfc3339(entry.recorded_at()),
                                     entry.actor().id(),
                                     entry.actor().role(),
                                     e.command_id(),
                                     e.correlation_id(),
                                     absl::StrJoin(reasons, "; "),
                                     entry.decision().rule_id(),
                                     policy,
                                     Hex(e.hash()),
                                     Hex(e.prev_hash())};
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line.push_back(',');
    line += CsvCell(fields[i]);
  }
  line.push_back('\n');
  return line;
}

std::string Rfc3339(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", ToTime(timestamp), absl::UTCTimeZone());
}

}  // namespace collections::compliance
