#include "projections/store/store.h"

#include "services/common/log.h"
#include "services/domain/hashing.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <openssl/evp.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

namespace collections {
namespace {

constexpr char kOffsetPrefix[] = "offset/";

// Column families, in the order Open passes them.
constexpr int kMeta = 0;
constexpr int kAccounts = 1;
constexpr int kIndex = 2;
constexpr int kLog = 3;
constexpr int kList = 4;
constexpr int kItems = 5;
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

std::string ItemsPrefix(const std::string& account_id) {
  std::string key = account_id;
  key.push_back('\0');
  return key;
}

std::string ItemKey(const std::string& account_id, ProjectionStore::ItemList list,
                    uint32_t index) {
  std::string key = ItemsPrefix(account_id);
  key.push_back(static_cast<char>(list));
  PutBigEndian(key, index, 4);
  return key;
}

// Appends one entry, parsed from `bytes`, to `list` of `account`. False if it does not parse.
bool AddItem(v1::Account& account, ProjectionStore::ItemList list, const rocksdb::Slice& bytes) {
  const auto* field = v1::Account::descriptor()->FindFieldByNumber(static_cast<int>(list));
  if (field == nullptr || field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE ||
      !field->is_repeated()) {
    return false;
  }
  google::protobuf::Message* item = v1::Account::GetReflection()->AddMessage(&account, field);
  return item->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

}  // namespace

ProjectionStore::~ProjectionStore() {
  for (auto* h : handles_) {
    if (db_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
}

Result<std::unique_ptr<ProjectionStore>> ProjectionStore::Open(const std::string& path) {
  // A store of an older layout lacks rows the readers now rely on (a missing "log" copy would
  // make an account's audit trail look empty): it is rebuilt from the log, never patched.
  auto opened = rocksdb_util::OpenWithLayout(
      path, {rocksdb::kDefaultColumnFamilyName, "accounts", "index", "log", "list", "items"},
      kLayoutVersion, "projection store");
  if (!opened) return opened.error();
  std::unique_ptr<ProjectionStore> store(new ProjectionStore());
  store->db_ = std::move(opened.value().db);
  store->handles_ = std::move(opened.value().handles);
  return store;
}

Status ProjectionStore::Destroy(const std::string& path) {
  rocksdb::Options options;
  rocksdb::Status s = rocksdb::DestroyDB(path, options);
  if (!s.ok()) return StorageError(s, "deleting projection store " + path);
  return std::nullopt;
}

namespace rocksdb_util {

Result<OpenedDb> OpenWithLayout(const std::string& path, const std::vector<std::string>& families,
                                int layout, const std::string& what) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<std::string> existing;
  const bool exists = rocksdb::DB::ListColumnFamilies(options, path, &existing).ok();
  const std::string current = std::to_string(layout);
  for (int attempt = 0;; ++attempt) {
    // RocksDB opens a database only with all of its column families: an older layout may have
    // some this one no longer has (they go with the rebuild).
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : families) {
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    if (attempt == 0) {
      for (const auto& name : existing) {
        if (std::find(families.begin(), families.end(), name) == families.end()) {
          descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
        }
      }
    }
    OpenedDb opened;
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options, path, descriptors, &opened.handles, &db);
    if (!s.ok()) return StorageError(s, "opening " + what + " " + path);
    opened.db.reset(db);
    auto close = [&opened] {
      for (auto* h : opened.handles) opened.db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
      opened.handles.clear();
      opened.db.reset();
    };
    const bool extra_families = opened.handles.size() > families.size();
    std::string stored;
    s = db->Get(rocksdb::ReadOptions(), opened.handles[0], kLayoutKey, &stored);
    if (!s.ok() && !s.IsNotFound()) {
      close();
      return StorageError(s, "reading the layout of " + path);
    }
    if (stored == current && !extra_families) return opened;
    if (!exists || attempt > 0) {
      s = db->Put(rocksdb::WriteOptions(), opened.handles[0], kLayoutKey, current);
      if (!s.ok()) {
        close();
        return StorageError(s, "writing the layout of " + path);
      }
      return opened;
    }
    LogWarn("projection", what, " ", path, " has layout ", stored.empty() ? "1" : stored,
            ", this build writes layout ", current,
            ": deleting it and rebuilding it from offset 0 of the log");
    close();
    s = rocksdb::DestroyDB(path, options);
    if (!s.ok()) return StorageError(s, "deleting " + what + " " + path);
  }
}

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
  return rocksdb_util::LoadOffsets(*db_, handles_[kMeta]);
}

uint64_t ProjectionStore::IntProperty(const std::string& name) const {
  return rocksdb_util::IntProperty(*db_, name);
}

Result<std::optional<ProjectionStore::AccountHead>> ProjectionStore::GetAccountHead(
    const std::string& account_id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[kAccounts], account_id, &value);
  if (s.IsNotFound()) return std::optional<AccountHead>();
  if (!s.ok()) return StorageError(s, "reading account " + account_id);
  AccountHead row;
  constexpr size_t kHeader = 4 * kItemListCount;
  if (value.size() < kHeader ||
      !row.head.ParseFromArray(value.data() + kHeader, static_cast<int>(value.size() - kHeader))) {
    return Error{
        Errc::kInternal, "CORRUPT_ROW", "account row " + account_id + " does not parse", {}, {}};
  }
  for (int i = 0; i < kItemListCount; ++i) {
    row.items[i] = static_cast<uint32_t>(GetBigEndian(value.data() + 4 * i, 4));
  }
  return std::optional<AccountHead>(std::move(row));
}

Result<std::optional<v1::Account>> ProjectionStore::GetAccount(
    const std::string& account_id) const {
  auto row = GetAccountHead(account_id);
  if (!row) return row.error();
  if (!row.value()) return std::optional<v1::Account>();
  v1::Account account = std::move(row.value()->head);
  const ItemCounts& counts = row.value()->items;
  if (std::all_of(counts.begin(), counts.end(), [](uint32_t n) { return n == 0; })) {
    return std::optional<v1::Account>(std::move(account));
  }
  // Every list in one pass: the item keys sort by list, then index.
  const std::string prefix = ItemsPrefix(account_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[kItems]));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != prefix.size() + 5 ||
        !AddItem(account, static_cast<ItemList>(it->key()[prefix.size()]), it->value())) {
      return Error{Errc::kInternal, "CORRUPT_ROW",
                   "an item row of account " + account_id + " does not parse", {}, {}};
    }
  }
  if (!it->status().ok()) return StorageError(it->status(), "reading items of " + account_id);
  return std::optional<v1::Account>(std::move(account));
}

