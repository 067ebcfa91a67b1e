// The audit of one account from the projection's copy of the log (AccountIndex) against the
// scan of the account's partition it replaces, on a real broker and RocksDB: GetAuditTrail
// (every page), ReplayAccount (every state mode, a bitemporal cut), VerifyAuditTrail and
// ExportEvents of the account give the same bytes at two topic sizes, forged, unparseable and
// misplaced records included; verification reads the log itself, not the copy; and its pooled,
// warm readers give the same answers in a row and at once, forged records included.
#define BOOST_TEST_MODULE audit_index
#include "projections/compliance/compliance_service.h"
#include "services/authz/signing.h"
#include "services/domain/hashing.h"
#include "services/kafka/kafka.h"
#include "tests/support/harness.h"

#include "absl/strings/str_cat.h"
#include "collections/v1/compliance_service.grpc.pb.h"

#include <grpcpp/grpcpp.h>
#include <librdkafka/rdkafkacpp.h>

#include <boost/test/unit_test.hpp>
#include <atomic>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace collections::testing {
namespace {

std::unique_ptr<grpc::ClientContext> Context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return ctx;
}

// A ComplianceService of the test's own on loopback (no access policy): the full-scan one, or
// one answering from `store` fed by `projector`.
struct LocalService {
  LocalService(const kafka::LogOptions& log, int32_t partitions,
               std::vector<authz::VerifyingKey> keys, const ProjectionStore* store = nullptr,
               Projector* projector = nullptr)
      : service(log, partitions) {
    service.set_trusted_keys(std::move(keys));
    if (store != nullptr) service.use_account_index(*store, *projector);
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    BOOST_REQUIRE(server && port != 0);
    stub = v1::ComplianceService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  ~LocalService() { server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5)); }
  ComplianceService service;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<v1::ComplianceService::Stub> stub;
};

std::string StatusText(const grpc::Status& s) {
  return absl::StrCat("status ", s.error_code(), " ", s.error_message(), " ",
                      s.error_details().size(), "\n");
}

// ExportEvents of [epoch, `to`) for `account` (empty: every account), as bytes.
std::string Export(v1::ComplianceService::Stub& stub, const std::string& account, int64_t to) {
  v1::ExportEventsRequest request;
  request.set_account_id(account);
  request.mutable_from()->set_seconds(0);
  request.mutable_to()->set_seconds(to);
  auto ctx = Context();
  auto reader = stub.ExportEvents(ctx.get(), request);
  std::string out;
  v1::AuditEntry entry;
  while (reader->Read(&entry)) out += entry.SerializeAsString();
  return out + StatusText(reader->Finish());
}

// The whole-log export, kept to `account`'s entries of its own partition: what the export of
// one account must equal.
std::string ExportFiltered(v1::ComplianceService::Stub& stub, const std::string& account,
                           int32_t partition) {
  v1::ExportEventsRequest request;
  request.mutable_from()->set_seconds(0);
  request.mutable_to()->set_seconds(4102444800);
  auto ctx = Context();
  auto reader = stub.ExportEvents(ctx.get(), request);
  std::string out;
  v1::AuditEntry entry;
  while (reader->Read(&entry)) {
    if (entry.account_id() == account && entry.position().partition() == partition) {
      out += entry.SerializeAsString();
    }
  }
  return out + StatusText(reader->Finish());
}

// Everything an examiner can ask about one account, as bytes: every page of the audit trail
// (pages of 3, and a token past the end), four replays and the verification.
std::string Transcript(v1::ComplianceService::Stub& stub, const std::string& account) {
  std::string out;
  std::string token;
  for (int page = 0; page < 100; ++page) {
    v1::GetAuditTrailRequest request;
    request.set_account_id(account);
    request.set_page_size(3);
    request.set_page_token(token);
    v1::GetAuditTrailResponse response;
    grpc::Status s = stub.GetAuditTrail(Context().get(), request, &response);
    out += StatusText(s) + response.SerializeAsString();
    if (!s.ok() || response.next_page_token().empty()) break;
    token = response.next_page_token();
  }
  {
    v1::GetAuditTrailRequest request;
    request.set_account_id(account);
    request.set_page_token("1000");
    v1::GetAuditTrailResponse response;
    out += StatusText(stub.GetAuditTrail(Context().get(), request, &response));
  }
  for (auto mode : {v1::REPLAY_STATE_MODE_UNSPECIFIED, v1::REPLAY_STATE_MODE_NONE,
                    v1::REPLAY_STATE_MODE_LAST_STEP}) {
    for (bool cut : {false, true}) {
      v1::ReplayAccountRequest request;
      request.set_account_id(account);
      request.set_state_mode(mode);
      // Known at the Unix epoch plus a day: nothing was; a cut that drops every step.
      if (cut) request.mutable_as_known_at()->set_seconds(86400);
      auto ctx = Context();
      auto reader = stub.ReplayAccount(ctx.get(), request);
      v1::ReplayStep step;
      while (reader->Read(&step)) out += step.SerializeAsString();
      out += StatusText(reader->Finish());
    }
  }
  v1::VerifyAuditTrailRequest request;
  request.set_account_id(account);
  v1::VerifyAuditTrailResponse response;
  out += StatusText(stub.VerifyAuditTrail(Context().get(), request, &response));
  out += response.SerializeAsString();
  // The account's export: every period (up to 2100), and one that holds none of its events.
  for (int64_t to : {int64_t{4102444800}, int64_t{86400}}) {
    out += Export(stub, account, to);
  }
  return out;
}

