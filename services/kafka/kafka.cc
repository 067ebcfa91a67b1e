#include "services/kafka/kafka.h"
#include "services/kafka/client.h"

#include "services/common/log.h"

#include "absl/strings/str_cat.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

namespace collections::kafka {
namespace detail {

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

// Where one record's delivery outcome lands. A report can come in after Append returned (a
// record purged by an abort, a producer torn down mid-transaction), so the slots of a batch
// are owned by the producer until every report has come in: a late report never writes into
// freed memory.
struct DeliveryBatch;
struct DeliverySlot {
  RdKafka::ErrorCode error = RdKafka::ERR__IN_PROGRESS;
  int64_t offset = -1;
  DeliveryBatch* batch = nullptr;
};
struct DeliveryBatch {
  std::vector<DeliverySlot> slots;
  size_t outstanding = 0;  // produced records whose report has not come in yet
};

// Called by librdkafka on the thread that polls (the writer thread, inside poll, flush,
// commit_transaction and abort_transaction).
class DeliveryRecorder final : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    auto* slot = static_cast<DeliverySlot*>(message.msg_opaque());
    if (slot == nullptr) return;
    slot->error = message.err();
    slot->offset = message.offset();
    if (slot->batch != nullptr && slot->batch->outstanding > 0) --slot->batch->outstanding;
  }
};

// librdkafka's log lines go to the service's log as component "librdkafka", the client's name
// first in the message; its syslog severities map to our levels (info and below to debug: a
// cold start would otherwise print dozens of connection lines).
LogLevel LibrdkafkaLevel(int severity) {
  return severity <= RdKafka::Event::EVENT_SEVERITY_ERROR     ? LogLevel::kError
         : severity <= RdKafka::Event::EVENT_SEVERITY_WARNING ? LogLevel::kWarn
                                                               : LogLevel::kDebug;
}

// The log callback of clients made with the C API (EnsureTopic's admin client).
void LogFromC(const rd_kafka_t* rk, int level, const char* facility, const char* text) {
  Log(LibrdkafkaLevel(level), "librdkafka",
      absl::StrCat(rd_kafka_name(rk), " ", facility, ": ", text));
}

}  // namespace detail

namespace {
using namespace detail;

std::string Describe(const RdKafka::Error* e) {
  return absl::StrCat(e->name(), ": ", e->str(), e->is_fatal() ? " (fatal)" : "",
                      e->txn_requires_abort() ? " (abortable)" : "",
                      e->is_retriable() ? " (retriable)" : "");
}

bool IsFence(RdKafka::ErrorCode code) {
  return code == RdKafka::ERR__FENCED || code == RdKafka::ERR_PRODUCER_FENCED ||
         code == RdKafka::ERR_INVALID_PRODUCER_EPOCH;
}

// The record itself is at fault: retrying it can never succeed.
bool IsRecordRefusal(RdKafka::ErrorCode code) {
  return code == RdKafka::ERR_MSG_SIZE_TOO_LARGE || code == RdKafka::ERR_RECORD_LIST_TOO_LARGE ||
         code == RdKafka::ERR_INVALID_RECORD;
}

std::atomic<int>& LeakedHandleCount() {
  static std::atomic<int> count{0};
  return count;
}

// Runs `destroy` (which ends in rd_kafka_destroy, a blocking call) and waits for it at most
// `timeout`. A destroy that does not finish in time is left running on its own thread and
// counted, so a shutdown never hangs on a broker that is gone.
void DestroyBounded(std::function<void()> destroy, std::chrono::milliseconds timeout,
                    const std::string& what) {
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  std::thread worker([destroy = std::move(destroy), done] {
    destroy();
    done->set_value();
  });
  if (finished.wait_for(timeout) == std::future_status::ready) {
    worker.join();
    return;
  }
  worker.detach();
  ++LeakedHandleCount();
  LogWarn("kafka", what, " did not close within ", timeout.count(),
          " ms (broker unreachable?); left to close in the background");
}

class TransactionalProducerImpl final : public TransactionalProducer {
 public:
  TransactionalProducerImpl(std::unique_ptr<RdKafka::Producer> producer,
                            std::unique_ptr<DeliveryRecorder> recorder,
                            std::unique_ptr<ClientEvents> events, std::string topic,
                            std::string name, ProducerTimeouts timeouts,
                            const std::atomic<bool>* stopping)
      : stopping_(stopping),
        recorder_(std::move(recorder)),
        events_(std::move(events)),
        producer_(std::move(producer)),
        topic_(std::move(topic)),
        name_(std::move(name)),
        timeouts_(timeouts) {}

