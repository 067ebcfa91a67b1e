// One writer per partition, whatever the second process's flags (README "One writer per
// partition"), on the real broker with real servers: a second server on the same port does not
// start; a second deployment on the same topic cannot append (refused at start-up, or stopped by
// the commit check before its first commit) and no account's chain breaks; a second process of
// the same deployment fences the first, which acknowledges nothing after it and every
// acknowledged command is in the log exactly once.
#define BOOST_TEST_MODULE ownership
#include "services/kafka/kafka.h"
#include "services/writer/partition_ledger.h"
#include "tests/support/harness.h"

#include "absl/strings/str_cat.h"
#include "collections/v1/compliance_service.grpc.pb.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace collections::testing {
namespace {

struct Exit {
  int code = -1;     // the exit status, or -1 when it had to be killed
  std::string log;   // what it wrote to stderr
};

// Runs the real collections-server with `flags` until it exits (at most `timeout`).
Exit RunServer(const std::vector<std::string>& flags, const std::filesystem::path& dir,
               std::chrono::seconds timeout) {
  std::vector<std::string> args = {COLLECTIONS_SERVER_BINARY};
  for (const auto& f : flags) args.push_back(f);
  for (auto& f : ServerBinarySecurityFlags(dir.string())) args.push_back(f);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log_path = (dir / "server.log").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid = -1;
  BOOST_REQUIRE(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  Exit exit;
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > give_up) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      status = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (status != -1 && WIFEXITED(status)) exit.code = WEXITSTATUS(status);
  std::ifstream in(log_path);
  std::stringstream text;
  text << in.rdbuf();
  exit.log = text.str();
  return exit;
}

// Account ids, one per partition of a `partitions`-partition topic.
std::vector<std::string> OnePerPartition(const std::string& prefix, int32_t partitions) {
  std::vector<std::string> ids(partitions);
  for (int i = 0, found = 0; found < partitions; ++i) {
    std::string id = prefix + "-" + std::to_string(i);
    int32_t p = kafka::PartitionFor(id, partitions);
    if (ids[p].empty()) {
      ids[p] = id;
      ++found;
    }
  }
  return ids;
}

// An account id of `partition`, other than `other`.
std::string InPartition(const std::string& prefix, int32_t partition, int32_t partitions) {
  for (int i = 0;; ++i) {
    std::string id = prefix + "-" + std::to_string(i);
    if (kafka::PartitionFor(id, partitions) == partition) return id;
  }
}

v1::VerifyAuditTrailResponse VerifyAll(TestService& service) {
  auto stub = v1::ComplianceService::NewStub(service.channel_as("compliance_officer-1"));
  v1::VerifyAuditTrailRequest request;  // every account of the topic
  v1::VerifyAuditTrailResponse verdict;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto s = stub->VerifyAuditTrail(&ctx, request, &verdict);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
  return verdict;
}

// A writer's ledger kept through the producer, as the writer keeps it (kafka::CommitGuard).
struct LedgerGuard final : kafka::CommitGuard {
  PartitionLedger ledger;
  int checks = 0;
  int ended = 0;
  std::optional<std::string> Check(const std::vector<int64_t>& offsets) override {
    ++checks;
    return ledger.Check(offsets);
  }
  void Ended(const std::vector<int64_t>& offsets, int64_t uncertain) override {
    ++ended;
    ledger.Ended(offsets, uncertain);
  }
};

kafka::Record Bytes(size_t size) {
  kafka::Record r;
  r.key = "k";
  r.value = std::string(size, 'x');
  return r;
}

// The partitions' ends once the last markers have landed, from a read_committed reader.
int64_t EndOf(const kafka::LogOptions& log, int32_t partition) {
  auto reader = kafka::LogReader::Create(log, UniqueName("own-end"));
  BOOST_REQUIRE(reader.ok());
  auto high = reader.value()->HighWatermark(partition, 10000);
  BOOST_REQUIRE(high.ok());
  return high.value();
}

// One Kafka transaction holding the appends of several partitions (the writers' shared
// producers): every partition's ledger counts its own records and exactly one marker per
// transaction that held them, through commits, a transaction aborted for a record the broker
// refused, the producer's own retry after it, and a veto; one partition's veto aborts the whole
// transaction and names only that partition, and the others commit when tried again.
BOOST_AUTO_TEST_CASE(one_transaction_over_several_partitions_keeps_every_ledger_exact) {
  kafka::LogOptions log;
  log.bootstrap = Bootstrap();
  log.topic = UniqueName("own-group");
  log.partitions = 3;
  log.topic_config = {{"max.message.bytes", "2000"}};
  BOOST_REQUIRE(kafka::EnsureTopic(log).ok());
  auto made = kafka::TransactionalProducer::CreateAlternating(log, UniqueName("own-writers"));
  BOOST_REQUIRE(made.ok());
  auto& producer = *made.value();
  Status init = producer.Init(30000);
  for (int i = 0; init && i < 10; ++i) init = producer.Init(30000);
  BOOST_REQUIRE_MESSAGE(!init, init->message);
  LedgerGuard guards[3];
  for (auto& g : guards) g.ledger.Reset(0);  // a new topic: every partition is empty
  const std::vector<kafka::Record> two = {Bytes(100), Bytes(100)};
  const std::vector<kafka::Record> too_large = {Bytes(3000)};
  auto all_three = [&] {
    return producer.AppendParts(
        {{0, &two, &guards[0]}, {1, &two, &guards[1]}, {2, &two, &guards[2]}});
  };
  auto expect_exact = [&](std::vector<int32_t> partitions) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the last markers land
    for (int32_t p : partitions) {
      BOOST_TEST(guards[p].ledger.base() + guards[p].ledger.accounted() == EndOf(log, p),
                 "partition " << p);
    }
  };

