#include "services/server/server_app.h"

#include "services/common/log.h"
#include "services/metrics/grpc_metrics.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "collections/v1/customer_command_service.pb.h"
#include "grpc/health/v1/health.pb.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <filesystem>
#include <unistd.h>

namespace collections {

void DisallowPortSharing(grpc::ServerBuilder& builder) {
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
}

Status ValidateDeploymentId(const std::string& id, const std::string& flag) {
  const bool valid =
      !id.empty() && id.size() <= kMaxDeploymentIdBytes &&
      std::all_of(id.begin(), id.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
               c == '-';
      });
  if (valid) return std::nullopt;
  return Error::InvalidArgument(
      flag, absl::StrCat("--", flag, " must be 1 to ", kMaxDeploymentIdBytes,
                         " letters, digits, '.', '_' or '-' (it names the deployment's Kafka "
                         "transactional ids and is stamped on every event), not ",
                         Quoted(id)));
}

ServerApp::ServerApp(ServerOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

ServerApp::~ServerApp() { Shutdown(); }

Status ServerApp::Start() {
  // Transport and access first: a server that cannot tell who calls must not serve.
  if (!options_.access) {
    return Error::InvalidArgument("access-policy",
                                  "no access policy (--access-policy): the server cannot tell who "
                                  "may do what");
  }
  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (options_.plaintext) {
    if (!authz::IsLoopbackAddress(options_.listen)) {
      return Error::InvalidArgument(
          "listen", "refusing to serve plaintext on " + options_.listen +
                        ": --plaintext is only allowed on a loopback address (127.0.0.1, ::1, "
                        "localhost); use TLS (--tls-ca, --tls-cert, --tls-key) for anything else");
    }
    credentials = grpc::InsecureServerCredentials();
    LogWarn("server", "serving PLAINTEXT on ", options_.listen,
            " (--plaintext): every call is served as principal \"",
            options_.plaintext_principal, "\"");
  } else {
    auto tls = authz::MutualTlsServerCredentials(options_.tls);
    if (!tls) {
      Error e = tls.error();
      e.message = "TLS: " + e.message +
                  " (the gRPC port needs --tls-ca, --tls-cert and --tls-key; deploy/certs.sh makes "
                  "local ones; --plaintext serves without TLS on a loopback address only)";
      return e;
    }
    credentials = tls.value();
  }
  // The service's own identity, which its processes call each other with (PeerCommandService):
  // the principal of its certificate; a plaintext server's calls all have its plaintext one.
  std::string service_principal = options_.plaintext_principal;
  if (!options_.plaintext) {
    auto pem = authz::ReadPemFile(options_.tls.cert_path, "tls-cert");
    if (!pem) return pem.error();
    auto principal = authz::CertificatePrincipal(pem.value(), "tls-cert");
    if (!principal) return principal.error();
    service_principal = principal.value();
  }
  guard_ = std::make_unique<authz::CallGuard>(
      *options_.access, options_.plaintext ? options_.plaintext_principal : "",
      service_principal);
  LogInfo("server", "access policy ", options_.access->version(), ": ",
          options_.access->policy().roles_size(), " roles, ",
          options_.access->policy().principals_size(), " principals");
  if (options_.writer.signing_key == nullptr) {
    return Error::InvalidArgument("signing-key",
                                  "no writer signing key (--signing-key): the service signs "
                                  "everything it writes");
  }
  if (options_.writer.trusted_keys.empty()) {
    // Remembers what this process signed: the projections' checks of the writers' own events
    // skip Ed25519 for exactly those signatures (authz::SignatureMemo).
    options_.writer.trusted_keys.push_back(options_.writer.signing_key->verifying_key());
  }
  LogInfo("server", "signing with Ed25519 key ", options_.writer.signing_key->key_id(),
          "; trusting ", options_.writer.trusted_keys.size(), " key(s)");
  // Metrics first: a restore of a long log is worth watching.
  metrics::AddProcessMetrics(metrics_);
  if (!options_.metrics_listen.empty()) {
    metrics_server_ = std::make_unique<metrics::MetricsServer>(metrics_);
    metrics_server_->set_readiness([this] { return ready_.load(); });
    if (auto e = metrics_server_->Start(options_.metrics_listen)) return e;
    const std::string host = options_.metrics_listen.substr(0, options_.metrics_listen.rfind(':'));
    LogInfo("server", "metrics at http://", host, ":", metrics_server_->port(), "/metrics");
  }
  RegisterMetrics();
  if (options_.writer.store_path.empty()) {
    options_.writer.store_path = options_.writer_store_path.empty()
                                     ? options_.db_path + "-writer"
                                     : options_.writer_store_path;
  }
  if (auto e = ValidateDeploymentId(options_.writer.deployment_id, "deployment-id")) return e;
  for (const std::string& adopted : options_.writer.adopt_from) {
    if (auto e = ValidateDeploymentId(adopted, "adopt-topic-from")) return e;
  }
  if (!options_.writer.instance_id.empty()) {
    if (auto e = ValidateDeploymentId(options_.writer.instance_id, "instance-id")) return e;
  }
  if (options_.writer.group_ownership && options_.writer.advertised_address.empty()) {
    // Where the other processes forward commands: --listen, with a wildcard host replaced by
    // this machine's name. A port picked at start (0) is not known yet: forwarding to this
    // process then needs --advertise-address.
    std::string host = options_.listen.substr(0, options_.listen.rfind(':'));
    const std::string port = options_.listen.substr(options_.listen.rfind(':') + 1);
    if (host.empty() || host == "0.0.0.0" || host == "[::]") {
      char name[256] = {};
      if (gethostname(name, sizeof name - 1) == 0) host = name;
    }
    if (port == "0") {
      LogWarn("server", "--listen ", options_.listen,
              " picks its port at start: the deployment's other processes cannot forward "
              "commands here; give --advertise-address=host:port to allow it");
    } else {
      options_.writer.advertised_address = host + ":" + port;
    }
  }
  LogInfo("server", "deployment ", options_.writer.deployment_id, ": writers' transactional ids ",
          WriterTransactionalId(options_.writer), " and -b",
          options_.writer.group_ownership
              ? absl::StrCat("; partitions from the writer group ", options_.writer.deployment_id,
                             "-writers as ", options_.writer.advertised_address)
              : std::string("; every partition written here"),
          options_.writer.adopt_from.empty()
              ? std::string()
              : absl::StrCat("; adopting partitions last written by ",
                             absl::StrJoin(options_.writer.adopt_from, ", ")));
  if (options_.writer.account_cache_size < 1) {
    return Error::InvalidArgument("account-cache-size", "--account-cache-size must be at least 1");
  }
  auto forwarder = peer::PeerForwarder::Create(options_.tls, options_.plaintext);
  if (!forwarder) return forwarder.error();
  forwarder_ = std::move(forwarder.value());
  router_ = std::make_unique<CommandRouter>(options_.log, options_.writer, clock_);
  router_->SetForwarder(forwarder_.get());
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
                                         options_.writer.deployment_id + "-projector",
                                         options_.writer.trusted_keys);
  // The reporting projection: its own store and offsets, rebuilt with the others, fed by the
  // account projector's consumer (each record is read and parsed once for both).
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
      options_.writer.deployment_id + "-reporting");
  if (auto e = projector_->Attach(*reporting_projector_)) return e;
  if (auto e = reporting_projector_->Start()) return e;
  // The customer projection (customers and their receivables): the same, its own store.
  if (options_.rebuild_projection) {
    LogInfo("server", "deleting customer projection ", customer_db_path(),
            " to rebuild it from offset 0");
    if (auto e = customer::CustomerStore::Destroy(customer_db_path())) return e;
  }
  auto customer_store = customer::CustomerStore::Open(customer_db_path());
  if (!customer_store) return customer_store.error();
  customer_store_ = std::move(customer_store.value());
  // Customer streams pass the same integrity gate as accounts, with the same trusted keys.
  customer_projector_ = std::make_unique<customer::CustomerProjector>(
      options_.log, *customer_store_, router_->partitions(),
      options_.writer.deployment_id + "-customers", options_.writer.trusted_keys);
  if (auto e = projector_->Attach(*customer_projector_)) return e;
  if (auto e = customer_projector_->Start()) return e;
  if (auto e = projector_->Start()) return e;
  reporting_service_ = std::make_unique<reporting::ReportingService>(
      *reporting_store_, *reporting_projector_, clock_, options_.reporting);
  // ---- Call admission (services/api/admission.h): one Admission for every service. ----
  const AdmissionOptions& limits = options_.admission;
  if (limits.rate_per_second < 0 || limits.burst < 1 || limits.max_log_reads < 1 ||
      limits.max_parked_waits < 1 || limits.max_request_bytes < 1 ||
      limits.max_request_bytes > (1 << 30) || limits.max_server_threads < 8) {
    return Error::InvalidArgument(
        "admission", "--rate-limit must be >= 0, --rate-burst, --max-log-reads and "
                     "--max-parked-waits >= 1, --max-request-bytes in [1, 1073741824], "
                     "--max-server-threads >= 8");
  }
  admission_ = std::make_unique<Admission>(limits);
  projector_->waiters().set_max_waits(limits.max_parked_waits);
  reporting_service_->set_admission(admission_.get());
  customer_query_service_ = std::make_unique<customer::CustomerQueryService>(
      *customer_store_, *customer_projector_, clock_);
  customer_query_service_->set_admission(admission_.get());
  // ---- end of call admission ----
  // Answers for the log, the system of record: one account's calls read the projection's
  // byte-exact copy of its records once it covers the log end, verification reads them back
  // from the log, and everything else scans the log.
  compliance_service_ = std::make_unique<ComplianceService>(options_.log, router_->partitions(),
                                                            admission_.get());
  compliance_service_->use_account_index(*store_, *projector_);
  compliance_service_->set_call_guard(guard_.get());
  // An examiner's verification runs Ed25519 on every signature, remembered or not.
  std::vector<authz::VerifyingKey> examiner_keys;
  for (const auto& key : options_.writer.trusted_keys) examiner_keys.push_back(key.WithoutMemo());
  compliance_service_->set_trusted_keys(std::move(examiner_keys));
  reporting_service_->set_call_guard(guard_.get());
  customer_query_service_->set_call_guard(guard_.get());
  // The per-principal rate limit counts the authenticated caller.
  admission_->SetPrincipalResolver([this](const grpc::ServerContextBase& context) {
    std::string principal = authz::AuthenticatedPrincipal(context);
    if (principal.empty() && options_.plaintext) principal = options_.plaintext_principal;
    return principal.empty() ? PeerPrincipal(context) : principal;
  });

  command_service_ = std::make_unique<CaseCommandService>(*router_, *guard_, admission_.get());
  customer_command_service_ =
      std::make_unique<CustomerCommandService>(*router_, *guard_, admission_.get());
  peer_service_ = std::make_unique<peer::PeerCommandService>(*router_, *guard_);
  query_service_ =
      std::make_unique<CaseQueryService>(*store_, *projector_, clock_, admission_.get());
  query_service_->set_call_guard(guard_.get());
  // Touching the descriptor links the vendored health.proto into the binary, so reflection can
  // describe grpc.health.v1.Health (the built-in service does not register it).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  // The same for the customer commands' file, which holds a service and no message: nothing
  // else references it, so a static link would drop its descriptor (and reflection with it).
  google::protobuf::internal::AssignDescriptors(
      &descriptor_table_collections_2fv1_2fcustomer_5fcommand_5fservice_2eproto);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC lets a second process bind the same port (SO_REUSEPORT) unless told otherwise: two
  // servers would then share the address and split the calls between them silently.
  DisallowPortSharing(builder);
  builder.AddListeningPort(options_.listen, credentials, &port_);
  // ---- Call admission: transport limits and the interceptor that gives gRPC's own refusal of
  // an unparseable body the service's error details. ----
  {
    grpc::ResourceQuota quota("collections-server");
    quota.SetMaxThreads(limits.max_server_threads);
    builder.SetResourceQuota(quota);
    // gRPC refuses bodies over this itself; below it Admission answers REQUEST_TOO_LARGE.
    builder.SetMaxReceiveMessageSize(limits.max_request_bytes + kTransportSlackBytes);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(std::make_unique<TransportErrorInterceptorFactory>());
    // After it, so the status it gives is the one counted: every call is counted and timed
    // (collections_rpc_*, collections_commands_total) and every command logged.
    creators.push_back(std::make_unique<metrics::RpcMetricsFactory>(metrics_));
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  // ---- end of call admission ----
  builder.RegisterService(command_service_.get());
  builder.RegisterService(customer_command_service_.get());
  builder.RegisterService(peer_service_.get());
  builder.RegisterService(query_service_.get());
  builder.RegisterService(compliance_service_.get());
  builder.RegisterService(reporting_service_.get());
  builder.RegisterService(customer_query_service_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    return Error{Errc::kUnavailable, "LISTEN_FAILED",
                 "could not listen on " + options_.listen +
                     ": the address is already in use (another collections-server, or another "
                     "program, listens there) or cannot be bound. The service never shares its "
                     "port: stop the other process, or give this one another --listen address",
                 "listen", options_.listen};
  }
  // Truthful from the first Check: a projection still rebuilding is NOT_SERVING.
  PublishHealth(Health());
  health_thread_ = std::thread([this] { MonitorHealth(); });
  StartCollecting();
  LogInfo("server", "collections case service listening on ", address(), " (topic ",
          options_.log.topic, " at ", options_.log.bootstrap, ", projection ", options_.db_path,
          ")");
  return std::nullopt;
}

