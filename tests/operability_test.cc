// What a platform team relies on, checked on the real service and broker: the Prometheus
// endpoint counts a known sequence of commands exactly (read back with prometheus_client's
// parser), the Grafana dashboard queries only metrics that exist, and the real binary's logs
// are JSON, one object per line, with the structured fields and librdkafka's own lines.
#define BOOST_TEST_MODULE operability
#include "tests/support/fixture.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace collections::testing {
namespace {

absl::Time At(const std::string& zone, int y, int m, int d, int hh) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, 0), Zone(zone));
}

std::string Scrape(int port) {
  httplib::Client client("127.0.0.1", port);
  auto response = client.Get("/metrics");
  BOOST_REQUIRE_MESSAGE(response, "GET /metrics on port " << port << " failed");
  BOOST_REQUIRE(response->status == 200);
  BOOST_TEST(response->get_header_value("Content-Type").find("version=0.0.4") !=
             std::string::npos);
  return response->body;
}

// The exposition as prometheus_client's parser reads it: sample line -> value. Fails the test
// when the parser refuses it, or (with a dashboard) when the dashboard needs a missing metric.
std::map<std::string, double> Parse(const std::string& exposition, const std::string& dir,
                                    bool check_dashboard) {
  const std::string in = dir + "/metrics.txt", out = dir + "/parsed.txt";
  std::ofstream(in) << exposition;
  std::string command = std::string(COLLECTIONS_PYTHON) + " " + COLLECTIONS_PARSE_METRICS + " " +
                        in + (check_dashboard ? std::string(" --dashboard ") +
                                                    COLLECTIONS_DASHBOARD
                                              : "") +
                        " > " + out;
  const int rc = std::system(command.c_str());
  BOOST_REQUIRE_MESSAGE(rc == 0, "prometheus_client could not parse the exposition, or the "
                                 "dashboard needs a metric that is missing (rc "
                                     << rc << "): " << command);
  std::map<std::string, double> samples;
  std::ifstream parsed(out);
  for (std::string line; std::getline(parsed, line);) {
    const size_t space = line.rfind(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

double Sample(const std::map<std::string, double>& samples, const std::string& key) {
  auto it = samples.find(key);
  return it == samples.end() ? -1 : it->second;
}

std::string Commands(const std::string& rpc, const std::string& outcome,
                     const std::string& rule = "") {
  return "collections_commands_total{outcome=\"" + outcome + "\",rpc=\"" + rpc + "\",rule=\"" +
         rule + "\"}";
}

ServerOptions MetricsOptions(const std::filesystem::path& dir) {
  ServerOptions o = TestOptions("operability", dir);
  o.metrics_listen = "127.0.0.1:0";
  o.log.extra["statistics.interval.ms"] = "500";
  return o;
}

// A service on a test clock with its metrics endpoint on a free port.
struct Clocked {
  Clocked()
      : clock(At("America/Chicago", 2025, 10, 6, 10)), service(MetricsOptions(dir.path), &clock) {}

  TempDir dir;
  ManualClock clock;
  TestService service;
  v1::CommandReply last;
  int counter = 0;

  template <typename Request>
  grpc::Status Send(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                 v1::CommandReply*),
                    Request r, const std::string& account, const std::string& role = "collector") {
    r.set_account_id(account);
    if (r.command_id().empty()) r.set_command_id("cmd-" + std::to_string(++counter));
    // The caller is who its certificate says: the default ("collector") calls as the test
    // principal, another role as its test principal "<role>-1".
    auto& stub = StubAs(role == "collector" ? std::string(kTestPrincipal) : role + "-1");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return (stub.*method)(&ctx, r, &last);
  }
  Stub& StubAs(const std::string& principal) {
    auto& stub = stubs[principal];
    if (stub == nullptr) stub = service.commands_as(principal);
    return *stub;
  }
  std::map<std::string, std::unique_ptr<Stub>> stubs;
  template <typename Request>
  void Must(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, v1::CommandReply*),
            Request r, const std::string& account, const std::string& role = "collector") {
    auto s = Send(method, std::move(r), account, role);
    BOOST_REQUIRE_MESSAGE(s.ok(), Request::descriptor()->name() << ": " << s.error_message());
  }
  void Open(const std::string& id) {
    v1::OpenCaseRequest r = OpenCase(id, "open-" + id);
    r.clear_command_id();
    r.set_time_zone("America/Chicago");
    r.set_third_party_collector(true);
    r.set_jurisdiction("IL");
    *r.mutable_due_date() = Date(2025, 1, 1);
    r.mutable_contact_points()->mutable_phones(0)->set_number("+12125550100");
    Must(&Stub::OpenCase, r, id);
  }
  grpc::Status Call(const std::string& account) {
    v1::RecordContactAttemptRequest r;
    r.set_contact_id("C" + std::to_string(++contacts));
    r.set_channel(v1::CONTACT_CHANNEL_CALL);
    r.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
    r.set_address("+12125550100");
    r.set_phone_type(v1::PHONE_TYPE_CELL);
    r.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
    r.mutable_content()->set_has_debt_collector_disclosure(true);
    r.mutable_content()->set_has_opt_out_notice(true);
    return Send(&Stub::RecordContactAttempt, r, account);
  }
  int contacts = 0;
};

BOOST_AUTO_TEST_CASE(metrics_count_a_known_sequence_of_commands) {
  Clocked t;
  const int port = t.service.app().metrics_port();
  BOOST_REQUIRE(port > 0);

  t.Open("D1");
  for (int day = 6; day <= 12; ++day) {  // seven calls in seven days: F1's limit
    t.clock.Set(At("America/Chicago", 2025, 10, day, 10));
    BOOST_REQUIRE(t.Call("D1").ok());
  }
  t.clock.Set(At("America/Chicago", 2025, 10, 12, 16));
  for (int i = 0; i < 3; ++i) {  // three more: three F1 blocks
    auto blocked = t.Call("D1");
    BOOST_REQUIRE(blocked.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    BOOST_REQUIRE(ErrorReason(blocked) == "F1");
  }
  v1::AuthorizeOverrideRequest override;
  override.set_override_id("OV1");
  override.set_rule_id("F1");
  override.set_command("RecordContactAttempt");
  override.set_reason("consumer asked to be called back today (documented)");
  auto refused = t.Send(&Stub::AuthorizeOverride, override, "D1", "collector");
  BOOST_REQUIRE(!refused.ok());
  const std::string refusal = ErrorReason(refused);
  t.Must(&Stub::AuthorizeOverride, override, "D1", "compliance_officer");  // one override
  v1::RecordContactAttemptRequest empty;  // no contact id, channel ...: refused as invalid
  auto invalid = t.Send(&Stub::RecordContactAttempt, empty, "D1");
  BOOST_REQUIRE(invalid.error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  // librdkafka's statistics come every 500 ms here: wait for the producers' and consumers'.
  std::string exposition;
  for (int i = 0; i < 100; ++i) {
    exposition = Scrape(port);
    if (exposition.find("collections_kafka_broker_rtt_seconds{client=\"" +
                        t.service.options().writer.deployment_id + "-writer") !=
            std::string::npos &&
        exposition.find("collections_kafka_consumer_lag_messages{") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto samples = Parse(exposition, t.dir.path.string(), /*check_dashboard=*/true);
  BOOST_TEST(Sample(samples, Commands("OpenCase", "ok")) == 1);
  BOOST_TEST(Sample(samples, Commands("RecordContactAttempt", "ok")) == 7);
  BOOST_TEST(Sample(samples, Commands("RecordContactAttempt", "blocked", "F1")) == 3);
  BOOST_TEST(Sample(samples, Commands("AuthorizeOverride", "ok")) == 1);
  BOOST_TEST(Sample(samples, Commands("AuthorizeOverride", refusal)) == 1);
  BOOST_TEST(Sample(samples, Commands("RecordContactAttempt", ErrorReason(invalid))) == 1);
  const std::string contact =
      "rpc=\"RecordContactAttempt\",service=\"collections.v1.CaseCommandService\"";
  BOOST_TEST(Sample(samples, "collections_rpc_requests_total{code=\"FAILED_PRECONDITION\"," +
                                 contact + "}") == 3);
  BOOST_TEST(Sample(samples, "collections_rpc_requests_total{code=\"INVALID_ARGUMENT\"," +
                                 contact + "}") == 1);
  // Every call is in the latency histogram, all of them under +Inf.
  BOOST_TEST(Sample(samples, "collections_rpc_duration_seconds_count{" + contact + "}") == 11);
  BOOST_TEST(Sample(samples, "collections_rpc_duration_seconds_bucket{le=\"+Inf\"," + contact +
                                 "}") == 11);
  BOOST_TEST(Sample(samples, "process_resident_memory_bytes{}") > 1e6);
  BOOST_TEST(Sample(samples, "process_threads{}") > 1);
  // The writers: every partition serving, nothing queued, the commands that produced events
  // (the case, seven calls, three blocks, one override) in committed group commits.
  double committed_commands = 0, committed_appends = 0;
  for (int p = 0; p < 3; ++p) {
    const std::string partition = "partition=\"" + std::to_string(p) + "\"";
    BOOST_TEST(Sample(samples, "collections_writer_state{" + partition + ",state=\"serving\"}") ==
               1);
    BOOST_TEST(Sample(samples, "collections_writer_state{" + partition + ",state=\"restoring\"}") ==
               0);
    BOOST_TEST(Sample(samples, "collections_writer_queue_depth{" + partition + "}") == 0);
    committed_commands += std::max(0.0, Sample(samples, "collections_writer_batch_commands_sum{" +
                                                            partition + "}"));
    committed_appends += std::max(0.0, Sample(samples, "collections_writer_transactions_total{"
                                                           "outcome=\"committed\"," +
                                                           partition + "}"));
  }
  BOOST_TEST(committed_commands >= 12);
  BOOST_TEST(committed_commands <= 14);
  // One call at a time: each command that appended had a Kafka transaction of its own (the
  // clock's may have shared one); a transaction holds one or more partitions' appends.
  const double kafka_transactions = Sample(samples, "collections_writer_kafka_transactions_total{}");
  BOOST_TEST(kafka_transactions >= 12);
  BOOST_TEST(kafka_transactions <= committed_appends);
  BOOST_TEST(Sample(samples, "collections_projection_caught_up{projection=\"accounts\"}") == 1);
  BOOST_TEST(Sample(samples, "collections_health_serving{service=\"collections.v1."
                             "CaseCommandService\"}") == 1);
  BOOST_TEST(Sample(samples, "collections_rocksdb_estimate_keys{db=\"accounts\"}") > 0);
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

BOOST_AUTO_TEST_CASE(logs_are_json_lines_with_fields_and_librdkafka_lines) {
  TempDir dir;
  const ServerOptions options = TestOptions("operability-logs", dir.path);
  const int port = FreePort(), metrics_port = FreePort();
  const std::string log_path = (dir.path / "server.log").string();
  // Settings from all three places: the file names the topic, the environment the log
  // format, the flags the rest.
  const std::string config_path = (dir.path / "collections.conf").string();
  std::ofstream(config_path) << "topic = " << options.log.topic << "\n"
                             << "log-format = text\n"
                             << "[kafka]\nstatistics.interval.ms = 500\n";
  std::vector<std::string> args = {
      COLLECTIONS_SERVER_BINARY,
      "--config=" + config_path,
      "--listen=127.0.0.1:" + std::to_string(port),
      "--metrics-listen=127.0.0.1:" + std::to_string(metrics_port),
      "--bootstrap=" + options.log.bootstrap,
      "--partitions=3",
      "--deployment-id=" + options.writer.deployment_id,
      "--db=" + options.db_path,
      "--log-level=debug",
      // librdkafka's own debug lines for its metadata requests: some are sure to come.
      "--kafka-property=debug=metadata"};
  for (auto& flag : ServerBinarySecurityFlags(dir.path.string())) args.push_back(flag);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = {"COLLECTIONS_LOG_FORMAT=json"};
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string(*e).rfind("COLLECTIONS_LOG_FORMAT=", 0) != 0) env_strings.push_back(*e);
  }
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid = -1;
  BOOST_REQUIRE(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data()) == 0);
  posix_spawn_file_actions_destroy(&actions);

  auto channel = ChannelAs("127.0.0.1:" + std::to_string(port), kTestPrincipal);
  auto commands = v1::CaseCommandService::NewStub(channel);
  auto queries = v1::CaseQueryService::NewStub(channel);
  bool ready = false;
  for (int i = 0; i < 600 && !ready; ++i) {
    v1::Account a;
    ready = GetAccount(*queries, "probe", nullptr, &a).error_code() == grpc::StatusCode::NOT_FOUND;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_REQUIRE_MESSAGE(ready, "server did not become ready in 60 s");
  v1::OpenCaseRequest open = OpenCase("LOG-1", "cmd-log-1");
  open.set_correlation_id("corr-log-1");
  open.mutable_actor()->set_id("agent-7");
  open.mutable_actor()->set_role("collector");
  v1::CommandReply reply;
  {
    grpc::ClientContext ctx;
    BOOST_REQUIRE(commands->OpenCase(&ctx, open, &reply).ok());
  }
  {
    grpc::ClientContext ctx;  // the same case again under a new id: refused, logged at info
    open.set_command_id("cmd-log-2");
    BOOST_REQUIRE(!commands->OpenCase(&ctx, open, &reply).ok());
  }
  // The process's own metrics endpoint answers, with librdkafka's statistics in it.
  bool statistics = false;
  for (int i = 0; i < 50 && !statistics; ++i) {
    statistics = Scrape(metrics_port).find("collections_kafka_broker_rtt_seconds{") !=
                 std::string::npos;
    if (!statistics) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_TEST(statistics);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  BOOST_TEST(WIFEXITED(status));

  std::ifstream log(log_path);
  int lines = 0, librdkafka = 0, with_fields = 0;
  std::set<std::string> levels;
  for (std::string line; std::getline(log, line);) {
    ++lines;
    const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    BOOST_REQUIRE_MESSAGE(json.is_object(), "not a JSON object: " << line);
    for (const char* key : {"ts", "level", "component", "msg"}) {
      BOOST_REQUIRE_MESSAGE(json.contains(key) && json[key].is_string(),
                            "no \"" << key << "\" in " << line);
    }
    levels.insert(json["level"].get<std::string>());
    if (json["component"] == "librdkafka") ++librdkafka;
    if (json.value("account", "") == "LOG-1" && json.value("command_id", "") == "cmd-log-2" &&
        json.value("correlation_id", "") == "corr-log-1" &&
        // The peer's TLS identity, not the actor the request names (README "Logs").
        json.value("principal", "") == kTestPrincipal && json["level"] == "info") {
      ++with_fields;
    }
    if (json.contains("partition")) BOOST_TEST(json["partition"].is_number_integer());
  }
  BOOST_TEST(lines > 5);
  BOOST_TEST(librdkafka > 0, "no line from librdkafka");
  BOOST_TEST(with_fields == 1, "no refusal line with account, command_id, correlation_id and "
                               "principal");
  BOOST_TEST(levels.count("debug") == 1u);
  BOOST_TEST(levels.count("info") == 1u);
}

}  // namespace
}  // namespace collections::testing
