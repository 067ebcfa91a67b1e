#include "projections/store/store.h"

#include "services/common/log.h"
#include "services/domain/hashing.h"

#include <openssl/evp.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

namespace collections {
namespace {

constexpr char kOffsetPrefix[] = "offset/";
constexpr char kLayoutKey[] = "layout";

void PutBigEndian(std::string& out, uint64_t value, int bytes) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

uint64_t GetBigEndian(const char* data, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | static_cast<unsigned char>(data[i]);
  return value;
}

// Length-prefixed, so no account id is a prefix of another's keys.
std::string LogPrefix(const std::string& account_id, int32_t partition) {
  std::string key;
  PutBigEndian(key, account_id.size(), 4);
  key += account_id;
  PutBigEndian(key, static_cast<uint32_t>(partition), 4);
  return key;
}

Error StorageError(const rocksdb::Status& s, const std::string& what) {
  return Error{Errc::kInternal, "STORAGE_ERROR", what + ": " + s.ToString(), {}, {}};
}

std::string EventKey(const std::string& account_id, int64_t sequence) {
  std::string key = account_id;
  key.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((static_cast<uint64_t>(sequence) >> shift) & 0xff));
  }
  return key;
}

}  // namespace

ProjectionStore::~ProjectionStore() {
  for (auto* h : handles_) {
    if (db_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
}

Result<std::unique_ptr<ProjectionStore>> ProjectionStore::Open(const std::string& path) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {"accounts", rocksdb::ColumnFamilyOptions()},
      {"events", rocksdb::ColumnFamilyOptions()},
      {"index", rocksdb::ColumnFamilyOptions()},
      {"log", rocksdb::ColumnFamilyOptions()},
      {"list", rocksdb::ColumnFamilyOptions()},
  };
  // A store of an older layout lacks rows the readers now rely on (a missing "log" copy would
  // make an account's audit trail look empty): it is rebuilt from the log, never patched.
  std::vector<std::string> existing;
  const bool exists = rocksdb::DB::ListColumnFamilies(options, path, &existing).ok();
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<ProjectionStore> store(new ProjectionStore());
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options, path, families, &store->handles_, &db);
    if (!s.ok()) return StorageError(s, "opening projection store " + path);
    store->db_.reset(db);
    std::string layout;
    s = db->Get(rocksdb::ReadOptions(), store->handles_[0], kLayoutKey, &layout);
    if (!s.ok() && !s.IsNotFound()) return StorageError(s, "reading the layout of " + path);
    const std::string current = std::to_string(kLayoutVersion);
    if (layout == current) return store;
    if (!exists || attempt > 0) {
      s = db->Put(rocksdb::WriteOptions(), store->handles_[0], kLayoutKey, current);
      if (!s.ok()) return StorageError(s, "writing the layout of " + path);
      return store;
    }
    LogWarn("projection", "store ", path, " has layout ", layout.empty() ? "1" : layout,
            ", this build writes layout ", current,
            ": deleting it and rebuilding it from offset 0 of the log");
    store.reset();
    if (auto e = Destroy(path)) return *e;
  }
}

Status ProjectionStore::Destroy(const std::string& path) {
  rocksdb::Options options;
  rocksdb::Status s = rocksdb::DestroyDB(path, options);
  if (!s.ok()) return StorageError(s, "deleting projection store " + path);
  return std::nullopt;
}

namespace rocksdb_util {

uint64_t IntProperty(rocksdb::DB& db, const std::string& name) {
  uint64_t value = 0;
  const bool database_wide = name == "rocksdb.num-running-compactions" ||
                             name == "rocksdb.num-running-flushes" ||
                             name == "rocksdb.is-write-stopped" ||
                             name == "rocksdb.actual-delayed-write-rate" ||
                             name == "rocksdb.block-cache-usage";
  const bool known = database_wide ? db.GetIntProperty(name, &value)
                                   : db.GetAggregatedIntProperty(name, &value);
  return known ? value : 0;
}

Result<std::map<int32_t, int64_t>> LoadOffsets(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* meta) {
  std::map<int32_t, int64_t> offsets;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), meta));
  for (it->Seek(kOffsetPrefix); it->Valid() && it->key().starts_with(kOffsetPrefix); it->Next()) {
    std::string key = it->key().ToString().substr(sizeof(kOffsetPrefix) - 1);
    offsets[std::stoi(key)] = std::stoll(it->value().ToString());
  }
  if (!it->status().ok()) return StorageError(it->status(), "reading offsets");
  return offsets;
}

void PutOffsets(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* meta,
                const std::map<int32_t, int64_t>& next_offsets) {
  for (const auto& [p, offset] : next_offsets) {
    batch.Put(meta, kOffsetPrefix + std::to_string(p), std::to_string(offset))
        .PermitUncheckedError();
  }
}

}  // namespace rocksdb_util