std::string ServerApp::reporting_db_path() const {
  return options_.reporting_db_path.empty() ? options_.db_path + "-reporting"
                                            : options_.reporting_db_path;
}

std::string ServerApp::customer_db_path() const {
  return options_.customer_db_path.empty() ? options_.db_path + "-customers"
                                           : options_.customer_db_path;
}

std::string ServerApp::address() const {
  std::string host = options_.listen.substr(0, options_.listen.rfind(':'));
  return absl::StrCat(host, ":", port_);
}

void ServerApp::Wait() {
  if (server_) server_->Wait();
}

HealthReport ServerApp::Health() const {
  HealthReport r;
  if (router_) {
    r.commands = router_->serving();
    r.compliance = true;
    for (WriterState state : router_->states()) {
      if (state == WriterState::kRecovering) r.compliance = false;
    }
  }
  r.queries = projector_ && projector_->caught_up();
  r.reporting = reporting_projector_ && reporting_projector_->caught_up();
  r.customers = customer_projector_ && customer_projector_->caught_up();
  return r;
}

void ServerApp::PublishHealth(const HealthReport& report) {
  if (!server_) return;
  auto* health = server_->GetHealthCheckService();
  auto set = [&](const char* name, bool now, bool before, bool first) {
    if (!first && now == before) return;
    health->SetServingStatus(name, now);
    if (!first) {
      Log(now ? LogLevel::kInfo : LogLevel::kWarn, "health",
          absl::StrCat(*name == '\0' ? "(overall)" : name, now ? " SERVING" : " NOT_SERVING"));
    }
  };
  const bool first = !published_.has_value();
  const HealthReport before = published_.value_or(HealthReport());
  set(kCommandService, report.commands, before.commands, first);
  set(kCustomerCommandService, report.commands, before.commands, first);
  set(kQueryService, report.queries, before.queries, first);
  set(kComplianceService, report.compliance, before.compliance, first);
  set(kReportingService, report.reporting, before.reporting, first);
  set(kCustomerQueryService, report.customers, before.customers, first);
  set("", report.all(), before.all(), first);
  ready_.store(report.all());
  published_ = report;
}