// Appends raw records with a plain producer, as someone with write access to the topic could.
void ProduceRaw(const std::string& topic,
                const std::vector<std::tuple<int32_t, std::string, std::string>>& records) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  BOOST_REQUIRE(conf->set("bootstrap.servers", Bootstrap(), err) == RdKafka::Conf::CONF_OK);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  BOOST_REQUIRE_MESSAGE(producer, err);
  for (const auto& [partition, key, value] : records) {
    RdKafka::ErrorCode code = producer->produce(
        topic, partition, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
        value.size(), key.data(), key.size(), 0, nullptr, nullptr);
    BOOST_REQUIRE_MESSAGE(code == RdKafka::ERR_NO_ERROR, RdKafka::err2str(code));
  }
  BOOST_REQUIRE(producer->flush(30000) == RdKafka::ERR_NO_ERROR);
}

// Opens `accounts` accounts "<prefix><n>" with `payments` payments each, skipping the ids whose
// partition is in `avoid` (partitions whose writer stopped); returns the ids opened.
std::vector<std::string> OpenAccounts(TestService& service, const std::string& prefix,
                                      int accounts, int payments,
                                      const std::set<int32_t>& avoid = {}) {
  const int32_t partitions = service.app().projector().partitions();
  std::vector<std::string> opened;
  for (int n = 0; static_cast<int>(opened.size()) < accounts; ++n) {
    const std::string id = absl::StrCat(prefix, n);
    if (avoid.count(kafka::PartitionFor(id, partitions)) > 0) continue;
    v1::CommandReply reply;
    auto open = OpenCase(id, id + "-open");
    open.mutable_due_date()->set_year(2099);  // nothing time-driven happens while the test runs
    grpc::Status s = Call(service.commands(), open, &reply);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
    for (int p = 0; p < payments; ++p) {
      const std::string pay = absl::StrCat(id, "-pay-", p);
      s = Call(service.commands(), PostPayment(id, pay, pay, 100 + p), &reply);
      BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
    }
    opened.push_back(id);
  }
  return opened;
}

