#define BOOST_TEST_MODULE partitioner
#include "services/kafka/kafka.h"

#include <librdkafka/rdkafka.h>

#include <boost/test/unit_test.hpp>

namespace collections::kafka {
namespace {

// Vectors from Apache Kafka's UtilsTest.testMurmur2: a consumer in Java must find an
// account in the partition we wrote it to.
BOOST_AUTO_TEST_CASE(murmur2_matches_the_java_client) {
  BOOST_TEST(Murmur2("21") == -973932308);
  BOOST_TEST(Murmur2("foobar") == -790332482);
  BOOST_TEST(Murmur2("a-little-bit-long-string") == -985981536);
  BOOST_TEST(Murmur2("a-little-bit-longer-string") == -1486304829);
  BOOST_TEST(Murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == -58897971);
  BOOST_TEST(Murmur2("abc") == 479470107);
}

// librdkafka's "murmur2" partitioner is its Java-compatible one; ours must agree for every key.
BOOST_AUTO_TEST_CASE(partition_matches_librdkafka_murmur2_partitioner) {
  char err[256];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
  BOOST_REQUIRE(rk != nullptr);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, "t", nullptr);
  for (int i = 0; i < 2000; ++i) {
    std::string key = "ACC-" + std::to_string(i * 7919);
    for (int32_t n : {1, 3, 4, 12}) {
      int32_t theirs =
          rd_kafka_msg_partitioner_murmur2(rkt, key.data(), key.size(), n, nullptr, nullptr);
      BOOST_TEST_REQUIRE(PartitionFor(key, n) == theirs, "key " << key << " partitions " << n);
    }
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
}

}  // namespace
}  // namespace collections::kafka