  for (int i = 0; i < 3; ++i) {
    auto r = all_three();
    BOOST_REQUIRE_MESSAGE(r.outcome == kafka::AppendResult::Outcome::kCommitted, r.message);
  }
  expect_exact({0, 1, 2});
  // Partition 1's record is refused by the broker: the whole transaction is aborted, and
  // partitions 0 and 1 each get its abort marker (0 also its aborted records).
  auto refused = producer.AppendParts({{0, &two, &guards[0]}, {1, &too_large, &guards[1]}});
  BOOST_TEST((refused.outcome == kafka::AppendResult::Outcome::kNotCommitted));
  BOOST_TEST(!refused.refused_records.empty());
  BOOST_TEST(!refused.vetoed);
  // The producer may abort and retry the next transactions of that id on its own (sequence
  // numbers); none of that is mistaken for another writer.
  for (int i = 0; i < 4; ++i) {
    auto r = all_three();
    BOOST_REQUIRE_MESSAGE(r.outcome == kafka::AppendResult::Outcome::kCommitted, r.message);
  }
  expect_exact({0, 1, 2});

  // Another producer writes partition 2: the next transaction over all three is vetoed for
  // partition 2 alone, and nothing of it is committed.
  auto foreign = kafka::TransactionalProducer::Create(log, UniqueName("own-intruder"));
  BOOST_REQUIRE(foreign.ok());
  init = foreign.value()->Init(30000);
  for (int i = 0; init && i < 10; ++i) init = foreign.value()->Init(30000);
  BOOST_REQUIRE_MESSAGE(!init, init->message);
  BOOST_REQUIRE(foreign.value()->Append(2, {Bytes(100)}).outcome ==
                kafka::AppendResult::Outcome::kCommitted);
  const int checks_before = guards[0].checks + guards[1].checks + guards[2].checks;
  auto vetoed = all_three();
  BOOST_TEST((vetoed.outcome == kafka::AppendResult::Outcome::kNotCommitted));
  BOOST_TEST(vetoed.vetoed);
  BOOST_TEST(vetoed.vetoed_parts.size() == 1u);
  BOOST_TEST(vetoed.vetoed_parts.count(2) == 1u);
  BOOST_TEST(vetoed.message.find("partition 2") != std::string::npos, vetoed.message);
  // Every partition of the transaction was checked before the commit.
  BOOST_TEST(guards[0].checks + guards[1].checks + guards[2].checks == checks_before + 3);
  // The others, tried again without partition 2, commit: the aborted transaction's records and
  // marker in their partitions are their own.
  auto retried = producer.AppendParts({{0, &two, &guards[0]}, {1, &two, &guards[1]}});
  BOOST_TEST((retried.outcome == kafka::AppendResult::Outcome::kCommitted), retried.message);
  expect_exact({0, 1});
}

