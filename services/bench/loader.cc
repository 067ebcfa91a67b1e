#include "services/bench/loader.h"

#include "services/domain/pipeline.h"

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafkacpp.h"

#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace collections::bench {
namespace {

const absl::Time kBase =
    absl::FromCivil(absl::CivilSecond(2020, 1, 6, 15, 0, 0), absl::UTCTimeZone());

template <typename Request>
Request With(const std::string& account_id, const std::string& command_id, Request r) {
  r.set_command_id(command_id);
  r.set_account_id(account_id);
  r.mutable_actor()->set_id("scale-bench");
  r.mutable_actor()->set_kind(v1::ACTOR_KIND_SERVICE);
  r.mutable_actor()->set_role("system");
  return r;
}

v1::OpenCaseRequest Open(const std::string& id, int commands) {
  v1::OpenCaseRequest r;
  r.set_creditor("Acme Bank");
  r.set_debtor_name("Jane Doe");
  r.set_currency("USD");
  r.mutable_balances()->set_principal_minor(100000 + 1000LL * commands);
  r.mutable_due_date()->set_year(2019);
  r.mutable_due_date()->set_month(12);
  r.mutable_due_date()->set_day(1);
  r.set_time_zone("America/Chicago");
  r.set_jurisdiction("IL");
  r.set_third_party_collector(true);
  auto* phone = r.mutable_contact_points()->add_phones();
  phone->set_number("+13125550100");
  phone->set_type(v1::PHONE_TYPE_CELL);
  r.mutable_contact_points()->add_emails("jane@example.com");
  return With(id, "open", r);
}

v1::RecordContactAttemptRequest Contact(const std::string& id, const std::string& command_id,
                                        bool call) {
  v1::RecordContactAttemptRequest r;
  r.set_contact_id("C-" + command_id);
  r.set_channel(call ? v1::CONTACT_CHANNEL_CALL : v1::CONTACT_CHANNEL_EMAIL);
  r.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  r.set_address(call ? "+13125550100" : "jane@example.com");
  r.set_phone_type(call ? v1::PHONE_TYPE_CELL : v1::PHONE_TYPE_UNSPECIFIED);
  r.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
  r.mutable_content()->set_has_debt_collector_disclosure(true);
  r.mutable_content()->set_has_opt_out_notice(true);
  return With(id, command_id, r);
}

v1::RecordPromiseToPayRequest Promise(const std::string& id, const std::string& command_id,
                                      absl::Time now) {
  v1::RecordPromiseToPayRequest r;
  r.set_promise_id("PR-" + command_id);
  r.mutable_amount()->set_amount_minor(1000);
  r.mutable_amount()->set_currency("USD");
  absl::CivilDay due = absl::ToCivilDay(now + absl::Hours(72), absl::UTCTimeZone());
  r.mutable_due_date()->set_year(static_cast<int>(due.year()));
  r.mutable_due_date()->set_month(due.month());
  r.mutable_due_date()->set_day(due.day());
  return With(id, command_id, r);
}

v1::PostPaymentRequest Payment(const std::string& id, const std::string& command_id,
                               int64_t minor) {
  v1::PostPaymentRequest r;
  r.set_payment_id("P-" + command_id);
  r.mutable_amount()->set_amount_minor(minor);
  r.mutable_amount()->set_currency("USD");
  r.set_method(v1::PAYMENT_METHOD_ACH);
  return With(id, command_id, r);
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

struct Batch {
  int32_t partition = 0;
  std::vector<kafka::Record> records;
};

// Full batches on their way from the generators to the producers: one FIFO per producer (so a
// partition's batches are appended in the order they were filled), bounded in total. Shared by
// all loader threads; every member is guarded by `mu_`.
class BatchQueues {
 public:
  BatchQueues(int producers, int max_queued) : queues_(producers), max_queued_(max_queued) {}

  // Waits for room; false when the load was abandoned.
  bool Push(int producer, Batch batch) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return queued_ < max_queued_ || abandoned_; });
    if (abandoned_) return false;
    queues_[producer].push_back(std::move(batch));
    ++queued_;
    not_empty_.notify_all();
    return true;
  }

  // Waits for a batch of `producer`; false once the queues are closed and it has none left.
  bool Pop(int producer, Batch* batch) {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock,
                    [&] { return !queues_[producer].empty() || closed_ || abandoned_; });
    if (abandoned_ || queues_[producer].empty()) return false;
    *batch = std::move(queues_[producer].front());
    queues_[producer].pop_front();
    --queued_;
    not_full_.notify_all();
    return true;
  }

  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }
  void Abandon() {
    std::lock_guard lock(mu_);
    abandoned_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  int queued() {
    std::lock_guard lock(mu_);
    return queued_;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::vector<std::deque<Batch>> queues_;
  const int max_queued_;
  int queued_ = 0;
  bool closed_ = false;
  bool abandoned_ = false;
};

// Counts the delivery reports of the baseline producer.
class CountingReports : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() != RdKafka::ERR_NO_ERROR) ++failed;
  }
  std::atomic<int64_t> failed{0};
};

