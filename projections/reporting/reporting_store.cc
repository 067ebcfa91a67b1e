#include "projections/reporting/reporting_store.h"

#include "projections/store/store.h"
#include "services/domain/hashing.h"

#include "absl/strings/str_format.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

namespace collections::reporting {
namespace {

Error StorageError(const rocksdb::Status& s, const std::string& what) {
  return Error{Errc::kInternal, "STORAGE_ERROR", what + ": " + s.ToString(), {}, {}};
}

std::string DayKey(int64_t year, int month, int day) {
  return absl::StrFormat("%04d%02d%02d", year, month, day);
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
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {"accounts", rocksdb::ColumnFamilyOptions()},
      {"facts", rocksdb::ColumnFamilyOptions()},
  };
  std::unique_ptr<ReportingStore> store(new ReportingStore());
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, families, &store->handles_, &db);
  if (!s.ok()) return StorageError(s, "opening reporting store " + path);
  store->db_.reset(db);
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
  for (const auto& fact : batch.facts) {
    wb.Put(handles_[2], FactKey(fact), CanonicalBytes(fact)).PermitUncheckedError();
  }
  rocksdb_util::PutOffsets(wb, handles_[0], batch.next_offsets);
  rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &wb);
  if (!s.ok()) return StorageError(s, "applying a reporting batch");
  return std::nullopt;
}

Result<std::vector<v1::ReportFact>> ReportingStore::ScanFacts(absl::CivilDay from,
                                                              absl::CivilDay to) const {
  std::vector<v1::ReportFact> out;
  const std::string start = DayKey(from.year(), from.month(), from.day());
  // Every key of `to` starts with its date and a '\0'; the next byte value bounds them all.
  std::string limit = DayKey(to.year(), to.month(), to.day());
  limit.push_back('\x01');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[2]));
  for (it->Seek(start); it->Valid() && it->key().compare(limit) < 0; it->Next()) {
    v1::ReportFact fact;
    if (!fact.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Error{Errc::kInternal, "CORRUPT_ROW", "a reporting fact row does not parse", {}, {}};
    }
    out.push_back(std::move(fact));
  }
  if (!it->status().ok()) return StorageError(it->status(), "reading reporting facts");
  return out;
}

Result<std::string> ReportingStore::Digest() const { return DigestColumnFamilies(*db_, handles_); }

}  // namespace collections::reporting
