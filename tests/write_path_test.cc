// The write path's guarantees, each against the real broker, RocksDB and gRPC server.
#define BOOST_TEST_MODULE write_path
#include "services/domain/hashing.h"
#include "services/kafka/kafka.h"
#include "tests/support/harness.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <boost/test/unit_test.hpp>
#include <thread>

namespace collections::testing {
namespace {

// Records on the topic for one account.
size_t EventsFor(const std::string& topic, const std::string& account_id) {
  size_t n = 0;
  for (const auto& e : ReadTopic(topic)) n += e.envelope.account_id() == account_id ? 1 : 0;
  return n;
}

BOOST_AUTO_TEST_CASE(open_pay_and_read_your_writes) {
  TempDir dir;
  TestService service(TestOptions("rw", dir.path));
  v1::CommandReply opened, paid;
  BOOST_REQUIRE(Call(service.commands(), OpenCase("ACC-1", "c-open", 100000), &opened).ok());
  BOOST_TEST(opened.version() == 1);
  BOOST_TEST(opened.event_ids_size() == 1);
  auto status = Call(service.commands(), PostPayment("ACC-1", "c-pay", "P1", 30000), &paid);
  BOOST_REQUIRE_MESSAGE(status.ok(), status.error_message());
  BOOST_TEST(paid.version() == 2);
  BOOST_TEST(paid.position().partition() == opened.position().partition());
  BOOST_TEST(paid.position().offset() > opened.position().offset());

  v1::Account account;
  BOOST_REQUIRE(GetAccount(service.queries(), "ACC-1", &paid.position(), &account).ok());
  BOOST_TEST(account.version() == 2);
  // Oldest component first: the 30000 comes off the principal; the 2500 fees remain.
  BOOST_TEST(account.balances().fees_minor() == 2500);
  BOOST_TEST(account.balances().principal_minor() == 70000);
  BOOST_TEST(account.total_balance_minor() == 72500);
  BOOST_TEST(account.last_payment().payment_id() == "P1");
  BOOST_TEST(account.last_position().offset() == paid.position().offset());

  v1::Account missing;
  auto not_found = GetAccount(service.queries(), "ACC-404", nullptr, &missing);
  BOOST_TEST(not_found.error_code() == grpc::StatusCode::NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(events_carry_the_envelope_cloudevents_headers_and_hash_chain) {
  TempDir dir;
  TestService service(TestOptions("envelope", dir.path));
  v1::CommandReply r;
  BOOST_REQUIRE(Call(service.commands(), OpenCase("ACC-H", "c1"), &r).ok());
  BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-H", "c2", "P1", 1000), &r).ok());
  BOOST_REQUIRE(Call(service.commands(), ReversePayment("ACC-H", "c3", "P1"), &r).ok());

  auto events = ReadTopic(service.options().log.topic);
  BOOST_REQUIRE(events.size() == 3u);
  std::string prev_hash;
  const char* types[] = {"collections.v1.CaseOpened", "collections.v1.PaymentPosted",
                         "collections.v1.PaymentReversed"};
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    BOOST_TEST(e.key == "ACC-H");
    BOOST_TEST(e.partition == kafka::PartitionFor("ACC-H", 3));
    BOOST_TEST(e.envelope.sequence() == static_cast<int64_t>(i + 1));
    BOOST_TEST(e.envelope.command_id() == "c" + std::to_string(i + 1));
    BOOST_TEST(e.envelope.actor().id() == "test-suite");
    BOOST_TEST(e.envelope.correlation_id() == "corr-c" + std::to_string(i + 1));
    BOOST_TEST(e.envelope.recorded_at().seconds() > 0);
    BOOST_TEST(e.headers.at("ce_specversion") == "1.0");
    BOOST_TEST(e.headers.at("ce_id") == e.envelope.event_id());
    BOOST_TEST(e.headers.at("ce_type") == types[i]);
    BOOST_TEST(e.headers.at("ce_subject") == "ACC-H");
    BOOST_TEST(e.headers.at("ce_source") == "/collections/case-service");
    BOOST_TEST(e.headers.at("content-type") == "application/protobuf");
    BOOST_TEST(e.headers.at("ce_time").size() == 27u);  // 2025-01-02T03:04:05.678901Z
    BOOST_TEST(e.envelope.prev_hash() == prev_hash);
    BOOST_TEST(e.envelope.hash() == ChainHash(e.envelope));
    prev_hash = e.envelope.hash();
  }
}

BOOST_AUTO_TEST_CASE(expected_version_mismatch_is_aborted_and_appends_nothing) {
  TempDir dir;
  TestService service(TestOptions("version", dir.path));
  v1::CommandReply r;
  auto open = OpenCase("ACC-V", "c1");
  open.set_expected_version(0);  // "must not exist yet"
  BOOST_REQUIRE(Call(service.commands(), open, &r).ok());

  auto stale = PostPayment("ACC-V", "c2", "P1", 100);
  stale.set_expected_version(0);
  auto status = Call(service.commands(), stale, &r);
  BOOST_TEST(status.error_code() == grpc::StatusCode::ABORTED);
  BOOST_TEST(ErrorReason(status) == "VERSION_MISMATCH");
  BOOST_TEST(EventsFor(service.options().log.topic, "ACC-V") == 1u);

  auto current = PostPayment("ACC-V", "c3", "P1", 100);
  current.set_expected_version(1);
  BOOST_REQUIRE(Call(service.commands(), current, &r).ok());
  BOOST_TEST(r.version() == 2);
}

BOOST_AUTO_TEST_CASE(repeated_command_id_returns_the_original_reply_and_appends_nothing) {
  TempDir dir;
  TestService service(TestOptions("idem", dir.path));
  v1::CommandReply first, again, other;
  BOOST_REQUIRE(Call(service.commands(), OpenCase("ACC-I", "c1"), &first).ok());
  BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-I", "c2", "P1", 500), &first).ok());
  BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-I", "c2", "P1", 500), &again).ok());
  BOOST_TEST(again.deduplicated());
  BOOST_TEST(again.version() == first.version());
  BOOST_TEST(again.position().offset() == first.position().offset());
  BOOST_TEST(again.event_ids(0) == first.event_ids(0));

  // Same id, different request: refused, nothing appended.
  auto status = Call(service.commands(), PostPayment("ACC-I", "c2", "P1", 999), &other);
  BOOST_TEST(status.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  BOOST_TEST(ErrorReason(status) == "COMMAND_ID_REUSED");
  BOOST_TEST(EventsFor(service.options().log.topic, "ACC-I") == 2u);

  // The same holds after a restart: command ids are restored from the log.
  service.Restart();
  BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-I", "c2", "P1", 500), &again).ok());
  BOOST_TEST(again.deduplicated());
  BOOST_TEST(again.position().offset() == first.position().offset());
  BOOST_TEST(EventsFor(service.options().log.topic, "ACC-I") == 2u);
}

BOOST_AUTO_TEST_CASE(refused_commands_get_clear_errors_and_append_nothing) {
  TempDir dir;
  TestService service(TestOptions("refuse", dir.path));
  v1::CommandReply r;
  BOOST_REQUIRE(Call(service.commands(), OpenCase("ACC-R", "c-open"), &r).ok());
  BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-R", "c-pay", "P1", 1000), &r).ok());
  BOOST_REQUIRE(Call(service.commands(), ReversePayment("ACC-R", "c-rev", "P1"), &r).ok());

  struct Case {
    const char* name;
    std::function<grpc::Status()> call;
    grpc::StatusCode code;
    std::string field_or_reason;
  };
  auto& stub = service.commands();
  auto euro = PostPayment("ACC-R", "x4", "P9", 100);
  euro.mutable_amount()->set_currency("EUR");
  std::vector<Case> cases = {
      {"unknown account", [&] { return Call(stub, PostPayment("ACC-NONE", "x1", "P1", 100), &r); },
       grpc::StatusCode::NOT_FOUND, "ACCOUNT_NOT_FOUND"},
      {"zero amount", [&] { return Call(stub, PostPayment("ACC-R", "x2", "P9", 0), &r); },
       grpc::StatusCode::INVALID_ARGUMENT, "amount.amount_minor"},
      {"negative amount", [&] { return Call(stub, PostPayment("ACC-R", "x3", "P9", -100), &r); },
       grpc::StatusCode::INVALID_ARGUMENT, "amount.amount_minor"},
      {"wrong currency", [&] { return Call(stub, euro, &r); }, grpc::StatusCode::INVALID_ARGUMENT,
       "amount.currency"},
      {"reverse unknown payment",
       [&] { return Call(stub, ReversePayment("ACC-R", "x5", "P404"), &r); },
       grpc::StatusCode::NOT_FOUND, "PAYMENT_NOT_FOUND"},
      {"reverse twice", [&] { return Call(stub, ReversePayment("ACC-R", "x6", "P1"), &r); },
       grpc::StatusCode::FAILED_PRECONDITION, "PAYMENT_ALREADY_REVERSED"},
      {"open existing account", [&] { return Call(stub, OpenCase("ACC-R", "x7"), &r); },
       grpc::StatusCode::ALREADY_EXISTS, "ACCOUNT_EXISTS"},
      {"missing command id", [&] { return Call(stub, PostPayment("ACC-R", "", "P9", 100), &r); },
       grpc::StatusCode::INVALID_ARGUMENT, "command_id"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      grpc::Status s = c.call();
      BOOST_TEST(static_cast<int>(s.error_code()) == static_cast<int>(c.code));
      if (c.code == grpc::StatusCode::INVALID_ARGUMENT) {
        BOOST_TEST(BadRequestField(s) == c.field_or_reason);
      } else {
        BOOST_TEST(ErrorReason(s) == c.field_or_reason);
      }
      BOOST_TEST(!s.error_message().empty());
    }
  }
  BOOST_TEST(ReadTopic(service.options().log.topic).size() == 3u);
}

BOOST_AUTO_TEST_CASE(restart_keeps_every_acknowledged_command) {
  TempDir dir;
  TestService service(TestOptions("restart", dir.path));
  v1::CommandReply r;
  for (int a = 0; a < 10; ++a) {
    std::string id = "ACC-" + std::to_string(a);
    BOOST_REQUIRE(Call(service.commands(), OpenCase(id, "open-" + id), &r).ok());
    BOOST_REQUIRE(
        Call(service.commands(), PostPayment(id, "pay-" + id, "P1", 1000 * (a + 1)), &r).ok());
  }
  service.Restart();
  for (int a = 0; a < 10; ++a) {
    std::string id = "ACC-" + std::to_string(a);
    // The writer restored the account: the next command sees version 2.
    auto next = PostPayment(id, "pay2-" + id, "P2", 1);
    next.set_expected_version(2);
    auto s = Call(service.commands(), next, &r);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
    BOOST_TEST(r.version() == 3);
    v1::Account account;
    BOOST_REQUIRE(GetAccount(service.queries(), id, &r.position(), &account).ok());
    BOOST_TEST(account.total_balance_minor() == 102500 - 1000 * (a + 1) - 1);
  }
}

// Many concurrent commands: every one acknowledged, per-account versions without gaps, and
// fewer Kafka transactions than commands (each transaction leaves one marker offset).
BOOST_AUTO_TEST_CASE(concurrent_commands_are_group_committed_in_order) {
  TempDir dir;
  TestService service(TestOptions("group", dir.path));
  constexpr int kThreads = 16, kAccounts = 32, kPayments = 5;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      v1::CommandReply r;
      for (int a = t; a < kAccounts; a += kThreads) {
        std::string id = "ACC-G" + std::to_string(a);
        if (!Call(service.commands(), OpenCase(id, "open"), &r).ok()) ++failures;
        for (int p = 0; p < kPayments; ++p) {
          std::string pid = "P" + std::to_string(p);
          if (!Call(service.commands(), PostPayment(id, "pay-" + pid, pid, 100), &r).ok())
            ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  BOOST_TEST(failures.load() == 0);

  auto events = ReadTopic(service.options().log.topic);
  BOOST_TEST(events.size() == static_cast<size_t>(kAccounts * (1 + kPayments)));
  std::map<std::string, int64_t> last_sequence;
  std::map<int32_t, std::pair<int64_t, int64_t>> per_partition;  // records, last offset
  for (const auto& e : events) {
    BOOST_TEST(e.envelope.sequence() == last_sequence[e.envelope.account_id()] + 1);
    last_sequence[e.envelope.account_id()] = e.envelope.sequence();
    per_partition[e.partition].first++;
    per_partition[e.partition].second = e.offset;
  }
  int64_t transactions = 0;
  for (const auto& [p, stats] : per_partition) transactions += stats.second + 2 - stats.first;
  BOOST_TEST_MESSAGE("commands: " << events.size() << ", transactions: " << transactions);
  BOOST_TEST(transactions < static_cast<int64_t>(events.size()));
}

// Calls sent at once on gRPC's async client API; returns their statuses once all are answered.
std::vector<grpc::Status> SendAtOnce(v1::CaseCommandService::Stub& stub,
                                     const std::vector<v1::OpenCaseRequest>& requests,
                                     const std::function<void(const std::function<size_t()>&)>&
                                         after_sending = nullptr) {
  struct Pending {
    grpc::ClientContext context;
    v1::CommandReply reply;
  };
  std::vector<Pending> calls(requests.size());
  std::vector<grpc::Status> statuses(requests.size());
  std::mutex mutex;
  std::condition_variable answered;
  size_t left = requests.size();
  for (size_t i = 0; i < requests.size(); ++i) {
    calls[i].context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    stub.async()->OpenCase(&calls[i].context, &requests[i], &calls[i].reply,
                           [&, i](grpc::Status status) {
                             std::lock_guard lock(mutex);
                             statuses[i] = std::move(status);
                             if (--left == 0) answered.notify_one();
                           });
  }
  if (after_sending) {
    after_sending([&] {
      std::lock_guard lock(mutex);
      return requests.size() - left;
    });
  }
  std::unique_lock lock(mutex);
  answered.wait(lock, [&] { return left == 0; });
  return statuses;
}

// A command waiting for its group commit holds no server thread: many more commands than the
// server has threads are in flight at once, and every one commits.
BOOST_AUTO_TEST_CASE(more_commands_in_flight_than_server_threads_all_commit) {
  TempDir dir;
  ServerOptions options = TestOptions("inflight", dir.path);
  options.admission.max_server_threads = 8;  // the smallest the server accepts
  TestService service(options);
  std::vector<v1::OpenCaseRequest> requests;
  for (int i = 0; i < 64; ++i) requests.push_back(OpenCase("ACC-F" + std::to_string(i), "open"));
  int ok = 0;
  for (const grpc::Status& status : SendAtOnce(service.commands(), requests)) {
    if (status.ok()) {
      ++ok;
    } else {
      BOOST_TEST_MESSAGE("refused: " << status.error_code() << " " << status.error_message());
    }
  }
  BOOST_TEST(ok == 64);
  BOOST_TEST(ReadTopic(service.options().log.topic).size() == 64u);
}

// A shutdown with commands in flight answers every one of them (committed, or UNAVAILABLE with
// a retry hint), within the grace period: no call is left hanging, none is answered twice.
BOOST_AUTO_TEST_CASE(a_shutdown_answers_every_command_in_flight) {
  TempDir dir;
  ServerOptions options = TestOptions("drain", dir.path);
  options.shutdown_grace_ms = 4000;
  TestService service(options);
  std::vector<v1::OpenCaseRequest> requests;
  for (int i = 0; i < 200; ++i) requests.push_back(OpenCase("ACC-D" + std::to_string(i), "open"));
  auto channel = service.channel_as(kTestPrincipal);
  auto stub = v1::CaseCommandService::NewStub(channel);
  const auto began = std::chrono::steady_clock::now();
  // Stops once the first commands are committed: the others are queued or in a transaction.
  auto statuses = SendAtOnce(*stub, requests, [&](const std::function<size_t()>& answered) {
    while (answered() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    service.Stop();
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::set<std::string> committed_ids;
  int ok = 0, unavailable = 0;
  for (const grpc::Status& status : statuses) {
    if (status.ok()) ++ok;
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) ++unavailable;
    BOOST_TEST((status.ok() || status.error_code() == grpc::StatusCode::UNAVAILABLE),
               status.error_code() << " " << status.error_message());
  }
  BOOST_TEST_MESSAGE("committed " << ok << ", unavailable " << unavailable << " in " << seconds
                                  << " s");
  BOOST_TEST(ok > 0);
  BOOST_TEST(seconds < 4.0 + 2.0);
  // Every acknowledged command is in the log.
  for (const auto& e : ReadTopic(options.log.topic)) committed_ids.insert(e.envelope.account_id());
  BOOST_TEST(committed_ids.size() >= static_cast<size_t>(ok));
}

// A second writer for the same partition fences the first: the first can no longer append,
// its caller gets an error (never OK), and nothing of that command reaches the log.
BOOST_AUTO_TEST_CASE(a_new_owner_fences_the_old_writer) {
  TempDir dir;
  TestService service(TestOptions("fence", dir.path));
  v1::CommandReply r;
  BOOST_REQUIRE(Call(service.commands(), OpenCase("ACC-F", "c1"), &r).ok());
  const int32_t partition = r.position().partition();

  SystemClock clock;
  PartitionWriter usurper(service.options().log, service.options().writer, partition, clock);
  BOOST_REQUIRE(!usurper.Start().has_value());
  BOOST_TEST(usurper.restored_events() == 1);

  auto s = Call(service.commands(), PostPayment("ACC-F", "c2", "P1", 100), &r);
  BOOST_TEST(s.error_code() == grpc::StatusCode::UNAVAILABLE);
  // The old writer stays down for that partition, answers at once, and says so in its health.
  const auto asked = std::chrono::steady_clock::now();
  s = Call(service.commands(), PostPayment("ACC-F", "c3", "P2", 100), &r);
  BOOST_TEST(s.error_code() == grpc::StatusCode::UNAVAILABLE);
  BOOST_TEST(ErrorReason(s) == "WRITER_FENCED");
  BOOST_TEST((std::chrono::steady_clock::now() - asked < std::chrono::seconds(1)));
  for (int i = 0; i < 20 && HealthStatus(service.app().address(), ServerApp::kCommandService) != 2;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_TEST(HealthStatus(service.app().address(), ServerApp::kCommandService) == 2);
  BOOST_TEST(HealthStatus(service.app().address(), "") == 2);
  // The new owner serves it, from the state it restored.
  auto via_usurper = usurper.Submit(PostPayment("ACC-F", "c4", "P3", 100)).get();
  BOOST_REQUIRE(via_usurper.ok());
  BOOST_TEST(via_usurper->version() == 2);

  auto events = ReadTopic(service.options().log.topic);
  BOOST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[1].envelope.command_id() == "c4");
}

}  // namespace
}  // namespace collections::testing
