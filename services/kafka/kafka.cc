#include "services/kafka/kafka.h"

#include "absl/strings/str_cat.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <thread>

namespace collections::kafka {
namespace {

Error Unavailable(std::string message) {
  return Error{Errc::kUnavailable, "LOG_UNAVAILABLE", std::move(message), {}, {}};
}

// Applies the common and extra properties; returns the first property librdkafka refused.
Status Configure(RdKafka::Conf& conf, const LogOptions& options,
                 const std::map<std::string, std::string>& own) {
  std::string err;
  std::map<std::string, std::string> all = own;
  all["bootstrap.servers"] = options.bootstrap;
  for (const auto& [k, v] : options.extra) all[k] = v;
  for (const auto& [k, v] : all) {
    if (conf.set(k, v, err) != RdKafka::Conf::CONF_OK) {
      return Error{Errc::kInvalidArgument,
                   "BAD_KAFKA_CONFIG",
                   absl::StrCat("librdkafka property ", k, "=", v, ": ", err),
                   k,
                   {}};
    }
  }
  return std::nullopt;
}

// Records each message's delivery outcome into the slot its opaque points at.
struct DeliverySlot {
  RdKafka::ErrorCode error = RdKafka::ERR__IN_PROGRESS;
  int64_t offset = -1;
};

class DeliveryRecorder final : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    auto* slot = static_cast<DeliverySlot*>(message.msg_opaque());
    if (slot == nullptr) return;
    slot->error = message.err();
    slot->offset = message.offset();
  }
};

std::string Describe(const RdKafka::Error* e) {
  return absl::StrCat(e->name(), ": ", e->str(), e->is_fatal() ? " (fatal)" : "",
                      e->txn_requires_abort() ? " (abortable)" : "",
                      e->is_retriable() ? " (retriable)" : "");
}

class TransactionalProducerImpl final : public TransactionalProducer {
 public:
  TransactionalProducerImpl(std::unique_ptr<RdKafka::Producer> producer,
                            std::unique_ptr<DeliveryRecorder> recorder, std::string topic)
      : recorder_(std::move(recorder)), producer_(std::move(producer)), topic_(std::move(topic)) {}

  ~TransactionalProducerImpl() override {
    // Nothing is in flight between Append calls; a short flush only drains bookkeeping.
    producer_->flush(1000);
  }

  Status Init(int timeout_ms) override {
    std::unique_ptr<RdKafka::Error> e(producer_->init_transactions(timeout_ms));
    if (e) {
      if (e->is_fatal()) fatal_ = true;
      return Unavailable("init_transactions: " + Describe(e.get()));
    }
    return std::nullopt;
  }

  Result<std::vector<int64_t>> Append(int32_t partition,
                                      const std::vector<Record>& records) override {
    if (fatal_) return Unavailable("producer is fenced or failed fatally");
    if (std::unique_ptr<RdKafka::Error> e(producer_->begin_transaction()); e) {
      if (e->is_fatal()) fatal_ = true;
      return Unavailable("begin_transaction: " + Describe(e.get()));
    }
    std::vector<DeliverySlot> slots(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      const Record& r = records[i];
      RdKafka::Headers* headers = RdKafka::Headers::create();
      for (const auto& [k, v] : r.headers) headers->add(k, v.data(), v.size());
      for (;;) {
        RdKafka::ErrorCode err = producer_->produce(
            topic_, partition, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(r.value.data()),
            r.value.size(), r.key.data(), r.key.size(), r.timestamp_ms, headers, &slots[i]);
        if (err == RdKafka::ERR_NO_ERROR) break;  // librdkafka owns `headers` now
        if (err == RdKafka::ERR__QUEUE_FULL) {
          producer_->poll(10);
          continue;
        }
        delete headers;
        return AbortWith("produce: " + RdKafka::err2str(err));
      }
    }
    // commit_transaction flushes and serves the delivery reports before committing.
    for (int attempt = 0;; ++attempt) {
      std::unique_ptr<RdKafka::Error> e(producer_->commit_transaction(30000));
      if (!e) break;
      if (e->is_retriable() && attempt < 3) continue;
      if (e->txn_requires_abort()) return AbortWith("commit_transaction: " + Describe(e.get()));
      fatal_ = true;
      return Unavailable("commit_transaction: " + Describe(e.get()));
    }
    std::vector<int64_t> offsets;
    offsets.reserve(slots.size());
    for (const auto& s : slots) {
      if (s.error != RdKafka::ERR_NO_ERROR) {
        // The commit succeeded, so every record is in the log; a missing report would be a
        // librdkafka bug. Fail loudly rather than reply with a wrong offset.
        fatal_ = true;
        return Error{
            Errc::kInternal,
            "DELIVERY_REPORT_MISSING",
            "transaction committed but a delivery report says " + RdKafka::err2str(s.error),
            {},
            {}};
      }
      offsets.push_back(s.offset);
    }
    return offsets;
  }

