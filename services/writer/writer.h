#pragma once

#include "services/authz/integrity.h"
#include "services/authz/signing.h"
#include "services/compliance/policy.h"
#include "services/domain/clock.h"
#include "services/domain/command.h"
#include "services/domain/customer_aggregate.h"
#include "services/domain/error.h"
#include "services/domain/pipeline.h"
#include "services/domain/settings.h"
#include "services/kafka/kafka.h"
#include "services/writer/partition_ledger.h"
#include "services/writer_store/writer_store.h"

#include "collections/v1/account.pb.h"
#include "collections/v1/case_service.pb.h"
#include "collections/v1/events.pb.h"
#include "collections/v1/policy.pb.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace collections {

enum class WriterState;  // defined below

struct WriterOptions {
  // The deployment's identity: one per installation of the service (production, staging ...),
  // shared by all of its processes. The writers' transactional ids are derived from it
  // (<deployment_id>-writers and <deployment_id>-writers-b, used in turn by the process's one
  // kafka::TransactionGroup, whose transactions hold the appends of every partition), so a
  // process of the deployment that starts fences every writer of the one before; and it is
  // stamped on every event (EventEnvelope.deployment_id), so a writer can tell a partition
  // another deployment writes. Letters, digits, '.', '_' and '-', at most 64.
  // Default "collections".
  std::string deployment_id = "collections";
  // This process's identity within the deployment, stable across its restarts (a host name, a
  // pod's ordinal). Its transactional ids are <deployment_id>-writers-<instance_id> (and "-b"),
  // so a restart of the same instance fences its previous incarnation, and processes of other
  // instances are not touched. Empty (the default): <deployment_id>-writers, one process per
  // deployment (a second one started takes every partition over).
  std::string instance_id;
  // The partitions this process writes are assigned by Kafka's consumer-group protocol
  // (services/ownership): every process of the deployment joins the group
  // <deployment_id>-writers; a partition's writer starts when the partition is assigned and
  // stops (finishing what is in flight) when it is revoked. False: this process writes every
  // partition (tests and tools that run one writer).
  bool group_ownership = false;
  // With group_ownership: the gRPC address other processes forward commands to (host:port as
  // they can reach it); published as the group member's client.id.
  std::string advertised_address;
  // With group_ownership: how long the group waits for a process that stopped answering before
  // its partitions are given to the others (session.timeout.ms). The failover gap after a crash.
  // 20 s: longer than a broker failure takes to move the group coordinator (the broker's own
  // session timeout, 9 s, plus an election), so losing a broker never takes partitions away
  // from a live process.
  int ownership_session_timeout_ms = 20000;
  // Deployments whose events this one accepts as the latest of a partition it restores: the
  // way to take over a topic another deployment wrote (that deployment stopped for good).
  // Empty: a partition last written by another deployment is refused (FOREIGN_WRITER).
  std::vector<std::string> adopt_from;
  // Most commands in one Kafka transaction (group commit). 500: a transaction's fixed cost
  // (AddPartitions, EndTxn, markers) is paid once for many commands, and a batch still
  // commits in well under a second.
  int max_batch = 500;
  // Pause after a commit before the next transaction begins. 0 (the default): the next
  // transaction begins as soon as commands are queued. The pause used to dodge the broker's
  // CONCURRENT_TRANSACTIONS answer to a transaction begun while the previous commit's markers
  // are still being written (librdkafka 2.0.2 retries that only 20 ms later, a fixed delay no
  // setting changes); the producer now alternates between two transactional ids instead
  // (kafka::TransactionalProducer), so the next transaction never waits for the markers of the
  // previous one. Kept for experiments: a pause only adds latency.
  int transaction_gap_ms = 0;
  // Where each partition writer keeps its state (accounts, command ids, deadlines, the offset
  // they reflect): one RocksDB per partition under <store_path>/partition-<n>. A start reads
  // only the log after the stored offset. Empty = in memory only: every start reads the
  // partition from offset 0 (unit-level uses; the server always gives a path).
  std::string store_path;
  // Most accounts each partition writer keeps decoded in memory (least recently used are
  // dropped; the store has them all, and reading one back costs a RocksDB lookup). 1000 per
  // partition, 24,000 for a process of 24 partitions: a few hundred MiB of typical accounts.
  int64_t account_cache_size = 1000;
  // Test hook: called after every commit, before the store write; returning true makes the
  // writer behave as if the process died right there (the store is not written, now or
  // later). Empty in production.
  std::function<bool(int32_t partition)> crash_before_store_write_for_test;
  // CloudEvents ce_source of every event.
  std::string source = "/collections/case-service";
  // The compliance policy every command is evaluated against; its version is recorded on
  // every event. Default: the built-in federal policy (compliance::DefaultPolicy()).
  v1::CompliancePolicy policy = compliance::DefaultPolicy();
  // How often the writer looks for time-driven events when no command wakes it.
  int tick_interval_ms = 1000;
  DomainSettings domain;
  // Most commands waiting for one partition's writer. Beyond it a command is answered
  // UNAVAILABLE (WRITER_QUEUE_FULL) at once rather than queued without bound: 5000 is ten
  // full group commits, a few seconds of work.
  int max_queue = 5000;
  // Largest event record (value + key + headers) the writer appends: 512 KiB, half of the
  // broker's default max.message.bytes (1,048,588) and below librdkafka's message.max.bytes
  // (1,000,000), so a record under it is never refused for its size. A command that would
  // produce a larger event is refused with INVALID_ARGUMENT and never joins a transaction.
  // Lower it if the topic's max.message.bytes is lowered.
  int64_t max_event_bytes = 512 * 1024;
  // Waits between attempts to reconnect while the log is unreachable: from the first, doubled
  // after each failure up to the second.
  int recovery_backoff_min_ms = 250;
  int recovery_backoff_max_ms = 5000;
  // How long one init_transactions call may wait for the broker. Short, so a stop is never
  // held up by it; the call is resumable, so the next attempt carries on.
  int init_timeout_ms = 1000;
  // Time budgets of every Kafka call the writer makes (see kafka::ProducerTimeouts).
  kafka::ProducerTimeouts producer_timeouts;
  // The writer's Ed25519 key: every command's events (and every run of time-driven events)
  // are signed with it on their last event (EventSignature). Null = nothing is signed (only
  // unit-level uses; the server requires a key).
  std::shared_ptr<const authz::SigningKey> signing_key;
  // Public keys whose signatures the writer accepts when it restores its partition; an
  // account whose log holds an event that fails the chain or these signatures is quarantined
  // and refuses commands. Empty = signatures are not checked (the chain still is).
  std::vector<authz::VerifyingKey> trusted_keys;
  // Told about every transaction the writer appended (group commit): its partition, commands,
  // events, how long the append took and whether it committed. Called on the writer's thread;
  // must be quick and outlive the writers. Empty = nobody (main wires metrics here).
  std::function<void(int32_t partition, size_t commands, size_t events, double seconds,
                     bool committed)>
      on_append;
  // Told every time a writer changes state (from any thread that changes it). Same rules.
  std::function<void(int32_t partition, WriterState state)> on_state;
};

