#pragma once

#include "services/domain/error.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace collections::kafka {

// Where the log is. Defaults suit the local single-node broker of deploy/kafka.
struct LogOptions {
  std::string bootstrap = "127.0.0.1:19092";
  std::string topic = "collections.case-events.v1";
  // Used only when the topic does not exist yet, and fixed from then on: an account's partition
  // is murmur2(account id) % partitions, so changing the count moves accounts and means
  // re-keying the whole log. 24 divides evenly among 1, 2, 3, 4, 6, 8, 12 or 24 processes when
  // the service scales out to one writer process per group of partitions; each writer restores
  // from its own store, so more partitions cost little at start.
  int partitions = 24;
  // 1 for the local broker; 3 in production (with min.insync.replicas=2).
  int replication_factor = 1;
  // Extra librdkafka properties applied to every client, e.g. {"debug", "eos"}.
  std::map<std::string, std::string> extra;
  // Extra topic configs set only when EnsureTopic creates the topic, e.g.
  // {"max.message.bytes", "8000"} (tests use it to make the broker refuse records).
  std::map<std::string, std::string> topic_config;
  // Called with each librdkafka statistics document (JSON), from librdkafka's threads, when
  // the statistics.interval.ms property is set; empty = not wanted. Must outlive the clients.
  std::function<void(const std::string& json)> on_statistics;
};

// Java-compatible default partitioner: murmur2(key) & 0x7fffffff % partitions, so consumers in
// any language find an account where Java's client would put it.
int32_t PartitionFor(std::string_view key, int32_t partitions);
int32_t Murmur2(std::string_view data);

// Creates the topic if it is missing (retention forever, delete policy). Returns the number of
// partitions it has, or kUnavailable with the broker's message.
Result<int32_t> EnsureTopic(const LogOptions& options);

// One record to append.
struct Record {
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t timestamp_ms = 0;
};

// One record read back.
struct ConsumedRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};

// What became of one Append.
struct AppendResult {
  enum class Outcome {
    kCommitted = 0,     // every record is in the log; `offsets` says where
    kNotCommitted = 1,  // the transaction was aborted: nothing of it is visible
    kUnknown = 2,       // the commit began but its outcome could not be learnt (broker gone)
  };
  Outcome outcome = Outcome::kNotCommitted;
  // kCommitted: each record's offset. kNotCommitted (the transaction was aborted): the offset
  // of each record the broker had written before the abort, -1 for the others.
  std::vector<int64_t> offsets;
  // kNotCommitted: records whose write neither succeeded nor failed for sure before the abort
  // (in flight, timed out): each may occupy an offset of the partition.
  int64_t uncertain_records = 0;
  // kNotCommitted because the client or the broker refused records themselves (too large,
  // invalid): their indexes. A broker refuses a whole message set, so innocent records of the
  // same set are listed too; empty = no record was refused.
  std::vector<size_t> refused_records;
  // The producer cannot be used again (fatal error, abort or commit that did not finish):
  // replace it (a new producer's Init fences this one and settles its open transaction).
  bool producer_failed = false;
  // Another producer with the same transactional.id took over: this owner must stop for good.
  bool fenced = false;
  // kNotCommitted because a commit guard refused the transaction (see CommitGuard): its
  // records were written but aborted, so no read_committed reader ever sees them.
  bool vetoed = false;
  // With `vetoed`: the parts whose guard refused (index in AppendParts' `parts`) and why.
  std::map<size_t, std::string> vetoed_parts;
  std::string message;  // what happened, for logs and callers
};

// Time budgets of a transactional producer. Every call is bounded, so a broker that stops
// answering is noticed within seconds and a shutdown never waits on the network for long.
struct ProducerTimeouts {
  // Longest a commit may take before its outcome is declared unknown (the producer is then
  // replaced). Kept well below transaction.timeout.ms.
  int commit_ms = 8000;
  // Longest an abort may take before the producer is declared failed.
  int abort_ms = 2000;
  // Once the client has reported every broker down, a commit gives up after this long.
  int commit_when_brokers_down_ms = 1000;
  // Records not delivered within this fail (message.timeout.ms).
  int message_ms = 7000;
  // The broker aborts a transaction left open this long (transaction.timeout.ms); also how long
  // read_committed readers can be held up by a transaction a crashed process left open.
  int transaction_ms = 20000;
  // Every request to the broker (socket.timeout.ms).
  int socket_ms = 3000;
};