BOOST_AUTO_TEST_CASE(a_second_server_on_the_same_port_does_not_start) {
  TempDir dir;
  TestService first(TestOptions("own-port", dir.path));
  const std::string address = first.app().address();
  TempDir second_dir;
  Exit second = RunServer({"--listen=" + address, "--metrics-listen=127.0.0.1:0",
                           "--bootstrap=" + Bootstrap(), "--topic=" + UniqueName("own-port-2"),
                           "--partitions=1", "--deployment-id=" + UniqueName("own-port-2"),
                           "--db=" + (second_dir.path / "projection").string(),
                           "--log-format=text"},
                          second_dir.path, std::chrono::seconds(60));
  BOOST_TEST(second.code == 1, "exit " << second.code << "\n" << second.log);
  BOOST_TEST(second.log.find("already in use") != std::string::npos, second.log);
  BOOST_TEST(second.log.find("--listen") != std::string::npos, second.log);
  // The first one still has the port to itself and serves.
  v1::CommandReply reply;
  BOOST_TEST(Call(first.commands(), OpenCase("PORT-1", "open"), &reply).ok());
  BOOST_TEST(HealthStatus(address, "") == 1);
}

BOOST_AUTO_TEST_CASE(another_deployment_is_refused_a_topic_it_did_not_write) {
  TempDir dir;
  ServerOptions a = TestOptions("own-foreign", dir.path);
  const int32_t partitions = a.log.partitions;
  const std::vector<std::string> accounts = OnePerPartition("FOR", partitions);
  {
    TestService first(a);
    v1::CommandReply reply;
    for (const auto& id : accounts) {
      BOOST_REQUIRE(Call(first.commands(), OpenCase(id, "open"), &reply).ok());
    }
    // The same topic, another deployment identity: the real binary refuses to start.
    TempDir other_dir;
    const std::string other = UniqueName("other-deployment");
    Exit second = RunServer({"--listen=127.0.0.1:0", "--metrics-listen=127.0.0.1:0",
                             "--bootstrap=" + Bootstrap(), "--topic=" + a.log.topic,
                             "--deployment-id=" + other,
                             "--db=" + (other_dir.path / "projection").string(),
                             "--log-format=text"},
                            other_dir.path, std::chrono::seconds(60));
    BOOST_TEST(second.code == 1, "exit " << second.code << "\n" << second.log);
    BOOST_TEST(second.log.find("was last written by deployment \"" + a.writer.deployment_id) !=
                   std::string::npos,
               second.log);
    BOOST_TEST(second.log.find("not by this deployment \"" + other) != std::string::npos,
               second.log);
    BOOST_TEST(second.log.find("--adopt-topic-from=" + a.writer.deployment_id) !=
                   std::string::npos,
               second.log);
    // The first deployment never noticed: it still serves every partition.
    for (const auto& id : accounts) {
      BOOST_TEST(Call(first.commands(), PostPayment(id, "pay-1", "P1", 100), &reply).ok());
    }
    const auto verdict = VerifyAll(first);
    BOOST_TEST(verdict.intact());
    BOOST_TEST(verdict.accounts_checked() == partitions);
  }
  // Once the first deployment is stopped for good, another may adopt its topic, and carries
  // its accounts on.
  ServerOptions b = a;
  TempDir b_dir;
  b.db_path = (b_dir.path / "projection").string();
  b.writer.deployment_id = UniqueName("adopter");
  b.writer.adopt_from = {a.writer.deployment_id};
  std::map<std::string, int64_t> versions;
  for (const auto& e : ReadTopic(a.log.topic)) {
    versions[e.envelope.account_id()] = e.envelope.sequence();
  }
  TestService adopter(b);
  v1::CommandReply reply;
  for (const auto& id : accounts) {
    BOOST_TEST(Call(adopter.commands(), PostPayment(id, "pay-2", "P2", 100), &reply).ok());
    BOOST_TEST(reply.version() > versions[id]);
  }
  BOOST_TEST(VerifyAll(adopter).intact());
  for (const auto& e : ReadTopic(a.log.topic)) {
    const std::string& command = e.envelope.command_id();
    if (command == "pay-2") BOOST_TEST(e.envelope.deployment_id() == b.writer.deployment_id);
    if (command == "open" || command == "pay-1") {
      BOOST_TEST(e.envelope.deployment_id() == a.writer.deployment_id);
    }
  }
}

