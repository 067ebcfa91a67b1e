#pragma once

#include "absl/time/time.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

namespace collections {

// Read-your-writes waits that hold no thread: a registry of (partition, offset, deadline,
// callback). The projector reports what it applied (Applied); the registry's one thread runs
// the callbacks of the waits that were reached (true) and of those whose deadline passed
// (false). A wait is answered exactly once: by that thread, or never when Cancel() removed it
// first.
//
// Lifetime: Start() runs the thread, Stop() (or the destructor) answers every open wait with
// false and joins it. Threading: every method may be called from any thread; callbacks run on
// the registry's thread, one at a time, without the registry's lock held, so they may call
// back into the registry (and must be short: a store read, a reply).
class PositionWaiters {
 public:
  using Callback = std::function<void(bool reached)>;
  using Id = uint64_t;

  // At most `max_waits` open waits (Add refuses more).
  explicit PositionWaiters(int max_waits);
  ~PositionWaiters();
  PositionWaiters(const PositionWaiters&) = delete;
  PositionWaiters& operator=(const PositionWaiters&) = delete;

  void Start();
  void Stop();

  // Registers a wait for the record at `offset` of `partition`. A wait already reached is
  // answered at once (on the registry's thread; after Stop, on the caller's). Returns 0 when
  // max_waits are open (the callback is never called then).
  Id Add(int32_t partition, int64_t offset, absl::Time deadline, Callback callback);

  // Removes a wait (a cancelled call). Returns true when it was still open: its callback will
  // not run. False: it has been (or is being) answered.
  bool Cancel(Id id);

  // The projector applied every record of `partition` before `next_offset`.
  void Applied(int32_t partition, int64_t next_offset);

  int open_waits() const;
  int max_waits() const { return max_waits_.load(); }
  void set_max_waits(int max_waits) { max_waits_ = max_waits; }

 private:
  struct Wait {
    int32_t partition;
    int64_t offset;
    absl::Time deadline;
    Callback callback;
  };
  void Run();

  std::atomic<int> max_waits_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<Id, Wait> waits_;                                       // guarded by mutex_
  std::set<std::tuple<int32_t, int64_t, Id>> by_position_;         // guarded by mutex_
  std::set<std::pair<absl::Time, Id>> by_deadline_;                // guarded by mutex_
  std::map<int32_t, int64_t> applied_next_;                        // guarded by mutex_
  std::vector<std::pair<Callback, bool>> ready_;                   // guarded by mutex_
  Id next_id_ = 1;                                                 // guarded by mutex_
  bool stopping_ = false;                                          // guarded by mutex_
  std::thread thread_;
};

}  // namespace collections