  ~TransactionalProducerImpl() override {
    topic_handle_.reset();  // before the client it belongs to
    // Nothing may wait for the broker here: drop whatever is still queued or in flight (an
    // open transaction is aborted by the broker, or by the next owner's init_transactions).
    producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT |
                     RdKafka::Producer::PURGE_NON_BLOCKING);
    producer_->poll(0);
    // The closure is the only owner of the client and of what its callbacks use, so they are
    // released together, on the closing thread, the client first.
    auto owned = std::make_shared<Owned>();
    owned->producer = std::move(producer_);
    owned->recorder = std::move(recorder_);
    owned->events = std::move(events_);
    owned->deliveries = std::move(deliveries_);
    DestroyBounded(
        [owned = std::move(owned)]() mutable {
          owned->producer.reset();  // rd_kafka_destroy; the callbacks and slots outlive it
          owned.reset();
        },
        std::chrono::milliseconds(2000), "producer " + name_);
  }

  Status Init(int timeout_ms) override {
    if (fenced_ || failed_) return Unavailable("producer " + name_ + " failed earlier");
    std::unique_ptr<RdKafka::Error> e(producer_->init_transactions(timeout_ms));
    if (!e) {
      WarmUpTopic(timeout_ms);
      return std::nullopt;
    }
    NoteError(e.get());
    return Unavailable("init_transactions: " + Describe(e.get()));
  }

  AppendResult AppendParts(const std::vector<Part>& parts) override {
    AppendResult result = AppendOnce(parts);
    NoteEnded(parts, result);
    if (result.outcome == AppendResult::Outcome::kNotCommitted && !result.producer_failed &&
        result.refused_records.empty() && epoch_bumped_) {
      // A transaction after one whose records the broker refused fails with
      // OUT_OF_ORDER_SEQUENCE_NUMBER (the refused records' sequence numbers were skipped); its
      // abort bumped the producer epoch, which resets the sequences. Nothing was recorded, so
      // trying the same records once more is safe, and it keeps innocent commands from failing.
      LogInfo(name_, "retrying the transaction after an epoch bump: ", result.message);
      result = AppendOnce(parts);
      NoteEnded(parts, result);
    }
    return result;
  }

  bool failed() const override { return failed_ || fenced_; }
  bool fenced() const override { return fenced_; }

  // librdkafka 2.0.2 looks up a topic's partitions only when the first record for it is
  // produced, and that record then waits for the next metadata refresh: up to 1 s added to the
  // first transaction of every producer (of every writer after each start or recovery).
  // Asking for the topic's metadata once the producer is initialised makes the first
  // transaction as fast as the others. Best effort: on failure the first one is just slower.
  void WarmUpTopic(int timeout_ms) {
    std::string error;
    // Kept for the producer's life, so the client keeps what it learnt about the topic.
    if (!topic_handle_) {
      topic_handle_.reset(RdKafka::Topic::create(producer_.get(), topic_, nullptr, error));
    }
    if (!topic_handle_) return;
    RdKafka::Metadata* metadata = nullptr;
    if (producer_->metadata(false, topic_handle_.get(), &metadata, timeout_ms) ==
        RdKafka::ERR_NO_ERROR) {
      delete metadata;
    }
  }

 private:
  // Tells each part's guard that the transaction just tried ended, when it did: committed, or
  // aborted with the producer still usable (either leaves one marker in each of its partitions).
  // A failed producer's transaction is settled by the next owner's Init; the writers restore.
  void NoteEnded(const std::vector<Part>& parts, const AppendResult& result) {
    if (result.producer_failed || result.outcome == AppendResult::Outcome::kUnknown) return;
    size_t begin = 0;
    for (const Part& part : parts) {
      const size_t end = begin + part.records->size();
      if (part.guard) {
        std::vector<int64_t> offsets;
        int64_t uncertain = 0;
        offsets.reserve(end - begin);
        for (size_t k = begin; k < end; ++k) {
          offsets.push_back(k < result.offsets.size() ? result.offsets[k] : -1);
          if (result.outcome == AppendResult::Outcome::kNotCommitted && k < uncertain_.size() &&
              uncertain_[k]) {
            ++uncertain;
          }
        }
        part.guard->Ended(offsets, uncertain);
      }
      begin = end;
    }
  }

