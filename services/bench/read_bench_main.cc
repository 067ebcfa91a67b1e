// collections-read-bench: the cost of the compliance officer's calls about one account on a
// loaded topic, answered from the projection's copy of the log (the service's path) and from a
// scan of the account's partition (the old path, same run, same process), at growing topic
// sizes. Prints p50/p99 of GetAuditTrail, ReplayAccount and VerifyAuditTrail per path.
//
// It fills the topic itself (--fill-to) with genuine hash chains (unsigned: the bench trusts no
// writer key) or measures a topic loaded by something else (--fill-to=0 --topic=...), builds
// its own projection of it in a temporary directory, and calls two in-process
// ComplianceServices over loopback gRPC, so the numbers include the wire but not TLS.
#include "projections/compliance/compliance_service.h"
#include "projections/projector/projector.h"
#include "projections/reporting/reporting_projector.h"
#include "projections/reporting/reporting_service.h"
#include "projections/reporting/reporting_store.h"
#include "projections/reporting/reports.h"
#include "projections/store/store.h"
#include "services/bench/history_fill.h"
#include "services/common/flags.h"
#include "services/common/log.h"
#include "services/domain/clock.h"
#include "services/kafka/kafka.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "collections/v1/compliance_service.grpc.pb.h"
#include "collections/v1/reporting_service.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <vector>

namespace collections {
namespace {

using Steady = std::chrono::steady_clock;

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(i, values.size() - 1)];
}

std::string AccountId(const std::string& run, int64_t n) { return absl::StrCat(run, "-", n); }


// The events of one account: CaseOpened, then payments, chained as the writer chains them.
std::vector<v1::EventEnvelope> AccountEvents(const std::string& account, int events) {
  return bench::ChainedHistory(account, events, 86400, "read-bench", 1000000,
                               [](v1::EventEnvelope& e, int i) {
                                 if (i > 1) bench::SetPayment(e, i);
                               });
}


// A service on a loopback port of its own, and a stub calling it. Lifetime: the service must
// outlive it.
template <typename Grpc>
struct Loopback {
  explicit Loopback(grpc::Service& service) {
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // never share a port
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    stub = Grpc::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  ~Loopback() { server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5)); }
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<typename Grpc::Stub> stub;
};

// A ComplianceService on loopback: the scan one, or the index one.
struct Served {
  Served(const kafka::LogOptions& log, int32_t partitions, const ProjectionStore* store,
         Projector* projector)
      : service(log, partitions), loopback(Use(service, store, projector)) {}
  static ComplianceService& Use(ComplianceService& service, const ProjectionStore* store,
                                Projector* projector) {
    if (store != nullptr) service.use_account_index(*store, *projector);
    return service;
  }
  ComplianceService service;
  Loopback<v1::ComplianceService> loopback;
  v1::ComplianceService::Stub* stub = loopback.stub.get();
};

void Deadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
}

// One call; returns milliseconds, or -1 on failure (printed once).
double Time(const std::function<grpc::Status()>& call) {
  const auto t0 = Steady::now();
  grpc::Status s = call();
  const double ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
  if (!s.ok()) {
    std::fprintf(stderr, "call failed: %d %s\n", s.error_code(), s.error_message().c_str());
    return -1;
  }
  return ms;
}

struct Latencies {
  std::vector<double> trail, replay, verify;
};

Latencies Measure(v1::ComplianceService::Stub& stub, const std::vector<std::string>& accounts) {
  Latencies out;
  for (const auto& account : accounts) {
    out.trail.push_back(Time([&] {
      grpc::ClientContext ctx;
      Deadline(ctx);
      v1::GetAuditTrailRequest r;
      r.set_account_id(account);
      v1::GetAuditTrailResponse response;
      return stub.GetAuditTrail(&ctx, r, &response);
    }));
    out.replay.push_back(Time([&] {
      grpc::ClientContext ctx;
      Deadline(ctx);
      v1::ReplayAccountRequest r;
      r.set_account_id(account);
      auto reader = stub.ReplayAccount(&ctx, r);
      v1::ReplayStep step;
      while (reader->Read(&step)) {
      }
      return reader->Finish();
    }));
    out.verify.push_back(Time([&] {
      grpc::ClientContext ctx;
      Deadline(ctx);
      v1::VerifyAuditTrailRequest r;
      r.set_account_id(account);
      v1::VerifyAuditTrailResponse response;
      return stub.VerifyAuditTrail(&ctx, r, &response);
    }));
  }
  return out;
}

