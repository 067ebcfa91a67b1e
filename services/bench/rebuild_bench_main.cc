// collections-rebuild-bench: how fast the projections are rebuilt from the topic, against a bare
// consumer reading the same topic in the same run.
//
// It fills a topic with genuine hash chains (unsigned: the bench trusts no writer key) of
// accounts whose history grows (contact attempts, payments, letters, promises), or measures a
// topic loaded by something else (--accounts=0 --topic=...). Then, one after the other:
//   1. a bare consumer (the service's own librdkafka reader, read_committed, nothing done with
//      the records, prefetching as deep as kcat does) reads the whole topic: records/s;
//   2. kcat, if --kcat names it, does the same: records/s;
//   3. every projection of the server (the account store with its audit copy, and reporting) is
//      rebuilt from offset 0 into empty stores, wired as collections-server wires them:
//      events/s, and the ratio to the bare consumer;
//   4. with --live-accounts, the projections keep running while more accounts are appended, and
//      the lag (log end - applied offsets, in records) is sampled every 100 ms.
#include "projections/projector/projector.h"
#include "projections/reporting/reporting_projector.h"
#include "projections/reporting/reporting_store.h"
#include "projections/store/store.h"
#include "services/bench/history_fill.h"
#include "services/common/flags.h"
#include "services/common/log.h"
#include "services/kafka/kafka.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>
#include <vector>

namespace collections {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

// CPU seconds this process has used so far (every thread): on a shared machine a truer cost than
// the wall clock.
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}


// One account's history: CaseOpened, then a rotation of contact attempts (most), payments,
// letters and promises, chained as the writer chains them.
std::vector<v1::EventEnvelope> AccountEvents(const std::string& account, int events) {
  auto body = [&account](v1::EventEnvelope& e, int i) {
    if (i == 1) {
      e.mutable_case_opened()->set_assignee(absl::StrCat("collector-", account.size() % 7));
      e.mutable_case_opened()->set_queue("early");
    } else if (i % 5 == 0) {
      bench::SetPayment(e, i);
    } else if (i % 7 == 0) {
      auto* letter = e.mutable_correspondence_sent()->mutable_correspondence();
      letter->set_correspondence_id(absl::StrCat("l", i));
      letter->set_kind(v1::CORRESPONDENCE_KIND_PAYMENT_REMINDER);
      letter->set_channel(v1::CONTACT_CHANNEL_LETTER);
      letter->set_address("1 Bench Street, Chicago IL");
    } else if (i % 11 == 0) {
      auto* promise = e.mutable_promise_made()->mutable_promise();
      promise->set_promise_id(absl::StrCat("pr", i));
      promise->set_amount_minor(5000);
      promise->set_status(v1::PROMISE_STATUS_PENDING);
      promise->mutable_due_date()->set_year(2026);
      promise->mutable_due_date()->set_month(1);
      promise->mutable_due_date()->set_day(1);
    } else {
      auto* contact = e.mutable_contact_attempted()->mutable_contact();
      contact->set_contact_id(absl::StrCat("k", i));
      contact->set_channel(v1::CONTACT_CHANNEL_CALL);
      contact->set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
      contact->set_address("+13125550100");
      contact->set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
    }
  };
  return bench::ChainedHistory(account, events, 3600, "rebuild-bench", 100000000, body);
}


struct BareReadOutcome {
  int64_t records = 0;
  double first_record_seconds = 0;  // from the start, including creating and assigning the reader
};

// Reads every partition from offset 0 to its current end with the service's reader and does
// nothing with the records.
Result<BareReadOutcome> BareRead(const kafka::LogOptions& log, int32_t partitions,
                                 const std::string& id) {
  const auto t0 = SteadyClock::now();
  // With librdkafka's default queued.min.messages (100,000) this reader spends most of its run
  // waiting for fetches, at 0.25-0.9x kcat's pace from run to run: a baseline must not be held
  // back so.
  kafka::LogOptions deep = log;
  deep.extra.emplace("queued.min.messages", "1000000");
  auto reader = kafka::LogReader::Create(deep, id);
  if (!reader) return reader.error();
  std::map<int32_t, int64_t> start, targets;
  for (int32_t p = 0; p < partitions; ++p) {
    start[p] = 0;
    auto high = reader.value()->HighWatermark(p, 10000);
    if (!high) return high.error();
    targets[p] = high.value();
  }
  if (auto e = reader.value()->Assign(start)) return *e;
  BareReadOutcome out;
  std::map<int32_t, bool> done;
  while (static_cast<int32_t>(done.size()) < partitions) {
    std::vector<int32_t> ended;
    auto polled = reader.value()->Poll(10000, 200, &ended);
    if (!polled) return polled.error();
    if (out.records == 0 && !polled.value().empty()) out.first_record_seconds = SecondsSince(t0);
    out.records += static_cast<int64_t>(polled.value().size());
    for (const auto& r : polled.value()) {
      if (r.offset + 1 >= targets[r.partition]) done[r.partition] = true;
    }
    for (int32_t p : ended) done[p] = true;
  }
  return out;
}

}  // namespace
}  // namespace collections

