#include "tests/support/harness.h"

#include "services/authz/tls.h"

#include "services/kafka/kafka.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.pb.h"

#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <cstdlib>
#include <random>
#include <set>
#include <stdexcept>
#include <tuple>

namespace collections::testing {

std::string Bootstrap() {
  const char* env = std::getenv("COLLECTIONS_TEST_BOOTSTRAP");
  return env != nullptr && *env != '\0' ? env : "127.0.0.1:29092";
}

std::string UniqueName(const std::string& prefix) {
  static std::mt19937_64 rng(std::random_device{}());
  return absl::StrCat(prefix, "-", absl::ToUnixMillis(absl::Now()), "-", rng() % 1000000);
}

TempDir::TempDir() {
  path = std::filesystem::temp_directory_path() / UniqueName("collections-test");
  std::filesystem::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ignored;  // best effort: a leftover temp dir is harmless
  std::filesystem::remove_all(path, ignored);
}

std::vector<LoggedEvent> ReadTopic(const std::string& topic) {
  return ReadTopic(topic, Bootstrap());
}

std::vector<LoggedEvent> ReadTopic(const std::string& topic, const std::string& bootstrap) {
  kafka::LogOptions log;
  log.bootstrap = bootstrap;
  log.topic = topic;
  auto partitions = kafka::EnsureTopic(log);
  if (!partitions) throw std::runtime_error(partitions.error().message);
  auto reader = kafka::LogReader::Create(log, UniqueName("test-reader"));
  if (!reader) throw std::runtime_error(reader.error().message);
  std::map<int32_t, int64_t> start;
  for (int32_t p = 0; p < partitions.value(); ++p) start[p] = 0;
  if (auto e = reader.value()->Assign(start)) throw std::runtime_error(e->message);
  std::set<int32_t> ended;
  std::vector<LoggedEvent> out;
  absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (static_cast<int32_t>(ended.size()) < partitions.value()) {
    std::vector<int32_t> at_end;
    auto records = reader.value()->Poll(1000, 200, &at_end);
    if (!records) throw std::runtime_error(records.error().message);
    for (auto& r : records.value()) {
      LoggedEvent e{r.partition, r.offset, r.key, {}, r.value, {}};
      for (auto& [k, v] : r.headers) e.headers[k] = v;
      if (!e.envelope.ParseFromString(r.value)) throw std::runtime_error("unparseable record");
      out.push_back(std::move(e));
    }
    // Up to what was written before the end was first reached: an acknowledged command's
    // transaction is committed, but its markers (which let read_committed readers past it)
    // may still be on their way.
    for (int32_t p : at_end) {
      if (reader.value()->ReachedWrittenEnd(p)) ended.insert(p);
    }
    if (absl::Now() > deadline) throw std::runtime_error("reading the topic timed out");
  }
  std::sort(out.begin(), out.end(), [](const LoggedEvent& a, const LoggedEvent& b) {
    return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
  });
  return out;
}

kafka::Record AsRecord(const LoggedEvent& event) {
  return kafka::Record{event.key, event.raw, {event.headers.begin(), event.headers.end()}, 0};
}

std::optional<std::string> HeldOpenTransaction::Check(const std::vector<int64_t>&) {
  landed_.set_value();
  release_.get_future().wait();
  return std::nullopt;
}

void HeldOpenTransaction::WaitLanded() { landed_.get_future().wait(); }

void HeldOpenTransaction::Release() { release_.set_value(); }

TestPki& Pki() {
  // Lives for the whole process: the files outlive every TestService.
  static TempDir* dir = new TempDir();
  static TestPki* pki = new TestPki(dir->path / "pki");
  return *pki;
}

const authz::SigningKey& TestSigningKey() {
  static const authz::SigningKey key = authz::SigningKey::Generate();
  return key;
}

std::string ShippedAccessPolicyPath() {
  return std::string(COLLECTIONS_SOURCE_DIR) + "/deploy/policy/access-2025.textproto";
}

std::string WriteTestSigningKey(const std::string& path) {
  std::ofstream(path) << TestSigningKey().PrivateKeyPem();
  return path;
}

std::string WriteTestAccessPolicy(const std::string& path) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(TestAccessControl().policy(), &text);
  std::ofstream(path) << text;
  return path;
}

