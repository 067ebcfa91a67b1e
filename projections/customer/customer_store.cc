#include "projections/customer/customer_store.h"

#include "projections/store/store.h"

#include "absl/strings/str_format.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

namespace collections::customer {
namespace {

Error StorageError(const rocksdb::Status& s, const std::string& what) {
  return Error{Errc::kInternal, "STORAGE_ERROR", what + ": " + s.ToString(), {}, {}};
}

}  // namespace

std::string CustomerPrefix(std::string_view customer_id) {
  std::string key(customer_id);
  key.push_back('\0');
  return key;
}

std::string DayKey(absl::CivilDay d) {
  return absl::StrFormat("%04d%02d%02d", d.year(), d.month(), d.day());
}

bool ParseDayKey(std::string_view key, absl::CivilDay* day) {
  if (key.size() != 8) return false;
  const std::string s(key);
  return absl::ParseCivilTime(s.substr(0, 4) + "-" + s.substr(4, 2) + "-" + s.substr(6, 2), day);
}

std::string ItemKey(std::string_view customer_id, char kind, std::string_view id) {
  std::string key = CustomerPrefix(customer_id);
  key.push_back(kind);
  key.append(id);
  return key;
}

std::string OpenInvoicePrefix(std::string_view customer_id) {
  return CustomerPrefix(customer_id) + kInvoiceItem;
}

std::string OpenInvoiceKey(std::string_view customer_id, absl::CivilDay due,
                           std::string_view invoice_id) {
  std::string key = OpenInvoicePrefix(customer_id) + DayKey(due);
  key.append(invoice_id);
  return key;
}

std::string OpenDiscrepancyPrefix(std::string_view customer_id) {
  return CustomerPrefix(customer_id) + kDiscrepancyItem;
}

std::string HoldKey(std::string_view customer_id, std::string_view hold_id) {
  std::string key = CustomerPrefix(customer_id);
  key.append(hold_id);
  return key;
}

std::string LineKey(std::string_view customer_id, absl::CivilDay date, int64_t sequence) {
  std::string key = CustomerPrefix(customer_id) + DayKey(date);
  for (int shift = 56; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((static_cast<uint64_t>(sequence) >> shift) & 0xff));
  }
  return key;
}

std::string SnapshotKey(std::string_view customer_id, absl::CivilDay month_end) {
  return CustomerPrefix(customer_id) + DayKey(month_end);
}

CustomerStore::~CustomerStore() {
  for (auto* h : handles_) {
    if (db_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
}

Result<std::unique_ptr<CustomerStore>> CustomerStore::Open(const std::string& path) {
  auto opened = rocksdb_util::OpenWithLayout(
      path,
      {rocksdb::kDefaultColumnFamilyName, "heads", "items", "open", "holds", "facts", "late",
       "snapshots"},
      kLayoutVersion, "customer store");
  if (!opened) return opened.error();
  std::unique_ptr<CustomerStore> store(new CustomerStore());
  store->db_ = std::move(opened.value().db);
  store->handles_ = std::move(opened.value().handles);
  return store;
}

Status CustomerStore::Destroy(const std::string& path) {
  rocksdb::Status s = rocksdb::DestroyDB(path, rocksdb::Options());
  if (!s.ok()) return StorageError(s, "deleting customer store " + path);
  return std::nullopt;
}

Result<std::map<int32_t, int64_t>> CustomerStore::LoadOffsets() const {
  return rocksdb_util::LoadOffsets(*db_, handles_[0]);
}

uint64_t CustomerStore::IntProperty(const std::string& name) const {
  return rocksdb_util::IntProperty(*db_, name);
}

CustomerStore::Reader::Reader(const CustomerStore& store)
    : store_(store), snapshot_(store.db_->GetSnapshot()) {}

CustomerStore::Reader::~Reader() { store_.db_->ReleaseSnapshot(snapshot_); }

std::unique_ptr<CustomerStore::Reader> CustomerStore::NewReader() const {
  return std::unique_ptr<Reader>(new Reader(*this));
}

Result<std::optional<std::string>> CustomerStore::Reader::Get(Family family,
                                                              const std::string& key) const {
  rocksdb::ReadOptions options;
  options.snapshot = snapshot_;
  std::string value;
  rocksdb::Status s = store_.db_->Get(options, store_.handle(family), key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return StorageError(s, "reading the customer store");
  return std::optional<std::string>(std::move(value));
}

Status CustomerStore::Reader::Scan(
    Family family, const std::string& start, const std::string& limit,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  rocksdb::ReadOptions options;
  options.snapshot = snapshot_;
  std::unique_ptr<rocksdb::Iterator> it(store_.db_->NewIterator(options, store_.handle(family)));
  for (it->Seek(start); it->Valid(); it->Next()) {
    if (!limit.empty() && it->key().compare(limit) >= 0) break;
    if (!visit(std::string_view(it->key().data(), it->key().size()),
               std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  if (!it->status().ok()) return StorageError(it->status(), "scanning the customer store");
  return std::nullopt;
}

Result<std::optional<std::pair<std::string, std::string>>> CustomerStore::Reader::Floor(
    Family family, const std::string& key, const std::string& prefix) const {
  rocksdb::ReadOptions options;
  options.snapshot = snapshot_;
  std::unique_ptr<rocksdb::Iterator> it(store_.db_->NewIterator(options, store_.handle(family)));
  it->SeekForPrev(key);
  if (!it->status().ok()) return StorageError(it->status(), "reading the customer store");
  if (!it->Valid() || !it->key().starts_with(prefix)) {
    return std::optional<std::pair<std::string, std::string>>();
  }
  return std::optional<std::pair<std::string, std::string>>(
      std::make_pair(it->key().ToString(), it->value().ToString()));
}

Status CustomerStore::Apply(const Batch& batch) {
  rocksdb::WriteBatch wb;
  // Maps iterate in key order: each family's rows go in sorted, as RocksDB's memtable likes.
  for (int f = 1; f < kFamilies; ++f) {
    for (const auto& [key, value] : batch.writes[f]) {
      if (value) {
        wb.Put(handles_[f], key, *value).PermitUncheckedError();
      } else {
        wb.Delete(handles_[f], key).PermitUncheckedError();
      }
    }
  }
  rocksdb_util::PutOffsets(wb, handles_[0], batch.next_offsets);
  rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &wb);
  if (!s.ok()) return StorageError(s, "applying a customer batch");
  return std::nullopt;
}

Result<std::string> CustomerStore::Digest() const { return DigestColumnFamilies(*db_, handles_); }

}  // namespace collections::customer