  AppendResult AppendOnce(const std::vector<Part>& parts) {
    epoch_bumped_ = false;
    uncertain_.clear();
    AppendResult result;
    if (fenced_ || failed_) {
      result.producer_failed = true;
      result.fenced = fenced_;
      result.message = "the producer failed earlier";
      return result;
    }
    PruneDeliveries();
    producer_->poll(0);  // serve error events that came in since the last call
    if (std::unique_ptr<RdKafka::Error> e(producer_->begin_transaction()); e) {
      NoteError(e.get());
      if (!fenced_) failed_ = true;  // a transaction could not even begin: start afresh
      return Finish(result, "begin_transaction: " + Describe(e.get()));
    }
    auto owned = std::make_unique<DeliveryBatch>();
    DeliveryBatch& batch = *owned;
    deliveries_.push_back(std::move(owned));
    size_t total = 0;
    for (const Part& part : parts) total += part.records->size();
    batch.slots.resize(total);
    for (auto& slot : batch.slots) slot.batch = &batch;
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + std::chrono::milliseconds(timeouts_.commit_ms);

    size_t i = 0;  // the record's index across all parts
    for (const Part& part : parts) {
      const int32_t partition = part.partition;
      for (const Record& r : *part.records) {
        RdKafka::Headers* headers = RdKafka::Headers::create();
        for (const auto& [k, v] : r.headers) headers->add(k, v.data(), v.size());
        for (;;) {
          RdKafka::ErrorCode err = producer_->produce(
              topic_, partition, RdKafka::Producer::RK_MSG_COPY,
              const_cast<char*>(r.value.data()), r.value.size(), r.key.data(), r.key.size(),
              r.timestamp_ms, headers, &batch.slots[i]);
          if (err == RdKafka::ERR_NO_ERROR) {  // librdkafka owns `headers` now
            ++batch.outstanding;
            break;
          }
          if (err == RdKafka::ERR__QUEUE_FULL && std::chrono::steady_clock::now() < deadline) {
            producer_->poll(10);
            continue;
          }
          delete headers;
          batch.slots[i].error = err;
          if (err == RdKafka::ERR__FATAL || err == RdKafka::ERR__FENCED) NoteFatal();
          if (fenced_ || failed_) return Finish(result, "produce: " + RdKafka::err2str(err));
          if (IsRecordRefusal(err)) result.refused_records.push_back(i);
          return Abort(result, batch, absl::StrCat("produce of record ", i, ": ",
                                                   RdKafka::err2str(err)));
        }
        ++i;
      }
    }

    if (std::any_of(parts.begin(), parts.end(), [](const Part& p) { return p.guard; })) {
      // Wait for every delivery report (commit_transaction would wait for them first anyway),
      // so the guards see where the records landed before anything is committed.
      while (batch.outstanding > 0 && std::chrono::steady_clock::now() < deadline &&
             !Stopping(started)) {
        producer_->flush(50);
      }
      bool delivered = batch.outstanding == 0;
      for (const auto& s : batch.slots) {
        if (s.error != RdKafka::ERR_NO_ERROR) delivered = false;
      }
      // Undelivered records fail the commit below, which reports them as it always has.
      if (delivered) {
        // Every guard is asked, so each partition with records it did not write is named.
        size_t begin = 0;
        for (size_t p = 0; p < parts.size(); ++p) {
          const size_t end = begin + parts[p].records->size();
          if (parts[p].guard) {
            std::vector<int64_t> offsets;
            offsets.reserve(end - begin);
            for (size_t k = begin; k < end; ++k) offsets.push_back(batch.slots[k].offset);
            if (std::optional<std::string> veto = parts[p].guard->Check(offsets)) {
              result.vetoed_parts.emplace(p, std::move(*veto));
            }
          }
          begin = end;
        }
        if (!result.vetoed_parts.empty()) {
          result.vetoed = true;
          std::string why;
          for (const auto& [p, veto] : result.vetoed_parts) {
            absl::StrAppend(&why, why.empty() ? "" : "; ", "partition ", parts[p].partition,
                            ": ", veto);
          }
          return Abort(result, batch, "not committed: " + why);
        }
      }
    }
    // commit_transaction flushes (serving the delivery reports) and then commits. It is called
    // in short slices so that a broker reported gone is given up on quickly; a retriable
    // timeout resumes the same commit.
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      const int slice = static_cast<int>(std::clamp<int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count(), 1, 500));
      std::unique_ptr<RdKafka::Error> e(producer_->commit_transaction(slice));
      if (!e) break;
      if (e->is_fatal()) {
        NoteError(e.get());
        result.outcome = AppendResult::Outcome::kUnknown;
        return Finish(result, "commit_transaction: " + Describe(e.get()));
      }
      if (e->txn_requires_abort()) {
        epoch_bumped_ = e->code() == RdKafka::ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
        return Abort(result, batch, "commit_transaction: " + Describe(e.get()));
      }
      const auto after = std::chrono::steady_clock::now();
      const bool gone = events_->brokers_down.load() &&
                        after - started >=
                            std::chrono::milliseconds(timeouts_.commit_when_brokers_down_ms);
      if (!e->is_retriable() || after >= deadline || gone || Stopping(started)) {
        // The commit may or may not complete in the background: only a new producer's
        // init_transactions settles it. This one is done.
        failed_ = true;
        result.outcome = AppendResult::Outcome::kUnknown;
        return Finish(result,
                      absl::StrCat("commit_transaction: ", Describe(e.get()),
                                   gone ? "; every broker is down" : "", "; gave up after ",
                                   std::chrono::duration_cast<std::chrono::milliseconds>(
                                       after - started)
                                       .count(),
                                   " ms"));
      }
    }
    events_->brokers_down = false;  // a commit went through: the broker is back
    result.offsets.reserve(batch.slots.size());
    for (const auto& s : batch.slots) {
      if (s.error != RdKafka::ERR_NO_ERROR) {
        // The commit succeeded, so every record is in the log; a missing report would be a
        // librdkafka bug. Do not reply with a wrong offset: the caller learns the truth by
        // restoring from the log.
        failed_ = true;
        result.outcome = AppendResult::Outcome::kUnknown;
        return Finish(result, "transaction committed but a delivery report says " +
                                  RdKafka::err2str(s.error));
      }
      result.offsets.push_back(s.offset);
    }
    result.outcome = AppendResult::Outcome::kCommitted;
    return result;
  }


  // Aborts the current transaction; the abort is retried while retriable, within abort_ms.
  AppendResult Abort(AppendResult& result, DeliveryBatch& batch, std::string what) {
    result.outcome = AppendResult::Outcome::kNotCommitted;
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + std::chrono::milliseconds(timeouts_.abort_ms);
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      const int slice = static_cast<int>(std::clamp<int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count(), 1, 500));
      std::unique_ptr<RdKafka::Error> e(producer_->abort_transaction(slice));
      if (!e) break;
      if (e->is_fatal() || !e->is_retriable() || std::chrono::steady_clock::now() >= deadline ||
          Stopping(started)) {
        NoteError(e.get());
        failed_ = true;
        what += "; abort_transaction: " + Describe(e.get());
        break;
      }
    }
    producer_->poll(0);
    // Records the client or the broker refused themselves: the caller isolates their commands.
    for (size_t i = 0; i < batch.slots.size(); ++i) {
      if (IsRecordRefusal(batch.slots[i].error) &&
          std::find(result.refused_records.begin(), result.refused_records.end(), i) ==
              result.refused_records.end()) {
        result.refused_records.push_back(i);
      }
    }
    std::sort(result.refused_records.begin(), result.refused_records.end());
    // Where the aborted records went: their offsets stay taken in the partition.
    result.offsets.clear();
    result.uncertain_records = 0;
    uncertain_.assign(batch.slots.size(), false);
    for (size_t i = 0; i < batch.slots.size(); ++i) {
      const auto& s = batch.slots[i];
      result.offsets.push_back(s.error == RdKafka::ERR_NO_ERROR ? s.offset : -1);
      if (s.error == RdKafka::ERR__PURGE_INFLIGHT || s.error == RdKafka::ERR__MSG_TIMED_OUT ||
          s.error == RdKafka::ERR__TIMED_OUT || s.error == RdKafka::ERR_REQUEST_TIMED_OUT) {
        ++result.uncertain_records;
        uncertain_[i] = true;
      }
    }
    return Finish(result, std::move(what));
  }

  AppendResult& Finish(AppendResult& result, std::string message) {
    result.producer_failed = failed_ || fenced_;
    result.fenced = fenced_;
    result.message = std::move(message);
    return result;
  }

  // Classifies an error of the transactional API (librdkafka: retriable, abortable, fatal).
  void NoteError(const RdKafka::Error* e) {
    if (IsFence(e->code())) {
      fenced_ = true;
      return;
    }
    if (e->is_fatal()) {
      NoteFatal();
      return;
    }
    // Neither retriable nor abortable: librdkafka advises treating it as fatal.
    if (!e->is_retriable() && !e->txn_requires_abort()) failed_ = true;
  }

  void NoteFatal() {
    failed_ = true;
    std::string reason;
    RdKafka::ErrorCode code = producer_->fatal_error(reason);
    if (IsFence(code)) fenced_ = true;
  }

  void PruneDeliveries() {
    deliveries_.erase(std::remove_if(deliveries_.begin(), deliveries_.end(),
                                     [](const auto& b) { return b->outstanding == 0; }),
                      deliveries_.end());
  }

  // What a closing producer needs until rd_kafka_destroy returns; the client is the last
  // member, so it is destroyed first.
  struct Owned {
    std::unique_ptr<DeliveryRecorder> recorder;
    std::unique_ptr<ClientEvents> events;
    std::vector<std::unique_ptr<DeliveryBatch>> deliveries;
    std::unique_ptr<RdKafka::Producer> producer;
  };

  // True once the owner stops (see Create): waits for the broker are cut short.
  bool Stopping(std::chrono::steady_clock::time_point started) const {
    return stopping_ != nullptr && stopping_->load() &&
           std::chrono::steady_clock::now() - started >= std::chrono::seconds(1);
  }

  const std::atomic<bool>* const stopping_;
  // Declared before producer_ so they outlive it (librdkafka calls them until destruction).
  std::unique_ptr<DeliveryRecorder> recorder_;
  std::unique_ptr<ClientEvents> events_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::vector<std::unique_ptr<DeliveryBatch>> deliveries_;
  const std::string topic_;
  const std::string name_;
  const ProducerTimeouts timeouts_;
  bool failed_ = false;
  bool fenced_ = false;
  std::unique_ptr<RdKafka::Topic> topic_handle_;  // see WarmUpTopic
  std::vector<bool> uncertain_;  // per record of the last abort: may have taken an offset
  bool epoch_bumped_ = false;  // the last abort followed a sequence error (librdkafka bumps)
};

