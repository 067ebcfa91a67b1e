// collections-scale-bench: the writer at scale. It loads a realistic history into a topic fast
// (accounts opened, contacts, promises, payments, and the time-driven events they cause) by
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
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
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
  int threads = 2;
  int transaction_records = 5000;
  std::string store = ".local/scale-bench/writer-store";
  std::string signing_key = ".local/scale-bench/signing.key";
  int64_t cache_size = 1000;
  int samples = 200;
  std::string phase = "all";
};

// The history's calendar: day k of an account is base + k days, 15:00 UTC (10:00 in Chicago).
const absl::Time kBase =
    absl::FromCivil(absl::CivilSecond(2020, 1, 6, 15, 0, 0), absl::UTCTimeZone());
absl::Time Day(int k) { return kBase + absl::Hours(24) * k; }

template <typename Request>
Request With(const std::string& account_id, const std::string& command_id, Request r) {
  r.set_command_id(command_id);
  r.set_account_id(account_id);
  r.mutable_actor()->set_id("scale-bench");
  r.mutable_actor()->set_kind(v1::ACTOR_KIND_SERVICE);
  r.mutable_actor()->set_role("system");
  return r;
}

v1::OpenCaseRequest Open(const std::string& id, int events) {
  v1::OpenCaseRequest r;
  r.set_creditor("Acme Bank");
  r.set_debtor_name("Jane Doe");
  r.set_currency("USD");
  r.mutable_balances()->set_principal_minor(100000 + 1000LL * events);
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

// The k-th command of an account's history (k >= 1): contacts, promises and payments in turn.
Command HistoryCommand(const std::string& id, int k) {
  const std::string command_id = absl::StrCat("h", k);
  switch (k % 4) {
    case 1:
      return Contact(id, command_id, /*call=*/true);
    case 2:
      return Promise(id, command_id, Day(k));
    case 3:
      return Payment(id, command_id, 1000);
    default:
      return Contact(id, command_id, /*call=*/false);
  }
}

double RssMiB(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::atof(line.c_str() + std::strlen(field)) / 1024.0;
  }
  return 0;
}

