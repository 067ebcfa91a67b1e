// Who may do what, against the real broker and real TLS: the role matrix over every RPC, the
// authenticated principal as the actor, four eyes, refused connections, and the log only the
// service writes (signatures caught by verify, replay, the projectors of accounts and customers,
// and an examiner's script that uses no project code).
#define BOOST_TEST_MODULE trust
#include "services/authz/tls.h"
#include "services/domain/hashing.h"
#include "services/kafka/kafka.h"
#include "tests/support/fixture.h"

#include "collections/v1/compliance_service.grpc.pb.h"
#include "collections/v1/customer_command_service.grpc.pb.h"
#include "collections/v1/customer_query_service.grpc.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

#include <grpcpp/generic/generic_stub.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>

namespace collections::testing {
namespace {

absl::Time At(int y, int m, int d, int hh, int mm = 0) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), Zone("America/Chicago"));
}

google::rpc::ErrorInfo Info(const grpc::Status& status) {
  google::rpc::Status details;
  details.ParseFromString(status.error_details());
  google::rpc::ErrorInfo info;
  for (const auto& any : details.details()) {
    if (any.UnpackTo(&info)) break;
  }
  return info;
}

std::string Meta(const grpc::Status& status, const std::string& key) {
  auto info = Info(status);
  auto it = info.metadata().find(key);
  return it == info.metadata().end() ? "" : it->second;
}

