#pragma once

#include "projections/projector/position_waiters.h"
#include "projections/store/store.h"
#include "services/authz/integrity.h"
#include "services/kafka/kafka.h"

#include "absl/time/time.h"
#include "collections/v1/events.pb.h"
#include "google/protobuf/arena.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>

namespace collections {

// One decoded record of the event topic, as a projection receives it.
struct ProjectedEvent {
  int32_t partition = 0;
  int64_t offset = 0;
  const std::string* raw = nullptr;  // the record's bytes, valid during ApplyBatch
  // The parsed record, never null; valid during ApplyBatch (the projector parses a poll's
  // records into one arena, freed at once when every projection has applied them).
  const v1::EventEnvelope* event = nullptr;
  const std::string* key = nullptr;  // the record's key, valid during ApplyBatch
  // False only for sinks that asked for unparseable records (wants_unparseable_records):
  // `event` is then empty.
  bool parsed = true;
};

// The record's bytes, or nothing when the event was made without them.
inline std::string_view RawBytes(const ProjectedEvent& e) {
  return e.raw == nullptr ? std::string_view() : std::string_view(*e.raw);
}

// What a projector applies batches to: a projection with its own store. Implementations
// apply a batch and the next offsets atomically (one RocksDB WriteBatch), so a crash can
// neither apply an event twice nor skip one. Called from the projector's thread only.
class ProjectionSink {
 public:
  virtual ~ProjectionSink() = default;
  // Next offset to consume per partition; partitions never applied are absent.
  virtual Result<std::map<int32_t, int64_t>> LoadOffsets() const = 0;
  virtual Status ApplyBatch(const std::vector<ProjectedEvent>& events,
                            const std::map<int32_t, int64_t>& next_offsets) = 0;
  // True for a sink that keeps records which are not an EventEnvelope too (parsed = false),
  // e.g. to show them to an auditor; others never see them.
  virtual bool wants_unparseable_records() const { return false; }
};

// Consumes the event topic (read_committed) and applies each batch of records to a
// ProjectionSink together with the consumed offsets. Records that are not an EventEnvelope
// are skipped, loudly (events are facts: retrying one this build cannot read would stall
// every projection behind it).
//
// One consumer for every projection: other projectors can be attached to this one (Attach);
// it then reads and parses each record once and applies each polled batch to its own sink and
// to every attached one, in order, each from its own stored offsets (a projection that is
// ahead, e.g. because another one is being rebuilt from offset 0, skips what it already holds).
// Each projector keeps its own offsets, read-your-writes waits, caught_up and counters, so the
// services that read one projection never wait for another. When a sink fails to apply a batch
// the reader is re-created at the lowest offsets of all projections, so nothing is skipped and
// the sinks that did apply it skip it the second time.
//
// Lifetime: Start() resumes from the sink's offsets and runs a thread until Stop(); the sink
// must outlive the projector. Stop() is bounded (the thread never waits on the broker for
// more than a poll). An attached projector runs no thread: its Start() loads its offsets and
// its Stop() detaches it (waiting for the batch being applied, if any). Thread-safety:
// WaitForPosition / applied_offsets / caught_up / CancelWaits may be called from any thread.
class Projector {
 public:
  Projector(kafka::LogOptions log, ProjectionSink& sink, int32_t partitions, std::string client_id,
            std::string name = "projector");
  virtual ~Projector();

  // Feeds `follower` from this projector's consumer (see the class comment). Call before
  // Start() of either; both must read the same topic with the same partitions. Returns
  // kFailedPrecondition when this projector already runs or either is attached elsewhere.
  Status Attach(Projector& follower);

  Status Start();
  void Stop();

  // Returns true once the record at `offset` of `partition` is applied (read-your-writes), false
  // if `deadline` passes first.
  bool WaitForPosition(int32_t partition, int64_t offset, absl::Time deadline);

  // ---- Read-your-writes without a thread per wait, and the log end (see position_waiters.h).

  // The registry of parked waits; Applied() is fed by this projector. Its cap on open waits
  // is set with waiters().set_max_waits (default 1000).
  PositionWaiters& waiters() { return waiters_; }

  int32_t partitions() const { return partitions_; }

