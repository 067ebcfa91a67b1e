#define BOOST_TEST_MODULE metrics
#include "services/metrics/http_server.h"
#include "services/metrics/kafka_statistics.h"
#include "services/metrics/metrics.h"

#include <boost/test/unit_test.hpp>
#include <httplib.h>

namespace collections::metrics {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

BOOST_AUTO_TEST_CASE(counters_and_gauges_render_with_help_type_and_labels) {
  Registry registry;
  auto& commands = registry.AddCounter("collections_commands_total", "Commands by outcome.",
                                       {"rpc", "outcome"});
  commands.WithLabels({"PostPayment", "ok"}).Increment();
  commands.WithLabels({"PostPayment", "ok"}).Increment();
  commands.WithLabels({"RecordContact", "blocked \"F1\"\n"}).Increment(3);
  registry.AddGauge("collections_queue_depth", "Queued commands.", {"partition"})
      .WithLabels({"0"})
      .Set(7.5);
  const std::string text = registry.Render();
  BOOST_TEST(Has(text, "# HELP collections_commands_total Commands by outcome."));
  BOOST_TEST(Has(text, "# TYPE collections_commands_total counter"));
  BOOST_TEST(Has(text, "collections_commands_total{rpc=\"PostPayment\",outcome=\"ok\"} 2"));
  BOOST_TEST(Has(text, "collections_commands_total{rpc=\"RecordContact\","
                       "outcome=\"blocked \\\"F1\\\"\\n\"} 3"));
  BOOST_TEST(Has(text, "# TYPE collections_queue_depth gauge"));
  BOOST_TEST(Has(text, "collections_queue_depth{partition=\"0\"} 7.5"));
  // Families are sorted by name, whatever their kind.
  BOOST_TEST(text.find("collections_commands_total") < text.find("collections_queue_depth"));
}

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative_and_end_in_inf) {
  Registry registry;
  auto& h = registry.AddHistogram("collections_rpc_duration_seconds", "Latency.", {"rpc"},
                                  {0.01, 0.1, 1});
  auto& child = h.WithLabels({"OpenCase"});
  child.Observe(0.005);
  child.Observe(0.05);
  child.Observe(0.05);
  child.Observe(5);
  const std::string text = registry.Render();
  BOOST_TEST(Has(text, "# TYPE collections_rpc_duration_seconds histogram"));
  BOOST_TEST(Has(text, "collections_rpc_duration_seconds_bucket{rpc=\"OpenCase\",le=\"0.01\"} 1"));
  BOOST_TEST(Has(text, "collections_rpc_duration_seconds_bucket{rpc=\"OpenCase\",le=\"0.1\"} 3"));
  BOOST_TEST(Has(text, "collections_rpc_duration_seconds_bucket{rpc=\"OpenCase\",le=\"1\"} 3"));
  BOOST_TEST(Has(text, "collections_rpc_duration_seconds_bucket{rpc=\"OpenCase\",le=\"+Inf\"} 4"));
  BOOST_TEST(Has(text, "collections_rpc_duration_seconds_count{rpc=\"OpenCase\"} 4"));
  BOOST_TEST(Has(text, "collections_rpc_duration_seconds_sum{rpc=\"OpenCase\"} 5.105"));
}

BOOST_AUTO_TEST_CASE(process_metrics_read_proc_self) {
  Registry registry;
  AddProcessMetrics(registry);
  const std::string text = registry.Render();
  BOOST_TEST(text.find("process_resident_memory_bytes ") != std::string::npos);
  BOOST_TEST(text.find("process_resident_memory_bytes 0\n") == std::string::npos);
  BOOST_TEST(Has(text, "process_threads 1"));  // this test runs on one thread
  BOOST_TEST(text.find("process_cpu_seconds_total ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(librdkafka_statistics_become_metrics) {
  Registry registry;
  KafkaStatistics stats(registry);
  BOOST_TEST(!stats.Update("not json"));
  BOOST_TEST(stats.Update(R"({
    "name": "tx-writer-0#producer-1", "type": "producer", "msg_cnt": 3, "txmsgs": 120,
    "rxmsgs": 0,
    "brokers": {
      "127.0.0.1:9092/1": {"state": "UP", "source": "learned", "txerrs": 2,
                           "req_timeouts": 1, "rtt": {"avg": 1500, "p99": 4000}},
      "GroupCoordinator": {"state": "UP", "source": "logical", "txerrs": 0}
    },
    "topics": {"events": {"partitions": {
      "0": {"consumer_lag": 42, "fetch_state": "active"},
      "1": {"consumer_lag": -1, "ls_offset": 100, "app_offset": 93, "fetch_state": "active"},
      "-1": {"consumer_lag": -1, "fetch_state": "none"}}}}
  })"));
  const std::string text = registry.Render();
  const std::string client = "client=\"tx-writer-0#producer-1\"";
  BOOST_TEST(Has(text, "collections_kafka_client_queued_messages{" + client + "} 3"));
  BOOST_TEST(Has(text, "collections_kafka_client_tx_messages_total{" + client + "} 120"));
  BOOST_TEST(Has(text, "collections_kafka_broker_tx_errors_total{" + client +
                           ",broker=\"127.0.0.1:9092/1\"} 2"));
  BOOST_TEST(Has(text, "collections_kafka_broker_rtt_seconds{" + client +
                           ",broker=\"127.0.0.1:9092/1\",quantile=\"avg\"} 0.0015"));
  BOOST_TEST(
      Has(text, "collections_kafka_broker_up{" + client + ",broker=\"127.0.0.1:9092/1\"} 1"));
  BOOST_TEST(text.find("GroupCoordinator") == std::string::npos);
  BOOST_TEST(Has(text, "collections_kafka_consumer_lag_messages{" + client +
                           ",topic=\"events\",partition=\"0\"} 42"));
  BOOST_TEST(Has(text, "collections_kafka_consumer_lag_messages{" + client +
                           ",topic=\"events\",partition=\"1\"} 7"));
}

BOOST_AUTO_TEST_CASE(metrics_are_served_over_http) {
  Registry registry;
  registry.AddCounter("collections_test_total", "A test counter.").Get().Increment(5);
  MetricsServer server(registry);
  BOOST_REQUIRE(!server.Start("127.0.0.1:0").has_value());
  BOOST_REQUIRE(server.port() > 0);
  httplib::Client client("127.0.0.1", server.port());
  auto response = client.Get("/metrics");
  BOOST_REQUIRE(response);
  BOOST_TEST(response->status == 200);
  BOOST_TEST(response->get_header_value("Content-Type") == kExpositionContentType);
  BOOST_TEST(Has(response->body, "collections_test_total 5"));
  // A second server cannot take the same port.
  MetricsServer second(registry);
  BOOST_TEST(second.Start("127.0.0.1:" + std::to_string(server.port())).has_value());
  MetricsServer bad(registry);
  BOOST_TEST(bad.Start("nonsense").has_value());
  server.Stop();
}

}  // namespace
}  // namespace collections::metrics
