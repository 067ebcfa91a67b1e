// One writer per partition, whatever the second process's flags (README "One writer per
// partition"), on the real broker with real servers: a second server on the same port does not
// start; a second deployment on the same topic cannot append (refused at start-up, or stopped by
// the commit check before its first commit) and no account's chain breaks; a second process of
// the same deployment fences the first, which acknowledges nothing after it and every
// acknowledged command is in the log exactly once.
#define BOOST_TEST_MODULE ownership
#include "services/kafka/kafka.h"
#include "tests/support/harness.h"

#include "collections/v1/compliance_service.grpc.pb.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <map>
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

}  // namespace
}  // namespace collections::testing
