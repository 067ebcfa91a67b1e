// The audit trail against the real broker, RocksDB and gRPC server: what a compliance officer
// gets from ComplianceService and collectionsctl, read from the log, agrees with what the
// service did, and a copy of the log with one byte changed is caught.
#define BOOST_TEST_MODULE audit
#include "projections/compliance/audit.h"

#include "projections/compliance/audit_log.h"
#include "projections/compliance/compliance_service.h"
#include "services/domain/hashing.h"
#include "services/kafka/kafka.h"
#include "tests/support/harness.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "collections/v1/compliance_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"

#include <grpcpp/grpcpp.h>
#include <librdkafka/rdkafkacpp.h>
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

namespace collections::testing {
namespace {

std::unique_ptr<v1::ComplianceService::Stub> ComplianceStub(const std::string& address) {
  // Audit trails of every account are for compliance officers (the access policy).
  return v1::ComplianceService::NewStub(ChannelAs(address, "compliance-officer-1"));
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return ctx;
}

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  ts.set_nanos(
      static_cast<int32_t>((t - absl::FromUnixSeconds(ts.seconds())) / absl::Nanoseconds(1)));
  return ts;
}

std::vector<v1::ReplayStep> Replay(v1::ComplianceService::Stub& stub,
                                   const v1::ReplayAccountRequest& request, grpc::Status* status) {
  auto ctx = Context();
  auto reader = stub.ReplayAccount(ctx.get(), request);
  std::vector<v1::ReplayStep> steps;
  v1::ReplayStep step;
  while (reader->Read(&step)) steps.push_back(step);
  *status = reader->Finish();
  return steps;
}

v1::VerifyAuditTrailResponse Verify(v1::ComplianceService::Stub& stub,
                                    const std::string& account_id, grpc::Status* status) {
  v1::VerifyAuditTrailRequest request;
  request.set_account_id(account_id);
  v1::VerifyAuditTrailResponse response;
  *status = stub.VerifyAuditTrail(Context().get(), request, &response);
  return response;
}

// An account that no time-driven event touches while the test runs: due far in the future.
v1::OpenCaseRequest OpenCurrent(const std::string& account_id, const std::string& command_id) {
  auto r = OpenCase(account_id, command_id);
  r.mutable_due_date()->set_year(2099);
  return r;
}

// Copies records into `topic` (same partitions, keys, values and headers) with a plain,
// non-transactional producer: the kind of copy someone could edit before handing it over.
void Produce(const std::string& topic, const std::vector<LoggedEvent>& records,
             const std::vector<std::string>& values) {
  struct Failures final : RdKafka::DeliveryReportCb {
    int count = 0;
    void dr_cb(RdKafka::Message& message) override {
      count += message.err() != RdKafka::ERR_NO_ERROR;
    }
  } failures;
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  BOOST_REQUIRE(conf->set("bootstrap.servers", Bootstrap(), err) == RdKafka::Conf::CONF_OK);
  BOOST_REQUIRE(conf->set("dr_cb", &failures, err) == RdKafka::Conf::CONF_OK);
  // The copy's topic was just created: a first send may be retried while its leader is elected,
  // and only an idempotent producer keeps a partition's records in order (and once) through
  // retries. A reordered copy would show breaks the test did not make.
  BOOST_REQUIRE(conf->set("enable.idempotence", "true", err) == RdKafka::Conf::CONF_OK);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  BOOST_REQUIRE_MESSAGE(producer, err);
  for (size_t i = 0; i < records.size(); ++i) {
    RdKafka::Headers* headers = RdKafka::Headers::create();
    for (const auto& [k, v] : records[i].headers) headers->add(k, v.data(), v.size());
    const std::string& value = values[i];
    RdKafka::ErrorCode code =
        producer->produce(topic, records[i].partition, RdKafka::Producer::RK_MSG_COPY,
                          const_cast<char*>(value.data()), value.size(), records[i].key.data(),
                          records[i].key.size(), 0, headers, nullptr);
    if (code != RdKafka::ERR_NO_ERROR) delete headers;  // ownership passes only on success
    BOOST_REQUIRE_MESSAGE(code == RdKafka::ERR_NO_ERROR, RdKafka::err2str(code));
  }
  BOOST_REQUIRE(producer->flush(30000) == RdKafka::ERR_NO_ERROR);
  BOOST_REQUIRE(failures.count == 0);
}

struct Ran {
  int exit_code = -1;
  std::string out;
};

// Runs collectionsctl with `args`; stderr (progress) is left to the test log.
Ran RunCtl(const std::string& args) {
  Ran ran;
  // As a compliance officer, with the test CA's certificates (a --plaintext call needs none).
  const CertFiles officer = ClientCert("compliance-officer-1");
  std::string command = absl::StrCat(COLLECTIONS_CTL_BINARY, " ", args);
  if (args.find("--plaintext") == std::string::npos) {
    absl::StrAppend(&command, " --tls-ca ", Pki().ca(), " --tls-cert ", officer.cert,
                    " --tls-key ", officer.key);
  }
  std::FILE* pipe = ::popen(command.c_str(), "r");
  BOOST_REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) ran.out.append(buffer, n);
  int status = ::pclose(pipe);
  ran.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out = absl::StrSplit(text, '\n', absl::SkipEmpty());
  return out;
}

