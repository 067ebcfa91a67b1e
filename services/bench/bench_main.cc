// collections-bench: drives OpenCase + PostPayment against a running service for a given time
// and prints throughput and latency percentiles. Closed loop (--concurrency workers, each with
// one call in flight) or open loop (--rate: calls sent at fixed arrival times whether or not
// earlier ones were answered, latency counted from the time a call was due, so a slow service
// cannot hide its queueing by slowing the generator down).
#include "services/common/flags.h"

#include "collections/v1/case_service.grpc.pb.h"

#include "absl/strings/str_split.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct WorkerStats {
  std::vector<double> latencies_ms;
  int64_t errors = 0;
  int64_t retries = 0;  // UNAVAILABLE answers sent again (closed loop)
  std::string first_error;
};

collections::v1::OpenCaseRequest OpenCase(const std::string& account) {
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
  return r;
}

collections::v1::PostPaymentRequest PostPayment(const std::string& account, int step) {
  collections::v1::PostPaymentRequest r;
  r.set_command_id("pay-" + std::to_string(step));
  r.set_account_id(account);
  r.set_payment_id("P" + std::to_string(step));
  r.mutable_amount()->set_amount_minor(2500);
  r.mutable_amount()->set_currency("USD");
  r.set_method(collections::v1::PAYMENT_METHOD_CARD);
  r.set_reference("bench");
  return r;
}