  // The end of `partition` (its high watermark: the offset the next record will get, whether
  // or not its transaction has committed yet), from a
  // cache that is refreshed from the broker only when `offset` is not below the cached value,
  // so a position a command just returned is never judged against a stale end. Returns
  // kUnavailable when the broker cannot be asked.
  Result<int64_t> LogEnd(int32_t partition, int64_t offset);

  // Next offset to apply per partition.
  std::map<int32_t, int64_t> applied_offsets() const;

  // Per partition, the offset below which every committed record is applied: the next offset
  // to apply, or further when the reader reached the end of the partition there (transaction
  // markers occupy offsets no record is applied at). A read of the sink that wants everything
  // committed before a log end E waits until covered >= E (WaitForCoverage).
  std::map<int32_t, int64_t> covered_offsets() const;
  // Returns true once covered_offsets()[partition] >= `end`, false if `deadline` passes first
  // or waits are cancelled.
  bool WaitForCoverage(int32_t partition, int64_t end, absl::Time deadline);

  // True once the projection has applied everything the log held when the thread started (the
  // log end it saw then). Until then it is rebuilding or catching up: it may lack accounts
  // that exist, and its health is NOT_SERVING.
  bool caught_up() const { return caught_up_.load(); }
  // From now on WaitForPosition returns false at once (shutdown: nobody waits for the log).
  void CancelWaits();
  int64_t applied_events() const { return applied_events_.load(); }
  // When the newest applied event was recorded (Unix milliseconds; 0 before the first): the
  // projection is at least now - this behind whenever records are still to apply.
  int64_t last_applied_recorded_ms() const { return last_applied_recorded_ms_.load(); }
  const std::string& name() const { return name_; }

  // Reads up to the current end of every partition without a thread of its own (rebuilds and
  // tests), for this projection and every attached one. `progress` is called every few seconds
  // with (events applied, events to go). Returns kFailedPrecondition on an attached projector.
  Status CatchUp(absl::Duration timeout,
                 const std::function<void(int64_t, int64_t)>& progress = nullptr);

 private:
  // Loads this projection's offsets (once). Called before the consumer starts.
  Status OpenLane();
  // Opens every lane and (re)creates the reader at the lowest offset of any lane per partition.
  Status Open();
  // This projector and the attached ones, in order. Needs lanes_mutex_.
  std::vector<Projector*> LanesLocked();
  // Raises covered_ to what is applied and to `ends` (the ends the reader reached). Needs
  // mutex_.
  void UpdateCoveredLocked(const std::map<int32_t, int64_t>& ends);
  // Tells the waiters (and the log-end cache) what was applied.
  void NotifyApplied(const std::map<int32_t, int64_t>& next_offsets);
  // Applies the records of one poll (`polled`, parsed once by the consuming projector) that this
  // projection does not hold yet, with offsets moved to `polled_next`.
  Status ApplyPolled(const std::vector<ProjectedEvent>& polled,
                     const std::map<int32_t, int64_t>& polled_next,
                     const std::map<int32_t, int64_t>& ends);
  // Raises covered_ to `ends` after a poll that returned no record.
  void Covered(const std::map<int32_t, int64_t>& ends);
  // Notes the partitions this projection has caught up in (with the log ends `targets` seen at
  // start and the partitions `ended` in the last poll); sets caught_up_ when all have.
  void NoteProgress(const std::map<int32_t, int64_t>& targets, const std::vector<int32_t>& ended,
                    absl::Time started);
  // One poll's records, parsed once for every lane.
  struct Fetched {
    static google::protobuf::ArenaOptions ArenaSizes() {
      google::protobuf::ArenaOptions sizes;  // a poll's events take megabytes: few large blocks
      sizes.start_block_size = 64 << 10;
      sizes.max_block_size = 1 << 20;
      return sizes;
    }
    google::protobuf::Arena arena{ArenaSizes()};  // holds the parsed events; freed last
    std::vector<kafka::ConsumedRecord> records;
    std::vector<ProjectedEvent> events;  // point into `records`
    std::map<int32_t, int64_t> polled_next;
    std::map<int32_t, int64_t> ends;  // the reader's EndsReached after the poll
    std::vector<int32_t> at_end;
  };
  // Polls once and parses what came (unparseable records kept with parsed = false).
  Result<std::unique_ptr<Fetched>> Fetch(int timeout_ms);
  // Polls once (or takes the poll read ahead) and applies what came to every lane. While a
  // large poll is applied the next one is read and parsed on another thread, so a rebuild
  // reads the log while it writes the stores. Returns the partitions that reached the log end.
  Result<std::vector<int32_t>> Step(int timeout_ms);
  // Waits for a poll read ahead and drops it (before the reader is replaced).
  void DiscardPrefetch();
  void Run();
  // Sleeps up to `duration`, less if Stop() is called.
  void Pause(absl::Duration duration);