// The reporting side (--reports): the monthly aging, CEI and roll-rate reports of one month
// through ReportingService (the month-end snapshots of the accounts the month's facts move, the
// aggregate rows of the others, and the month's facts) and, as the same-run baseline, the same
// reports computed from a scan of every fact in the store (the old path), which must give the
// same bytes.
struct Reports {
  Reports(reporting::ReportingStore& store, reporting::ReportingProjector& projector,
          absl::Time now)
      : clock(now), service(store, projector, clock, {}), loopback(service) {}
  ManualClock clock;
  reporting::ReportingService service;
  Loopback<v1::ReportingService> loopback;
  v1::ReportingService::Stub* stub = loopback.stub.get();
};

void SetDate(v1::LocalDate* d, absl::CivilDay day) {
  d->set_year(static_cast<int32_t>(day.year()));
  d->set_month(day.month());
  d->set_day(day.day());
}

// Times the three monthly reports of `month` (its first day) `samples` times each through the
// service and once from a full scan; prints p50/p99 and whether both paths agree. Returns 1 on a
// failed call or a disagreement.
int MeasureReports(Reports& reports, const reporting::ReportingStore& store,
                   absl::CivilDay month, int samples, bool full_scan) {
  const absl::CivilDay end = reporting::MonthEnd(month);
  const absl::CivilDay known = end;  // the month as known at its close
  v1::GetAgingReportResponse aging;
  v1::GetCollectionEffectivenessResponse cei;
  v1::GetRollRatesResponse rolls;
  std::vector<double> aging_ms, cei_ms, roll_ms;
  for (int i = 0; i < samples; ++i) {
    aging_ms.push_back(Time([&] {
      grpc::ClientContext ctx;
      Deadline(ctx);
      v1::GetAgingReportRequest r;
      SetDate(r.mutable_as_of(), end);
      SetDate(r.mutable_as_known_at(), known);
      r.set_group_by(v1::REPORT_GROUP_BY_CREDITOR);
      return reports.stub->GetAgingReport(&ctx, r, &aging);
    }));
    cei_ms.push_back(Time([&] {
      grpc::ClientContext ctx;
      Deadline(ctx);
      v1::GetCollectionEffectivenessRequest r;
      SetDate(r.mutable_start(), month);
      SetDate(r.mutable_end(), end);
      SetDate(r.mutable_as_known_at(), known);
      return reports.stub->GetCollectionEffectiveness(&ctx, r, &cei);
    }));
    roll_ms.push_back(Time([&] {
      grpc::ClientContext ctx;
      Deadline(ctx);
      v1::GetRollRatesRequest r;
      SetDate(r.mutable_month(), month);
      SetDate(r.mutable_as_known_at(), known);
      return reports.stub->GetRollRates(&ctx, r, &rolls);
    }));
  }
  // What each report read from the store (the same reads the service made): snapshots of the
  // accounts the month's facts move, aggregate rows for every other account, and facts.
  auto reads = [&store](const char* name, absl::CivilDay first, absl::CivilDay last,
                        absl::CivilDay known_at) {
    reporting::ReportingStore::ReadStats stats;
    auto input = store.ReadInput(reporting::SnapshotDateFor(first, known_at), last, false, &stats);
    if (!input) return;
    std::printf("reads  %-26s snapshots=%lld aggregate_rows=%lld facts=%lld\n", name,
                static_cast<long long>(stats.snapshots),
                static_cast<long long>(stats.aggregate_rows),
                static_cast<long long>(stats.facts));
  };
  if (!full_scan) {
    // The baseline holds every fact of the store in memory at once (about 850 bytes each), more
    // than the machine has at tens of millions of events: the served path alone, with its reads.
    reads("GetAgingReport", end, end, known);
    reads("GetCollectionEffectiveness", month - 1, end, known);
    reads("GetRollRates", month - 1, end, known);
    int rc = 0;
    auto served = [&rc](const char* name, const std::vector<double>& v) {
      const bool failed = std::any_of(v.begin(), v.end(), [](double ms) { return ms < 0; });
      if (failed) rc = 1;
      std::printf("report %-26s samples=%-3zu p50_ms=%-9.2f p99_ms=%-9.2f (no full scan)%s\n",
                  name, v.size(), Percentile(v, 0.5), Percentile(v, 0.99),
                  failed ? " (calls FAILED)" : "");
    };
    served("GetAgingReport", aging_ms);
    served("GetCollectionEffectiveness", cei_ms);
    served("GetRollRates", roll_ms);
    std::fflush(stdout);
    return rc;
  }
  // The baseline: every fact ever recorded, read from the store, then the same pure reports.
  const auto t0 = Steady::now();
  auto all = store.ScanFacts(absl::CivilDay(1970, 1, 1), absl::CivilDay(9999, 12, 31));
  if (!all) {
    std::fprintf(stderr, "collections-read-bench: scanning facts: %s\n",
                 all.error().message.c_str());
    return 1;
  }
  const double read_ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
  auto timed = [](auto&& build) {
    const auto t = Steady::now();
    auto out = build();
    return std::make_pair(std::move(out),
                          std::chrono::duration<double, std::milli>(Steady::now() - t).count());
  };
  auto [scan_aging, aging_scan_ms] = timed([&] {
    return reporting::BuildAging(all.value(), end, known, v1::REPORT_GROUP_BY_CREDITOR, false);
  });
  auto [scan_cei, cei_scan_ms] =
      timed([&] { return reporting::BuildCollectionEffectiveness(all.value(), month, end, known); });
  auto [scan_rolls, roll_scan_ms] =
      timed([&] { return reporting::BuildRollRates(all.value(), month, known); });
  // The service also says whether the period is still open; the pure functions leave it unset.
  scan_aging.set_provisional(aging.provisional());
  scan_cei.set_provisional(cei.provisional());
  scan_rolls.set_provisional(rolls.provisional());
  int64_t in_month = 0;
  for (const auto& f : all.value()) {
    const auto& d = f.business_date();
    if (d.year() == month.year() && d.month() == month.month()) ++in_month;
  }
  std::printf("-- reports of %04d-%02d known at its close: %lld facts in the store, %lld dated "
              "in the month\n",
              static_cast<int>(month.year()), month.month(),
              static_cast<long long>(all.value().size()), static_cast<long long>(in_month));
  reads("GetAgingReport", end, end, known);
  reads("GetCollectionEffectiveness", month - 1, end, known);
  reads("GetRollRates", month - 1, end, known);
  int rc = 0;
  auto line = [&](const char* name, const std::vector<double>& v, double scan_ms,
                  const google::protobuf::Message& served, const google::protobuf::Message& scan) {
    const bool failed = std::any_of(v.begin(), v.end(), [](double ms) { return ms < 0; });
    std::string a, b;
    served.SerializeToString(&a);
    scan.SerializeToString(&b);
    const bool same = a == b;
    if (failed || !same) rc = 1;
    std::printf("report %-26s samples=%-3zu p50_ms=%-9.2f p99_ms=%-9.2f full_scan_ms=%.0f "
                "(read %.0f + compute %.0f)%s\n",
                name, v.size(), Percentile(v, 0.5), Percentile(v, 0.99), read_ms + scan_ms,
                read_ms, scan_ms,
                failed ? " (calls FAILED)" : same ? " same bytes" : " DIFFERENT from the scan");
  };
  line("GetAgingReport", aging_ms, aging_scan_ms, aging, scan_aging);
  line("GetCollectionEffectiveness", cei_ms, cei_scan_ms, cei, scan_cei);
  line("GetRollRates", roll_ms, roll_scan_ms, rolls, scan_rolls);
  std::fflush(stdout);
  return rc;
}

}  // namespace
}  // namespace collections

