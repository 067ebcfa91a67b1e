#pragma once

#include "projections/compliance/compliance_service.h"
#include "projections/projector/projector.h"
#include "projections/query/case_query_service.h"
#include "projections/reporting/reporting_projector.h"
#include "projections/reporting/reporting_service.h"
#include "projections/reporting/reporting_store.h"
#include "projections/store/store.h"
#include "services/api/case_command_service.h"
#include "services/domain/clock.h"
#include "services/metrics/http_server.h"
#include "services/metrics/metrics.h"
#include "services/writer/writer.h"

#include <grpcpp/server.h>

#include <memory>
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
  reporting::ReportingOptions reporting;
  // HTTP address serving Prometheus metrics at /metrics; empty = no endpoint (the metrics are
  // still kept). Port 0 picks a free port (see ServerApp::metrics_port()).
  std::string metrics_listen;
};

// The whole service in one process: partition writers, projector, RocksDB store and the gRPC
// server (CaseCommandService, CaseQueryService, health checking, reflection). main() and the
// integration tests build it the same way. Start() blocks until every partition is restored
// and the server listens; Shutdown() stops accepting calls, then the writers, then the
// projector. Not copyable; one instance per process (or per test).
class ServerApp {
 public:
  ServerApp(ServerOptions options, const Clock& clock);
  ~ServerApp();

  Status Start();
  void Shutdown();
  void Wait();

  int port() const { return port_; }
  std::string address() const;
  CommandRouter& router() { return *router_; }
  Projector& projector() { return *projector_; }
  ProjectionStore& store() { return *store_; }
  reporting::ReportingProjector& reporting_projector() { return *reporting_projector_; }
  reporting::ReportingStore& reporting_store() { return *reporting_store_; }
  std::string reporting_db_path() const;
  metrics::Registry& metrics() { return metrics_; }
  int metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }

 private:
  ServerOptions options_;
  const Clock& clock_;
  // Declared first: every component below may update it until it is destroyed.
  metrics::Registry metrics_;
  std::unique_ptr<metrics::MetricsServer> metrics_server_;
  std::unique_ptr<CommandRouter> router_;
  std::unique_ptr<ProjectionStore> store_;
  std::unique_ptr<Projector> projector_;
  std::unique_ptr<CaseCommandService> command_service_;
  std::unique_ptr<CaseQueryService> query_service_;
  std::unique_ptr<ComplianceService> compliance_service_;
  std::unique_ptr<reporting::ReportingStore> reporting_store_;
  std::unique_ptr<reporting::ReportingProjector> reporting_projector_;
  std::unique_ptr<reporting::ReportingService> reporting_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace collections