class LogReaderImpl final : public LogReader {
 public:
  LogReaderImpl(std::unique_ptr<ClientEvents> events,
                std::unique_ptr<RdKafka::KafkaConsumer> consumer, std::string topic)
      : events_(std::move(events)), consumer_(std::move(consumer)), topic_(std::move(topic)) {}

  // No close(): the reader never joined a group nor committed offsets, and close() waits for
  // the broker. The KafkaConsumer's destructor skips it (RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE).
  ~LogReaderImpl() override = default;

  Status Assign(const std::map<int32_t, int64_t>& start_offsets) override {
    std::vector<RdKafka::TopicPartition*> parts;
    for (const auto& [p, offset] : start_offsets) {
      parts.push_back(RdKafka::TopicPartition::create(topic_, p, offset));
    }
    RdKafka::ErrorCode err = consumer_->assign(parts);
    RdKafka::TopicPartition::destroy(parts);
    if (err != RdKafka::ERR_NO_ERROR) return Unavailable("assign: " + RdKafka::err2str(err));
    for (const auto& [p, offset] : start_offsets) written_ends_.erase(p);
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
          ends_reached_[m->partition()] = m->offset();
          if (!written_ends_.contains(m->partition())) {
            // The high watermark the fetch that reached the end was answered with (cached by
            // librdkafka whatever the isolation): records of unsettled transactions included.
            int64_t low = 0, high = -1;
            if (consumer_->get_watermark_offsets(topic_, m->partition(), &low, &high) ==
                    RdKafka::ERR_NO_ERROR &&
                high >= 0) {
              written_ends_[m->partition()] = high;
            }
          }
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

  std::map<int32_t, int64_t> EndsReached() const override { return ends_reached_; }

  bool ReachedWrittenEnd(int32_t partition) const override {
    const auto written = written_ends_.find(partition);
    const auto reached = ends_reached_.find(partition);
    return written != written_ends_.end() && reached != ends_reached_.end() &&
           reached->second >= written->second;
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
  // Declared before consumer_ so it outlives it (librdkafka calls it until destruction).
  std::unique_ptr<ClientEvents> events_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::string topic_;
  std::map<int32_t, int64_t> ends_reached_;
  // Per partition: the high watermark when it first reached its end since assigned.
  std::map<int32_t, int64_t> written_ends_;
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
  props.erase("statistics.interval.ms");  // a short-lived admin client: nobody reads them
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Error{Errc::kInvalidArgument, "BAD_KAFKA_CONFIG", errstr, k, {}};
    }
  }
  rd_kafka_conf_set_log_cb(conf, &LogFromC);
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
  for (const auto& [k, v] : options.topic_config)
    rd_kafka_NewTopic_set_config(topic, k.c_str(), v.c_str());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* admin = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  // Bounded: an unreachable broker fails start-up in about 15 s with a clear message.
  rd_kafka_AdminOptions_set_request_timeout(admin, 15000, errstr, sizeof errstr);
  rd_kafka_AdminOptions_set_operation_timeout(admin, 15000, errstr, sizeof errstr);
  rd_kafka_CreateTopics(rk, &topic, 1, admin, queue);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, 20000);
  std::string failure;
  if (ev == nullptr) {
    failure = "CreateTopics timed out after 20 s";
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
    const LogOptions& options, const std::string& transactional_id,
    const ProducerTimeouts& timeouts, const std::atomic<bool>* stopping) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  auto recorder = std::make_unique<DeliveryRecorder>();
  auto events =
      std::make_unique<ClientEvents>("producer[" + transactional_id + "]", options.on_statistics);
  if (auto e = Configure(*conf, options,
                         {{"transactional.id", transactional_id},
                          {"enable.idempotence", "true"},
                          {"acks", "all"},
                          {"client.id", transactional_id},
                          // A group commit is produced and then committed at once: no need to
                          // wait for more records.
                          {"linger.ms", "0"},
                          // Retries of produce and coordinator requests. (The retry of
                          // AddPartitionsToTxn after CONCURRENT_TRANSACTIONS is a fixed 20 ms in
                          // librdkafka 2.0.2, whatever this says: see CreateAlternating.)
                          {"retry.backoff.ms", "5"},
                          // Bounded waits (see ProducerTimeouts): a dead broker fails a
                          // transaction within seconds instead of the defaults' minutes.
                          {"transaction.timeout.ms", std::to_string(timeouts.transaction_ms)},
                          {"message.timeout.ms", std::to_string(timeouts.message_ms)},
                          {"socket.timeout.ms", std::to_string(timeouts.socket_ms)},
                          // Reconnect to a broker that came back within a second.
                          {"reconnect.backoff.max.ms", "1000"}})) {
    return *e;
  }
  std::string err;
  conf->set("dr_cb", recorder.get(), err);
  conf->set("event_cb", events.get(), err);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  if (!producer) return Unavailable("producer: " + err);
  return std::unique_ptr<TransactionalProducer>(new TransactionalProducerImpl(
      std::move(producer), std::move(recorder), std::move(events), options.topic,
      transactional_id, timeouts, stopping));
}

