#include "services/server/server_app.h"

#include "services/common/log.h"
#include "services/metrics/grpc_metrics.h"

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.pb.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <filesystem>

namespace collections {

ServerApp::ServerApp(ServerOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

ServerApp::~ServerApp() { Shutdown(); }

Status ServerApp::Start() {
  // Metrics first: a restore of a long log is worth watching.
  metrics::AddProcessMetrics(metrics_);
  if (!options_.metrics_listen.empty()) {
    metrics_server_ = std::make_unique<metrics::MetricsServer>(metrics_);
    if (auto e = metrics_server_->Start(options_.metrics_listen)) return e;
    LogInfo("server", "metrics at http://", options_.metrics_listen.substr(0, options_.metrics_listen.rfind(':')), ":",
            metrics_server_->port(), "/metrics");
  }
  router_ = std::make_unique<CommandRouter>(options_.log, options_.writer, clock_);
  if (auto e = router_->Start()) return e;

  if (options_.rebuild_projection) {
    LogInfo("server", "deleting projection ", options_.db_path, " to rebuild it from offset 0");
    if (auto e = ProjectionStore::Destroy(options_.db_path)) return e;
  }
  std::filesystem::create_directories(std::filesystem::path(options_.db_path).parent_path().empty()
                                          ? std::filesystem::path(".")
                                          : std::filesystem::path(options_.db_path).parent_path());
  auto store = ProjectionStore::Open(options_.db_path);
  if (!store) return store.error();
  store_ = std::move(store.value());
  projector_ =
      std::make_unique<AccountProjector>(options_.log, *store_, router_->partitions(),
                                         options_.writer.transactional_id_prefix + "-projector");
  if (auto e = projector_->Start()) return e;
  // The reporting projection: its own store, consumer and offsets, rebuilt with the others.
  if (options_.reporting.close_days < 0) {
    return Error::InvalidArgument("reporting-close-days",
                                  "--reporting-close-days must not be negative");
  }
  if (options_.rebuild_projection) {
    LogInfo("server", "deleting reporting projection ", reporting_db_path(),
            " to rebuild it from offset 0");
    if (auto e = reporting::ReportingStore::Destroy(reporting_db_path())) return e;
  }
  auto reporting_store = reporting::ReportingStore::Open(reporting_db_path());
  if (!reporting_store) return reporting_store.error();
  reporting_store_ = std::move(reporting_store.value());
  reporting_projector_ = std::make_unique<reporting::ReportingProjector>(
      options_.log, *reporting_store_, router_->partitions(),
      options_.writer.transactional_id_prefix + "-reporting");
  if (auto e = reporting_projector_->Start()) return e;
  reporting_service_ = std::make_unique<reporting::ReportingService>(
      *reporting_store_, *reporting_projector_, clock_, options_.reporting);
  // Reads the log itself (not the projection): the audit answers for the system of record.
  compliance_service_ = std::make_unique<ComplianceService>(options_.log, router_->partitions());

  command_service_ = std::make_unique<CaseCommandService>(*router_);
  query_service_ = std::make_unique<CaseQueryService>(*store_, *projector_, clock_);
  // Touching the descriptor links the vendored health.proto into the binary, so reflection can
  // describe grpc.health.v1.Health (the built-in service does not register it).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  {
    // Every call is counted and timed (collections_rpc_*, collections_commands_total).
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(std::make_unique<metrics::RpcMetricsFactory>(metrics_));
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  builder.AddListeningPort(options_.listen, grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(command_service_.get());
  builder.RegisterService(query_service_.get());
  builder.RegisterService(compliance_service_.get());
  builder.RegisterService(reporting_service_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    return Error{Errc::kUnavailable, "LISTEN_FAILED",
                 "could not listen on " + options_.listen + " (in use? try --listen=127.0.0.1:0)",
                 "listen", options_.listen};
  }
  server_->GetHealthCheckService()->SetServingStatus(true);
  LogInfo("server", "collections case service listening on ", address(), " (topic ",
          options_.log.topic, " at ", options_.log.bootstrap, ", projection ", options_.db_path,
          ")");
  return std::nullopt;
}

std::string ServerApp::reporting_db_path() const {
  return options_.reporting_db_path.empty() ? options_.db_path + "-reporting"
                                            : options_.reporting_db_path;
}

std::string ServerApp::address() const {
  std::string host = options_.listen.substr(0, options_.listen.rfind(':'));
  return absl::StrCat(host, ":", port_);
}

void ServerApp::Wait() {
  if (server_) server_->Wait();
}

void ServerApp::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (server_) {
    server_->GetHealthCheckService()->SetServingStatus(false);
    // In-flight calls get 5 s to finish; the writers still answer them until they stop.
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }
  if (router_) router_->Stop();
  if (projector_) projector_->Stop();
  if (reporting_projector_) reporting_projector_->Stop();
  if (metrics_server_) metrics_server_->Stop();
  LogInfo("server", "stopped");
}

}  // namespace collections
