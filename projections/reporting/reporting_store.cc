#include "projections/reporting/reporting_store.h"

#include "projections/reporting/facts.h"
#include "projections/store/store.h"
#include "services/common/log.h"
#include "services/domain/hashing.h"

#include "absl/strings/str_format.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <set>

namespace collections::reporting {
namespace {

Error StorageError(const rocksdb::Status& s, const std::string& what) {
  return Error{Errc::kInternal, "STORAGE_ERROR", what + ": " + s.ToString(), {}, {}};
}

std::string DayKey(int64_t year, int month, int day) {
  return absl::StrFormat("%04d%02d%02d", year, month, day);
}

std::string DayKey(absl::CivilDay d) { return DayKey(d.year(), d.month(), d.day()); }

// The late index's key: the fact key with the recorded date in front instead.
std::string LateKey(const v1::ReportFact& f) {
  return DayKey(ToDay(f.recorded_date())) + FactKey(f).substr(8);
}

std::string SnapshotPrefix(const std::string& account_id) { return account_id + '\0'; }

bool ParseDayKey(std::string_view key, absl::CivilDay* day) {
  if (key.size() != 8) return false;
  const std::string s(key);
  return absl::ParseCivilTime(s.substr(0, 4) + "-" + s.substr(4, 2) + "-" + s.substr(6, 2), day);
}

std::string AggregateRowKey(absl::CivilDay month_end, const AggregateKey& key) {
  return DayKey(month_end) + EncodeAggregateKey(key);
}

Error CorruptRow(const std::string& what) {
  return Error{Errc::kInternal, "CORRUPT_ROW", what + " does not parse", {}, {}};
}

}  // namespace

std::string FactKey(const v1::ReportFact& f) {
  std::string key =
      DayKey(f.business_date().year(), f.business_date().month(), f.business_date().day());
  key.push_back('\0');
  key += f.account_id();
  key.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((static_cast<uint64_t>(f.sequence()) >> shift) & 0xff));
  }
  return key;
}

