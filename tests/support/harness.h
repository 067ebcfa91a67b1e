#pragma once

// Test support for integration tests: a real broker (address from COLLECTIONS_TEST_BOOTSTRAP,
// started by tests/run.sh), a unique topic per test, a real ServerApp with its gRPC server on
// a free port and its RocksDB in a temporary directory.

#include "services/domain/clock.h"
#include "services/server/server_app.h"

#include "collections/v1/case_service.grpc.pb.h"
#include "collections/v1/events.pb.h"

#include <grpcpp/grpcpp.h>

#include <filesystem>
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

// Options for a ServerApp on its own topic, transactional prefix and projection directory.
ServerOptions TestOptions(const std::string& name, const std::filesystem::path& dir);

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
