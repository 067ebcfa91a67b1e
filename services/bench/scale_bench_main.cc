// collections-scale-bench: the writer at scale. It loads a realistic history into a topic fast
// (accounts opened, contacts, promises, payments, and the time-driven events they cause; the
// loader is services/bench/loader.h: every core runs commands, several producers append) by
// running every command through the writer's own pipeline (services/domain/pipeline.h) and
// producing the events in large Kafka transactions, stamped, chained and signed exactly as the
// writer does, so a writer restores them as genuine. Then it measures what the issue asks:
// restart-to-serving from the writer store's checkpoint against a restore from offset 0 (the
// baseline, same run), the process's memory once serving, and the latency of PostPayment and
// RecordContactAttempt on an account with a short history against one with a long one.
//
// Topic layout (for other benchmarks reading the same topic): key = account id; accounts are
// "<prefix>-<n>" for n in [0, accounts), plus "<prefix>-small" (--small-events events) and
// "<prefix>-big" (--big-events events); partition = murmur2(key) as Kafka's Java client. Every
// record is a collections.v1.EventEnvelope with the writer's CloudEvents headers.
#include "services/authz/signing.h"
#include "services/bench/loader.h"
#include "services/common/flags.h"
#include "services/common/log.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/clock.h"
#include "services/domain/pipeline.h"
#include "services/kafka/kafka.h"
#include "services/writer/writer.h"
#include "services/writer_store/writer_store.h"

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

