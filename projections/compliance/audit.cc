#include "projections/compliance/audit.h"

#include "services/authz/integrity.h"
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

std::string CsvField(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
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

std::vector<v1::ChainBreak> VerifyChain(const std::string& account_id,
                                        const std::vector<LoggedRecord>& records) {
  std::vector<v1::ChainBreak> breaks;
  int64_t expected = 1;
  std::string prev_hash;  // the hash the next event must point back to
  for (const auto& record : records) {
    if (!record.parsed) {
      breaks.push_back(
          Break(account_id, expected, record, kUnparseable, v1::CHAIN_BREAK_KIND_UNPARSEABLE));
      continue;
    }
    const v1::EventEnvelope& e = record.envelope;
    const bool gap = e.sequence() != expected;
    if (gap) {
      breaks.push_back(Break(account_id, e.sequence(), record,
                             SequenceGapReason(expected, e.sequence()),
                             v1::CHAIN_BREAK_KIND_SEQUENCE_GAP));
    }
    if (ChainHash(e) != e.hash()) {
      breaks.push_back(Break(account_id, e.sequence(), record, kHashMismatch,
                             v1::CHAIN_BREAK_KIND_HASH_MISMATCH));
    }
    // After a gap the link to the previous record is broken by definition; saying so twice
    // would only make the examiner's list longer.
    if (!gap && e.prev_hash() != prev_hash) {
      breaks.push_back(Break(account_id, e.sequence(), record, kPrevHashMismatch,
                             v1::CHAIN_BREAK_KIND_PREV_HASH_MISMATCH));
    }
    // Continue from what this record claims, so one bad record is reported once and the
    // records after it are still checked against each other.
    expected = e.sequence() + 1;
    prev_hash = e.hash();
  }
  return breaks;
}

std::vector<v1::ChainBreak> VerifySignatures(const std::string& account_id,
                                             const std::vector<LoggedRecord>& records,
                                             const std::vector<authz::VerifyingKey>& keys) {
  std::vector<v1::ChainBreak> breaks;
  authz::SignatureChecker checker(keys);
  std::vector<const LoggedRecord*> pending;
  auto unsigned_break = [&](const LoggedRecord* r) {
    breaks.push_back(Break(account_id, r->envelope.sequence(), *r,
                           "no writer signature covers the event",
                           v1::CHAIN_BREAK_KIND_UNSIGNED));
  };
  for (const auto& record : records) {
    if (!record.parsed) continue;  // VerifyChain reports it
    pending.push_back(&record);
    auto r = checker.Feed(record.envelope);
    using O = authz::SignatureChecker::Outcome;
    switch (r.outcome) {
      case O::kPending:
        break;
      case O::kSigned:
        pending.clear();
        break;
      case O::kUnknownKey:
      case O::kBadSignature:
        breaks.push_back(Break(account_id, record.envelope.sequence(), record, r.message,
                               r.outcome == O::kUnknownKey ? v1::CHAIN_BREAK_KIND_UNKNOWN_KEY
                                                           : v1::CHAIN_BREAK_KIND_BAD_SIGNATURE));
        // What it claimed to cover is covered by nothing trustworthy.
        for (size_t i = 0; i + 1 < pending.size(); ++i) unsigned_break(pending[i]);
        pending.clear();
        checker.Reset();
        break;
      case O::kBadCoverage: {
        // A valid signature that leaves earlier events out: those are unsigned.
        const int64_t covered = record.envelope.signature().event_count();
        const size_t uncovered = pending.size() > static_cast<size_t>(covered)
                                     ? pending.size() - static_cast<size_t>(covered)
                                     : pending.size();
        for (size_t i = 0; i < uncovered; ++i) unsigned_break(pending[i]);
        pending.clear();
        break;
      }
    }
  }
  for (const auto* r : pending) unsigned_break(r);
  return breaks;
}

v1::VerifyAuditTrailResponse VerifyAll(const RecordsByAccount& accounts,
                                       const std::vector<authz::VerifyingKey>& keys) {
  v1::VerifyAuditTrailResponse out;
  for (const auto& [account, records] : accounts) {
    out.set_accounts_checked(out.accounts_checked() + 1);
    out.set_events_checked(out.events_checked() + static_cast<int64_t>(records.size()));
    for (auto& b : VerifyChain(account, records)) *out.add_breaks() = std::move(b);
    if (!keys.empty()) {
      for (auto& b : VerifySignatures(account, records, keys)) *out.add_breaks() = std::move(b);
    }
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

std::map<size_t, std::string> IntegrityLabels(const std::vector<LoggedRecord>& records,
                                              const std::vector<authz::VerifyingKey>& keys) {
  std::map<size_t, std::string> labels;
  authz::IntegrityGate gate(keys);
  v1::Account shadow;
  std::vector<size_t> held;
  for (size_t i = 0; i < records.size(); ++i) {
    if (!records[i].parsed) continue;
    auto outcome = gate.Admit(shadow, records[i].envelope, records[i].partition,
                              records[i].offset);
    if (outcome.quarantined_now || outcome.ignored) {
      for (size_t h : held) labels[h] = shadow.quarantine().reason();
      held.clear();
      labels[i] = shadow.quarantine().reason();
      continue;
    }
    if (outcome.apply.empty()) {
      held.push_back(i);
      continue;
    }
    held.clear();
    // Keep the shadow's chain head where the projection's would be.
    shadow.set_version(outcome.apply.back().sequence());
    shadow.set_last_hash(outcome.apply.back().hash());
  }
  for (size_t h : held) labels[h] = "UNSIGNED";
  return labels;
}

std::vector<v1::ReplayStep> Replay(const std::vector<LoggedRecord>& records, const ReplayCut& cut,
                                   const std::vector<authz::VerifyingKey>& keys) {
  std::map<size_t, std::string> labels = IntegrityLabels(records, keys);
  std::map<const LoggedRecord*, std::string> label_of;
  for (const auto& [i, reason] : labels) label_of[&records[i]] = reason;
  std::vector<const LoggedRecord*> ordered;
  for (const auto& r : records) {
    if (r.parsed && InCut(r.envelope, cut)) ordered.push_back(&r);
  }
  // Log order is sequence order for an intact chain; sorting makes a replay of a damaged log
  // still follow the account's versions.
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const LoggedRecord* a, const LoggedRecord* b) {
                     return a->envelope.sequence() < b->envelope.sequence();
                   });
  std::vector<v1::ReplayStep> steps;
  steps.reserve(ordered.size());
  v1::Account state;
  for (const LoggedRecord* r : ordered) {
    auto label = label_of.find(r);
    v1::ReplayStep step;
    if (label != label_of.end()) {
      // Not the service's: shown, marked, never applied.
      step.set_integrity(label->second);
    } else {
      Evolve(state, r->envelope);
      state.mutable_last_position()->set_partition(r->partition);
      state.mutable_last_position()->set_offset(r->offset);
    }
    *step.mutable_event() = r->envelope;
    *step.mutable_state_after() = state;
    step.mutable_position()->set_partition(r->partition);
    step.mutable_position()->set_offset(r->offset);
    steps.push_back(std::move(step));
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
    line += CsvField(fields[i]);
  }
  line.push_back('\n');
  return line;
}

std::string Rfc3339(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", ToTime(timestamp), absl::UTCTimeZone());
}

}  // namespace collections::compliance