// The transactional.id the writers of `options` append with (and "-b" of it).
std::string WriterTransactionalId(const WriterOptions& options);
std::string WriterTransactionalId(const std::string& deployment_id, const std::string& instance_id);

// The record the writer appends for `event`: key = account id, value = the envelope's canonical
// bytes, timestamp = recorded_at, CloudEvents binary-mode headers (ce_source = `source`).
kafka::Record EventRecord(const v1::EventEnvelope& event, const std::string& source);
// The pipeline settings the writer runs every command with: its domain settings and policy,
// its signing key, its event size limit. `options` must outlive the result.
PipelineSettings PipelineSettingsFor(const WriterOptions& options);

// Where a partition writer is in its life. Only kServing accepts commands; in every other state
// a command is answered UNAVAILABLE at once (retry with the same command_id).
enum class WriterState {
  kStarting = 0,    // not started yet
  kRestoring = 1,   // reading its partition to rebuild accounts and command ids
  kServing = 2,     // accepting commands
  kRecovering = 3,  // the producer failed or the broker is unreachable: reconnecting
  kFenced = 4,      // another process took the partition over: stopped for good
  kStopped = 5,     // shut down
  // The partition holds records this writer did not write (another deployment, another
  // producer): stopped for good, so it never appends after them (see PartitionLedger).
  kForeignWriter = 6,
  // Another process of the deployment owns the partition (group ownership): its commands are
  // forwarded there. Only CommandRouter::states() reports it; no writer is ever in it.
  kElsewhere = 7,
};
const char* WriterStateName(WriterState state);