ReportingStore::~ReportingStore() {
  for (auto* h : handles_) {
    if (db_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
}

Result<std::unique_ptr<ReportingStore>> ReportingStore::Open(const std::string& path) {
  // A store of an older layout lacks the snapshots and the late index the reports read: it is
  // rebuilt from the log, never patched.
  auto opened = rocksdb_util::OpenWithLayout(
      path, {rocksdb::kDefaultColumnFamilyName, "accounts", "facts", "late", "snapshots",
             "aggregates"},
      kReportingLayout, "reporting store");
  if (!opened) return opened.error();
  std::unique_ptr<ReportingStore> store(new ReportingStore());
  store->db_ = std::move(opened.value().db);
  store->handles_ = std::move(opened.value().handles);
  return store;
}

Status ReportingStore::Destroy(const std::string& path) {
  rocksdb::Status s = rocksdb::DestroyDB(path, rocksdb::Options());
  if (!s.ok()) return StorageError(s, "deleting reporting store " + path);
  return std::nullopt;
}

Result<std::map<int32_t, int64_t>> ReportingStore::LoadOffsets() const {
  return rocksdb_util::LoadOffsets(*db_, handles_[0]);
}

uint64_t ReportingStore::IntProperty(const std::string& name) const {
  return rocksdb_util::IntProperty(*db_, name);
}

Result<std::optional<v1::Account>> ReportingStore::GetBrief(const std::string& account_id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[1], account_id, &value);
  if (s.IsNotFound()) return std::optional<v1::Account>();
  if (!s.ok()) return StorageError(s, "reading account " + account_id);
  v1::Account brief;
  if (!brief.ParseFromString(value)) {
    return Error{Errc::kInternal,
                 "CORRUPT_ROW",
                 "reporting account row " + account_id + " does not parse",
                 {},
                 {}};
  }
  return std::optional<v1::Account>(std::move(brief));
}

Status ReportingStore::Apply(const Batch& batch) {
  rocksdb::WriteBatch wb;
  for (const auto& [id, brief] : batch.briefs) {
    wb.Put(handles_[1], id, CanonicalBytes(brief)).PermitUncheckedError();
  }
  // Each column family's rows go in in key order: RocksDB's memtable then inserts each one next
  // to the one before instead of searching for its place.
  std::vector<std::pair<std::string, std::string>> facts, late;
  facts.reserve(batch.facts.size());
  for (const auto& fact : batch.facts) {
    std::string bytes = CanonicalBytes(fact);
    if (ToDay(fact.recorded_date()) > ToDay(fact.business_date())) {
      late.emplace_back(LateKey(fact), bytes);
    }
    facts.emplace_back(FactKey(fact), std::move(bytes));
  }
  for (auto* rows : {&facts, &late}) {
    std::stable_sort(rows->begin(), rows->end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  for (const auto& [key, bytes] : facts) wb.Put(handles_[2], key, bytes).PermitUncheckedError();
  for (const auto& [key, bytes] : late) wb.Put(handles_[3], key, bytes).PermitUncheckedError();
  for (const auto& [id, snapshots] : batch.snapshots) {
    for (const auto& [day, state] : snapshots) {
      wb.Put(handles_[4], SnapshotPrefix(id) + DayKey(day), EncodeState(state))
          .PermitUncheckedError();
    }
  }
  // The aggregate rows are read, added to and written back: the projector is their only
  // writer (one thread), and a row that sums to zero is deleted, so the rows do not depend on
  // how the log was cut into batches.
  for (const auto& [month_end, deltas] : batch.aggregates) {
    for (const auto& [key, delta] : deltas) {
      const std::string row = AggregateRowKey(month_end, key);
      std::string value;
      rocksdb::Status got = db_->Get(rocksdb::ReadOptions(), handles_[5], row, &value);
      AggregateSums sums;
      if (got.ok()) {
        if (!DecodeSums(value, &sums)) return CorruptRow("a reporting aggregate row");
      } else if (!got.IsNotFound()) {
        return StorageError(got, "reading a reporting aggregate row");
      }
      sums.accounts += delta.accounts;
      sums.balance_minor += delta.balance_minor;
      if (sums.Zero()) {
        wb.Delete(handles_[5], row).PermitUncheckedError();
      } else {
        wb.Put(handles_[5], row, EncodeSums(sums)).PermitUncheckedError();
      }
    }
  }
  rocksdb_util::PutOffsets(wb, handles_[0], batch.next_offsets);
  rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &wb);
  if (!s.ok()) return StorageError(s, "applying a reporting batch");
  return std::nullopt;
}

Result<std::vector<v1::ReportFact>> ReportingStore::ScanFacts(absl::CivilDay from,
                                                              absl::CivilDay to) const {
  std::vector<v1::ReportFact> out;
  if (auto e = ScanFactsInto(rocksdb::ReadOptions(), from, to, out)) return *e;
  return out;
}

Status ReportingStore::ScanFactsInto(const rocksdb::ReadOptions& options, absl::CivilDay from,
                                     absl::CivilDay to, std::vector<v1::ReportFact>& out) const {
  const std::string start = DayKey(from.year(), from.month(), from.day());
  // Every key of `to` starts with its date and a '\0'; the next byte value bounds them all.
  std::string limit = DayKey(to.year(), to.month(), to.day());
  limit.push_back('\x01');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, handles_[2]));
  for (it->Seek(start); it->Valid() && it->key().compare(limit) < 0; it->Next()) {
    v1::ReportFact fact;
    if (!fact.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Error{Errc::kInternal, "CORRUPT_ROW", "a reporting fact row does not parse", {}, {}};
    }
    out.push_back(std::move(fact));
  }
  if (!it->status().ok()) return StorageError(it->status(), "reading reporting facts");
  return std::nullopt;
}

Result<std::map<absl::CivilDay, PositionState>> ReportingStore::GetSnapshots(
    const std::string& account_id) const {
  std::map<absl::CivilDay, PositionState> out;
  const std::string prefix = SnapshotPrefix(account_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[4]));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    absl::CivilDay date;
    PositionState state;
    if (!ParseDayKey(std::string_view(it->key().data() + prefix.size(),
                                      it->key().size() - prefix.size()),
                     &date) ||
        !DecodeState(std::string_view(it->value().data(), it->value().size()), &state)) {
      return CorruptRow("reporting snapshot row of " + account_id);
    }
    out.emplace(date, std::move(state));
  }
  if (!it->status().ok()) return StorageError(it->status(), "reading reporting snapshots");
  return out;
}

Status ReportingStore::ReadAggregateInto(const rocksdb::ReadOptions& options,
                                         absl::CivilDay month_end, Aggregate& out,
                                         int64_t* rows) const {
  // Every row of a month-end <= month_end: the keys start with the month-end's date.
  std::string limit = DayKey(month_end + 1);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, handles_[5]));
  for (it->SeekToFirst(); it->Valid() && it->key().compare(limit) < 0; it->Next()) {
    AggregateKey key;
    AggregateSums sums;
    if (it->key().size() < 8 ||
        !DecodeAggregateKey(std::string_view(it->key().data() + 8, it->key().size() - 8),
                            &key) ||
        !DecodeSums(std::string_view(it->value().data(), it->value().size()), &sums)) {
      return CorruptRow("a reporting aggregate row");
    }
    AddSums(out, key, sums);
    if (rows != nullptr) ++*rows;
  }
  if (!it->status().ok()) return StorageError(it->status(), "reading reporting aggregates");
  return std::nullopt;
}

