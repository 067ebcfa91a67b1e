// The partition writers' own store, against the real broker, RocksDB and gRPC server: a
// restart reads only the log after the store's checkpoint and reaches exactly the state a
// restore from offset 0 reaches, also after a crash between the Kafka commit and the store
// write, and with the store deleted; command ids stay deduplicated across restarts even when
// their accounts long left the writer's memory.
#define BOOST_TEST_MODULE writer_restart
#include "services/domain/compliance_gate.h"
#include "services/kafka/kafka.h"
#include "services/writer_store/writer_store.h"
#include "tests/support/harness.h"

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <future>
#include <thread>

namespace collections::testing {
namespace {

constexpr int kAccounts = 12;

std::string WriterStorePath(const std::filesystem::path& dir) {
  return (dir / "projection-writer").string();
}

// SHA-256 of every account in every partition's writer store (the service must be stopped).
std::string WriterDigest(const std::filesystem::path& dir, int partitions) {
  std::string all;
  for (int p = 0; p < partitions; ++p) {
    auto store = WriterStore::Open(WriterStorePath(dir) + "/partition-" + std::to_string(p));
    if (!store.ok()) BOOST_FAIL("writer store of partition " << p << ": " << store.error().message);
    auto digest = store.value()->AccountsDigest();
    BOOST_REQUIRE(digest.ok());
    all += digest.value() + ";";
  }
  return all;
}

int64_t Sum(const std::vector<int64_t>& v) {
  int64_t n = 0;
  for (auto x : v) n += x;
  return n;
}

ServerOptions Options(const std::string& name, const std::filesystem::path& dir) {
  ServerOptions o = TestOptions(name, dir);
  o.writer.account_cache_size = 2;  // far fewer than the accounts: most live only in the store
  return o;
}

void Populate(TestService& service) {
  v1::CommandReply r;
  for (int a = 0; a < kAccounts; ++a) {
    const std::string id = "ACC-R" + std::to_string(a);
    BOOST_REQUIRE(Call(service.commands(), OpenCase(id, "open", 100000), &r).ok());
    for (int p = 0; p < 3; ++p) {
      const std::string pid = "P" + std::to_string(p);
      auto s = Call(service.commands(), PostPayment(id, "pay-" + pid, pid, 100 + a), &r);
      BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_restart_from_the_checkpoint_equals_a_restore_from_offset_zero) {
  TempDir dir;
  ServerOptions options = Options("restart", dir.path);
  std::string live;
  {
    TestService service(options);
    Populate(service);
  }
  live = WriterDigest(dir.path, options.log.partitions);
  {
    TestService service(options);
    // Nothing was read but the log after each partition's checkpoint.
    BOOST_TEST(Sum(service.app().router().restored_from_offsets()) > 0);
    BOOST_TEST(service.app().router().restored_events() == 0);
    // The first command id of the first account: long out of the writer's memory, and the
    // writer restarted since: still the same reply, marked as a repeat.
    v1::CommandReply r;
    BOOST_REQUIRE(Call(service.commands(), OpenCase("ACC-R0", "open", 100000), &r).ok());
    BOOST_TEST(r.deduplicated());
    BOOST_TEST(r.version() == 1);
    BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-R0", "pay-P0", "P0", 100), &r).ok());
    BOOST_TEST(r.deduplicated());
    BOOST_TEST(r.version() == 2);
    // Reused with another request: still refused.
    auto reused = Call(service.commands(), PostPayment("ACC-R0", "pay-P0", "P0", 999), &r);
    BOOST_TEST(reused.error_code() == grpc::StatusCode::ALREADY_EXISTS);
    // And a new command continues each account's sequence.
    BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-R1", "pay-P9", "P9", 50), &r).ok());
    BOOST_TEST(r.version() == 5);
    BOOST_TEST(!r.deduplicated());
  }
  const std::string after_checkpoint = WriterDigest(dir.path, options.log.partitions);
  BOOST_TEST(after_checkpoint != live, "the last payment changed the state");
  // The store deleted: the writers say so and restore from the log, offset 0.
  BOOST_REQUIRE(!WriterStore::Destroy(WriterStorePath(dir.path)).has_value());
  {
    TestService service(options);
    BOOST_TEST(Sum(service.app().router().restored_from_offsets()) == 0);
    BOOST_TEST(service.app().router().restored_events() == kAccounts * 4 + 1);
  }
  BOOST_TEST(WriterDigest(dir.path, options.log.partitions) == after_checkpoint);
}

BOOST_AUTO_TEST_CASE(a_crash_between_the_commit_and_the_store_write_is_caught_up_from_the_log) {
  TempDir dir;
  ServerOptions options = Options("crash-store", dir.path);
  auto crash = std::make_shared<std::atomic<bool>>(false);
  options.writer.crash_before_store_write_for_test = [crash](int32_t) { return crash->load(); };
  v1::CommandReply paid;
  {
    TestService service(options);
    Populate(service);
    crash->store(true);
    // Committed to the log (the caller hears OK), never written to the store.
    auto s = Call(service.commands(), PostPayment("ACC-R3", "pay-crash", "PC", 777), &paid);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
    BOOST_TEST(paid.version() == 5);
  }
  crash->store(false);
  std::string caught_up;
  {
    TestService service(options);
    // The tail after the stale checkpoint held the crashed command.
    BOOST_TEST(service.app().router().restored_events() >= 1);
    v1::CommandReply r;
    BOOST_REQUIRE(
        Call(service.commands(), PostPayment("ACC-R3", "pay-crash", "PC", 777), &r).ok());
    BOOST_TEST(r.deduplicated());
    BOOST_TEST(r.version() == paid.version());
    BOOST_TEST(r.position().offset() == paid.position().offset());
    BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-R3", "pay-next", "PN", 1), &r).ok());
    BOOST_TEST(r.version() == 6);
  }
  caught_up = WriterDigest(dir.path, options.log.partitions);
  BOOST_REQUIRE(!WriterStore::Destroy(WriterStorePath(dir.path)).has_value());
  { TestService service(options); }
  BOOST_TEST(WriterDigest(dir.path, options.log.partitions) == caught_up);
}

BOOST_AUTO_TEST_CASE(an_unreadable_store_falls_back_to_the_log) {
  TempDir dir;
  ServerOptions options = Options("corrupt-store", dir.path);
  {
    TestService service(options);
    Populate(service);
  }
  const std::string live = WriterDigest(dir.path, options.log.partitions);
  // Every file of partition 0's store overwritten with garbage.
  for (const auto& f : std::filesystem::directory_iterator(WriterStorePath(dir.path) +
                                                            "/partition-0")) {
    std::ofstream(f.path(), std::ios::trunc) << "not a rocksdb file";
  }
  {
    TestService service(options);
    BOOST_TEST(service.app().router().restored_from_offsets()[0] == 0);
    v1::CommandReply r;
    for (int a = 0; a < kAccounts; ++a) {
      auto s = Call(service.commands(),
                    OpenCase("ACC-R" + std::to_string(a), "open", 100000), &r);
      BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
      BOOST_TEST(r.deduplicated());
    }
  }
  BOOST_TEST(WriterDigest(dir.path, options.log.partitions) == live);
}

// A store an older release wrote (the public v1.Account as its values, no layout recorded) or
// one kept under another contact horizon (a policy with longer windows) is not read: the
// writers rebuild it from the log, offset 0, and reach the same state.
BOOST_AUTO_TEST_CASE(a_store_of_another_layout_is_rebuilt_from_the_log) {
  TempDir dir;
  ServerOptions options = Options("old-layout", dir.path);
  {
    TestService service(options);
    Populate(service);
  }
  const std::string live = WriterDigest(dir.path, options.log.partitions);
  const std::string layout = WriterStore::Layout(StateHorizonFor(options.writer.policy, options.writer.domain));
  for (int p = 0; p < options.log.partitions; ++p) {
    auto store = WriterStore::Open(WriterStorePath(dir.path) + "/partition-" + std::to_string(p));
    BOOST_REQUIRE(store.ok());
    auto checkpoint = store.value()->LoadCheckpoint(layout);
    BOOST_REQUIRE(checkpoint.ok());
    if (!checkpoint.value()) continue;
    WriterStore::Batch batch;
    batch.SetCheckpoint(checkpoint.value()->next_offset, checkpoint.value()->owner,
                        "1 v1.Account");
    BOOST_REQUIRE(!store.value()->Apply(batch).has_value());
  }
  {
    TestService service(options);
    BOOST_TEST(Sum(service.app().router().restored_from_offsets()) == 0);
    BOOST_TEST(service.app().router().restored_events() == kAccounts * 4);
    v1::CommandReply r;
    BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-R2", "pay-P1", "P1", 102), &r).ok());
    BOOST_TEST(r.deduplicated());
  }
  BOOST_TEST(WriterDigest(dir.path, options.log.partitions) == live);
}

// A writer that starts while its partition still holds a transaction not settled (the previous
// owner's last commit, its markers not yet written) reads its records once it commits, before
// serving: it never decides on a state that lacks them.
BOOST_AUTO_TEST_CASE(a_restore_waits_for_a_transaction_still_unsettled_on_its_partition) {
  TempDir dir;
  ServerOptions options = Options("settle", dir.path);
  v1::CommandReply r;
  {
    TestService service(options);
    BOOST_REQUIRE(Call(service.commands(), OpenCase("ACC-S", "open", 100000), &r).ok());
    BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-S", "pay-1", "P1", 100), &r).ok());
  }
  const auto events = ReadTopic(options.log.topic);
  BOOST_REQUIRE(events.size() == 2u);
  const int32_t partition = events[0].partition;

  // The same events on a new topic, as the previous owner wrote them: the first committed, the
  // second landed in a transaction held open.
  kafka::LogOptions log = options.log;
  log.topic = options.log.topic + "-handover";
  BOOST_REQUIRE(kafka::EnsureTopic(log).ok());
  auto owner = kafka::TransactionalProducer::Create(log, log.topic + "-previous-owner");
  BOOST_REQUIRE(owner.ok());
  BOOST_REQUIRE(!owner.value()->Init(10000).has_value());
  BOOST_REQUIRE(owner.value()->Append(partition, {AsRecord(events[0])}).outcome ==
                kafka::AppendResult::Outcome::kCommitted);
  HeldOpenTransaction held;
  auto last_commit = std::async(std::launch::async, [&] {
    return owner.value()->Append(partition, {AsRecord(events[1])}, &held).outcome;
  });
  held.WaitLanded();

  WriterOptions writer = options.writer;
  writer.store_path = (dir.path / "handover-writer").string();
  writer.instance_id = "next-owner";
  SystemClock clock;
  PartitionWriter next(log, writer, partition, clock);
  auto started = std::async(std::launch::async, [&] { return next.Start(); });
  // Still restoring while the transaction is open: the log's stable end is below it.
  BOOST_TEST((started.wait_for(std::chrono::seconds(3)) == std::future_status::timeout));
  held.Release();
  BOOST_REQUIRE(last_commit.get() == kafka::AppendResult::Outcome::kCommitted);
  BOOST_REQUIRE(started.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  if (auto status = started.get()) BOOST_FAIL(status->message);
  BOOST_TEST(next.restored_events() == 2);
  // It continues the account from both events.
  auto paid = next.Submit(PostPayment("ACC-S", "pay-2", "P2", 100)).get();
  if (!paid.ok()) BOOST_FAIL(paid.error().message);
  BOOST_TEST(paid.value().version() == 3);
}

}  // namespace
}  // namespace collections::testing
