// collections-server: the collections case service (command and query side in one process).
#include "services/authz/access_control.h"
#include "services/authz/signing.h"
#include "services/common/flags.h"
#include "services/common/log.h"
#include "services/common/properties.h"
#include "services/server/server_app.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include <grpc/support/log.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

void OnSignal(int signal) { g_stop_signal = signal; }

void GrpcLog(gpr_log_func_args* args) {
  const collections::LogLevel level = args->severity == GPR_LOG_SEVERITY_ERROR
                                          ? collections::LogLevel::kError
                                      : args->severity == GPR_LOG_SEVERITY_INFO
                                          ? collections::LogLevel::kInfo
                                          : collections::LogLevel::kDebug;
  collections::Log(level, "grpc", absl::StrCat(args->file, ":", args->line, " ", args->message));
}

// The last resort of a bounded shutdown: once a signal has arrived, the process ends within
// the grace period even if something (start-up, a Kafka client, a long call) does not return.
void ExitAfterGrace(int grace_ms) {
  while (g_stop_signal == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(grace_ms));
  collections::LogError("server", "shutdown did not finish within --shutdown-grace-ms=", grace_ms,
                        "; exiting now");
  std::fflush(stderr);
  std::_Exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  collections::ServerOptions options;
  options.metrics_listen = "127.0.0.1:9464";
  std::string log_level = "info";
  std::string log_format = "auto";
  collections::FlagParser flags(
      "collections-server",
      "The event-sourced collections case service: gRPC commands are validated, appended to\n"
      "Kafka in transactions, projected into RocksDB and served by CaseQueryService.\n"
      "SIGINT/SIGTERM shut it down cleanly.");
  flags.SetEnvPrefix("COLLECTIONS_");
  flags.Add("listen", &options.listen, "gRPC listen address (port 0 = any free port)");
  flags.Add("bootstrap", &options.log.bootstrap, "Kafka bootstrap servers");
  flags.Add("topic", &options.log.topic, "event topic (created if missing)");
  flags.Add("partitions", &options.log.partitions, "partitions when the topic is created");
  flags.Add("replication-factor", &options.log.replication_factor,
            "replication factor when the topic is created (3 in production)");
  flags.Add("deployment-id", &options.writer.deployment_id,
            "this deployment's identity, the same for all of its processes and unique per Kafka "
            "cluster: the writers' transactional.ids are <id>-writers and <id>-writers-b "
            "(one transaction holds the appends of every partition), so a new process of the "
            "deployment fences the old one, and every event records "
            "it; a partition another deployment wrote last is refused");
  flags.Add("instance-id", &options.writer.instance_id,
            "this process's identity within the deployment, stable across its restarts and "
            "unique among the deployment's processes (a host name, a pod ordinal): its "
            "transactional.ids are <deployment-id>-writers-<instance-id> (and -b), so a restart "
            "fences its previous incarnation and no other process; empty (default): one process "
            "per deployment, and a second one started replaces the first");
  options.writer.group_ownership = true;
  flags.Add("group-ownership", &options.writer.group_ownership,
            "share the partitions among every process of the deployment through Kafka's "
            "consumer-group protocol (group <deployment-id>-writers): each partition is written "
            "by the one process it is assigned to, the others forward its commands there; false: "
            "this process writes every partition");
  flags.Add("advertise-address", &options.writer.advertised_address,
            "host:port at which the deployment's other processes reach this one's gRPC port to "
            "forward commands; default: --listen when it names a host and a port");
  flags.Add("ownership-session-timeout-ms", &options.writer.ownership_session_timeout_ms,
            "how long the writer group waits for a process that stopped answering before its "
            "partitions move to the others (the failover gap after a crash)");
  std::string adopt_from;
  flags.Add("adopt-topic-from", &adopt_from,
            "comma-separated deployment ids whose events this deployment accepts as the latest of "
            "a partition it starts on: to take over a topic from a deployment stopped for good");
  // The name before --deployment-id, kept so existing settings files and scripts still work.
  std::string legacy_prefix;
  flags.Add("transactional-id-prefix", &legacy_prefix,
            "deprecated: the former name of --deployment-id");
  flags.Add("max-batch", &options.writer.max_batch, "most commands in one Kafka transaction");
  flags.Add("transaction-gap-ms", &options.writer.transaction_gap_ms,
            "pause after a commit before the next transaction; 0 (default) = none: commands "
            "that arrive during a commit form the next group commit anyway");
  flags.Add("max-queue", &options.writer.max_queue,
            "most commands waiting per partition writer; more are answered UNAVAILABLE at once");
  int max_event_bytes = static_cast<int>(options.writer.max_event_bytes);
  flags.Add("max-event-bytes", &max_event_bytes,
            "largest event record (value + key + headers) a command may produce; larger ones are "
            "refused with INVALID_ARGUMENT (keep it well below the topic's max.message.bytes)");
  flags.Add("shutdown-grace-ms", &options.shutdown_grace_ms,
            "on SIGTERM/SIGINT the process ends within this, whatever the broker does");
  flags.Add("tick-interval-ms", &options.writer.tick_interval_ms,
            "how often writers look for time-driven events (promises broken, aging ...)");
  auto& domain = options.writer.domain;
  flags.Add("promise-grace-days", &domain.promise_grace_days,
            "days after a promise's due date before it breaks");
  flags.Add("payment-reversal-days", &domain.payment_reversal_days,
            "days after its posting a payment may still be reversed (0 = no limit; the writer "
            "keeps every payment's details that long)");
  flags.Add("plan-grace-days", &domain.plan_grace_days,
            "days after an instalment's due date before it is missed");
  flags.Add("plan-missed-to-default", &domain.plan_missed_to_default,
            "missed instalments that default a plan");
  int small_balance = static_cast<int>(domain.small_balance_threshold_minor);
  flags.Add("small-balance-threshold-minor", &small_balance,
            "small-balance write-offs above this (minor units) need a supervisor");
  int min_settlement = domain.min_settlement_basis_points;
  flags.Add("min-settlement-basis-points", &min_settlement,
            "settlements below this share of the balance (6000 = 60%) need a supervisor");
  std::string allocation = "principal,interest,fees,costs";
  flags.Add("allocation-order", &allocation,
            "order payments are applied to the balance components");
  std::string policy_path;
  flags.Add("policy", &policy_path,
            "compliance policy file (protobuf text, e.g. deploy/policy/federal-2025.textproto); "
            "empty = the built-in federal policy");
  flags.Add("db", &options.db_path, "projection RocksDB directory");
  flags.Add("rebuild-projection", &options.rebuild_projection,
            "delete the projection and rebuild it from offset 0 before serving");
  flags.Add("reporting-db", &options.reporting_db_path,
            "reporting projection RocksDB directory (empty = the --db directory + \"-reporting\")");
  flags.Add("customer-db", &options.customer_db_path,
            "customer projection RocksDB directory (empty = the --db directory + \"-customers\")");
  flags.Add("writer-store", &options.writer_store_path,
            "the partition writers' RocksDB directory (one store per partition below it; empty = "
            "the --db directory + \"-writer\"); deleting it makes the writers restore from the "
            "log");
  int account_cache_size = static_cast<int>(options.writer.account_cache_size);
  flags.Add("account-cache-size", &account_cache_size,
            "accounts each partition writer keeps decoded in memory (the rest are read from its "
            "store when a command needs them)");
  flags.Add("reporting-close-days", &options.reporting.close_days,
            "days after a report's last date during which late-recorded events still count in it; "
            "later ones are reported as corrections");
  // ---- Call admission (README "Limits") ----
  auto& limits = options.admission;
  flags.Add("rate-limit", &limits.rate_per_second,
            "calls per second each principal (peer) may make; 0 = no limit");
  flags.Add("rate-burst", &limits.burst, "calls a principal may make at once above its rate");
  flags.Add("max-log-reads", &limits.max_log_reads,
            "concurrent replay/export/verify/audit-trail calls (each reads the log)");
  flags.Add("max-parked-waits", &limits.max_parked_waits,
            "GetAccount calls waiting for their min_position at once");
  flags.Add("max-request-bytes", &limits.max_request_bytes, "largest request message accepted");
  flags.Add("max-server-threads", &limits.max_server_threads,
            "threads the gRPC server may use (synchronous calls hold one each)");
  // ---- end of call admission ----
  flags.Add("tls-ca", &options.tls.ca_path,
            "CA certificate(s) (PEM) that client certificates must chain to (mutual TLS)");
  flags.Add("tls-cert", &options.tls.cert_path, "the server's certificate (PEM)");
  flags.Add("tls-key", &options.tls.key_path, "the server's private key (PEM)");
  flags.Add("plaintext", &options.plaintext,
            "serve gRPC without TLS; only on a loopback --listen address (local experiments)");
  flags.Add("plaintext-principal", &options.plaintext_principal,
            "with --plaintext: the principal every call is served as");
  std::string access_policy_path = "deploy/policy/access-2025.textproto";
  flags.Add("access-policy", &access_policy_path,
            "who may do what: principals, roles, RPCs, privileges (protobuf text)");
  std::string signing_key_path = ".local/keys/writer-signing.key";
  flags.Add("signing-key", &signing_key_path,
            "the writer's Ed25519 private key (PKCS#8 PEM); every command's events are signed");
  std::string verify_keys;
  flags.Add("verify-keys", &verify_keys,
            "comma-separated Ed25519 public keys (PEM) whose signatures are trusted when the log "
            "is read back (empty = the signing key's own; list old keys after a rotation)");
  std::string kafka_config;
  flags.Add("kafka-config", &kafka_config,
            "librdkafka properties file (key=value) for every Kafka client: security.protocol, "
            "sasl.*, ssl.* ...");
  flags.Add("log-level", &log_level, "debug, info, warn or error");
  flags.Add("log-format", &log_format,
            "json (one object per line), text, or auto (text on a terminal, else json)");
  flags.Add("metrics-listen", &options.metrics_listen,
            "HTTP address serving Prometheus metrics at /metrics (empty = no metrics endpoint)");
  flags.AddProperties("kafka-property", &options.log.extra,
                      "librdkafka property for every Kafka client, producers and consumers "
                      "alike, e.g. security.protocol=SASL_SSL; env COLLECTIONS_KAFKA_<KEY> "
                      "(COLLECTIONS_KAFKA_SASL_PASSWORD sets sasl.password)",
                      "kafka", "KAFKA");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  {
    auto level = collections::ParseLogLevel(log_level);
    auto format = collections::ParseLogFormat(log_format);
    if (!level || !format) {
      std::fprintf(stderr, "collections-server: %s (see --help)\n",
                   !level ? "--log-level must be debug, info, warn or error"
                          : "--log-format must be json, text or auto");
      return 2;
    }
    collections::MinLogLevel() = *level;
    collections::SetLogFormat(*format);
    // gRPC's own lines (errors, unless GRPC_VERBOSITY asks for more) join the same log.
    gpr_set_log_function(&GrpcLog);
  }
  if (options.shutdown_grace_ms < 1000 || max_event_bytes < 1024 || options.writer.max_queue < 1) {
    std::fprintf(stderr,
                 "collections-server: --shutdown-grace-ms must be at least 1000, "
                 "--max-event-bytes at least 1024 and --max-queue at least 1\n");
    return 2;
  }
  if (!legacy_prefix.empty()) {
    if (options.writer.deployment_id != legacy_prefix &&
        options.writer.deployment_id != collections::WriterOptions().deployment_id) {
      std::fprintf(stderr,
                   "collections-server: --transactional-id-prefix (deprecated) and "
                   "--deployment-id disagree; set --deployment-id only\n");
      return 2;
    }
    collections::LogWarn("server", "--transactional-id-prefix is deprecated: use --deployment-id=",
                         legacy_prefix);
    options.writer.deployment_id = legacy_prefix;
  }
  options.writer.adopt_from = absl::StrSplit(adopt_from, ',', absl::SkipEmpty());
  options.writer.max_event_bytes = max_event_bytes;
  options.writer.account_cache_size = account_cache_size;
  {
    auto access = collections::authz::AccessControl::Load(access_policy_path);
    if (!access) {
      std::fprintf(stderr, "collections-server: --access-policy: %s\n",
                   access.error().message.c_str());
      return 2;
    }
    options.access = access.value();
    // The domain judges the privileged actions with the roles the access policy gives them.
    auto roles = [&](collections::v1::Privilege p) {
      auto list = options.access->RolesWithPrivilege(p);
      return std::set<std::string>(list.begin(), list.end());
    };
    domain.override_roles = roles(collections::v1::PRIVILEGE_OVERRIDE_GRANT);
    domain.settlement_approver_roles = roles(collections::v1::PRIVILEGE_SETTLEMENT_APPROVAL);
    domain.write_off_approver_roles = roles(collections::v1::PRIVILEGE_WRITE_OFF_APPROVAL);
    domain.credit_hold_recommender_roles =
        roles(collections::v1::PRIVILEGE_CREDIT_HOLD_RECOMMEND);
    domain.credit_hold_approver_roles = roles(collections::v1::PRIVILEGE_CREDIT_HOLD_APPROVAL);
    auto key = collections::authz::SigningKey::LoadPem(signing_key_path);
    if (!key) {
      std::fprintf(stderr,
                   "collections-server: --signing-key: %s (deploy/certs.sh creates one: "
                   "openssl genpkey -algorithm ed25519)\n",
                   key.error().message.c_str());
      return 2;
    }
    options.writer.signing_key =
        std::make_shared<const collections::authz::SigningKey>(key.value());
    std::vector<std::string> verify_paths = absl::StrSplit(verify_keys, ',', absl::SkipEmpty());
    for (const std::string& path : verify_paths) {
      auto pub = collections::authz::VerifyingKey::LoadPem(path);
      if (!pub) {
        std::fprintf(stderr, "collections-server: --verify-keys: %s\n",
                     pub.error().message.c_str());
        return 2;
      }
      options.writer.trusted_keys.push_back(pub.value());
    }
    if (!options.writer.trusted_keys.empty()) {
      // The key being used must stay verifiable too.
      options.writer.trusted_keys.push_back(key->verifying_key());
    }
    if (!kafka_config.empty()) {
      auto props = collections::LoadProperties(kafka_config, "kafka-config");
      if (!props) {
        std::fprintf(stderr, "collections-server: %s\n", props.error().message.c_str());
        return 2;
      }
      for (const auto& [k, v] : props.value()) options.log.extra.emplace(k, v);  // file ranks below env and flags
    }
  }
  if (!policy_path.empty()) {
    auto policy = collections::compliance::LoadPolicy(policy_path);
    if (!policy) {
      std::fprintf(stderr, "collections-server: %s\n", policy.error().message.c_str());
      return 2;
    }
    options.writer.policy = policy.value();
  }
  collections::LogInfo("server", "compliance policy version ", options.writer.policy.version());
  domain.validation_notice_deadline_days = options.writer.policy.validation_notice_deadline_days();
  domain.reservation_ttl_seconds = options.writer.policy.reservation_ttl_seconds();
  domain.small_balance_threshold_minor = small_balance;
  domain.min_settlement_basis_points = min_settlement;
  {
    std::map<std::string, collections::Component> names = {
        {"principal", collections::Component::kPrincipal},
        {"interest", collections::Component::kInterest},
        {"fees", collections::Component::kFees},
        {"costs", collections::Component::kCosts}};
    std::vector<std::string> parts = absl::StrSplit(allocation, ',');
    std::set<std::string> seen(parts.begin(), parts.end());
    if (parts.size() != 4 || seen.size() != 4 ||
        std::any_of(parts.begin(), parts.end(),
                    [&](const std::string& p) { return !names.count(p); })) {
      std::fprintf(
          stderr,
          "collections-server: --allocation-order must name principal, interest, fees and costs "
          "once each, e.g. costs,fees,interest,principal\n");
      return 2;
    }
    for (size_t i = 0; i < 4; ++i) domain.allocation_order[i] = names[parts[i]];
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::thread(ExitAfterGrace, options.shutdown_grace_ms).detach();

  collections::SystemClock clock;
  collections::ServerApp app(options, clock);
  if (auto e = app.Start()) {
    collections::LogError("server", "start-up failed: ", e->message);
    return 1;
  }
  // Serve until a signal arrives; the gRPC server runs on its own threads.
  while (g_stop_signal == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  collections::LogInfo("server", "signal ", static_cast<int>(g_stop_signal),
                       " received, shutting down");
  app.Shutdown();
  if (collections::kafka::LeakedClientHandles() > 0) {
    // A Kafka client is still closing on its own thread: do not run destructors under it.
    collections::LogWarn("server", "exiting with Kafka clients still closing in the background");
    std::fflush(stderr);
    std::_Exit(0);
  }
  return 0;
}