// The single writer of one partition of the event log.
//
// Start() takes a transactional producer from its TransactionGroup (shared with the other writers
// of the process; its init fences any previous owner), opens its store
// (WriterOptions::store_path) and reads the log after the store's checkpoint (all of it when
// there is no usable store), then serves commands on its own thread: it takes all queued
// commands, runs each through the domain's pipeline (RunCommand) against the state (including
// the effects of earlier commands in the same batch, applied in place), appends the resulting
// events in one Kafka transaction, and only after the commit succeeds writes the touched
// accounts and command records to its store with the new offset and calls the callers'
// completions. The next transaction begins as soon as commands are queued (no pause after a
// commit: commands that arrive while one commits form the next group commit). A batch that
// does not commit drops the accounts it touched from memory; they are read again from the
// store. At most account_cache_size accounts stay decoded in memory.
//
// One owner per partition: every transaction's records are checked against the PartitionLedger
// before the commit, and a restore refuses a partition whose latest events another deployment
// wrote (WriterOptions::adopt_from). Either way the writer stops for good (kForeignWriter):
// commands are refused FAILED_PRECONDITION (FOREIGN_WRITER) and nothing more is appended.
//
// Faults: a transaction that fails is aborted and its commands answered UNAVAILABLE (retry
// with the same command_id). When the producer can no longer be used (fatal error, a commit
// whose outcome is unknown, a broker that stopped answering) the writer recovers on its own:
// it drops the producer, makes a new one (init_transactions fences the old one and settles
// its open transaction), restores its state from its store and the log and serves again,
// retrying with back-off for as long as the broker is away. Meanwhile commands are answered UNAVAILABLE at
// once. Only a fence by another owner stops the partition for good (kFenced). A command whose
// events the log refuses as records (too large, invalid) is isolated: the others of its
// transaction are committed without it and only it is refused (INVALID_ARGUMENT).
//
// Thread-safety: Submit(), Tick(), state() and Stop() may be called from any thread;
// everything else is internal to the writer thread. Lifetime: Stop() (or the destructor)
// answers queued commands with kUnavailable at once, lets the transaction in flight finish
// (bounded by the producer's time budgets) and joins the thread.
class PartitionWriter {
 public:
  // Called exactly once with a command's outcome, on whichever thread settles it (the writer's
  // thread, or the caller's when it is refused at once, or the thread that stops the writer).
  // Must be quick and must not call back into the writer.
  using Completion = std::function<void(Result<v1::CommandReply>)>;
  // Shown the customer's committed state, on the writer's thread, just before a customer
  // command the writer decided (succeeded, repeated or refused) is answered, when the customer
  // exists: how the service learns recorded facts of the customer (commercial, kind) for the
  // steps it takes on the accounts. Must be quick and must not keep the reference.
  using CustomerPeek = std::function<void(const CustomerState&)>;

  // `group`: the transactions the writer appends through, shared with the other writers of the
  // process (CommandRouter); null = a group of its own with the same transactional ids, which
  // fences any other writers of the deployment.
  PartitionWriter(kafka::LogOptions log, WriterOptions options, int32_t partition,
                  const Clock& clock, std::shared_ptr<kafka::TransactionGroup> group = nullptr);
  ~PartitionWriter();
  PartitionWriter(const PartitionWriter&) = delete;
  PartitionWriter& operator=(const PartitionWriter&) = delete;