BOOST_AUTO_TEST_CASE(audit_trail_lists_every_event_with_who_when_why_and_where) {
  TempDir dir;
  TestService service(TestOptions("audit-trail", dir.path));
  std::vector<v1::CommandReply> replies(3);
  BOOST_REQUIRE(Call(service.commands(), OpenCurrent("ACC-T", "c1"), &replies[0]).ok());
  BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-T", "c2", "P1", 1000), &replies[1]).ok());
  auto reverse = ReversePayment("ACC-T", "c3", "P1");
  reverse.set_note("bank returned it");
  BOOST_REQUIRE(Call(service.commands(), reverse, &replies[2]).ok());
  v1::CommandReply other;
  BOOST_REQUIRE(Call(service.commands(), OpenCurrent("ACC-OTHER", "o1"), &other).ok());

  auto stub = ComplianceStub(service.app().address());
  v1::GetAuditTrailRequest request;
  request.set_account_id("ACC-T");
  v1::GetAuditTrailResponse trail;
  auto status = stub->GetAuditTrail(Context().get(), request, &trail);
  BOOST_REQUIRE_MESSAGE(status.ok(), status.error_message());
  BOOST_REQUIRE(trail.entries_size() == 3);
  BOOST_TEST(trail.next_page_token().empty());
  const char* types[] = {"collections.v1.CaseOpened", "collections.v1.PaymentPosted",
                         "collections.v1.PaymentReversed"};
  for (int i = 0; i < 3; ++i) {
    const auto& e = trail.entries(i);
    BOOST_TEST(e.account_id() == "ACC-T");
    BOOST_TEST(e.sequence() == i + 1);
    BOOST_TEST(e.event_type() == types[i]);
    BOOST_TEST(e.actor().id() == "test-suite");
    BOOST_TEST(e.actor().role() == "admin");  // the test principal's role
    BOOST_TEST(e.occurred_at().seconds() > 0);
    BOOST_TEST(e.recorded_at().seconds() > 0);
    // Where: exactly where the command's reply said the event landed.
    BOOST_TEST(e.position().partition() == replies[i].position().partition());
    BOOST_TEST(e.position().offset() == replies[i].position().offset());
    BOOST_TEST(e.event_id() == replies[i].event_ids(0));
    BOOST_TEST(e.envelope().command_id() == "c" + std::to_string(i + 1));
    BOOST_TEST(e.envelope().hash() == ChainHash(e.envelope()));
  }
  // Why.
  const auto& reasons = trail.entries(2).reasons();
  BOOST_TEST(std::count(reasons.begin(), reasons.end(),
                        "payment_reversed.reason: REVERSAL_REASON_NSF") == 1);
  BOOST_TEST(
      std::count(reasons.begin(), reasons.end(), "payment_reversed.note: bank returned it") == 1);

  // Paging gives the same entries.
  request.set_page_size(2);
  v1::GetAuditTrailResponse first, second;
  BOOST_REQUIRE(stub->GetAuditTrail(Context().get(), request, &first).ok());
  BOOST_TEST(first.entries_size() == 2);
  BOOST_REQUIRE(!first.next_page_token().empty());
  request.set_page_token(first.next_page_token());
  BOOST_REQUIRE(stub->GetAuditTrail(Context().get(), request, &second).ok());
  BOOST_REQUIRE(second.entries_size() == 1);
  BOOST_TEST(second.entries(0).event_id() == trail.entries(2).event_id());
  BOOST_TEST(second.next_page_token().empty());

  v1::GetAuditTrailRequest missing;
  missing.set_account_id("ACC-NEVER");
  v1::GetAuditTrailResponse none;
  BOOST_TEST(stub->GetAuditTrail(Context().get(), missing, &none).error_code() ==
             grpc::StatusCode::NOT_FOUND);
}

