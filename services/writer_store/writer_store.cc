#include "services/writer_store/writer_store.h"

#include "services/domain/hashing.h"

#include "absl/strings/str_cat.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <filesystem>

namespace collections {
namespace {

constexpr char kOffsetKey[] = "m/offset";
constexpr char kOwnerKey[] = "m/topic";
// What the values are: the writer's internal AccountState (not the public v1.Account, layout
// 1), kept under a contact horizon, and from layout 3 on the customers' CustomerState. A store
// of another layout or horizon is not read: the writer rebuilds it from the log (a layout-2
// store would lack the customers of its partition).
constexpr char kLayoutKey[] = "m/layout";
constexpr char kLayoutVersion[] = "3";

Error StoreError(const std::string& what, const rocksdb::Status& s) {
  return Error{Errc::kUnavailable, "WRITER_STORE", what + ": " + s.ToString(), {}, {}};
}

void PutBigEndian(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
uint64_t GetBigEndian(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string AccountKey(const std::string& account_id) { return "a/" + account_id; }
std::string CustomerKey(const std::string& stream_id) { return "u/" + stream_id; }
std::string CommandKey(const std::string& account_id, const std::string& command_id) {
  std::string key = "c/" + account_id;
  key.push_back('\0');
  return key + command_id;
}
std::string DueKey(absl::Time at, const std::string& account_id) {
  std::string key = "d/";
  // Offset so times before 1970 still sort first; micros are plenty for day-level deadlines.
  PutBigEndian(key, static_cast<uint64_t>(absl::ToUnixMicros(at)) ^ (uint64_t{1} << 63));
  return key + account_id;
}

// Length-prefixed fields: varint-free on purpose (fixed 4-byte lengths), small and obvious.
void PutField(std::string& out, const std::string& field) {
  uint32_t n = static_cast<uint32_t>(field.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  out += field;
}
bool GetField(const std::string& in, size_t& pos, std::string* field) {
  if (pos + 4 > in.size()) return false;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(in[pos + i]);
  pos += 4;
  if (pos + n > in.size()) return false;
  field->assign(in, pos, n);
  pos += n;
  return true;
}

}  // namespace

std::string EncodeCommandRecord(const CommandRecord& record) {
  std::string out = "R1";
  PutField(out, record.fingerprint);
  PutField(out, record.reply.SerializeAsString());
  PutField(out, record.blocked ? "1" : "0");
  PutField(out, record.refusal ? "1" : "0");
  if (record.refusal) {
    const Error& e = *record.refusal;
    PutField(out, std::to_string(static_cast<int>(e.code)));
    PutField(out, e.reason);
    PutField(out, e.message);
    PutField(out, e.field);
    PutField(out, e.subject);
    PutField(out, std::to_string(e.metadata.size()));
    for (const auto& [k, v] : e.metadata) {
      PutField(out, k);
      PutField(out, v);
    }
  }
  return out;
}

std::optional<CommandRecord> DecodeCommandRecord(const std::string& bytes) {
  if (bytes.size() < 2 || bytes.compare(0, 2, "R1") != 0) return std::nullopt;
  size_t pos = 2;
  CommandRecord r;
  std::string reply, blocked, has_refusal;
  if (!GetField(bytes, pos, &r.fingerprint) || !GetField(bytes, pos, &reply) ||
      !GetField(bytes, pos, &blocked) || !GetField(bytes, pos, &has_refusal) ||
      !r.reply.ParseFromString(reply)) {
    return std::nullopt;
  }
  r.blocked = blocked == "1";
  if (has_refusal == "1") {
    Error e;
    std::string code, count;
    if (!GetField(bytes, pos, &code) || !GetField(bytes, pos, &e.reason) ||
        !GetField(bytes, pos, &e.message) || !GetField(bytes, pos, &e.field) ||
        !GetField(bytes, pos, &e.subject) || !GetField(bytes, pos, &count)) {
      return std::nullopt;
    }
    e.code = static_cast<Errc>(std::atoi(code.c_str()));
    const int n = std::atoi(count.c_str());
    for (int i = 0; i < n; ++i) {
      std::string k, v;
      if (!GetField(bytes, pos, &k) || !GetField(bytes, pos, &v)) return std::nullopt;
      e.metadata.emplace_back(std::move(k), std::move(v));
    }
    r.refusal = std::move(e);
  }
  return r;
}

struct WriterStore::Batch::Impl {
  rocksdb::WriteBatch batch;
};

WriterStore::Batch::Batch() : impl_(std::make_unique<Impl>()) {}
WriterStore::Batch::~Batch() = default;

void WriterStore::Batch::PutAccount(const AccountState& account) {
  std::string value;
  account.SerializeToString(&value);
  impl_->batch.Put(AccountKey(account.account_id()), value).PermitUncheckedError();
}

void WriterStore::Batch::PutCustomer(const std::string& stream_id, const CustomerState& customer) {
  std::string value;
  customer.SerializeToString(&value);
  impl_->batch.Put(CustomerKey(stream_id), value).PermitUncheckedError();
}

void WriterStore::Batch::PutCommand(const std::string& account_id, const std::string& command_id,
                                    const CommandRecord& record) {
  impl_->batch.Put(CommandKey(account_id, command_id), EncodeCommandRecord(record))
      .PermitUncheckedError();
}

void WriterStore::Batch::SetDue(const std::string& account_id, std::optional<absl::Time> before,
                                std::optional<absl::Time> after) {
  if (before == after) return;
  if (before) impl_->batch.Delete(DueKey(*before, account_id)).PermitUncheckedError();
  if (after) impl_->batch.Put(DueKey(*after, account_id), "").PermitUncheckedError();
}

void WriterStore::Batch::SetCheckpoint(int64_t next_offset, const std::string& owner,
                                       const std::string& layout) {
  std::string value;
  PutBigEndian(value, static_cast<uint64_t>(next_offset));
  impl_->batch.Put(kOffsetKey, value).PermitUncheckedError();
  impl_->batch.Put(kOwnerKey, owner).PermitUncheckedError();
  impl_->batch.Put(kLayoutKey, layout).PermitUncheckedError();
}

size_t WriterStore::Batch::size() const { return static_cast<size_t>(impl_->batch.Count()); }

WriterStore::~WriterStore() {
  if (db_) db_->Close().PermitUncheckedError();  // a close error leaves nothing to undo
  db_.reset();
}

Result<std::unique_ptr<WriterStore>> WriterStore::Open(const std::string& path) {
  std::unique_ptr<WriterStore> store(new WriterStore());
  store->path_ = path;
  rocksdb::Options options;
  options.create_if_missing = true;
  // Writers are many per process and each store is written in small batches: modest
  // memtables keep a process with dozens of partitions well inside its memory budget.
  options.write_buffer_size = 4 << 20;
  options.max_write_buffer_number = 2;
  options.paranoid_checks = true;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(4 << 20);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  std::string where = path;
  if (path.empty()) {
    store->memory_env_.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    options.env = store->memory_env_.get();
    where = "/writer-store";
  } else {
    std::error_code ignored;  // Open reports a directory it cannot create
    std::filesystem::create_directories(path, ignored);
  }
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, where, &db);
  if (!s.ok()) {
    Error e = StoreError("opening the writer store at " + path, s);
    // Another live process holds it: never to be deleted from under it.
    if (s.ToString().find("lock") != std::string::npos) e.reason = "WRITER_STORE_LOCKED";
    return e;
  }
  store->db_.reset(db);
  return store;
}

Status WriterStore::Destroy(const std::string& path) {
  if (path.empty()) return std::nullopt;
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) {
    return Error{Errc::kUnavailable, "WRITER_STORE",
                 "deleting the writer store at " + path + ": " + ec.message(), {}, {}};
  }
  return std::nullopt;
}

std::string WriterStore::Layout(const StateHorizon& horizon) {
  auto seconds = [](absl::Duration d) {
    return d == absl::InfiniteDuration() ? std::string("none")
                                         : absl::StrCat(absl::ToInt64Seconds(d), " s");
  };
  return absl::StrCat(kLayoutVersion, " AccountState+CustomerState, contact horizon ",
                      seconds(horizon.contacts), ", payment horizon ", seconds(horizon.payments));
}

Result<std::optional<WriterStore::Checkpoint>> WriterStore::LoadCheckpoint(
    const std::string& layout) const {
  std::string offset, owner, stored_layout;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kOffsetKey, &offset);
  if (s.IsNotFound()) return std::optional<Checkpoint>();
  if (!s.ok()) return StoreError("reading the checkpoint", s);
  s = db_->Get(rocksdb::ReadOptions(), kLayoutKey, &stored_layout);
  if (!s.ok() && !s.IsNotFound()) return StoreError("reading the layout", s);
  if (stored_layout != layout) {
    return Error{Errc::kFailedPrecondition, "WRITER_STORE_LAYOUT",
                 "its layout is \"" +
                     (s.IsNotFound() ? std::string("1 v1.Account") : stored_layout) +
                     "\", this writer keeps \"" + layout + "\"",
                 {},
                 {}};
  }
  s = db_->Get(rocksdb::ReadOptions(), kOwnerKey, &owner);
  if (!s.ok() || offset.size() != 8) {
    return Error{Errc::kInternal, "WRITER_STORE_CORRUPT", "the checkpoint is unreadable", {}, {}};
  }
  return std::optional<Checkpoint>(
      Checkpoint{static_cast<int64_t>(GetBigEndian(offset.data())), owner});
}

Result<std::optional<AccountState>> WriterStore::GetAccount(const std::string& account_id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), AccountKey(account_id), &value);
  if (s.IsNotFound()) return std::optional<AccountState>();
  if (!s.ok()) return StoreError("reading account " + account_id, s);
  AccountState account;
  if (!account.ParseFromString(value)) {
    return Error{Errc::kInternal, "WRITER_STORE_CORRUPT",
                 "account " + account_id + " in the writer store is unreadable", {}, {}};
  }
  return std::optional<AccountState>(std::move(account));
}

