// The read side against the real broker: a projection rebuilt from offset 0 equals the live one.
#define BOOST_TEST_MODULE projection
#include "tests/support/harness.h"

#include <boost/test/unit_test.hpp>
#include <thread>

namespace collections::testing {
namespace {

// Runs a mixed history over many accounts from several threads; returns the last position
// acknowledged per partition.
std::map<int32_t, int64_t> RunHistory(TestService& service, const std::string& tag) {
  std::mutex mutex;
  std::map<int32_t, int64_t> last;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      v1::CommandReply r;
      auto note = [&](const grpc::Status& s) {
        BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
        std::lock_guard lock(mutex);
        last[r.position().partition()] =
            std::max(last[r.position().partition()], r.position().offset());
      };
      for (int a = t; a < 24; a += 4) {
        std::string id = tag + "-ACC-" + std::to_string(a);
        note(Call(service.commands(), OpenCase(id, "open", 50000 + a), &r));
        note(Call(service.commands(), PostPayment(id, "p1", "P1", 1000 * (a + 1)), &r));
        note(Call(service.commands(), PostPayment(id, "p2", "P2", 60000), &r));  // overpays: credit
        if (a % 3 == 0) note(Call(service.commands(), ReversePayment(id, "r1", "P1"), &r));
      }
    });
  }
  for (auto& t : threads) t.join();
  return last;
}

void WaitApplied(TestService& service, const std::map<int32_t, int64_t>& positions) {
  for (const auto& [p, offset] : positions) {
    BOOST_REQUIRE(
        service.app().projector().WaitForPosition(p, offset, absl::Now() + absl::Seconds(30)));
  }
}

std::string Rebuild(const ServerOptions& options, const std::filesystem::path& path,
                    int32_t partitions) {
  auto store = ProjectionStore::Open(path.string());
  BOOST_REQUIRE(store.ok());
  AccountProjector projector(options.log, *store.value(), partitions, UniqueName("rebuild"));
  BOOST_REQUIRE(!projector.CatchUp(absl::Seconds(60)).has_value());
  auto digest = store.value()->Digest();
  BOOST_REQUIRE(digest.ok());
  return digest.value();
}

BOOST_AUTO_TEST_CASE(rebuild_from_offset_zero_equals_the_live_projection) {
  TempDir dir;
  TestService service(TestOptions("rebuild", dir.path));
  auto empty_digest = service.app().store().Digest();
  BOOST_REQUIRE(empty_digest.ok());

  WaitApplied(service, RunHistory(service, "a"));
  auto live = service.app().store().Digest();
  BOOST_REQUIRE(live.ok());
  BOOST_TEST(live.value() != empty_digest.value());
  BOOST_TEST(Rebuild(service.options(), dir.path / "rebuilt-1", 3) == live.value());

  // The live projector resumes from its stored offsets after a restart (no event applied
  // twice, none skipped): more history, and the rebuild still matches.
  service.Restart();
  WaitApplied(service, RunHistory(service, "b"));
  auto live_after = service.app().store().Digest();
  BOOST_REQUIRE(live_after.ok());
  BOOST_TEST(live_after.value() != live.value());
  BOOST_TEST(Rebuild(service.options(), dir.path / "rebuilt-2", 3) == live_after.value());
}

BOOST_AUTO_TEST_CASE(server_rebuild_flag_recreates_the_same_store) {
  TempDir dir;
  TestService service(TestOptions("rebuild-flag", dir.path));
  WaitApplied(service, RunHistory(service, "c"));
  auto live = service.app().store().Digest();
  BOOST_REQUIRE(live.ok());

  ServerOptions options = service.options();
  service.Stop();
  options.rebuild_projection = true;
  TestService rebuilt(options);
  std::map<int32_t, int64_t> log_end;
  for (const auto& e : ReadTopic(options.log.topic)) log_end[e.partition] = e.offset;
  WaitApplied(rebuilt, log_end);
  auto digest = rebuilt.app().store().Digest();
  BOOST_REQUIRE(digest.ok());
  BOOST_TEST(digest.value() == live.value());

  v1::Account account;
  BOOST_REQUIRE(GetAccount(rebuilt.queries(), "c-ACC-3", nullptr, &account).ok());
  // Opened at 50003 principal + 2500 fees = 52503. P1 (4000) pays principal (oldest first);
  // P2 (60000) pays the remaining 48503 and leaves 11497 credit. Reversing P1 owes its 4000
  // of principal again; P2's credit stays the consumer's.
  BOOST_TEST(account.total_balance_minor() == 4000);
  BOOST_TEST(account.balances().principal_minor() == 4000);
  BOOST_TEST(account.credit_balance_minor() == 11497);
  // Open; P1; P2 + aging to current + paid in full; reversal + aging back + open again.
  BOOST_TEST(account.version() == 8);
}

// One consumer feeds both projections; each keeps its own offsets. Deleting one store (as a
// layout change or an operator does) rebuilds that one from offset 0 while the other, ahead of
// it, applies nothing twice: both end with the bytes they had.
BOOST_AUTO_TEST_CASE(one_projection_deleted_alone_is_rebuilt_and_the_other_left_as_it_was) {
  TempDir dir;
  TestService service(TestOptions("rebuild-one", dir.path));
  const auto written = RunHistory(service, "d");
  WaitApplied(service, written);
  for (const auto& [p, offset] : written) {
    BOOST_REQUIRE(service.app().reporting_projector().WaitForPosition(
        p, offset, absl::Now() + absl::Seconds(30)));
  }
  auto reporting_live = service.app().reporting_store().Digest();
  auto accounts_live = service.app().store().Digest();
  BOOST_REQUIRE(reporting_live.ok());
  BOOST_REQUIRE(accounts_live.ok());
  ServerOptions options = service.options();
  std::map<int32_t, int64_t> log_end;
  for (const auto& e : ReadTopic(options.log.topic)) log_end[e.partition] = e.offset;
  for (const char* deleted : {"reporting", "accounts"}) {
    BOOST_TEST_CONTEXT("deleted " << deleted) {
      service.Stop();
      if (std::string(deleted) == "reporting") {
        BOOST_REQUIRE(!reporting::ReportingStore::Destroy(
            options.reporting_db_path.empty() ? options.db_path + "-reporting"
                                             : options.reporting_db_path));
      } else {
        BOOST_REQUIRE(!ProjectionStore::Destroy(options.db_path));
      }
      service.Restart();
      WaitApplied(service, log_end);
      for (const auto& [p, offset] : log_end) {
        BOOST_REQUIRE(service.app().reporting_projector().WaitForPosition(
            p, offset, absl::Now() + absl::Seconds(30)));
      }
      auto reporting_again = service.app().reporting_store().Digest();
      auto accounts_again = service.app().store().Digest();
      BOOST_REQUIRE(reporting_again.ok());
      BOOST_REQUIRE(accounts_again.ok());
      BOOST_TEST(reporting_again.value() == reporting_live.value());
      BOOST_TEST(accounts_again.value() == accounts_live.value());
      v1::Account account;
      BOOST_REQUIRE(GetAccount(service.queries(), "d-ACC-3", nullptr, &account).ok());
      BOOST_TEST(account.payments_size() == 2);
      BOOST_TEST(account.payments(0).reversed());
    }
  }
}

}  // namespace
}  // namespace collections::testing
