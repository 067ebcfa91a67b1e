// Faults of the broker itself, on brokers of the test's own (deploy/kafka/kafka.sh on a free
// port in 29600-29699 with a data directory under the test's temporary directory), since the
// test stops them:
// - a 150 s outage under load: the writers recover with no operator action, nothing
//   acknowledged is lost or recorded twice, callers get UNAVAILABLE quickly meanwhile, and
//   health goes NOT_SERVING and back;
// - SIGTERM to the real server binary with its broker stopped: it exits within its grace period.
#define BOOST_TEST_MODULE fault
#include "services/kafka/kafka.h"
#include "tests/support/harness.h"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <mutex>
#include <random>
#include <set>
#include <thread>

extern char** environ;

namespace collections::testing {
namespace {

using Clock = std::chrono::steady_clock;

bool PortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return free;
}

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

// A single-node broker of this test's own, started and stopped with deploy/kafka/kafka.sh. Its
// data survives a stop, so Start() after Stop() is the same broker coming back.
class DedicatedBroker {
 public:
  explicit DedicatedBroker(std::filesystem::path state_dir) : state_dir_(std::move(state_dir)) {
    std::mt19937 rng(std::random_device{}());
    for (int attempt = 0; attempt < 200 && port_ == 0; ++attempt) {
      int port = 29600 + 2 * static_cast<int>(rng() % 50);  // the next one is its controller
      if (PortFree(port) && PortFree(port + 1)) port_ = port;
    }
    BOOST_REQUIRE_MESSAGE(port_ != 0, "no free port pair in 29600-29699");
  }
  ~DedicatedBroker() { Run("stop"); }