  // Fences older owners, restores state from the store and the log, starts serving. Blocks until
  // ready.
  Status Start();
  // Stops taking commands and answers the queued ones with UNAVAILABLE at once (SHUTTING_DOWN,
  // or PARTITION_MOVED when `moved`: the partition goes to another process, which the router
  // then sends them to); does not wait. Stop() does this too.
  void StopIntake(bool moved = false);
  void Stop();

  WriterState state() const { return state_.load(); }
  // Commands waiting for the writer.
  size_t queue_depth() const;

  // Queues a command. `done` is called after the command's events are committed, or with the
  // reason it was refused (at once, on the calling thread, when the writer cannot take it).
  // Nobody waits on a thread meanwhile: the gRPC handlers complete their calls from `done`.
  void Submit(Command command, bool dry_run, Completion done);
  // The same for a customer's command: it runs on the customer's stream ("customer/<id>",
  // CustomerStreamKey), which must be of this writer's partition, through the same steps
  // (command id, expected version, stamping, chain, signature, one transaction).
  void Submit(CustomerCommand command, Completion done, CustomerPeek peek = {});
  // The same, for callers that block: the future completes when `done` would be called.
  std::future<Result<v1::CommandReply>> Submit(Command command, bool dry_run = false);

  // Emits every time-driven event due at the clock's now and returns once it is committed
  // (the writer also does this on its own every tick_interval_ms). Returns the number of
  // events appended.
  Result<int64_t> Tick();

  int32_t partition() const { return partition_; }
  const std::shared_ptr<kafka::TransactionGroup>& group() const { return group_; }
  // Events read from the log by the last restore (Start() or a recovery).
  int64_t restored_events() const { return restored_events_.load(); }
  int64_t restored_accounts() const { return restored_accounts_.load(); }
  // Times the writer replaced its producer and restored its state after a failure.
  int64_t recoveries() const { return recoveries_.load(); }
  // The offset the last restore started reading at (0: from the beginning, no usable store).
  int64_t restored_from_offset() const { return restored_from_offset_.load(); }

 private:
  struct Pending {
    bool tick = false;     // a Tick() request, not a command
    bool dry_run = false;  // evaluate only (CheckContact): decide and gate, append nothing
    std::promise<Result<int64_t>> tick_done;
    Command command;
    std::optional<CustomerCommand> customer;  // set: a customer's command (`command` unused)
    PartitionWriter::CustomerPeek peek;       // with `customer`: see Submit
    std::string key;          // stream id (account id or customer stream key) + '\0' + command id
    std::string fingerprint;  // SHA-256 of the request
    Completion done;
    bool answered = false;  // `done` (or `tick_done`) has its value
  };
  // What ProcessBatch leaves to its caller: when the log refused records themselves, the
  // commands behind them (still unanswered) so they can be isolated.
  struct BatchOutcome {
    bool records_refused = false;
    std::vector<Pending*> implicated;
    std::string message;
  };
  // An account the writer has decoded in memory.
  struct CachedAccount {
    AccountState account;
    std::list<std::string>::iterator lru;
  };