void DeleteTopic(const kafka::LogOptions& log, const std::string& topic) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", log.bootstrap.c_str(), err, sizeof(err));
  for (const auto& [k, v] : log.extra) rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) return;
  rd_kafka_DeleteTopic_t* del = rd_kafka_DeleteTopic_new(topic.c_str());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_DeleteTopics(rk, &del, 1, nullptr, queue);
  if (rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, 30000)) rd_kafka_event_destroy(ev);
  rd_kafka_DeleteTopic_destroy(del);
  rd_kafka_queue_destroy(queue);
  rd_kafka_destroy(rk);
}

// The bare producer: `count` records shaped like `sample` (same key length, value size and
// headers) spread over the partitions, idempotent with acks=all as the writer's producer, but
// without transactions, the pipeline or any waiting between records. Returns seconds, or -1.
double Baseline(const kafka::LogOptions& log, int32_t partitions, const kafka::Record& sample,
                int64_t value_bytes, int64_t count) {
  kafka::LogOptions scratch = log;
  scratch.topic = log.topic + ".baseline";
  scratch.partitions = partitions;
  if (!kafka::EnsureTopic(scratch)) return -1;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  CountingReports reports;
  conf->set("bootstrap.servers", log.bootstrap, err);
  for (const auto& [k, v] : log.extra) conf->set(k, v, err);
  conf->set("enable.idempotence", "true", err);
  conf->set("acks", "all", err);
  conf->set("dr_cb", &reports, err);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  if (!producer) return -1;
  const std::string value(static_cast<size_t>(std::max<int64_t>(value_bytes, 1)), 'x');
  const auto started = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < count; ++i) {
    std::string key = sample.key;
    if (!key.empty()) key.back() = static_cast<char>('0' + i % 10);
    RdKafka::Headers* headers = RdKafka::Headers::create();
    for (const auto& [k, v] : sample.headers) headers->add(k, v.data(), v.size());
    for (;;) {
      RdKafka::ErrorCode e = producer->produce(
          scratch.topic, static_cast<int32_t>(i % partitions), RdKafka::Producer::RK_MSG_COPY,
          const_cast<char*>(value.data()), value.size(), key.data(), key.size(),
          sample.timestamp_ms, headers, nullptr);
      if (e == RdKafka::ERR_NO_ERROR) break;
      if (e != RdKafka::ERR__QUEUE_FULL) {
        delete headers;
        return -1;
      }
      producer->poll(10);
    }
    producer->poll(0);
  }
  producer->flush(600000);
  const double seconds = Since(started);
  const bool ok = producer->outq_len() == 0 && reports.failed == 0;
  producer.reset();
  DeleteTopic(log, scratch.topic);
  return ok ? seconds : -1;
}

}  // namespace

absl::Time HistoryDay(int k) { return kBase + absl::Hours(24) * k; }

Command HistoryCommand(const std::string& id, int k, int commands, int first_day) {
  if (k == 0) return Open(id, commands);
  const std::string command_id = absl::StrCat("h", k);
  switch (k % 4) {
    case 1:
      return Contact(id, command_id, /*call=*/true);
    case 2:
      return Promise(id, command_id, HistoryDay(first_day + k));
    case 3:
      return Payment(id, command_id, 1000);
    default:
      return Contact(id, command_id, /*call=*/false);
  }
}

Command ContactCommand(const std::string& id, const std::string& command_id, bool call) {
  return Contact(id, command_id, call);
}

Command PaymentCommand(const std::string& id, const std::string& command_id, int64_t minor) {
  return Payment(id, command_id, minor);
}