// A trail answers for everything written before the call: an event whose transaction is
// committed but not yet settled on the partition (its markers still to come) is waited for,
// not left out. Here the transaction is held open, and the call answers once it commits.
BOOST_AUTO_TEST_CASE(audit_trail_waits_for_a_transaction_written_before_the_call_to_settle) {
  TempDir first_dir, dir;
  ServerOptions first = TestOptions("audit-settle", first_dir.path);
  v1::CommandReply r;
  {
    TestService service(first);
    BOOST_REQUIRE(Call(service.commands(), OpenCurrent("ACC-H", "c1"), &r).ok());
    BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-H", "c2", "P1", 1000), &r).ok());
  }
  const auto events = ReadTopic(first.log.topic);
  BOOST_REQUIRE(events.size() == 2u);
  const int32_t partition = events[0].partition;

  // The same deployment on a topic holding the first event; the second lands in a transaction
  // held open, as the last commit of a writer whose markers are still on their way.
  ServerOptions options = TestOptions("audit-settle", dir.path);
  options.log.topic = first.log.topic + "-held";
  options.writer.deployment_id = first.writer.deployment_id;
  BOOST_REQUIRE(kafka::EnsureTopic(options.log).ok());
  auto producer = kafka::TransactionalProducer::Create(options.log, options.log.topic + "-other");
  BOOST_REQUIRE(producer.ok());
  BOOST_REQUIRE(!producer.value()->Init(10000).has_value());
  BOOST_REQUIRE(producer.value()->Append(partition, {AsRecord(events[0])}).outcome ==
                kafka::AppendResult::Outcome::kCommitted);
  TestService service(options);
  HeldOpenTransaction held;
  auto committed = std::async(std::launch::async, [&] {
    return producer.value()->Append(partition, {AsRecord(events[1])}, &held).outcome;
  });
  held.WaitLanded();

  auto stub = ComplianceStub(service.app().address());
  v1::GetAuditTrailRequest request;
  request.set_account_id("ACC-H");
  v1::GetAuditTrailResponse trail;
  auto answered = std::async(std::launch::async,
                             [&] { return stub->GetAuditTrail(Context().get(), request, &trail); });
  BOOST_TEST((answered.wait_for(std::chrono::milliseconds(1500)) == std::future_status::timeout));
  held.Release();
  BOOST_REQUIRE(committed.get() == kafka::AppendResult::Outcome::kCommitted);
  auto status = answered.get();
  BOOST_REQUIRE_MESSAGE(status.ok(), status.error_message());
  BOOST_REQUIRE(trail.entries_size() == 2);
  BOOST_TEST(trail.entries(1).envelope().command_id() == "c2");
}