  // A new producer, initialised (fencing older ones): one attempt.
  Status Connect();
  Status Restore();
  // Connects and restores until it works (with back-off) or the writer stops or is fenced.
  // Returns true when serving again.
  bool Recover();
  // Leaves kServing after the producer failed: answers what is queued, then kFenced or
  // kRecovering.
  void Fail(const std::string& why);
  // Stops for good because the partition holds records this writer did not write: answers
  // what is queued, then kForeignWriter.
  void StopForeign(const std::string& why);
  void SetState(WriterState state);
  // Records a committed event: the account's position and the command's record (and, with
  // `evolve`, applies it to the account: a restore; the live path applied it already).
  void ApplyCommitted(const v1::EventEnvelope& event, int64_t offset, bool evolve);
  // Restore: the integrity gate first, then ApplyCommitted for what it releases.
  void ApplyRestored(const v1::EventEnvelope& event, int64_t offset, std::string_view record);
  void Run();
  // Queues `p` unless the writer cannot take it (then answers it at once).
  void Enqueue(Pending p);
  // Decides and appends `items` in one transaction; isolates commands whose records the log
  // refuses and commits the others without them.
  void ProcessItems(std::vector<Pending*> items, bool timer_tick);
  BatchOutcome ProcessBatch(const std::vector<Pending*>& batch, bool timer_tick);
  // Opens the store (falling back to an empty one when it is unreadable) and says where the
  // log must be read from.
  Result<int64_t> OpenStore(int64_t log_end);
  // The committed account, from memory or the store; nullptr when it has no event. A store
  // that cannot be read sets store_failure_ and also gives nullptr.
  AccountState* Committed(const std::string& account_id);
  // The committed account to change (created when new): marks it dirty.
  AccountState& Mutable(const std::string& account_id);
  // The same for a customer's stream ("customer/<id>").
  CustomerState* CommittedCustomer(const std::string& stream_id);
  CustomerState& MutableCustomer(const std::string& stream_id);
  std::optional<CommandRecord> CommittedCommand(const std::string& account_id,
                                                const std::string& command_id);
  // Writes what changed since the last flush, with `next_offset`, in one batch; then trims the
  // account cache to its size.
  Status Flush(int64_t next_offset);
  void Trim();
  // Answers `p` once; a customer command that succeeded first shows its peek the customer.
  void Answer(Pending& p, Result<v1::CommandReply> result);
  static void AnswerTick(Pending& p, Result<int64_t> result);
  Error UnavailableError(WriterState state) const;

  const kafka::LogOptions log_;
  const WriterOptions options_;
  const StateHorizon horizon_;  // of options_' policy and domain settings
  const int32_t partition_;
  const Clock& clock_;
  const authz::IntegrityGate integrity_;
  const std::shared_ptr<kafka::TransactionGroup> group_;
  std::unique_ptr<kafka::TransactionalProducer> producer_;
  // The offsets of the partition since the last restore (the commit check). Writer thread,
  // and the thread running a group transaction while this writer waits for its append.
  PartitionLedger ledger_;
  // Hands the ledger to the producer: each transaction holding this partition's records is
  // checked before its commit, and every one that ended is accounted for, however many
  // partitions it held and however often the group or the producer tried it.
  class LedgerGuard final : public kafka::CommitGuard {
   public:
    LedgerGuard(PartitionLedger& ledger, const kafka::LogOptions& log, int32_t partition)
        : ledger_(ledger), log_(log), partition_(partition) {}
    // The ledger's check; an offset it cannot account for is then looked at (rare): markers
    // written twice by a transaction coordinator that took over are accepted, data records of
    // another producer are not.
    std::optional<std::string> Check(const std::vector<int64_t>& offsets) override;
    void Ended(const std::vector<int64_t>& offsets, int64_t uncertain) override {
      ledger_.Ended(offsets, uncertain);
    }

   private:
    PartitionLedger& ledger_;
    const kafka::LogOptions& log_;
    const int32_t partition_;
  };
  LedgerGuard ledger_guard_{ledger_, log_, partition_};

  // Writer-thread state. The store holds every committed account and command of the
  // partition; `cache_` the most recently used accounts, decoded (front = most recent).
  std::unique_ptr<WriterStore> store_;
  std::unordered_map<std::string, CachedAccount> cache_;
  std::list<std::string> lru_;
  // Changed since the last flush: account id -> its due time before the change; and the
  // command records.
  std::unordered_map<std::string, std::optional<absl::Time>> dirty_accounts_;
  std::unordered_map<std::string, CommandRecord> dirty_commands_;
  // Customers (stream key -> state), decoded as they are used; the store has them all. Trimmed
  // to account_cache_size after each flush, like the accounts. Changed since the last flush:
  // dirty_customers_.
  std::unordered_map<std::string, CustomerState> customers_;
  std::set<std::string> dirty_customers_;
  std::string owner_;              // "<topic>/<partition>", recorded with the checkpoint
  std::optional<Error> store_failure_;  // the store could not be read or written: recover
  bool simulated_crash_ = false;   // crash_before_store_write_for_test fired
  std::string failure_message_;  // why the last append failed
  std::atomic<int64_t> restored_events_{0};
  std::atomic<int64_t> restored_accounts_{0};
  std::atomic<int64_t> recoveries_{0};
  std::atomic<int64_t> restored_from_offset_{0};
  std::atomic<WriterState> state_{WriterState::kStarting};
  std::atomic<bool> stop_requested_{false};  // mirrors stopping_ for lock-free checks

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;  // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
  std::string failed_;         // guarded by mutex_: why the writer is not serving, if it is not
  std::thread thread_;
};