std::vector<std::string> ServerBinarySecurityFlags(const std::string& dir) {
  return {"--tls-ca=" + Pki().ca(), "--tls-cert=" + Pki().server().cert,
          "--tls-key=" + Pki().server().key,
          "--access-policy=" + WriteTestAccessPolicy(dir + "/access.textproto"),
          "--signing-key=" + WriteTestSigningKey(dir + "/writer-signing.key")};
}

authz::AccessControl TestAccessControl() {
  auto shipped = authz::AccessControl::Load(ShippedAccessPolicyPath());
  if (!shipped) throw std::runtime_error(shipped.error().message);
  v1::AccessPolicy policy = shipped->policy();
  auto add = [&](const std::string& id, const std::string& role) {
    for (const auto& p : policy.principals()) {
      if (p.id() == id) return;
    }
    auto* p = policy.add_principals();
    p->set_id(id);
    p->set_role(role);
  };
  add(kTestPrincipal, "admin");
  for (const auto& r : shipped->policy().roles()) add(r.name() + "-1", r.name());
  auto control = authz::AccessControl::FromPolicy(policy);
  if (!control) throw std::runtime_error(control.error().message);
  return control.value();
}

CertFiles ClientCert(const std::string& principal) {
  static std::mutex mutex;
  static std::map<std::string, CertFiles> issued;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = issued.find(principal);
  if (it == issued.end()) it = issued.emplace(principal, Pki().Client(principal)).first;
  return it->second;
}

std::shared_ptr<grpc::Channel> ChannelAs(const std::string& address,
                                         const std::string& principal) {
  CertFiles files = ClientCert(principal);
  auto creds = authz::MutualTlsChannelCredentials(Pki().ca(), files.cert, files.key);
  if (!creds) throw std::runtime_error(creds.error().message);
  grpc::ChannelArguments args;
  // The server certificate names localhost and 127.0.0.1; tests also dial [::1] and [::].
  args.SetSslTargetNameOverride("localhost");
  return grpc::CreateCustomChannel(address, creds.value(), args);
}

ServerOptions TestOptions(const std::string& name, const std::filesystem::path& dir) {
  ServerOptions o;
  o.tls = {Pki().ca(), Pki().server().cert, Pki().server().key};
  o.access = TestAccessControl();
  o.writer.signing_key = std::make_shared<const authz::SigningKey>(TestSigningKey());
  o.listen = "127.0.0.1:0";
  o.log.bootstrap = Bootstrap();
  o.log.topic = UniqueName(name);
  o.log.partitions = 3;
  o.writer.deployment_id = o.log.topic;
  o.db_path = (dir / "projection").string();
  return o;
}

TestService::TestService(ServerOptions options, const Clock* clock)
    : options_(std::move(options)), clock_(clock != nullptr ? clock : &system_clock_) {
  Start();
}

TestService::~TestService() { Stop(); }

void TestService::Start() {
  app_ = std::make_unique<ServerApp>(options_, *clock_);
  if (auto e = app_->Start()) throw std::runtime_error("service start: " + e->message);
  auto channel = channel_as(kTestPrincipal);
  commands_ = v1::CaseCommandService::NewStub(channel);
  queries_ = v1::CaseQueryService::NewStub(channel);
}

std::shared_ptr<grpc::Channel> TestService::channel_as(const std::string& principal) {
  if (options_.plaintext) {
    return grpc::CreateChannel(app_->address(), grpc::InsecureChannelCredentials());
  }
  return ChannelAs(app_->address(), principal);
}

std::unique_ptr<v1::CaseCommandService::Stub> TestService::commands_as(
    const std::string& principal) {
  return v1::CaseCommandService::NewStub(channel_as(principal));
}

std::unique_ptr<v1::CaseQueryService::Stub> TestService::queries_as(const std::string& principal) {
  return v1::CaseQueryService::NewStub(channel_as(principal));
}

void TestService::Stop() {
  commands_.reset();
  queries_.reset();
  if (app_) app_->Shutdown();
  app_.reset();
}

void TestService::Restart() {
  Stop();
  Start();
}

