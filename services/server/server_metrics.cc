// The service's own metrics (README "Production"): writers, projections, RocksDB, Kafka
// clients and health. What gRPC calls do is counted by metrics::RpcMetricsFactory.
#include "services/server/server_app.h"

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"

namespace collections {
namespace {

constexpr WriterState kWriterStates[] = {WriterState::kStarting,   WriterState::kRestoring,
                                         WriterState::kServing,    WriterState::kRecovering,
                                         WriterState::kFenced,     WriterState::kStopped,
                                         WriterState::kForeignWriter, WriterState::kElsewhere};

// RocksDB properties that matter to an operator, as (metric suffix, property, help).
struct RocksDbProperty {
  const char* metric;
  const char* property;
  const char* help;
};
constexpr RocksDbProperty kRocksDbProperties[] = {
    {"collections_rocksdb_estimate_keys", "rocksdb.estimate-num-keys",
     "Estimated keys in a projection's RocksDB (all column families)."},
    {"collections_rocksdb_live_sst_bytes", "rocksdb.live-sst-files-size",
     "Bytes of live SST files of a projection's RocksDB."},
    {"collections_rocksdb_memtable_bytes", "rocksdb.cur-size-all-mem-tables",
     "Bytes in the memtables of a projection's RocksDB."},
    {"collections_rocksdb_pending_compaction_bytes", "rocksdb.estimate-pending-compaction-bytes",
     "Bytes RocksDB estimates compaction must rewrite to settle."},
    {"collections_rocksdb_running_compactions", "rocksdb.num-running-compactions",
     "Compactions running now."},
    {"collections_rocksdb_write_stopped", "rocksdb.is-write-stopped",
     "1 while RocksDB stops writes (too many L0 files or pending compaction bytes)."},
};

}  // namespace

void ServerApp::RegisterMetrics() {
  // librdkafka statistics for every client, unless the operator chose another interval.
  options_.log.extra.emplace("statistics.interval.ms", "15000");
  kafka_statistics_ = std::make_unique<metrics::KafkaStatistics>(metrics_);
  options_.log.on_statistics = [stats = kafka_statistics_.get()](const std::string& json) {
    stats->Update(json);
  };

  auto& state = metrics_.AddGauge(
      "collections_writer_state",
      "1 for the state each partition writer is in (starting, restoring, serving, recovering, "
      "fenced, stopped, foreign_writer, elsewhere), 0 for the others. elsewhere: another process of the "
      "deployment writes the partition. foreign_writer: the partition holds "
      "records another writer wrote and its writer stopped for good (alert on it).",
      {"partition", "state"});
  options_.writer.on_state = [&state](int32_t partition, WriterState now) {
    for (WriterState s : kWriterStates) {
      state.WithLabels({std::to_string(partition), absl::AsciiStrToLower(WriterStateName(s))})
          .Set(s == now ? 1 : 0);
    }
  };
  auto& batch = metrics_.AddHistogram("collections_writer_batch_commands",
                                      "Commands in one Kafka transaction (group commit size).",
                                      {"partition"}, metrics::SizeBuckets());
  auto& commit = metrics_.AddHistogram(
      "collections_writer_commit_duration_seconds",
      "Time to append and commit one transaction (produce, flush, commit_transaction).",
      {"partition"}, metrics::LatencyBuckets());
  auto& transactions = metrics_.AddCounter("collections_writer_transactions_total",
                                           "Appends of the partition writers (each one a "
                                           "partition's share of a Kafka transaction), by outcome.",
                                           {"partition", "outcome"});
  auto& events = metrics_.AddCounter("collections_writer_events_total",
                                     "Events the writers committed to the log.", {"partition"});
  options_.writer.on_append = [&batch, &commit, &transactions, &events](
                                  int32_t partition, size_t commands, size_t records,
                                  double seconds, bool committed) {
    const std::string p = std::to_string(partition);
    transactions.WithLabels({p, committed ? "committed" : "failed"}).Increment();
    commit.WithLabels({p}).Observe(seconds);
    if (committed) {
      batch.WithLabels({p}).Observe(static_cast<double>(commands));
      events.WithLabels({p}).Increment(static_cast<double>(records));
    }
  };

  auto& kafka_transactions = metrics_.AddCounter(
      "collections_writer_kafka_transactions_total",
      "Kafka transactions the process's writers committed. One holds the appends of every "
      "partition that had commands when it began (collections_writer_transactions_total counts "
      "those per-partition shares), so events per Kafka transaction is "
      "collections_writer_events_total / this.",
      {});
  auto& queue = metrics_.AddGauge("collections_writer_queue_depth",
                                  "Commands waiting for a partition's writer.", {"partition"});
  auto& lag = metrics_.AddGauge(
      "collections_projection_lag_records",
      "Records of a partition a projection has still to apply (log end - applied, less the "
      "last transaction marker).",
      {"projection", "partition"});
  auto& lag_seconds = metrics_.AddGauge(
      "collections_projection_lag_seconds",
      "How far behind a projection is: now - when its newest applied event was recorded, while "
      "records remain to apply; 0 when caught up.",
      {"projection"});
  auto& applied = metrics_.AddCounter("collections_projection_applied_events_total",
                                      "Events a projection applied since the process started.",
                                      {"projection"});
  auto& caught_up = metrics_.AddGauge(
      "collections_projection_caught_up",
      "1 once a projection has applied what the log held when it started.", {"projection"});
  auto& health = metrics_.AddGauge("collections_health_serving",
                                   "1 while the health service says SERVING for the service "
                                   "(\"\" = the whole process).",
                                   {"service"});
  std::vector<std::pair<const RocksDbProperty*, metrics::Family<metrics::Gauge>*>> rocksdb;
  for (const auto& p : kRocksDbProperties) {
    rocksdb.emplace_back(&p, &metrics_.AddGauge(p.metric, p.help, {"db"}));
  }

  metrics_.AddCollectHook([this, &kafka_transactions, &queue, &lag, &lag_seconds, &applied,
                           &caught_up, &health, rocksdb] {
    std::lock_guard lock(collect_mutex_);
    if (!collectable_) return;
    kafka_transactions.WithLabels({}).Set(static_cast<double>(router_->kafka_transactions()));
    const auto depths = router_->queue_depths();
    for (size_t p = 0; p < depths.size(); ++p) {
      queue.WithLabels({std::to_string(p)}).Set(static_cast<double>(depths[p]));
    }
    const int64_t now_ms = absl::ToUnixMillis(absl::Now());
    for (auto [name, projector] : {std::pair<const char*, Projector*>{"accounts", projector_.get()},
                                   {"reporting", reporting_projector_.get()},
                                   {"customers", customer_projector_.get()}}) {
      int64_t behind = 0;
      const auto offsets = projector->applied_offsets();
      for (int32_t p = 0; p < projector->partitions(); ++p) {
        auto it = offsets.find(p);
        const int64_t next = it == offsets.end() ? 0 : it->second;
        auto end = projector->LogEnd(p, next);
        if (!end) continue;  // the broker cannot say now; keep the last value
        // The offset before the end is a transaction marker (every record is written in a
        // transaction), never a record to apply.
        const int64_t records = std::max<int64_t>(0, end.value() - next - 1);
        lag.WithLabels({name, std::to_string(p)}).Set(static_cast<double>(records));
        behind += records;
      }
      const int64_t last = projector->last_applied_recorded_ms();
      lag_seconds.WithLabels({name}).Set(behind > 0 && last > 0 ? (now_ms - last) / 1000.0 : 0);
      applied.WithLabels({name}).Set(static_cast<double>(projector->applied_events()));
      caught_up.WithLabels({name}).Set(projector->caught_up() ? 1 : 0);
    }
    for (const auto& [property, family] : rocksdb) {
      family->WithLabels({"accounts"}).Set(
          static_cast<double>(store_->IntProperty(property->property)));
      family->WithLabels({"reporting"}).Set(
          static_cast<double>(reporting_store_->IntProperty(property->property)));
      family->WithLabels({"customers"}).Set(
          static_cast<double>(customer_store_->IntProperty(property->property)));
    }
    const HealthReport report = Health();
    health.WithLabels({kCommandService}).Set(report.commands);
    health.WithLabels({kQueryService}).Set(report.queries);
    health.WithLabels({kComplianceService}).Set(report.compliance);
    health.WithLabels({kReportingService}).Set(report.reporting);
    health.WithLabels({kCustomerQueryService}).Set(report.customers);
    health.WithLabels({""}).Set(report.all());
  });
}

void ServerApp::StartCollecting() {
  std::lock_guard lock(collect_mutex_);
  collectable_ = true;
}

void ServerApp::StopCollecting() {
  std::lock_guard lock(collect_mutex_);
  collectable_ = false;
}

}  // namespace collections