  bool fatal() const override { return fatal_; }

 private:
  Error AbortWith(std::string what) {
    std::unique_ptr<RdKafka::Error> e(producer_->abort_transaction(30000));
    if (e) {
      fatal_ = true;
      what += "; abort_transaction: " + Describe(e.get());
    }
    return Unavailable(std::move(what));
  }

  // Declared before producer_ so it outlives it (librdkafka calls it until destruction).
  std::unique_ptr<DeliveryRecorder> recorder_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::string topic_;
  bool fatal_ = false;
};

class LogReaderImpl final : public LogReader {
 public:
  LogReaderImpl(std::unique_ptr<RdKafka::KafkaConsumer> consumer, std::string topic)
      : consumer_(std::move(consumer)), topic_(std::move(topic)) {}

  ~LogReaderImpl() override { consumer_->close(); }

  Status Assign(const std::map<int32_t, int64_t>& start_offsets) override {
    std::vector<RdKafka::TopicPartition*> parts;
    for (const auto& [p, offset] : start_offsets) {
      parts.push_back(RdKafka::TopicPartition::create(topic_, p, offset));
    }
    RdKafka::ErrorCode err = consumer_->assign(parts);
    RdKafka::TopicPartition::destroy(parts);
    if (err != RdKafka::ERR_NO_ERROR) return Unavailable("assign: " + RdKafka::err2str(err));
    return std::nullopt;
  }

  Result<std::vector<ConsumedRecord>> Poll(int max_records, int timeout_ms,
                                           std::vector<int32_t>* reached_end) override {
    std::vector<ConsumedRecord> out;
    int wait = timeout_ms;
    while (static_cast<int>(out.size()) < max_records) {
      std::unique_ptr<RdKafka::Message> m(consumer_->consume(wait));
      wait = 0;  // after the first message, take only what is already here
      switch (m->err()) {
        case RdKafka::ERR_NO_ERROR: {
          ConsumedRecord r;
          r.partition = m->partition();
          r.offset = m->offset();
          if (m->key() != nullptr) r.key = *m->key();
          r.value.assign(static_cast<const char*>(m->payload()), m->len());
          if (RdKafka::Headers* h = m->headers()) {
            for (const auto& header : h->get_all()) {
              r.headers.emplace_back(
                  header.key(),
                  std::string(static_cast<const char*>(header.value()), header.value_size()));
            }
          }
          out.push_back(std::move(r));
          break;
        }
        case RdKafka::ERR__PARTITION_EOF:
          if (reached_end != nullptr) reached_end->push_back(m->partition());
          break;
        case RdKafka::ERR__TIMED_OUT:
          return out;
        default:
          if (out.empty()) return Unavailable("consume: " + m->errstr());
          return out;  // report the error on the next call, after these are handled
      }
    }
    return out;
  }