BOOST_AUTO_TEST_CASE(one_account_from_the_index_equals_the_scan_at_two_topic_sizes) {
  TempDir dir;
  TestService service(TestOptions("audit-index", dir.path));
  const kafka::LogOptions& log = service.options().log;
  const int32_t partitions = service.app().projector().partitions();
  auto key = authz::VerifyingKey::FromPem(TestSigningKey().PublicKeyPem());
  BOOST_REQUIRE(key.ok());
  std::vector<authz::VerifyingKey> keys = {key.value()};

  LocalService scan(log, partitions, keys);
  LocalService indexed(log, partitions, keys, &service.app().store(), &service.app().projector());
  // The served one, with the access policy, as a compliance officer calls it.
  auto served = v1::ComplianceService::NewStub(
      ChannelAs(service.app().address(), "compliance-officer-1"));

  // Size 1: a few accounts, one of them with records that are not the service's.
  OpenAccounts(service, "IDX-A-", 4, 5);
  const std::string victim = "IDX-A-1";
  const int32_t home = kafka::PartitionFor(victim, partitions);
  auto events = ReadTopic(log.topic);
  v1::EventEnvelope last;
  for (const auto& e : events) {
    if (e.envelope.account_id() == victim) last = e.envelope;
  }
  BOOST_REQUIRE(last.sequence() == 6);
  v1::EventEnvelope forged = last;  // the next link, well formed but signed by nobody
  forged.set_sequence(last.sequence() + 1);
  forged.set_prev_hash(last.hash());
  forged.set_event_id("forged-1");
  forged.clear_signature();
  forged.set_hash(ChainHash(forged));
  v1::EventEnvelope edited = last;  // a copy with a changed amount and the old hash
  edited.set_sequence(last.sequence() + 2);
  edited.mutable_payment_posted()->mutable_amount()->set_amount_minor(999999);
  ProduceRaw(log.topic, {{home, victim, forged.SerializeAsString()},
                         {home, victim, "\x01not an envelope"},
                         {home, victim, edited.SerializeAsString()},
                         // Names the victim but sits in another partition: no scan of the
                         // victim's partition sees it, so neither may the index.
                         {(home + 1) % partitions, victim, forged.SerializeAsString()}});

  std::vector<std::string> accounts = {"IDX-A-0", victim, "IDX-A-3", "NO-SUCH-ACCOUNT"};
  for (const auto& account : accounts) {
    const std::string expected = Transcript(*scan.stub, account);
    BOOST_TEST(Transcript(*indexed.stub, account) == expected, "account " << account);
    BOOST_TEST(Transcript(*served, account) == expected, "account " << account);
  }
  // The victim's verification names the forged records, as the scan does.
  {
    v1::VerifyAuditTrailRequest request;
    request.set_account_id(victim);
    v1::VerifyAuditTrailResponse response;
    BOOST_REQUIRE(indexed.stub->VerifyAuditTrail(Context().get(), request, &response).ok());
    BOOST_TEST(!response.intact());
    BOOST_TEST(response.events_checked() == 9);
  }
  BOOST_TEST(indexed.service.index_reads() > 0);
  BOOST_TEST(indexed.service.scan_reads() == 0);

  // The raw records stopped the writers of both partitions they landed in: the service never
  // appends after records it did not write.
  {
    v1::CommandReply reply;
    grpc::Status s = Call(service.commands(),
                          PostPayment(victim, "after-forgery", "after-forgery", 100), &reply);
    BOOST_TEST(static_cast<int>(s.error_code()) ==
               static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
    BOOST_TEST(s.error_message().find("did not write") != std::string::npos, s.error_message());
  }

  // Size 2: many more accounts on the other partitions; the answers do not change.
  const auto more =
      OpenAccounts(service, "IDX-B-", 30, 3, {home, (home + 1) % partitions});
  const std::string sample = more[17];
  for (const auto& account : accounts) {
    const std::string expected = Transcript(*scan.stub, account);
    BOOST_TEST(Transcript(*indexed.stub, account) == expected, "account " << account);
  }
  BOOST_TEST(Transcript(*indexed.stub, sample) == Transcript(*scan.stub, sample));
  BOOST_TEST(indexed.service.scan_reads() == 0);
  // The export of one account is the whole-log export kept to that account (its partition).
  for (const std::string& account : {std::string("IDX-A-0"), std::string("IDX-A-1"), sample}) {
    const std::string one = Export(*indexed.stub, account, 4102444800);
    BOOST_TEST(one == ExportFiltered(*scan.stub, account, kafka::PartitionFor(account, partitions)),
               "account " << account);
    BOOST_TEST(one.size() > 100, "account " << account);  // it has events to export
  }
}

BOOST_AUTO_TEST_CASE(verification_reads_the_log_not_the_copy) {
  TempDir dir;
  TestService service(TestOptions("audit-index-copy", dir.path));
  const kafka::LogOptions& log = service.options().log;
  const int32_t partitions = service.app().projector().partitions();
  auto key = authz::VerifyingKey::FromPem(TestSigningKey().PublicKeyPem());
  BOOST_REQUIRE(key.ok());
  LocalService indexed(log, partitions, {key.value()}, &service.app().store(),
                       &service.app().projector());
  OpenAccounts(service, "IDX-C-", 1, 2);
  const std::string account = "IDX-C-0";
  // Wait until the projection holds the account's three events.
  const int32_t home = kafka::PartitionFor(account, partitions);
  for (int i = 0; i < 100; ++i) {
    int rows = 0;
    BOOST_REQUIRE(!service.app().store().ScanAccountLog(
        account, home, INT64_MAX, [&](ProjectionStore::AccountLogRecord&) {
          ++rows;
          return true;
        }));
    if (rows == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Change the copy of sequence 2 (a payment's amount) behind the projector's back.
  std::vector<ProjectionStore::AccountLogRecord> rows;
  BOOST_REQUIRE(!service.app().store().ScanAccountLog(
      account, home, INT64_MAX, [&](ProjectionStore::AccountLogRecord& r) {
        rows.push_back(r);
        return true;
      }));
  BOOST_REQUIRE(rows.size() == 3);
  v1::EventEnvelope changed;
  BOOST_REQUIRE(changed.ParseFromString(rows[1].value));
  changed.mutable_payment_posted()->mutable_amount()->set_amount_minor(1);
  ProjectionStore::Batch batch;
  rows[1].value = changed.SerializeAsString();
  batch.log_records.push_back(rows[1]);
  BOOST_REQUIRE(!service.app().store().Apply(batch));

  // The verification judges the log's bytes at the copy's offsets: intact.
  v1::VerifyAuditTrailRequest request;
  request.set_account_id(account);
  v1::VerifyAuditTrailResponse response;
  BOOST_REQUIRE(indexed.stub->VerifyAuditTrail(Context().get(), request, &response).ok());
  BOOST_TEST(response.intact());
  BOOST_TEST(response.events_checked() == 3);
}

// Verification borrows warm log readers from a small pool instead of making one per call: many
// calls in a row and at once give the scan's answers, the readers made do not grow with the
// calls, and records forged after the readers are warm (one of them unparseable) are reported
// exactly as the scan reports them.
BOOST_AUTO_TEST_CASE(warm_readers_give_the_scan_answers_and_still_find_forged_records) {
  TempDir dir;
  TestService service(TestOptions("audit-index-pool", dir.path));
  const kafka::LogOptions& log = service.options().log;
  const int32_t partitions = service.app().projector().partitions();
  auto key = authz::VerifyingKey::FromPem(TestSigningKey().PublicKeyPem());
  BOOST_REQUIRE(key.ok());
  std::vector<authz::VerifyingKey> keys = {key.value()};
  LocalService scan(log, partitions, keys);
  LocalService indexed(log, partitions, keys, &service.app().store(), &service.app().projector());
  const auto accounts = OpenAccounts(service, "IDX-P-", 6, 3);

  auto verdict = [](v1::ComplianceService::Stub& stub, const std::string& account) {
    v1::VerifyAuditTrailRequest request;
    request.set_account_id(account);
    v1::VerifyAuditTrailResponse response;
    grpc::Status s = stub.VerifyAuditTrail(Context().get(), request, &response);
    return StatusText(s) + response.SerializeAsString();
  };
  std::map<std::string, std::string> expected;
  for (const auto& account : accounts) {
    expected[account] = verdict(*scan.stub, account);
    v1::VerifyAuditTrailResponse response;
    BOOST_REQUIRE(response.ParseFromString(
        expected[account].substr(expected[account].find('\n') + 1)));
    BOOST_TEST(response.intact(), "account " << account);
    BOOST_TEST(response.events_checked() == 4, "account " << account);
  }

  // In a row: one reader serves every call.
  for (int round = 0; round < 5; ++round) {
    for (const auto& account : accounts) {
      BOOST_TEST(verdict(*indexed.stub, account) == expected[account], "account " << account);
    }
  }
  BOOST_TEST(indexed.service.verification_readers() == 1);

  // At once: at most one reader more per call in flight, however many calls.
  constexpr int kThreads = 8;
  constexpr int kCallsEach = 12;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kCallsEach; ++k) {
        const std::string& account = accounts[(t + k) % accounts.size()];
        if (verdict(*indexed.stub, account) != expected[account]) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_TEST(wrong.load() == 0);
  BOOST_TEST(indexed.service.verification_readers() <= 1 + kThreads);

  // Forged records after the readers are warm: the next link signed by nobody, and bytes that
  // are no envelope. The warm readers read them from the log like any other record.
  const std::string victim = accounts[2];
  const int32_t home = kafka::PartitionFor(victim, partitions);
  v1::EventEnvelope last;
  for (const auto& e : ReadTopic(log.topic)) {
    if (e.envelope.account_id() == victim) last = e.envelope;
  }
  BOOST_REQUIRE(last.sequence() == 4);
  v1::EventEnvelope forged = last;
  forged.set_sequence(last.sequence() + 1);
  forged.set_prev_hash(last.hash());
  forged.set_event_id("forged-after-warm");
  forged.clear_signature();
  forged.set_hash(ChainHash(forged));
  ProduceRaw(log.topic, {{home, victim, forged.SerializeAsString()},
                         {home, victim, "\x01not an envelope"}});
  const std::string tampered = verdict(*scan.stub, victim);
  {
    v1::VerifyAuditTrailResponse response;
    BOOST_REQUIRE(response.ParseFromString(tampered.substr(tampered.find('\n') + 1)));
    BOOST_TEST(!response.intact());
    BOOST_TEST(response.events_checked() == 6);
  }
  for (int round = 0; round < 3; ++round) {
    for (const auto& account : accounts) {
      BOOST_TEST(verdict(*indexed.stub, account) ==
                     (account == victim ? tampered : expected[account]),
                 "account " << account);
    }
  }
  BOOST_TEST(indexed.service.scan_reads() == 0);
  BOOST_TEST(indexed.service.verification_readers() <= 1 + kThreads);
}

}  // namespace
}  // namespace collections::testing
