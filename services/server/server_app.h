#pragma once

#include "projections/compliance/compliance_service.h"
#include "projections/customer/customer_projector.h"
#include "projections/customer/customer_query_service.h"
#include "projections/customer/customer_store.h"
#include "projections/projector/projector.h"
#include "projections/query/case_query_service.h"
#include "projections/reporting/reporting_projector.h"
#include "projections/reporting/reporting_service.h"
#include "projections/reporting/reporting_store.h"
#include "projections/store/store.h"
#include "services/api/admission.h"
#include "services/api/case_command_service.h"
#include "services/api/customer_command_service.h"
#include "services/authz/access_control.h"
#include "services/authz/call_guard.h"
#include "services/authz/tls.h"
#include "services/domain/clock.h"
#include "services/metrics/http_server.h"
#include "services/metrics/kafka_statistics.h"
#include "services/metrics/metrics.h"
#include "services/peer/peer_command_service.h"
#include "services/peer/peer_forwarder.h"
#include "services/writer/writer.h"

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <condition_variable>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <string>

namespace collections {

struct ServerOptions {
  // gRPC listen address. Port 0 picks a free port (see ServerApp::port()).
  std::string listen = "127.0.0.1:50051";
  kafka::LogOptions log;
  WriterOptions writer;
  // The projection's RocksDB directory.
  std::string db_path = ".local/projection";
  // Delete the projection and rebuild it from offset 0 before serving.
  bool rebuild_projection = false;
  // The reporting projection's own RocksDB directory; empty = db_path + "-reporting". A
  // rebuild (rebuild_projection) rebuilds it too.
  std::string reporting_db_path;
  // The customer projection's own RocksDB directory; empty = db_path + "-customers". A rebuild
  // (rebuild_projection) rebuilds it too.
  std::string customer_db_path;
  // The partition writers' own RocksDB stores (one per partition below it); empty = db_path +
  // "-writer". Deleting it is safe: the writers then restore from the log, offset 0.
  std::string writer_store_path;
  reporting::ReportingOptions reporting;
  // HTTP address serving Prometheus metrics at /metrics; empty = no endpoint (the metrics are
  // still kept). Port 0 picks a free port (see ServerApp::metrics_port()).
  std::string metrics_listen;
  // Rate limit, concurrent log reads, parked waits, request size and server threads.
  AdmissionOptions admission;
  // How long a shutdown may take, whatever the broker does: queued commands are answered
  // UNAVAILABLE at once, calls in flight get about half of it, then writers and projectors
  // close their Kafka clients without waiting for an unreachable broker.
  int shutdown_grace_ms = 10000;
  // How often health is re-evaluated.
  int health_interval_ms = 200;
  // Transport security of the gRPC port: mutual TLS with these files (the default). A server
  // without them refuses to start unless `plaintext` is set.
  authz::TlsOptions tls;
  // Serve without TLS: only allowed on a loopback `listen` address (Start refuses any other);
  // every call is then served as `plaintext_principal`.
  bool plaintext = false;
  std::string plaintext_principal = "admin";
  // Who may do what (deploy/policy/access-2025.textproto). Required.
  std::optional<authz::AccessControl> access;
};

// Every gRPC server the product starts refuses a port another process already listens on
// (GRPC_ARG_ALLOW_REUSEPORT = 0): BuildAndStart then fails instead of sharing the port.
void DisallowPortSharing(grpc::ServerBuilder& builder);

// A deployment identity (WriterOptions::deployment_id) is 1 to kMaxDeploymentIdBytes letters,
// digits, '.', '_' or '-'; anything else is INVALID_ARGUMENT naming `flag`.
inline constexpr size_t kMaxDeploymentIdBytes = 100;
Status ValidateDeploymentId(const std::string& id, const std::string& flag);

// What the health service reports, per service name ("" = the whole process).
struct HealthReport {
  bool commands = false;    // every partition writer serving
  bool queries = false;     // the account projection caught up with the log
  bool compliance = false;  // the log reachable (no writer recovering)
  bool reporting = false;   // the reporting projection caught up with the log
  bool customers = false;   // the customer projection caught up with the log
  bool all() const { return commands && queries && compliance && reporting && customers; }
};

// The whole service in one process: partition writers, projector, RocksDB store and the gRPC
// server (CaseCommandService, CaseQueryService, health checking, reflection, and the internal
// PeerCommandService the deployment's processes forward commands through). main() and the
// integration tests build it the same way. Start() blocks until every partition is restored
// and the server listens; a monitor thread then keeps the gRPC health service truthful per
// service name. Shutdown() (bounded by shutdown_grace_ms) stops accepting calls, then the
// writers, then the projectors. Not copyable; one instance per process (or per test).
class ServerApp {
 public:
  ServerApp(ServerOptions options, const Clock& clock);
  ~ServerApp();