  Result<int64_t> HighWatermark(int32_t partition, int timeout_ms) override {
    int64_t low = 0, high = 0;
    // Right after a topic is created its leaders may not be known yet: retry those errors.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      RdKafka::ErrorCode err =
          consumer_->query_watermark_offsets(topic_, partition, &low, &high, timeout_ms);
      if (err == RdKafka::ERR_NO_ERROR) return high;
      const bool transient = err == RdKafka::ERR_NOT_LEADER_FOR_PARTITION ||
                             err == RdKafka::ERR_LEADER_NOT_AVAILABLE ||
                             err == RdKafka::ERR_UNKNOWN_TOPIC_OR_PART ||
                             err == RdKafka::ERR__TRANSPORT || err == RdKafka::ERR__TIMED_OUT;
      if (!transient || std::chrono::steady_clock::now() >= deadline) {
        return Unavailable("watermarks: " + RdKafka::err2str(err));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::string topic_;
};

}  // namespace

int32_t Murmur2(std::string_view data) {
  const uint32_t length = static_cast<uint32_t>(data.size());
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  uint32_t h = 0x9747b28c ^ length;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const uint32_t length4 = length / 4;
  for (uint32_t i = 0; i < length4; ++i) {
    uint32_t k = static_cast<uint32_t>(bytes[i * 4]) |
                 (static_cast<uint32_t>(bytes[i * 4 + 1]) << 8) |
                 (static_cast<uint32_t>(bytes[i * 4 + 2]) << 16) |
                 (static_cast<uint32_t>(bytes[i * 4 + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const uint32_t tail = length & ~3u;
  switch (length % 4) {
    case 3:
      h ^= static_cast<uint32_t>(bytes[tail + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(bytes[tail + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<uint32_t>(bytes[tail]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t PartitionFor(std::string_view key, int32_t partitions) {
  return static_cast<int32_t>((static_cast<uint32_t>(Murmur2(key)) & 0x7fffffffu) %
                              static_cast<uint32_t>(partitions));
}

Result<int32_t> EnsureTopic(const LogOptions& options) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> props = options.extra;
  props["bootstrap.servers"] = options.bootstrap;
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Error{Errc::kInvalidArgument, "BAD_KAFKA_CONFIG", errstr, k, {}};
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Unavailable(std::string("client: ") + errstr);
  }
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> client(rk, &rd_kafka_destroy);

  rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(
      options.topic.c_str(), options.partitions, options.replication_factor, errstr, sizeof errstr);
  if (topic == nullptr) return Error::InvalidArgument("topic", errstr);
  // Retention forever: the topic is the system of record.
  rd_kafka_NewTopic_set_config(topic, "retention.ms", "-1");
  rd_kafka_NewTopic_set_config(topic, "cleanup.policy", "delete");
  if (options.replication_factor > 1)
    rd_kafka_NewTopic_set_config(topic, "min.insync.replicas", "2");
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* admin = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(admin, 30000, errstr, sizeof errstr);
  rd_kafka_CreateTopics(rk, &topic, 1, admin, queue);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, 60000);
  std::string failure;
  if (ev == nullptr) {
    failure = "CreateTopics timed out after 60 s";
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failure = rd_kafka_event_error_string(ev);
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &count);
    for (size_t i = 0; i < count; ++i) {
      rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        failure = rd_kafka_topic_result_error_string(results[i]);
      }
    }
  }
  if (ev != nullptr) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(admin);
  rd_kafka_NewTopic_destroy(topic);
  rd_kafka_queue_destroy(queue);
  if (!failure.empty()) return Unavailable("creating topic " + options.topic + ": " + failure);

  // The metadata can lag the creation by a moment.
  for (int attempt = 0; attempt < 50; ++attempt) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, options.topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
    int32_t partitions = 0;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 && md->topics[0].err == 0) {
      partitions = md->topics[0].partition_cnt;
    }
    if (md != nullptr) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    if (partitions > 0) return partitions;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Unavailable("topic " + options.topic + " has no partitions in the metadata after 5 s");
}

Result<std::unique_ptr<TransactionalProducer>> TransactionalProducer::Create(
    const LogOptions& options, const std::string& transactional_id) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  auto recorder = std::make_unique<DeliveryRecorder>();
  if (auto e = Configure(*conf, options,
                         {{"transactional.id", transactional_id},
                          {"enable.idempotence", "true"},
                          {"acks", "all"},
                          {"client.id", transactional_id},
                          // A group commit is produced and then committed at once: no need to
                          // wait for more records.
                          {"linger.ms", "0"},
                          // A transaction begun right after a commit can meet the broker still
                          // writing the previous markers (CONCURRENT_TRANSACTIONS); the default
                          // 100 ms back-off would then stall every group commit.
                          {"retry.backoff.ms", "5"},
                          {"transaction.timeout.ms", "60000"}})) {
    return *e;
  }
  std::string err;
  conf->set("dr_cb", recorder.get(), err);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  if (!producer) return Unavailable("producer: " + err);
  return std::unique_ptr<TransactionalProducer>(
      new TransactionalProducerImpl(std::move(producer), std::move(recorder), options.topic));
}

Result<std::unique_ptr<LogReader>> LogReader::Create(const LogOptions& options,
                                                     const std::string& client_id) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  // Partitions are assigned by hand and offsets are kept by the reader's owner (the writer's
  // state or the projection's WriteBatch), so the group is never joined and nothing is
  // committed to Kafka.
  if (auto e = Configure(*conf, options,
                         {{"group.id", client_id},
                          {"client.id", client_id},
                          {"isolation.level", "read_committed"},
                          {"enable.auto.commit", "false"},
                          {"enable.auto.offset.store", "false"},
                          {"enable.partition.eof", "true"},
                          {"auto.offset.reset", "earliest"},
                          {"fetch.wait.max.ms", "20"}})) {
    return *e;
  }
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer) return Unavailable("consumer: " + err);
  return std::unique_ptr<LogReader>(new LogReaderImpl(std::move(consumer), options.topic));
}

}  // namespace collections::kafka