namespace {

// See TransactionalProducer::CreateAlternating. Owned and used by one thread, as its parts.
class AlternatingProducer final : public TransactionalProducer {
 public:
  AlternatingProducer(std::unique_ptr<TransactionalProducer> first,
                      std::unique_ptr<TransactionalProducer> second) {
    parts_[0] = std::move(first);
    parts_[1] = std::move(second);
  }

  Status Init(int timeout_ms) override {
    // Resumable like a single producer's: a part that is initialised is not asked again.
    for (int i = 0; i < 2; ++i) {
      if (initialized_[i]) continue;
      if (auto e = parts_[i]->Init(timeout_ms)) return e;
      initialized_[i] = true;
    }
    return std::nullopt;
  }

  AppendResult AppendParts(const std::vector<Part>& parts) override {
    AppendResult result = parts_[next_]->AppendParts(parts);
    // Whatever the outcome (an abort writes markers too), the other id is the free one.
    next_ = 1 - next_;
    return result;
  }

  bool failed() const override { return parts_[0]->failed() || parts_[1]->failed(); }
  bool fenced() const override { return parts_[0]->fenced() || parts_[1]->fenced(); }

 private:
  std::unique_ptr<TransactionalProducer> parts_[2];
  bool initialized_[2] = {false, false};
  int next_ = 0;
};

}  // namespace