Result<std::map<int32_t, int64_t>> ProjectionStore::LoadOffsets() const {
  return rocksdb_util::LoadOffsets(*db_, handles_[0]);
}

uint64_t ProjectionStore::IntProperty(const std::string& name) const {
  return rocksdb_util::IntProperty(*db_, name);
}

Result<std::optional<v1::Account>> ProjectionStore::GetAccount(
    const std::string& account_id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[1], account_id, &value);
  if (s.IsNotFound()) return std::optional<v1::Account>();
  if (!s.ok()) return StorageError(s, "reading account " + account_id);
  v1::Account account;
  if (!account.ParseFromString(value)) {
    return Error{
        Errc::kInternal, "CORRUPT_ROW", "account row " + account_id + " does not parse", {}, {}};
  }
  return std::optional<v1::Account>(std::move(account));
}

Result<std::optional<v1::Account>> ProjectionStore::GetListRow(
    const std::string& account_id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[5], account_id, &value);
  if (s.IsNotFound()) return std::optional<v1::Account>();
  if (!s.ok()) return StorageError(s, "reading the list row of " + account_id);
  v1::Account row;
  if (!row.ParseFromString(value)) {
    return Error{
        Errc::kInternal, "CORRUPT_ROW", "list row " + account_id + " does not parse", {}, {}};
  }
  return std::optional<v1::Account>(std::move(row));
}

v1::Account ListRow(const v1::Account& a) {
  v1::Account row;
  row.set_account_id(a.account_id());
  row.set_status(a.status());
  row.set_aging_bucket(a.aging_bucket());
  *row.mutable_balances() = a.balances();
  row.set_total_balance_minor(a.total_balance_minor());
  row.set_currency(a.currency());
  row.set_creditor(a.creditor());
  row.set_assignee(a.assignee());
  row.set_queue(a.queue());
  row.set_version(a.version());
  *row.mutable_due_date() = a.due_date();
  row.set_time_zone(a.time_zone());
  // What GetWorkQueue's Prioritize reads besides, reduced to the parts it looks at: the
  // bankruptcy, deceased and cease flags, the open disputes, the last promise, the last payment, the plan without its instalments,
  // the callback and the contact block, and one contact (it asks only whether there was any).
  row.mutable_flags()->set_bankruptcy(a.flags().bankruptcy());
  row.mutable_flags()->set_deceased(a.flags().deceased());
  row.mutable_flags()->set_cease_communication(a.flags().cease_communication());
  for (const auto& d : a.disputes()) {
    if (d.status() == v1::DISPUTE_STATUS_OPEN) *row.add_disputes() = d;
  }
  if (!a.promises().empty()) *row.add_promises() = a.promises(a.promises_size() - 1);
  if (a.has_last_payment()) *row.mutable_last_payment() = a.last_payment();
  if (a.has_plan()) {
    *row.mutable_plan() = a.plan();
    row.mutable_plan()->clear_instalments();
  }
  if (a.has_callback_at()) *row.mutable_callback_at() = a.callback_at();
  if (a.has_contact_blocked_until()) {
    *row.mutable_contact_blocked_until() = a.contact_blocked_until();
  }
  if (!a.contacts().empty()) *row.add_contacts() = a.contacts(0);
  return row;
}

Result<std::vector<std::string>> ProjectionStore::GetEvents(const std::string& account_id,
                                                            int64_t from_sequence,
                                                            int limit) const {
  std::vector<std::string> out;
  std::string prefix = account_id;
  prefix.push_back('\0');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[2]));
  for (it->Seek(EventKey(account_id, from_sequence));
       it->Valid() && it->key().starts_with(prefix) && static_cast<int>(out.size()) < limit;
       it->Next()) {
    out.push_back(it->value().ToString());
  }
  if (!it->status().ok()) return StorageError(it->status(), "reading events of " + account_id);
  return out;
}

Status ProjectionStore::ScanAccountLog(
    const std::string& account_id, int32_t partition, int64_t end_offset,
    const std::function<bool(AccountLogRecord&)>& visit) const {
  const std::string prefix = LogPrefix(account_id, partition);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[4]));
  AccountLogRecord record;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const rocksdb::Slice key = it->key();
    const rocksdb::Slice value = it->value();
    if (key.size() != prefix.size() + 8 || value.size() < 4) {
      return Error{Errc::kInternal, "CORRUPT_ROW", "log row of " + account_id + " is malformed",
                   {}, {}};
    }
    record.offset = static_cast<int64_t>(GetBigEndian(key.data() + prefix.size(), 8));
    if (record.offset >= end_offset) break;
    const uint64_t key_size = GetBigEndian(value.data(), 4);
    if (value.size() < 4 + key_size) {
      return Error{Errc::kInternal, "CORRUPT_ROW", "log row of " + account_id + " is malformed",
                   {}, {}};
    }
    record.account_id = account_id;
    record.partition = partition;
    record.key.assign(value.data() + 4, key_size);
    record.value.assign(value.data() + 4 + key_size, value.size() - 4 - key_size);
    if (!visit(record)) return std::nullopt;
  }
  if (!it->status().ok()) return StorageError(it->status(), "reading the log of " + account_id);
  return std::nullopt;
}

