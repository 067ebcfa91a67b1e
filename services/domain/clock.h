#pragma once

#include "absl/time/clock.h"
#include "absl/time/time.h"

#include <mutex>

namespace collections {

// Source of "now" for the writer (recorded_at, default business time, time-driven events).
// Injected so tests can move time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// A clock that stands still until a test moves it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }
  void Set(absl::Time t) {
    std::lock_guard lock(mutex_);
    now_ = t;
  }
  void Advance(absl::Duration d) {
    std::lock_guard lock(mutex_);
    now_ += d;
  }

 private:
  mutable std::mutex mutex_;
  absl::Time now_;
};

}  // namespace collections
