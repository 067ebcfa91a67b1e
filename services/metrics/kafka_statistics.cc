#include "services/metrics/kafka_statistics.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace collections::metrics {

KafkaStatistics::KafkaStatistics(Registry& registry)
    : queued_(registry.AddGauge("collections_kafka_client_queued_messages",
                                "Messages in a Kafka client's queues (librdkafka msg_cnt).",
                                {"client"})),
      tx_messages_(registry.AddCounter("collections_kafka_client_tx_messages_total",
                                       "Messages a Kafka client sent to brokers (txmsgs).",
                                       {"client"})),
      rx_messages_(registry.AddCounter("collections_kafka_client_rx_messages_total",
                                       "Messages a Kafka client received from brokers (rxmsgs).",
                                       {"client"})),
      broker_up_(registry.AddGauge("collections_kafka_broker_up",
                                   "1 while a client's connection to a broker is UP, else 0.",
                                   {"client", "broker"})),
      rtt_(registry.AddGauge("collections_kafka_broker_rtt_seconds",
                             "Broker request round-trip time over the last statistics window.",
                             {"client", "broker", "quantile"})),
      tx_errors_(registry.AddCounter("collections_kafka_broker_tx_errors_total",
                                     "Request transmit errors to a broker (txerrs).",
                                     {"client", "broker"})),
      timeouts_(registry.AddCounter("collections_kafka_broker_request_timeouts_total",
                                    "Requests to a broker that timed out (req_timeouts).",
                                    {"client", "broker"})),
      lag_(registry.AddGauge("collections_kafka_consumer_lag_messages",
                             "A consumer's lag behind the partition's end (consumer_lag).",
                             {"client", "topic", "partition"})),
      documents_(registry.AddCounter("collections_kafka_statistics_total",
                                     "librdkafka statistics documents received.", {"client"})) {}

bool KafkaStatistics::Update(std::string_view json) {
  const nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("name") || !doc["name"].is_string()) return false;
  const auto number = [](const nlohmann::json& o, const char* key) -> double {
    auto it = o.find(key);
    return it != o.end() && it->is_number() ? it->get<double>() : 0.0;
  };
  const std::string client = doc["name"].get<std::string>();
  documents_.WithLabels({client}).Increment();
  queued_.WithLabels({client}).Set(number(doc, "msg_cnt"));
  tx_messages_.WithLabels({client}).Set(number(doc, "txmsgs"));
  rx_messages_.WithLabels({client}).Set(number(doc, "rxmsgs"));
  if (auto brokers = doc.find("brokers"); brokers != doc.end() && brokers->is_object()) {
    for (const auto& [name, broker] : brokers->items()) {
      if (!broker.is_object()) continue;
      // Internal and logical pseudo-brokers (the coordinator handles) carry no traffic of
      // their own.
      const std::string source = broker.value("source", std::string());
      if (source == "internal" || source == "logical") continue;
      broker_up_.WithLabels({client, name}).Set(broker.value("state", std::string()) == "UP");
      tx_errors_.WithLabels({client, name}).Set(number(broker, "txerrs"));
      timeouts_.WithLabels({client, name}).Set(number(broker, "req_timeouts"));
      if (auto rtt = broker.find("rtt"); rtt != broker.end() && rtt->is_object()) {
        // librdkafka reports microseconds; a window without requests reports 0.
        rtt_.WithLabels({client, name, "avg"}).Set(number(*rtt, "avg") / 1e6);
        rtt_.WithLabels({client, name, "p99"}).Set(number(*rtt, "p99") / 1e6);
      }
    }
  }
  if (auto topics = doc.find("topics"); topics != doc.end() && topics->is_object()) {
    for (const auto& [topic, t] : topics->items()) {
      auto partitions = t.find("partitions");
      if (partitions == t.end() || !partitions->is_object()) continue;
      for (const auto& [partition, p] : partitions->items()) {
        if (partition == "-1" || !p.is_object()) continue;  // -1: the unassigned pseudo-partition
        // consumer_lag counts from the committed offset; the service keeps its offsets in
        // RocksDB and commits none, so it is -1 there: then measure from what the application
        // was handed (app_offset) to the last stable offset.
        double lag = number(p, "consumer_lag");
        if (lag < 0 && p.contains("ls_offset") && p.contains("app_offset")) {
          const double ls = number(p, "ls_offset"), app = number(p, "app_offset");
          if (ls >= 0 && app >= 0) lag = std::max(0.0, ls - app);
        }
        if (lag >= 0 && p.value("fetch_state", std::string()) == "active") {
          lag_.WithLabels({client, topic, partition}).Set(lag);
        }
      }
    }
  }
  return true;
}

}  // namespace collections::metrics