int main(int argc, char** argv) {
  using namespace collections;
  kafka::LogOptions log;
  log.topic.clear();
  std::string sizes = "200,2000";
  std::string run = absl::StrCat("rb", absl::ToUnixSeconds(absl::Now()));
  int events = 20;
  int samples = 50;
  int partitions = 4;
  std::string db_dir;
  int scan_samples = -1;
  std::string report_month;
  int report_samples = 5;
  bool report_scan = true;
  bool keep_db = false;
  FlagParser flags(
      "collections-read-bench",
      "Measures GetAuditTrail, ReplayAccount and VerifyAuditTrail of one account (p50/p99)\n"
      "answered from the projection's copy of the log and, as the same-run baseline, from a\n"
      "scan of the account's partition, at each topic size of --sizes (accounts of --events\n"
      "events each, appended by the bench; 0 = measure the topic as it is). Builds its own\n"
      "projection of the topic in --db (a temporary directory by default).");
  flags.SetEnvPrefix("COLLECTIONS_READ_BENCH_");
  flags.Add("bootstrap", &log.bootstrap, "Kafka bootstrap servers");
  flags.Add("topic", &log.topic, "event topic (default: a new one per run)");
  flags.Add("partitions", &partitions, "partitions of a topic the bench creates");
  flags.Add("sizes", &sizes,
            "comma-separated topic sizes in accounts to fill up to and measure at; 0 = do not "
            "fill, measure random accounts of --topic as it is (e.g. one a loader filled)");
  flags.Add("events", &events, "events per account the bench appends");
  flags.Add("samples", &samples, "accounts measured per size (each: one call of each RPC)");
  flags.Add("scan-samples", &scan_samples,
            "accounts of the samples also measured by the scan (the baseline; each call reads a "
            "whole partition); -1 = all of them");
  flags.Add("reports", &report_month,
            "also build the reporting projection in the same pass and time the aging, CEI and "
            "roll-rate reports of this month (YYYY-MM) against a scan of every fact");
  flags.Add("report-samples", &report_samples, "calls of each report timed");
  flags.Add("report-scan", &report_scan,
            "also compute the reports from a scan of every fact (the baseline; holds every fact "
            "in memory, about 850 bytes each: --report-scan=false above ~10M events)");
  flags.Add("run-id", &run, "prefix of the account ids the bench appends");
  flags.Add("db", &db_dir, "where the bench's projection lives (deleted first)");
  flags.Add("keep-db", &keep_db,
            "with --db and --sizes 0: keep the projection already in --db and catch it up "
            "instead of rebuilding it from offset 0 (measure a big topic again)");
  flags.AddProperties("kafka", &log.extra, "librdkafka property for every client (key=value)",
                      "kafka", "KAFKA");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines as they come, also into a pipe
  std::vector<int64_t> steps;
  for (auto part : absl::StrSplit(sizes, ',', absl::SkipEmpty())) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(part, &n) || n < 0) {
      std::fprintf(stderr, "collections-read-bench: --sizes: '%s' is not a count\n",
                   std::string(part).c_str());
      return 2;
    }
    steps.push_back(n);
  }
  if (steps.empty() || events < 1 || samples < 1 || partitions < 1) {
    std::fprintf(stderr,
                 "collections-read-bench: --sizes needs a size, --events, --samples and "
                 "--partitions must be >= 1\n");
    return 2;
  }
  std::optional<absl::CivilDay> month;
  if (!report_month.empty()) {
    absl::CivilMonth m;
    if (!absl::ParseCivilTime(report_month, &m) || report_samples < 1) {
      std::fprintf(stderr,
                   "collections-read-bench: --reports wants a month as YYYY-MM (got '%s') and "
                   "--report-samples >= 1\n",
                   report_month.c_str());
      return 2;
    }
    month = absl::CivilDay(m);
  }
  if (log.topic.empty()) log.topic = absl::StrCat("collections.read-bench.", run);
  log.partitions = partitions;
  auto made = kafka::EnsureTopic(log);
  if (!made) {
    std::fprintf(stderr, "collections-read-bench: %s\n", made.error().message.c_str());
    return 1;
  }
  const int32_t topic_partitions = made.value();
  const bool own_db = db_dir.empty();
  if (own_db) {
    db_dir = (std::filesystem::temp_directory_path() / absl::StrCat("read-bench-", run)).string();
  }
  const std::string reporting_dir = db_dir + "-reporting";
  if (!(keep_db && !own_db)) {
    ProjectionStore::Destroy(db_dir).reset();  // a leftover from an earlier run, if any
    reporting::ReportingStore::Destroy(reporting_dir).reset();
  }
  // Everything that holds the store ends inside; the directory is removed after.
  auto measure = [&]() -> int {
    auto store = ProjectionStore::Open(db_dir);
    if (!store) {
      std::fprintf(stderr, "collections-read-bench: %s\n", store.error().message.c_str());
      return 1;
    }
    AccountProjector projector(log, *store.value(), topic_partitions, run + "-projector");
    // With --reports, the reporting projection rides on the same consumer (as in the server).
    std::unique_ptr<reporting::ReportingStore> reporting_store;
    std::unique_ptr<reporting::ReportingProjector> reporting_projector;
    if (month) {
      auto opened = reporting::ReportingStore::Open(reporting_dir);
      if (!opened) {
        std::fprintf(stderr, "collections-read-bench: %s\n", opened.error().message.c_str());
        return 1;
      }
      reporting_store = std::move(opened.value());
      reporting_projector = std::make_unique<reporting::ReportingProjector>(
          log, *reporting_store, topic_partitions, run + "-reporting");
      if (auto e = projector.Attach(*reporting_projector)) {
        std::fprintf(stderr, "collections-read-bench: reporting: %s\n", e->message.c_str());
        return 1;
      }
    }
    if (auto e = projector.Start()) {
      std::fprintf(stderr, "collections-read-bench: projection: %s\n", e->message.c_str());
      return 1;
    }
    auto end_reader = kafka::LogReader::Create(log, run + "-end");
    if (!end_reader) {
      std::fprintf(stderr, "collections-read-bench: %s\n", end_reader.error().message.c_str());
      return 1;
    }
    Served scan(log, topic_partitions, nullptr, nullptr);
    Served indexed(log, topic_partitions, store.value().get(), &projector);
    std::printf("topic %s (%d partitions) at %s, %d events per account\n", log.topic.c_str(),
                topic_partitions, log.bootstrap.c_str(), events);

    int64_t filled = 0;
    int rc = 0;  // 1 when a call failed or the index fell back to a scan
    std::mt19937_64 random(42);
    for (int64_t size : steps) {
      if (size > filled) {
        const auto t0 = Steady::now();
        if (auto e = bench::FillTopic(log, topic_partitions, run, filled, size, events,
                                      AccountEvents)) {
          std::fprintf(stderr, "collections-read-bench: filling: %s\n", e->message.c_str());
          return 1;
        }
        std::printf("filled accounts %lld..%lld in %.1f s\n", static_cast<long long>(filled),
                    static_cast<long long>(size),
                    std::chrono::duration<double>(Steady::now() - t0).count());
        filled = size;
      }
      // The projection (its own thread, as in the service) catches up with what was appended:
      // on the first size the whole topic, as a rebuild would.
      const auto t0 = Steady::now();
      for (int32_t p = 0; p < topic_partitions; ++p) {
        auto end = end_reader.value()->HighWatermark(p, 10000);
        if (!end) {
          std::fprintf(stderr, "collections-read-bench: %s\n", end.error().message.c_str());
          return 1;
        }
        if (!projector.WaitForCoverage(p, end.value(), absl::Now() + absl::Hours(2)) ||
            (reporting_projector != nullptr &&
             !reporting_projector->WaitForCoverage(p, end.value(),
                                                   absl::Now() + absl::Hours(2)))) {
          std::fprintf(stderr, "collections-read-bench: the projection did not catch up\n");
          return 1;
        }
      }
      std::printf("projection caught up in %.1f s (%lld events applied so far)\n",
                  std::chrono::duration<double>(Steady::now() - t0).count(),
                  static_cast<long long>(projector.applied_events()));
      int64_t records = 0;
      for (const auto& [p, next] : projector.covered_offsets()) records += next;
      std::vector<std::string> chosen;
      int64_t accounts = filled;
      if (size > 0) {
        std::uniform_int_distribution<int64_t> pick(0, accounts - 1);
        for (int i = 0; i < samples; ++i) chosen.push_back(AccountId(run, pick(random)));
      } else {
        // A topic loaded by something else: accounts from the projection (the first 100,000).
        auto ids = store.value()->ScanAccountIds("", 100000);
        if (!ids || ids.value().empty()) {
          std::fprintf(stderr, "collections-read-bench: --topic holds no accounts to measure\n");
          return 2;
        }
        accounts = static_cast<int64_t>(ids.value().size());
        std::uniform_int_distribution<size_t> pick(0, ids.value().size() - 1);
        for (int i = 0; i < samples; ++i) chosen.push_back(ids.value()[pick(random)]);
      }
      const int64_t scans_before = indexed.service.scan_reads();
      auto from_index = Measure(*indexed.stub, chosen);
      std::vector<std::string> scanned = chosen;
      if (scan_samples >= 0 && static_cast<size_t>(scan_samples) < scanned.size()) {
        scanned.resize(static_cast<size_t>(scan_samples));
      }
      auto from_scan = Measure(*scan.stub, scanned);
      std::printf("-- %lld accounts, %lld log offsets\n", static_cast<long long>(accounts),
                  static_cast<long long>(records));
      auto line = [&](const char* path, const char* call, const std::vector<double>& v) {
        const bool failed = std::any_of(v.begin(), v.end(), [](double ms) { return ms < 0; });
        if (failed) rc = 1;
        std::printf("%-6s %-17s samples=%-4zu p50_ms=%-9.2f p99_ms=%-9.2f%s\n", path, call,
                    v.size(), Percentile(v, 0.5), Percentile(v, 0.99),
                    failed ? " (calls FAILED)" : "");
      };
      line("index", "GetAuditTrail", from_index.trail);
      line("index", "ReplayAccount", from_index.replay);
      line("index", "VerifyAuditTrail", from_index.verify);
      line("scan", "GetAuditTrail", from_scan.trail);
      line("scan", "ReplayAccount", from_scan.replay);
      line("scan", "VerifyAuditTrail", from_scan.verify);
      if (indexed.service.scan_reads() != scans_before) {
        std::printf("note: %lld index calls fell back to a scan (projection behind)\n",
                    static_cast<long long>(indexed.service.scan_reads() - scans_before));
        rc = 1;
      }
      std::fflush(stdout);
      if (month) {
        Reports reports(*reporting_store, *reporting_projector, absl::Now());
        if (MeasureReports(reports, *reporting_store, *month, report_samples, report_scan)) rc = 1;
      }
    }
    projector.Stop();
    return rc;
  };
  const int rc = measure();
  if (own_db) {
    std::filesystem::remove_all(db_dir);
    std::filesystem::remove_all(reporting_dir);
  }
  return rc;
}