Status ProjectionStore::LoadItems(const std::string& account_id, ItemList list, uint32_t count,
                                  v1::Account& account) const {
  if (count == 0) return std::nullopt;
  v1::Account stored;
  const std::string prefix = ItemKey(account_id, list, 0).substr(0, account_id.size() + 2);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[kItems]));
  uint32_t loaded = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) && loaded < count;
       it->Next(), ++loaded) {
    if (!AddItem(stored, list, it->value())) {
      return Error{Errc::kInternal, "CORRUPT_ROW",
                   "an item row of account " + account_id + " does not parse", {}, {}};
    }
  }
  if (!it->status().ok()) return StorageError(it->status(), "reading items of " + account_id);
  if (loaded != count) {
    return Error{Errc::kInternal, "CORRUPT_ROW",
                 "account " + account_id + " lacks item rows its head counts", {}, {}};
  }
  // Stored entries first, then those already in `account` (appended after them).
  const auto* field = v1::Account::descriptor()->FindFieldByNumber(static_cast<int>(list));
  const auto* reflection = v1::Account::GetReflection();
  const int appended = reflection->FieldSize(account, field);
  for (int i = 0; i < appended; ++i) {
    reflection->AddMessage(&stored, field)
        ->CopyFrom(reflection->GetRepeatedMessage(account, field, i));
  }
  reflection->SwapFields(&account, &stored, {field});
  return std::nullopt;
}