// Follows one part (one partition's records) through the transactions of an append, so its
// owner can account for every offset of the partition (the writer's PartitionLedger). Check is
// asked once every record of a transaction has been written (their offsets, in the order of the
// part's records) and before the transaction is committed: nullopt lets the commit go on; a
// message aborts the transaction instead (AppendResult::vetoed). Ended is told of every
// transaction that held the part and ended with the producer still usable, committed or aborted
// (each leaves one marker in the partition), including a transaction the producer aborts and
// tries again on its own and one a TransactionGroup retries without another writer's records:
// the records at `offsets` (-1 = not landed) are the part's, and `uncertain` of them may have
// taken an offset each. It adds no request to the broker: the offsets come from the delivery
// reports the commit waits for anyway.
//
// Called on the thread running the transaction (in a TransactionGroup, possibly another
// writer's) while the part's owner waits for its append: no locking needed.
class CommitGuard {
 public:
  virtual ~CommitGuard() = default;
  virtual std::optional<std::string> Check(const std::vector<int64_t>& offsets) = 0;
  virtual void Ended(const std::vector<int64_t>& offsets, int64_t uncertain) = 0;
};

// Appends batches of records to one partition, each batch in one Kafka transaction.
// `transactional.id` fences older producers with the same id: after Init() succeeds, any
// zombie owner of the partition can no longer commit. Errors are classified as librdkafka's
// transactional API documents them: retriable errors are retried within the time budget, an
// abortable transaction is aborted (the abort retried while retriable), and a fatal error
// marks the producer failed (or fenced, when another owner took over).
// Not thread-safe: owned and used by one partition writer thread. The destructor is bounded:
// it purges what is queued and does not wait for an unreachable broker.
class TransactionalProducer {
 public:
  virtual ~TransactionalProducer() = default;

  // Connects and calls init_transactions (which also aborts or completes a transaction a
  // previous owner left open), waiting at most `timeout_ms`. Returns kUnavailable on failure;
  // then `fenced()` / `failed()` say whether calling it again on this producer can help
  // (a timeout is resumable: call Init again).
  virtual Status Init(int timeout_ms) = 0;

  // Appends `records` to `partition` in one transaction and commits. Offsets are returned only
  // after the commit succeeded. With a `guard`, the records are delivered first and the guard
  // decides whether the transaction commits or is aborted (see CommitGuard).
  AppendResult Append(int32_t partition, const std::vector<Record>& records,
                      CommitGuard* guard = nullptr) {
    return AppendParts({{partition, &records, guard}});
  }
  // The same for records of several partitions in one transaction: `offsets` and
  // `refused_records` index the records of all parts in order, as if concatenated. Every part's
  // guard is asked before the commit; one veto aborts the whole transaction
  // (AppendResult::vetoed_parts says whose).
  struct Part {
    int32_t partition = 0;
    const std::vector<Record>* records = nullptr;
    // Optional; called on the thread running the transaction, while the part's owner waits.
    CommitGuard* guard = nullptr;
  };
  virtual AppendResult AppendParts(const std::vector<Part>& parts) = 0;

  // True after a fatal error or an operation that could not finish: replace the producer.
  virtual bool failed() const = 0;
  // True once another producer with the same transactional.id has fenced this one.
  virtual bool fenced() const = 0;

  // `stopping`, when given, is a flag the owner sets when it shuts down: a commit or abort
  // then gives up after at most 1 s more (the outcome of that transaction is unknown).
  static Result<std::unique_ptr<TransactionalProducer>> Create(
      const LogOptions& options, const std::string& transactional_id,
      const ProducerTimeouts& timeouts = ProducerTimeouts(),
      const std::atomic<bool>* stopping = nullptr);
  // Two producers used in turn, `transactional_id` and `transactional_id`-b: each Append goes to
  // the one that did not append last. Right after a commit the broker is still writing its
  // markers, and it answers a new transaction of the same transactional.id with
  // CONCURRENT_TRANSACTIONS, which librdkafka 2.0.2 retries only after a fixed 20 ms; the other
  // id has no transaction in that state, so the next group commit starts at once. Appends stay
  // ordered (one begins only after the previous one's commit returned). Init fences older
  // owners of both ids; failed()/fenced() are true when either is.
  static Result<std::unique_ptr<TransactionalProducer>> CreateAlternating(
      const LogOptions& options, const std::string& transactional_id,
      const ProducerTimeouts& timeouts = ProducerTimeouts(),
      const std::atomic<bool>* stopping = nullptr);
};

