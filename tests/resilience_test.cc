// Hostile input and truthful health on the shared test broker:
// - a command whose event is too large is refused (INVALID_ARGUMENT) and never joins a group
//   commit, while other clients on the same partition keep succeeding;
// - a record the broker itself refuses (smaller max.message.bytes than the writer's limit) is
//   isolated: the commands batched with it are committed without it;
// - while --rebuild-projection runs, health says NOT_SERVING for the query service and
//   GetAccount answers UNAVAILABLE instead of a false NOT_FOUND.
#define BOOST_TEST_MODULE resilience
#include "services/kafka/kafka.h"
#include "tests/support/harness.h"

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <future>
#include <mutex>
#include <thread>

namespace collections::testing {
namespace {

constexpr int kServing = 1, kNotServing = 2;

// `count` account ids that live on the same partition as `anchor` (of `partitions`).
std::vector<std::string> AccountsBeside(const std::string& anchor, int32_t partitions, int count) {
  std::vector<std::string> out;
  const int32_t p = kafka::PartitionFor(anchor, partitions);
  for (int i = 0; static_cast<int>(out.size()) < count; ++i) {
    std::string id = "ACC-N" + std::to_string(i);
    if (kafka::PartitionFor(id, partitions) == p) out.push_back(id);
  }
  return out;
}

// One client retries `poison` for `seconds` while eight others post payments on accounts of
// the same partition. Returns the poison's answers; every other command must succeed.
std::vector<grpc::Status> RunBesidePoison(TestService& service, const v1::OpenCaseRequest& poison,
                                          int seconds) {
  auto neighbours = AccountsBeside(poison.account_id(), service.options().log.partitions, 8);
  v1::CommandReply r;
  for (const auto& id : neighbours) {
    auto s = Call(service.commands(), OpenCase(id, "open"), &r);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
  }
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::mutex mutex;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (const auto& id : neighbours) {
    clients.emplace_back([&, id] {
      for (int n = 0; !stop; ++n) {
        v1::CommandReply reply;
        auto s = Call(service.commands(),
                      PostPayment(id, "pay-" + std::to_string(n), "P" + std::to_string(n), 1),
                      &reply);
        if (s.ok()) {
          ++ok;
        } else {
          ++failed;
          std::lock_guard lock(mutex);
          failures.push_back(id + ": " + s.error_message());
        }
      }
    });
  }
  std::vector<grpc::Status> answers;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    v1::CommandReply reply;
    answers.push_back(Call(service.commands(), poison, &reply));
  }
  stop = true;
  for (auto& t : clients) t.join();
  BOOST_TEST_MESSAGE("others: " << ok.load() << " acknowledged, " << failed.load()
                                << " failed; poison attempts: " << answers.size());
  if (!answers.empty())
    BOOST_TEST_MESSAGE("the poison's answer: " << answers.front().error_message() << " ("
                                               << ErrorReason(answers.front()) << ")");
  for (size_t i = 0; i < failures.size() && i < 5; ++i) BOOST_TEST_MESSAGE(failures[i]);
  BOOST_TEST(failed.load() == 0);
  BOOST_TEST(ok.load() > 10);  // they made progress (a refused record costs a few aborts)
  return answers;
}

BOOST_AUTO_TEST_CASE(an_oversized_command_is_refused_and_never_joins_a_group_commit) {
  TempDir dir;
  TestService service(TestOptions("poison", dir.path));
  auto poison = OpenCase("ACC-POISON", "open-poison");
  poison.set_correlation_id(std::string(600 * 1024, 'x'));  // its event is over 512 KiB
  auto answers = RunBesidePoison(service, poison, 5);
  BOOST_REQUIRE(!answers.empty());
  for (const auto& s : answers) BOOST_TEST(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  for (const auto& e : ReadTopic(service.options().log.topic))
    BOOST_TEST(e.envelope.account_id() != "ACC-POISON");
}

BOOST_AUTO_TEST_CASE(a_record_the_broker_refuses_is_isolated_from_its_batch) {
  TempDir dir;
  ServerOptions options = TestOptions("refused", dir.path);
  // The broker refuses record batches over 2000 bytes (two ordinary commands fit, three do not);
  // the writer's own check is set far above that so the poison reaches the broker.
  options.log.topic_config = {{"max.message.bytes", "2000"}};
  options.writer.max_event_bytes = 10 * 1024 * 1024;
  TestService service(options);
  auto poison = OpenCase("ACC-POISON", "open-poison");
  poison.set_creditor(std::string(1000, 'c'));  // with the rest, an event of about 2.7 kB
  poison.set_debtor_name(std::string(1000, 'd'));
  auto answers = RunBesidePoison(service, poison, 5);
  BOOST_REQUIRE(!answers.empty());
  for (const auto& s : answers) BOOST_TEST(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  // The writer never had to start over: the others' commands are all there, gapless.
  std::map<std::string, int64_t> last;
  for (const auto& e : ReadTopic(options.log.topic)) {
    BOOST_TEST(e.envelope.account_id() != "ACC-POISON");
    BOOST_TEST(e.envelope.sequence() == last[e.envelope.account_id()] + 1);
    last[e.envelope.account_id()] = e.envelope.sequence();
  }
}

BOOST_AUTO_TEST_CASE(health_is_not_serving_while_the_projection_rebuilds) {
  TempDir dir;
  ServerOptions options = TestOptions("rebuild-health", dir.path);
  constexpr int kThreads = 40, kPerThread = 500;
  {
    TestService service(options);
    // Through the router directly (no gRPC): enough events for a rebuild of a few seconds.
    std::vector<std::thread> threads;
    std::atomic<int> failed{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int n = 0; n < kPerThread; ++n) {
          std::string id = "ACC-R" + std::to_string(t) + "-" + std::to_string(n);
          auto r = service.app().router().Execute(OpenCase(id, "open"),
                                                  absl::Now() + absl::Seconds(30));
          if (!r.ok()) ++failed;
        }
      });
    }
    for (auto& t : threads) t.join();
    BOOST_REQUIRE(failed.load() == 0);
    BOOST_TEST(HealthStatus(service.app().address(), "") == kServing);
  }

