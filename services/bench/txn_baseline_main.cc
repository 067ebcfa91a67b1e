// collections-txn-baseline: the bare Kafka transaction, without the service. A librdkafka
// transactional producer (acks=all, idempotent, the service's settings) commits transactions of
// --records-per-txn records of --record-size bytes spread over --partitions partitions, back to
// back, for --duration seconds, and prints transactions/s, records/s and the round trip of one
// transaction (begin, produce, commit). deploy/bench.sh runs it in the same run as the service
// to give the ceilings the service is compared with.
#include "services/common/flags.h"
#include "services/kafka/kafka.h"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

class Reports final : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() != RdKafka::ERR_NO_ERROR) ++failed;
  }
  int64_t failed = 0;
};

std::unique_ptr<RdKafka::Producer> MakeProducer(const std::string& bootstrap,
                                                const std::string& transactional_id,
                                                const std::map<std::string, std::string>& extra,
                                                Reports* reports, std::string* error) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"bootstrap.servers", bootstrap},
           {"transactional.id", transactional_id},
           {"enable.idempotence", "true"},
           {"acks", "all"},
           {"linger.ms", "0"},
           {"retry.backoff.ms", "5"}}) {
    if (conf->set(k, v, *error) != RdKafka::Conf::CONF_OK) return nullptr;
  }
  for (const auto& [k, v] : extra) {
    if (conf->set(k, v, *error) != RdKafka::Conf::CONF_OK) return nullptr;
  }
  if (conf->set("dr_cb", reports, *error) != RdKafka::Conf::CONF_OK) return nullptr;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), *error));
  if (!producer) return nullptr;
  if (std::unique_ptr<RdKafka::Error> e(producer->init_transactions(30000)); e) {
    *error = "init_transactions: " + e->str();
    return nullptr;
  }
  return producer;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bootstrap = "127.0.0.1:19092";
  std::string topic = "bench.txn-baseline";
  std::string transactional_id = "collections-txn-baseline";
  int partition = 0;
  int partitions = 1;
  int records_per_txn = 1;
  int record_size = 256;
  int duration_s = 10;
  bool alternate = false;
  int pause_ms = 0;
  std::map<std::string, std::string> kafka_properties;
  collections::FlagParser flags(
      "collections-txn-baseline",
      "The bare Kafka transaction the service's group commit is built on: one librdkafka\n"
      "transactional producer (acks=all, idempotent, linger.ms=0) commits transactions of\n"
      "--records-per-txn records of --record-size bytes to --partitions partitions of --topic\n"
      "(created with 24 partitions when missing) from --partition on, in turn, back to back, for\n"
      "--duration seconds. Prints transactions/s, records/s and the transaction round trip\n"
      "(begin, produce, commit) p50/p99.");
  flags.Add("bootstrap", &bootstrap, "Kafka bootstrap servers");
  flags.Add("topic", &topic, "topic to write");
  flags.Add("partition", &partition, "first partition to write");
  flags.Add("partitions", &partitions,
            "partitions each transaction writes (its records go to them in turn, as a group "
            "commit of several accounts does)");
  flags.Add("transactional-id", &transactional_id, "transactional.id (unique per run)");
  flags.Add("records-per-txn", &records_per_txn, "records in each transaction");
  flags.Add("record-size", &record_size, "bytes per record value");
  flags.Add("duration", &duration_s, "seconds to run");
  flags.Add("alternate", &alternate,
            "use two transactional ids in turn, as the service's writers do");
  flags.Add("pause-ms", &pause_ms,
            "idle time between transactions (0 = back to back): the round trip of a producer "
            "that was idle");
  flags.AddProperties("kafka", &kafka_properties,
                      "extra librdkafka producer property (key=value), e.g. the service's "
                      "[kafka] settings",
                      "kafka", "KAFKA");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  if (records_per_txn < 1 || record_size < 1 || duration_s < 1 || partition < 0 || pause_ms < 0 ||
      partitions < 1 || partitions > 24) {
    std::fprintf(stderr,
                 "collections-txn-baseline: --records-per-txn, --record-size and --duration must "
                 "be >= 1, --partition >= 0, --partitions between 1 and 24\n");
    return 2;
  }
  collections::kafka::LogOptions log;
  log.bootstrap = bootstrap;
  log.topic = topic;
  log.partitions = 24;
  auto topic_partitions = collections::kafka::EnsureTopic(log);
  if (!topic_partitions) {
    std::fprintf(stderr, "collections-txn-baseline: topic %s: %s\n", topic.c_str(),
                 topic_partitions.error().message.c_str());
    return 1;
  }
  const int32_t in_topic = std::max<int32_t>(1, topic_partitions.value());
  if (partitions > in_topic) {
    std::fprintf(stderr, "collections-txn-baseline: --partitions %d: topic %s has %d\n",
                 partitions, topic.c_str(), in_topic);
    return 2;
  }
  Reports reports;
  std::vector<std::unique_ptr<RdKafka::Producer>> producers;
  for (int i = 0; i < (alternate ? 2 : 1); ++i) {
    std::string error;
    auto p = MakeProducer(bootstrap, transactional_id + (i == 0 ? "" : "-b"), kafka_properties,
                          &reports, &error);
    if (!p) {
      std::fprintf(stderr, "collections-txn-baseline: producer: %s\n", error.c_str());
      return 1;
    }
    producers.push_back(std::move(p));
  }
  const std::string value(static_cast<size_t>(record_size), 'x');
  const std::string key = "baseline";
  // One untimed transaction per producer over the partitions first: librdkafka holds a
  // producer's first record until it has the topic's metadata (up to a second), a start-up cost
  // the service pays before it serves, not per command.
  for (auto& producer : producers) {
    std::unique_ptr<RdKafka::Error> e(producer->begin_transaction());
    for (int i = 0; !e && i < partitions; ++i) {
      while (producer->produce(topic, (partition + i) % in_topic, RdKafka::Producer::RK_MSG_COPY,
                               const_cast<char*>(value.data()), value.size(), key.data(),
                               key.size(), 0, nullptr) == RdKafka::ERR__QUEUE_FULL) {
        producer->poll(1);
      }
    }
    if (!e) e.reset(producer->commit_transaction(30000));
    if (e) {
      std::fprintf(stderr, "collections-txn-baseline: warm-up transaction: %s\n",
                   e->str().c_str());
      return 1;
    }
  }
  std::vector<double> round_trips_ms;
  int64_t records = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(duration_s);
  for (size_t n = 0; Clock::now() < end; ++n) {
    if (pause_ms > 0 && n > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    RdKafka::Producer& producer = *producers[n % producers.size()];
    const auto t0 = Clock::now();
    if (std::unique_ptr<RdKafka::Error> e(producer.begin_transaction()); e) {
      std::fprintf(stderr, "collections-txn-baseline: begin_transaction: %s\n", e->str().c_str());
      return 1;
    }
    for (int i = 0; i < records_per_txn; ++i) {
      for (;;) {
        RdKafka::ErrorCode err = producer.produce(
            topic, (partition + i % partitions) % in_topic, RdKafka::Producer::RK_MSG_COPY,
            const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0, nullptr);
        if (err == RdKafka::ERR_NO_ERROR) break;
        if (err != RdKafka::ERR__QUEUE_FULL) {
          std::fprintf(stderr, "collections-txn-baseline: produce: %s\n",
                       RdKafka::err2str(err).c_str());
          return 1;
        }
        producer.poll(1);
      }
    }
    if (std::unique_ptr<RdKafka::Error> e(producer.commit_transaction(30000)); e) {
      std::fprintf(stderr, "collections-txn-baseline: commit_transaction: %s\n", e->str().c_str());
      return 1;
    }
    round_trips_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    records += records_per_txn;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(round_trips_ms.begin(), round_trips_ms.end());
  std::printf(
      "collections-txn-baseline: %d record(s) of %d bytes per transaction over %d "
      "partition(s), %s, %.0f s\n",
      records_per_txn, record_size, std::min(partitions, records_per_txn),
      alternate ? "2 transactional ids in turn" : "1 producer", elapsed);
  std::printf("  transactions     %zu (%.0f/s)\n", round_trips_ms.size(),
              static_cast<double>(round_trips_ms.size()) / elapsed);
  std::printf("  records/s        %.0f\n", static_cast<double>(records) / elapsed);
  std::printf("  round trip ms    p50 %.2f  p99 %.2f  max %.2f\n", Percentile(round_trips_ms, 0.5),
              Percentile(round_trips_ms, 0.99),
              round_trips_ms.empty() ? 0.0 : round_trips_ms.back());
  return reports.failed > 0 ? 1 : 0;
}
