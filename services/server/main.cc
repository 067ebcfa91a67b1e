// collections-server: the collections case service (command and query side in one process).
#include <csignal>
#include <thread>

#include "services/common/flags.h"
#include "services/common/log.h"
#include "services/server/server_app.h"

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

void OnSignal(int signal) { g_stop_signal = signal; }

}  // namespace

int main(int argc, char** argv) {
  collections::ServerOptions options;
  std::string log_level = "info";
  collections::FlagParser flags(
      "collections-server",
      "The event-sourced collections case service: gRPC commands are validated, appended to\n"
      "Kafka in transactions, projected into RocksDB and served by CaseQueryService.\n"
      "SIGINT/SIGTERM shut it down cleanly.");
  flags.Add("listen", &options.listen, "gRPC listen address (port 0 = any free port)");
  flags.Add("bootstrap", &options.log.bootstrap, "Kafka bootstrap servers");
  flags.Add("topic", &options.log.topic, "event topic (created if missing)");
  flags.Add("partitions", &options.log.partitions, "partitions when the topic is created");
  flags.Add("replication-factor", &options.log.replication_factor,
            "replication factor when the topic is created (3 in production)");
  flags.Add("transactional-id-prefix", &options.writer.transactional_id_prefix,
            "prefix of the writers' transactional.id (<prefix>-writer-<partition>)");
  flags.Add("max-batch", &options.writer.max_batch, "most commands in one Kafka transaction");
  flags.Add("transaction-gap-ms", &options.writer.transaction_gap_ms,
            "pause after a commit before the next transaction (gathers a bigger group commit)");
  flags.Add("db", &options.db_path, "projection RocksDB directory");
  flags.Add("rebuild-projection", &options.rebuild_projection,
            "delete the projection and rebuild it from offset 0 before serving");
  flags.Add("log-level", &log_level, "debug, info, warn or error");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  if (log_level == "debug") collections::MinLogLevel() = collections::LogLevel::kDebug;
  if (log_level == "warn") collections::MinLogLevel() = collections::LogLevel::kWarn;
  if (log_level == "error") collections::MinLogLevel() = collections::LogLevel::kError;

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  collections::SystemClock clock;
  collections::ServerApp app(options, clock);
  if (auto e = app.Start()) {
    collections::LogError("server", "start-up failed: ", e->message);
    return 1;
  }
  // Serve until a signal arrives; the gRPC server runs on its own threads.
  while (g_stop_signal == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  collections::LogInfo("server", "signal ", static_cast<int>(g_stop_signal), " received, shutting down");
  app.Shutdown();
  return 0;
}
