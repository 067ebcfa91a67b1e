// The projection store's layout: the per-account copy of the log reads back byte for byte in
// offset order, and a store written by an older layout is rebuilt (emptied) when opened.
#define BOOST_TEST_MODULE store_layout
#include "projections/store/store.h"

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

}  // namespace
}  // namespace collections