// Settles the calls a writer has not answered by their deadline, or by the abandon time of a
// shutdown (CommandRouter::BeginStop), so that a caller is always answered in time even though
// no thread waits for it. A call is registered from CommandRouter::ExecuteAsync until it is
// settled; whoever settles it first (the writer's completion or this timer) calls its
// completion, exactly once. Lifetime: owned by the router; Stop() (or the destructor) settles
// what is left with UNAVAILABLE SHUTTING_DOWN and joins its thread. Threading: thread-safe.
class CallDeadlines {
 public:
  struct Call;
  CallDeadlines();
  ~CallDeadlines();
  CallDeadlines(const CallDeadlines&) = delete;
  CallDeadlines& operator=(const CallDeadlines&) = delete;

  // Registers a call that must be settled by `deadline`.
  std::shared_ptr<Call> Add(absl::Time deadline, PartitionWriter::Completion done);
  // Settles `call` with `result` unless it was settled already (then does nothing).
  void Settle(const std::shared_ptr<Call>& call, Result<v1::CommandReply> result);
  // From `at` on, every unsettled call is settled with UNAVAILABLE SHUTTING_DOWN.
  void AbandonAt(absl::Time at);
  void Stop();
  // Calls registered and not settled yet.
  size_t pending() const;

 private:
  void Run();
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<absl::Time, std::shared_ptr<Call>> calls_;  // guarded by mutex_
  absl::Time abandon_at_ = absl::InfiniteFuture();         // guarded by mutex_
  bool stopping_ = false;                                   // guarded by mutex_
  std::thread thread_;
};

// Where a command goes when another process of the deployment owns its partition
// (WriterOptions::group_ownership). The implementation (services/peer) calls the owner over
// gRPC, authenticated as the service itself, with the command as this process stamped it; the
// owner runs it with CommandRouter::ExecuteHere. Thread-safe; `done` is called exactly once.
class CommandForwarder {
 public:
  virtual ~CommandForwarder() = default;
  // `owner`: the owner's advertised gRPC address (host:port).
  virtual void Forward(const std::string& owner, const Command& command, absl::Time deadline,
                       bool dry_run, PartitionWriter::Completion done) = 0;
  // A customer's command; `peek`, when set, is shown the customer's committed state the owner
  // returns with its answer (see PartitionWriter::CustomerPeek).
  virtual void Forward(const std::string& owner, const CustomerCommand& command,
                       absl::Time deadline, PartitionWriter::Completion done,
                       PartitionWriter::CustomerPeek peek) = 0;
};

// Routes each command to the writer of its account's partition. Owns one writer per partition
// this process writes: every partition of the topic, or (WriterOptions::group_ownership) those
// the deployment's consumer group assigns it, forwarding the others' commands to their owners.
class CommandRouter {
 public:
  CommandRouter(kafka::LogOptions log, WriterOptions options, const Clock& clock);
  ~CommandRouter();

  // Where commands of partitions owned elsewhere go (group ownership). Set before Start(); must
  // outlive the router. Null: such commands are answered UNAVAILABLE (PARTITION_ELSEWHERE) with
  // the owner's address.
  void SetForwarder(CommandForwarder* forwarder) { forwarder_ = forwarder; }

  // Creates the topic if needed, then starts every partition writer (in parallel).
  Status Start();
  // Shutdown, first step: writers take no more commands and answer the queued ones at once;
  // a caller still waiting at `abandon_at` (its command in a transaction that has not
  // finished) is answered UNAVAILABLE then. Does not wait.
  void BeginStop(absl::Time abandon_at);
  // Stops every writer (in parallel) and waits for them.
  void Stop();