  Status Start();
  void Shutdown();
  void Wait();

  // The service names the health service answers for.
  static constexpr const char* kCommandService = "collections.v1.CaseCommandService";
  // Served by the same writers as kCommandService: healthy when they are.
  static constexpr const char* kCustomerCommandService = "collections.v1.CustomerCommandService";
  static constexpr const char* kQueryService = "collections.v1.CaseQueryService";
  static constexpr const char* kComplianceService = "collections.v1.ComplianceService";
  static constexpr const char* kReportingService = "collections.v1.ReportingService";
  static constexpr const char* kCustomerQueryService = "collections.v1.CustomerQueryService";
  // The health as it is now (what the monitor publishes).
  HealthReport Health() const;

  int port() const { return port_; }
  std::string address() const;
  CommandRouter& router() { return *router_; }
  Projector& projector() { return *projector_; }
  Admission& admission() { return *admission_; }
  ProjectionStore& store() { return *store_; }
  reporting::ReportingProjector& reporting_projector() { return *reporting_projector_; }
  reporting::ReportingStore& reporting_store() { return *reporting_store_; }
  authz::CallGuard& guard() { return *guard_; }
  std::string reporting_db_path() const;
  customer::CustomerProjector& customer_projector() { return *customer_projector_; }
  customer::CustomerStore& customer_store() { return *customer_store_; }
  std::string customer_db_path() const;
  metrics::Registry& metrics() { return metrics_; }
  int metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }

 private:
  ServerOptions options_;
  const Clock& clock_;
  std::unique_ptr<authz::CallGuard> guard_;
  // Declared first: every component below may update it until it is destroyed.
  metrics::Registry metrics_;
  std::unique_ptr<metrics::MetricsServer> metrics_server_;
  std::unique_ptr<metrics::KafkaStatistics> kafka_statistics_;
  // Registers the components' metrics and the hooks that feed them (server_metrics.cc); the
  // scrape-time hook reads the components only between StartCollecting (all started) and
  // StopCollecting (shutdown begins).
  void RegisterMetrics();
  void StartCollecting();
  void StopCollecting();
  std::mutex collect_mutex_;
  bool collectable_ = false;  // guarded by collect_mutex_
  std::unique_ptr<Admission> admission_;
  // Commands of partitions other processes own go to them through it. Declared before the
  // router, which must not outlive it.
  std::unique_ptr<peer::PeerForwarder> forwarder_;
  std::unique_ptr<CommandRouter> router_;
  std::unique_ptr<ProjectionStore> store_;
  std::unique_ptr<Projector> projector_;
  std::unique_ptr<CaseCommandService> command_service_;
  std::unique_ptr<CustomerCommandService> customer_command_service_;
  // The owner's side of commands the other processes forward.
  std::unique_ptr<peer::PeerCommandService> peer_service_;
  std::unique_ptr<CaseQueryService> query_service_;
  std::unique_ptr<ComplianceService> compliance_service_;
  std::unique_ptr<reporting::ReportingStore> reporting_store_;
  std::unique_ptr<reporting::ReportingProjector> reporting_projector_;
  std::unique_ptr<reporting::ReportingService> reporting_service_;
  std::unique_ptr<customer::CustomerStore> customer_store_;
  std::unique_ptr<customer::CustomerProjector> customer_projector_;
  std::unique_ptr<customer::CustomerQueryService> customer_query_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;

  void PublishHealth(const HealthReport& report);
  void MonitorHealth();
  std::mutex health_mutex_;
  std::condition_variable health_wake_;
  bool health_stopping_ = false;  // guarded by health_mutex_
  std::atomic<bool> ready_{false};  // the last published overall health, for /ready
  std::optional<HealthReport> published_;  // monitor thread only (and Start before it runs)
  std::thread health_thread_;
};

}  // namespace collections