namespace collections {
namespace {

struct BenchOptions {
  std::string bootstrap = "127.0.0.1:19092";
  std::string topic = "collections.scale-bench.v1";
  int partitions = 24;
  std::string prefix = "SB";
  int64_t accounts = 1000;
  int events_per_account = 20;
  int small_events = 10;
  int big_events = 5000;
  int history_months = 1;
  int threads = 0;
  int producers = 4;
  int transaction_records = 5000;
  int progress_seconds = 10;
  bool baseline = false;
  bool verbose = false;
  std::string store = ".local/scale-bench/writer-store";
  std::string signing_key = ".local/scale-bench/signing.key";
  int64_t cache_size = 1000;
  int samples = 200;
  // The latency commands append to the accounts they time: a second run on the same topic would
  // time accounts grown by the first. Run N > 0 times a fresh pair "<prefix>-lat<N>-small" and
  // "-big", loaded by --phase load-pair with the same N.
  int latency_run = 0;
  std::string phase = "all";
};

// The prefix of the latency accounts of `o`'s run.
std::string LatencyPrefix(const BenchOptions& o) {
  return o.latency_run > 0 ? absl::StrCat(o.prefix, "-lat", o.latency_run) : o.prefix;
}

absl::Time Day(int k) { return bench::HistoryDay(k); }

double RssMiB(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::atof(line.c_str() + std::strlen(field)) / 1024.0;
  }
  return 0;
}

int Load(const BenchOptions& o, const WriterOptions& writer, const kafka::LogOptions& log) {
  bench::LoadOptions load;
  load.prefix = o.prefix;
  load.accounts = o.accounts;
  load.commands_per_account = o.events_per_account;
  load.small_commands = o.small_events;
  load.big_commands = o.big_events;
  load.history_months = o.history_months;
  load.generators = o.threads;
  load.producers = o.producers;
  load.transaction_records = o.transaction_records;
  load.progress_seconds = o.progress_seconds;
  load.baseline = o.baseline;
  return bench::LoadHistory(load, writer, log, o.partitions).ok ? 0 : 1;
}

std::string StoreDigest(const BenchOptions& o) {
  std::string all;
  for (int p = 0; p < o.partitions; ++p) {
    auto store = WriterStore::Open(o.store + "/partition-" + std::to_string(p));
    if (!store) return "unreadable: " + store.error().message;
    auto digest = store.value()->AccountsDigest();
    all += digest ? digest.value() : "unreadable";
  }
  return all;
}

// Starts the writers of every partition (as the server does), reports how long until they
// serve and what they read, then (with `latency`) times commands. Returns the exit code.
int Restart(const BenchOptions& o, WriterOptions writer, const kafka::LogOptions& log,
            bool fresh, bool latency, const Clock& clock) {
  if (fresh) {
    if (auto e = WriterStore::Destroy(o.store)) {
      std::fprintf(stderr, "%s\n", e->message.c_str());
      return 1;
    }
  }
  const auto started = std::chrono::steady_clock::now();
  auto router = std::make_unique<CommandRouter>(log, writer, clock);
  if (auto e = router->Start()) {
    std::fprintf(stderr, "restart: %s\n", e->message.c_str());
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  int64_t from = 0;
  for (auto offset : router->restored_from_offsets()) from += offset;
  std::printf("restart(%s): serving after %.2f s; events read %lld (sum of the start offsets "
              "%lld); rss %.0f MiB (peak %.0f MiB); account cache %lld per partition\n",
              fresh ? "offset 0, baseline" : "checkpoint", seconds,
              static_cast<long long>(router->restored_events()), static_cast<long long>(from),
              RssMiB("VmRSS:"), RssMiB("VmHWM:"),
              static_cast<long long>(writer.account_cache_size));
  if (!latency) return 0;
  // Latency: the same commands on an account with a short history and on one with a long one.
  const absl::Duration deadline_slack = absl::Seconds(30);
  CommandRouter* serving = router.get();
  // p50 and p95 of each account's commands, the two accounts in turn so that whatever else the
  // machine does weighs on both alike.
  using Percentiles = std::pair<double, double>;
  auto time = [&](const std::array<std::string, 2>& ids, bool contact) {
    std::array<std::vector<double>, 2> micros;
    for (int i = 0; i < o.samples; ++i) {
      for (size_t a = 0; a < ids.size(); ++a) {
        const std::string command_id = absl::StrCat("lat-", contact ? "c" : "p", "-", i, "-",
                                                    absl::ToUnixNanos(absl::Now()));
        Command command = contact ? bench::ContactCommand(ids[a], command_id, /*call=*/false)
                                  : bench::PaymentCommand(ids[a], command_id, 1);
        const auto t0 = std::chrono::steady_clock::now();
        auto result = serving->Execute(std::move(command), absl::Now() + deadline_slack);
        const auto t1 = std::chrono::steady_clock::now();
        if (!result && result.error().code != Errc::kFailedPrecondition) {
          std::fprintf(stderr, "latency: %s\n", result.error().message.c_str());
          continue;
        }
        micros[a].push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
    }
    std::array<Percentiles, 2> out{};
    for (size_t a = 0; a < ids.size(); ++a) {
      auto& m = micros[a];
      std::sort(m.begin(), m.end());
      if (!m.empty()) out[a] = {m[m.size() / 2], m[m.size() * 95 / 100]};
    }
    return out;
  };
  const std::string small = LatencyPrefix(o) + "-small", big = LatencyPrefix(o) + "-big";
  // The pipeline alone (decide, gate, stamp, sign; no Kafka): what a command costs the writer's
  // thread, on a copy of each account as the writer holds it.
  const PipelineSettings settings = PipelineSettingsFor(writer);
  // Each account as its writer stored it, and its size.
  auto stored = [&](const std::string& id) -> std::optional<AccountState> {
    const int32_t p = kafka::PartitionFor(id, o.partitions);
    auto store = WriterStore::Open(o.store + "/partition-" + std::to_string(p));
    if (!store) return std::nullopt;
    auto account = store.value()->GetAccount(id);
    if (!account || !account.value()) return std::nullopt;
    const auto& s = *account.value();
    std::printf("writer state of %s: %zu bytes (%d payments, %d promises, %d contacts kept; "
                "%d payment, %d promise, %d contact ids pruned)\n",
                id.c_str(), s.ByteSizeLong(), s.payments_size(), s.promises_size(),
                s.contacts_size(), s.pruned_payment_ids_size(), s.pruned_promise_ids_size(),
                s.pruned_contact_ids_size());
    return *account.value();
  };
  // p50 of each account's pipeline run, the two in turn.
  auto pipeline = [&](const std::array<AccountState, 2>& accounts, bool contact) {
    std::array<std::vector<double>, 2> micros;
    for (int i = 0; i < o.samples; ++i) {
      for (size_t a = 0; a < accounts.size(); ++a) {
        AccountState state = accounts[a];
        const std::string command_id = absl::StrCat("pipe-", i);
        Command command =
            contact ? bench::ContactCommand(state.account_id(), command_id, /*call=*/false)
                    : bench::PaymentCommand(state.account_id(), command_id, 1);
        CommandInput input;
        input.command = &command;
        input.now = clock.Now();
        const auto t0 = std::chrono::steady_clock::now();
        CommandOutcome out = RunCommand(state, true, input, settings);
        const auto t1 = std::chrono::steady_clock::now();
        (void)out;
        micros[a].push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
    }
    std::array<double, 2> p50{};
    for (size_t a = 0; a < accounts.size(); ++a) {
      std::sort(micros[a].begin(), micros[a].end());
      p50[a] = micros[a][micros[a].size() / 2];
    }
    return p50;
  };
  router.reset();  // the stores are the writers' own while they exist
  const auto small_state = stored(small), big_state = stored(big);
  if (!small_state || !big_state) {
    std::fprintf(stderr, "latency: the writer stores hold no %s or %s (see --latency-run)\n",
                 small.c_str(), big.c_str());
    return 1;
  }
  pipeline({*small_state, *big_state}, false);  // warm-up
  for (bool contact : {false, true}) {
    const auto [small_us, big_us] = pipeline({*small_state, *big_state}, contact);
    std::printf("pipeline %s: %d-event account p50 %.0f us; %d-event account p50 %.0f us; "
                "ratio %.2f\n",
                contact ? "RecordContactAttempt" : "PostPayment", o.small_events, small_us,
                o.big_events, big_us, small_us > 0 ? big_us / small_us : 0);
  }
  const auto again_started = std::chrono::steady_clock::now();
  CommandRouter again(log, writer, clock);
  if (auto e = again.Start()) {
    std::fprintf(stderr, "restart: %s\n", e->message.c_str());
    return 1;
  }
  std::printf("restart(checkpoint, same process): serving after %.2f s; events read %lld\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - again_started)
                  .count(),
              static_cast<long long>(again.restored_events()));
  serving = &again;
  // One warm-up each: loads the account into the writer's memory.
  time({small, big}, false);
  for (bool contact : {false, true}) {
    const auto measured = time({small, big}, contact);
    auto [small_p50, small_p95] = measured[0];
    auto [big_p50, big_p95] = measured[1];
    std::printf("latency %s: %d-event account p50 %.0f us p95 %.0f us; %d-event account p50 "
                "%.0f us p95 %.0f us; ratio p50 %.2f\n",
                contact ? "RecordContactAttempt" : "PostPayment", o.small_events, small_p50,
                small_p95, o.big_events, big_p50, big_p95,
                small_p50 > 0 ? big_p50 / small_p50 : 0);
  }
  return 0;
}

}  // namespace
}  // namespace collections

int main(int argc, char** argv) {
  using namespace collections;
  BenchOptions o;
  FlagParser flags(
      "collections-scale-bench",
      "Loads a large realistic history into a topic through the writer's own pipeline, then "
      "measures the writers' restart from their store against a restore from offset 0, memory, "
      "and command latency on short against long histories. Phases: load, restart-zero, "
      "restart (from the checkpoint, then latency), all (the three, in one process, and checks "
      "that both restarts reach the same state).");
  flags.SetEnvPrefix("COLLECTIONS_SCALE_BENCH_");
  flags.Add("bootstrap", &o.bootstrap, "Kafka bootstrap servers");
  flags.Add("topic", &o.topic, "topic to load (created if missing) and restore from");
  flags.Add("partitions", &o.partitions, "partitions when the topic is created");
  flags.Add("prefix", &o.prefix, "account id prefix (and transactional id prefix)");
  flags.Add("accounts", &o.accounts, "accounts to load");
  flags.Add("events-per-account", &o.events_per_account,
            "commands per account (each appends about one event, plus time-driven ones)");
  flags.Add("small-events", &o.small_events, "commands of the short-history latency account");
  flags.Add("big-events", &o.big_events, "commands of the long-history latency account");
  flags.Add("history-months", &o.history_months,
            "months the accounts' histories start over (account n opens on day 30 x (n mod "
            "months)), so a monthly report reads a share of the facts");
  flags.Add("threads", &o.threads,
            "loader threads running commands through the pipeline (0 = one per core)");
  flags.Add("producers", &o.producers,
            "loader transactional producers appending batches concurrently");
  flags.Add("transaction-records", &o.transaction_records, "records per loader transaction");
  flags.Add("progress-seconds", &o.progress_seconds,
            "seconds between the load's progress lines on stderr (0 = none)");
  flags.Add("baseline", &o.baseline,
            "after the load, time a bare librdkafka producer writing as many records of the "
            "same size (to <topic>.baseline, deleted afterwards)");
  flags.Add("store", &o.store, "the writers' store directory for the restart phases");
  flags.Add("signing-key", &o.signing_key,
            "Ed25519 key (PEM) the events are signed with; created when missing");
  flags.Add("account-cache-size", &o.cache_size, "accounts each writer keeps in memory");
  flags.Add("samples", &o.samples, "commands timed per latency figure");
  flags.Add("phase", &o.phase,
            "load, restart-zero, restart, all, or load-pair (only the two latency accounts of "
            "--latency-run, then a restart that stores them)");
  flags.Add("latency-run", &o.latency_run,
            "time the latency accounts of this run: 0 those of the load, N > 0 a fresh pair "
            "loaded by --phase load-pair --latency-run N (the timed commands grow the accounts "
            "they time, so a second run on a topic needs a fresh pair)");
  flags.Add("verbose", &o.verbose,
            "log the service's progress lines too (e.g. each writer's restore progress every "
            "5 s), to see how far a long restore from offset 0 has come");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  MinLogLevel() = o.verbose ? LogLevel::kInfo : LogLevel::kError;

  std::filesystem::create_directories(std::filesystem::path(o.signing_key).parent_path());
  if (!std::filesystem::exists(o.signing_key)) {
    std::ofstream(o.signing_key) << authz::SigningKey::Generate().PrivateKeyPem();
  }
  auto key = authz::SigningKey::LoadPem(o.signing_key);
  if (!key) {
    std::fprintf(stderr, "--signing-key: %s\n", key.error().message.c_str());
    return 2;
  }
  kafka::LogOptions log;
  log.bootstrap = o.bootstrap;
  log.topic = o.topic;
  log.partitions = o.partitions;
  WriterOptions writer;
  writer.deployment_id = o.prefix;
  writer.signing_key = std::make_shared<const authz::SigningKey>(key.value());
  auto verifying = authz::VerifyingKey::FromPem(key.value().PublicKeyPem());
  if (!verifying) return 2;
  writer.trusted_keys.push_back(verifying.value());
  writer.store_path = o.store;
  writer.account_cache_size = o.cache_size;
  writer.tick_interval_ms = 3600 * 1000;  // no clock sweep while measuring
  auto partitions = kafka::EnsureTopic(log);
  if (!partitions) {
    std::fprintf(stderr, "topic: %s\n", partitions.error().message.c_str());
    return 1;
  }
  o.partitions = partitions.value();
  // The service clock of the restart phases: just after the longest history.
  ManualClock clock(Day(std::max({30 * (std::max(1, o.history_months) - 1) + o.events_per_account,
                                   o.small_events, o.big_events}) +
                          1));
  if (o.phase == "load") return Load(o, writer, log);
  if (o.phase == "restart-zero") return Restart(o, writer, log, true, false, clock);
  if (o.phase == "restart") return Restart(o, writer, log, false, true, clock);
  if (o.phase == "load-pair") {
    if (o.latency_run <= 0) {
      std::fprintf(stderr, "--phase load-pair needs --latency-run N with N > 0\n");
      return 2;
    }
    BenchOptions pair = o;
    pair.prefix = LatencyPrefix(o);
    pair.accounts = 0;
    if (int rc = Load(pair, writer, log)) return rc;
    return Restart(o, writer, log, false, false, clock);
  }
  if (o.phase != "all") {
    std::fprintf(stderr, "--phase must be load, restart-zero, restart, load-pair or all\n");
    return 2;
  }
  if (int rc = Load(o, writer, log)) return rc;
  if (int rc = Restart(o, writer, log, true, false, clock)) return rc;
  const std::string zero = StoreDigest(o);
  if (int rc = Restart(o, writer, log, false, false, clock)) return rc;
  const std::string checkpoint = StoreDigest(o);
  if (zero != checkpoint) {
    std::fprintf(stderr, "FAIL: the restart from the checkpoint reached another state than the "
                         "restore from offset 0\n");
    return 1;
  }
  std::printf("state digest equal after the restart from offset 0 and from the checkpoint\n");
  return Restart(o, writer, log, false, true, clock);
}