int main(int argc, char** argv) {
  using namespace collections;
  kafka::LogOptions log;
  log.topic.clear();
  std::string run = absl::StrCat("rbb", absl::ToUnixSeconds(absl::Now()));
  int64_t accounts = 2000;
  int events = 50;
  int partitions = 4;
  int64_t live_accounts = 0;
  std::string db_dir;
  std::string kcat;
  FlagParser flags(
      "collections-rebuild-bench",
      "Fills a topic (--accounts of --events events each; 0 = measure --topic as it is), then\n"
      "times, in the same run, a bare consumer reading it, kcat reading it (--kcat), and a\n"
      "rebuild of every projection from offset 0 (events/s and the ratio to the bare consumer).\n"
      "With --live-accounts, appends that many more accounts while the projections run and\n"
      "samples their lag.");
  flags.SetEnvPrefix("COLLECTIONS_REBUILD_BENCH_");
  flags.Add("bootstrap", &log.bootstrap, "Kafka bootstrap servers");
  flags.Add("topic", &log.topic, "event topic (default: a new one per run)");
  flags.Add("partitions", &partitions, "partitions of a topic the bench creates");
  flags.Add("accounts", &accounts, "accounts the bench appends before measuring (0 = none)");
  flags.Add("events", &events, "events per account the bench appends");
  flags.Add("live-accounts", &live_accounts,
            "accounts appended while the projections run, to sample their lag (0 = skip)");
  flags.Add("run-id", &run, "prefix of the account ids the bench appends");
  flags.Add("db", &db_dir, "where the bench's projections live (deleted first and after)");
  flags.Add("kcat", &kcat, "kcat binary to time as a second bare consumer (empty = skip)");
  flags.AddProperties("kafka", &log.extra, "librdkafka property for every client (key=value)",
                      "kafka", "KAFKA");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (accounts < 0 || events < 2 || partitions < 1 || live_accounts < 0) {
    std::fprintf(stderr,
                 "collections-rebuild-bench: --accounts and --live-accounts must be >= 0, "
                 "--events >= 2, --partitions >= 1\n");
    return 2;
  }
  if (log.topic.empty()) log.topic = absl::StrCat("collections.rebuild-bench.", run);
  log.partitions = partitions;
  auto made = kafka::EnsureTopic(log);
  if (!made) {
    std::fprintf(stderr, "collections-rebuild-bench: %s\n", made.error().message.c_str());
    return 1;
  }
  const int32_t topic_partitions = made.value();
  auto fail = [](const std::string& what, const Error& e) {
    std::fprintf(stderr, "collections-rebuild-bench: %s: %s\n", what.c_str(), e.message.c_str());
    return 1;
  };
  if (accounts > 0) {
    const auto t0 = SteadyClock::now();
    if (auto e = bench::FillTopic(log, topic_partitions, run, 0, accounts, events, AccountEvents)) {
      return fail("filling", *e);
    }
    std::printf("filled %lld accounts x %d events in %.1f s\n", static_cast<long long>(accounts),
                events, SecondsSince(t0));
  }
  std::printf("topic %s (%d partitions) at %s\n", log.topic.c_str(), topic_partitions,
              log.bootstrap.c_str());

  // 1. The bare consumer.
  auto t0 = SteadyClock::now();
  double cpu0 = CpuSeconds();
  auto bare = BareRead(log, topic_partitions, run + "-bare");
  if (!bare) return fail("bare consumer", bare.error());
  const double bare_seconds = SecondsSince(t0);
  const double bare_cpu = CpuSeconds() - cpu0;
  const int64_t bare_records = bare.value().records;
  const double bare_rate = static_cast<double>(bare_records) / bare_seconds;
  std::printf(
      "bare consumer:  %lld records in %.2f s = %.0f records/s (%.2f CPU s; first record after "
      "%.2f s)\n",
      static_cast<long long>(bare_records), bare_seconds, bare_rate, bare_cpu,
      bare.value().first_record_seconds);

  // 2. kcat.
  if (!kcat.empty()) {
    const std::string command =
        absl::StrCat(kcat, " -C -b ", log.bootstrap, " -t ", log.topic,
                     " -e -o beginning -q -f '' -X isolation.level=read_committed");
    t0 = SteadyClock::now();
    const int rc = std::system(command.c_str());
    const double kcat_seconds = SecondsSince(t0);
    if (rc != 0) {
      std::printf("kcat: exited %d (skipped)\n", rc);
    } else {
      std::printf("kcat:           %lld records in %.2f s = %.0f records/s\n",
                  static_cast<long long>(bare_records), kcat_seconds,
                  static_cast<double>(bare_records) / kcat_seconds);
    }
  }

  // 3. Every projection rebuilt from offset 0, wired as the server wires them.
  const bool own_db = db_dir.empty();
  if (own_db) {
    db_dir =
        (std::filesystem::temp_directory_path() / absl::StrCat("rebuild-bench-", run)).string();
  }
  std::filesystem::remove_all(db_dir);
  std::filesystem::create_directories(db_dir);
  int rc = 0;
  {
    auto store = ProjectionStore::Open(db_dir + "/projection");
    if (!store) return fail("projection store", store.error());
    auto reporting_store = reporting::ReportingStore::Open(db_dir + "/reporting");
    if (!reporting_store) return fail("reporting store", reporting_store.error());
    AccountProjector projector(log, *store.value(), topic_partitions, run + "-projector");
    reporting::ReportingProjector reporting(log, *reporting_store.value(), topic_partitions,
                                            run + "-reporting");
    // One consumer for both, as in collections-server.
    if (auto e = projector.Attach(reporting)) return fail("attaching reporting", *e);
    t0 = SteadyClock::now();
    cpu0 = CpuSeconds();
    if (auto e = reporting.Start()) return fail("reporting projector", *e);
    if (auto e = projector.Start()) return fail("projector", *e);
    while (!projector.caught_up() || !reporting.caught_up()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const double rebuild_seconds = SecondsSince(t0);
    const double rebuild_cpu = CpuSeconds() - cpu0;
    const double rebuild_rate = static_cast<double>(projector.applied_events()) / rebuild_seconds;
    std::printf("rebuild:        %lld events in %.2f s = %.0f events/s (%.2f CPU s; account "
                "store, audit copy and reporting)\n",
                static_cast<long long>(projector.applied_events()), rebuild_seconds, rebuild_rate,
                rebuild_cpu);
    std::printf("ratio rebuild / bare consumer = %.3f (by CPU time: %.3f)\n",
                rebuild_rate / bare_rate, bare_cpu / rebuild_cpu);

    // 4. Lag under write load.
    if (live_accounts > 0) {
      auto end_reader = kafka::LogReader::Create(log, run + "-end");
      if (!end_reader) return fail("log end reader", end_reader.error());
      std::atomic<bool> filling{true};
      Status fill_status;
      const auto fill_started = SteadyClock::now();
      std::thread filler([&] {
        fill_status = bench::FillTopic(log, topic_partitions, run + "-live", 0, live_accounts,
                                       events, AccountEvents);
        filling = false;
      });
      std::vector<int64_t> lags;
      while (filling) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        int64_t lag = 0;
        for (auto* p : std::initializer_list<Projector*>{&projector, &reporting}) {
          const auto applied = p->applied_offsets();
          for (int32_t partition = 0; partition < topic_partitions; ++partition) {
            auto end = end_reader.value()->HighWatermark(partition, 2000);
            if (!end) continue;
            auto it = applied.find(partition);
            const int64_t next = it == applied.end() ? 0 : it->second;
            lag = std::max(lag, end.value() - next);
          }
        }
        lags.push_back(lag);
      }
      filler.join();
      const double fill_seconds = SecondsSince(fill_started);
      if (fill_status) return fail("live fill", *fill_status);
      std::sort(lags.begin(), lags.end());
      auto at = [&](double q) {
        return lags.empty() ? 0
                            : lags[std::min(lags.size() - 1,
                                            static_cast<size_t>(q * static_cast<double>(
                                                                        lags.size() - 1)))];
      };
      std::printf("live: %lld events appended in %.1f s (%.0f events/s); projection lag in "
                  "records per partition: p50 %lld, p99 %lld, max %lld (%zu samples)\n",
                  static_cast<long long>(live_accounts * events), fill_seconds,
                  static_cast<double>(live_accounts * events) / fill_seconds,
                  static_cast<long long>(at(0.5)), static_cast<long long>(at(0.99)),
                  static_cast<long long>(lags.empty() ? 0 : lags.back()), lags.size());
    }
    projector.Stop();
    reporting.Stop();
  }
  if (own_db) std::filesystem::remove_all(db_dir);
  return rc;
}