Result<std::unique_ptr<TransactionalProducer>> TransactionalProducer::CreateAlternating(
    const LogOptions& options, const std::string& transactional_id,
    const ProducerTimeouts& timeouts, const std::atomic<bool>* stopping) {
  auto first = Create(options, transactional_id, timeouts, stopping);
  if (!first) return first.error();
  auto second = Create(options, transactional_id + "-b", timeouts, stopping);
  if (!second) return second.error();
  return std::unique_ptr<TransactionalProducer>(
      new AlternatingProducer(std::move(first.value()), std::move(second.value())));
}

namespace {

// One producer of a TransactionGroup and what its handles need to know about it. `failed` and
// `fenced` mirror the producer's state for handles on other threads (only the thread appending
// or initialising for the group touches the producer itself).
struct Generation {
  std::unique_ptr<TransactionalProducer> producer;
  std::mutex init_mutex;  // one Init at a time; a resumed Init carries on where the last stopped
  // Init succeeded: later Inits return at once, never touching the producer another thread may
  // be appending with.
  std::atomic<bool> initialized{false};
  std::atomic<bool> failed{false};
  std::atomic<bool> fenced{false};
  void Note() {
    if (producer->failed()) failed = true;
    if (producer->fenced()) fenced = true;
  }
};

class TransactionGroupImpl final : public TransactionGroup,
                                   public std::enable_shared_from_this<TransactionGroupImpl> {
 public:
  TransactionGroupImpl(LogOptions options, std::string transactional_id, ProducerTimeouts timeouts)
      : options_(std::move(options)),
        transactional_id_(std::move(transactional_id)),
        timeouts_(timeouts) {}

  Result<std::unique_ptr<TransactionalProducer>> Producer() override;
  void Stopping() override { stopping_ = true; }
  void Close() override {
    std::shared_ptr<Generation> closing;
    {
      std::lock_guard lock(producer_mutex_);
      closing.swap(current_);
    }
    // The producer closes (bounded) with its last handle, here when every writer let go.
  }
  int64_t transactions() const override { return transactions_.load(); }
  bool fenced() const override {
    std::lock_guard lock(producer_mutex_);
    return current_ && current_->fenced;
  }

  // One writer's append waiting for (or in) a group transaction.
  struct Request {
    std::shared_ptr<Generation> generation;
    TransactionalProducer::Part part;
    AppendResult result;
    bool done = false;
  };

  // Runs `request` in the next group transaction: the first writer to find no transaction in
  // flight leads it (takes every queued request, appends and commits them, hands out the
  // results), the others wait for it. Returns when `request` has its result.
  void Append(Request& request) {
    std::unique_lock lock(mutex_);
    queue_.push_back(&request);
    while (!request.done) {
      if (committing_) {
        settled_.wait(lock);
        continue;
      }
      committing_ = true;
      std::vector<Request*> batch;
      batch.swap(queue_);
      lock.unlock();
      std::vector<Request*> retry = Commit(batch);
      lock.lock();
      // Innocent appends of a transaction the log refused records of: first in the next one.
      queue_.insert(queue_.begin(), retry.begin(), retry.end());
      committing_ = false;
      settled_.notify_all();
    }
  }

 private:
  // Appends `batch` in one transaction (outside the lock); marks each request done, except the
  // innocent ones of a transaction aborted for records the log refused, which it returns.
  std::vector<Request*> Commit(const std::vector<Request*>& batch) {
    std::vector<Request*> retry;
    // Only requests on the current, healthy producer join; the others fail at once (their
    // writers reconnect and restore).
    std::vector<Request*> joined;
    std::shared_ptr<Generation> generation;
    {
      std::lock_guard lock(producer_mutex_);
      generation = current_;
    }
    for (Request* r : batch) {
      if (r->generation != generation || r->generation->failed) {
        r->result.outcome = AppendResult::Outcome::kNotCommitted;
        r->result.producer_failed = true;
        r->result.fenced = r->generation->fenced;
        r->result.message = "the group's producer failed or was replaced";
        r->done = true;
      } else {
        joined.push_back(r);
      }
    }
    if (joined.empty()) return retry;
    std::vector<TransactionalProducer::Part> parts;
    std::vector<size_t> first;  // per joined request: the index of its first record
    size_t total = 0;
    for (Request* r : joined) {
      parts.push_back(r->part);
      first.push_back(total);
      total += r->part.records->size();
    }
    AppendResult all = generation->producer->AppendParts(parts);
    generation->Note();
    if (all.outcome == AppendResult::Outcome::kCommitted) ++transactions_;
    // Aborted for the records of some writers (refused by the log, or vetoed by their guard):
    // the others are not at fault and try again without them.
    const bool their_fault = all.outcome == AppendResult::Outcome::kNotCommitted &&
                             !all.producer_failed &&
                             (!all.refused_records.empty() || !all.vetoed_parts.empty());
    for (size_t j = 0; j < joined.size(); ++j) {
      Request& r = *joined[j];
      const size_t begin = first[j];
      const size_t end = begin + r.part.records->size();
      AppendResult& mine = r.result;
      mine.outcome = all.outcome;
      mine.producer_failed = all.producer_failed;
      mine.fenced = all.fenced;
      mine.message = all.message;
      if (all.offsets.size() == total) {
        mine.offsets.assign(all.offsets.begin() + static_cast<std::ptrdiff_t>(begin),
                            all.offsets.begin() + static_cast<std::ptrdiff_t>(end));
      }
      for (size_t refused : all.refused_records) {
        if (refused >= begin && refused < end) mine.refused_records.push_back(refused - begin);
      }
      if (auto veto = all.vetoed_parts.find(j); veto != all.vetoed_parts.end()) {
        mine.vetoed = true;
        mine.vetoed_parts.emplace(0, veto->second);
        mine.message = "not committed: " + veto->second;
      }
      if (their_fault && mine.refused_records.empty() && !mine.vetoed && joined.size() > 1) {
        mine = AppendResult();
        retry.push_back(&r);  // not at fault: tried again without the others
        continue;
      }
      r.done = true;
    }
    return retry;
  }

  const LogOptions options_;
  const std::string transactional_id_;
  const ProducerTimeouts timeouts_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> transactions_{0};

  mutable std::mutex producer_mutex_;
  std::shared_ptr<Generation> current_;  // guarded by producer_mutex_

  std::mutex mutex_;
  std::condition_variable settled_;
  std::vector<Request*> queue_;  // guarded by mutex_
  bool committing_ = false;      // guarded by mutex_: a group transaction is in flight
};

// What a writer holds: appends through the group on the producer it was given.
class GroupProducer final : public TransactionalProducer {
 public:
  GroupProducer(std::shared_ptr<TransactionGroupImpl> group,
                std::shared_ptr<Generation> generation)
      : group_(std::move(group)), generation_(std::move(generation)) {}

