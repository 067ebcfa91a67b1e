#include "projections/projector/projector.h"

#include "services/common/log.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/customer_aggregate.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include <algorithm>
#include <set>
#include <thread>

namespace collections {
namespace {

// Records per poll at most: large enough that an account met again and again while catching up
// is read and written once per poll, small enough to keep a poll's memory to a few MiB.
constexpr int kMaxPoll = 5000;
// Polls of at least this many records are applied to the projections side by side.
constexpr size_t kParallelApplyFrom = 256;

}  // namespace

Projector::Projector(kafka::LogOptions log, ProjectionSink& sink, int32_t partitions,
                     std::string client_id, std::string name)
    : log_(std::move(log)),
      sink_(sink),
      partitions_(partitions),
      client_id_(std::move(client_id)),
      name_(std::move(name)) {}

Projector::~Projector() {
  Stop();
  // Followers outlive nothing of ours: they fall back to running on their own.
  std::lock_guard lanes(lanes_mutex_);
  for (Projector* follower : followers_) follower->leader_ = nullptr;
  followers_.clear();
}

Status Projector::Attach(Projector& follower) {
  if (thread_.joinable() || reader_ || leader_ != nullptr || follower.leader_ != nullptr ||
      follower.thread_.joinable() || &follower == this || follower.partitions_ != partitions_ ||
      follower.log_.topic != log_.topic) {
    return Error{Errc::kFailedPrecondition,
                 "PROJECTOR_NOT_ATTACHABLE",
                 "a projector is attached before either starts, once, to one that reads the same "
                 "topic and partitions",
                 {},
                 {}};
  }
  std::lock_guard lanes(lanes_mutex_);
  followers_.push_back(&follower);
  follower.leader_ = this;
  return std::nullopt;
}

std::vector<Projector*> Projector::LanesLocked() {
  std::vector<Projector*> lanes{this};
  lanes.insert(lanes.end(), followers_.begin(), followers_.end());
  return lanes;
}

Status Projector::OpenLane() {
  if (lane_open_) return std::nullopt;
  auto stored = sink_.LoadOffsets();
  if (!stored) return stored.error();
  std::map<int32_t, int64_t> start;
  for (int32_t p = 0; p < partitions_; ++p) {
    auto it = stored.value().find(p);
    start[p] = it == stored.value().end() ? 0 : it->second;
  }
  {
    std::lock_guard lock(mutex_);
    next_offsets_ = start;
    UpdateCoveredLocked({});
  }
  NotifyApplied(start);
  lane_open_ = true;
  return std::nullopt;
}

Status Projector::Open() {
  DiscardPrefetch();  // it reads with the reader about to be replaced
  std::map<int32_t, int64_t> start;
  {
    std::lock_guard lanes(lanes_mutex_);
    for (Projector* lane : LanesLocked()) {
      if (auto e = lane->OpenLane()) return e;
      const auto offsets = lane->applied_offsets();
      for (const auto& [p, next] : offsets) {
        auto [it, inserted] = start.emplace(p, next);
        if (!inserted) it->second = std::min(it->second, next);
      }
    }
  }
  if (reader_) return std::nullopt;
  auto reader = kafka::LogReader::Create(log_, client_id_);
  if (!reader) return reader.error();
  if (auto e = reader.value()->Assign(start)) return e;
  reader_ = std::move(reader.value());
  return std::nullopt;
}

Status Projector::Start() {
  waiters_.Start();
  // An attached projector is fed by its leader's thread.
  if (leader_ != nullptr) return OpenLane();
  if (auto e = Open()) return e;
  thread_ = std::thread([this] { Run(); });
  return std::nullopt;
}

void Projector::Stop() {
  stopping_ = true;
  CancelWaits();
  if (Projector* leader = leader_) {
    std::lock_guard lanes(leader->lanes_mutex_);
    auto& followers = leader->followers_;
    followers.erase(std::remove(followers.begin(), followers.end(), this), followers.end());
    leader_ = nullptr;
  }
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

void Projector::NoteProgress(const std::map<int32_t, int64_t>& targets,
                             const std::vector<int32_t>& ended, absl::Time started) {
  if (caught_up_) return;
  auto offsets = applied_offsets();
  for (const auto& [p, target] : targets) {
    if (offsets[p] >= target || std::find(ended.begin(), ended.end(), p) != ended.end())
      done_.insert(p);
  }
  if (static_cast<int32_t>(done_.size()) >= partitions_) {
    caught_up_ = true;
    LogInfo(name_, "caught up with the log (", applied_events(), " events applied in ",
            absl::FormatDuration(absl::Now() - started), ")");
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
  auto note = [&](const std::vector<int32_t>& ended) {
    std::lock_guard lanes(lanes_mutex_);
    for (Projector* lane : LanesLocked()) lane->NoteProgress(targets, ended, started);
  };
  note({});
  while (!stopping_) {
    if (!reader_) {
      if (auto e = Open()) {
        LogWarn(name_, e->message, "; retrying in 1 s");
        Pause(absl::Seconds(1));
        continue;
      }
    }
    auto step = Step(100);
    if (!step) {
      LogWarn(name_, step.error().message, "; retrying in 1 s");
      Pause(absl::Seconds(1));
      continue;
    }
    note(step.value());
  }
}

Result<std::unique_ptr<Projector::Fetched>> Projector::Fetch(int timeout_ms) {
  auto fetched = std::make_unique<Fetched>();
  auto records = reader_->Poll(kMaxPoll, timeout_ms, &fetched->at_end);
  if (!records) return records.error();
  fetched->records = std::move(records.value());
  fetched->ends = reader_->EndsReached();
  // Each record is parsed once, whatever the number of projections it feeds.
  fetched->events.reserve(fetched->records.size());
  for (const auto& r : fetched->records) {
    fetched->polled_next[r.partition] = r.offset + 1;
    auto* event = google::protobuf::Arena::CreateMessage<v1::EventEnvelope>(&fetched->arena);
    ProjectedEvent e{r.partition, r.offset, &r.value, event, &r.key, true};
    if (!event->ParseFromString(r.value)) {
      LogError(name_, "partition ", r.partition, " offset ", r.offset,
               " is not a collections.v1.EventEnvelope; skipped");
      event->Clear();
      e.parsed = false;  // kept for the lanes that show such records (the audit's copy)
    }
    fetched->events.push_back(std::move(e));
  }
  return fetched;
}

void Projector::DiscardPrefetch() {
  if (prefetch_.valid()) (void)prefetch_.get();  // what it read is read again by the next reader
}

Result<std::vector<int32_t>> Projector::Step(int timeout_ms) {
  auto got = prefetch_.valid() ? prefetch_.get() : Fetch(timeout_ms);
  if (!got) return got.error();
  const Fetched& fetched = *got.value();
  const std::map<int32_t, int64_t>& ends = fetched.ends;
  std::lock_guard lanes_lock(lanes_mutex_);
  const std::vector<Projector*> lanes = LanesLocked();
  if (fetched.records.empty()) {
    if (!fetched.at_end.empty()) {
      for (Projector* lane : lanes) lane->Covered(ends);
    }
    return fetched.at_end;
  }
  const std::vector<ProjectedEvent>& events = fetched.events;
  // A large poll means the projections are behind: read the next one meanwhile. The reader is
  // the read-ahead's alone until it is taken (the next Step, or DiscardPrefetch).
  if (events.size() >= kParallelApplyFrom && !stopping_) {
    prefetch_ = std::async(std::launch::async, [this, timeout_ms] { return Fetch(timeout_ms); });
  }
  // Each projection has its own store: large polls are applied side by side (the polled records
  // are only read), small ones on this thread, where a thread would cost more than it saves.
  std::vector<Status> outcomes(lanes.size());
  std::vector<std::thread> helpers;
  if (events.size() >= kParallelApplyFrom) {
    for (size_t i = 1; i < lanes.size(); ++i) {
      helpers.emplace_back(
          [&, i] { outcomes[i] = lanes[i]->ApplyPolled(events, fetched.polled_next, ends); });
    }
    outcomes[0] = ApplyPolled(events, fetched.polled_next, ends);
    for (auto& helper : helpers) helper.join();
  } else {
    for (size_t i = 0; i < lanes.size(); ++i) {
      outcomes[i] = lanes[i]->ApplyPolled(events, fetched.polled_next, ends);
    }
  }
  for (const Status& outcome : outcomes) {
    if (outcome) {
      // The reader has moved past records a lane did not apply: read them again from the lowest
      // offsets; lanes that applied them skip them then.
      DiscardPrefetch();
      reader_.reset();
      return *outcome;
    }
  }
  return fetched.at_end;
}

Status Projector::ApplyPolled(const std::vector<ProjectedEvent>& polled,
                              const std::map<int32_t, int64_t>& polled_next,
                              const std::map<int32_t, int64_t>& ends) {
  const std::map<int32_t, int64_t> from = applied_offsets();
  auto held = [&from](const ProjectedEvent& e) {
    auto it = from.find(e.partition);
    return it != from.end() && e.offset < it->second;
  };
  const bool keep_unparseable = sink_.wants_unparseable_records();
  // Usually every lane is at the same offsets and takes the whole poll as it is; only a lane
  // that is ahead (or refuses unparseable records) gets its own copy of the rest.
  const bool whole = std::none_of(polled.begin(), polled.end(), [&](const ProjectedEvent& e) {
    return held(e) || (!e.parsed && !keep_unparseable);
  });
  std::vector<ProjectedEvent> rest;
  if (!whole) {
    for (const auto& e : polled) {
      if (!held(e) && (e.parsed || keep_unparseable)) rest.push_back(e);
    }
  }
  const std::vector<ProjectedEvent>& events = whole ? polled : rest;
  std::map<int32_t, int64_t> next_offsets;
  for (const auto& [p, next] : polled_next) {
    auto it = from.find(p);
    if (it == from.end() || it->second < next) next_offsets[p] = next;
  }
  if (next_offsets.empty()) {  // nothing this projection does not hold already
    Covered(ends);
    return std::nullopt;
  }
  if (auto e = sink_.ApplyBatch(events, next_offsets)) return e;
  int64_t applied = 0;
  // Records of one partition come in order; across partitions take the latest.
  int64_t latest = last_applied_recorded_ms_.load();
  for (const auto& e : events) {
    if (!e.parsed) continue;
    ++applied;
    const auto& at = e.event->recorded_at();
    latest = std::max<int64_t>(latest, at.seconds() * 1000 + at.nanos() / 1000000);
  }
  applied_events_ += applied;
  last_applied_recorded_ms_ = latest;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [p, next] : next_offsets) next_offsets_[p] = next;
    UpdateCoveredLocked(ends);
  }
  applied_cv_.notify_all();
  NotifyApplied(next_offsets);
  return std::nullopt;
}

void Projector::Covered(const std::map<int32_t, int64_t>& ends) {
  {
    std::lock_guard lock(mutex_);
    UpdateCoveredLocked(ends);
  }
  applied_cv_.notify_all();
}

void Projector::UpdateCoveredLocked(const std::map<int32_t, int64_t>& ends) {
  for (const auto& [p, next] : next_offsets_) {
    int64_t& covered = covered_[p];
    covered = std::max(covered, next);
  }
  // Everything below the end the reader reached was returned by a poll and, polls being
  // applied to every lane before the next one, is applied now.
  for (const auto& [p, end] : ends) {
    int64_t& covered = covered_[p];
    covered = std::max(covered, end);
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
  if (thread_.joinable() || leader_ != nullptr) {
    return Error{Errc::kFailedPrecondition,
                 "PROJECTOR_RUNNING",
                 "CatchUp is for a projector without its own thread that consumes for itself; "
                 "use WaitForPosition",
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
  std::map<Projector*, std::set<int32_t>> done;  // per lane
  absl::Time deadline = absl::Now() + timeout;
  absl::Time next_progress = absl::Now();
  for (;;) {
    if (!reader_) {
      if (auto e = Open()) return e;
    }
    auto ended = Step(200);
    if (!ended) return ended.error();
    bool all_done = true;
    std::lock_guard lanes(lanes_mutex_);
    for (Projector* lane : LanesLocked()) {
      auto offsets = lane->applied_offsets();
      std::set<int32_t>& lane_done = done[lane];
      for (int32_t p = 0; p < partitions_; ++p) {
        // A partition is caught up when the log end was seen after all records before the end
        // as it was at the start (transaction markers make "offset == high" unreliable).
        if (offsets[p] >= targets[p] ||
            (std::find(ended.value().begin(), ended.value().end(), p) != ended.value().end())) {
          lane_done.insert(p);
        }
      }
      if (static_cast<int32_t>(lane_done.size()) < partitions_) all_done = false;
    }
    if (all_done) break;
    if (progress && absl::Now() >= next_progress) {
      auto offsets = applied_offsets();
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
  std::lock_guard lanes(lanes_mutex_);
  for (Projector* lane : LanesLocked()) lane->caught_up_ = true;
  return std::nullopt;
}

Status AccountProjection::ApplyBatch(const std::vector<ProjectedEvent>& events,
                                     const std::map<int32_t, int64_t>& next_offsets) {
  using ItemList = ProjectionStore::ItemList;
  ProjectionStore::Batch batch;
  batch.next_offsets = next_offsets;
  batch.log_records.reserve(events.size());
  // Per account touched by the batch: its index entries before it, and whether its payments
  // are loaded in full (a reversal changes a payment recorded earlier).
  struct Touched {
    std::vector<std::string> old_index;
    bool payments_loaded = false;
  };
  std::map<std::string, Touched> touched;
  constexpr int kPayments = 0;  // ItemList::kPayments's place in kItemLists
  static_assert(ProjectionStore::kItemLists[kPayments] == ItemList::kPayments);
  for (const auto& e : events) {
    // The audit's copy: every record under the account it names, before any judgement.
    const std::string& named =
        e.parsed && !e.event->account_id().empty() ? e.event->account_id() : *e.key;
    batch.log_records.push_back({named, e.partition, e.offset, *e.key, *e.raw});
    if (!e.parsed) continue;
    const std::string& id = e.event->account_id();
    // A customer's stream ("customer/<id>") is no account: it keeps its audit copy above (the
    // audit trail and its verification read customers as accounts) and nothing else here.
    if (id.starts_with(kCustomerStreamPrefix)) continue;
    auto it = batch.accounts.find(id);
    if (it == batch.accounts.end()) {
      // Read once per batch, and only the head: the lists that grow with the history stay in
      // the store, and the batch appends to them.
      auto stored = store_.GetAccountHead(id);
      if (!stored) return stored.error();
      Touched& t = touched[id];
      if (stored.value()) {
        t.old_index = IndexKeys(stored.value()->head);
        batch.items_from[id] = stored.value()->items;
        it = batch.accounts.emplace(id, std::move(stored.value()->head)).first;
      } else {
        it = batch.accounts.emplace(id, v1::Account()).first;
      }
    }
    v1::Account& account = it->second;
    auto outcome = integrity_.Admit(account, *e.event, e.partition, e.offset, RawBytes(e));
    if (outcome.quarantined_now) {
      LogError("projector", "ALERT integrity: account ", id, " quarantined at sequence ",
               e.event->sequence(), " (partition ", e.partition, " offset ", e.offset, "): ",
               account.quarantine().reason(), ": ", account.quarantine().detail(),
               "; nothing after its last genuine event is applied");
    }
    for (const v1::EventEnvelope* released : outcome.apply) {
      if (released->has_payment_reversed()) {
        Touched& t = touched[id];
        auto from = batch.items_from.find(id);
        if (!t.payments_loaded && from != batch.items_from.end()) {
          if (auto error = store_.LoadItems(id, ItemList::kPayments, from->second[kPayments],
                                            account)) {
            return *error;
          }
          from->second[kPayments] = 0;  // the whole list is written back
        }
        t.payments_loaded = true;
      }
      Evolve(account, *released);
      account.mutable_last_position()->set_partition(e.partition);
      account.mutable_last_position()->set_offset(e.offset);
    }
  }
  for (const auto& [id, account] : batch.accounts) {
    std::vector<std::string> now_keys = IndexKeys(account);
    const std::vector<std::string>& before = touched[id].old_index;
    for (const auto& k : before) {
      if (std::find(now_keys.begin(), now_keys.end(), k) == now_keys.end())
        batch.index_deletes.push_back(k);
    }
    for (const auto& k : now_keys) {
      if (std::find(before.begin(), before.end(), k) == before.end()) batch.index_puts.push_back(k);
    }
  }
  return store_.Apply(std::move(batch));
}

}  // namespace collections
