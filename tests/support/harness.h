#pragma once

// Test support for integration tests: a real broker (address from COLLECTIONS_TEST_BOOTSTRAP,
// started by tests/run.sh), a unique topic per test, a real ServerApp with its gRPC server on
// a free port and its RocksDB in a temporary directory.

#include "services/domain/clock.h"
#include "services/kafka/kafka.h"
#include "services/server/server_app.h"
#include "tests/support/pki.h"

#include "collections/v1/case_service.grpc.pb.h"
#include "collections/v1/events.pb.h"

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace collections::testing {

std::string Bootstrap();
// A name no other test run uses: prefix + time + random.
std::string UniqueName(const std::string& prefix);
// A fresh temporary directory, removed by the caller's TempDir.
struct TempDir {
  TempDir();
  ~TempDir();
  std::filesystem::path path;
};

// One record read back from the topic, decoded.
struct LoggedEvent {
  int32_t partition;
  int64_t offset;
  std::string key;
  std::map<std::string, std::string> headers;
  std::string raw;
  v1::EventEnvelope envelope;
};

// Every committed record of `topic`, in partition then offset order (read_committed, to the
// end of every partition).
std::vector<LoggedEvent> ReadTopic(const std::string& topic);
std::vector<LoggedEvent> ReadTopic(const std::string& topic, const std::string& bootstrap);

// The record as it was appended: key, value and headers (to append it again, elsewhere).
kafka::Record AsRecord(const LoggedEvent& event);

// Appends records in a transaction of its own and holds it open, records landed, until
// released: the last commit of a previous owner whose markers the broker has not written yet,
// or a transaction another process left open. Its Check blocks the appending thread.
class HeldOpenTransaction final : public kafka::CommitGuard {
 public:
  std::optional<std::string> Check(const std::vector<int64_t>&) override;
  void Ended(const std::vector<int64_t>&, int64_t) override {}
  void WaitLanded();
  void Release();

 private:
  std::promise<void> landed_, release_;
};

// Options for a ServerApp on its own topic, transactional prefix and projection directory,
// serving mutual TLS with the process's test PKI, the shipped access policy (plus the test
// principals below) and the process's writer signing key.
ServerOptions TestOptions(const std::string& name, const std::filesystem::path& dir);

// The process-wide test PKI (CA, server certificate, client certificates on demand) and
// writer signing key, made once per test binary in a temporary directory.
TestPki& Pki();
const authz::SigningKey& TestSigningKey();
// The principal the harness's default stubs call as: role "admin" (every command and query).
inline constexpr const char kTestPrincipal[] = "test-suite";
// The shipped access policy plus the test principals: "test-suite" (admin) and
// "<role>-1" for every role (e.g. "compliance_officer-1"), so a test can call as any role.
authz::AccessControl TestAccessControl();
// deploy/policy/access-2025.textproto in the source tree.
std::string ShippedAccessPolicyPath();
// Writes the process's writer signing key (PKCS#8 PEM) to `path` and returns `path`.
std::string WriteTestSigningKey(const std::string& path);
// Writes TestAccessControl()'s policy (protobuf text) to `path` and returns `path`.
std::string WriteTestAccessPolicy(const std::string& path);
// The flags a spawned collections-server needs to serve like a TestService: mutual TLS with
// the test PKI, the test access policy and the test signing key (files written into `dir`).
std::vector<std::string> ServerBinarySecurityFlags(const std::string& dir);
// The client certificate of `principal` from the test CA, issued once per process.
CertFiles ClientCert(const std::string& principal);
// A channel to `address` presenting the client certificate of `principal`.
std::shared_ptr<grpc::Channel> ChannelAs(const std::string& address, const std::string& principal);

// A running ServerApp plus stubs to call it.
class TestService {
 public:
  explicit TestService(ServerOptions options, const Clock* clock = nullptr);
  ~TestService();
  // Shuts the service down and starts a new one with the same options (a restart).
  void Restart();
  void Stop();

  ServerApp& app() { return *app_; }
  const ServerOptions& options() const { return options_; }
  v1::CaseCommandService::Stub& commands() { return *commands_; }
  v1::CaseQueryService::Stub& queries() { return *queries_; }
  // A channel / stubs that call as `principal` (a client certificate of the test CA).
  std::shared_ptr<grpc::Channel> channel_as(const std::string& principal);
  std::unique_ptr<v1::CaseCommandService::Stub> commands_as(const std::string& principal);
  std::unique_ptr<v1::CaseQueryService::Stub> queries_as(const std::string& principal);

 private:
  void Start();
  ServerOptions options_;
  SystemClock system_clock_;
  const Clock* clock_;
  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<v1::CaseCommandService::Stub> commands_;
  std::unique_ptr<v1::CaseQueryService::Stub> queries_;
};

// Request builders with sensible defaults.
v1::OpenCaseRequest OpenCase(const std::string& account_id, const std::string& command_id,
                             int64_t principal_minor = 100000);
v1::PostPaymentRequest PostPayment(const std::string& account_id, const std::string& command_id,
                                   const std::string& payment_id, int64_t amount_minor);
v1::ReversePaymentRequest ReversePayment(const std::string& account_id,
                                         const std::string& command_id,
                                         const std::string& payment_id);

// Calls with a 20 s deadline.
grpc::Status Call(v1::CaseCommandService::Stub& stub, const v1::OpenCaseRequest& r,
                  v1::CommandReply* out);
grpc::Status Call(v1::CaseCommandService::Stub& stub, const v1::PostPaymentRequest& r,
                  v1::CommandReply* out);
grpc::Status Call(v1::CaseCommandService::Stub& stub, const v1::ReversePaymentRequest& r,
                  v1::CommandReply* out);
grpc::Status GetAccount(v1::CaseQueryService::Stub& stub, const std::string& account_id,
                        const v1::LogPosition* min_position, v1::Account* out);

// grpc.health.v1.Health/Check of `service` ("" = overall) at `address`: 1 SERVING,
// 2 NOT_SERVING, 3 SERVICE_UNKNOWN (HealthCheckResponse.ServingStatus), or -1 when the call
// itself failed (the process does not answer).
int HealthStatus(const std::string& address, const std::string& service);

// The google.rpc details of a failed call: field of the BadRequest (or ""), ErrorInfo reason.
std::string BadRequestField(const grpc::Status& status);
std::string ErrorReason(const grpc::Status& status);

}  // namespace collections::testing
