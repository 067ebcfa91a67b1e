#include "projections/projector/projector.h"

#include "services/common/log.h"
#include "services/domain/case_aggregate.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include <algorithm>
#include <set>
#include <thread>

namespace collections {

Projector::Projector(kafka::LogOptions log, ProjectionSink& sink, int32_t partitions,
                     std::string client_id, std::string name)
    : log_(std::move(log)),
      sink_(sink),
      partitions_(partitions),
      client_id_(std::move(client_id)),
      name_(std::move(name)) {}

Projector::~Projector() { Stop(); }

Status Projector::Open() {
  if (reader_) return std::nullopt;
  auto stored = sink_.LoadOffsets();
  if (!stored) return stored.error();
  std::map<int32_t, int64_t> start;
  for (int32_t p = 0; p < partitions_; ++p) {
    auto it = stored.value().find(p);
    start[p] = it == stored.value().end() ? 0 : it->second;
  }
  auto reader = kafka::LogReader::Create(log_, client_id_);
  if (!reader) return reader.error();
  if (auto e = reader.value()->Assign(start)) return e;
  reader_ = std::move(reader.value());
  {
    std::lock_guard lock(mutex_);
    next_offsets_ = start;
    UpdateCoveredLocked();
  }
  NotifyApplied(start);
  return std::nullopt;
}

Status Projector::Start() {
  waiters_.Start();
  if (auto e = Open()) return e;
  thread_ = std::thread([this] { Run(); });
  return std::nullopt;
}

void Projector::Stop() {
  stopping_ = true;
  CancelWaits();
  if (thread_.joinable()) thread_.join();
  waiters_.Stop();
}

void Projector::CancelWaits() {
  {
    std::lock_guard lock(mutex_);
    waits_cancelled_ = true;
  }
  applied_cv_.notify_all();
}

void Projector::Pause(absl::Duration duration) {
  const absl::Time until = absl::Now() + duration;
  while (!stopping_ && absl::Now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void Projector::Run() {
  // The log end as it is now: reaching it means the projection holds everything that was
  // written before this process started (a rebuild is complete).
  std::map<int32_t, int64_t> targets;
  while (!stopping_ && static_cast<int32_t>(targets.size()) < partitions_) {
    for (int32_t p = 0; p < partitions_ && !stopping_; ++p) {
      if (targets.count(p)) continue;
      auto high = reader_->HighWatermark(p, 2000);
      if (high) targets[p] = high.value();
    }
    if (static_cast<int32_t>(targets.size()) < partitions_) {
      LogWarn(name_, "cannot read the log end yet; retrying in 1 s");
      Pause(absl::Seconds(1));
    }
  }
  const absl::Time started = absl::Now();
  std::set<int32_t> done;
  auto note = [&](const std::vector<int32_t>& ended) {
    if (caught_up_) return;
    auto offsets = applied_offsets();
    for (int32_t p = 0; p < partitions_; ++p) {
      if (offsets[p] >= targets[p] || std::find(ended.begin(), ended.end(), p) != ended.end())
        done.insert(p);
    }
    if (static_cast<int32_t>(done.size()) == partitions_) {
      caught_up_ = true;
      LogInfo(name_, "caught up with the log (", applied_events(), " events applied in ",
              absl::FormatDuration(absl::Now() - started), ")");
    }
  };
  note({});
  while (!stopping_) {
    auto step = Step(100);
    if (!step) {
      LogWarn(name_, step.error().message, "; retrying in 1 s");
      Pause(absl::Seconds(1));
      continue;
    }
    note(step.value());
  }
}

Result<std::vector<int32_t>> Projector::Step(int timeout_ms) {
  std::vector<int32_t> at_end;
  auto records = reader_->Poll(1000, timeout_ms, &at_end);
  if (!records) return records.error();
  if (records.value().empty()) {
    if (!at_end.empty()) {
      {
        std::lock_guard lock(mutex_);
        UpdateCoveredLocked();
      }
      applied_cv_.notify_all();
    }
    return at_end;
  }

  std::map<int32_t, int64_t> next_offsets;
  std::vector<ProjectedEvent> events;
  events.reserve(records.value().size());
  const bool keep_unparseable = sink_.wants_unparseable_records();
  int64_t unparseable = 0;
  for (const auto& r : records.value()) {
    next_offsets[r.partition] = r.offset + 1;
    ProjectedEvent e{r.partition, r.offset, &r.value, {}, &r.key, true};
    if (!e.event.ParseFromString(r.value)) {
      LogError(name_, "partition ", r.partition, " offset ", r.offset,
               " is not a collections.v1.EventEnvelope; skipped");
      if (!keep_unparseable) continue;
      e.event.Clear();
      e.parsed = false;
      ++unparseable;
    }
    events.push_back(std::move(e));
  }
  if (auto e = sink_.ApplyBatch(events, next_offsets)) return *e;
  applied_events_ += static_cast<int64_t>(events.size()) - unparseable;
  if (!events.empty()) {
    // Records of one partition come in order; across partitions take the latest.
    int64_t latest = last_applied_recorded_ms_.load();
    for (const auto& e : events) {
      if (!e.parsed) continue;
      const auto& at = e.event.recorded_at();
      latest = std::max<int64_t>(latest, at.seconds() * 1000 + at.nanos() / 1000000);
    }
    last_applied_recorded_ms_ = latest;
  }
  {
    std::lock_guard lock(mutex_);
    for (const auto& [p, next] : next_offsets) next_offsets_[p] = next;
    UpdateCoveredLocked();
  }
  applied_cv_.notify_all();
  NotifyApplied(next_offsets);
  return at_end;
}

void Projector::UpdateCoveredLocked() {
  for (const auto& [p, next] : next_offsets_) {
    int64_t& covered = covered_[p];
    covered = std::max(covered, next);
  }
  // Everything below the end the reader reached was returned by a poll and, polls being
  // applied before the next one, is applied now.
  if (reader_) {
    for (const auto& [p, end] : reader_->EndsReached()) {
      int64_t& covered = covered_[p];
      covered = std::max(covered, end);
    }
  }
}

std::map<int32_t, int64_t> Projector::covered_offsets() const {
  std::lock_guard lock(mutex_);
  return covered_;
}

bool Projector::WaitForCoverage(int32_t partition, int64_t end, absl::Time deadline) {
  std::unique_lock lock(mutex_);
  auto covered = [&] {
    auto it = covered_.find(partition);
    return it != covered_.end() && it->second >= end;
  };
  while (!covered()) {
    if (waits_cancelled_) return false;
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    applied_cv_.wait_for(lock, std::chrono::nanoseconds(absl::ToInt64Nanoseconds(left)));
  }
  return true;
}

void Projector::NotifyApplied(const std::map<int32_t, int64_t>& next_offsets) {
  for (const auto& [p, next] : next_offsets) waiters_.Applied(p, next);
  std::lock_guard lock(log_end_mutex_);
  for (const auto& [p, next] : next_offsets) {
    int64_t& end = log_end_[p];
    end = std::max(end, next);  // applied records are inside the log
  }
}

Result<int64_t> Projector::LogEnd(int32_t partition, int64_t offset) {
  {
    std::lock_guard lock(log_end_mutex_);
    auto cached = log_end_.find(partition);
    if (cached != log_end_.end() && cached->second > offset) return cached->second;
  }
  // The broker round trip holds only refresh_mutex_, so the projector's thread (which updates
  // the cache after every batch) never waits for it. Its own reader: the projector's belongs
  // to the projector's thread.
  std::lock_guard refresh(refresh_mutex_);
  {
    // Callers that queued behind another refresh usually find their answer in it.
    std::lock_guard lock(log_end_mutex_);
    auto cached = log_end_.find(partition);
    if (cached != log_end_.end() && cached->second > offset) return cached->second;
  }
  // While the broker does not answer, callers are not made to wait for it one after another
  // (they run on gRPC's callback threads): for a second after a failure the end is unknown.
  if (absl::Now() < log_end_retry_at_) {
    return Error{Errc::kUnavailable, "LOG_END_UNKNOWN", "the broker did not say where the log ends",
                 {}, {}};
  }
  if (!log_end_reader_) {
    // read_uncommitted, so the broker answers the high watermark: a read_committed consumer is
    // told the last stable offset, which stays below a committed transaction until the
    // coordinator has written its markers, a moment after the writer has already answered.
    kafka::LogOptions options = log_;
    options.extra["isolation.level"] = "read_uncommitted";
    auto reader = kafka::LogReader::Create(options, client_id_ + "-log-end");
    if (!reader) {
      log_end_retry_at_ = absl::Now() + absl::Seconds(1);
      return reader.error();
    }
    log_end_reader_ = std::move(reader.value());
  }
  auto high = log_end_reader_->HighWatermark(partition, 2000);
  if (!high) {
    log_end_retry_at_ = absl::Now() + absl::Seconds(1);
    return high.error();
  }
  std::lock_guard lock(log_end_mutex_);
  int64_t& end = log_end_[partition];
  end = std::max(end, high.value());
  return end;
}

bool Projector::WaitForPosition(int32_t partition, int64_t offset, absl::Time deadline) {
  std::unique_lock lock(mutex_);
  auto applied = [&] {
    auto it = next_offsets_.find(partition);
    return it != next_offsets_.end() && it->second > offset;
  };
  while (!applied()) {
    if (waits_cancelled_) return false;
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    applied_cv_.wait_for(lock, std::chrono::nanoseconds(absl::ToInt64Nanoseconds(left)));
  }
  return true;
}

std::map<int32_t, int64_t> Projector::applied_offsets() const {
  std::lock_guard lock(mutex_);
  return next_offsets_;
}

Status Projector::CatchUp(absl::Duration timeout,
                          const std::function<void(int64_t, int64_t)>& progress) {
  if (thread_.joinable()) {
    return Error{Errc::kFailedPrecondition,
                 "PROJECTOR_RUNNING",
                 "CatchUp is for a projector without its own thread; use WaitForPosition",
                 {},
                 {}};
  }
  if (auto e = Open()) return e;
  std::map<int32_t, int64_t> targets;
  for (int32_t p = 0; p < partitions_; ++p) {
    auto high = reader_->HighWatermark(p, 10000);
    if (!high) return high.error();
    targets[p] = high.value();
  }
  std::set<int32_t> done;
  absl::Time deadline = absl::Now() + timeout;
  absl::Time next_progress = absl::Now();
  while (static_cast<int32_t>(done.size()) < partitions_) {
    auto ended = Step(200);
    if (!ended) return ended.error();
    auto offsets = applied_offsets();
    for (int32_t p = 0; p < partitions_; ++p) {
      // A partition is caught up when the log end was seen after all records before the end
      // as it was at the start (transaction markers make "offset == high" unreliable).
      if (offsets[p] >= targets[p] ||
          (std::find(ended.value().begin(), ended.value().end(), p) != ended.value().end())) {
        done.insert(p);
      }
    }
    if (progress && absl::Now() >= next_progress) {
      int64_t to_go = 0;
      for (const auto& [p, high] : targets) to_go += std::max<int64_t>(0, high - offsets[p]);
      progress(applied_events(), to_go);
      next_progress = absl::Now() + absl::Seconds(2);
    }
    if (absl::Now() > deadline) {
      return Error{Errc::kDeadlineExceeded,
                   "CATCH_UP_TIMEOUT",
                   "the projection did not reach the log end in time",
                   {},
                   {}};
    }
  }
  caught_up_ = true;
  return std::nullopt;
}

Status AccountProjection::ApplyBatch(const std::vector<ProjectedEvent>& events,
                                     const std::map<int32_t, int64_t>& next_offsets) {
  ProjectionStore::Batch batch;
  batch.next_offsets = next_offsets;
  std::map<std::string, std::vector<std::string>> old_index;  // per account, before this batch
  for (const auto& e : events) {
    // The audit's copy: every record under the account it names, before any judgement.
    const std::string& named =
        e.parsed && !e.event.account_id().empty() ? e.event.account_id() : *e.key;
    batch.log_records.push_back({named, e.partition, e.offset, *e.key, *e.raw});
    if (!e.parsed) continue;
    const std::string& id = e.event.account_id();
    auto it = batch.accounts.find(id);
    if (it == batch.accounts.end()) {
      auto stored = store_.GetAccount(id);
      if (!stored) return stored.error();
      it = batch.accounts.emplace(id, stored.value().value_or(v1::Account())).first;
      old_index[id] = stored.value() ? IndexKeys(*stored.value()) : std::vector<std::string>();
    }
    auto outcome = integrity_.Admit(it->second, e.event, e.partition, e.offset);
    if (outcome.quarantined_now) {
      LogError("projector", "ALERT integrity: account ", id, " quarantined at sequence ",
               e.event.sequence(), " (partition ", e.partition, " offset ", e.offset, "): ",
               it->second.quarantine().reason(), ": ", it->second.quarantine().detail(),
               "; nothing after its last genuine event is applied");
    }
    for (const auto& released : outcome.apply) {
      Evolve(it->second, released);
      it->second.mutable_last_position()->set_partition(e.partition);
      it->second.mutable_last_position()->set_offset(e.offset);
      // Events held for their command's signature arrive in an earlier record.
      batch.events.emplace_back(released, released.event_id() == e.event.event_id()
                                              ? *e.raw
                                              : released.SerializeAsString());
    }
  }
  for (const auto& [id, account] : batch.accounts) {
    std::vector<std::string> now_keys = IndexKeys(account);
    const std::vector<std::string>& before = old_index[id];
    for (const auto& k : before) {
      if (std::find(now_keys.begin(), now_keys.end(), k) == now_keys.end())
        batch.index_deletes.push_back(k);
    }
    for (const auto& k : now_keys) {
      if (std::find(before.begin(), before.end(), k) == before.end()) batch.index_puts.push_back(k);
    }
  }
  return store_.Apply(batch);
}

}  // namespace collections
