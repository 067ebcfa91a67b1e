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

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <map>
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
  Clocked() : clock(At("America/Chicago", 2025, 10, 6, 10)), service(MetricsOptions(dir.path), &clock) {}

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
    r.mutable_actor()->set_id(role + "-1");
    r.mutable_actor()->set_role(role);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return (service.commands().*method)(&ctx, r, &last);
  }
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

  const auto samples = Parse(Scrape(port), t.dir.path.string(), false);
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
}

}  // namespace
}  // namespace collections::testing
