#pragma once

#include "services/metrics/metrics.h"

#include <string_view>

namespace collections::metrics {

// Turns librdkafka's statistics (the JSON its stats callback delivers every
// statistics.interval.ms) into metrics, labelled by the client's name (client.id):
//   collections_kafka_client_queued_messages        messages waiting in the client's queues
//   collections_kafka_client_tx_messages_total      messages sent to brokers
//   collections_kafka_client_rx_messages_total      messages received from brokers
//   collections_kafka_broker_up                     1 while the connection is UP
//   collections_kafka_broker_rtt_seconds            request round trip, average and p99
//   collections_kafka_broker_tx_errors_total        request transmit errors
//   collections_kafka_broker_request_timeouts_total requests that timed out
//   collections_kafka_consumer_lag_messages         a consumer's lag on each partition
// Thread-safe (librdkafka calls it on its own threads).
class KafkaStatistics {
 public:
  explicit KafkaStatistics(Registry& registry);

  // Applies one statistics document; returns false (and changes nothing) when it is not the
  // JSON librdkafka writes.
  bool Update(std::string_view json);

 private:
  Family<Gauge>& queued_;
  Family<Counter>& tx_messages_;
  Family<Counter>& rx_messages_;
  Family<Gauge>& broker_up_;
  Family<Gauge>& rtt_;
  Family<Counter>& tx_errors_;
  Family<Counter>& timeouts_;
  Family<Gauge>& lag_;
  Family<Counter>& documents_;
};

}  // namespace collections::metrics
