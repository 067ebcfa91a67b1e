#include "projections/projector/position_waiters.h"

#include "absl/time/clock.h"

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace collections {

PositionWaiters::PositionWaiters(int max_waits) : max_waits_(max_waits) {}

PositionWaiters::~PositionWaiters() { Stop(); }

void PositionWaiters::Start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void PositionWaiters::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Whatever is still open (or was registered without a thread) is answered "not reached":
  // a call must never be left without an answer.
  std::vector<Callback> left;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, wait] : waits_) left.push_back(std::move(wait.callback));
    for (auto& [callback, reached] : ready_) left.push_back(std::move(callback));
    waits_.clear();
    by_position_.clear();
    by_deadline_.clear();
    ready_.clear();
  }
  for (auto& callback : left) callback(false);
}

PositionWaiters::Id PositionWaiters::Add(int32_t partition, int64_t offset, absl::Time deadline,
                                         Callback callback) {
  bool stopped = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      stopped = true;
    } else if (auto it = applied_next_.find(partition);
               it != applied_next_.end() && it->second > offset) {
      ready_.emplace_back(std::move(callback), true);
    } else {
      if (static_cast<int>(waits_.size()) >= max_waits_.load()) return 0;
      const Id id = next_id_++;
      waits_.emplace(id, Wait{partition, offset, deadline, std::move(callback)});
      by_position_.emplace(partition, offset, id);
      by_deadline_.emplace(deadline, id);
      wake_.notify_all();  // the thread may need to wake earlier for this deadline
      return id;
    }
  }
  if (stopped) {
    callback(false);  // no thread is left to answer it
    return ~Id{0};
  }
  wake_.notify_all();
  // Answered already (queued on the thread); there is nothing left to cancel.
  return ~Id{0};
}

bool PositionWaiters::Cancel(Id id) {
  std::lock_guard lock(mutex_);
  auto it = waits_.find(id);
  if (it == waits_.end()) return false;
  by_position_.erase({it->second.partition, it->second.offset, id});
  by_deadline_.erase({it->second.deadline, id});
  waits_.erase(it);
  return true;
}

void PositionWaiters::Applied(int32_t partition, int64_t next_offset) {
  bool any = false;
  {
    std::lock_guard lock(mutex_);
    int64_t& next = applied_next_[partition];
    if (next_offset <= next) return;
    next = next_offset;
    // Waits of this partition with offset < next_offset, in offset order.
    auto it = by_position_.lower_bound({partition, INT64_MIN, 0});
    while (it != by_position_.end() && std::get<0>(*it) == partition &&
           std::get<1>(*it) < next_offset) {
      const Id id = std::get<2>(*it);
      auto wait = waits_.find(id);
      by_deadline_.erase({wait->second.deadline, id});
      ready_.emplace_back(std::move(wait->second.callback), true);
      waits_.erase(wait);
      it = by_position_.erase(it);
      any = true;
    }
  }
  if (any) wake_.notify_all();
}

int PositionWaiters::open_waits() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(waits_.size());
}

void PositionWaiters::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const absl::Time now = absl::Now();
    while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
      const Id id = by_deadline_.begin()->second;
      by_deadline_.erase(by_deadline_.begin());
      auto wait = waits_.find(id);
      by_position_.erase({wait->second.partition, wait->second.offset, id});
      ready_.emplace_back(std::move(wait->second.callback), false);
      waits_.erase(wait);
    }
    if (!ready_.empty()) {
      auto batch = std::move(ready_);
      ready_.clear();
      lock.unlock();
      for (auto& [callback, reached] : batch) callback(reached);
      lock.lock();
      continue;
    }
    if (by_deadline_.empty()) {
      wake_.wait(lock);
    } else {
      const absl::Duration left = by_deadline_.begin()->first - absl::Now();
      wake_.wait_for(lock, std::chrono::nanoseconds(std::max<int64_t>(
                               0, absl::ToInt64Nanoseconds(left) + 1000000)));
    }
  }
}

}  // namespace collections