void ServerApp::MonitorHealth() {
  std::unique_lock lock(health_mutex_);
  while (!health_stopping_) {
    health_wake_.wait_for(lock, std::chrono::milliseconds(options_.health_interval_ms),
                          [this] { return health_stopping_; });
    if (health_stopping_) break;
    lock.unlock();
    PublishHealth(Health());
    lock.lock();
  }
}

void ServerApp::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  StopCollecting();
  const absl::Time began = absl::Now();
  const absl::Duration grace = absl::Milliseconds(options_.shutdown_grace_ms);
  {
    std::lock_guard lock(health_mutex_);
    health_stopping_ = true;
  }
  health_wake_.notify_all();
  if (health_thread_.joinable()) health_thread_.join();
  if (server_) {
    // NOT_SERVING for every service name from now on: load balancers drain the process.
    server_->GetHealthCheckService()->Shutdown();
  }
  // Queued commands are answered UNAVAILABLE at once; a caller whose command is in a
  // transaction that has not finished by then is let go at 40% of the grace period.
  if (router_) router_->BeginStop(began + grace * 0.4);
  // Nobody waits for the projection any more (read-your-writes calls return).
  if (projector_) projector_->CancelWaits();
  // Commands forwarded to other processes take no thread and no writer of this one: they are
  // given up (answered) at the same 40%, alongside the server's shutdown, which waits for them.
  std::thread forwarding;
  if (forwarder_) {
    forwarding = std::thread([this, at = began + grace * 0.4] { forwarder_->Stop(at); });
  }
  if (server_) {
    // In-flight calls get half the grace period; then they are cancelled.
    server_->Shutdown(absl::ToChronoTime(began + grace * 0.5));
  }
  if (forwarding.joinable()) forwarding.join();
  if (router_) router_->Stop();
  if (projector_) projector_->Stop();
  if (reporting_projector_) reporting_projector_->Stop();
  if (customer_projector_) customer_projector_->Stop();
  if (metrics_server_) metrics_server_->Stop();
  LogInfo("server", "stopped in ", absl::FormatDuration(absl::Now() - began));
}

}  // namespace collections