  const kafka::LogOptions log_;
  ProjectionSink& sink_;
  const int32_t partitions_;
  const std::string client_id_;
  const std::string name_;
  std::unique_ptr<kafka::LogReader> reader_;
  // The next poll, read ahead while a large one is applied; uses reader_ until it is ready.
  // Declared after reader_: destroyed (and so waited for) before it.
  std::future<Result<std::unique_ptr<Fetched>>> prefetch_;

  mutable std::mutex mutex_;
  std::condition_variable applied_cv_;
  std::map<int32_t, int64_t> next_offsets_;  // guarded by mutex_
  std::map<int32_t, int64_t> covered_;       // guarded by mutex_
  std::atomic<int64_t> applied_events_{0};
  std::atomic<int64_t> last_applied_recorded_ms_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> waits_cancelled_{false};
  std::atomic<bool> caught_up_{false};
  std::thread thread_;
  bool lane_open_ = false;           // OpenLane done; set before the consumer starts
  std::set<int32_t> done_;           // partitions caught up; the consuming thread's only
  Projector* leader_ = nullptr;      // the projector whose consumer feeds this one, if any
  std::mutex lanes_mutex_;           // held while a poll is applied to the lanes
  std::vector<Projector*> followers_;  // guarded by lanes_mutex_

  PositionWaiters waiters_{1000};
  std::mutex refresh_mutex_;
  std::unique_ptr<kafka::LogReader> log_end_reader_;  // guarded by refresh_mutex_
  absl::Time log_end_retry_at_;                       // guarded by refresh_mutex_
  std::mutex log_end_mutex_;
  std::map<int32_t, int64_t> log_end_;                // guarded by log_end_mutex_
};

// The account projection: rows built by the domain's Evolve (the same code the writer runs),
// each account's events, and the listing indexes. Every event passes the integrity gate
// first (hash chain and writer signature, `trusted_keys`): an account whose log holds an event
// that is not the service's is quarantined at its last genuine event (Account.quarantine) and
// an ALERT line is logged.
class AccountProjection final : public ProjectionSink {
 public:
  explicit AccountProjection(ProjectionStore& store,
                             std::vector<authz::VerifyingKey> trusted_keys = {})
      : store_(store), integrity_(std::move(trusted_keys)) {}
  Result<std::map<int32_t, int64_t>> LoadOffsets() const override { return store_.LoadOffsets(); }
  Status ApplyBatch(const std::vector<ProjectedEvent>& events,
                    const std::map<int32_t, int64_t>& next_offsets) override;
  // Every record goes into the store's per-account copy of the log, the audit's index.
  bool wants_unparseable_records() const override { return true; }

 private:
  ProjectionStore& store_;
  const authz::IntegrityGate integrity_;
};

namespace internal {
// Holds a projector's sink so it is built before (and outlives) the Projector base.
template <typename Sink>
struct SinkHolder {
  template <typename... Args>
  explicit SinkHolder(Args&&... args) : sink(std::forward<Args>(args)...) {}
  Sink sink;
};
}  // namespace internal

// A Projector of the account projection into `store`.
class AccountProjector : private internal::SinkHolder<AccountProjection>, public Projector {
 public:
  AccountProjector(kafka::LogOptions log, ProjectionStore& store, int32_t partitions,
                   std::string client_id, std::vector<authz::VerifyingKey> trusted_keys = {})
      : SinkHolder(store, std::move(trusted_keys)),
        Projector(std::move(log), sink, partitions, std::move(client_id), "projector") {}
};

}  // namespace collections
