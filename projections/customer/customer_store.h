#pragma once

#include "services/domain/error.h"

#include "absl/time/civil_time.h"

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Snapshot;
}  // namespace rocksdb

namespace collections::customer {

// The customer projection's own RocksDB (beside the account and reporting stores, so each can
// be rebuilt, moved or sized on its own). Keys start with the customer id and a '\0' (ids are
// printable ASCII), so one customer's rows of a family are one key range.
//
// Column families (Family):
//   default    "layout" -> kLayoutVersion; "offset/<partition>" -> next offset to consume
//   heads      customer id -> state::v1::CustomerState without its growing lists (profile,
//              contacts, linked accounts, totals, credit limit, pending approvals) and with
//              the integrity gate's state (version, last_hash, held unsigned_events,
//              quarantine); a stream whose CustomerOpened is not applied yet (held, or
//              quarantined first) has a head without opened_at, which no read shows as a
//              customer
//   items      customer, '\0', kind ('i' invoice, 'p' payment, 'd' discrepancy, 'h' hold), id
//              -> the row: CustomerInvoiceState, CustomerPaymentState, CustomerDiscrepancyState,
//              v1::CustomerHold
//   open       customer, '\0', 'i', due date "YYYYMMDD", invoice id -> CustomerInvoiceState
//              of every invoice with something open (aging, days past due, exposure);
//              customer, '\0', 'd', discrepancy id -> v1::CustomerDiscrepancyView of every open
//              short-payment discrepancy
//   holds      customer, '\0', hold id -> "" for every hold recommended or approved and not
//              released (the shutdown report)
//   facts      customer, '\0', business date "YYYYMMDD", sequence (8 bytes big-endian) ->
//              v1::CustomerStatementLine (a reconciliation reads its period's dates)
//   late       customer, '\0', recorded date "YYYYMMDD", sequence -> the same line, for the
//              lines recorded after their business date (back-dated)
//   snapshots  customer, '\0', month-end "YYYYMMDD" -> state::v1::CustomerLedgerSnapshot
//
// Values are deterministic protobuf bytes, so a store rebuilt from offset 0 holds the same
// bytes as the live one (Digest). Every consumed batch goes in with one WriteBatch that also
// moves the offsets. Thread-safe (RocksDB is); one thread applies (the projector's). Lives as
// long as its owner (ServerApp or a test), which must outlive the projector and the service.
class CustomerStore {
 public:
  enum class Family : int {
    kMeta = 0,
    kHeads = 1,
    kItems = 2,
    kOpen = 3,
    kHolds = 4,
    kFacts = 5,
    kLate = 6,
    kSnapshots = 7,
  };
  static constexpr int kFamilies = 8;
  // 2: customer events pass the integrity gate (a store built without it may hold a forged
  // event, so it is rebuilt).
  static constexpr int kLayoutVersion = 2;

  ~CustomerStore();

  static Result<std::unique_ptr<CustomerStore>> Open(const std::string& path);
  static Status Destroy(const std::string& path);

  Result<std::map<int32_t, int64_t>> LoadOffsets() const;
  uint64_t IntProperty(const std::string& name) const;

  // A consistent view of the store (a RocksDB snapshot): every read through one Reader sees
  // the store between two batches, never half of one. Lives no longer than the store.
  class Reader {
   public:
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    Result<std::optional<std::string>> Get(Family family, const std::string& key) const;
    // Calls `visit(key, value)` for the keys in [start, limit) in order until it returns
    // false; an empty `limit` means "to the end of the family".
    Status Scan(Family family, const std::string& start, const std::string& limit,
                const std::function<bool(std::string_view, std::string_view)>& visit) const;
    // The last key <= `key` that starts with `prefix`, with its value; nullopt if none.
    Result<std::optional<std::pair<std::string, std::string>>> Floor(
        Family family, const std::string& key, const std::string& prefix) const;

   private:
    friend class CustomerStore;
    Reader(const CustomerStore& store);
    const CustomerStore& store_;
    const rocksdb::Snapshot* snapshot_;
  };
  std::unique_ptr<Reader> NewReader() const;

  // One batch of changes: per family, key -> value (nullopt deletes the key).
  struct Batch {
    std::array<std::map<std::string, std::optional<std::string>>, kFamilies> writes;
    std::map<int32_t, int64_t> next_offsets;
  };
  Status Apply(const Batch& batch);

  // SHA-256 over every key and value of every column family, in order.
  Result<std::string> Digest() const;

 private:
  CustomerStore() = default;
  rocksdb::ColumnFamilyHandle* handle(Family f) const { return handles_[static_cast<int>(f)]; }
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// ---- Keys ----
std::string CustomerPrefix(std::string_view customer_id);  // id + '\0'
std::string DayKey(absl::CivilDay day);                    // "YYYYMMDD"
bool ParseDayKey(std::string_view text, absl::CivilDay* day);
std::string ItemKey(std::string_view customer_id, char kind, std::string_view id);
std::string OpenInvoicePrefix(std::string_view customer_id);
std::string OpenInvoiceKey(std::string_view customer_id, absl::CivilDay due,
                           std::string_view invoice_id);
std::string OpenDiscrepancyPrefix(std::string_view customer_id);
std::string HoldKey(std::string_view customer_id, std::string_view hold_id);
// The facts and late families' key (date: business or recorded date).
std::string LineKey(std::string_view customer_id, absl::CivilDay date, int64_t sequence);
std::string SnapshotKey(std::string_view customer_id, absl::CivilDay month_end);

inline constexpr char kInvoiceItem = 'i';
inline constexpr char kPaymentItem = 'p';
inline constexpr char kDiscrepancyItem = 'd';
inline constexpr char kHoldItem = 'h';

}  // namespace collections::customer