  void Start() { BOOST_REQUIRE_MESSAGE(Run("start") == 0, "kafka.sh start failed"); }
  void Stop() { BOOST_REQUIRE_MESSAGE(Run("stop") == 0, "kafka.sh stop failed"); }
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int Run(const std::string& command) {
    std::string line = "KAFKA_PORT=" + std::to_string(port_) + " KAFKA_STATE_DIR='" +
                       state_dir_.string() + "' bash '" COLLECTIONS_KAFKA_SCRIPT "' " + command;
    BOOST_TEST_MESSAGE("$ " << line);
    return std::system(line.c_str());
  }
  std::filesystem::path state_dir_;
  int port_ = 0;
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// One call to the service and how it went.
struct Attempt {
  Clock::time_point start;
  double seconds;
  grpc::StatusCode code;
};

// Health as seen from outside, sampled every 200 ms.
class HealthWatch {
 public:
  HealthWatch(std::string address, std::vector<std::string> services)
      : address_(std::move(address)), services_(std::move(services)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        for (const auto& s : services_) {
          int status = HealthStatus(address_, s);
          std::lock_guard lock(mutex_);
          samples_.push_back({Clock::now(), s, status});
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  ~HealthWatch() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Whether `service` was seen with `status` between `from` and `to`.
  bool Seen(const std::string& service, int status, Clock::time_point from,
            Clock::time_point to) {
    std::lock_guard lock(mutex_);
    for (const auto& s : samples_) {
      if (s.service == service && s.status == status && s.at >= from && s.at <= to) return true;
    }
    return false;
  }

 private:
  struct Sample {
    Clock::time_point at;
    std::string service;
    int status;
  };
  std::string address_;
  std::vector<std::string> services_;
  std::mutex mutex_;
  std::vector<Sample> samples_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

constexpr int kServing = 1, kNotServing = 2;

BOOST_AUTO_TEST_CASE(writers_ride_out_a_150_s_broker_outage) {
  TempDir dir;
  DedicatedBroker broker(dir.path / "kafka");
  broker.Start();
  ServerOptions options = TestOptions("outage", dir.path);
  options.log.bootstrap = broker.bootstrap();
  TestService service(options);
  const std::string address = service.app().address();
  HealthWatch health(address, {"", ServerApp::kCommandService});

  // Clients retry every command with the same command_id until it is acknowledged, as the
  // API asks; each attempt is timed.
  constexpr int kClients = 6;
  std::atomic<bool> stop{false};
  std::mutex mutex;
  struct Acked {
    v1::PostPaymentRequest request;
    v1::CommandReply reply;
  };
  std::vector<Acked> acked;
  std::vector<Attempt> attempts;
  std::vector<Clock::time_point> last_ack(kClients, Clock::time_point());
  std::atomic<int> gave_up{0};
  {
    v1::CommandReply r;
    for (int c = 0; c < kClients; ++c) {
      for (int k = 0; k < 2; ++k) {
        auto s = Call(service.commands(),
                      OpenCase("ACC-O" + std::to_string(c) + "-" + std::to_string(k), "open"), &r);
        BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
      }
    }
  }
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int n = 0; !stop; ++n) {
        std::string account = "ACC-O" + std::to_string(c) + "-" + std::to_string(n % 2);
        auto request =
            PostPayment(account, "pay-" + std::to_string(n), "P" + std::to_string(n), 1);
        // Once told to stop, a client still finishes the command it started (bounded).
        const auto stop_by = Clock::now() + std::chrono::seconds(400);
        for (;;) {
          v1::CommandReply reply;
          const auto start = Clock::now();
          auto s = Call(service.commands(), request, &reply);
          {
            std::lock_guard lock(mutex);
            attempts.push_back({start, Seconds(Clock::now() - start), s.error_code()});
            if (s.ok()) {
              acked.push_back({request, reply});
              last_ack[c] = Clock::now();
            }
          }
          if (s.ok()) break;
          if (Clock::now() > stop_by) {
            ++gave_up;
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    });
  }

  std::this_thread::sleep_for(std::chrono::seconds(5));
  const auto outage_began = Clock::now();
  broker.Stop();
  const auto broker_stopped = Clock::now();
  BOOST_TEST_MESSAGE("broker stopped in " << Seconds(broker_stopped - outage_began) << " s");
  std::this_thread::sleep_until(outage_began + std::chrono::seconds(150));
  const auto restart_began = Clock::now();
  broker.Start();
  const auto broker_back = Clock::now();

  // Recovery with no operator action: every client gets acknowledgements again.
  const auto recovery_deadline = broker_back + std::chrono::seconds(120);
  for (;;) {
    bool all = true;
    {
      std::lock_guard lock(mutex);
      for (const auto& t : last_ack) all = all && t > broker_back;
    }
    if (all || Clock::now() > recovery_deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const auto recovered = Clock::now();
  BOOST_TEST_MESSAGE("every client acknowledged again " << Seconds(recovered - broker_back)
                                                        << " s after the broker answered");
  std::this_thread::sleep_for(std::chrono::seconds(5));
  stop = true;
  for (auto& t : clients) t.join();
  BOOST_TEST(gave_up.load() == 0);
  BOOST_REQUIRE(recovered < recovery_deadline);

  // Health: NOT_SERVING during the outage, SERVING again after it.
  auto serving_again_by = Clock::now() + std::chrono::seconds(30);
  while (HealthStatus(address, "") != kServing && Clock::now() < serving_again_by)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  health.Stop();
  BOOST_TEST(health.Seen(ServerApp::kCommandService, kNotServing, broker_stopped, restart_began));
  BOOST_TEST(health.Seen("", kNotServing, broker_stopped, restart_began));
  BOOST_TEST(HealthStatus(address, ServerApp::kCommandService) == kServing);
  BOOST_TEST(HealthStatus(address, "") == kServing);

  // Fail fast: once the writers noticed (a few seconds), every call during the outage is
  // answered UNAVAILABLE in under 2 s; no call ever ran into its deadline.
  int during = 0, slow = 0, not_unavailable = 0, deadline_exceeded = 0;
  double slowest_early = 0;
  for (const auto& a : attempts) {
    if (a.code == grpc::StatusCode::DEADLINE_EXCEEDED) ++deadline_exceeded;
    if (a.start >= outage_began && a.start < broker_stopped + std::chrono::seconds(10))
      slowest_early = std::max(slowest_early, a.seconds);
    if (a.start < broker_stopped + std::chrono::seconds(10) || a.start >= restart_began) continue;
    ++during;
    if (a.seconds >= 2.0) ++slow;
    if (a.code != grpc::StatusCode::UNAVAILABLE) ++not_unavailable;
  }
  BOOST_TEST_MESSAGE("attempts during the outage: " << during << ", slowest answer while the "
                                                    << "broker went away: " << slowest_early
                                                    << " s");
  BOOST_TEST(during > 100);
  BOOST_TEST(slow == 0);
  BOOST_TEST(not_unavailable == 0);
  BOOST_TEST(deadline_exceeded == 0);
  // While the broker is going away (it may still take connections but not finish requests),
  // a transaction can use its whole commit and abort budgets (8 s + 2 s): well inside the
  // callers' deadline.
  BOOST_TEST(slowest_early < 12.0);

  // Nothing acknowledged is lost and nothing is recorded twice: the log holds exactly the
  // acknowledged commands, each once, with gapless sequences.
  BOOST_TEST_MESSAGE("acknowledged: " << acked.size());
  auto events = ReadTopic(options.log.topic, broker.bootstrap());
  std::map<std::string, int64_t> last_sequence;
  std::set<std::pair<std::string, std::string>> logged_commands;
  std::map<std::string, int> event_ids;
  for (const auto& e : events) {
    const auto& env = e.envelope;
    BOOST_TEST(env.sequence() == last_sequence[env.account_id()] + 1);
    last_sequence[env.account_id()] = env.sequence();
    ++event_ids[env.event_id()];
    if (env.command_id().rfind("pay-", 0) == 0 && env.has_payment_posted()) {
      BOOST_TEST(logged_commands.insert({env.account_id(), env.command_id()}).second,
                 "command " << env.command_id() << " of " << env.account_id()
                            << " recorded twice");
    }
  }
  std::set<std::pair<std::string, std::string>> acked_commands;
  for (const auto& a : acked) {
    acked_commands.insert({a.request.account_id(), a.request.command_id()});
    for (const auto& id : a.reply.event_ids()) BOOST_TEST(event_ids[id] == 1);
  }
  BOOST_TEST(acked_commands.size() == acked.size());
  BOOST_TEST((logged_commands == acked_commands));

  // A retry of an acknowledged command returns its original reply; the projection has caught
  // up with the last acknowledged position of every account.
  std::map<std::string, v1::CommandReply> latest;
  for (size_t i = 0; i < acked.size(); ++i) {
    const auto& a = acked[i];
    auto& l = latest[a.request.account_id()];
    if (a.reply.version() > l.version()) l = a.reply;
    if (i % 7 != 0) continue;
    v1::CommandReply again;
    auto s = Call(service.commands(), a.request, &again);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
    BOOST_TEST(again.deduplicated());
    BOOST_TEST(again.position().offset() == a.reply.position().offset());
  }
  for (const auto& [account_id, reply] : latest) {
    v1::Account account;
    auto s = GetAccount(service.queries(), account_id, &reply.position(), &account);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
    BOOST_TEST(account.version() == reply.version());
  }
  service.Stop();
}

BOOST_AUTO_TEST_CASE(sigterm_with_the_broker_stopped_exits_within_the_grace_period) {
  TempDir dir;
  DedicatedBroker broker(dir.path / "kafka");
  broker.Start();
  ServerOptions options = TestOptions("sigterm", dir.path);
  const int port = FreePort();
  constexpr int kGraceMs = 5000;
  std::vector<std::string> args = {
      COLLECTIONS_SERVER_BINARY,
      "--listen=127.0.0.1:" + std::to_string(port),
      "--bootstrap=" + broker.bootstrap(),
      "--topic=" + options.log.topic,
      "--partitions=3",
      "--deployment-id=" + options.writer.deployment_id,
      "--db=" + options.db_path,
      "--shutdown-grace-ms=" + std::to_string(kGraceMs)};
  for (auto& flag : ServerBinarySecurityFlags(dir.path.string())) args.push_back(flag);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  BOOST_REQUIRE(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
  const std::string address = "127.0.0.1:" + std::to_string(port);
  auto channel = ChannelAs(address, kTestPrincipal);
  auto commands = v1::CaseCommandService::NewStub(channel);
  bool ready = false;
  for (int i = 0; i < 600 && !ready; ++i) {
    ready = HealthStatus(address, "") == kServing;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_REQUIRE_MESSAGE(ready, "server did not report SERVING in 60 s");
  v1::CommandReply r;
  BOOST_REQUIRE(Call(*commands, OpenCase("ACC-T", "open"), &r).ok());

  // Callers keep sending while the broker goes away, so the writers are failing, recovering
  // and answering when the signal comes.
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int n = 0; !stop; ++n) {
        v1::CommandReply reply;
        Call(*commands, PostPayment("ACC-T", "p" + std::to_string(c) + "-" + std::to_string(n),
                                    "P" + std::to_string(c) + "-" + std::to_string(n), 1),
             &reply);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  broker.Stop();
  std::this_thread::sleep_for(std::chrono::seconds(3));

  const auto signalled = Clock::now();
  BOOST_REQUIRE(kill(pid, SIGTERM) == 0);
  int status = 0;
  bool exited = false;
  while (Clock::now() - signalled < std::chrono::seconds(30)) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double took = Seconds(Clock::now() - signalled);
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  stop = true;
  for (auto& t : clients) t.join();
  BOOST_TEST_MESSAGE("exited " << took << " s after SIGTERM");
  BOOST_REQUIRE(exited);
  BOOST_TEST(took < kGraceMs / 1000.0 + 1.0);
  // A clean exit (0), not the last-resort exit after the grace period (3).
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace collections::testing
