#pragma once

#include "services/domain/error.h"

#include "collections/v1/account.pb.h"
#include "collections/v1/events.pb.h"

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace collections {

// The RocksDB store behind every projection of this process.
//
// Column families:
//   default   meta: "offset/<partition>" -> next offset to consume (decimal)
//   accounts  account id -> the account's head (below): item counts, then the
//             collections.v1.Account without its item lists (deterministic bytes)
//   index     dimension, '\0', value, '\0', account id -> "" (status, bucket, assignee, queue,
//             creditor), for ListAccounts and GetWorkQueue
//   log       account (4-byte big-endian length, bytes), partition (4 bytes), offset (8 bytes,
//             big-endian) -> record key (4-byte length, bytes) and the record's value exactly
//             as in the log: every record of the topic under the account it names (its
//             envelope's account id, or its key when it does not parse), genuine or not, so the
//             audit of one account reads that account's records only (see AccountLogRecord)
//   list      account id -> ListRow(account): the few fields a listing shows and filters on
//             and a work queue ranks by, so ListAccounts and GetWorkQueue read small rows
//             instead of whole accounts
//   items     account id, '\0', list (1 byte: the Account field number), index (4 bytes
//             big-endian) -> one entry of a list that grows with the account's history
//             (payments, contacts, correspondence, past plans, bureau reports; see ItemList),
//             deterministic bytes
//
// An "accounts" row holds the account without those lists (its head), after the number of
// entries each list has (kItemListCount x 4 bytes big-endian, in ItemList order): applying an
// event reads and writes the head and adds the entries it appended, so its cost does not grow
// with the account's history. GetAccount puts the lists back, so readers see the whole account.
//
// The meta column family also holds "layout" -> kLayoutVersion. A store written by an older
// layout is deleted and rebuilt from offset 0 when opened (and the log says so).
//
// Every consumed batch goes in with one WriteBatch that also moves the offsets, so a crash
// can neither apply an event twice nor skip one. Thread-safe (RocksDB is).
class ProjectionStore {
 public:
  // 1: accounts, events, index. 2: the per-account copy of the log ("log"), list rows.
  // 3: list rows carry what the work queue's priority reads (see ListRow).
  // 4: account heads and their item lists as rows of their own ("items"); no "events" (the
  // "log" copy holds every record).
  static constexpr int kLayoutVersion = 4;

  // The lists of an Account that grow with its history and that applying an event only appends
  // to (payments also change when one is reversed: the projector then loads them), by field
  // number.
  enum class ItemList : uint8_t {
    kPayments = 17,
    kContacts = 32,
    kCorrespondence = 33,
    kPastPlans = 36,
    kBureauReports = 43,
  };
  static constexpr int kItemListCount = 5;
  static constexpr ItemList kItemLists[kItemListCount] = {
      ItemList::kPayments, ItemList::kContacts, ItemList::kCorrespondence, ItemList::kPastPlans,
      ItemList::kBureauReports};
  // Entries per item list, in kItemLists order.
  using ItemCounts = std::array<uint32_t, kItemListCount>;

  // What the projector reads to apply events: the account without its item lists, and how
  // many entries each list has in the store.
  struct AccountHead {
    v1::Account head;
    ItemCounts items{};
  };

  ~ProjectionStore();

  // Opens (creating if missing) the store at `path`.
  static Result<std::unique_ptr<ProjectionStore>> Open(const std::string& path);
  // Deletes the store at `path` (for a rebuild from offset 0).
  static Status Destroy(const std::string& path);

  // Next offset to consume per partition; partitions never applied are absent.
  Result<std::map<int32_t, int64_t>> LoadOffsets() const;

  // A RocksDB integer property summed over the column families (e.g.
  // "rocksdb.estimate-num-keys"), for metrics; 0 when RocksDB does not know it.
  uint64_t IntProperty(const std::string& name) const;

  // Returns the account (with every list), or nullopt if it has no case.
  Result<std::optional<v1::Account>> GetAccount(const std::string& account_id) const;

  // The account's head (no item lists) and its list sizes, or nullopt if it has no case.
  Result<std::optional<AccountHead>> GetAccountHead(const std::string& account_id) const;

  // Puts the first `count` stored entries of `list` in front of what `account` holds in it.
  Status LoadItems(const std::string& account_id, ItemList list, uint32_t count,
                   v1::Account& account) const;

  // The account's list row (see ListRow), or nullopt if it has no case.
  Result<std::optional<v1::Account>> GetListRow(const std::string& account_id) const;

  // One record of the topic as the "log" column family keeps it.
  struct AccountLogRecord {
    std::string account_id;  // the envelope's account id, or the key when it does not parse
    int32_t partition = 0;
    int64_t offset = 0;
    std::string key;    // the record key
    std::string value;  // the record value, byte for byte
  };

  // Calls `visit` with the records kept under `account_id` in `partition` with offsets in
  // [0, end_offset), in offset order, until it returns false. Reads only that account's keys.
  Status ScanAccountLog(const std::string& account_id, int32_t partition, int64_t end_offset,
                        const std::function<bool(AccountLogRecord&)>& visit) const;

  // One batch of changes, applied atomically by Apply().
  struct Batch {
    // The accounts the batch changed, as they are after it. Their item lists hold only the
    // entries from items_from[id] on (those the batch appended); absent = whole lists.
    std::map<std::string, v1::Account> accounts;
    std::map<std::string, ItemCounts> items_from;
    std::vector<AccountLogRecord> log_records;
    std::map<int32_t, int64_t> next_offsets;
    std::vector<std::string> index_deletes;
    std::vector<std::string> index_puts;
  };
  Status Apply(Batch batch);

  // Account ids under an index prefix (see IndexPrefix), in order, after `start_after`.
  Result<std::vector<std::string>> ScanIndex(const std::string& prefix,
                                             const std::string& start_after, int limit) const;
  // Account ids in order, after `start_after`.
  Result<std::vector<std::string>> ScanAccountIds(const std::string& start_after, int limit) const;

  // SHA-256 over every key and value of every column family, in order: two stores with the
  // same digest hold the same bytes.
  Result<std::string> Digest() const;

 private:
  ProjectionStore() = default;
  std::unique_ptr<rocksdb::DB> db_;
  // default, accounts, index, log, list, items
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

namespace rocksdb_util {
// A RocksDB opened with its column families, for a projection store.
struct OpenedDb {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // in the order of `families`
};
// Opens (creating if missing) the RocksDB at `path` with `families` (the first is the default
// one, which holds "layout" -> `layout`). A database written by another layout is deleted and
// created anew, empty (so its projection is rebuilt from offset 0), with a warning naming
// `what` in the log: a store is rebuilt from the log, never patched. The caller destroys the
// handles before the database.
Result<OpenedDb> OpenWithLayout(const std::string& path, const std::vector<std::string>& families,
                                int layout, const std::string& what);
// Consumed offsets kept in a projection's meta column family ("offset/<partition>" -> next
// offset), shared by every projection store so they all resume the same way.
Result<std::map<int32_t, int64_t>> LoadOffsets(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* meta);
// A RocksDB integer property: per-column-family ones summed, database-wide ones as they are.
uint64_t IntProperty(rocksdb::DB& db, const std::string& name);
void PutOffsets(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* meta,
                const std::map<int32_t, int64_t>& next_offsets);
}  // namespace rocksdb_util

// SHA-256 over every key and value of every column family of `db`, in order, length-prefixed:
// two stores with the same digest hold the same bytes. Used by every projection's Digest().
Result<std::string> DigestColumnFamilies(rocksdb::DB& db,
                                         const std::vector<rocksdb::ColumnFamilyHandle*>& handles);

// The account reduced to what a listing needs: id, status, bucket, balances and their total,
// currency, creditor, assignee, queue, version, due date and time zone (days past due are
// computed from the last three at read time); and what the work queue's Prioritize reads (flags,
// open disputes, the last promise, the last payment, the plan without its instalments, callback,
// contact block, the first contact), so Prioritize(ListRow(a), t) == Prioritize(a, t) and
// neither ListAccounts nor GetWorkQueue reads a whole account.
v1::Account ListRow(const v1::Account& account);

// Index dimensions.
enum class IndexDimension { kStatus, kBucket, kAssignee, kQueue, kCreditor };

// The prefix of the index entries of one dimension and value.
std::string IndexPrefix(IndexDimension dimension, const std::string& value);

// The index entries an account has (one per dimension with a value).
std::vector<std::string> IndexKeys(const v1::Account& account);

}  // namespace collections