  Status Init(int timeout_ms) override {
    std::lock_guard lock(generation_->init_mutex);
    if (generation_->failed) return Unavailable("the group's producer failed");
    if (generation_->initialized) return std::nullopt;
    Status status = generation_->producer->Init(timeout_ms);
    generation_->Note();
    if (!status) generation_->initialized = true;
    return status;
  }

  AppendResult AppendParts(const std::vector<Part>& parts) override {
    // A writer appends to its own partition; several parts would join the group as one.
    TransactionGroupImpl::Request request;
    request.generation = generation_;
    if (parts.size() != 1) {
      request.result.message = "a group append holds the records of one partition";
      return request.result;
    }
    request.part = parts.front();
    group_->Append(request);
    return std::move(request.result);
  }

  bool failed() const override { return generation_->failed || generation_->fenced; }
  bool fenced() const override { return generation_->fenced; }

 private:
  const std::shared_ptr<TransactionGroupImpl> group_;
  const std::shared_ptr<Generation> generation_;
};

Result<std::unique_ptr<TransactionalProducer>> TransactionGroupImpl::Producer() {
  std::lock_guard lock(producer_mutex_);
  if (!current_ || current_->failed || current_->fenced) {
    if (current_ && current_->fenced) {
      // Another group took over: no new producer may fence it back.
      return std::unique_ptr<TransactionalProducer>(
          new GroupProducer(shared_from_this(), current_));
    }
    auto producer = TransactionalProducer::CreateAlternating(options_, transactional_id_,
                                                             timeouts_, &stopping_);
    if (!producer) return producer.error();
    auto generation = std::make_shared<Generation>();
    generation->producer = std::move(producer.value());
    current_ = std::move(generation);
  }
  return std::unique_ptr<TransactionalProducer>(new GroupProducer(shared_from_this(), current_));
}

}  // namespace