Result<std::optional<CustomerState>> WriterStore::GetCustomer(const std::string& stream_id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), CustomerKey(stream_id), &value);
  if (s.IsNotFound()) return std::optional<CustomerState>();
  if (!s.ok()) return StoreError("reading customer " + stream_id, s);
  CustomerState customer;
  if (!customer.ParseFromString(value)) {
    return Error{Errc::kInternal, "WRITER_STORE_CORRUPT",
                 "customer " + stream_id + " in the writer store is unreadable", {}, {}};
  }
  return std::optional<CustomerState>(std::move(customer));
}

Result<std::optional<CommandRecord>> WriterStore::GetCommand(const std::string& account_id,
                                                             const std::string& command_id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), CommandKey(account_id, command_id), &value);
  if (s.IsNotFound()) return std::optional<CommandRecord>();
  if (!s.ok()) return StoreError("reading command " + command_id, s);
  auto record = DecodeCommandRecord(value);
  if (!record) {
    return Error{Errc::kInternal, "WRITER_STORE_CORRUPT",
                 "command " + command_id + " in the writer store is unreadable", {}, {}};
  }
  return std::optional<CommandRecord>(std::move(*record));
}

Result<std::vector<std::string>> WriterStore::DueAccounts(absl::Time now, size_t limit) const {
  std::vector<std::string> out;
  const std::string end = DueKey(now + absl::Microseconds(1), "");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("d/"); it->Valid() && out.size() < limit; it->Next()) {
    rocksdb::Slice key = it->key();
    if (!key.starts_with("d/") || key.compare(end) >= 0) break;
    out.push_back(key.ToString().substr(10));
  }
  if (!it->status().ok()) return StoreError("scanning due accounts", it->status());
  return out;
}