// Group commit across partitions: the partition writers of one process append through one
// transactional producer (a pair used in turn, see CreateAlternating), and appends that arrive
// while a transaction is in flight are joined into the next one, whatever their partition. A
// Kafka transaction has a fixed cost that does not depend on its size (AddPartitionsToTxn, EndTxn
// and its markers; in librdkafka 2.0.2 also about 2 ms of CPU for each transaction, its main
// thread polling while a sub-millisecond timer is pending), so with dozens of partitions, each
// with a few commands in flight, one transaction for all of them costs a fraction of one per
// partition. Per-partition order is kept: a writer appends its next batch only after the
// previous one returned.
//
// Ownership is per group: `transactional_id` names the group, and a new group with the same id
// (another process, or a restart) fences every writer of the old one. A transaction that fails
// fails for every writer in it; a producer that can no longer be used is replaced by the first
// writer that reconnects (Producer() then makes a new one, whose init fences the old one), and
// the others follow as they recover. Records the log refuses (too large, invalid), and a
// writer's records its CommitGuard vetoes, fail only their own append: the appends of the other
// writers in that transaction are retried without them (their guards were told of the aborted
// transaction, whose records and marker took offsets of their partitions).
//
// Thread-safety: all of it; each handle from Producer() is used by one writer thread. Lifetime:
// shared by the writers (the producer lives while a handle or the group holds it).
class TransactionGroup {
 public:
  static std::shared_ptr<TransactionGroup> Create(
      LogOptions options, std::string transactional_id,
      ProducerTimeouts timeouts = ProducerTimeouts());
  virtual ~TransactionGroup() = default;
  // A producer for one writer: the group's current one, or a new one when there is none or the
  // current one failed (its Init then fences the old one). Each handle appends through the group;
  // once the producer behind it fails, the handle reports failed() and a new handle is needed.
  virtual Result<std::unique_ptr<TransactionalProducer>> Producer() = 0;
  // The owner shuts down: a commit or abort in flight gives up after at most 1 s more.
  virtual void Stopping() = 0;
  // Lets go of the current producer once the writers have stopped (it closes with its last
  // handle); a later Producer() would make a new one.
  virtual void Close() = 0;
  // Transactions the group has committed (each may hold appends of several partitions).
  virtual int64_t transactions() const = 0;
  // Another process took the group's transactional ids over: it can never append again.
  virtual bool fenced() const = 0;
};

// A process's membership of its deployment's writer group: Kafka's consumer-group protocol
// (cooperative-sticky assignment) decides which process writes which partition of the topic.
// The member subscribes to the topic but never reads it (its partitions are paused): what it is
// assigned is what it owns. Its client.id is "<instance_id>@<advertised address>", so every
// process can tell who owns a partition and where to reach it.
struct MembershipOptions {
  std::string group_id;     // every process of the deployment: the same
  std::string instance_id;  // stable per process, unique in the group
  std::string advertised_address;
  // How long the group waits for a member that stopped answering before its partitions move.
  int session_timeout_ms = 20000;
};

// Who owns a partition, as the group coordinator last described it.
struct PartitionOwner {
  std::string instance_id;
  std::string address;
};