BOOST_AUTO_TEST_CASE(two_deployments_started_on_one_empty_topic_stop_at_the_first_overlap) {
  TempDir a_dir, b_dir;
  ServerOptions a = TestOptions("own-race", a_dir.path);
  ServerOptions b = a;
  b.db_path = (b_dir.path / "projection").string();
  b.writer.deployment_id = UniqueName("misconfigured");
  const int32_t partitions = a.log.partitions;
  // Both find the topic empty, so both start.
  TestService first(a);
  TestService second(b);
  const std::string x = InPartition("RACE-X", 0, partitions);
  const std::string y = InPartition("RACE-Y", 0, partitions);
  v1::CommandReply reply;
  BOOST_REQUIRE(Call(first.commands(), OpenCase(x, "open"), &reply).ok());
  // The second deployment's commit check sees the first one's record and marker: nothing is
  // committed, and it stops writing partition 0.
  auto refused = Call(second.commands(), OpenCase(y, "open"), &reply);
  BOOST_TEST(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION,
             refused.error_message());
  BOOST_TEST(ErrorReason(refused) == "FOREIGN_WRITER");
  BOOST_TEST(refused.error_message().find("has exactly one writer") != std::string::npos,
             refused.error_message());
  // The first one now finds the second one's aborted records in its partition, and stops too.
  auto also_refused = Call(first.commands(), PostPayment(x, "pay", "P1", 100), &reply);
  BOOST_TEST(also_refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION,
             also_refused.error_message());
  BOOST_TEST(ErrorReason(also_refused) == "FOREIGN_WRITER");
  // Stopped for good, and said so: the command service is NOT_SERVING on both.
  for (TestService* s : {&first, &second}) {
    BOOST_TEST(static_cast<int>(s->app().router().states()[0]) ==
               static_cast<int>(WriterState::kForeignWriter));
    auto again = Call(s->commands(), OpenCase(InPartition("RACE-Z", 0, partitions), "open"),
                      &reply);
    BOOST_TEST(ErrorReason(again) == "FOREIGN_WRITER");
    absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (HealthStatus(s->app().address(), ServerApp::kCommandService) != 2 &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    BOOST_TEST(HealthStatus(s->app().address(), ServerApp::kCommandService) == 2);
  }
  // The log holds the one acknowledged command, and every chain is intact.
  auto events = ReadTopic(a.log.topic);
  BOOST_REQUIRE(events.size() == 1u);
  BOOST_TEST(events[0].envelope.account_id() == x);
  BOOST_TEST(events[0].envelope.deployment_id() == a.writer.deployment_id);
  BOOST_TEST(VerifyAll(first).intact());
}

// The writers of a process share their transactions: when one partition holds a record its
// writer did not write, only that writer stops (FOREIGN_WRITER); the commands of the other
// partitions, sent at the same moment and so in the same transactions, are committed.
BOOST_AUTO_TEST_CASE(a_foreign_record_stops_only_its_partition_while_the_others_commit) {
  TempDir a_dir, b_dir;
  ServerOptions a = TestOptions("own-shared", a_dir.path);
  const int32_t partitions = a.log.partitions;
  const std::vector<std::string> accounts = OnePerPartition("SHR", partitions);
  TestService first(a);
  v1::CommandReply reply;
  for (const auto& id : accounts) {
    BOOST_REQUIRE(Call(first.commands(), OpenCase(id, "open"), &reply).ok());
  }
  // Another deployment, started by mistake with --adopt-topic-from, writes partition 0.
  ServerOptions b = a;
  b.db_path = (b_dir.path / "projection").string();
  b.writer.deployment_id = UniqueName("intruder");
  b.writer.adopt_from = {a.writer.deployment_id};
  {
    TestService second(b);
    BOOST_REQUIRE(Call(second.commands(), PostPayment(accounts[0], "intruder", "PI", 1), &reply)
                      .ok());
  }
  // Every partition of the first process gets a command at the same moment, twice.
  std::set<std::string> acked;
  for (int round = 0; round < 2; ++round) {
    std::vector<grpc::Status> answers(partitions);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int32_t p = 0; p < partitions; ++p) {
      threads.emplace_back([&, p] {
        ++ready;
        while (ready.load() < partitions) std::this_thread::yield();
        v1::CommandReply r;
        answers[p] = Call(first.commands(),
                          PostPayment(accounts[p], absl::StrCat("pay-", round),
                                      absl::StrCat("P", round), 1),
                          &r);
      });
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(answers[0].error_code() == grpc::StatusCode::FAILED_PRECONDITION,
               answers[0].error_message());
    BOOST_TEST(ErrorReason(answers[0]) == "FOREIGN_WRITER");
    for (int32_t p = 1; p < partitions; ++p) {
      BOOST_TEST(answers[p].ok(), "partition " << p << ": " << answers[p].error_message());
      if (answers[p].ok()) acked.insert(absl::StrCat(accounts[p], "/pay-", round));
    }
  }
  const auto states = first.app().router().states();
  BOOST_TEST(static_cast<int>(states[0]) == static_cast<int>(WriterState::kForeignWriter));
  for (int32_t p = 1; p < partitions; ++p) {
    BOOST_TEST(static_cast<int>(states[p]) == static_cast<int>(WriterState::kServing));
  }
  // What was acknowledged is in the log once; nothing of partition 0's refused commands is.
  std::map<std::string, int> logged;
  for (const auto& e : ReadTopic(a.log.topic)) {
    if (e.envelope.command_id().rfind("pay-", 0) == 0 && e.envelope.command_event_index() == 0) {
      ++logged[e.envelope.account_id() + "/" + e.envelope.command_id()];
    }
  }
  for (const auto& id : acked) BOOST_TEST(logged[id] == 1, id);
  BOOST_TEST(logged.size() == acked.size());
}

BOOST_AUTO_TEST_CASE(a_second_process_of_the_same_deployment_fences_the_first) {
  TempDir a_dir, b_dir;
  ServerOptions a = TestOptions("own-fence", a_dir.path);
  ServerOptions b = a;
  b.db_path = (b_dir.path / "projection").string();
  const int32_t partitions = a.log.partitions;
  const std::vector<std::string> accounts = OnePerPartition("FEN", partitions);
  TestService first(a);
  v1::CommandReply reply;
  for (const auto& id : accounts) {
    BOOST_REQUIRE(Call(first.commands(), OpenCase(id, "open"), &reply).ok());
  }
  // A client keeps paying into every account on the first process while the second starts.
  struct Sent {
    std::string command_id;
    bool ok;
    std::string reason;
    std::chrono::steady_clock::time_point began;
  };
  std::vector<Sent> sent;
  std::atomic<bool> stop{false};
  std::thread client([&] {
    for (int n = 0; !stop; ++n) {
      const std::string& id = accounts[n % accounts.size()];
      const std::string command = "pay-" + std::to_string(n);
      Sent s{command, false, "", std::chrono::steady_clock::now()};
      v1::CommandReply r;
      auto status = Call(first.commands(), PostPayment(id, command, "P" + std::to_string(n), 1),
                         &r);
      s.ok = status.ok();
      s.reason = ErrorReason(status);
      sent.push_back(s);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto second = std::make_unique<TestService>(b);
  const auto second_started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  stop = true;
  client.join();

  int acknowledged = 0, after = 0, fenced = 0;
  std::set<std::string> acked;
  std::map<std::string, std::string> refused;  // command id -> reason
  for (const auto& s : sent) {
    if (!s.ok) refused[s.command_id] = s.reason;
    if (s.ok) {
      ++acknowledged;
      acked.insert(s.command_id);
    }
    if (s.began >= second_started) {
      ++after;
      BOOST_TEST(!s.ok, s.command_id << " was acknowledged by a fenced process");
      if (s.reason == "WRITER_FENCED") ++fenced;
    }
  }
  BOOST_TEST_MESSAGE(sent.size() << " payments sent, " << acknowledged << " acknowledged, "
                                 << after << " after the second process started");
  BOOST_TEST(acknowledged > 0);
  BOOST_TEST(after > 0);
  BOOST_TEST(fenced > 0);
  // Every partition's writer of the first process stopped (each was fenced by its next
  // transaction), and its command service says so.
  for (const auto& id : accounts) {
    Call(first.commands(), PostPayment(id, "late-" + id, "PL", 1), &reply);
  }
  for (WriterState state : first.app().router().states()) {
    BOOST_TEST(static_cast<int>(state) == static_cast<int>(WriterState::kFenced));
  }
  // Every acknowledged command is in the log exactly once, and nothing else of the client's.
  std::map<std::string, int> logged;
  for (const auto& e : ReadTopic(a.log.topic)) {
    if (e.envelope.command_id().rfind("pay-", 0) == 0) ++logged[e.envelope.command_id()];
  }
  for (const auto& id : acked) BOOST_TEST(logged[id] == 1, id);
  for (const auto& [id, n] : logged) {
    BOOST_TEST(n == 1, id);
    // In the log without an acknowledgement: only a command told its outcome was unknown.
    if (acked.count(id) == 0) {
      BOOST_TEST((refused[id] == "APPEND_OUTCOME_UNKNOWN" || refused[id] == "DEADLINE_EXCEEDED"),
                 id << " is in the log but was refused with " << refused[id]);
    }
  }
  // The second process carries on from the whole log.
  for (const auto& id : accounts) {
    BOOST_TEST(Call(second->commands(), PostPayment(id, "after-" + id, "PA", 1), &reply).ok());
  }
  BOOST_TEST(VerifyAll(*second).intact());
}

// Several processes of one deployment (group ownership, each its own --instance-id, one writer
// store): the group splits the partitions between them, each writes only its own (a command for
// another's partition that cannot be forwarded is answered UNAVAILABLE naming the owner, and
// nothing is appended), and when one stops the other takes its partitions over and carries on
// from their whole history.
BOOST_AUTO_TEST_CASE(processes_of_one_deployment_share_the_partitions_and_take_over_on_stop) {
  TempDir a_dir, b_dir, store_dir;
  ServerOptions a = TestOptions("own-group", a_dir.path);
  a.log.partitions = 4;
  a.writer.group_ownership = true;
  a.writer.ownership_session_timeout_ms = 6000;
  a.writer.store_path = (store_dir.path / "writer").string();
  a.writer.instance_id = "a";
  ServerOptions b = a;
  b.db_path = (b_dir.path / "projection").string();
  b.writer.instance_id = "b";
  const std::vector<std::string> accounts = OnePerPartition("GRP", a.log.partitions);

  auto first = std::make_unique<TestService>(a);
  auto second = std::make_unique<TestService>(b);
  // Both serving, the partitions split between them, none owned twice.
  auto split = [&] {
    auto x = first->app().router().owned();
    auto y = second->app().router().owned();
    std::set<int32_t> all(x.begin(), x.end());
    for (int32_t p : y) {
      if (!all.insert(p).second) return false;
    }
    return !x.empty() && !y.empty() && all.size() == accounts.size() &&
           first->app().router().serving() && second->app().router().serving();
  };
  const auto began = std::chrono::steady_clock::now();
  while (!split() && std::chrono::steady_clock::now() - began < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_REQUIRE(split());
  const auto first_owns = first->app().router().owned();
  auto owned_by_first = [&](size_t p) {
    return std::find(first_owns.begin(), first_owns.end(), static_cast<int32_t>(p)) !=
           first_owns.end();
  };
  v1::CommandReply reply;
  for (size_t p = 0; p < accounts.size(); ++p) {
    TestService& owner = owned_by_first(p) ? *first : *second;
    TestService& other = owned_by_first(p) ? *second : *first;
    BOOST_REQUIRE(Call(owner.commands(), OpenCase(accounts[p], "open"), &reply).ok());
    // The other process knows no address to forward to (it listens on a port picked at start):
    // it names the owner and appends nothing.
    auto refused = Call(other.commands(), PostPayment(accounts[p], "pay-elsewhere", "PE", 1),
                        &reply);
    BOOST_TEST(static_cast<int>(refused.error_code()) == static_cast<int>(grpc::UNAVAILABLE));
    BOOST_TEST(ErrorReason(refused) == "PARTITION_ELSEWHERE", refused.error_message());
  }
  // The second process stops: the first takes its partitions over (a clean leave: at once).
  const auto stopped = std::chrono::steady_clock::now();
  second.reset();
  while ((first->app().router().owned().size() != accounts.size() ||
          !first->app().router().serving()) &&
         std::chrono::steady_clock::now() - stopped < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  BOOST_REQUIRE(first->app().router().owned().size() == accounts.size());
  BOOST_TEST_MESSAGE("partitions handed over and serving "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - stopped)
                            .count()
                     << " ms after the other process began to stop");
  for (const auto& id : accounts) {
    BOOST_REQUIRE(Call(first->commands(), PostPayment(id, "pay-" + id, "P1", 1), &reply).ok());
    // Decided on the account's whole history, whichever process wrote it before.
    BOOST_TEST(reply.version() == 2, id);
  }
  // Nothing was appended by a refusal, and every chain is intact.
  int elsewhere = 0;
  for (const auto& e : ReadTopic(a.log.topic)) elsewhere += e.envelope.command_id() == "pay-elsewhere";
  BOOST_TEST(elsewhere == 0);
  BOOST_TEST(VerifyAll(*first).intact());
}

}  // namespace
}  // namespace collections::testing
