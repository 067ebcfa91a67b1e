#pragma once

#include "services/authz/integrity.h"
#include "services/authz/signing.h"
#include "services/compliance/policy.h"
#include "services/domain/clock.h"
#include "services/domain/command.h"
#include "services/domain/error.h"
#include "services/domain/settings.h"
#include "services/kafka/kafka.h"

#include "collections/v1/account.pb.h"
#include "collections/v1/case_service.pb.h"
#include "collections/v1/events.pb.h"
#include "collections/v1/policy.pb.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace collections {

struct WriterOptions {
  // transactional.id = <prefix>-writer-<partition>. Two processes with the same prefix fence
  // each other; give each deployment its own prefix.
  std::string transactional_id_prefix = "collections";
  // Most commands in one Kafka transaction (group commit). 500: a transaction's fixed cost
  // (AddPartitions, EndTxn, markers) is paid once for many commands, and a batch still
  // commits in well under a second.
  int max_batch = 500;
  // Pause after a commit before the next transaction begins, gathering commands meanwhile.
  // Right after EndTxn the broker is still writing the commit markers; a transaction begun in
  // that window is refused with CONCURRENT_TRANSACTIONS and librdkafka retries it only ~20 ms
  // later. Measured on the local broker (deploy/bench.sh): see the issue notes.
  int transaction_gap_ms = 5;
  // CloudEvents ce_source of every event.
  std::string source = "/collections/case-service";
  // The compliance policy every command is evaluated against; its version is recorded on
  // every event. Default: the built-in federal policy (compliance::DefaultPolicy()).
  v1::CompliancePolicy policy = compliance::DefaultPolicy();
  // How often the writer looks for time-driven events when no command wakes it.
  int tick_interval_ms = 1000;
  DomainSettings domain;
  // The writer's Ed25519 key: every command's events (and every run of time-driven events)
  // are signed with it on their last event (EventSignature). Null = nothing is signed (only
  // unit-level uses; the server requires a key).
  std::shared_ptr<const authz::SigningKey> signing_key;
  // Public keys whose signatures the writer accepts when it restores its partition; an
  // account whose log holds an event that fails the chain or these signatures is quarantined
  // and refuses commands. Empty = signatures are not checked (the chain still is).
  std::vector<authz::VerifyingKey> trusted_keys;
};

// The single writer of one partition of the event log.
//
// Start() creates a transactional producer (fencing any previous owner), restores every
// account of the partition from the log, then serves commands on its own thread: it takes all
// queued commands, decides each against the state (including the effects of earlier commands
// in the same batch), appends the resulting events in one Kafka transaction, and only after the
// commit succeeds applies them to its state and completes the callers' futures.
//
// Thread-safety: Submit() may be called from any thread; everything else is internal to the
// writer thread. Lifetime: Stop() (or the destructor) fails queued commands with kUnavailable
// and joins the thread.
class PartitionWriter {
 public:
  PartitionWriter(kafka::LogOptions log, WriterOptions options, int32_t partition,
                  const Clock& clock);
  ~PartitionWriter();
  PartitionWriter(const PartitionWriter&) = delete;
  PartitionWriter& operator=(const PartitionWriter&) = delete;

  // Fences older owners, restores state from the log and starts serving. Blocks until ready.
  Status Start();
  void Stop();

  // Queues a command. The future completes after the command's events are committed, or with
  // the reason it was refused.
  std::future<Result<v1::CommandReply>> Submit(Command command, bool dry_run = false);

  // Emits every time-driven event due at the clock's now and returns once it is committed
  // (the writer also does this on its own every tick_interval_ms). Returns the number of
  // events appended.
  Result<int64_t> Tick();

  int32_t partition() const { return partition_; }
  // Events read from the log during Start().
  int64_t restored_events() const { return restored_events_; }
  int64_t restored_accounts() const { return restored_accounts_; }

 private:
  struct Pending {
    bool tick = false;     // a Tick() request, not a command
    bool dry_run = false;  // evaluate only (CheckContact): decide and gate, append nothing
    std::promise<Result<int64_t>> tick_done;
    Command command;
    std::string key;          // account id + '\0' + command id
    std::string fingerprint;  // SHA-256 of the request
    std::promise<Result<v1::CommandReply>> done;
  };
  // What the writer remembers of a committed command: enough to answer a repeat.
  struct CommandRecord {
    std::string fingerprint;
    v1::CommandReply reply;
    std::optional<Error> refusal;  // a command the compliance policy blocked (ContactBlocked)
  };

  Status Restore();
  void ApplyCommitted(const v1::EventEnvelope& event, int64_t offset);
  // Restore: the integrity gate first, then ApplyCommitted for what it releases.
  void ApplyRestored(const v1::EventEnvelope& event, int64_t offset);
  void Run();
  void ProcessBatch(std::vector<Pending>& batch, bool timer_tick);
  void ScheduleDue(const v1::Account& account);

  const kafka::LogOptions log_;
  const WriterOptions options_;
  const int32_t partition_;
  const Clock& clock_;
  const authz::IntegrityGate integrity_;
  std::unique_ptr<kafka::TransactionalProducer> producer_;

  // Writer-thread state: committed accounts and commands of this partition.
  std::unordered_map<std::string, v1::Account> accounts_;
  std::unordered_map<std::string, CommandRecord> commands_;
  // When each account's next time-driven event falls due, ordered by time.
  std::set<std::pair<absl::Time, std::string>> due_;
  std::unordered_map<std::string, absl::Time> due_of_;
  int64_t restored_events_ = 0;
  int64_t restored_accounts_ = 0;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;  // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
  std::string failed_;         // guarded by mutex_: why the writer stopped serving, if it did
  std::thread thread_;
};

// Routes each command to the writer of its account's partition. Owns one writer per partition
// of the topic (a single process owns the whole topic for now; see DESIGN.md for scale-out).
class CommandRouter {
 public:
  CommandRouter(kafka::LogOptions log, WriterOptions options, const Clock& clock);
  ~CommandRouter();

  // Creates the topic if needed, then starts every partition writer (in parallel).
  Status Start();
  void Stop();

  // Validates, routes and waits for the outcome until `deadline`. A command still queued at the
  // deadline is answered kDeadlineExceeded; it may still commit, and retrying it with the same
  // command id is always safe.
  Result<v1::CommandReply> Execute(Command command, absl::Time deadline, bool dry_run = false);

  // Runs Tick() on every partition writer; returns the events appended.
  Result<int64_t> Tick();

  int32_t partitions() const { return static_cast<int32_t>(writers_.size()); }
  int64_t restored_events() const;

 private:
  const kafka::LogOptions log_;
  const WriterOptions options_;
  const Clock& clock_;
  std::vector<std::unique_ptr<PartitionWriter>> writers_;
};

}  // namespace collections