Status ProjectionStore::Apply(const Batch& batch) {
  rocksdb::WriteBatch wb;
  for (const auto& r : batch.log_records) {
    std::string key = LogPrefix(r.account_id, r.partition);
    PutBigEndian(key, static_cast<uint64_t>(r.offset), 8);
    std::string value;
    value.reserve(4 + r.key.size() + r.value.size());
    PutBigEndian(value, r.key.size(), 4);
    value += r.key;
    value += r.value;
    wb.Put(handles_[4], key, value).PermitUncheckedError();
  }
  for (const auto& [id, account] : batch.accounts) {
    wb.Put(handles_[1], id, CanonicalBytes(account)).PermitUncheckedError();
    wb.Put(handles_[5], id, CanonicalBytes(ListRow(account))).PermitUncheckedError();
  }
  for (const auto& [event, raw] : batch.events) {
    wb.Put(handles_[2], EventKey(event.account_id(), event.sequence()), raw).PermitUncheckedError();
  }
  for (const auto& key : batch.index_deletes) wb.Delete(handles_[3], key).PermitUncheckedError();
  for (const auto& key : batch.index_puts) wb.Put(handles_[3], key, "").PermitUncheckedError();
  rocksdb_util::PutOffsets(wb, handles_[0], batch.next_offsets);
  rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &wb);
  if (!s.ok()) return StorageError(s, "applying a batch");
  return std::nullopt;
}

std::string IndexPrefix(IndexDimension dimension, const std::string& value) {
  static constexpr const char* kNames[] = {"status", "bucket", "assignee", "queue", "creditor"};
  std::string key = kNames[static_cast<int>(dimension)];
  key.push_back('\0');
  key += value;
  key.push_back('\0');
  return key;
}

std::vector<std::string> IndexKeys(const v1::Account& a) {
  std::vector<std::string> keys;
  auto add = [&](IndexDimension d, const std::string& value) {
    if (!value.empty()) keys.push_back(IndexPrefix(d, value) + a.account_id());
  };
  add(IndexDimension::kStatus, std::to_string(a.status()));
  add(IndexDimension::kBucket, std::to_string(a.aging_bucket()));
  add(IndexDimension::kAssignee, a.assignee());
  add(IndexDimension::kQueue, a.queue());
  add(IndexDimension::kCreditor, a.creditor());
  return keys;
}

Result<std::vector<std::string>> ProjectionStore::ScanIndex(const std::string& prefix,
                                                            const std::string& start_after,
                                                            int limit) const {
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[3]));
  std::string start = prefix + start_after;
  for (it->Seek(start);
       it->Valid() && it->key().starts_with(prefix) && static_cast<int>(out.size()) < limit;
       it->Next()) {
    std::string id = it->key().ToString().substr(prefix.size());
    if (!start_after.empty() && id == start_after) continue;
    out.push_back(std::move(id));
  }
  if (!it->status().ok()) return StorageError(it->status(), "reading index");
  return out;
}

Result<std::vector<std::string>> ProjectionStore::ScanAccountIds(const std::string& start_after,
                                                                 int limit) const {
  std::vector<std::string> out;
  // The list rows have the same keys as the accounts and far smaller values to step over.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[5]));
  for (it->Seek(start_after); it->Valid() && static_cast<int>(out.size()) < limit; it->Next()) {
    std::string id = it->key().ToString();
    if (!start_after.empty() && id == start_after) continue;
    out.push_back(std::move(id));
  }
  if (!it->status().ok()) return StorageError(it->status(), "reading accounts");
  return out;
}

Result<std::string> DigestColumnFamilies(rocksdb::DB& db,
                                         const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  auto add = [&ctx](const rocksdb::Slice& s) {
    uint64_t n = s.size();
    EVP_DigestUpdate(ctx.get(), &n, sizeof n);  // length-prefixed: no ambiguity between rows
    EVP_DigestUpdate(ctx.get(), s.data(), s.size());
  };
  for (auto* h : handles) {
    add(h->GetName());
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      add(it->key());
      add(it->value());
    }
    if (!it->status().ok()) return StorageError(it->status(), "digest of " + h->GetName());
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), out, &len);
  return Hex(std::string(reinterpret_cast<char*>(out), len));
}

Result<std::string> ProjectionStore::Digest() const { return DigestColumnFamilies(*db_, handles_); }

}  // namespace collections
