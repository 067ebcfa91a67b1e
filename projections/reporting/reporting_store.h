#pragma once

#include "projections/reporting/reports.h"
#include "services/domain/error.h"

#include "absl/time/civil_time.h"
#include "collections/v1/account.pb.h"
#include "collections/v1/reporting_service.pb.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
struct ReadOptions;
}  // namespace rocksdb

namespace collections::reporting {

// The reporting projection's own RocksDB (separate from the query projection, so either can
// be rebuilt, moved or sized on its own).
//
// Column families:
//   default   "offset/<partition>" -> next offset to consume (decimal)
//   accounts  account id -> brief v1::Account (see facts.h), deterministic bytes
//   default   also "layout" -> the layout version (kReportingLayout)
//   facts     business date "YYYYMMDD", '\0', account id, '\0', sequence (8 bytes big-endian)
//             -> v1::ReportFact, deterministic bytes
//   late      recorded date "YYYYMMDD", '\0', account id, '\0', sequence -> the same bytes, for
//             the back-dated facts only (recorded date after business date)
//   snapshots account id, '\0', month-end "YYYYMMDD" -> EncodeState(PositionState): the
//             account's month-end snapshots (reports.h, FoldIntoSnapshots)
//   aggregates month-end "YYYYMMDD", EncodeAggregateKey -> EncodeSums: the change at that
//             month-end of the sums over every account's last snapshot (reports.h,
//             AddSnapshotDeltas); the aggregate at C is the sum of the rows of month-ends <= C.
//             Rows that sum to zero are deleted, so a live and a rebuilt store hold the same
//             rows.
//
// Facts are keyed by business date first so a report reads only the dates it needs; the
// snapshots carry the position of each account a report's facts move into its first month, the
// aggregate rows carry every other account, and the late index finds the back-dated facts a
// snapshot does not hold. Each consumed batch goes in with one WriteBatch that also moves the
// offsets, the snapshots and the aggregate rows: a crash can neither apply an event twice nor
// skip one. Apply reads the aggregate rows it adds to, so one thread applies (the projector's). A store of an older layout is deleted on Open (with a warning in the log)
// and rebuilt from offset 0. Thread-safe (RocksDB is). Lives as long as its owner
// (ServerApp, or a test), which must outlive every projector and service using it.
class ReportingStore {
 public:
  ~ReportingStore();

  // Opens (creating if missing) the store at `path`.
  static Result<std::unique_ptr<ReportingStore>> Open(const std::string& path);
  // Deletes the store at `path` (for a rebuild from offset 0).
  static Status Destroy(const std::string& path);

  // Next offset to consume per partition; partitions never applied are absent.
  Result<std::map<int32_t, int64_t>> LoadOffsets() const;

  // A RocksDB integer property summed over the column families (e.g.
  // "rocksdb.estimate-num-keys"), for metrics; 0 when RocksDB does not know it.
  uint64_t IntProperty(const std::string& name) const;

  // The account's brief, or nullopt before its first event.
  Result<std::optional<v1::Account>> GetBrief(const std::string& account_id) const;

  // Every month-end snapshot of the account, by month-end.
  Result<std::map<absl::CivilDay, PositionState>> GetSnapshots(const std::string& account_id) const;

  struct Batch {
    std::map<std::string, v1::Account> briefs;
    std::vector<v1::ReportFact> facts;
    // Snapshots the batch changed (created or moved), by account and month-end.
    std::map<std::string, std::map<absl::CivilDay, PositionState>> snapshots;
    // What those snapshot changes add to the aggregate rows (read, added to and written back).
    AggregateDeltas aggregates;
    std::map<int32_t, int64_t> next_offsets;
  };
  Status Apply(const Batch& batch);

  // Facts with business date in [from, to], in key order (date, account, sequence).
  Result<std::vector<v1::ReportFact>> ScanFacts(absl::CivilDay from, absl::CivilDay to) const;

  // What ReadInput read, for the benchmark.
  struct ReadStats {
    int64_t snapshots = 0;       // snapshot rows (one per account read)
    int64_t aggregate_rows = 0;  // aggregate rows summed
    int64_t facts = 0;           // facts and late facts
  };

  // A report's input (reports.h, ReportInput): the facts with business date in (base_date,
  // last], the back-dated facts recorded after base_date with business date <= base_date, and
  // the snapshots at `base_date` (each account's last snapshot on or before it) of the accounts
  // those facts move, plus the aggregate at base_date of every other account (`unmoved`). So it
  // reads the report's own dates, the late index from base_date on, one seek per moved account
  // and the aggregate rows, never one row per account of the portfolio. With `every_account`
  // (an aging report that lists its accounts) it reads every account's snapshot instead of the
  // aggregate.
  Result<ReportInput> ReadInput(absl::CivilDay base_date, absl::CivilDay last,
                                bool every_account = false, ReadStats* stats = nullptr) const;

  // The aggregate at month-end `month_end`: the sum of the aggregate rows of month-ends <= it.
  Result<Aggregate> ReadAggregate(absl::CivilDay month_end) const;

  // SHA-256 over every key and value of every column family, in order: two stores with the
  // same digest hold the same bytes.
  Result<std::string> Digest() const;

 private:
  ReportingStore() = default;
  Status ScanFactsInto(const rocksdb::ReadOptions& options, absl::CivilDay from,
                       absl::CivilDay to, std::vector<v1::ReportFact>& out) const;
  Status ReadAggregateInto(const rocksdb::ReadOptions& options, absl::CivilDay month_end,
                           Aggregate& out, int64_t* rows) const;
  std::unique_ptr<rocksdb::DB> db_;
  // default, accounts, facts, late, snapshots, aggregates
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// The layout this build writes; 1 had no late index and no snapshots, 2 no aggregates.
inline constexpr int kReportingLayout = 3;

// The key of a fact in the facts column family.
std::string FactKey(const v1::ReportFact& fact);

}  // namespace collections::reporting