namespace {

template <typename Request>
void Fill(Request& r, const std::string& account_id, const std::string& command_id) {
  r.set_account_id(account_id);
  r.set_command_id(command_id);
  r.mutable_actor()->set_id("test-suite");
  r.mutable_actor()->set_kind(v1::ACTOR_KIND_SERVICE);
  r.mutable_actor()->set_role("system");
  r.set_correlation_id("corr-" + command_id);
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return ctx;
}

google::rpc::Status Details(const grpc::Status& status) {
  google::rpc::Status d;
  d.ParseFromString(status.error_details());
  return d;
}

}  // namespace

v1::OpenCaseRequest OpenCase(const std::string& account_id, const std::string& command_id,
                             int64_t principal_minor) {
  v1::OpenCaseRequest r;
  Fill(r, account_id, command_id);
  r.set_creditor("Acme Bank");
  r.set_debtor_name("Jane Doe");
  r.set_currency("USD");
  r.mutable_balances()->set_principal_minor(principal_minor);
  r.mutable_balances()->set_fees_minor(2500);
  r.mutable_due_date()->set_year(2025);
  r.mutable_due_date()->set_month(9);
  r.mutable_due_date()->set_day(1);
  r.set_time_zone("America/Chicago");
  auto* phone = r.mutable_contact_points()->add_phones();
  phone->set_number("+13125550100");
  phone->set_type(v1::PHONE_TYPE_CELL);
  return r;
}

v1::PostPaymentRequest PostPayment(const std::string& account_id, const std::string& command_id,
                                   const std::string& payment_id, int64_t amount_minor) {
  v1::PostPaymentRequest r;
  Fill(r, account_id, command_id);
  r.set_payment_id(payment_id);
  r.mutable_amount()->set_amount_minor(amount_minor);
  r.mutable_amount()->set_currency("USD");
  r.set_method(v1::PAYMENT_METHOD_ACH);
  return r;
}

v1::ReversePaymentRequest ReversePayment(const std::string& account_id,
                                         const std::string& command_id,
                                         const std::string& payment_id) {
  v1::ReversePaymentRequest r;
  Fill(r, account_id, command_id);
  r.set_payment_id(payment_id);
  r.set_reason(v1::REVERSAL_REASON_NSF);
  return r;
}

grpc::Status Call(v1::CaseCommandService::Stub& stub, const v1::OpenCaseRequest& r,
                  v1::CommandReply* out) {
  return stub.OpenCase(Context().get(), r, out);
}
grpc::Status Call(v1::CaseCommandService::Stub& stub, const v1::PostPaymentRequest& r,
                  v1::CommandReply* out) {
  return stub.PostPayment(Context().get(), r, out);
}
grpc::Status Call(v1::CaseCommandService::Stub& stub, const v1::ReversePaymentRequest& r,
                  v1::CommandReply* out) {
  return stub.ReversePayment(Context().get(), r, out);
}

grpc::Status GetAccount(v1::CaseQueryService::Stub& stub, const std::string& account_id,
                        const v1::LogPosition* min_position, v1::Account* out) {
  v1::GetAccountRequest r;
  r.set_account_id(account_id);
  if (min_position != nullptr) *r.mutable_min_position() = *min_position;
  return stub.GetAccount(Context().get(), r, out);
}

int HealthStatus(const std::string& address, const std::string& service) {
  // The health service has no generated C++ stub here: call the method by name.
  static const grpc::internal::RpcMethod kCheck("/grpc.health.v1.Health/Check",
                                                grpc::internal::RpcMethod::NORMAL_RPC);
  auto channel = ChannelAs(address, kTestPrincipal);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  grpc::Status s =
      grpc::internal::BlockingUnaryCall<grpc::health::v1::HealthCheckRequest,
                                        grpc::health::v1::HealthCheckResponse>(
          channel.get(), kCheck, &context, request, &response);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) return 3;
  if (!s.ok()) return -1;
  return static_cast<int>(response.status());
}

std::string BadRequestField(const grpc::Status& status) {
  google::rpc::Status details = Details(status);
  for (const auto& any : details.details()) {
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&bad) && bad.field_violations_size() > 0)
      return bad.field_violations(0).field();
  }
  return "";
}

std::string ErrorReason(const grpc::Status& status) {
  google::rpc::Status details = Details(status);
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) return info.reason();
  }
  return "";
}

}  // namespace collections::testing