BOOST_AUTO_TEST_CASE(replay_equals_the_projection_now_and_at_three_points_in_time) {
  TempDir dir;
  TestService service(TestOptions("audit-replay", dir.path));
  // Business time three, two and one day ago (at noon UTC), each group recorded now.
  const absl::Time base =
      absl::FromCivil(absl::CivilDay(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone())),
                      absl::UTCTimeZone()) -
      absl::Hours(12);
  const absl::Time business[] = {base - absl::Hours(48), base - absl::Hours(24), base};
  std::vector<v1::Account> projected(3);
  std::vector<absl::Time> known(3);
  v1::CommandReply r;

  auto open = OpenCurrent("ACC-R", "g1-open");
  *open.mutable_occurred_at() = Ts(business[0]);
  BOOST_REQUIRE(Call(service.commands(), open, &r).ok());
  auto pay1 = PostPayment("ACC-R", "g1-pay", "P1", 30000);
  *pay1.mutable_occurred_at() = Ts(business[0] + absl::Minutes(5));
  auto status = Call(service.commands(), pay1, &r);
  BOOST_REQUIRE_MESSAGE(status.ok(), status.error_message());
  BOOST_REQUIRE(GetAccount(service.queries(), "ACC-R", &r.position(), &projected[0]).ok());
  known[0] = absl::Now();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));

  auto pay2 = PostPayment("ACC-R", "g2-pay", "P2", 5000);
  *pay2.mutable_occurred_at() = Ts(business[1]);
  BOOST_REQUIRE(Call(service.commands(), pay2, &r).ok());
  auto reverse = ReversePayment("ACC-R", "g2-rev", "P1");
  *reverse.mutable_occurred_at() = Ts(business[1] + absl::Minutes(5));
  BOOST_REQUIRE(Call(service.commands(), reverse, &r).ok());
  BOOST_REQUIRE(GetAccount(service.queries(), "ACC-R", &r.position(), &projected[1]).ok());
  known[1] = absl::Now();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));

  auto pay3 = PostPayment("ACC-R", "g3-pay", "P3", 7000);
  *pay3.mutable_occurred_at() = Ts(business[2]);
  BOOST_REQUIRE(Call(service.commands(), pay3, &r).ok());
  BOOST_REQUIRE(GetAccount(service.queries(), "ACC-R", &r.position(), &projected[2]).ok());
  known[2] = absl::Now();
  // The three states differ, so matching each one means something.
  BOOST_REQUIRE(projected[0].total_balance_minor() != projected[1].total_balance_minor());
  BOOST_REQUIRE(projected[1].total_balance_minor() != projected[2].total_balance_minor());

  auto stub = ComplianceStub(service.app().address());
  v1::ReplayAccountRequest request;
  request.set_account_id("ACC-R");
  auto steps = Replay(*stub, request, &status);
  BOOST_REQUIRE_MESSAGE(status.ok(), status.error_message());
  BOOST_REQUIRE(steps.size() == static_cast<size_t>(projected[2].version()));
  for (size_t i = 0; i < steps.size(); ++i) {
    BOOST_TEST(steps[i].event().sequence() == static_cast<int64_t>(i + 1));
    BOOST_TEST(steps[i].state_after().version() == static_cast<int64_t>(i + 1));
    BOOST_TEST(steps[i].position().offset() == steps[i].state_after().last_position().offset());
  }
  BOOST_TEST(CanonicalBytes(steps.back().state_after()) == CanonicalBytes(projected[2]));

  for (int point = 0; point < 3; ++point) {
    v1::ReplayAccountRequest as_known = request;
    *as_known.mutable_as_known_at() = Ts(known[point]);
    auto known_steps = Replay(*stub, as_known, &status);
    BOOST_REQUIRE(status.ok());
    BOOST_REQUIRE(!known_steps.empty());
    BOOST_TEST(CanonicalBytes(known_steps.back().state_after()) == CanonicalBytes(projected[point]),
               "as known at point " << point);

    v1::ReplayAccountRequest as_of = request;
    *as_of.mutable_as_of_business_time() = Ts(business[point] + absl::Hours(1));
    auto business_steps = Replay(*stub, as_of, &status);
    BOOST_REQUIRE(status.ok());
    BOOST_REQUIRE(!business_steps.empty());
    BOOST_TEST(
        CanonicalBytes(business_steps.back().state_after()) == CanonicalBytes(projected[point]),
        "as of business time point " << point);
  }
  v1::ReplayAccountRequest before = request;
  *before.mutable_as_of_business_time() = Ts(business[0] - absl::Hours(1));
  BOOST_TEST(Replay(*stub, before, &status).empty());
  BOOST_TEST(status.ok());
}