class GroupMembership {
 public:
  // Called on the membership's own thread. `assigned` must return quickly (start the work
  // elsewhere); `revoked` returns only when the partitions are let go (their writers have
  // stopped): the group gives them to another member only after that. `lost`: the group gave
  // them away already (this member was expelled); stop them at once.
  struct Listener {
    std::function<void(const std::vector<int32_t>& partitions)> assigned;
    std::function<void(const std::vector<int32_t>& partitions, bool lost)> revoked;
  };
  // Joins the group and serves its protocol on a thread of its own until destroyed.
  static Result<std::unique_ptr<GroupMembership>> Join(const LogOptions& options,
                                                       MembershipOptions membership,
                                                       Listener listener);
  virtual ~GroupMembership() = default;
  // Leaves the group (its partitions are revoked through the listener first) and stops.
  virtual void Leave() = 0;
  // Every partition's owner as last described (refreshed after each rebalance and every few
  // seconds); a partition missing: not known now (a rebalance is in progress).
  virtual std::map<int32_t, PartitionOwner> Owners() const = 0;
  // Instances that are members of the group now (asks the group coordinator; blocks up to 4 s).
  virtual std::vector<std::string> Members() = 0;
  // Asks for a fresh description soon (an owner was not found or did not answer).
  virtual void Refresh() = 0;
  // Calls `then` once when `partition` has an owner in Owners() other than `stale_instance`
  // (empty: any owner), at `until` if it still has none, or when the membership stops;
  // meanwhile the group is described every few hundred milliseconds. Runs `then` on the
  // membership's thread, or on the caller's when the owner is known already; `then` must
  // return quickly.
  virtual void WhenOwnerKnown(int32_t partition, std::chrono::steady_clock::time_point until,
                              std::function<void()> then,
                              const std::string& stale_instance = "") = 0;
  // The last owner this member recorded for a partition before it was assigned here (offset
  // commit metadata; empty when none): who must be fenced if it is gone.
  virtual std::string RecordedOwner(int32_t partition) = 0;
  // Records this instance as the partition's owner (so the next owner can fence it).
  virtual void RecordOwner(int32_t partition) = 0;
};

// Fences the producers of `transactional_ids` (init_transactions with each: a process that
// used them can no longer commit, and a transaction it left open is aborted at once). Bounded
// by `timeout_ms` per id.
Status FenceTransactionalIds(const LogOptions& options,
                             const std::vector<std::string>& transactional_ids, int timeout_ms);

// Kafka client handles whose destruction did not finish within its bound and were left closing
// on a thread of their own (see TransactionalProducer). A process with any left should end
// with _exit rather than run static destructors under them.
int LeakedClientHandles();

// Reads partitions of the topic with isolation.level=read_committed from given offsets.
// Not thread-safe: owned by one thread. The destructor does not wait for the broker (the
// reader never joins a consumer group nor commits offsets, so there is nothing to close).
class LogReader {
 public:
  virtual ~LogReader() = default;

  // Starts reading `partition` at `offset` (0 = from the beginning).
  virtual Status Assign(const std::map<int32_t, int64_t>& start_offsets) = 0;

  // Returns up to `max_records` committed records, waiting at most `timeout_ms` for the first.
  // `reached_end` gets the partitions that hit the current end of the log in this call.
  virtual Result<std::vector<ConsumedRecord>> Poll(int max_records, int timeout_ms,
                                                   std::vector<int32_t>* reached_end) = 0;

  // The offset at which each partition last reached its end (the next offset to read, past any
  // transaction markers), as Poll saw it; partitions that never reached it are absent. Every
  // committed record below it has been returned by Poll.
  virtual std::map<int32_t, int64_t> EndsReached() const { return {}; }

  // Whether `partition` has been read past everything written to it before it first reached its
  // end since it was assigned: every record below the high watermark of that moment is settled
  // (committed or aborted) and the committed ones were returned. A read_committed reader reaches
  // its end at the last stable offset, which stays below a transaction still open, and below a
  // committed one until its coordinator has written the markers: a moment after the producer's
  // commit returned. So a reader that must see every acknowledged append (a writer restoring,
  // a check of the log) keeps polling until this is true, not only until the end is reached.
  virtual bool ReachedWrittenEnd(int32_t partition) const = 0;

  // Current high watermark of a partition (for progress and lag).
  virtual Result<int64_t> HighWatermark(int32_t partition, int timeout_ms) = 0;

  // `read_committed` false: every data record, of open and aborted transactions too.
  static Result<std::unique_ptr<LogReader>> Create(const LogOptions& options,
                                                   const std::string& client_id,
                                                   bool read_committed = true);
};

// The data records (of any transaction, committed, aborted or open; markers are not data) at
// offsets `from` to `to` (inclusive) of a partition, counted by reading them.
Result<int64_t> CountDataRecords(const LogOptions& options, int32_t partition, int64_t from,
                                 int64_t to, int timeout_ms);

}  // namespace collections::kafka
