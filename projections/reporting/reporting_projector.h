#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "projections/reporting/reporting_store.h"
#include "services/kafka/kafka.h"

namespace collections::reporting {

// Consumes the event topic (read_committed) into the ReportingStore: each batch of records
// becomes facts (facts.h) written in one WriteBatch together with the consumed offsets. It
// reads nothing but the events and its own store, so deleting the store and consuming from
// offset 0 gives the same bytes.
//
// Lifetime: Start() resumes from the offsets in the store and runs one thread until Stop() (or
// destruction); CatchUp() is for a projector without a thread (rebuilds, tests). The store
// must outlive it. Thread-safety: WaitForPosition and applied_offsets may be called from any
// thread; Start/Stop/CatchUp from the owner's.
class ReportingProjector {
 public:
  ReportingProjector(kafka::LogOptions log, ReportingStore& store, int32_t partitions, std::string client_id);
  ~ReportingProjector();

  Status Start();
  void Stop();

  // Returns true once the record at `offset` of `partition` is applied, false if `deadline`
  // passes first.
  bool WaitForPosition(int32_t partition, int64_t offset, absl::Time deadline);

  std::map<int32_t, int64_t> applied_offsets() const;
  int64_t applied_events() const { return applied_events_.load(); }

  // Reads up to the current end of every partition. `progress` is called every few seconds
  // with (events applied, records to go).
  Status CatchUp(absl::Duration timeout, const std::function<void(int64_t, int64_t)>& progress = nullptr);

 private:
  Status Open();
  // Polls once and applies what came. Returns the partitions that reached the log end.
  Result<std::vector<int32_t>> Step(int timeout_ms);
  void Run();

  const kafka::LogOptions log_;
  ReportingStore& store_;
  const int32_t partitions_;
  const std::string client_id_;
  std::unique_ptr<kafka::LogReader> reader_;

  mutable std::mutex mutex_;
  std::condition_variable applied_cv_;
  std::map<int32_t, int64_t> next_offsets_;  // guarded by mutex_
  std::atomic<int64_t> applied_events_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace collections::reporting