  // Validates and routes `command`; `done` is called exactly once, on whichever thread settles
  // it: with the outcome; or kDeadlineExceeded at `deadline` when the writer has not answered by
  // then (the command may still commit: retrying it with the same command id is always safe);
  // or kUnavailable SHUTTING_DOWN at BeginStop's abandon time. Never blocks.
  void ExecuteAsync(Command command, absl::Time deadline, bool dry_run,
                    PartitionWriter::Completion done);
  // The same, waiting for the outcome on the calling thread.
  Result<v1::CommandReply> Execute(Command command, absl::Time deadline, bool dry_run = false);
  // A command another process of the deployment forwarded: run here, never forwarded again. A
  // partition this process does not own (it moved meanwhile) is answered UNAVAILABLE
  // (PARTITION_MOVED): the caller retries with the same command_id.
  void ExecuteHere(Command command, absl::Time deadline, bool dry_run,
                   PartitionWriter::Completion done);
  void ExecuteHere(CustomerCommand command, absl::Time deadline, PartitionWriter::Completion done,
                   PartitionWriter::CustomerPeek peek = {});
  // A customer's command, routed by its stream key "customer/<id>" with the same partitioner
  // as accounts (so one customer's commands are ordered by one writer); otherwise as above.
  void ExecuteAsync(CustomerCommand command, absl::Time deadline,
                    PartitionWriter::Completion done, PartitionWriter::CustomerPeek peek = {});
  Result<v1::CommandReply> Execute(CustomerCommand command, absl::Time deadline);

  // True when this process can take commands: every partition writer it owns is serving (and,
  // with group ownership, it is a member of the group with its assignment).
  bool serving() const;
  // Per partition of the topic: its writer's state, or kElsewhere when another process owns it.
  std::vector<WriterState> states() const;
  // Commands waiting, per partition (0 for partitions owned elsewhere).
  std::vector<size_t> queue_depths() const;
  // Kafka transactions this process's writers committed since it started. Each holds the
  // appends of every partition that had work when it began (group commit), so it is at most
  // the sum of the partitions' appends.
  int64_t kafka_transactions() const;

  // Runs Tick() on every partition writer of this process; returns the events appended.
  Result<int64_t> Tick();

  // Partitions of the topic (all of them, owned here or not).
  int32_t partitions() const { return partition_count_; }
  int64_t restored_events() const;
  // Per partition: the offset its writer's last restore started reading at (the store's
  // checkpoint; 0 when it restored from the beginning or is owned elsewhere).
  std::vector<int64_t> restored_from_offsets() const;
  // Partitions this process writes now.
  std::vector<int32_t> owned() const;
  // Every partition's owner as the group last described it (group ownership; empty otherwise).
  std::map<int32_t, kafka::PartitionOwner> owners() const;

