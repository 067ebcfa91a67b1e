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
#include "projections/store/store.h"
#include "services/bench/history_fill.h"
#include "services/common/flags.h"
#include "services/common/log.h"
#include "services/kafka/kafka.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "collections/v1/compliance_service.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <vector>

namespace collections {
namespace {

using Clock = std::chrono::steady_clock;

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


// A ComplianceService on loopback: the scan one, or the index one.
struct Served {
  Served(const kafka::LogOptions& log, int32_t partitions, const ProjectionStore* store,
         Projector* projector)
      : service(log, partitions) {
    if (store != nullptr) service.use_account_index(*store, *projector);
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // never share a port
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    stub = v1::ComplianceService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  ~Served() { server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5)); }
  ComplianceService service;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<v1::ComplianceService::Stub> stub;
};

void Deadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
}

// One call; returns milliseconds, or -1 on failure (printed once).
double Time(const std::function<grpc::Status()>& call) {
  const auto t0 = Clock::now();
  grpc::Status s = call();
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
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
  flags.Add("run-id", &run, "prefix of the account ids the bench appends");
  flags.Add("db", &db_dir, "where the bench's projection lives (deleted first)");
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
  ProjectionStore::Destroy(db_dir).reset();  // a leftover from an earlier run, if any
  // Everything that holds the store ends inside; the directory is removed after.
  auto measure = [&]() -> int {
    auto store = ProjectionStore::Open(db_dir);
    if (!store) {
      std::fprintf(stderr, "collections-read-bench: %s\n", store.error().message.c_str());
      return 1;
    }
    AccountProjector projector(log, *store.value(), topic_partitions, run + "-projector");
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
        const auto t0 = Clock::now();
        if (auto e = bench::FillTopic(log, topic_partitions, run, filled, size, events,
                                      AccountEvents)) {
          std::fprintf(stderr, "collections-read-bench: filling: %s\n", e->message.c_str());
          return 1;
        }
        std::printf("filled accounts %lld..%lld in %.1f s\n", static_cast<long long>(filled),
                    static_cast<long long>(size),
                    std::chrono::duration<double>(Clock::now() - t0).count());
        filled = size;
      }
      // The projection (its own thread, as in the service) catches up with what was appended:
      // on the first size the whole topic, as a rebuild would.
      const auto t0 = Clock::now();
      for (int32_t p = 0; p < topic_partitions; ++p) {
        auto end = end_reader.value()->HighWatermark(p, 10000);
        if (!end) {
          std::fprintf(stderr, "collections-read-bench: %s\n", end.error().message.c_str());
          return 1;
        }
        if (!projector.WaitForCoverage(p, end.value(), absl::Now() + absl::Hours(2))) {
          std::fprintf(stderr, "collections-read-bench: the projection did not catch up\n");
          return 1;
        }
      }
      std::printf("projection caught up in %.1f s (%lld events applied so far)\n",
                  std::chrono::duration<double>(Clock::now() - t0).count(),
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
      auto from_scan = Measure(*scan.stub, chosen);
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
    }
    projector.Stop();
    return rc;
  };
  const int rc = measure();
  if (own_db) std::filesystem::remove_all(db_dir);
  return rc;
}
