// The writer store on its own: what a batch writes is read back together with its checkpoint,
// a batch is all or nothing, deadlines are found by time, and records survive a reopen.
#define BOOST_TEST_MODULE writer_store
#include "services/writer_store/writer_store.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <random>

namespace collections {
namespace {

struct TempDir {
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("writer-store-test-" + std::to_string(std::random_device{}()));
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::filesystem::path path;
};

const std::string kLayout = WriterStore::Layout({.contacts = absl::Hours(24) * 33, .payments = absl::Hours(24) * 540});

AccountState AccountWith(const std::string& id, int64_t version) {
  AccountState a;
  a.set_account_id(id);
  a.set_version(version);
  return a;
}

BOOST_AUTO_TEST_CASE(a_batch_and_its_checkpoint_survive_a_reopen) {
  TempDir dir;
  {
    auto store = WriterStore::Open(dir.path.string());
    BOOST_REQUIRE(store.ok());
    BOOST_TEST(!store.value()->LoadCheckpoint(kLayout).value().has_value());
    WriterStore::Batch batch;
    batch.PutAccount(AccountWith("A-1", 3));
    CommandRecord record;
    record.fingerprint = "fp";
    record.reply.set_version(3);
    record.reply.add_event_ids("e-3");
    batch.PutCommand("A-1", "cmd-3", record);
    CommandRecord blocked;
    blocked.fingerprint = "fp2";
    blocked.blocked = true;
    blocked.refusal = Error{Errc::kFailedPrecondition, "F1", "seven calls", "", "A-1",
                            {{"rule_id", "F1"}, {"allowed_from", "tomorrow"}}};
    batch.PutCommand("A-1", "cmd-4", blocked);
    batch.SetCheckpoint(42, "topic/0", kLayout);
    BOOST_REQUIRE(!store.value()->Apply(batch).has_value());
  }
  auto store = WriterStore::Open(dir.path.string());
  BOOST_REQUIRE(store.ok());
  auto checkpoint = store.value()->LoadCheckpoint(kLayout);
  BOOST_REQUIRE(checkpoint.ok());
  BOOST_REQUIRE(checkpoint.value().has_value());
  BOOST_TEST(checkpoint.value()->next_offset == 42);
  BOOST_TEST(checkpoint.value()->owner == "topic/0");
  auto account = store.value()->GetAccount("A-1");
  BOOST_REQUIRE(account.ok());
  BOOST_REQUIRE(account.value().has_value());
  BOOST_TEST(account.value()->version() == 3);
  BOOST_TEST(!store.value()->GetAccount("A-2").value().has_value());
  auto command = store.value()->GetCommand("A-1", "cmd-3");
  BOOST_REQUIRE(command.value().has_value());
  BOOST_TEST(command.value()->fingerprint == "fp");
  BOOST_TEST(command.value()->reply.event_ids(0) == "e-3");
  BOOST_TEST(!command.value()->refusal.has_value());
  auto refused = store.value()->GetCommand("A-1", "cmd-4");
  BOOST_REQUIRE(refused.value().has_value());
  BOOST_TEST(refused.value()->blocked);
  BOOST_REQUIRE(refused.value()->refusal.has_value());
  BOOST_TEST(refused.value()->refusal->reason == "F1");
  BOOST_TEST(refused.value()->refusal->metadata.size() == 2u);
  BOOST_TEST(refused.value()->refusal->metadata[1].second == "tomorrow");
  // A command id of another account is another command.
  BOOST_TEST(!store.value()->GetCommand("A-10", "cmd-3").value().has_value());
  BOOST_TEST(store.value()->CountAccounts().value() == 1);
}

BOOST_AUTO_TEST_CASE(due_accounts_come_by_time_and_move_with_their_deadline) {
  auto store = WriterStore::Open("");
  BOOST_REQUIRE(store.ok());
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  WriterStore::Batch batch;
  batch.SetDue("late", std::nullopt, t0 + absl::Hours(48));
  batch.SetDue("soon", std::nullopt, t0 + absl::Hours(1));
  batch.SetDue("now", std::nullopt, t0);
  batch.SetCheckpoint(1, "t/0", kLayout);
  BOOST_REQUIRE(!store.value()->Apply(batch).has_value());
  auto due = store.value()->DueAccounts(t0 + absl::Hours(2), 10);
  BOOST_REQUIRE(due.ok());
  BOOST_TEST(due.value() == (std::vector<std::string>{"now", "soon"}));
  BOOST_TEST(store.value()->DueAccounts(t0 + absl::Hours(2), 1).value().size() == 1u);

  WriterStore::Batch moved;
  moved.SetDue("soon", t0 + absl::Hours(1), t0 + absl::Hours(72));
  moved.SetDue("now", t0, std::nullopt);
  moved.SetCheckpoint(2, "t/0", kLayout);
  BOOST_REQUIRE(!store.value()->Apply(moved).has_value());
  BOOST_TEST(store.value()->DueAccounts(t0 + absl::Hours(2), 10).value().empty());
  BOOST_TEST(store.value()->DueAccounts(t0 + absl::Hours(100), 10).value() ==
             (std::vector<std::string>{"late", "soon"}));
}

BOOST_AUTO_TEST_CASE(digest_tells_states_apart) {
  auto a = WriterStore::Open("");
  auto b = WriterStore::Open("");
  BOOST_REQUIRE(a.ok());
  BOOST_REQUIRE(b.ok());
  WriterStore::Batch one, two;
  one.PutAccount(AccountWith("A", 1));
  two.PutAccount(AccountWith("A", 1));
  BOOST_REQUIRE(!a.value()->Apply(one).has_value());
  BOOST_REQUIRE(!b.value()->Apply(two).has_value());
  BOOST_TEST(a.value()->AccountsDigest().value() == b.value()->AccountsDigest().value());
  WriterStore::Batch three;
  three.PutAccount(AccountWith("A", 2));
  BOOST_REQUIRE(!b.value()->Apply(three).has_value());
  BOOST_TEST(a.value()->AccountsDigest().value() != b.value()->AccountsDigest().value());
}

BOOST_AUTO_TEST_CASE(an_unreadable_record_is_not_a_record) {
  BOOST_TEST(!DecodeCommandRecord("garbage").has_value());
  CommandRecord r;
  r.fingerprint = "x";
  std::string bytes = EncodeCommandRecord(r);
  BOOST_TEST(DecodeCommandRecord(bytes).has_value());
  BOOST_TEST(!DecodeCommandRecord(bytes.substr(0, bytes.size() - 3)).has_value());
}

}  // namespace
}  // namespace collections