  options.rebuild_projection = true;
  TestService rebuilt(options);
  const std::string address = rebuilt.app().address();
  // Right after start-up the projection is far from the log end.
  BOOST_TEST(HealthStatus(address, ServerApp::kQueryService) == kNotServing);
  BOOST_TEST(HealthStatus(address, "") == kNotServing);
  BOOST_TEST(HealthStatus(address, ServerApp::kCommandService) == kServing);
  // Existing accounts are never reported missing: UNAVAILABLE until they are projected.
  int unavailable = 0, found = 0;
  for (int t = kThreads - 1; t >= 0; --t) {
    for (int n = kPerThread - 1; n >= kPerThread - 5; --n) {
      v1::Account account;
      auto s = GetAccount(rebuilt.queries(), "ACC-R" + std::to_string(t) + "-" + std::to_string(n),
                          nullptr, &account);
      if (s.ok()) {
        ++found;
        continue;
      }
      BOOST_TEST(s.error_code() == grpc::StatusCode::UNAVAILABLE, s.error_message());
      BOOST_TEST(ErrorReason(s) == "PROJECTION_REBUILDING");
      ++unavailable;
    }
  }
  BOOST_TEST_MESSAGE("during the rebuild: " << unavailable << " UNAVAILABLE, " << found
                                            << " found");
  BOOST_TEST(unavailable > 0);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (HealthStatus(address, "") != kServing && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  BOOST_REQUIRE(HealthStatus(address, "") == kServing);
  BOOST_TEST(HealthStatus(address, ServerApp::kQueryService) == kServing);
  BOOST_TEST(HealthStatus(address, ServerApp::kReportingService) == kServing);
  for (int t = 0; t < kThreads; ++t) {
    v1::Account account;
    auto s = GetAccount(rebuilt.queries(), "ACC-R" + std::to_string(t) + "-0", nullptr, &account);
    BOOST_TEST(s.ok(), s.error_message());
  }
  v1::Account missing;
  BOOST_TEST(GetAccount(rebuilt.queries(), "ACC-NONE", nullptr, &missing).error_code() ==
             grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace collections::testing
