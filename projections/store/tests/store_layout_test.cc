// The projection store's layout: the per-account copy of the log reads back byte for byte in
// offset order, and a store written by an older layout is rebuilt (emptied) when opened.
#define BOOST_TEST_MODULE store_layout
#include "projections/store/store.h"
#include "services/domain/case_aggregate.h"

#include "absl/time/time.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <random>

namespace collections {
namespace {

struct TempPath {
  TempPath() {
    std::random_device random;
    path = (std::filesystem::temp_directory_path() /
            ("store-layout-" + std::to_string(random()) + std::to_string(random())))
               .string();
  }
  ~TempPath() { std::filesystem::remove_all(path); }
  std::string path;
};

std::vector<ProjectionStore::AccountLogRecord> Rows(const ProjectionStore& store,
                                                    const std::string& account, int32_t partition,
                                                    int64_t end) {
  std::vector<ProjectionStore::AccountLogRecord> rows;
  BOOST_REQUIRE(!store.ScanAccountLog(account, partition, end,
                                      [&](ProjectionStore::AccountLogRecord& r) {
                                        rows.push_back(r);
                                        return true;
                                      }));
  return rows;
}

BOOST_AUTO_TEST_CASE(an_accounts_copy_of_the_log_reads_back_in_offset_order_below_the_end) {
  TempPath dir;
  auto store = ProjectionStore::Open(dir.path);
  BOOST_REQUIRE(store.ok());
  ProjectionStore::Batch batch;
  // Offsets past 255 and 65535 (byte order), an account id that is a prefix of another, a key
  // that differs from the account, bytes with NUL in them, another partition.
  batch.log_records = {{"A", 1, 70000, "A", std::string("v\0x", 3)},
                       {"A", 1, 3, "A", "v3"},
                       {"A", 1, 300, "B", "v300"},
                       {"AB", 1, 4, "AB", "other account"},
                       {"A", 2, 5, "A", "other partition"}};
  batch.next_offsets = {{1, 70001}};
  BOOST_REQUIRE(!store.value()->Apply(batch));
  auto rows = Rows(*store.value(), "A", 1, INT64_MAX);
  BOOST_REQUIRE(rows.size() == 3);
  BOOST_TEST(rows[0].offset == 3);
  BOOST_TEST(rows[1].offset == 300);
  BOOST_TEST(rows[1].key == "B");
  BOOST_TEST(rows[2].offset == 70000);
  BOOST_TEST(rows[2].value == std::string("v\0x", 3));
  BOOST_TEST(Rows(*store.value(), "A", 1, 300).size() == 1);  // the end is exclusive
  BOOST_TEST(Rows(*store.value(), "A", 2, INT64_MAX).size() == 1);
  BOOST_TEST(Rows(*store.value(), "", 1, INT64_MAX).empty());
}

BOOST_AUTO_TEST_CASE(a_store_of_the_old_layout_is_rebuilt_and_a_current_one_kept) {
  TempPath dir;
  {
    // Layout 1: no "log" column family, no layout marker, offsets of a projection.
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {"accounts", rocksdb::ColumnFamilyOptions()},
        {"events", rocksdb::ColumnFamilyOptions()},
        {"index", rocksdb::ColumnFamilyOptions()}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    BOOST_REQUIRE(rocksdb::DB::Open(options, dir.path, families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    BOOST_REQUIRE(db->Put(rocksdb::WriteOptions(), handles[0], "offset/0", "42").ok());
    BOOST_REQUIRE(db->Put(rocksdb::WriteOptions(), handles[1], "ACC-1", "row").ok());
    for (auto* h : handles) BOOST_REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
  }
  {
    auto store = ProjectionStore::Open(dir.path);
    BOOST_REQUIRE(store.ok());
    auto offsets = store.value()->LoadOffsets();
    BOOST_REQUIRE(offsets.ok());
    BOOST_TEST(offsets.value().empty());  // rebuilt: the projector starts at offset 0
    ProjectionStore::Batch batch;
    batch.next_offsets = {{0, 7}};
    batch.log_records = {{"A", 0, 6, "A", "v"}};
    BOOST_REQUIRE(!store.value()->Apply(batch));
  }
  auto again = ProjectionStore::Open(dir.path);  // the current layout is kept as it is
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again.value()->LoadOffsets().value().at(0) == 7);
  BOOST_TEST(Rows(*again.value(), "A", 0, INT64_MAX).size() == 1);
}

BOOST_AUTO_TEST_CASE(a_list_row_is_the_account_as_a_listing_sees_it) {
  TempPath dir;
  auto store = ProjectionStore::Open(dir.path);
  BOOST_REQUIRE(store.ok());
  v1::Account a;
  a.set_account_id("ACC-L");
  a.set_status(v1::ACCOUNT_STATUS_OPEN);
  a.set_aging_bucket(v1::AGING_BUCKET_30_59);
  a.mutable_balances()->set_principal_minor(5000);
  a.mutable_balances()->set_fees_minor(250);
  a.set_total_balance_minor(5250);
  a.set_currency("USD");
  a.set_creditor("Acme");
  a.set_assignee("collector-1");
  a.set_queue("early");
  a.set_version(9);
  a.mutable_due_date()->set_year(2025);
  a.mutable_due_date()->set_month(9);
  a.mutable_due_date()->set_day(1);
  a.set_time_zone("America/Chicago");
  a.set_debtor_name("Jane Doe");  // not a listing's business
  ProjectionStore::Batch batch;
  batch.accounts["ACC-L"] = a;
  BOOST_REQUIRE(!store.value()->Apply(batch));
  auto row = store.value()->GetListRow("ACC-L");
  BOOST_REQUIRE(row.ok());
  BOOST_REQUIRE(row.value().has_value());
  const v1::Account& r = *row.value();
  BOOST_TEST(r.debtor_name().empty());
  BOOST_TEST(r.status() == a.status());
  BOOST_TEST(r.aging_bucket() == a.aging_bucket());
  BOOST_TEST(r.total_balance_minor() == 5250);
  BOOST_TEST((r.creditor() == "Acme" && r.assignee() == "collector-1" && r.queue() == "early"));
  BOOST_TEST(r.version() == 9);
  // Days past due, computed at read time, come out the same from the row as from the account,
  // on either side of a DST change in the account's zone.
  for (auto at : {absl::FromUnixSeconds(1762066800), absl::FromUnixSeconds(1762153200)}) {
    BOOST_TEST(DaysPastDue(r, at) == DaysPastDue(a, at));
    BOOST_TEST(DaysPastDue(r, at) > 0);
  }
  BOOST_TEST(!store.value()->GetListRow("ACC-NONE").value().has_value());
  auto ids = store.value()->ScanAccountIds("", 10);
  BOOST_REQUIRE(ids.ok());
  BOOST_TEST(ids.value() == std::vector<std::string>{"ACC-L"});
}

}  // namespace
}  // namespace collections
