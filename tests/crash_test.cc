// A crashed process loses nothing it acknowledged: the real collections-server binary is
// killed with SIGKILL while commands are in flight, restarted, and every acknowledged command
// is found in the log, in the projection and in the writer's idempotency memory.
#define BOOST_TEST_MODULE crash
#include "tests/support/harness.h"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <thread>

extern char** environ;

namespace collections::testing {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

class ServerProcess {
 public:
  ServerProcess(const ServerOptions& options, int port) {
    std::vector<std::string> args = {
        COLLECTIONS_SERVER_BINARY,
        "--listen=127.0.0.1:" + std::to_string(port),
        "--bootstrap=" + options.log.bootstrap,
        "--topic=" + options.log.topic,
        "--partitions=3",
        "--deployment-id=" + options.writer.deployment_id,
        "--db=" + options.db_path};
    for (auto& flag : ServerBinarySecurityFlags(
             std::filesystem::path(options.db_path).parent_path().string())) {
      args.push_back(flag);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    BOOST_REQUIRE(posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
    address_ = "127.0.0.1:" + std::to_string(port);
    auto channel = ChannelAs(address_, kTestPrincipal);
    commands_ = v1::CaseCommandService::NewStub(channel);
    queries_ = v1::CaseQueryService::NewStub(channel);
    // Ready when a query answers (NOT_FOUND for an account that does not exist).
    for (int i = 0; i < 600; ++i) {
      v1::Account a;
      if (GetAccount(*queries_, "probe", nullptr, &a).error_code() == grpc::StatusCode::NOT_FOUND)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    BOOST_FAIL("server did not become ready in 60 s");
  }
  ~ServerProcess() { Kill(SIGTERM); }

  void Kill(int signal) {
    if (pid_ <= 0) return;
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  v1::CaseCommandService::Stub& commands() { return *commands_; }
  v1::CaseQueryService::Stub& queries() { return *queries_; }

 private:
  pid_t pid_ = -1;
  std::string address_;
  std::unique_ptr<v1::CaseCommandService::Stub> commands_;
  std::unique_ptr<v1::CaseQueryService::Stub> queries_;
};

BOOST_AUTO_TEST_CASE(sigkill_loses_nothing_that_was_acknowledged) {
  TempDir dir;
  ServerOptions options = TestOptions("crash", dir.path);
  const int port = FreePort();

  struct Acked {
    v1::PostPaymentRequest request;
    v1::CommandReply reply;
  };
  std::mutex mutex;
  std::vector<Acked> acked;
  {
    ServerProcess server(options, port);
    v1::CommandReply r;
    for (int a = 0; a < 8; ++a) {
      BOOST_REQUIRE(
          Call(server.commands(), OpenCase("ACC-K" + std::to_string(a), "open"), &r).ok());
    }
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int a = 0; a < 8; ++a) {
      clients.emplace_back([&, a] {
        std::string id = "ACC-K" + std::to_string(a);
        for (int n = 0; !stop; ++n) {
          auto req = PostPayment(id, "pay-" + std::to_string(n), "P" + std::to_string(n), 1);
          v1::CommandReply reply;
          if (!Call(server.commands(), req, &reply).ok()) return;  // the server died
          std::lock_guard lock(mutex);
          acked.push_back({req, reply});
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    server.Kill(SIGKILL);  // mid-flight: some commands are queued or in a transaction
    stop = true;
    for (auto& c : clients) c.join();
  }
  BOOST_TEST_MESSAGE("acknowledged before the crash: " << acked.size());
  BOOST_REQUIRE(acked.size() > 20u);

  ServerProcess restarted(options, port);
  std::map<std::string, int64_t> highest;
  for (const auto& a : acked) {
    // Retrying an acknowledged command returns its original reply: it is in the log.
    v1::CommandReply again;
    auto s = Call(restarted.commands(), a.request, &again);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
    BOOST_TEST(again.deduplicated());
    BOOST_TEST(again.position().offset() == a.reply.position().offset());
    BOOST_TEST(again.version() == a.reply.version());
    highest[a.request.account_id()] = std::max(highest[a.request.account_id()], a.reply.version());
  }
  for (const auto& [account_id, version] : highest) {
    v1::Account account;
    BOOST_REQUIRE(GetAccount(restarted.queries(), account_id, nullptr, &account).ok());
    BOOST_TEST(account.version() >= version);
  }
  // And the log itself: every acknowledged event id is there.
  std::set<std::string> logged;
  for (const auto& e : ReadTopic(options.log.topic)) logged.insert(e.envelope.event_id());
  for (const auto& a : acked) BOOST_TEST(logged.count(a.reply.event_ids(0)) == 1u);
}

}  // namespace
}  // namespace collections::testing