Result<int64_t> WriterStore::CountAccounts() const {
  int64_t n = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("a/"); it->Valid() && it->key().starts_with("a/"); it->Next()) ++n;
  if (!it->status().ok()) return StoreError("counting accounts", it->status());
  return n;
}

Result<std::string> WriterStore::AccountsDigest() const {
  // A running chain: digest = SHA-256(digest || key || SHA-256(account bytes)).
  std::string chain;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("a/"); it->Valid() && it->key().starts_with("a/"); it->Next()) {
    // Parsed and re-serialised deterministically: equal states, equal bytes.
    AccountState account;
    if (!account.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Error{Errc::kInternal, "WRITER_STORE_CORRUPT", "an account is unreadable", {}, {}};
    }
    std::string bytes;
    google::protobuf::io::StringOutputStream stream(&bytes);
    {
      google::protobuf::io::CodedOutputStream coded(&stream);
      coded.SetSerializationDeterministic(true);
      account.SerializeToCodedStream(&coded);
    }
    chain = Sha256(chain + it->key().ToString() + Sha256(bytes));
  }
  if (!it->status().ok()) return StoreError("digesting accounts", it->status());
  return Hex(chain);
}

Status WriterStore::Apply(Batch& batch) {
  rocksdb::WriteOptions options;
  // The log is the system of record: a store that loses its last writes on a power cut only
  // reads a longer tail at the next start. No fsync per commit.
  options.sync = false;
  rocksdb::Status s = db_->Write(options, &batch.impl_->batch);
  if (!s.ok()) return StoreError("writing the writer store", s);
  return std::nullopt;
}

}  // namespace collections