Result<Aggregate> ReportingStore::ReadAggregate(absl::CivilDay month_end) const {
  Aggregate out;
  if (auto e = ReadAggregateInto(rocksdb::ReadOptions(), month_end, out, nullptr)) return *e;
  return out;
}

Result<ReportInput> ReportingStore::ReadInput(absl::CivilDay base_date, absl::CivilDay last,
                                              bool every_account, ReadStats* stats) const {
  ReportInput input;
  input.base_date = base_date;
  ReadStats read;
  // One RocksDB snapshot for every read below: a batch applied meanwhile is seen in full or
  // not at all, so no fact is both outside the snapshots (or aggregates) read and outside the
  // facts read.
  struct Pinned {
    rocksdb::DB& db;
    const rocksdb::Snapshot* snapshot;
    ~Pinned() { db.ReleaseSnapshot(snapshot); }
  } pinned{*db_, db_->GetSnapshot()};
  rocksdb::ReadOptions options;
  options.snapshot = pinned.snapshot;
  if (last > base_date) {
    if (auto e = ScanFactsInto(options, base_date + 1, last, input.facts)) return *e;
  }
  // Back-dated facts the snapshots do not hold: recorded after base_date, dated on or before it.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, handles_[3]));
  for (it->Seek(DayKey(base_date + 1)); it->Valid(); it->Next()) {
    v1::ReportFact fact;
    if (!fact.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return CorruptRow("a reporting late-fact row");
    }
    if (ToDay(fact.business_date()) <= base_date) input.facts.push_back(std::move(fact));
  }
  if (!it->status().ok()) return StorageError(it->status(), "reading reporting late facts");
  read.facts = static_cast<int64_t>(input.facts.size());

  const std::string base_key = DayKey(base_date);
  std::unique_ptr<rocksdb::Iterator> snaps(db_->NewIterator(options, handles_[4]));
  // The account's last snapshot on or before base_date, if any, into `base` (and `months`).
  std::map<std::string, absl::CivilDay> months;
  auto read_snapshot = [&](const std::string& id) -> Status {
    const std::string prefix = SnapshotPrefix(id);
    snaps->SeekForPrev(prefix + base_key);
    if (!snaps->Valid() || !snaps->key().starts_with(prefix)) return std::nullopt;
    PositionState state;
    absl::CivilDay month;
    if (!ParseDayKey(std::string_view(snaps->key().data() + prefix.size(),
                                      snaps->key().size() - prefix.size()),
                     &month) ||
        !DecodeState(std::string_view(snaps->value().data(), snaps->value().size()), &state)) {
      return CorruptRow("reporting snapshot row of " + id);
    }
    ++read.snapshots;
    input.base.emplace_hint(input.base.end(), id, std::move(state));  // ids come in order
    months.emplace_hint(months.end(), id, month);
    return std::nullopt;
  };
  if (every_account) {
    std::unique_ptr<rocksdb::Iterator> accounts(db_->NewIterator(options, handles_[1]));
    for (accounts->SeekToFirst(); accounts->Valid(); accounts->Next()) {
      if (auto e = read_snapshot(accounts->key().ToString())) return *e;
    }
    if (!accounts->status().ok()) return StorageError(accounts->status(), "reading accounts");
  } else {
    // Only the accounts a fact moves; every other one is in the aggregate.
    std::set<std::string> moved;
    for (const auto& f : input.facts) {
      if (MovesPosition(f.kind())) moved.insert(f.account_id());
    }
    for (const auto& id : moved) {
      if (auto e = read_snapshot(id)) return *e;
    }
    Aggregate unmoved;
    if (auto e = ReadAggregateInto(options, base_date, unmoved, &read.aggregate_rows)) return *e;
    for (const auto& [id, state] : input.base) {
      AddContribution(unmoved, state, months.at(id), -1);
    }
    input.unmoved = std::move(unmoved);
  }
  if (!snaps->status().ok()) return StorageError(snaps->status(), "reading reporting snapshots");
  if (stats != nullptr) *stats = read;
  return input;
}

Result<std::string> ReportingStore::Digest() const { return DigestColumnFamilies(*db_, handles_); }

}  // namespace collections::reporting
