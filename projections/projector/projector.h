#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "projections/store/store.h"
#include "services/kafka/kafka.h"

namespace collections {

// Consumes the event topic (read_committed) and applies each batch of records to the
// ProjectionStore in one WriteBatch with the consumed offsets. The account rows are built by
// the domain's Evolve, the same code the writer runs.
//
// Lifetime: Start() resumes from the offsets in the store and runs a thread until Stop().
// Thread-safety: WaitForPosition / applied_offsets may be called from any thread.
class Projector {
 public:
  Projector(kafka::LogOptions log, ProjectionStore& store, int32_t partitions, std::string client_id);
  ~Projector();

  Status Start();
  void Stop();

  // Returns true once the record at `offset` of `partition` is applied (read-your-writes), false
  // if `deadline` passes first.
  bool WaitForPosition(int32_t partition, int64_t offset, absl::Time deadline);

  // Next offset to apply per partition.
  std::map<int32_t, int64_t> applied_offsets() const;
  int64_t applied_events() const { return applied_events_.load(); }

  // Reads up to the current end of every partition without a thread of its own (rebuilds and
  // tests). `progress` is called every few seconds with (events applied, events to go).
  Status CatchUp(absl::Duration timeout,
                 const std::function<void(int64_t, int64_t)>& progress = nullptr);

 private:
  Status Open();
  // Polls once and applies what came. Returns the partitions that reached the log end.
  Result<std::vector<int32_t>> Step(int timeout_ms);
  void Run();

  const kafka::LogOptions log_;
  ProjectionStore& store_;
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

}  // namespace collections