Result<std::optional<v1::Account>> ProjectionStore::GetListRow(
    const std::string& account_id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[kList], account_id, &value);
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

Status ProjectionStore::ScanAccountLog(
    const std::string& account_id, int32_t partition, int64_t end_offset,
    const std::function<bool(AccountLogRecord&)>& visit) const {
  const std::string prefix = LogPrefix(account_id, partition);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[kLog]));
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

Status ProjectionStore::Apply(Batch batch) {
  rocksdb::WriteBatch wb;
  // Each column family's rows go in in key order: RocksDB's memtable then inserts each one next
  // to the one before instead of searching for its place (a poll interleaves many accounts).
  std::vector<std::pair<std::string, const AccountLogRecord*>> log_keys;
  log_keys.reserve(batch.log_records.size());
  for (const auto& r : batch.log_records) {
    std::string key = LogPrefix(r.account_id, r.partition);
    PutBigEndian(key, static_cast<uint64_t>(r.offset), 8);
    log_keys.emplace_back(std::move(key), &r);
  }
  std::stable_sort(log_keys.begin(), log_keys.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string value;
  for (const auto& [key, r] : log_keys) {
    value.clear();
    value.reserve(4 + r->key.size() + r->value.size());
    PutBigEndian(value, r->key.size(), 4);
    value += r->key;
    value += r->value;
    wb.Put(handles_[kLog], key, value).PermitUncheckedError();
  }
  const auto* reflection = v1::Account::GetReflection();
  for (auto& [id, account] : batch.accounts) {
    // The entries the batch appended become rows of their own; the head keeps their counts.
    auto from = batch.items_from.find(id);
    // The list row is taken from the whole account: its contact entry (the account's first;
    // Prioritize asks only whether there was any) may be an item row of an earlier batch.
    v1::Account list_row = ListRow(account);
    std::string head;
    head.reserve(4 * kItemListCount);
    for (int i = 0; i < kItemListCount; ++i) {
      const ItemList list = kItemLists[i];
      const auto* field = v1::Account::descriptor()->FindFieldByNumber(static_cast<int>(list));
      const uint32_t first = from == batch.items_from.end() ? 0 : from->second[i];
      const int size = reflection->FieldSize(account, field);
      for (int j = 0; j < size; ++j) {
        wb.Put(handles_[kItems], ItemKey(id, list, first + static_cast<uint32_t>(j)),
               CanonicalBytes(reflection->GetRepeatedMessage(account, field, j)))
            .PermitUncheckedError();
      }
      if (list == ItemList::kContacts && first > 0) {
        // Always the account's first contact, whatever the batch boundaries: a rebuild, which
        // batches differently, must write the same list row.
        std::string contact;
        list_row.clear_contacts();
        if (db_->Get(rocksdb::ReadOptions(), handles_[kItems], ItemKey(id, list, 0), &contact).ok()) {
          list_row.add_contacts()->ParseFromString(contact);
        }
      }
      PutBigEndian(head, first + static_cast<uint32_t>(size), 4);
      reflection->ClearField(&account, field);
    }
    head += CanonicalBytes(account);
    wb.Put(handles_[kAccounts], id, head).PermitUncheckedError();
    wb.Put(handles_[kList], id, CanonicalBytes(list_row)).PermitUncheckedError();
  }
  for (const auto& key : batch.index_deletes) {
    wb.Delete(handles_[kIndex], key).PermitUncheckedError();
  }
  for (const auto& key : batch.index_puts) wb.Put(handles_[kIndex], key, "").PermitUncheckedError();
  rocksdb_util::PutOffsets(wb, handles_[kMeta], batch.next_offsets);
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
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[kIndex]));
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
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[kList]));
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
