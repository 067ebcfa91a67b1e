#include "projections/reporting/reporting_projector.h"

#include <algorithm>
#include <set>

#include "projections/reporting/facts.h"
#include "services/common/log.h"

namespace collections::reporting {

ReportingProjector::ReportingProjector(kafka::LogOptions log, ReportingStore& store, int32_t partitions,
                                       std::string client_id)
    : log_(std::move(log)), store_(store), partitions_(partitions), client_id_(std::move(client_id)) {}

ReportingProjector::~ReportingProjector() { Stop(); }

Status ReportingProjector::Open() {
  if (reader_) return std::nullopt;
  auto stored = store_.LoadOffsets();
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
  std::lock_guard lock(mutex_);
  next_offsets_ = start;
  return std::nullopt;
}

Status ReportingProjector::Start() {
  if (auto e = Open()) return e;
  thread_ = std::thread([this] { Run(); });
  return std::nullopt;
}

void ReportingProjector::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void ReportingProjector::Run() {
  while (!stopping_) {
    auto step = Step(100);
    if (!step) {
      LogWarn("reporting", step.error().message, "; retrying in 1 s");
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

Result<std::vector<int32_t>> ReportingProjector::Step(int timeout_ms) {
  std::vector<int32_t> at_end;
  auto records = reader_->Poll(1000, timeout_ms, &at_end);
  if (!records) return records.error();
  if (records.value().empty()) return at_end;

  ReportingStore::Batch batch;
  for (const auto& r : records.value()) {
    batch.next_offsets[r.partition] = r.offset + 1;
    v1::EventEnvelope event;
    if (!event.ParseFromString(r.value)) {
      // Events are facts: one this build cannot read is skipped, loudly, not retried forever.
      LogError("reporting", "partition ", r.partition, " offset ", r.offset,
               " is not a collections.v1.EventEnvelope; skipped");
      continue;
    }
    auto it = batch.briefs.find(event.account_id());
    if (it == batch.briefs.end()) {
      auto stored = store_.GetBrief(event.account_id());
      if (!stored) return stored.error();
      it = batch.briefs.emplace(event.account_id(), stored.value().value_or(v1::Account())).first;
    }
    if (auto fact = ApplyEvent(it->second, event)) batch.facts.push_back(std::move(*fact));
  }
  if (auto e = store_.Apply(batch)) return *e;
  applied_events_ += static_cast<int64_t>(records.value().size());
  {
    std::lock_guard lock(mutex_);
    for (const auto& [p, next] : batch.next_offsets) next_offsets_[p] = next;
  }
  applied_cv_.notify_all();
  return at_end;
}

bool ReportingProjector::WaitForPosition(int32_t partition, int64_t offset, absl::Time deadline) {
  std::unique_lock lock(mutex_);
  auto applied = [&] {
    auto it = next_offsets_.find(partition);
    return it != next_offsets_.end() && it->second > offset;
  };
  while (!applied()) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    applied_cv_.wait_for(lock, std::chrono::nanoseconds(absl::ToInt64Nanoseconds(left)));
  }
  return true;
}

std::map<int32_t, int64_t> ReportingProjector::applied_offsets() const {
  std::lock_guard lock(mutex_);
  return next_offsets_;
}

Status ReportingProjector::CatchUp(absl::Duration timeout, const std::function<void(int64_t, int64_t)>& progress) {
  if (thread_.joinable()) {
    return Error{Errc::kFailedPrecondition, "PROJECTOR_RUNNING",
                 "CatchUp is for a projector without its own thread; use WaitForPosition", {}, {}};
  }
  if (auto e = Open()) return e;
  std::map<int32_t, int64_t> targets;
  for (int32_t p = 0; p < partitions_; ++p) {
    auto high = reader_->HighWatermark(p, 10000);
    if (!high) return high.error();
    targets[p] = high.value();
  }
  std::set<int32_t> done;
  const absl::Time deadline = absl::Now() + timeout;
  absl::Time next_progress = absl::Now();
  while (static_cast<int32_t>(done.size()) < partitions_) {
    auto ended = Step(200);
    if (!ended) return ended.error();
    auto offsets = applied_offsets();
    for (int32_t p = 0; p < partitions_; ++p) {
      // Caught up when the log end was seen, or every record before the start's end applied
      // (transaction markers make "offset == high" unreliable on its own).
      if (offsets[p] >= targets[p] ||
          std::find(ended.value().begin(), ended.value().end(), p) != ended.value().end()) {
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
      return Error{Errc::kDeadlineExceeded, "CATCH_UP_TIMEOUT", "the reporting projection did not reach the log end in time",
                   {}, {}};
    }
  }
  return std::nullopt;
}

}  // namespace collections::reporting