BOOST_AUTO_TEST_CASE(an_untampered_topic_verifies_intact) {
  TempDir dir;
  TestService service(TestOptions("audit-verify", dir.path));
  v1::CommandReply r;
  for (int a = 0; a < 5; ++a) {
    const std::string id = "ACC-V" + std::to_string(a);
    BOOST_REQUIRE(Call(service.commands(), OpenCurrent(id, "open"), &r).ok());
    for (int p = 0; p < a; ++p) {
      const std::string n = std::to_string(p);
      BOOST_REQUIRE(Call(service.commands(), PostPayment(id, "pay" + n, "P" + n, 100), &r).ok());
    }
  }
  const size_t on_topic = ReadTopic(service.options().log.topic).size();
  auto stub = ComplianceStub(service.app().address());
  grpc::Status status;
  auto all = Verify(*stub, "", &status);
  BOOST_REQUIRE_MESSAGE(status.ok(), status.error_message());
  BOOST_TEST(all.intact());
  BOOST_TEST(all.breaks_size() == 0);
  BOOST_TEST(all.accounts_checked() == 5);
  BOOST_TEST(all.events_checked() == static_cast<int64_t>(on_topic));
  BOOST_TEST(all.partitions() == 3);

  auto one = Verify(*stub, "ACC-V4", &status);
  BOOST_REQUIRE(status.ok());
  BOOST_TEST(one.intact());
  BOOST_TEST(one.events_checked() == 5);

  // Partition by partition adds up to the whole topic.
  int64_t events = 0, accounts = 0;
  for (int32_t p = 0; p < 3; ++p) {
    v1::VerifyAuditTrailRequest request;
    request.set_partition(p);
    v1::VerifyAuditTrailResponse response;
    BOOST_REQUIRE(stub->VerifyAuditTrail(Context().get(), request, &response).ok());
    BOOST_TEST(response.intact());
    events += response.events_checked();
    accounts += response.accounts_checked();
  }
  BOOST_TEST(events == static_cast<int64_t>(on_topic));
  BOOST_TEST(accounts == 5);

  Verify(*stub, "ACC-NEVER", &status);
  BOOST_TEST(status.error_code() == grpc::StatusCode::NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(a_copy_with_one_changed_byte_or_a_missing_event_names_account_and_sequence) {
  TempDir dir;
  TestService service(TestOptions("audit-tamper", dir.path));
  v1::CommandReply r;
  BOOST_REQUIRE(Call(service.commands(), OpenCurrent("ACC-EDIT", "c1"), &r).ok());
  BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-EDIT", "c2", "P1", 30000), &r).ok());
  BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-EDIT", "c3", "P2", 100), &r).ok());
  BOOST_REQUIRE(Call(service.commands(), OpenCurrent("ACC-DROP", "c1"), &r).ok());
  BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-DROP", "c2", "P1", 100), &r).ok());
  BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-DROP", "c3", "P2", 100), &r).ok());
  BOOST_REQUIRE(Call(service.commands(), OpenCurrent("ACC-CLEAN", "c1"), &r).ok());

  // The copy: every record, except ACC-DROP's sequence 2 left out and one byte of ACC-EDIT's
  // payment amount (sequence 2) changed.
  auto original = ReadTopic(service.options().log.topic);
  std::vector<LoggedEvent> copied;
  std::vector<std::string> values;
  bool edited = false;
  for (const auto& e : original) {
    if (e.envelope.account_id() == "ACC-DROP" && e.envelope.sequence() == 2) continue;
    std::string value = e.raw;
    if (e.envelope.account_id() == "ACC-EDIT" && e.envelope.sequence() == 2) {
      const std::string amount = e.envelope.payment_posted().amount().SerializeAsString();
      size_t at = value.find(amount);
      BOOST_REQUIRE(at != std::string::npos);
      value[at + 1] = static_cast<char>(value[at + 1] ^ 0x01);
      v1::EventEnvelope check;
      BOOST_REQUIRE(check.ParseFromString(value));
      BOOST_REQUIRE(check.payment_posted().amount().amount_minor() != 30000);
      edited = true;
    }
    copied.push_back(e);
    values.push_back(value);
  }
  BOOST_REQUIRE(edited);
  kafka::LogOptions copy = service.options().log;
  copy.topic = UniqueName("audit-tamper-copy");
  copy.partitions = 3;
  auto made = kafka::EnsureTopic(copy);
  BOOST_REQUIRE(made.ok());
  Produce(copy.topic, copied, values);

  // The pure path: AuditLog over the copy.
  compliance::AuditLog log(copy, 3);
  auto accounts = log.ReadAll(absl::Now() + absl::Seconds(60));
  BOOST_REQUIRE(accounts.ok());
  auto verdict = compliance::VerifyAll(accounts.value());
  BOOST_TEST(!verdict.intact());
  BOOST_TEST(verdict.accounts_checked() == 3);
  BOOST_REQUIRE(verdict.breaks_size() == 2);
  // Accounts come in id order: ACC-DROP, then ACC-EDIT.
  BOOST_TEST(verdict.breaks(0).account_id() == "ACC-DROP");
  BOOST_TEST(verdict.breaks(0).sequence() == 3);
  BOOST_TEST(verdict.breaks(0).reason() == "sequence gap: expected 2 got 3");
  BOOST_TEST(verdict.breaks(1).account_id() == "ACC-EDIT");
  BOOST_TEST(verdict.breaks(1).sequence() == 2);
  BOOST_TEST(verdict.breaks(1).reason() == "hash mismatch");
  BOOST_TEST(verdict.breaks(1).partition() == kafka::PartitionFor("ACC-EDIT", 3));

  // The service path: a ComplianceService pointed at the copy, asked over gRPC.
  ComplianceService on_copy(copy, 3);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&on_copy);
  auto server = builder.BuildAndStart();
  BOOST_REQUIRE(server && port != 0);
  const std::string address = absl::StrCat("127.0.0.1:", port);
  // The service over the copy serves plaintext on loopback, as --plaintext does.
  auto stub = v1::ComplianceService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::Status status;
  auto edit = Verify(*stub, "ACC-EDIT", &status);
  BOOST_REQUIRE_MESSAGE(status.ok(), status.error_message());
  BOOST_TEST(!edit.intact());
  BOOST_REQUIRE(edit.breaks_size() == 1);
  BOOST_TEST(edit.breaks(0).sequence() == 2);
  BOOST_TEST(edit.breaks(0).kind() == v1::CHAIN_BREAK_KIND_HASH_MISMATCH);
  BOOST_TEST(Verify(*stub, "ACC-CLEAN", &status).intact());

  // And what the compliance officer sees on the command line.
  Ran ctl = RunCtl(absl::StrCat("verify ACC-EDIT --plaintext --target ", address));
  BOOST_TEST(ctl.exit_code == 1);
  BOOST_TEST(ctl.out.find("account=ACC-EDIT sequence=2") != std::string::npos, ctl.out);
  BOOST_TEST(ctl.out.find("hash mismatch") != std::string::npos);
  Ran all = RunCtl(absl::StrCat("verify --all --plaintext --target ", address));
  BOOST_TEST(all.exit_code == 1);
  BOOST_TEST(all.out.find("account=ACC-DROP sequence=3") != std::string::npos, all.out);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

BOOST_AUTO_TEST_CASE(collectionsctl_verifies_exports_and_replays_a_running_service) {
  TempDir dir;
  TestService service(TestOptions("audit-ctl", dir.path));
  v1::CommandReply r;
  BOOST_REQUIRE(Call(service.commands(), OpenCurrent("ACC-C", "c1"), &r).ok());
  BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-C", "c2", "P1", 2000), &r).ok());
  BOOST_REQUIRE(Call(service.commands(), ReversePayment("ACC-C", "c3", "P1"), &r).ok());
  BOOST_REQUIRE(Call(service.commands(), PostPayment("ACC-C", "c4", "P2", 500), &r).ok());
  BOOST_REQUIRE(Call(service.commands(), OpenCurrent("ACC-D", "d1"), &r).ok());
  auto events = ReadTopic(service.options().log.topic);
  std::vector<LoggedEvent> mine;
  for (const auto& e : events) {
    if (e.envelope.account_id() == "ACC-C") mine.push_back(e);
  }
  BOOST_REQUIRE(mine.size() >= 4u);
  const std::string target = " --target " + service.app().address();

  Ran verify = RunCtl("verify ACC-C" + target);
  BOOST_TEST(verify.exit_code == 0);
  BOOST_TEST(verify.out.rfind("intact", 0) == 0u, verify.out);
  BOOST_TEST(RunCtl("verify --all" + target).exit_code == 0);
  BOOST_TEST(RunCtl("verify ACC-NEVER" + target).exit_code == 4);  // NOT_FOUND
  BOOST_TEST(RunCtl("verify" + target).exit_code == 2);

  Ran csv = RunCtl("export ACC-C --format csv" + target);
  BOOST_TEST(csv.exit_code == 0);
  auto rows = Lines(csv.out);
  BOOST_REQUIRE(rows.size() == mine.size() + 1);
  // The audit columns, then the amount in the account's currency.
  BOOST_TEST(rows[0] + "\n" ==
             compliance::CsvHeader().substr(0, compliance::CsvHeader().size() - 1) +
                 ",amount_minor,currency,amount\n");
  for (size_t i = 0; i < mine.size(); ++i) {
    // Each row names its event and carries its hash, so an examiner can check the chain.
    BOOST_TEST(rows[i + 1].rfind(
                   absl::StrCat("ACC-C,", i + 1, ",", mine[i].envelope.event_id(), ","), 0) == 0u);
    BOOST_TEST(rows[i + 1].find(Hex(mine[i].envelope.hash())) != std::string::npos);
  }

  const std::string out_file = (dir.path / "export.jsonl").string();
  Ran jsonl = RunCtl("export ACC-C --format jsonl --out " + out_file + target);
  BOOST_TEST(jsonl.exit_code == 0);
  std::ifstream in(out_file);
  std::stringstream written;
  written << in.rdbuf();
  auto entries = Lines(written.str());
  BOOST_REQUIRE(entries.size() == mine.size());
  v1::AuditEntry entry;
  BOOST_REQUIRE(google::protobuf::util::JsonStringToMessage(entries.back(), &entry).ok());
  BOOST_TEST(entry.envelope().hash() == mine.back().envelope.hash());

  // A period covering everything, and one before anything happened.
  Ran period = RunCtl("export --from 2000-01-01 --to 2999-12-31 --format csv" + target);
  BOOST_TEST(period.exit_code == 0);
  BOOST_TEST(Lines(period.out).size() == events.size() + 1);
  Ran empty = RunCtl("export --from 2000-01-01 --to 2000-01-02 --format csv" + target);
  BOOST_TEST(empty.exit_code == 0);
  BOOST_TEST(Lines(empty.out).size() == 1u);

  Ran json = RunCtl("replay ACC-C --format json" + target);
  BOOST_TEST(json.exit_code == 0);
  auto steps = Lines(json.out);
  BOOST_REQUIRE(steps.size() == mine.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    v1::ReplayStep step;
    BOOST_REQUIRE(google::protobuf::util::JsonStringToMessage(steps[i], &step).ok());
    BOOST_TEST(step.event().sequence() == static_cast<int64_t>(i + 1));
    BOOST_TEST(step.position().offset() == mine[i].offset);
  }
  v1::Account projected;
  BOOST_REQUIRE(GetAccount(service.queries(), "ACC-C", &r.position(), &projected).ok());
  v1::ReplayStep last;
  BOOST_REQUIRE(google::protobuf::util::JsonStringToMessage(steps.back(), &last).ok());
  BOOST_TEST(CanonicalBytes(last.state_after()) == CanonicalBytes(projected));

  Ran table = RunCtl("replay ACC-C" + target);
  BOOST_TEST(table.exit_code == 0);
  auto table_rows = Lines(table.out);
  BOOST_REQUIRE(table_rows.size() == mine.size() + 1);
  BOOST_TEST(table_rows[2].find("PaymentPosted") != std::string::npos);
  BOOST_TEST(table_rows[2].find("test-suite") != std::string::npos);
}

}  // namespace
}  // namespace collections::testing
