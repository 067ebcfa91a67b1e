// collections-bench: drives OpenCase + PostPayment against a running service at a given
// concurrency for a given time and prints throughput and latency percentiles.
#include "services/common/flags.h"

#include "collections/v1/case_service.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct WorkerStats {
  std::vector<double> latencies_ms;
  int64_t errors = 0;
  std::string first_error;
};

double Percentile(std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  std::string target = "127.0.0.1:50051";
  std::string run_id = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  int concurrency = 32;
  int duration_s = 20;
  int payments_per_case = 4;
  int channels = 4;
  collections::FlagParser flags(
      "collections-bench",
      "Load generator for the collections case service: each worker opens a case, then posts\n"
      "--payments-per-case payments to it, and repeats until --duration ends. Prints commands/s\n"
      "and p50/p99/p99.9 latency of all commands.");
  flags.SetEnvPrefix("COLLECTIONS_BENCH_");
  flags.Add("target", &target, "service address");
  flags.Add("concurrency", &concurrency, "concurrent workers (each one call in flight)");
  flags.Add("duration", &duration_s, "seconds to run");
  flags.Add("payments-per-case", &payments_per_case, "PostPayment calls after each OpenCase");
  flags.Add("channels", &channels, "gRPC channels (connections) shared by the workers");
  flags.Add("run-id", &run_id, "prefix of account ids, unique per run");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  if (concurrency < 1 || duration_s < 1 || channels < 1) {
    std::fprintf(stderr,
                 "collections-bench: --concurrency, --duration and --channels must be >= 1\n");
    return 2;
  }

  std::vector<std::unique_ptr<collections::v1::CaseCommandService::Stub>> stubs;
  for (int c = 0; c < channels; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", c);  // distinct channels, not one shared subchannel
    stubs.push_back(collections::v1::CaseCommandService::NewStub(
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args)));
  }
  std::vector<WorkerStats> stats(concurrency);
  std::atomic<int64_t> done{0};
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(duration_s);
  std::vector<std::thread> workers;
  for (int w = 0; w < concurrency; ++w) {
    workers.emplace_back([&, w] {
      auto& stub = *stubs[w % channels];
      WorkerStats& s = stats[w];
      s.latencies_ms.reserve(100000);
      for (int64_t n = 0; Clock::now() < end; ++n) {
        std::string account = "BENCH-" + run_id + "-" + std::to_string(w) + "-" + std::to_string(n);
        for (int step = 0; step <= payments_per_case && Clock::now() < end; ++step) {
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
          collections::v1::CommandReply reply;
          grpc::Status status;
          auto t0 = Clock::now();
          if (step == 0) {
            collections::v1::OpenCaseRequest r;
            r.set_command_id("open");
            r.set_account_id(account);
            r.set_creditor("Bench Creditor");
            r.set_debtor_name("Bench Debtor");
            r.set_currency("USD");
            r.mutable_balances()->set_principal_minor(1000000);
            r.mutable_balances()->set_fees_minor(5000);
            r.mutable_due_date()->set_year(2025);
            r.mutable_due_date()->set_month(9);
            r.mutable_due_date()->set_day(1);
            r.set_time_zone("America/New_York");
            auto* phone = r.mutable_contact_points()->add_phones();
            phone->set_number("+12125550100");
            phone->set_type(collections::v1::PHONE_TYPE_CELL);
            status = stub.OpenCase(&ctx, r, &reply);
          } else {
            collections::v1::PostPaymentRequest r;
            r.set_command_id("pay-" + std::to_string(step));
            r.set_account_id(account);
            r.set_payment_id("P" + std::to_string(step));
            r.mutable_amount()->set_amount_minor(2500);
            r.mutable_amount()->set_currency("USD");
            r.set_method(collections::v1::PAYMENT_METHOD_CARD);
            r.set_reference("bench");
            status = stub.PostPayment(&ctx, r, &reply);
          }
          double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
          if (status.ok()) {
            s.latencies_ms.push_back(ms);
            ++done;
          } else {
            if (s.errors++ == 0) s.first_error = status.error_message();
            break;  // the account's sequence is broken; start a new one
          }
        }
      }
    });
  }
  int64_t last = 0;
  while (Clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::seconds(5));
    int64_t now_done = done.load();
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::fprintf(stderr, "[bench] %4.0fs  %lld commands (%.0f/s over the last 5 s)\n", elapsed,
                 static_cast<long long>(now_done), static_cast<double>(now_done - last) / 5.0);
    last = now_done;
  }
  for (auto& t : workers) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> all;
  int64_t errors = 0;
  std::string first_error;
  for (auto& s : stats) {
    all.insert(all.end(), s.latencies_ms.begin(), s.latencies_ms.end());
    errors += s.errors;
    if (first_error.empty()) first_error = s.first_error;
  }
  std::sort(all.begin(), all.end());
  std::printf("collections-bench: target %s, concurrency %d, %d s, %d payments per case\n",
              target.c_str(), concurrency, duration_s, payments_per_case);
  std::printf("  commands ok      %zu (errors %lld%s%s)\n", all.size(),
              static_cast<long long>(errors),
              first_error.empty() ? "" : ", first: ", first_error.c_str());
  std::printf("  throughput       %.0f commands/s\n", static_cast<double>(all.size()) / elapsed);
  std::printf("  latency ms       p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
              Percentile(all, 0.50), Percentile(all, 0.99), Percentile(all, 0.999),
              all.empty() ? 0.0 : all.back());
  return errors > 0 && all.empty() ? 1 : 0;
}