 private:
  // The writer of partition `p` when this process owns it.
  std::shared_ptr<PartitionWriter> WriterOf(int32_t p) const;
  using SubmitTo = std::function<void(PartitionWriter&, PartitionWriter::Completion)>;
  using ForwardTo = std::function<void(const std::string& owner, PartitionWriter::Completion)>;
  int32_t PartitionOf(const std::string& stream_id) const;
  // Hands a command of partition `p` to its writer here (registered with the deadline timer),
  // or forwards it to the owner (unless `here_only`), or answers why neither is possible.
  // While the owner is not known or has just let the partition go (a rebalance), the command
  // waits for the next one, once (`waited`). While the writer here is starting or restoring
  // (a partition just assigned, a recovery) it waits for the writer (`await_writer`).
  void Dispatch(int32_t p, absl::Time deadline, bool here_only, PartitionWriter::Completion done,
                SubmitTo submit, ForwardTo forward, bool waited = false,
                bool await_writer = true);
  // Dispatches the command again when `writer` (partition `p`'s here) is done starting or
  // restoring, or at most 10 s later within the deadline (then the writer answers
  // WRITER_RESTORING); false when the writer is not starting or restoring, or no time is left.
  bool AwaitWriter(int32_t p, absl::Time deadline, bool here_only, bool waited,
                   const std::shared_ptr<PartitionWriter>& writer,
                   const PartitionWriter::Completion& done, const SubmitTo& submit,
                   const ForwardTo& forward);
  // A writer's state changed: unless it is still on its way to serving (or stopped, when a
  // replacement or the partition's revocation follows), the commands waiting for partition
  // `p`'s writer go on (WakeWriterWaiters).
  void WriterStateChanged(int32_t p, WriterState state);
  void WakeWriterWaiters(int32_t p);
  // Dispatches the command again (once, `waited`) when partition `p` has an owner other than
  // `stale` (empty: any), or when its wait is over; false when its deadline leaves no time to
  // wait (the caller answers now).
  bool AwaitOwner(int32_t p, absl::Time deadline, const PartitionWriter::Completion& done,
                  const SubmitTo& submit, const ForwardTo& forward, const std::string& stale);
  void Run(Command command, absl::Time deadline, bool dry_run, bool here_only,
           PartitionWriter::Completion done);
  void Run(CustomerCommand command, absl::Time deadline, bool here_only,
           PartitionWriter::Completion done, PartitionWriter::CustomerPeek peek);
  // Answers a command whose partition has no writer here: forwarded to its owner when there is
  // one to forward to (and `here_only` is false), else UNAVAILABLE with where to go.
  Error NotHere(int32_t p, bool here_only) const;
  // The group's callbacks (see kafka::GroupMembership::Listener).
  void Assigned(const std::vector<int32_t>& partitions);
  void Revoked(const std::vector<int32_t>& partitions, bool lost);
  // Fences the previous owner of `p` when it is no longer a member of the group (it crashed):
  // its open transaction is aborted, and it can append nothing more, before this process reads
  // the partition. Once per gone process and `round` of assignments.
  void FenceGoneOwner(int32_t p, int64_t round);

  const kafka::LogOptions log_;
  const WriterOptions options_;
  const Clock& clock_;
  // Declared before the writers: destroyed after them, so a writer's last completions still
  // find it.
  CallDeadlines deadlines_;
  // Every writer's transactions (group commit across partitions). Replaced (under
  // writers_mutex_) only when another process fenced it.
  std::shared_ptr<kafka::TransactionGroup> group_;
  // Transactions committed by the groups replaced so far (guarded by writers_mutex_).
  int64_t retired_transactions_ = 0;
  CommandForwarder* forwarder_ = nullptr;
  int32_t partition_count_ = 0;
  // Per partition: its writer while this process owns it, else null. A writer is shared with
  // the calls routing to it, so a revocation never destroys it under them.
  mutable std::mutex writers_mutex_;
  std::vector<std::shared_ptr<PartitionWriter>> writers_;  // guarded by writers_mutex_
  // Writers being started (restoring) on threads of their own, per partition.
  std::mutex starting_mutex_;
  std::map<int32_t, std::thread> starting_;  // guarded by starting_mutex_
  std::unique_ptr<kafka::GroupMembership> membership_;
  std::atomic<bool> assigned_once_{false};
  // Set once this process leaves the group before its Stop (superseded, or shutting down).
  std::atomic<bool> superseded_{false};
  std::thread leaving_;  // guarded by starting_mutex_: leaves the group once superseded
  // The first assignment's writers, which Start() waits for.
  std::mutex first_mutex_;
  std::condition_variable first_done_;
  int first_pending_ = -1;  // guarded by first_mutex_: -1 until the first assignment
  Status first_error_;      // guarded by first_mutex_
  std::mutex fence_mutex_;
  std::map<std::string, int64_t> fenced_;  // guarded by fence_mutex_: gone owner -> round
  std::atomic<int64_t> assignment_rounds_{0};
  std::atomic<bool> stopping_{false};
  // Commands waiting for their partition's writer to finish restoring (AwaitWriter); each is
  // also a call of deadlines_, which ends its wait at the latest.
  std::mutex writer_waiters_mutex_;
  std::multimap<int32_t, std::shared_ptr<CallDeadlines::Call>> writer_waiters_;  // guarded
};

}  // namespace collections