std::shared_ptr<TransactionGroup> TransactionGroup::Create(LogOptions options,
                                                           std::string transactional_id,
                                                           ProducerTimeouts timeouts) {
  return std::make_shared<TransactionGroupImpl>(std::move(options), std::move(transactional_id),
                                                timeouts);
}

int LeakedClientHandles() { return LeakedHandleCount().load(); }

Result<std::unique_ptr<LogReader>> LogReader::Create(const LogOptions& options,
                                                     const std::string& client_id,
                                                     bool read_committed) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  // Partitions are assigned by hand and offsets are kept by the reader's owner (the writer's
  // state or the projection's WriteBatch), so the group is never joined and nothing is
  // committed to Kafka.
  if (auto e = Configure(*conf, options,
                         {{"group.id", client_id},
                          {"client.id", client_id},
                          {"isolation.level", read_committed ? "read_committed" : "read_uncommitted"},
                          {"enable.auto.commit", "false"},
                          {"enable.auto.offset.store", "false"},
                          {"enable.partition.eof", "true"},
                          {"auto.offset.reset", "earliest"},
                          {"fetch.wait.max.ms", "20"}})) {
    return *e;
  }
  std::string err;
  auto events =
      std::make_unique<ClientEvents>("consumer[" + client_id + "]", options.on_statistics);
  conf->set("event_cb", events.get(), err);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer) return Unavailable("consumer: " + err);
  return std::unique_ptr<LogReader>(
      new LogReaderImpl(std::move(events), std::move(consumer), options.topic));
}

Result<int64_t> CountDataRecords(const LogOptions& options, int32_t partition, int64_t from,
                                 int64_t to, int timeout_ms) {
  auto reader = LogReader::Create(options, options.topic + "-ledger-check", /*read_committed=*/false);
  if (!reader) return reader.error();
  if (auto e = reader.value()->Assign({{partition, from}})) return *e;
  int64_t count = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < give_up) {
    auto records = reader.value()->Poll(1000, 100, nullptr);
    if (!records) return records.error();
    for (const ConsumedRecord& r : records.value()) {
      if (r.offset > to) return count;
      ++count;
    }
    auto ends = reader.value()->EndsReached();
    if (auto it = ends.find(partition); it != ends.end() && it->second > to) return count;
  }
  return Unavailable("counting the records of partition " + std::to_string(partition) +
                     " took longer than " + std::to_string(timeout_ms) + " ms");
}

}  // namespace collections::kafka