// Calls `method` with an empty request over a generic stub: the door answers before any
// request field matters.
grpc::Status CallEmpty(grpc::Channel& channel, const std::string& method, bool server_streaming) {
  grpc::GenericStub stub(channel.shared_from_this());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  grpc::ByteBuffer request;  // empty = every field at its default
  grpc::Slice empty("", 0);
  request = grpc::ByteBuffer(&empty, 1);
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&ctx, method, &cq);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  call->Write(request, grpc::WriteOptions().set_last_message(), reinterpret_cast<void*>(2));
  cq.Next(&tag, &ok);
  // Drain what a streaming method sends, then take the status.
  grpc::ByteBuffer response;
  for (;;) {
    call->Read(&response, reinterpret_cast<void*>(3));
    cq.Next(&tag, &ok);
    if (!ok || !server_streaming) break;
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

int CountEvents(const TestService& service) {
  return static_cast<int>(ReadTopic(service.options().log.topic).size());
}

template <typename Request>
void Stamp(Request& r, const std::string& account, const std::string& command_id) {
  r.set_account_id(account);
  r.set_command_id(command_id);
}

BOOST_AUTO_TEST_CASE(role_matrix_over_every_rpc_for_every_example_principal) {
  TempDir dir;
  TestService service(TestOptions("trust-matrix", dir.path));
  const authz::AccessControl policy = TestAccessControl();
  const std::vector<std::string> principals = {"dialer-1",         "collector-1",
                                               "supervisor-1",     "compliance-officer-1",
                                               "reporting-reader", "admin",
                                               "stranger"};
  int allowed = 0, denied = 0;
  for (const char* name : {"collections.v1.CaseCommandService", "collections.v1.CaseQueryService",
                           "collections.v1.ComplianceService", "collections.v1.ReportingService",
                           "collections.v1.CustomerCommandService"}) {
    const auto* svc = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    BOOST_REQUIRE(svc != nullptr);
    for (const auto& principal : principals) {
      auto channel = service.channel_as(principal);
      for (int m = 0; m < svc->method_count(); ++m) {
        const auto* method = svc->method(m);
        const std::string full = "/" + std::string(name) + "/" + method->name();
        const bool expect = policy.Check(principal, full).allowed;
        grpc::Status s = CallEmpty(*channel, full, method->server_streaming());
        if (expect) {
          ++allowed;
          BOOST_TEST((s.error_code() != grpc::StatusCode::PERMISSION_DENIED &&
                      s.error_code() != grpc::StatusCode::UNAUTHENTICATED),
                     principal << " " << full << ": " << s.error_message());
        } else {
          ++denied;
          BOOST_TEST(s.error_code() == grpc::StatusCode::PERMISSION_DENIED,
                     principal << " " << full << ": " << s.error_code() << " "
                               << s.error_message());
          BOOST_TEST(Meta(s, "principal") == principal, full);
          BOOST_TEST(Meta(s, "role") == policy.RoleOf(principal), full);
          BOOST_TEST(Meta(s, "policy_version") == "access-2025.1");
          BOOST_TEST(!Info(s).reason().empty());
        }
      }
    }
  }
  BOOST_TEST(allowed > 50);
  BOOST_TEST(denied > 50);
  // Every request was empty or refused at the door: nothing reached the log.
  BOOST_TEST(CountEvents(service) == 0);
}

BOOST_AUTO_TEST_CASE(a_call_outside_the_matrix_appends_nothing_and_says_who_may) {
  ClockedService t(At(2025, 9, 1, 10), "trust-outside");
  t.Must(&Stub::OpenCase, OpenCase("ACC-1", "open"), "ACC-1", "admin");
  const int before = CountEvents(t.service);
  v1::PostAdjustmentRequest adj;
  adj.set_adjustment_id("A1");
  adj.set_kind(v1::ADJUSTMENT_KIND_CREDIT_MEMO);
  adj.mutable_amounts()->set_fees_minor(100);
  adj.set_reason("goodwill");
  auto s = t.Send(&Stub::PostAdjustment, adj, "ACC-1", "dialer");
  BOOST_TEST(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  BOOST_TEST(ErrorReason(s) == "RPC_NOT_ALLOWED");
  BOOST_TEST(Meta(s, "principal") == "dialer-1");
  BOOST_TEST(Meta(s, "role") == "dialer");
  BOOST_TEST(Meta(s, "roles_allowed") == "admin,supervisor");
  BOOST_TEST(CountEvents(t.service) == before);
}

BOOST_AUTO_TEST_CASE(the_actor_is_the_authenticated_principal_never_the_request) {
  ClockedService t(At(2025, 9, 1, 10), "trust-actor");
  // A collector desktop claims to be a compliance officer and acts for its user "jane".
  v1::OpenCaseRequest open = OpenCase("ACC-1", "open");
  t.Must(&Stub::OpenCase, open, "ACC-1", "admin");
  v1::PostPaymentRequest pay = PostPayment("ACC-1", "pay", "P1", 1000);
  pay.mutable_actor()->set_id("mallory");
  pay.mutable_actor()->set_role("compliance_officer");
  pay.mutable_actor()->set_on_behalf_of("jane");
  grpc::ClientContext ctx;
  v1::CommandReply reply;
  auto desktop = t.service.commands_as("collector-desktop");
  BOOST_REQUIRE(desktop->PostPayment(&ctx, pay, &reply).ok());
  auto events = ReadTopic(t.service.options().log.topic);
  const auto& e = events.back().envelope;
  BOOST_TEST(e.has_payment_posted());
  BOOST_TEST(e.actor().id() == "collector-desktop");
  BOOST_TEST(e.actor().role() == "collector");
  BOOST_TEST(e.actor().on_behalf_of() == "jane");

  // A dialer may not act for anyone.
  v1::RecordContactAttemptRequest call;
  Stamp(call, "ACC-1", "call");
  call.set_contact_id("C1");
  call.set_channel(v1::CONTACT_CHANNEL_CALL);
  call.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  call.set_address("+13125550100");
  call.set_phone_type(v1::PHONE_TYPE_CELL);
  call.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
  call.mutable_actor()->set_on_behalf_of("jane");
  grpc::ClientContext ctx2;
  auto dialer = t.service.commands_as("dialer-1");
  auto s = dialer->RecordContactAttempt(&ctx2, call, &reply);
  BOOST_TEST(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  BOOST_TEST(ErrorReason(s) == "ON_BEHALF_OF_NOT_ALLOWED");
  BOOST_TEST(CountEvents(t.service) == static_cast<int>(events.size()));
}

BOOST_AUTO_TEST_CASE(four_eyes_on_settlements_and_denied_attempts_on_the_trail) {
  ClockedService t(At(2025, 9, 1, 10), "trust-four-eyes");
  t.Must(&Stub::OpenCase, OpenCase("ACC-1", "open"), "ACC-1", "admin");
  auto settle = [](const std::string& id) {
    v1::AgreeSettlementRequest r;
    r.set_settlement_id(id);
    r.mutable_amount()->set_amount_minor(30000);  // 29% of 102500: below the 60% minimum
    r.mutable_amount()->set_currency("USD");
    *r.mutable_due_date() = Date(2025, 9, 30);
    return r;
  };
  // A supervisor cannot agree one nobody else asked for.
  auto own = t.Send(&Stub::AgreeSettlement, settle("S0"), "ACC-1", "supervisor");
  BOOST_TEST(own.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  BOOST_TEST(ErrorReason(own) == "SELF_APPROVAL");
  // The collector asks: refused, and the request is recorded for a supervisor.
  auto asked = t.Send(&Stub::AgreeSettlement, settle("S1"), "ACC-1", "collector");
  BOOST_TEST(asked.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  BOOST_TEST(ErrorReason(asked) == "SUPERVISOR_APPROVAL_REQUIRED");
  BOOST_TEST(Meta(asked, "roles_allowed") == "supervisor");
  // A supervisor who asks through the collector desktop cannot approve their own request.
  v1::AgreeSettlementRequest via_desktop = settle("S2");
  Stamp(via_desktop, "ACC-1", "ask-s2");
  via_desktop.mutable_actor()->set_on_behalf_of("supervisor-2");
  grpc::ClientContext ctx;
  v1::CommandReply reply;
  auto desktop = t.service.commands_as("collector-desktop");
  auto s2 = desktop->AgreeSettlement(&ctx, via_desktop, &reply);
  BOOST_TEST(ErrorReason(s2) == "SUPERVISOR_APPROVAL_REQUIRED");
  v1::AgreeSettlementRequest approve_s2 = settle("S2");
  Stamp(approve_s2, "ACC-1", "approve-s2");
  grpc::ClientContext ctx2;
  auto self = t.service.commands_as("supervisor-2")->AgreeSettlement(&ctx2, approve_s2, &reply);
  BOOST_TEST(self.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  BOOST_TEST(ErrorReason(self) == "SELF_APPROVAL");
  // Another supervisor approves the collector's request.
  t.Must(&Stub::AgreeSettlement, settle("S1"), "ACC-1", "supervisor");
  BOOST_TEST(t.Account().settlement().approved_by() == "supervisor-1");

  int denials = 0;
  bool agreed = false;
  for (const auto& e : ReadTopic(t.service.options().log.topic)) {
    if (e.envelope.has_access_denied()) {
      ++denials;
      BOOST_TEST(e.envelope.actor().id() == e.envelope.access_denied().principal());
      BOOST_TEST(!e.envelope.access_denied().command_request().empty());
    }
    if (e.envelope.has_settlement_agreed()) {
      agreed = true;
      BOOST_TEST(e.envelope.actor().id() == "supervisor-1");
    }
  }
  BOOST_TEST(denials == 4);  // S0 self, S1 asked, S2 asked, S2 self-approval
  BOOST_TEST(agreed);
}

BOOST_AUTO_TEST_CASE(four_eyes_on_overrides_and_a_denied_override_is_recorded) {
  ClockedService t(At(2025, 9, 1, 10), "trust-override");
  v1::OpenCaseRequest open = OpenCase("D1", "open");
  open.set_third_party_collector(true);
  open.set_jurisdiction("IL");
  t.Must(&Stub::OpenCase, open, "D1", "admin");
  v1::UpdateFlagRequest attorney;
  attorney.set_reason("consumer named an attorney");
  attorney.mutable_attorney()->set_represented(true);
  attorney.mutable_attorney()->mutable_attorney()->set_name("Sam Lawyer");
  attorney.mutable_attorney()->mutable_attorney()->set_phone("+13125550199");
  t.Must(&Stub::UpdateFlag, attorney, "D1", "collector");
  // The blocked call is made by the collector desktop for compliance-officer-1.
  v1::RecordContactAttemptRequest call;
  Stamp(call, "D1", "call-1");
  call.set_contact_id("C1");
  call.set_channel(v1::CONTACT_CHANNEL_CALL);
  call.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  call.set_address("+13125550100");
  call.set_phone_type(v1::PHONE_TYPE_CELL);
  call.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
  call.mutable_content()->set_has_debt_collector_disclosure(true);
  call.mutable_actor()->set_on_behalf_of("compliance-officer-1");
  grpc::ClientContext ctx;
  v1::CommandReply reply;
  auto blocked = t.service.commands_as("collector-desktop")->RecordContactAttempt(&ctx, call, &reply);
  BOOST_TEST(ErrorReason(blocked) == "F5");

  v1::AuthorizeOverrideRequest override;
  override.set_override_id("OV1");
  override.set_rule_id("F5");
  override.set_command("RecordContactAttempt");
  override.set_reason("attorney did not respond in 30 days (documented)");
  // A supervisor may call the RPC but holds no override privilege: refused and recorded.
  auto supervisor = t.Send(&Stub::AuthorizeOverride, override, "D1", "supervisor");
  BOOST_TEST(supervisor.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  BOOST_TEST(ErrorReason(supervisor) == "COMPLIANCE_OFFICER_REQUIRED");
  // The officer the blocked command was issued for cannot override it.
  grpc::ClientContext ctx2;
  Stamp(override, "D1", "ov-self");
  auto self = t.service.commands_as("compliance-officer-1")->AuthorizeOverride(&ctx2, override, &reply);
  BOOST_TEST(self.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  BOOST_TEST(ErrorReason(self) == "SELF_OVERRIDE");
  // Another officer can.
  grpc::ClientContext ctx3;
  Stamp(override, "D1", "ov-other");
  auto other = t.service.commands_as("compliance-officer-2")->AuthorizeOverride(&ctx3, override, &reply);
  BOOST_TEST(other.ok(), other.error_message());

  std::vector<std::string> trail;
  for (const auto& e : ReadTopic(t.service.options().log.topic)) {
    if (e.envelope.has_access_denied()) {
      trail.push_back("denied " + e.envelope.access_denied().principal() + " " +
                      e.envelope.access_denied().reason());
    }
    if (e.envelope.has_compliance_override_granted()) {
      trail.push_back("granted " + e.envelope.actor().id());
    }
  }
  BOOST_TEST((trail == std::vector<std::string>{
                           "denied supervisor-1 COMPLIANCE_OFFICER_REQUIRED",
                           "denied compliance-officer-1 SELF_OVERRIDE",
                           "granted compliance-officer-2"}));
}

BOOST_AUTO_TEST_CASE(no_certificate_expired_or_foreign_fail_before_any_rpc_and_append_nothing) {
  TempDir dir;
  TestService service(TestOptions("trust-tls", dir.path));
  const std::string address = service.app().address();
  auto attempt = [&](std::shared_ptr<grpc::ChannelCredentials> creds) {
    auto stub = v1::CaseCommandService::NewStub(grpc::CreateChannel(address, creds));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::CommandReply reply;
    return stub->OpenCase(&ctx, OpenCase("ACC-1", "open"), &reply);
  };
  auto expired = Pki().Client("admin", TestPki::Validity::kExpired);
  auto future = Pki().Client("admin", TestPki::Validity::kNotYetValid);
  auto foreign = Pki().Foreign("admin");
  std::map<std::string, std::shared_ptr<grpc::ChannelCredentials>> cases = {
      {"no certificate", authz::MutualTlsChannelCredentials(Pki().ca(), "", "").value()},
      {"expired", authz::MutualTlsChannelCredentials(Pki().ca(), expired.cert, expired.key).value()},
      {"not yet valid",
       authz::MutualTlsChannelCredentials(Pki().ca(), future.cert, future.key).value()},
      {"another CA", authz::MutualTlsChannelCredentials(Pki().ca(), foreign.cert, foreign.key).value()},
      {"plaintext", grpc::InsecureChannelCredentials()},
  };
  for (const auto& [what, creds] : cases) {
    grpc::Status s = attempt(creds);
    // The server ends the TLS handshake; gRPC clients see UNAVAILABLE before any RPC runs.
    BOOST_TEST(s.error_code() == grpc::StatusCode::UNAVAILABLE,
               what << ": " << s.error_code() << " " << s.error_message());
  }
  // A valid certificate works on the same server.
  v1::CommandReply reply;
  BOOST_TEST(Call(service.commands(), OpenCase("ACC-2", "open"), &reply).ok());
  auto events = ReadTopic(service.options().log.topic);
  for (const auto& e : events) BOOST_TEST(e.envelope.account_id() == "ACC-2");
}

BOOST_AUTO_TEST_CASE(plaintext_only_on_loopback_and_tls_needs_its_files) {
  TempDir dir;
  ServerOptions o = TestOptions("trust-plaintext", dir.path);
  o.plaintext = true;
  o.listen = "0.0.0.0:0";
  SystemClock clock;
  {
    ServerApp app(o, clock);
    auto e = app.Start();
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(e->message.find("loopback") != std::string::npos, e->message);
  }
  o.plaintext = false;
  o.tls.cert_path = (dir.path / "missing.pem").string();
  {
    ServerApp app(o, clock);
    auto e = app.Start();
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(e->message.find("missing.pem") != std::string::npos, e->message);
  }
}

// Appends a record to the stream's partition as someone other than the writer would: a
// valid-looking next event of `last`'s stream (an account's or a customer's), chained
// correctly, signed with `key`. `payload` sets what it says (default: a credit adjustment of
// 1,000.00 on an account).
void Forge(const ServerOptions& options, const v1::EventEnvelope& last, const authz::SigningKey& key,
           int32_t partitions,
           const std::function<void(v1::EventEnvelope&)>& payload = nullptr) {
  v1::EventEnvelope forged;
  forged.set_event_id(NewUuid());
  forged.set_account_id(last.account_id());
  forged.set_customer_id(last.customer_id());
  forged.set_sequence(last.sequence() + 1);
  forged.set_command_id("forged");
  forged.mutable_actor()->set_id("collections-writer");
  forged.mutable_actor()->set_role("system");
  forged.set_command_event_count(1);
  forged.set_command_event_index(0);
  if (payload) {
    payload(forged);
  } else {
    forged.mutable_adjustment_posted()->set_adjustment_id("FORGED");
    forged.mutable_adjustment_posted()->set_kind(v1::ADJUSTMENT_KIND_CREDIT_MEMO);
    forged.mutable_adjustment_posted()->mutable_decrease()->set_principal_minor(100000);
  }
  *forged.mutable_recorded_at() = last.recorded_at();
  *forged.mutable_occurred_at() = last.occurred_at();
  forged.set_prev_hash(last.hash());
  forged.set_hash(ChainHash(forged));
  authz::SignRun(key, {&forged});
  auto producer = kafka::TransactionalProducer::Create(options.log, UniqueName("forger"));
  BOOST_REQUIRE(producer.ok());
  // Init is resumable: the first call can time out while the coordinator loads.
  Status init = producer.value()->Init(30000);
  for (int i = 0; init && i < 10; ++i) init = producer.value()->Init(30000);
  BOOST_REQUIRE_MESSAGE(!init, init->message);
  kafka::Record record;
  record.key = last.account_id();
  record.value = forged.SerializeAsString();
  auto appended = producer.value()->Append(kafka::PartitionFor(last.account_id(), partitions),
                                           {record});
  BOOST_REQUIRE_MESSAGE(appended.outcome == kafka::AppendResult::Outcome::kCommitted,
                        appended.message);
}

std::unique_ptr<v1::ComplianceService::Stub> Compliance(TestService& service) {
  return v1::ComplianceService::NewStub(service.channel_as("compliance-officer-1"));
}

void WriteExport(TestService& service, const std::string& account, const std::string& path) {
  auto stub = Compliance(service);
  v1::GetAuditTrailRequest request;
  request.set_account_id(account);
  request.set_page_size(1000);
  grpc::ClientContext ctx;
  v1::GetAuditTrailResponse page;
  auto s = stub->GetAuditTrail(&ctx, request, &page);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
  std::ofstream out(path);
  for (const auto& entry : page.entries()) {
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    BOOST_REQUIRE(google::protobuf::util::MessageToJsonString(entry, &json, options).ok());
    out << json << "\n";
  }
}

int Examine(const std::string& export_path, const std::string& public_key_path) {
  std::string command = std::string(COLLECTIONS_VENV_PYTHON) + " " + COLLECTIONS_EXAMINER_SCRIPT +
                        " --descriptor-set " + COLLECTIONS_DESCRIPTOR_SET + " --public-key " +
                        public_key_path + " " + export_path;
  int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

BOOST_AUTO_TEST_CASE(a_record_signed_with_the_wrong_key_is_caught_everywhere) {
  TempDir dir;
  TestService service(TestOptions("trust-forged", dir.path));
  v1::CommandReply reply;
  BOOST_REQUIRE(Call(service.commands(), OpenCase("ACC-F", "open"), &reply).ok());
  BOOST_REQUIRE(Call(service.commands(), OpenCase("ACC-G", "open"), &reply).ok());
  auto events = ReadTopic(service.options().log.topic);
  v1::EventEnvelope last;
  for (const auto& e : events) {
    if (e.envelope.account_id() == "ACC-F") last = e.envelope;
  }
  BOOST_REQUIRE(last.has_signature());
  Forge(service.options(), last, authz::SigningKey::Generate(), service.options().log.partitions);

  // VerifyAuditTrail names the forged event.
  auto compliance = Compliance(service);
  v1::VerifyAuditTrailRequest verify;
  verify.set_account_id("ACC-F");
  v1::VerifyAuditTrailResponse verdict;
  grpc::ClientContext ctx;
  BOOST_REQUIRE(compliance->VerifyAuditTrail(&ctx, verify, &verdict).ok());
  BOOST_TEST(!verdict.intact());
  BOOST_REQUIRE(verdict.breaks_size() >= 1);
  BOOST_TEST(verdict.breaks(0).kind() == v1::CHAIN_BREAK_KIND_UNKNOWN_KEY);
  BOOST_TEST(verdict.breaks(0).sequence() == last.sequence() + 1);
  // The other account is intact.
  verify.set_account_id("ACC-G");
  grpc::ClientContext ctx_g;
  BOOST_REQUIRE(compliance->VerifyAuditTrail(&ctx_g, verify, &verdict).ok());
  BOOST_TEST(verdict.intact());

  // ReplayAccount marks the step and does not apply it.
  v1::ReplayAccountRequest replay;
  replay.set_account_id("ACC-F");
  grpc::ClientContext ctx2;
  auto stream = compliance->ReplayAccount(&ctx2, replay);
  std::vector<v1::ReplayStep> steps;
  v1::ReplayStep step;
  while (stream->Read(&step)) steps.push_back(step);
  BOOST_REQUIRE(stream->Finish().ok());
  BOOST_REQUIRE(!steps.empty());
  BOOST_TEST(steps.back().integrity() == "UNKNOWN_KEY");
  BOOST_TEST(steps.back().state_after().version() == last.sequence());
  BOOST_TEST(steps.front().integrity() == "");

  // The projection quarantines the account at its last genuine event.
  v1::Account account;
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  do {
    BOOST_REQUIRE(GetAccount(service.queries(), "ACC-F", nullptr, &account).ok());
  } while (!account.has_quarantine() && absl::Now() < deadline &&
           (absl::SleepFor(absl::Milliseconds(100)), true));
  BOOST_TEST(account.quarantine().reason() == "UNKNOWN_KEY");
  BOOST_TEST(account.quarantine().sequence() == last.sequence() + 1);
  BOOST_TEST(account.version() == last.sequence());
  BOOST_TEST(account.balances().principal_minor() == 100000);  // the forged write-off not applied

  // The examiner's script, with the public key alone, rejects the export too.
  const std::string pub = (dir.path / "writer.pub.pem").string();
  std::ofstream(pub) << TestSigningKey().PublicKeyPem();
  WriteExport(service, "ACC-F", (dir.path / "forged.jsonl").string());
  BOOST_TEST(Examine((dir.path / "forged.jsonl").string(), pub) == 1);

  // After a restart the writer restores through the same gate and refuses the account.
  service.Restart();
  auto refused = Call(service.commands(), PostPayment("ACC-F", "pay", "P1", 100), &reply);
  BOOST_TEST(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  BOOST_TEST(ErrorReason(refused) == "ACCOUNT_QUARANTINED");
  BOOST_TEST(Call(service.commands(), PostPayment("ACC-G", "pay", "P1", 100), &reply).ok());
}

BOOST_AUTO_TEST_CASE(a_record_forged_onto_a_customer_stream_is_not_shown) {
  TempDir dir;
  TestService service(TestOptions("trust-forged-customer", dir.path));
  auto commands = v1::CustomerCommandService::NewStub(service.channel_as(kTestPrincipal));
  auto queries = v1::CustomerQueryService::NewStub(service.channel_as("collector-1"));
  v1::CommandReply reply;
  auto send = [&](auto rpc, auto request, const std::string& command_id) {
    request.set_customer_id("C-F");
    request.set_command_id(command_id);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Status s = ((*commands).*rpc)(&ctx, request, &reply);
    BOOST_REQUIRE_MESSAGE(s.ok(), command_id << ": " << s.error_message());
  };
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), Zone("America/Chicago"));
  auto local = [](absl::CivilDay d) { return Date(d.year(), d.month(), d.day()); };
  {
    v1::OpenCustomerRequest open;
    open.set_kind(v1::CUSTOMER_KIND_COMPANY);
    open.set_name("Fabrikam");
    open.set_commercial(true);
    open.set_currency("USD");
    open.set_time_zone("America/Chicago");
    open.set_cash_application_rule(v1::CASH_APPLICATION_RULE_OLDEST_FIRST);
    send(&v1::CustomerCommandService::Stub::OpenCustomer, open, "open");
    v1::LinkCustomerAccountRequest link;
    link.set_linked_account_id("ACC-CF");
    link.set_reason("master agreement");
    send(&v1::CustomerCommandService::Stub::LinkCustomerAccount, link, "link");
    v1::RecordInvoiceRequest invoice;
    invoice.mutable_invoice()->set_invoice_id("INV-1");
    invoice.mutable_invoice()->set_number("N-1");
    invoice.mutable_invoice()->set_account_id("ACC-CF");
    *invoice.mutable_invoice()->mutable_invoice_date() = local(today - 5);
    *invoice.mutable_invoice()->mutable_due_date() = local(today + 25);
    invoice.mutable_invoice()->mutable_amount()->set_amount_minor(100000);
    invoice.mutable_invoice()->mutable_amount()->set_currency("USD");
    send(&v1::CustomerCommandService::Stub::RecordInvoice, invoice, "inv-1");
  }
  v1::EventEnvelope last;
  for (const auto& e : ReadTopic(service.options().log.topic)) {
    if (e.envelope.account_id() == "customer/C-F") last = e.envelope;
  }
  BOOST_REQUIRE(last.has_signature());
  BOOST_REQUIRE(last.sequence() == reply.version());
  // Someone with access to the topic credits the whole invoice, signing with a key of theirs.
  Forge(service.options(), last, authz::SigningKey::Generate(), service.options().log.partitions,
        [](v1::EventEnvelope& e) {
          auto* memo = e.mutable_invoice_adjusted();
          memo->set_adjustment_id("FORGED");
          memo->set_invoice_id("INV-1");
          memo->set_account_id("ACC-CF");
          memo->set_kind(v1::INVOICE_ADJUSTMENT_KIND_CREDIT_MEMO);
          memo->set_amount_minor(100000);
          memo->set_reason("forged");
        });

  // GetCustomer shows the customer quarantined at its last genuine event, the invoice still
  // owed in full.
  v1::GetCustomerRequest get;
  get.set_customer_id("C-F");
  v1::GetCustomerResponse customer;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  do {
    grpc::ClientContext ctx;
    grpc::Status s = queries->GetCustomer(&ctx, get, &customer);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
  } while (!customer.has_quarantine() && absl::Now() < deadline &&
           (absl::SleepFor(absl::Milliseconds(100)), true));
  BOOST_REQUIRE(customer.has_quarantine());
  BOOST_TEST(customer.quarantine().reason() == "UNKNOWN_KEY");
  BOOST_TEST(customer.quarantine().sequence() == last.sequence() + 1);
  BOOST_TEST(customer.version() == last.sequence());
  BOOST_TEST(customer.name() == "Fabrikam");
  BOOST_TEST(customer.totals().open_minor() == 100000);
  BOOST_REQUIRE(customer.invoices_size() == 1);
  BOOST_TEST(customer.invoices(0).open_minor() == 100000);
  BOOST_TEST(customer.invoices(0).credited_minor() == 0);

  // The statement holds the invoice and no credit memo.
  auto statements = v1::CustomerQueryService::NewStub(service.channel_as("reporting-reader"));
  v1::GetCustomerReconciliationRequest period;
  period.set_customer_id("C-F");
  *period.mutable_from() = local(today - 10);
  *period.mutable_to() = local(today + 1);
  v1::GetCustomerReconciliationResponse statement;
  grpc::ClientContext ctx;
  grpc::Status s = statements->GetCustomerReconciliation(&ctx, period, &statement);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
  BOOST_TEST(statement.statement().credit_memos_minor() == 0);
  BOOST_TEST(statement.statement().closing_balance_minor() == 100000);
  for (const auto& line : statement.statement().lines()) {
    BOOST_TEST(line.kind() != v1::STATEMENT_LINE_KIND_CREDIT_MEMO);
  }
}

BOOST_AUTO_TEST_CASE(an_examiner_verifies_an_export_with_the_public_key_alone) {
  ClockedService t(At(2025, 9, 1, 10), "trust-examiner");
  t.Must(&Stub::OpenCase, OpenCase("ACC-1", "open"), "ACC-1", "admin");
  t.Must(&Stub::PostPayment, PostPayment("ACC-1", "pay", "P1", 20000), "ACC-1", "collector");
  t.Must(&Stub::ReversePayment, ReversePayment("ACC-1", "rev", "P1"), "ACC-1", "supervisor");
  t.AdvanceTo(At(2025, 10, 15, 10));  // time-driven events (aging) are signed too
  const std::string pub = (t.dir.path / "writer.pub.pem").string();
  std::ofstream(pub) << TestSigningKey().PublicKeyPem();
  const std::string good = (t.dir.path / "acc-1.jsonl").string();
  WriteExport(t.service, "ACC-1", good);
  BOOST_TEST(Examine(good, pub) == 0);

  // Another key: nothing verifies.
  const std::string other = (t.dir.path / "other.pub.pem").string();
  std::ofstream(other) << authz::SigningKey::Generate().PublicKeyPem();
  BOOST_TEST(Examine(good, other) == 1);

  // One changed amount in the export: caught.
  std::ifstream in(good);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto at = text.find("\"amount_minor\":\"20000\"");
  BOOST_REQUIRE(at != std::string::npos);
  text.replace(at, 22, "\"amount_minor\":\"2000\"");
  const std::string tampered = (t.dir.path / "tampered.jsonl").string();
  std::ofstream(tampered) << text;
  BOOST_TEST(Examine(tampered, pub) == 1);
}

}  // namespace
}  // namespace collections::testing