double Percentile(std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

using Stubs = std::vector<std::unique_ptr<collections::v1::CaseCommandService::Stub>>;

// One call of the open loop, alive from its send until its answer.
struct OpenLoopCall {
  grpc::ClientContext context;
  collections::v1::OpenCaseRequest open;
  collections::v1::PostPaymentRequest payment;
  collections::v1::CommandReply reply;
  Clock::time_point due;
};

// Sends calls at `rate` per second for `duration_s` (arrival i is due at start + i / rate) and
// waits for every answer. Account slot i % rate gets arrival i, so an account's next command
// comes a second after its previous one: OpenCase first, then its payments, then a new account.
int RunOpenLoop(Stubs& stubs, const std::string& target, double rate, int duration_s,
                int payments_per_case, const std::string& run_id) {
  const int64_t slots = std::max<int64_t>(1, static_cast<int64_t>(rate));
  const int64_t total = static_cast<int64_t>(rate * duration_s);
  std::mutex mutex;
  std::condition_variable answered;
  std::vector<double> latencies_ms;  // guarded by mutex
  int64_t errors = 0, outstanding = 0;  // guarded by mutex
  std::string first_error;               // guarded by mutex
  Clock::time_point last_answer;         // guarded by mutex
  latencies_ms.reserve(static_cast<size_t>(total));
  int64_t late = 0;  // sends more than 1 ms after they were due (the generator fell behind)
  const auto start = Clock::now();
  for (int64_t i = 0; i < total; ++i) {
    const auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * i / rate));
    std::this_thread::sleep_until(due);
    if (Clock::now() - due > std::chrono::milliseconds(1)) ++late;
    const int64_t round = i / slots;
    const int step = static_cast<int>(round % (payments_per_case + 1));
    const std::string account = "BENCH-" + run_id + "-" + std::to_string(i % slots) + "-" +
                                std::to_string(round / (payments_per_case + 1));
    auto* call = new OpenLoopCall;
    call->due = due;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    {
      std::lock_guard lock(mutex);
      ++outstanding;
    }
    auto on_done = [&, call](grpc::Status status) {
      const auto now = Clock::now();
      const double ms = std::chrono::duration<double, std::milli>(now - call->due).count();
      {
        std::lock_guard lock(mutex);
        if (status.ok()) {
          latencies_ms.push_back(ms);
        } else if (errors++ == 0) {
          first_error = status.error_message();
        }
        last_answer = now;
        --outstanding;
      }
      answered.notify_one();
      delete call;
    };
    auto* async = stubs[static_cast<size_t>(i) % stubs.size()]->async();
    if (step == 0) {
      call->open = OpenCase(account);
      async->OpenCase(&call->context, &call->open, &call->reply, on_done);
    } else {
      call->payment = PostPayment(account, step);
      async->PostPayment(&call->context, &call->payment, &call->reply, on_done);
    }
  }
  std::unique_lock lock(mutex);
  answered.wait(lock, [&] { return outstanding == 0; });
  const double elapsed =
      std::max(std::chrono::duration<double>(last_answer - start).count(), 1e-3);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::printf("collections-bench: target %s, open loop at %.0f commands/s, %d s, %d payments per "
              "case\n",
              target.c_str(), rate, duration_s, payments_per_case);
  std::printf("  offered          %.0f commands/s (%lld sends late by > 1 ms)\n", rate,
              static_cast<long long>(late));
  std::printf("  commands ok      %zu (errors %lld%s%s)\n", latencies_ms.size(),
              static_cast<long long>(errors), first_error.empty() ? "" : ", first: ",
              first_error.c_str());
  std::printf("  throughput       %.0f commands/s\n",
              static_cast<double>(latencies_ms.size()) / elapsed);
  std::printf("  latency ms       p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
              Percentile(latencies_ms, 0.50), Percentile(latencies_ms, 0.99),
              Percentile(latencies_ms, 0.999), latencies_ms.empty() ? 0.0 : latencies_ms.back());
  return latencies_ms.empty() ? 1 : 0;
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
  double rate = 0;
  collections::FlagParser flags(
      "collections-bench",
      "Load generator for the collections case service: each worker opens a case, then posts\n"
      "--payments-per-case payments to it, and repeats until --duration ends (closed loop).\n"
      "With --rate, an open loop instead: calls are sent at that fixed rate whatever the\n"
      "answers, and latency counts from when each call was due. Prints commands/s and\n"
      "p50/p99/p99.9 latency of all commands.");
  flags.SetEnvPrefix("COLLECTIONS_BENCH_");
  flags.Add("target", &target, "service address; several, comma-separated, spread the channels over them");
  flags.Add("concurrency", &concurrency, "concurrent workers (each one call in flight)");
  flags.Add("duration", &duration_s, "seconds to run");
  flags.Add("payments-per-case", &payments_per_case, "PostPayment calls after each OpenCase");
  flags.Add("channels", &channels, "gRPC channels (connections) shared by the workers");
  flags.Add("run-id", &run_id, "prefix of account ids, unique per run");
  flags.Add("rate", &rate, "open loop: commands per second (0 = closed loop, --concurrency)");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  if (concurrency < 1 || duration_s < 1 || channels < 1 || rate < 0) {
    std::fprintf(stderr,
                 "collections-bench: --concurrency, --duration and --channels must be >= 1, "
                 "--rate >= 0\n");
    return 2;
  }

  // Several processes of one deployment: the channels are spread over them in turn (each
  // process forwards a command whose partition another one writes).
  const std::vector<std::string> targets = absl::StrSplit(target, ',', absl::SkipEmpty());
  if (targets.empty()) {
    std::fprintf(stderr, "collections-bench: --target must name at least one address\n");
    return 2;
  }
  channels = std::max(channels, static_cast<int>(targets.size()));
  Stubs stubs;
  for (int c = 0; c < channels; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", c);  // distinct channels, not one shared subchannel
    stubs.push_back(collections::v1::CaseCommandService::NewStub(grpc::CreateCustomChannel(
        targets[static_cast<size_t>(c) % targets.size()], grpc::InsecureChannelCredentials(),
        args)));
  }
  if (rate > 0) return RunOpenLoop(stubs, target, rate, duration_s, payments_per_case, run_id);
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
          collections::v1::CommandReply reply;
          grpc::Status status;
          auto t0 = Clock::now();
          // As a client should: a command answered UNAVAILABLE (a writer restoring, a
          // partition moving between processes) is sent again with the same command id, for
          // up to 30 s; the latency counts from the first attempt.
          for (int attempt = 0;; ++attempt) {
            grpc::ClientContext ctx;
            ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
            if (step == 0) {
              status = stub.OpenCase(&ctx, OpenCase(account), &reply);
            } else {
              status = stub.PostPayment(&ctx, PostPayment(account, step), &reply);
            }
            if (status.error_code() != grpc::StatusCode::UNAVAILABLE ||
                Clock::now() - t0 > std::chrono::seconds(30)) {
              break;
            }
            ++s.retries;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
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
  int64_t errors = 0, retries = 0;
  std::string first_error;
  for (auto& s : stats) {
    retries += s.retries;
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
  std::printf("  retried          %lld UNAVAILABLE answers sent again\n",
              static_cast<long long>(retries));
  std::printf("  latency ms       p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
              Percentile(all, 0.50), Percentile(all, 0.99), Percentile(all, 0.999),
              all.empty() ? 0.0 : all.back());
  return errors > 0 && all.empty() ? 1 : 0;
}