namespace collections {
namespace {

// A store written by another layout (an older build's v1.Account values, or the same state
// under another contact or payment horizon) is not read: its checkpoint is refused, naming both layouts,
// and the writer rebuilds it from the log.
BOOST_AUTO_TEST_CASE(a_store_of_another_layout_is_not_read) {
  TempDir dir;
  {
    auto store = WriterStore::Open(dir.path.string());
    BOOST_REQUIRE(store.ok());
    WriterStore::Batch batch;
    batch.PutAccount(AccountWith("A-1", 3));
    batch.SetCheckpoint(7, "topic/0", WriterStore::Layout({.contacts = absl::Hours(24) * 33, .payments = absl::Hours(24) * 400}));
    BOOST_REQUIRE(!store.value()->Apply(batch).has_value());
  }
  auto store = WriterStore::Open(dir.path.string());
  BOOST_REQUIRE(store.ok());
  auto same = store.value()->LoadCheckpoint(WriterStore::Layout({.contacts = absl::Hours(24) * 33, .payments = absl::Hours(24) * 400}));
  BOOST_REQUIRE(same.ok());
  BOOST_TEST(same.value()->next_offset == 7);
  auto other = store.value()->LoadCheckpoint(kLayout);
  BOOST_REQUIRE(!other.ok());
  BOOST_TEST(other.error().reason == "WRITER_STORE_LAYOUT");
  BOOST_TEST(other.error().message.find("payment horizon 46656000 s") != std::string::npos);
  BOOST_TEST(other.error().message.find("payment horizon 34560000 s") != std::string::npos);
}

}  // namespace
}  // namespace collections