// Loads the history. Each thread owns the partitions p with p % threads == t and one
// transactional producer; an account's whole history is generated at once (only that one
// account is in memory), its events buffered per partition and appended in transactions of
// --transaction-records.
int Load(const BenchOptions& o, const WriterOptions& writer, const kafka::LogOptions& log) {
  const PipelineSettings settings = PipelineSettingsFor(writer);
  std::atomic<int64_t> events{0}, blocked{0};
  std::atomic<bool> failed{false};
  std::atomic<bool> stop{false};
  const auto started = std::chrono::steady_clock::now();
  auto work = [&](int t) {
    auto producer = kafka::TransactionalProducer::Create(
        log, absl::StrCat(o.prefix, "-loader-", t), kafka::ProducerTimeouts{}, &stop);
    if (!producer || producer.value()->Init(30000)) {
      std::fprintf(stderr, "loader %d: cannot create its producer\n", t);
      failed = true;
      return;
    }
    std::map<int32_t, std::vector<kafka::Record>> pending;
    auto flush = [&](int32_t p) {
      auto& records = pending[p];
      if (records.empty()) return;
      auto appended = producer.value()->Append(p, records);
      if (appended.outcome != kafka::AppendResult::Outcome::kCommitted) {
        std::fprintf(stderr, "loader %d: append failed: %s\n", t, appended.message.c_str());
        failed = true;
      }
      records.clear();
    };
    auto generate = [&](const std::string& id, int count) {
      const int32_t p = kafka::PartitionFor(id, o.partitions);
      if (p % o.threads != t) return;
      AccountState state;
      for (int k = 0; k < count && !failed; ++k) {
        Command command = k == 0 ? Command(Open(id, count)) : HistoryCommand(id, k);
        CommandInput input;
        input.command = &command;
        input.now = Day(k);
        CommandOutcome out = RunCommand(state, k > 0, input, settings);
        auto& records = pending[p];
        for (const auto& e : out.time_events) records.push_back(EventRecord(e, writer.source));
        if (out.kind == CommandOutcome::Kind::kAppend) {
          for (const auto& e : out.events) records.push_back(EventRecord(e, writer.source));
          if (out.error) ++blocked;
        }
        events += static_cast<int64_t>(out.time_events.size() + out.events.size());
        if (static_cast<int>(records.size()) >= o.transaction_records) flush(p);
      }
    };
    for (int64_t n = 0; n < o.accounts && !failed; ++n) {
      generate(absl::StrCat(o.prefix, "-", n), o.events_per_account);
    }
    generate(o.prefix + "-small", o.small_events);
    generate(o.prefix + "-big", o.big_events);
    for (auto& [p, records] : pending) flush(p);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) threads.emplace_back(work, t);
  std::atomic<bool> done{false};
  std::thread progress([&] {
    while (!done) {
      for (int i = 0; i < 100 && !done; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!done) {
        std::fprintf(stderr, "load: %lld events so far\n", static_cast<long long>(events.load()));
      }
    }
  });
  for (auto& th : threads) th.join();
  done = true;
  progress.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "load: accounts=%lld events=%lld blocked_contacts=%lld seconds=%.1f events_per_s=%.0f\n",
      static_cast<long long>(o.accounts + 2), static_cast<long long>(events.load()),
              static_cast<long long>(blocked.load()), seconds, events.load() / seconds);
  return failed ? 1 : 0;
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
  auto time = [&](const std::string& id, bool contact) {
    std::vector<double> micros;
    for (int i = 0; i < o.samples; ++i) {
      const std::string command_id = absl::StrCat("lat-", contact ? "c" : "p", "-", i, "-",
                                                  absl::ToUnixNanos(absl::Now()));
      Command command = contact ? Command(Contact(id, command_id, /*call=*/false))
                                : Command(Payment(id, command_id, 1));
      const auto t0 = std::chrono::steady_clock::now();
      auto result = serving->Execute(std::move(command), absl::Now() + deadline_slack);
      const auto t1 = std::chrono::steady_clock::now();
      if (!result && result.error().code != Errc::kFailedPrecondition) {
        std::fprintf(stderr, "latency: %s\n", result.error().message.c_str());
        continue;
      }
      micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    std::sort(micros.begin(), micros.end());
    if (micros.empty()) return std::pair<double, double>{0, 0};
    return std::pair<double, double>{micros[micros.size() / 2], micros[micros.size() * 95 / 100]};
  };
  const std::string small = o.prefix + "-small", big = o.prefix + "-big";
  // The pipeline alone (decide, gate, stamp, sign; no Kafka): what a command costs the writer's
  // thread, on a copy of each account as the writer holds it.
  const PipelineSettings settings = PipelineSettingsFor(writer);
  auto pipeline = [&](const std::string& id, bool contact) {
    const int32_t p = kafka::PartitionFor(id, o.partitions);
    auto store = WriterStore::Open(o.store + "/partition-" + std::to_string(p));
    if (!store) return 0.0;
    auto account = store.value()->GetAccount(id);
    if (!account || !account.value()) return 0.0;
    std::vector<double> micros;
    for (int i = 0; i < o.samples; ++i) {
      AccountState state = *account.value();
      const std::string command_id = absl::StrCat("pipe-", i);
      Command command = contact ? Command(Contact(id, command_id, /*call=*/false))
                                : Command(Payment(id, command_id, 1));
      CommandInput input;
      input.command = &command;
      input.now = clock.Now();
      const auto t0 = std::chrono::steady_clock::now();
      CommandOutcome out = RunCommand(state, true, input, settings);
      const auto t1 = std::chrono::steady_clock::now();
      (void)out;
      micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    std::sort(micros.begin(), micros.end());
    return micros[micros.size() / 2];
  };
  router.reset();  // the stores are the writers' own while they exist
  for (bool contact : {false, true}) {
    const double small_us = pipeline(small, contact), big_us = pipeline(big, contact);
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
  time(small, false);
  time(big, false);
  for (bool contact : {false, true}) {
    auto [small_p50, small_p95] = time(small, contact);
    auto [big_p50, big_p95] = time(big, contact);
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
  flags.Add("threads", &o.threads, "loader threads (each its own transactional producer)");
  flags.Add("transaction-records", &o.transaction_records, "records per loader transaction");
  flags.Add("store", &o.store, "the writers' store directory for the restart phases");
  flags.Add("signing-key", &o.signing_key,
            "Ed25519 key (PEM) the events are signed with; created when missing");
  flags.Add("account-cache-size", &o.cache_size, "accounts each writer keeps in memory");
  flags.Add("samples", &o.samples, "commands timed per latency figure");
  flags.Add("phase", &o.phase, "load, restart-zero, restart or all");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  MinLogLevel() = LogLevel::kError;

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
  writer.transactional_id_prefix = o.prefix;
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
  ManualClock clock(Day(std::max({o.events_per_account, o.small_events, o.big_events}) + 1));
  if (o.phase == "load") return Load(o, writer, log);
  if (o.phase == "restart-zero") return Restart(o, writer, log, true, false, clock);
  if (o.phase == "restart") return Restart(o, writer, log, false, true, clock);
  if (o.phase != "all") {
    std::fprintf(stderr, "--phase must be load, restart-zero, restart or all\n");
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