LoadStats LoadHistory(const LoadOptions& o, const WriterOptions& writer,
                      const kafka::LogOptions& log, int32_t partitions) {
  // The batches are large and short-lived: keep freed memory in the process instead of
  // returning it to the kernel and faulting it in again for the next batch.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  const int generators =
      o.generators > 0 ? o.generators
                       : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const int producers = std::max(1, std::min<int>(o.producers, partitions));
  const PipelineSettings settings = PipelineSettingsFor(writer);
  // Account i of the load: 0 is the long-history account (started first, as it takes longest),
  // 1 the short one, then the numbered ones.
  const int64_t total_accounts = o.accounts + 2;
  // The numbered accounts open on one of `history_months` 30-day steps, in turn.
  const int months = std::max(1, o.history_months);
  auto first_day = [&](int64_t i) { return i < 2 ? 0 : static_cast<int>((i - 2) % months) * 30; };
  auto account = [&](int64_t i, int* commands) {
    if (i == 0) {
      *commands = o.big_commands;
      return o.prefix + "-big";
    }
    if (i == 1) {
      *commands = o.small_commands;
      return o.prefix + "-small";
    }
    *commands = o.commands_per_account;
    return absl::StrCat(o.prefix, "-", i - 2);
  };

  BatchQueues queues(producers, std::max(o.max_queued_batches, producers));
  std::atomic<int64_t> accounts_done{0}, commands{0}, events{0}, blocked{0}, bytes{0};
  std::atomic<int64_t> transactions{0}, append_micros{0}, cpu_micros{0};
  std::atomic<bool> failed{false};
  std::mutex sample_mu;
  kafka::Record sample;
  const auto started = std::chrono::steady_clock::now();

  auto generate = [&](int g) {
    std::vector<std::vector<kafka::Record>> pending(partitions);
    auto flush = [&](int32_t p) {
      if (pending[p].empty()) return true;
      Batch batch{p, std::move(pending[p])};
      pending[p] = {};
      pending[p].reserve(static_cast<size_t>(o.transaction_records));
      return queues.Push(p % producers, std::move(batch));
    };
    const double cpu_start = ThreadCpuSeconds();
    for (int64_t i = g; i < total_accounts && !failed; i += generators) {
      int count = 0;
      const std::string id = account(i, &count);
      const int32_t p = kafka::PartitionFor(id, partitions);
      AccountState state;
      int64_t local_events = 0;
      const int day0 = first_day(i);
      for (int k = 0; k < count && !failed; ++k) {
        Command command = HistoryCommand(id, k, count, day0);
        CommandInput input;
        input.command = &command;
        input.now = HistoryDay(day0 + k);
        CommandOutcome out = RunCommand(state, k > 0, input, settings);
        auto& records = pending[p];
        auto add = [&](const v1::EventEnvelope& e) {
          records.push_back(EventRecord(e, writer.source));
          bytes += static_cast<int64_t>(records.back().value.size() + records.back().key.size());
          ++local_events;
        };
        for (const auto& e : out.time_events) add(e);
        if (out.kind == CommandOutcome::Kind::kAppend) {
          for (const auto& e : out.events) add(e);
          if (out.error) ++blocked;
        }
        if (static_cast<int>(records.size()) >= o.transaction_records && !flush(p)) {
          failed = true;
        }
      }
      if (i == 2 && !pending[p].empty()) {
        std::lock_guard lock(sample_mu);
        sample = pending[p].back();
      }
      commands += count;
      events += local_events;
      ++accounts_done;
    }
    for (int32_t p = 0; p < partitions && !failed; ++p) {
      if (!flush(p)) failed = true;
    }
    cpu_micros += static_cast<int64_t>((ThreadCpuSeconds() - cpu_start) * 1e6);
  };

  auto produce = [&](int t) {
    static std::atomic<bool> never{false};
    auto producer = kafka::TransactionalProducer::Create(
        log, absl::StrCat(o.prefix, "-loader-", t), kafka::ProducerTimeouts{}, &never);
    if (!producer || producer.value()->Init(30000)) {
      std::fprintf(stderr, "load: producer %d cannot start\n", t);
      failed = true;
      queues.Abandon();
      return;
    }
    Batch batch;
    while (queues.Pop(t, &batch)) {
      const auto t0 = std::chrono::steady_clock::now();
      auto appended = producer.value()->Append(batch.partition, batch.records);
      append_micros += static_cast<int64_t>(Since(t0) * 1e6);
      if (appended.outcome != kafka::AppendResult::Outcome::kCommitted) {
        std::fprintf(stderr, "load: append to partition %d failed: %s\n", batch.partition,
                     appended.message.c_str());
        failed = true;
        queues.Abandon();
        return;
      }
      ++transactions;
    }
  };

  std::vector<std::thread> producer_threads, generator_threads;
  for (int t = 0; t < producers; ++t) producer_threads.emplace_back(produce, t);
  for (int g = 0; g < generators; ++g) generator_threads.emplace_back(generate, g);
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  std::thread progress([&] {
    if (o.progress_seconds <= 0) return;
    int64_t last_events = 0;
    auto last = std::chrono::steady_clock::now();
    std::unique_lock lock(done_mu);
    while (!done_cv.wait_for(lock, std::chrono::seconds(o.progress_seconds), [&] { return done; })) {
      const int64_t e = events.load(), a = accounts_done.load();
      const double interval = Since(last), elapsed = Since(started);
      last = std::chrono::steady_clock::now();
      const double fraction = static_cast<double>(a) / static_cast<double>(total_accounts);
      const double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
      std::fprintf(stderr,
                   "load: %lld/%lld accounts (%.1f%%), %lld events, %.0f events/s now, %.0f "
                   "average, %lld transactions, %d batches queued, ETA %.0f s\n",
                   static_cast<long long>(a), static_cast<long long>(total_accounts),
                   100 * fraction, static_cast<long long>(e),
                   static_cast<double>(e - last_events) / interval,
                   static_cast<double>(e) / elapsed,
                   static_cast<long long>(transactions.load()), queues.queued(), eta);
      last_events = e;
    }
  });
  for (auto& th : generator_threads) th.join();
  queues.Close();
  for (auto& th : producer_threads) th.join();
  {
    std::lock_guard lock(done_mu);
    done = true;
  }
  done_cv.notify_all();
  progress.join();

  LoadStats s;
  s.seconds = Since(started);
  s.accounts = total_accounts;
  s.commands = commands;
  s.events = events;
  s.blocked = blocked;
  s.bytes = bytes;
  s.transactions = transactions;
  s.pipeline_cpu_seconds = static_cast<double>(cpu_micros.load()) / 1e6;
  s.append_seconds = static_cast<double>(append_micros.load()) / 1e6;
  s.ok = !failed;
  std::printf(
      "load: accounts=%lld commands=%lld events=%lld blocked_contacts=%lld bytes=%lld "
      "transactions=%lld seconds=%.1f events_per_s=%.0f (generators %d, producers %d; pipeline "
      "cpu %.1f s = %.0f us/event; append %.1f s summed over producers)\n",
      static_cast<long long>(s.accounts), static_cast<long long>(s.commands),
      static_cast<long long>(s.events), static_cast<long long>(s.blocked),
      static_cast<long long>(s.bytes), static_cast<long long>(s.transactions), s.seconds,
      static_cast<double>(s.events) / s.seconds, generators, producers, s.pipeline_cpu_seconds,
      s.events > 0 ? s.pipeline_cpu_seconds * 1e6 / static_cast<double>(s.events) : 0,
      s.append_seconds);
  std::fflush(stdout);
  if (s.ok && o.baseline && s.events > 0) {
    const int64_t value_bytes = s.bytes / s.events - static_cast<int64_t>(sample.key.size());
    std::fprintf(stderr, "load: baseline: %lld records of %lld value bytes, bare producer\n",
                 static_cast<long long>(s.events), static_cast<long long>(value_bytes));
    s.baseline_records = s.events;
    s.baseline_seconds = Baseline(log, partitions, sample, value_bytes, s.events);
    if (s.baseline_seconds > 0) {
      std::printf("load baseline (bare librdkafka producer, idempotent, acks=all, no "
                  "transactions, same records count and size): seconds=%.1f records_per_s=%.0f; "
                  "loader at %.0f%% of it\n",
                  s.baseline_seconds, static_cast<double>(s.events) / s.baseline_seconds,
                  100 * s.baseline_seconds / s.seconds);
    } else {
      std::printf("load baseline: failed\n");
    }
  }
  return s;
}

}  // namespace collections::bench
