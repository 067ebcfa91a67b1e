#include "services/writer/writer.h"

#include "services/common/log.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/compliance_gate.h"
#include "services/domain/hashing.h"
#include "services/domain/internal.h"
#include "services/domain/pipeline.h"

#include "absl/strings/str_cat.h"
#include "collections/v1/events.pb.h"

#include <chrono>
#include <filesystem>

namespace collections {
namespace {

using internal::ToProto;

std::string CommandKey(const std::string& account_id, const std::string& command_id) {
  std::string key = account_id;
  key.push_back('\0');
  return key + command_id;
}

template <typename CommandVariant>
std::string FingerprintOf(const CommandVariant& command) {
  return std::visit([](const auto& r) { return Fingerprint(r); }, command);
}

bool IsCustomerStream(const std::string& stream_id) {
  return stream_id.starts_with(kCustomerStreamPrefix);
}

}  // namespace

kafka::Record EventRecord(const v1::EventEnvelope& e, const std::string& source) {
  kafka::Record r;
  r.key = e.account_id();
  r.value = CanonicalBytes(e);
  absl::Time recorded =
      absl::FromUnixSeconds(e.recorded_at().seconds()) + absl::Nanoseconds(e.recorded_at().nanos());
  r.timestamp_ms = absl::ToUnixMillis(recorded);
  // CloudEvents Kafka protocol binding, binary content mode.
  r.headers = {
      {"ce_specversion", "1.0"},
      {"ce_id", e.event_id()},
      {"ce_source", source},
      {"ce_type", EventType(e)},
      {"ce_time", absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", recorded, absl::UTCTimeZone())},
      {"ce_subject", e.account_id()},
      {"content-type", "application/protobuf"},
  };
  return r;
}

namespace {

// Bytes EventRecord(e, source) takes on the wire, near enough: value, key, headers and a
// margin for the record's own framing; computed from the sizes alone.
int64_t RecordBytesOf(const v1::EventEnvelope& e, const std::string& source) {
  constexpr size_t kTimeText = sizeof("2006-01-02T15:04:05.000000Z") - 1;
  const size_t headers[][2] = {
      {sizeof("ce_specversion") - 1, 3},
      {sizeof("ce_id") - 1, e.event_id().size()},
      {sizeof("ce_source") - 1, source.size()},
      {sizeof("ce_type") - 1, EventType(e).size()},
      {sizeof("ce_time") - 1, kTimeText},
      {sizeof("ce_subject") - 1, e.account_id().size()},
      {sizeof("content-type") - 1, sizeof("application/protobuf") - 1},
  };
  int64_t bytes = static_cast<int64_t>(e.ByteSizeLong() + e.account_id().size()) + 64;
  for (const auto& [k, v] : headers) bytes += static_cast<int64_t>(k + v) + 8;
  return bytes;
}

}  // namespace

PipelineSettings PipelineSettingsFor(const WriterOptions& options) {
  PipelineSettings settings;
  settings.domain = &options.domain;
  settings.policy = &options.policy;
  if (options.signing_key != nullptr) {
    settings.sign = [key = options.signing_key](const std::vector<std::string>& hashes,
                                                v1::EventEnvelope* last) {
      authz::SignLast(*key, hashes, last);
    };
  }
  // The writer's own safety net (the API checks fields first): a record the broker would
  // refuse must never join a transaction, or it would fail every command batched with it.
  // Sized without serialising: the event is serialised once, when it is staged.
  settings.record_bytes = [source = options.source](const v1::EventEnvelope& e) {
    return RecordBytesOf(e, source);
  };
  settings.max_event_bytes = options.max_event_bytes;
  settings.deployment_id = options.deployment_id;
  return settings;
}

const char* WriterStateName(WriterState state) {
  switch (state) {
    case WriterState::kStarting:
      return "STARTING";
    case WriterState::kRestoring:
      return "RESTORING";
    case WriterState::kServing:
      return "SERVING";
    case WriterState::kRecovering:
      return "RECOVERING";
    case WriterState::kFenced:
      return "FENCED";
    case WriterState::kStopped:
      return "STOPPED";
    case WriterState::kForeignWriter:
      return "FOREIGN_WRITER";
    case WriterState::kElsewhere:
      return "ELSEWHERE";
  }
  return "UNKNOWN";
}

std::string WriterTransactionalId(const WriterOptions& options) {
  return WriterTransactionalId(options.deployment_id, options.instance_id);
}

std::string WriterTransactionalId(const std::string& deployment_id,
                                  const std::string& instance_id) {
  return deployment_id + "-writers" + (instance_id.empty() ? "" : "-" + instance_id);
}

std::optional<std::string> PartitionWriter::LedgerGuard::Check(
    const std::vector<int64_t>& offsets) {
  std::optional<std::string> why = ledger_.Check(offsets);
  if (!why) return why;
  int64_t last = -1;
  for (int64_t offset : offsets) last = std::max(last, offset);
  auto data = kafka::CountDataRecords(log_, partition_, ledger_.base(), last, 5000);
  if (!data) {
    LogWarn(absl::StrCat("writer[", partition_, "]"), "could not look at the offsets the commit ",
            "check cannot account for: ", data.error().message);
    return why;
  }
  if (ledger_.AcceptMarkersIfNoForeignData(offsets, data.value())) {
    LogWarn(absl::StrCat("writer[", partition_, "]"), "the commit check found ", *why,
            "; the partition holds no data record but this writer's there (",
            data.value(), " records from offset ", ledger_.base(),
            "): the others are transaction markers written twice (a transaction coordinator "
            "that took over after a broker failure), accepted");
    return std::nullopt;
  }
  return why;
}

PartitionWriter::PartitionWriter(kafka::LogOptions log, WriterOptions options, int32_t partition,
                                 const Clock& clock, std::shared_ptr<kafka::TransactionGroup> group)
    : log_(std::move(log)),
      options_(std::move(options)),
      horizon_(StateHorizonFor(options_.policy, options_.domain)),
      partition_(partition),
      clock_(clock),
      integrity_(options_.trusted_keys),
      group_(group ? std::move(group)
                   : kafka::TransactionGroup::Create(log_, WriterTransactionalId(options_),
                                                     options_.producer_timeouts)) {}

PartitionWriter::~PartitionWriter() { Stop(); }

Status PartitionWriter::Connect() {
  if (producer_ && !producer_->failed()) {
    // A timed-out init_transactions is resumable: the same producer carries on.
  } else {
    producer_.reset();  // bounded: see TransactionalProducer
    // The group's producer, or a new one when it failed (whose Init fences the old one).
    auto producer = group_->Producer();
    if (!producer) return producer.error();
    producer_ = std::move(producer.value());
  }
  // Fences any earlier owner and settles what it left open, so the log end read next is final.
  return producer_->Init(options_.init_timeout_ms);
}

Status PartitionWriter::Start() {
  const std::string txn_id = WriterTransactionalId(options_);
  SetState(WriterState::kRestoring);
  if (auto e = Connect()) {
    // The first start waits up to a minute for the broker (the transaction coordinator can
    // take a few seconds to load); init_transactions resumes where the last call stopped.
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    while (e && producer_ && !producer_->failed() && !stop_requested_ && absl::Now() < give_up) {
      e = Connect();
    }
    if (e) {
      SetState(WriterState::kStopped);
      return e;
    }
  }
  absl::Time started = absl::Now();
  if (auto e = Restore()) {
    if (e->reason == "FOREIGN_WRITER") {
      LogError(absl::StrCat("writer[", partition_, "]"), "ALERT FOREIGN_WRITER: ", e->message);
      std::lock_guard lock(mutex_);
      failed_ = e->message;
    }
    SetState(e->reason == "FOREIGN_WRITER" ? WriterState::kForeignWriter : WriterState::kStopped);
    return e;
  }
  LogInfo(absl::StrCat("writer[", partition_, "]"), "restored ", restored_accounts_.load(),
          " accounts from ", restored_events_.load(), " events in ",
          absl::FormatDuration(absl::Now() - started), "; serving as ", txn_id);
  SetState(WriterState::kServing);
  thread_ = std::thread([this] { Run(); });
  return std::nullopt;
}

void PartitionWriter::SetState(WriterState state) {
  WriterState before = state_.exchange(state);
  if (options_.on_state && before != state) options_.on_state(partition_, state);
  if (before != state && (before != WriterState::kStarting || state != WriterState::kRestoring)) {
    Log(state == WriterState::kServing ? LogLevel::kInfo : LogLevel::kWarn,
        absl::StrCat("writer[", partition_, "]"),
        absl::StrCat("state ", WriterStateName(before), " -> ", WriterStateName(state)));
  }
}

Error PartitionWriter::UnavailableError(WriterState state) const {
  // Called with mutex_ held.
  const std::string retry = "; retry with the same command_id";
  switch (state) {
    case WriterState::kRestoring:
      return Error{Errc::kUnavailable,
                   "WRITER_RESTORING",
                   absl::StrCat("the writer of partition ", partition_,
                                " is restoring its state from the event log", retry),
                   {},
                   {}};
    case WriterState::kRecovering:
      return Error{Errc::kUnavailable,
                   "LOG_UNAVAILABLE",
                   absl::StrCat("the event log is unavailable to the writer of partition ",
                                partition_, " (", failed_,
                                "); it reconnects on its own, nothing was recorded", retry),
                   {},
                   {}};
    case WriterState::kForeignWriter:
      return Error{Errc::kFailedPrecondition,
                   "FOREIGN_WRITER",
                   absl::StrCat("partition ", partition_, " has exactly one writer, and it holds "
                                "records deployment \"", options_.deployment_id,
                                "\" did not write (", failed_,
                                "): its writer stopped so that it never appends after them; "
                                "nothing was recorded. An operator must stop the other writer "
                                "(see README \"One writer per partition\")"),
                   {},
                   absl::StrCat(log_.topic, "/", partition_),
                   {{"deployment_id", options_.deployment_id},
                    {"partition", std::to_string(partition_)}}};
    case WriterState::kFenced:
      return Error{Errc::kUnavailable,
                   "WRITER_FENCED",
                   absl::StrCat("another process took over partition ", partition_,
                                " (same transactional id): this one no longer writes it", retry,
                                " against the current owner"),
                   {},
                   {}};
    default:
      return Error{Errc::kUnavailable,
                   "WRITER_UNAVAILABLE",
                   absl::StrCat("the writer of partition ", partition_, " is not serving (",
                                WriterStateName(state), ")", retry),
                   {},
                   {}};
  }
}

void PartitionWriter::Answer(Pending& p, Result<v1::CommandReply> result) {
  if (p.answered) return;
  p.answered = true;
  // Only the writer's own thread reads its state (a refusal at the door comes from others).
  if (p.peek && p.customer && std::this_thread::get_id() == thread_.get_id()) {
    if (const CustomerState* c = CommittedCustomer(CustomerStreamKey(CustomerIdOf(*p.customer))))
      p.peek(*c);
  }
  if (p.done) p.done(std::move(result));
}

void PartitionWriter::AnswerTick(Pending& p, Result<int64_t> result) {
  if (p.answered) return;
  p.answered = true;
  p.tick_done.set_value(std::move(result));
}

void PartitionWriter::StopIntake(bool moved) {
  std::deque<Pending> queued;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    stop_requested_ = true;
    queued.swap(queue_);
  }
  group_->Stopping();  // a commit in flight gives up after at most 1 s more
  wake_.notify_all();
  const Error stopping =
      moved ? Error{Errc::kUnavailable,
                    "PARTITION_MOVED",
                    absl::StrCat("partition ", partition_,
                                 " moved to another process while the command waited in its "
                                 "writer's queue; nothing was recorded, retry with the same "
                                 "command_id"),
                    {},
                    {}}
            : Error{Errc::kUnavailable,
                    "SHUTTING_DOWN",
                    "the service is shutting down; nothing was recorded, retry with the same "
                    "command_id",
                    {},
                    {}};
  for (auto& p : queued) {
    if (p.tick)
      AnswerTick(p, stopping);
    else
      Answer(p, stopping);
  }
}

void PartitionWriter::Stop() {
  StopIntake();
  if (thread_.joinable()) thread_.join();
  producer_.reset();  // bounded: purges, and does not wait for an unreachable broker
  // Fenced and foreign-writer stay as they are: what the partition is waiting for.
  if (state_.load() != WriterState::kFenced && state_.load() != WriterState::kForeignWriter) {
    SetState(WriterState::kStopped);
  }
}

void PartitionWriter::Fail(const std::string& why) {
  const bool fenced = producer_ && producer_->fenced();
  std::deque<Pending> queued;
  Error error{Errc::kUnavailable, "", "", {}, {}};
  {
    std::lock_guard lock(mutex_);
    failed_ = why;
    state_ = fenced ? WriterState::kFenced : WriterState::kRecovering;
    error = UnavailableError(state_.load());
    queued.swap(queue_);
  }
  if (options_.on_state) options_.on_state(partition_, state_.load());
  if (fenced) {
    LogError(absl::StrCat("writer[", partition_, "]"),
             "FENCED: another process of deployment ", options_.deployment_id,
             " (transactional ids ", WriterTransactionalId(options_),
             " and -b) took this partition over; this process no longer writes it (", why, ")");
  } else {
    LogWarn(absl::StrCat("writer[", partition_, "]"), "the producer failed (", why,
            "); recovering: new producer, restore from the log");
  }
  Log(LogLevel::kWarn, absl::StrCat("writer[", partition_, "]"),
      absl::StrCat("state SERVING -> ", fenced ? "FENCED" : "RECOVERING"));
  for (auto& p : queued) {
    if (p.tick)
      AnswerTick(p, error);
    else
      Answer(p, error);
  }
}

void PartitionWriter::StopForeign(const std::string& why) {
  std::deque<Pending> queued;
  Error error{Errc::kFailedPrecondition, "", "", {}, {}};
  WriterState before;
  {
    std::lock_guard lock(mutex_);
    failed_ = why;
    before = state_.exchange(WriterState::kForeignWriter);
    error = UnavailableError(WriterState::kForeignWriter);
    queued.swap(queue_);
  }
  if (options_.on_state && before != WriterState::kForeignWriter) {
    options_.on_state(partition_, WriterState::kForeignWriter);
  }
  LogError(absl::StrCat("writer[", partition_, "]"), "ALERT FOREIGN_WRITER: partition ",
           partition_, " of ", log_.topic, " holds records deployment ", options_.deployment_id,
           " did not write (", why, "). This writer stops for good and appends nothing more to "
           "it; stop the other writer (another deployment or producer on this topic), then "
           "restart this process");
  Log(LogLevel::kWarn, absl::StrCat("writer[", partition_, "]"),
      absl::StrCat("state ", WriterStateName(before), " -> FOREIGN_WRITER"));
  for (auto& p : queued) {
    if (p.tick)
      AnswerTick(p, error);
    else
      Answer(p, error);
  }
}

bool PartitionWriter::Recover() {
  const std::string component = absl::StrCat("writer[", partition_, "]");
  const absl::Time began = absl::Now();
  int backoff_ms = options_.recovery_backoff_min_ms;
  absl::Time next_report = absl::Now();
  for (int attempt = 1;; ++attempt) {
    if (stop_requested_) return false;
    SetState(WriterState::kRecovering);
    Status failure = Connect();
    if (!failure) {
      SetState(WriterState::kRestoring);
      failure = Restore();
      if (!failure) {
        ++recoveries_;
        {
          std::lock_guard lock(mutex_);
          failed_.clear();
        }
        LogInfo(component, "recovered after ", absl::FormatDuration(absl::Now() - began), " (",
                attempt, " attempts): restored ", restored_accounts_.load(), " accounts from ",
                restored_events_.load(), " events");
        SetState(WriterState::kServing);
        return true;
      }
    }
    if (producer_ && producer_->fenced()) {
      Fail(failure ? failure->message : "fenced");
      return false;
    }
    if (failure && failure->reason == "FOREIGN_WRITER") {
      StopForeign(failure->message);
      return false;
    }
    {
      std::lock_guard lock(mutex_);
      failed_ = failure ? failure->message : "unknown";
    }
    if (absl::Now() >= next_report) {
      LogWarn(component, "still recovering (attempt ", attempt, ", ",
              absl::FormatDuration(absl::Now() - began),
              "): ", failure ? failure->message : "unknown");
      next_report = absl::Now() + absl::Seconds(30);
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [this] { return stopping_; });
    backoff_ms = std::min(backoff_ms * 2, options_.recovery_backoff_max_ms);
  }
}

Result<int64_t> PartitionWriter::OpenStore(int64_t log_end) {
  const std::string component = absl::StrCat("writer[", partition_, "]");
  const std::string path =
      options_.store_path.empty()
          ? std::string()
          : (std::filesystem::path(options_.store_path) / absl::StrCat("partition-", partition_))
                .string();
  owner_ = absl::StrCat(log_.topic, "/", partition_);
  // The cache only ever holds what the store holds (flushes follow commits), but after a
  // failure nothing in memory is trusted: the store and the log say what committed.
  cache_.clear();
  lru_.clear();
  dirty_accounts_.clear();
  dirty_commands_.clear();
  customers_.clear();
  dirty_customers_.clear();
  if (store_failure_) store_.reset();
  store_failure_.reset();
  if (path.empty()) {
    // In memory: nothing survives, every start is a restore from offset 0.
    if (!store_) {
      auto opened = WriterStore::Open("");
      if (!opened) return opened.error();
      store_ = std::move(opened.value());
    }
  } else if (!store_) {
    auto opened = WriterStore::Open(path);
    if (!opened && opened.error().reason == "WRITER_STORE_LOCKED") return opened.error();
    if (!opened) {
      LogWarn(component, "the writer store at ", path, " cannot be opened (",
              opened.error().message, "): deleting it and restoring from the log, offset 0");
      if (auto e = WriterStore::Destroy(path)) return *e;
      opened = WriterStore::Open(path);
      if (!opened) return opened.error();
    }
    store_ = std::move(opened.value());
  }
  auto checkpoint = store_->LoadCheckpoint(WriterStore::Layout(horizon_));
  std::string why;
  if (!checkpoint) {
    why = checkpoint.error().message;
  } else if (!checkpoint.value()) {
    if (!path.empty()) {
      LogInfo(component, "no writer store yet at ", path, ": restoring from offset 0");
    }
    return int64_t{0};
  } else if (checkpoint.value()->owner != owner_) {
    why = absl::StrCat("it belongs to ", checkpoint.value()->owner, ", not ", owner_);
  } else if (checkpoint.value()->next_offset > log_end) {
    why = absl::StrCat("it reflects the log up to offset ", checkpoint.value()->next_offset,
                       " but the log ends at ", log_end, " (was the topic recreated?)");
  } else {
    return checkpoint.value()->next_offset;
  }
  LogWarn(component, "the writer store", path.empty() ? "" : " at " + path, " is not usable (",
          why, "): deleting it and restoring from the log, offset 0");
  store_.reset();
  if (auto e = WriterStore::Destroy(path)) return *e;
  auto reopened = WriterStore::Open(path);
  if (!reopened) return reopened.error();
  store_ = std::move(reopened.value());
  return int64_t{0};
}

Status PartitionWriter::Restore() {
  restored_events_ = 0;
  restored_accounts_ = 0;
  simulated_crash_ = false;
  // Every partition restores at once: librdkafka's default prefetch (64 MiB per consumer) times
  // dozens of partitions would dwarf the state itself. 4 MiB still keeps a reader busy.
  kafka::LogOptions restore_log = log_;
  restore_log.extra.emplace("queued.max.messages.kbytes", "4096");
  auto reader = kafka::LogReader::Create(
      restore_log, absl::StrCat(options_.deployment_id, "-restore-", partition_));
  if (!reader) return reader.error();
  auto high = reader.value()->HighWatermark(partition_, 10000);
  if (!high) return high.error();
  auto from = OpenStore(high.value());
  if (!from) return from.error();
  restored_from_offset_ = from.value();
  if (auto e = reader.value()->Assign({{partition_, from.value()}})) return e;
  // No limit on the whole restore: a large partition read from offset 0 takes as long as it
  // takes (it checkpoints as it goes); only a silent log (below) is a failure.
  absl::Time next_progress = absl::Now() + absl::Seconds(5);
  absl::Time last_progress = absl::Now();
  int64_t events = 0;
  int64_t next_offset = from.value();
  std::set<std::string> touched;  // for the log line; capped, it is only a count
  // The partition's latest events, when another deployment wrote them (after any of ours):
  // who and where the run of them begins. Nothing after its start is checkpointed, so a
  // restart that is refused the partition is refused it again.
  std::optional<std::pair<std::string, int64_t>> foreign;
  std::set<std::string> adopted_seen;
  bool settling = false;  // at the end, but below records of a transaction still unsettled
  for (;;) {
    if (stop_requested_) {
      return Error{Errc::kUnavailable, "SHUTTING_DOWN", "stopped while restoring", {}, {}};
    }
    std::vector<int32_t> at_end;
    auto records = reader.value()->Poll(1000, 200, &at_end);
    if (!records) return records.error();
    if (!records.value().empty()) last_progress = absl::Now();
    for (const auto& r : records.value()) {
      v1::EventEnvelope event;
      if (!event.ParseFromString(r.value)) {
        return Error{Errc::kInternal,
                     "UNREADABLE_EVENT",
                     absl::StrCat("partition ", partition_, " offset ", r.offset,
                                  " is not a collections.v1.EventEnvelope"),
                     {},
                     {}};
      }
      if (const std::string& writer = event.deployment_id(); !writer.empty()) {
        if (writer == options_.deployment_id) {
          foreign.reset();
        } else if (std::find(options_.adopt_from.begin(), options_.adopt_from.end(), writer) !=
                   options_.adopt_from.end()) {
          foreign.reset();
          adopted_seen.insert(writer);
        } else if (!foreign || foreign->first != writer) {
          foreign = std::make_pair(writer, r.offset);
        }
      }
      ApplyRestored(event, r.offset, r.value);
      if (touched.size() < 100000) touched.insert(event.account_id());
      next_offset = r.offset + 1;
      ++events;
    }
    if (store_failure_) return *store_failure_;
    // Checkpoint as the restore goes, so a long one is not lost to a crash, and so the dirty
    // accounts (pinned in memory until written) stay few.
    if (!foreign &&
        dirty_accounts_.size() + dirty_commands_.size() + dirty_customers_.size() >= 4000) {
      if (auto e = Flush(next_offset)) return e;
    }
    restored_events_ = events;
    // Applying a poll's records is progress too: on a busy machine a thousand records of a long
    // account can take longer than the silence allowed below.
    if (!records.value().empty()) last_progress = absl::Now();
    // Done when the end is past every record written before it: a commit returns before its
    // markers are written, and a transaction another process left open holds the end back until
    // the broker aborts it. Serving before those settle would decide on a state without them.
    if (reader.value()->ReachedWrittenEnd(partition_)) break;
    if (!at_end.empty() && !settling) {
      settling = true;
      LogInfo(absl::StrCat("writer[", partition_, "]"), "reached offset ",
              reader.value()->EndsReached()[partition_],
              ", below records of a transaction not yet settled: waiting for it to commit or "
              "abort");
    }
    if (absl::Now() > next_progress) {
      LogInfo(absl::StrCat("writer[", partition_, "]"), "restoring: ", events,
              " events read after offset ", from.value(), ", log end ", high.value());
      next_progress = absl::Now() + absl::Seconds(5);
    }
    // A transaction left open by a crashed producer is aborted by the broker after
    // transaction.timeout.ms (its check runs every 10 s): wait that long for it.
    const absl::Duration silence_allowed =
        settling ? std::max(absl::Seconds(20),
                            absl::Milliseconds(options_.producer_timeouts.transaction_ms) +
                                absl::Seconds(15))
                 : absl::Seconds(20);
    if (absl::Now() - last_progress > silence_allowed) {
      return Error{Errc::kUnavailable,
                   "LOG_UNAVAILABLE",
                   settling ? absl::StrCat("restoring partition ", partition_,
                                           ": a transaction of another producer stayed open "
                                           "there for ",
                                           absl::FormatDuration(silence_allowed),
                                           "; the broker aborts it after its "
                                           "transaction.timeout.ms, then retry")
                            : absl::StrCat("restoring partition ", partition_,
                                           ": no record and no log end for 20 s"),
                   {},
                   {}};
    }
  }
  if (foreign) {
    // Nothing of the run is kept: memory and store start over at the next restore.
    cache_.clear();
    lru_.clear();
    dirty_accounts_.clear();
    dirty_commands_.clear();
    customers_.clear();
    dirty_customers_.clear();
    return Error{Errc::kFailedPrecondition,
                 "FOREIGN_WRITER",
                 absl::StrCat("partition ", partition_, " of topic ", log_.topic,
                              " was last written by deployment \"", foreign->first,
                              "\" (from offset ", foreign->second, "), not by this deployment \"",
                              options_.deployment_id,
                              "\": two deployments must never write one topic, so this one "
                              "refuses to serve it. Point each deployment at its own topic; or, "
                              "to take the topic over from a deployment that is stopped for good, "
                              "start with --adopt-topic-from=",
                              foreign->first),
                 "deployment-id",
                 absl::StrCat(log_.topic, "/", partition_),
                 {{"deployment_id", options_.deployment_id},
                  {"written_by", foreign->first},
                  {"partition", std::to_string(partition_)}}};
  }
  for (const std::string& from : adopted_seen) {
    LogWarn(absl::StrCat("writer[", partition_, "]"), "adopting partition ", partition_,
            " from deployment ", from, " (--adopt-topic-from): its events are kept, and from now "
            "on only deployment ", options_.deployment_id, " writes it");
  }
  if (events > 0) {
    if (auto e = Flush(next_offset)) return e;
  }
  // Every offset from here on is this writer's, or the commit check stops it.
  const auto ends = reader.value()->EndsReached();
  const auto end = ends.find(partition_);
  ledger_.Reset(end != ends.end() ? std::max(end->second, next_offset) : next_offset);
  restored_accounts_ = static_cast<int64_t>(touched.size());
  return std::nullopt;
}

AccountState* PartitionWriter::Committed(const std::string& account_id) {
  if (auto it = cache_.find(account_id); it != cache_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return &it->second.account;
  }
  auto stored = store_->GetAccount(account_id);
  if (!stored) {
    store_failure_ = stored.error();
    return nullptr;
  }
  if (!stored.value()) return nullptr;
  lru_.push_front(account_id);
  auto& entry = cache_[account_id];
  entry.account = std::move(*stored.value());
  entry.lru = lru_.begin();
  return &entry.account;
}

AccountState& PartitionWriter::Mutable(const std::string& account_id) {
  AccountState* account = Committed(account_id);
  if (account == nullptr) {
    lru_.push_front(account_id);
    auto& entry = cache_[account_id];
    entry.lru = lru_.begin();
    account = &entry.account;
  }
  if (dirty_accounts_.count(account_id) == 0) {
    dirty_accounts_[account_id] = account->account_id().empty()
                                      ? std::nullopt
                                      : NextDueTime(*account, options_.domain);
  }
  return *account;
}

CustomerState* PartitionWriter::CommittedCustomer(const std::string& stream_id) {
  auto it = customers_.find(stream_id);
  if (it == customers_.end()) {
    Result<std::optional<CustomerState>> stored = store_->GetCustomer(stream_id);
    if (!stored) {
      store_failure_ = stored.error();
      return nullptr;
    }
    if (!stored.value().has_value()) return nullptr;
    it = customers_.emplace(stream_id, std::move(*stored.value())).first;
  }
  return &it->second;
}

CustomerState& PartitionWriter::MutableCustomer(const std::string& stream_id) {
  CustomerState* customer = CommittedCustomer(stream_id);
  if (customer == nullptr) customer = &customers_[stream_id];
  dirty_customers_.insert(stream_id);
  return *customer;
}

std::optional<CommandRecord> PartitionWriter::CommittedCommand(const std::string& account_id,
                                                               const std::string& command_id) {
  if (auto it = dirty_commands_.find(CommandKey(account_id, command_id));
      it != dirty_commands_.end())
    return it->second;
  auto stored = store_->GetCommand(account_id, command_id);
  if (!stored) {
    store_failure_ = stored.error();
    return std::nullopt;
  }
  return std::move(stored.value());
}

Status PartitionWriter::Flush(int64_t next_offset) {
  if (simulated_crash_) return std::nullopt;
  WriterStore::Batch batch;
  for (const auto& [id, due_before] : dirty_accounts_) {
    const AccountState& account = cache_.at(id).account;
    batch.PutAccount(account);
    batch.SetDue(id, due_before, NextDueTime(account, options_.domain));
  }
  for (const auto& id : dirty_customers_) batch.PutCustomer(id, customers_.at(id));
  for (const auto& [key, record] : dirty_commands_) {
    const size_t split = key.find('\0');
    batch.PutCommand(key.substr(0, split), key.substr(split + 1), record);
  }
  batch.SetCheckpoint(next_offset, owner_, WriterStore::Layout(horizon_));
  if (auto e = store_->Apply(batch)) {
    store_failure_ = *e;
    return e;
  }
  dirty_accounts_.clear();
  dirty_commands_.clear();
  dirty_customers_.clear();
  Trim();
  return std::nullopt;
}

void PartitionWriter::Trim() {
  const size_t limit = static_cast<size_t>(std::max<int64_t>(options_.account_cache_size, 1));
  while (cache_.size() > limit && !lru_.empty()) {
    const std::string& id = lru_.back();
    if (dirty_accounts_.count(id) > 0) break;  // written by the next flush first
    cache_.erase(id);
    lru_.pop_back();
  }
  // Customers are few next to accounts: when over the limit, any clean ones go.
  for (auto it = customers_.begin(); customers_.size() > limit && it != customers_.end();) {
    if (dirty_customers_.count(it->first) > 0) {
      ++it;
    } else {
      it = customers_.erase(it);
    }
  }
}

void PartitionWriter::ApplyRestored(const v1::EventEnvelope& event, int64_t offset,
                                    std::string_view record) {
  // An account's stream or a customer's: the same integrity gate either way.
  auto admit = [&](auto& stream) {
    auto outcome = integrity_.Admit(stream, event, partition_, offset, record);
    if (outcome.quarantined_now) {
      LogError(absl::StrCat("writer[", partition_, "]"), "ALERT integrity: account ",
               event.account_id(), " quarantined at sequence ", event.sequence(), " (offset ",
               offset, "): ", stream.quarantine().reason(), ": ", stream.quarantine().detail(),
               "; it refuses commands until an operator investigates");
    }
    return outcome;  // its `apply` points into it
  };
  const auto outcome = IsCustomerStream(event.account_id())
                           ? admit(MutableCustomer(event.account_id()))
                           : admit(Mutable(event.account_id()));
  for (const v1::EventEnvelope* e : outcome.apply) ApplyCommitted(*e, offset, /*evolve=*/true);
}

void PartitionWriter::ApplyCommitted(const v1::EventEnvelope& event, int64_t offset,
                                     bool evolve) {
  if (IsCustomerStream(event.account_id())) {
    CustomerState& customer = MutableCustomer(event.account_id());
    if (evolve) EvolveCustomer(customer, event);
  } else {
    AccountState& account = Mutable(event.account_id());
    if (evolve) Evolve(account, event, horizon_);
    account.mutable_last_position()->set_partition(partition_);
    account.mutable_last_position()->set_offset(offset);
  }
  const std::string key = CommandKey(event.account_id(), event.command_id());
  CommandRecord& record = dirty_commands_[key];
  if (event.command_event_index() == 0) {
    // A command's first event: a retry of a blocked command id that is now allowed replaces
    // the recorded refusal.
    record = CommandRecord();
  } else if (record.fingerprint.empty()) {
    // Later events of a command flushed between its events (a restore checkpoint).
    if (auto stored = store_->GetCommand(event.account_id(), event.command_id());
        stored && stored.value()) {
      record = std::move(*stored.value());
    }
  }
  record.fingerprint = event.command_fingerprint();
  record.reply.set_account_id(event.account_id());
  record.reply.set_version(event.sequence());
  record.reply.mutable_position()->set_partition(partition_);
  record.reply.mutable_position()->set_offset(offset);
  record.reply.add_event_ids(event.event_id());
  if (event.has_decision()) *record.reply.mutable_decision() = event.decision();
  if (event.has_contact_blocked()) {
    record.refusal = BlockedError(event.account_id(), event.decision());
    record.blocked = true;
  }
  if (event.has_access_denied()) {
    record.refusal = Error{Errc::kPermissionDenied,
                           event.access_denied().reason(),
                           "refused and recorded as event " + event.event_id() + ": " +
                               event.access_denied().reason() + " (" +
                               event.access_denied().privilege() + ")",
                           "",
                           event.account_id(),
                           {{"principal", event.access_denied().principal()},
                            {"role", event.access_denied().role()},
                            {"privilege", event.access_denied().privilege()}}};
  }
}

std::future<Result<v1::CommandReply>> PartitionWriter::Submit(Command command, bool dry_run) {
  auto promise = std::make_shared<std::promise<Result<v1::CommandReply>>>();
  auto future = promise->get_future();
  Submit(std::move(command), dry_run,
         [promise](Result<v1::CommandReply> result) { promise->set_value(std::move(result)); });
  return future;
}

void PartitionWriter::Submit(Command command, bool dry_run, Completion done) {
  Pending p;
  p.command = std::move(command);
  p.dry_run = dry_run;
  p.done = std::move(done);
  Enqueue(std::move(p));
}

void PartitionWriter::Submit(CustomerCommand command, Completion done, CustomerPeek peek) {
  Pending p;
  p.customer = std::move(command);
  p.done = std::move(done);
  p.peek = std::move(peek);
  Enqueue(std::move(p));
}

void PartitionWriter::Enqueue(Pending p) {
  std::optional<Error> refusal;
  {
    std::lock_guard lock(mutex_);
    // Fail fast: a writer that cannot append answers at once, not at the caller's deadline.
    if (stopping_) {
      refusal = Error{Errc::kUnavailable,
                      "SHUTTING_DOWN",
                      "the service is shutting down; retry with the same command_id",
                      {},
                      {}};
    } else if (state_.load() != WriterState::kServing) {
      refusal = UnavailableError(state_.load());
    } else if (static_cast<int>(queue_.size()) >= options_.max_queue) {
      refusal = Error{Errc::kUnavailable,
                      "WRITER_QUEUE_FULL",
                      absl::StrCat("the writer of partition ", partition_, " has ",
                                   options_.max_queue,
                                   " commands waiting; retry with the same command_id shortly"),
                      {},
                      {}};
    }
    if (!refusal) queue_.push_back(std::move(p));
  }
  if (refusal) {
    // Outside the lock: the completion may finish a gRPC call.
    Answer(p, *refusal);
    return;
  }
  wake_.notify_one();
}

Result<int64_t> PartitionWriter::Tick() {
  Pending p;
  p.tick = true;
  auto future = p.tick_done.get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || state_.load() != WriterState::kServing) {
      return Error{Errc::kUnavailable, "WRITER_UNAVAILABLE", "the writer is not serving", {}, {}};
    }
    queue_.push_back(std::move(p));
  }
  wake_.notify_one();
  return future.get();
}

void PartitionWriter::Run() {
  std::vector<Pending> batch;
  std::vector<Pending*> items;
  const auto gap = std::chrono::milliseconds(options_.transaction_gap_ms);
  const auto tick_interval = std::chrono::milliseconds(options_.tick_interval_ms);
  auto last_commit = std::chrono::steady_clock::now() - gap;
  auto next_tick = std::chrono::steady_clock::now() + tick_interval;
  for (;;) {
    if (state_.load() != WriterState::kServing) {
      if (!Recover()) return;  // stopping, or fenced
      next_tick = std::chrono::steady_clock::now();  // catch up on what fell due meanwhile
    }
    bool timer_tick = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, next_tick, [this] { return stopping_ || !queue_.empty(); });
      // Commands arriving during the gap join this batch.
      wake_.wait_until(lock, last_commit + gap, [this] { return stopping_; });
      if (stopping_) return;
      if (std::chrono::steady_clock::now() >= next_tick) {
        timer_tick = true;
        next_tick = std::chrono::steady_clock::now() + tick_interval;
      }
      while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    items.clear();
    for (auto& p : batch) items.push_back(&p);
    ProcessItems(items, timer_tick);
    batch.clear();
    last_commit = std::chrono::steady_clock::now();
    if (store_failure_) {
      // Memory may now be ahead of the store: start over from the store and the log.
      failure_message_ = "writer store: " + store_failure_->message;
      producer_.reset();
      Fail(failure_message_);
      continue;
    }
    if (state_.load() == WriterState::kForeignWriter) return;
    if (producer_->failed()) {
      Fail(failure_message_);
      if (state_.load() == WriterState::kFenced) return;
    }
  }
}

void PartitionWriter::ProcessItems(std::vector<Pending*> items, bool timer_tick) {
  BatchOutcome outcome = ProcessBatch(items, timer_tick);
  if (!outcome.records_refused) return;
  std::vector<Pending*> open;
  for (Pending* p : items) {
    if (!p->answered) open.push_back(p);
  }
  if (open.size() <= 1) {
    // Alone in its transaction and still refused: the command itself is at fault.
    for (Pending* p : open) {
      LogWarn(absl::StrCat("writer[", partition_, "]"), "the log refused the events of command ",
              p->tick ? std::string("(clock)")
                      : p->customer ? CustomerCommandId(*p->customer)
                                    : CommandId(p->command),
              ": ", outcome.message);
      Error refused{Errc::kInvalidArgument,
                    "EVENT_REFUSED",
                    "the event log refused this command's events (" + outcome.message +
                        "); the request is too large or invalid: change it rather than retry",
                    "request",
                    {}};
      if (p->tick)
        AnswerTick(*p, refused);
      else
        Answer(*p, refused);
    }
    return;
  }
  // Commands whose records were not refused are innocent: commit them first, without the
  // others. Then the implicated ones, halved until the culprit is alone.
  std::vector<Pending*> implicated, innocent;
  for (Pending* p : open) {
    bool named = std::find(outcome.implicated.begin(), outcome.implicated.end(), p) !=
                 outcome.implicated.end();
    (named ? implicated : innocent).push_back(p);
  }
  std::vector<std::vector<Pending*>> parts;
  if (!implicated.empty() && !innocent.empty()) {
    parts = {innocent, implicated};
  } else {
    const size_t half = open.size() / 2;
    parts = {std::vector<Pending*>(open.begin(), open.begin() + half),
             std::vector<Pending*>(open.begin() + half, open.end())};
  }
  for (auto& part : parts) {
    if (state_.load() == WriterState::kForeignWriter) {
      Error error;
      {
        std::lock_guard lock(mutex_);
        error = UnavailableError(WriterState::kForeignWriter);
      }
      for (Pending* p : part) {
        if (p->tick)
          AnswerTick(*p, error);
        else
          Answer(*p, error);
      }
      continue;
    }
    if (producer_->failed()) {
      // The producer broke while isolating: these are answered by ProcessBatch's failure path.
      ProcessBatch(part, false);
      continue;
    }
    ProcessItems(part, false);
  }
}

PartitionWriter::BatchOutcome PartitionWriter::ProcessBatch(const std::vector<Pending*>& batch,
                                                            bool timer_tick) {
  BatchOutcome outcome;
  const absl::Time now = clock_.Now();
  // Accounts this batch changed. The pipeline applies events to the cached account in place;
  // until the commit only the store holds the committed state, so a batch that does not
  // commit drops these from the cache (they are read again from the store).
  std::set<std::string> staged;
  // Accounts created by this batch, kept aside until the commit.
  std::unordered_map<std::string, AccountState> created;
  // Command key -> index in `batch` of the first command with that key in this batch.
  std::unordered_map<std::string, size_t> staged_commands;
  std::vector<kafka::Record> records;
  std::vector<v1::EventEnvelope> events_of_batch;
  // Per record: the index in `batch` of the command it belongs to (kClock: time-driven).
  constexpr size_t kClock = std::numeric_limits<size_t>::max();
  std::vector<size_t> record_owner;
  // Per command: its events' indexes in `records` (empty = answered already), or the index
  // of the earlier identical command whose reply it shares.
  std::vector<std::vector<size_t>> record_indexes(batch.size());
  std::vector<std::optional<size_t>> same_as(batch.size());
  std::vector<std::optional<Error>> refusals(batch.size());  // blocked: answered after the commit
  // Answers decided against state this batch staged (an earlier command's events): they hold
  // only if the batch commits, so they are given after the commit.
  std::vector<std::optional<Result<v1::CommandReply>>> deferred(batch.size());
  int64_t clock_events = 0;
  std::unordered_map<std::string, std::optional<absl::Time>> due_before;

  const PipelineSettings settings = PipelineSettingsFor(options_);

  // The account to run a command on: staged or committed (nullptr + *exists=false: none yet).
  auto state_of = [&](const std::string& account_id, bool* exists) -> AccountState* {
    if (auto it = created.find(account_id); it != created.end()) {
      *exists = true;
      return &it->second;
    }
    AccountState* account = Committed(account_id);
    *exists = account != nullptr;
    if (account != nullptr && due_before.count(account_id) == 0) {
      // Its deadline before this batch: the store's due index entry to move after the commit.
      due_before[account_id] = NextDueTime(*account, options_.domain);
    }
    return account;
  };
  // Stages events the pipeline stamped (and applied) as records of `owner`.
  auto stage = [&](const std::string& account_id, std::vector<v1::EventEnvelope>& events,
                   size_t owner) {
    std::vector<size_t> indexes;
    for (auto& e : events) {
      indexes.push_back(records.size());
      records.push_back(EventRecord(e, options_.source));
      record_owner.push_back(owner);
      events_of_batch.push_back(std::move(e));
    }
    if (!events.empty()) staged.insert(account_id);
    return indexes;
  };

  bool tick_requested = timer_tick;
  for (const Pending* p : batch) tick_requested = tick_requested || p->tick;
  if (tick_requested) {
    // Bounded per batch; what is left is due at the next tick.
    auto due_accounts = store_->DueAccounts(now, 10000);
    if (!due_accounts) {
      store_failure_ = due_accounts.error();
    } else {
      for (const auto& id : due_accounts.value()) {
        bool exists = false;
        AccountState* state = state_of(id, &exists);
        if (state == nullptr) continue;
        auto events = RunTime(*state, now, settings);
        clock_events += static_cast<int64_t>(events.size());
        stage(id, events, kClock);
      }
    }
  }

  // A second command with a key staged in this batch: the same request shares the first one's
  // reply, another is refused. Returns true when the command is settled that way.
  auto repeated_in_batch = [&](size_t i, const std::string& stream_id,
                               const std::string& command_id) {
    Pending& p = *batch[i];
    auto it = staged_commands.find(p.key);
    if (p.dry_run || it == staged_commands.end()) return false;
    if (batch[it->second]->fingerprint != p.fingerprint) {
      deferred[i] = Error{Errc::kAlreadyExists, "COMMAND_ID_REUSED",
                          "command_id " + command_id + " was already used on account " +
                              stream_id + " for a different request; use a new command_id",
                          "command_id", command_id};
    } else {
      same_as[i] = it->second;
    }
    return true;
  };
  auto store_unavailable = [&] {
    return Error{Errc::kUnavailable, "WRITER_STORE",
                 "the writer could not read its state (" + store_failure_->message +
                     "); nothing was recorded, retry with the same command_id",
                 {}, {}};
  };
  auto prior_of = [](const std::optional<CommandRecord>& earlier) {
    PriorCommand prior;
    if (earlier) {
      prior.fingerprint = earlier->fingerprint;
      prior.refused = earlier->refusal.has_value();
      prior.blocked = earlier->blocked;
    }
    return prior;
  };
  // The answer to a repeat of a committed command: its recorded refusal, or its reply again.
  auto answer_repeat = [this](Pending& p, CommandRecord& earlier) {
    if (earlier.refusal) {
      Answer(p, *earlier.refusal);
    } else {
      v1::CommandReply repeat = std::move(earlier.reply);
      repeat.set_deduplicated(true);
      Answer(p, std::move(repeat));
    }
  };
  // Customers created by this batch, kept aside until the commit (as `created` for accounts).
  std::unordered_map<std::string, CustomerState> created_customers;

  for (size_t i = 0; i < batch.size(); ++i) {
    Pending& p = *batch[i];
    if (p.tick || p.answered) continue;
    const std::string account_id = p.customer ? CustomerStreamKey(CustomerIdOf(*p.customer))
                                              : AccountId(p.command);
    const std::string& command_id =
        p.customer ? CustomerCommandId(*p.customer) : CommandId(p.command);
    p.key = CommandKey(account_id, command_id);
    p.fingerprint = p.customer ? FingerprintOf(*p.customer) : FingerprintOf(p.command);
    // A refusal decided on state this batch staged holds only if the batch commits.
    auto reply = [&](Result<v1::CommandReply> r) {
      if (staged.count(account_id) > 0)
        deferred[i] = std::move(r);
      else
        Answer(p, std::move(r));
    };
    if (auto e = p.customer ? ValidateCustomerRequest(*p.customer) : ValidateRequest(p.command)) {
      Answer(p, *e);
      continue;
    }
    if (repeated_in_batch(i, account_id, command_id)) continue;
    std::optional<CommandRecord> earlier;
    // A dry run sees the command's record too: a step the service checks before it runs it
    // again (a retried request about several debts) is a repeat, not a new contact.
    earlier = CommittedCommand(account_id, command_id);
    const PriorCommand prior = prior_of(earlier);
    CommandOutcome result;
    if (p.customer) {
      bool exists = false;
      CustomerState* state = nullptr;
      if (!store_failure_) {
        if (auto it = created_customers.find(account_id); it != created_customers.end()) {
          state = &it->second;
        } else {
          state = CommittedCustomer(account_id);
        }
        exists = state != nullptr;
      }
      if (store_failure_) {
        Answer(p, store_unavailable());
        continue;
      }
      CustomerState scratch;  // a new customer: kept only if the command appends
      CustomerCommandInput input;
      input.command = &*p.customer;
      input.now = now;
      input.prior = earlier ? &prior : nullptr;
      result = RunCustomerCommand(state != nullptr ? *state : scratch, exists, input, settings);
      if (state == nullptr && result.kind == CommandOutcome::Kind::kAppend) {
        created_customers[account_id] = std::move(scratch);
      }
    } else {
      bool exists = false;
      AccountState* state = store_failure_ ? nullptr : state_of(account_id, &exists);
      if (store_failure_) {
        Answer(p, store_unavailable());
        continue;
      }
      AccountState scratch;  // a new account: kept only if the command appends
      CommandInput input;
      input.command = &p.command;
      input.now = now;
      input.dry_run = p.dry_run;
      input.prior = earlier ? &prior : nullptr;
      result = RunCommand(state != nullptr ? *state : scratch, exists, input, settings);
      if (!result.time_events.empty()) {
        clock_events += static_cast<int64_t>(result.time_events.size());
        stage(account_id, result.time_events, kClock);
      }
      if (state == nullptr && result.kind == CommandOutcome::Kind::kAppend) {
        created[account_id] = std::move(scratch);
      }
    }
    switch (result.kind) {
      case CommandOutcome::Kind::kRepeat:
        answer_repeat(p, *earlier);
        continue;
      case CommandOutcome::Kind::kRefused:
        reply(std::move(*result.error));
        continue;
      case CommandOutcome::Kind::kDryRun: {
        v1::CommandReply dry;
        dry.set_account_id(account_id);
        dry.set_version(result.version);
        *dry.mutable_decision() = std::move(result.decision);
        reply(std::move(dry));
        continue;
      }
      case CommandOutcome::Kind::kAppend:
        break;
    }
    refusals[i] = std::move(result.error);
    record_indexes[i] = stage(account_id, result.events, i);
    staged_commands[p.key] = i;
  }

  // The batch did not commit: what the pipeline applied in place is dropped, so the next
  // command reads the committed account from the store again.
  auto roll_back = [&] {
    for (const auto& id : staged) {
      if (created.count(id) > 0 || created_customers.count(id) > 0) continue;
      if (IsCustomerStream(id)) {
        customers_.erase(id);
        continue;
      }
      if (auto it = cache_.find(id); it != cache_.end()) {
        lru_.erase(it->second.lru);
        cache_.erase(it);
      }
    }
  };
  auto finish_ticks = [&](const Result<int64_t>& result) {
    for (Pending* p : batch) {
      if (p->tick) AnswerTick(*p, result);
    }
  };
  // Every command still waiting on this batch: with events, sharing another's, or deferred.
  auto waiting = [&](size_t i) {
    return !batch[i]->tick && !batch[i]->answered &&
           (!record_indexes[i].empty() || same_as[i] || deferred[i]);
  };
  if (records.empty()) {
    for (size_t i = 0; i < batch.size(); ++i) {
      if (waiting(i) && deferred[i]) Answer(*batch[i], std::move(*deferred[i]));
    }
    finish_ticks(int64_t{0});
    return outcome;
  }
  const absl::Time append_started = absl::Now();
  // Before the commit: every offset of the partition since the restore must be accounted for.
  // The producer keeps the ledger up to date itself (LedgerGuard): every transaction that held
  // these records and ended, including one it or the group aborted and tried again, leaves its
  // marker and records there.
  kafka::AppendResult appended = producer_->Append(partition_, records, &ledger_guard_);
  if (options_.on_append) {
    options_.on_append(partition_, batch.size(), records.size(),
                       absl::ToDoubleSeconds(absl::Now() - append_started),
                       appended.outcome == kafka::AppendResult::Outcome::kCommitted);
  }
  if (LogLevel::kDebug >= MinLogLevel()) {  // not worth formatting on every batch otherwise
    Log(LogLevel::kDebug, "writer[" + std::to_string(partition_) + "]",
        absl::StrCat("batch of ", batch.size(), " commands, ", records.size(),
                     " events, appended in ", absl::FormatDuration(absl::Now() - append_started)));
  }
  if (appended.vetoed) {
    // Someone else wrote the partition since the restore: nothing of this batch is recorded,
    // and nothing more will be.
    roll_back();
    StopForeign(appended.message);
    Error e;
    {
      std::lock_guard lock(mutex_);
      e = UnavailableError(WriterState::kForeignWriter);
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (waiting(i)) Answer(*batch[i], e);
    }
    finish_ticks(e);
    return outcome;
  }
  if (appended.outcome != kafka::AppendResult::Outcome::kCommitted) {
    failure_message_ = appended.message;
    LogError(absl::StrCat("writer[", partition_, "]"), "append of ", records.size(),
             " events failed (",
             appended.outcome == kafka::AppendResult::Outcome::kUnknown ? "outcome unknown"
                                                                         : "not committed",
             "): ", appended.message);
    if (!appended.refused_records.empty() && !appended.producer_failed &&
        appended.outcome == kafka::AppendResult::Outcome::kNotCommitted) {
      // Nothing was recorded and the producer is fine: the caller isolates the commands
      // behind the refused records and tries again. Nobody waiting is answered yet.
      outcome.records_refused = true;
      outcome.message = appended.message;
      for (size_t r : appended.refused_records) {
        if (r >= record_owner.size() || record_owner[r] == kClock) continue;
        Pending* owner = batch[record_owner[r]];
        if (std::find(outcome.implicated.begin(), outcome.implicated.end(), owner) ==
            outcome.implicated.end())
          outcome.implicated.push_back(owner);
      }
      roll_back();
      return outcome;
    }
    const bool unknown = appended.outcome == kafka::AppendResult::Outcome::kUnknown;
    Error e{Errc::kUnavailable,
            unknown ? "APPEND_OUTCOME_UNKNOWN" : "APPEND_FAILED",
            unknown ? "the event log stopped answering while the command was being committed ("
                      + appended.message +
                      "); it may or may not be recorded: retry with the same command_id to "
                      "learn which"
                    : "the event log did not accept the command (" + appended.message +
                      "); nothing was recorded, retry with the same command_id",
            {},
            {}};
    roll_back();
    for (size_t i = 0; i < batch.size(); ++i) {
      if (waiting(i)) Answer(*batch[i], e);
    }
    finish_ticks(e);
    return outcome;
  }
  // Committed: the state the pipeline moved is now the committed one, and callers hear OK.
  for (const auto& id : staged) {
    if (IsCustomerStream(id)) {
      if (auto it = created_customers.find(id); it != created_customers.end()) {
        customers_[id] = std::move(it->second);
      }
      dirty_customers_.insert(id);
      continue;
    }
    if (auto it = created.find(id); it != created.end()) {
      lru_.push_front(id);
      auto& entry = cache_[id];
      entry.account = std::move(it->second);
      entry.lru = lru_.begin();
      dirty_accounts_[id] = std::nullopt;
    } else if (dirty_accounts_.count(id) == 0) {
      dirty_accounts_[id] = due_before[id];
    }
  }
  for (size_t r = 0; r < events_of_batch.size(); ++r) {
    ApplyCommitted(events_of_batch[r], appended.offsets[r], /*evolve=*/false);
  }
  std::vector<std::optional<v1::CommandReply>> replies(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    if (waiting(i) && !record_indexes[i].empty() && !refusals[i])
      replies[i] = dirty_commands_.at(batch[i]->key).reply;
  }
  if (options_.crash_before_store_write_for_test &&
      options_.crash_before_store_write_for_test(partition_)) {
    LogWarn(absl::StrCat("writer[", partition_, "]"),
            "test hook: behaving as if the process died between the Kafka commit and the store "
            "write");
    simulated_crash_ = true;
  }
  if (auto e = Flush(appended.offsets.back() + 1)) {
    LogError(absl::StrCat("writer[", partition_, "]"), "the writer store write failed after a "
             "commit (", e->message, "); recovering from the store and the log");
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!waiting(i)) continue;
    if (deferred[i]) {
      Answer(*batch[i], std::move(*deferred[i]));
      continue;
    }
    // A command sharing another's reply (same key) points at one that has events.
    size_t source = same_as[i] ? *same_as[i] : i;
    if (refusals[source]) {
      Answer(*batch[i], *refusals[source]);
      continue;
    }
    v1::CommandReply reply = *replies[source];
    reply.set_deduplicated(same_as[i].has_value());
    Answer(*batch[i], std::move(reply));
  }
  finish_ticks(clock_events);
  return outcome;
}

namespace {
// How the writer group knows a process: "<deployment>-<instance>" ("-default" without one).
std::string MemberName(const WriterOptions& options) {
  return options.deployment_id + "-" +
         (options.instance_id.empty() ? std::string("default") : options.instance_id);
}
}  // namespace

CommandRouter::CommandRouter(kafka::LogOptions log, WriterOptions options, const Clock& clock)
    : log_(std::move(log)), options_(std::move(options)), clock_(clock) {}

CommandRouter::~CommandRouter() { Stop(); }

Status CommandRouter::Start() {
  auto partitions = kafka::EnsureTopic(log_);
  if (!partitions) return partitions.error();
  LogInfo("router", "topic ", log_.topic, " has ", partitions.value(), " partitions");
  partition_count_ = partitions.value();
  {
    std::lock_guard lock(writers_mutex_);
    writers_.assign(static_cast<size_t>(partition_count_), nullptr);
    group_ = kafka::TransactionGroup::Create(log_, WriterTransactionalId(options_),
                                            options_.producer_timeouts);
  }
  if (options_.group_ownership) {
    // The partitions come from the group: writers start as they are assigned. Start() returns
    // once the process is a member; serving() says when its writers are ready.
    kafka::GroupMembership::Listener listener;
    listener.assigned = [this](const std::vector<int32_t>& p) { Assigned(p); };
    listener.revoked = [this](const std::vector<int32_t>& p, bool lost) { Revoked(p, lost); };
    kafka::MembershipOptions membership;
    membership.group_id = options_.deployment_id + "-writers";
    membership.instance_id = MemberName(options_);
    membership.advertised_address = options_.advertised_address;
    membership.session_timeout_ms = options_.ownership_session_timeout_ms;
    if (options_.on_state) {
      for (int32_t p = 0; p < partition_count_; ++p) options_.on_state(p, WriterState::kElsewhere);
    }
    auto joined = kafka::GroupMembership::Join(log_, std::move(membership), std::move(listener));
    if (!joined) return joined.error();
    membership_ = std::move(joined.value());
    // Like a single process, start-up waits for the writers of its first assignment and fails
    // with the first that cannot start (a partition another deployment wrote, a broker that
    // does not answer).
    std::unique_lock lock(first_mutex_);
    if (!first_done_.wait_for(lock, std::chrono::seconds(120), [this] { return first_pending_ == 0; })) {
      return Error{Errc::kUnavailable, "NO_ASSIGNMENT",
                   "the writer group " + options_.deployment_id +
                       "-writers assigned this process no partitions within 120 s: is the "
                       "broker's group coordinator reachable?",
                   {}, {}};
    }
    return first_error_;
  }
  std::vector<std::shared_ptr<PartitionWriter>> all;
  WriterOptions options = options_;
  options.on_state = [this, told = options_.on_state](int32_t p, WriterState state) {
    if (told) told(p, state);
    WriterStateChanged(p, state);
  };
  for (int32_t p = 0; p < partition_count_; ++p) {
    all.push_back(std::make_shared<PartitionWriter>(log_, options, p, clock_, group_));
  }
  {
    std::lock_guard lock(writers_mutex_);
    writers_ = all;
  }
  std::vector<std::future<Status>> started;
  for (auto& w : all) {
    started.push_back(std::async(std::launch::async, [&w] { return w->Start(); }));
  }
  Status first_error;
  for (auto& f : started) {
    Status s = f.get();
    if (s && !first_error) first_error = s;
  }
  return first_error;
}

void CommandRouter::Assigned(const std::vector<int32_t>& partitions) {
  bool first = false;
  {
    std::lock_guard lock(first_mutex_);
    if (first_pending_ < 0) {
      first = true;
      first_pending_ = static_cast<int>(partitions.size());
    }
  }
  assigned_once_ = true;
  const int64_t round = ++assignment_rounds_;
  if (first && partitions.empty()) first_done_.notify_all();
  std::shared_ptr<kafka::TransactionGroup> group;
  {
    std::lock_guard lock(writers_mutex_);
    if (group_->fenced()) {
      // Another process fenced this one while it was expelled from the group (frozen too
      // long): the group let it back in, so its writers start again with new producers.
      LogWarn("router", "this process's writers were fenced while it was out of the group; "
                        "starting them with new producers");
      retired_transactions_ += group_->transactions();
      group_ = kafka::TransactionGroup::Create(log_, WriterTransactionalId(options_),
                                              options_.producer_timeouts);
    }
    group = group_;
  }
  // A writer fenced by another process of this instance (started twice by mistake) means this
  // process is superseded: it leaves the group so its partitions go to processes that can write.
  WriterOptions options = options_;
  options.on_state = [this, told = options_.on_state](int32_t p, WriterState state) {
    if (told) told(p, state);
    WriterStateChanged(p, state);
    if (state == WriterState::kFenced && !superseded_.exchange(true)) {
      LogError("router", "ALERT WRITER_FENCED this process's transactional ids were taken "
                         "over (another process runs with its --instance-id, or it was out of "
                         "the group too long and its partitions moved): it leaves the writer "
                         "group and writes nothing more; restart it");
      std::lock_guard lock(starting_mutex_);
      leaving_ = std::thread([this] {
        if (membership_) membership_->Leave();
      });
    }
  };
  for (int32_t p : partitions) {
    auto writer = std::make_shared<PartitionWriter>(log_, options, p, clock_, group);
    {
      std::lock_guard lock(writers_mutex_);
      if (stopping_) return;
      writers_[static_cast<size_t>(p)] = writer;
    }
    // The restore runs on a thread of its own: the group's thread must keep serving the
    // protocol. Commands meanwhile wait for it (AwaitWriter).
    std::lock_guard lock(starting_mutex_);
    if (auto old = starting_.find(p); old != starting_.end()) {
      if (old->second.joinable()) old->second.join();
      starting_.erase(old);
    }
    starting_.emplace(p, std::thread([this, p, writer, first, options, round] {
      const absl::Time began = absl::Now();
      FenceGoneOwner(p, round);
      // Recorded before this process writes anything there: whoever takes the partition next
      // knows whom to fence if this process crashes.
      if (membership_) membership_->RecordOwner(p);
      std::shared_ptr<PartitionWriter> w = writer;
      Status started = w->Start();
      // The partition's store is still open in the process that wrote it before (one store
      // directory shared by the processes of a host, and that process frozen or still
      // stopping): wait for it with a fresh writer each time, while the partition stays here.
      while (started && started->reason == "WRITER_STORE_LOCKED" && !stopping_) {
        LogWarn("router", "partition ", p, ": ", started->message, "; trying again in 1 s");
        std::this_thread::sleep_for(std::chrono::seconds(1));
        auto next = std::make_shared<PartitionWriter>(log_, options, p, clock_, w->group());
        {
          std::lock_guard lock(writers_mutex_);
          if (writers_[static_cast<size_t>(p)] != w) break;  // revoked meanwhile
          writers_[static_cast<size_t>(p)] = next;
        }
        w = next;
        started = w->Start();
      }
      if (first) {
        std::lock_guard lock(first_mutex_);
        if (started && !first_error_) first_error_ = started;
        if (--first_pending_ == 0) first_done_.notify_all();
      }
      if (started) {
        LogError("router", "partition ", p, " could not start: ", started->message);
        WakeWriterWaiters(p);  // answered by the writer: why it cannot take them
        return;
      }
      LogInfo("router", "partition ", p, " serving here after ",
              absl::FormatDuration(absl::Now() - began), " (", w->restored_events(),
              " events read from offset ", w->restored_from_offset(), ")");
    }));
  }
}

void CommandRouter::FenceGoneOwner(int32_t p, int64_t round) {
  if (!membership_) return;
  const std::string previous = membership_->RecordedOwner(p);
  const std::string me = MemberName(options_);
  const std::string prefix = options_.deployment_id + "-";
  if (previous.empty() || previous == me || !previous.starts_with(prefix)) return;
  // Held for the whole fence: the other partitions of the same gone process wait until it is
  // fenced before they restore, rather than skip it.
  std::lock_guard lock(fence_mutex_);
  if (auto it = fenced_.find(previous); it != fenced_.end() && it->second == round) return;
  for (const std::string& member : membership_->Members()) {
    if (member == previous) return;  // alive: it let the partition go cleanly
  }
  // Every takeover from a gone process fences it, once per round of assignments: a process
  // that comes back and crashes again leaves a transaction open again.
  fenced_[previous] = round;
  std::string instance = previous.substr(prefix.size());
  if (instance == "default") instance.clear();
  const std::string id = WriterTransactionalId(options_.deployment_id, instance);
  LogWarn("router", "partition ", p, " was last owned by ", previous,
          ", no longer in the group: fencing its writers (", id, ", ", id, "-b)");
  if (Status e = kafka::FenceTransactionalIds(log_, {id, id + "-b"}, 10000)) {
    LogWarn("router", "fencing ", id, ": ", e->message,
            " (the partition's readers wait for the broker to abort what it left open)");
  }
}

void CommandRouter::Revoked(const std::vector<int32_t>& partitions, bool lost) {
  std::vector<std::shared_ptr<PartitionWriter>> leaving;
  {
    std::lock_guard lock(writers_mutex_);
    for (int32_t p : partitions) {
      auto& slot = writers_[static_cast<size_t>(p)];
      if (slot) leaving.push_back(std::move(slot));
      slot = nullptr;
    }
  }
  {
    std::lock_guard lock(starting_mutex_);
    for (int32_t p : partitions) {
      if (auto it = starting_.find(p); it != starting_.end()) {
        for (auto& w : leaving) {
          if (w->partition() == p) w->StopIntake(/*moved=*/true);  // a restore gives up
        }
        if (it->second.joinable()) it->second.join();
        starting_.erase(it);
      }
    }
  }
  // Each finishes the transaction it has in flight (bounded by the producer's time budgets)
  // before the group may give its partition to another process.
  for (auto& w : leaving) w->StopIntake(/*moved=*/true);
  std::vector<std::thread> stopping;
  for (auto& w : leaving) stopping.emplace_back([&w] { w->Stop(); });
  for (auto& t : stopping) t.join();
  if (options_.on_state) {
    for (auto& w : leaving) options_.on_state(w->partition(), WriterState::kElsewhere);
  }
  for (int32_t p : partitions) WakeWriterWaiters(p);  // they wait for the next owner
  if (!leaving.empty()) {
    LogInfo("router", lost ? "lost" : "handed over", " ", leaving.size(), " partition(s)");
  }
}

void CommandRouter::BeginStop(absl::Time abandon_at) {
  deadlines_.AbandonAt(abandon_at);
  {
    std::lock_guard lock(writers_mutex_);
    for (auto& w : writers_) {
      if (w) w->StopIntake();
    }
  }
  // Hand the partitions over now (the other processes restore them while this one finishes
  // its calls), not at the end of the shutdown.
  if (membership_ && !superseded_.exchange(true)) {
    std::lock_guard lock(starting_mutex_);
    leaving_ = std::thread([this] { membership_->Leave(); });
  }
}

void CommandRouter::Stop() {
  stopping_ = true;
  // Leaving the group revokes this process's partitions (their writers stop) and lets the
  // group hand them to the other processes at once.
  if (membership_) membership_->Leave();
  {
    std::lock_guard lock(starting_mutex_);
    for (auto& [p, t] : starting_) {
      if (t.joinable()) t.join();
    }
    starting_.clear();
    if (leaving_.joinable()) leaving_.join();
  }
  std::vector<std::shared_ptr<PartitionWriter>> all;
  {
    std::lock_guard lock(writers_mutex_);
    for (auto& w : writers_) {
      if (w) all.push_back(w);
    }
  }
  for (auto& w : all) w->StopIntake();
  // In parallel: each may be finishing a transaction or closing its producer.
  std::vector<std::thread> stopping;
  for (auto& w : all) stopping.emplace_back([&w] { w->Stop(); });
  for (auto& t : stopping) t.join();
  if (group_) group_->Close();  // the writers let go of their producers: close the shared one
  // Every writer has answered everything it took; nothing is left to wait for.
  deadlines_.Stop();
}

std::shared_ptr<PartitionWriter> CommandRouter::WriterOf(int32_t p) const {
  std::lock_guard lock(writers_mutex_);
  if (p < 0 || static_cast<size_t>(p) >= writers_.size()) return nullptr;
  return writers_[static_cast<size_t>(p)];
}

std::vector<int32_t> CommandRouter::owned() const {
  std::vector<int32_t> out;
  std::lock_guard lock(writers_mutex_);
  for (size_t p = 0; p < writers_.size(); ++p) {
    if (writers_[p]) out.push_back(static_cast<int32_t>(p));
  }
  return out;
}

std::map<int32_t, kafka::PartitionOwner> CommandRouter::owners() const {
  if (!membership_) return {};
  return membership_->Owners();
}

bool CommandRouter::serving() const {
  if (options_.group_ownership && !assigned_once_) return false;
  std::lock_guard lock(writers_mutex_);
  if (writers_.empty()) return false;
  for (const auto& w : writers_) {
    if (w && w->state() != WriterState::kServing) return false;
  }
  return true;
}

std::vector<WriterState> CommandRouter::states() const {
  std::vector<WriterState> out;
  std::lock_guard lock(writers_mutex_);
  for (const auto& w : writers_) out.push_back(w ? w->state() : WriterState::kElsewhere);
  return out;
}

std::vector<size_t> CommandRouter::queue_depths() const {
  std::vector<size_t> out;
  std::lock_guard lock(writers_mutex_);
  for (const auto& w : writers_) out.push_back(w ? w->queue_depth() : 0);
  return out;
}

int64_t CommandRouter::kafka_transactions() const {
  std::lock_guard lock(writers_mutex_);
  return retired_transactions_ + (group_ ? group_->transactions() : 0);
}

size_t PartitionWriter::queue_depth() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

Result<int64_t> CommandRouter::Tick() {
  std::vector<std::shared_ptr<PartitionWriter>> all;
  {
    std::lock_guard lock(writers_mutex_);
    for (auto& w : writers_) {
      if (w) all.push_back(w);
    }
  }
  int64_t appended = 0;
  for (auto& w : all) {
    auto n = w->Tick();
    if (!n) return n.error();
    appended += n.value();
  }
  return appended;
}

std::vector<int64_t> CommandRouter::restored_from_offsets() const {
  std::vector<int64_t> out;
  std::lock_guard lock(writers_mutex_);
  for (const auto& w : writers_) out.push_back(w ? w->restored_from_offset() : 0);
  return out;
}

int64_t CommandRouter::restored_events() const {
  int64_t n = 0;
  std::lock_guard lock(writers_mutex_);
  for (const auto& w : writers_) n += w ? w->restored_events() : 0;
  return n;
}

Error CommandRouter::NotHere(int32_t p, bool here_only) const {
  if (partition_count_ == 0) {
    return Error{Errc::kUnavailable, "WRITER_UNAVAILABLE", "the command writers are not started",
                 {}, {}};
  }
  if (here_only) {
    return Error{Errc::kUnavailable, "PARTITION_MOVED",
                 absl::StrCat("partition ", p,
                              " is no longer written by this process (it moved while the command "
                              "was forwarded); retry with the same command_id"),
                 {}, {}};
  }
  std::string where = "its owner is not known yet (the writer group is rebalancing)";
  std::vector<std::pair<std::string, std::string>> metadata = {{"partition", absl::StrCat(p)}};
  if (membership_) {
    auto owners = membership_->Owners();
    if (auto it = owners.find(p); it != owners.end()) {
      const kafka::PartitionOwner& owner = it->second;
      where = "it is written by " + owner.instance_id +
              (owner.address.empty() ? " (which gives no address to forward commands to)"
                                     : " at " + owner.address);
      // Machine-readable, for clients that route by partition themselves.
      metadata.emplace_back("owner_instance", owner.instance_id);
      if (!owner.address.empty()) metadata.emplace_back("owner_address", owner.address);
    } else {
      membership_->Refresh();
    }
  }
  return Error{Errc::kUnavailable,
               "PARTITION_ELSEWHERE",
               absl::StrCat("partition ", p, " is not written by this process: ", where,
                            "; retry with the same command_id"),
               {},
               {},
               std::move(metadata)};
}

int32_t CommandRouter::PartitionOf(const std::string& stream_id) const {
  return partition_count_ > 0 ? kafka::PartitionFor(stream_id, partition_count_) : 0;
}

void CommandRouter::Dispatch(int32_t p, absl::Time deadline, bool here_only,
                             PartitionWriter::Completion done, SubmitTo submit, ForwardTo forward,
                             bool waited, bool await_writer) {
  if (auto writer = WriterOf(p)) {
    if (await_writer &&
        AwaitWriter(p, deadline, here_only, waited, writer, done, submit, forward)) {
      return;
    }
    // Registered before it is queued, so that a writer answering at once finds it.
    std::shared_ptr<CallDeadlines::Call> call = deadlines_.Add(deadline, std::move(done));
    submit(*writer, [this, call, p, deadline, here_only, submit, forward,
                     waited](Result<v1::CommandReply> result) {
      // Queued here when the partition moved: routed again, to the next owner. (A forwarded
      // command goes back to the process that forwarded it, which does the same.)
      if (!result.ok() && result.error().reason == "PARTITION_MOVED" && !here_only) {
        Dispatch(
            p, deadline, here_only,
            [this, call](Result<v1::CommandReply> r) { deadlines_.Settle(call, std::move(r)); },
            submit, forward, waited);
        return;
      }
      deadlines_.Settle(call, std::move(result));
    });
    return;
  }
  if (here_only || !membership_) {
    done(NotHere(p, here_only));
    return;
  }
  auto owners = membership_->Owners();
  if (auto it = owners.find(p); it != owners.end()) {
    const kafka::PartitionOwner owner = it->second;
    // This process, as the group last said, but its writer is gone: it is handing the
    // partition over right now. The command waits for the next owner.
    if (!waited && owner.instance_id == MemberName(options_) &&
        AwaitOwner(p, deadline, done, submit, forward, owner.instance_id)) {
      return;
    }
    if (forwarder_ == nullptr || owner.address.empty() ||
        owner.address == options_.advertised_address) {
      done(NotHere(p, here_only));
    } else if (waited) {
      forward(owner.address, std::move(done));
    } else {
      // The owner as last described may have let the partition go meanwhile (a rebalance):
      // then the command waits for the next one. An owner that does not answer
      // (OWNER_UNREACHABLE) is answered at once: it stays the owner until the group's session
      // timeout, longer than a command should be held.
      forward(owner.address, [this, p, deadline, done, submit, forward,
                              stale = owner.instance_id](Result<v1::CommandReply> result) {
        if (!result.ok() && result.error().reason == "PARTITION_MOVED" &&
            AwaitOwner(p, deadline, done, submit, forward, stale)) {
          return;
        }
        done(std::move(result));
      });
    }
    return;
  }
  if (!waited && AwaitOwner(p, deadline, done, submit, forward, "")) return;
  done(NotHere(p, here_only));
}

bool CommandRouter::AwaitWriter(int32_t p, absl::Time deadline, bool here_only, bool waited,
                                const std::shared_ptr<PartitionWriter>& writer,
                                const PartitionWriter::Completion& done, const SubmitTo& submit,
                                const ForwardTo& forward) {
  auto restoring = [&writer] {
    const WriterState s = writer->state();
    return s == WriterState::kStarting || s == WriterState::kRestoring;
  };
  if (!restoring()) return false;
  // A partition that just moved here restores from its checkpoint in well under a second: the
  // command waits for it as it waits for a new owner, within its deadline and at most 10 s.
  constexpr absl::Duration kWriterWait = absl::Seconds(10);
  const absl::Time until =
      std::min(absl::Now() + kWriterWait, deadline - absl::Milliseconds(100));
  if (until <= absl::Now()) return false;
  auto go_on = [this, p, deadline, here_only, waited, done, submit,
                forward](Result<v1::CommandReply> woken) {
    if (!woken.ok() && woken.error().reason == "SHUTTING_DOWN") {
      done(std::move(woken));  // the process is stopping: no writer will take it
      return;
    }
    // Woken by the writer's state change: dispatched as new (to the next owner when the
    // partition left this process meanwhile). At the end of the wait: to the writer as it is,
    // which answers why it cannot take the command.
    Dispatch(p, deadline, here_only, done, submit, forward, waited,
             /*await_writer=*/woken.ok());
  };
  std::lock_guard lock(writer_waiters_mutex_);
  // Checked again under the lock WriterStateChanged takes after the state changed: either the
  // change is seen here or the waiter is seen there.
  if (!restoring()) return false;
  writer_waiters_.emplace(p, deadlines_.Add(until, std::move(go_on)));
  return true;
}

void CommandRouter::WriterStateChanged(int32_t p, WriterState state) {
  if (state == WriterState::kStarting || state == WriterState::kRestoring ||
      state == WriterState::kStopped) {
    return;
  }
  WakeWriterWaiters(p);
}

void CommandRouter::WakeWriterWaiters(int32_t p) {
  std::vector<std::shared_ptr<CallDeadlines::Call>> woken;
  {
    std::lock_guard lock(writer_waiters_mutex_);
    auto [first, last] = writer_waiters_.equal_range(p);
    for (auto it = first; it != last; ++it) woken.push_back(std::move(it->second));
    writer_waiters_.erase(first, last);
  }
  // Outside the lock: going on may answer a gRPC call or wait again.
  for (auto& call : woken) deadlines_.Settle(call, v1::CommandReply());
}

bool CommandRouter::AwaitOwner(int32_t p, absl::Time deadline,
                               const PartitionWriter::Completion& done, const SubmitTo& submit,
                               const ForwardTo& forward, const std::string& stale) {
  // As a Kafka client waits for a partition's new leader: within the command's deadline and at
  // most kOwnerWait.
  constexpr absl::Duration kOwnerWait = absl::Seconds(10);
  const absl::Duration left =
      std::min(kOwnerWait, deadline - absl::Now() - absl::Milliseconds(100));
  if (left <= absl::ZeroDuration()) return false;
  if (!stale.empty()) membership_->Refresh();
  membership_->WhenOwnerKnown(
      p, std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(left),
      [this, p, deadline, done, submit, forward] {
        Dispatch(p, deadline, /*here_only=*/false, done, submit, forward, /*waited=*/true);
      },
      stale);
  return true;
}

void CommandRouter::ExecuteAsync(Command command, absl::Time deadline, bool dry_run,
                                 PartitionWriter::Completion done) {
  Run(std::move(command), deadline, dry_run, /*here_only=*/false, std::move(done));
}

void CommandRouter::ExecuteHere(Command command, absl::Time deadline, bool dry_run,
                                PartitionWriter::Completion done) {
  Run(std::move(command), deadline, dry_run, /*here_only=*/true, std::move(done));
}

void CommandRouter::Run(Command command, absl::Time deadline, bool dry_run, bool here_only,
                        PartitionWriter::Completion done) {
  if (auto e = ValidateRequest(command)) {
    done(*e);
    return;
  }
  // The command may wait for its partition's owner: the callbacks own it.
  const int32_t p = PartitionOf(AccountId(command));
  auto held = std::make_shared<Command>(std::move(command));
  Dispatch(
      p, deadline, here_only, std::move(done),
      [this, held, dry_run](PartitionWriter& w, PartitionWriter::Completion settle) {
        // With several processes a writer letting its partition go hands its queued commands
        // back (PARTITION_MOVED) to go on to the next owner: it gets a copy then.
        w.Submit(membership_ ? Command(*held) : std::move(*held), dry_run, std::move(settle));
      },
      [this, held, deadline, dry_run](const std::string& owner,
                                      PartitionWriter::Completion forwarded) {
        forwarder_->Forward(owner, *held, deadline, dry_run, std::move(forwarded));
      });
}

void CommandRouter::ExecuteAsync(CustomerCommand command, absl::Time deadline,
                                 PartitionWriter::Completion done,
                                 PartitionWriter::CustomerPeek peek) {
  Run(std::move(command), deadline, /*here_only=*/false, std::move(done), std::move(peek));
}

void CommandRouter::ExecuteHere(CustomerCommand command, absl::Time deadline,
                                PartitionWriter::Completion done,
                                PartitionWriter::CustomerPeek peek) {
  Run(std::move(command), deadline, /*here_only=*/true, std::move(done), std::move(peek));
}

void CommandRouter::Run(CustomerCommand command, absl::Time deadline, bool here_only,
                        PartitionWriter::Completion done, PartitionWriter::CustomerPeek peek) {
  if (auto e = ValidateCustomerRequest(command)) {
    done(*e);
    return;
  }
  // The command may wait for its partition's owner: the callbacks own it.
  const int32_t p = PartitionOf(CustomerStreamKey(CustomerIdOf(command)));
  auto held = std::make_shared<std::pair<CustomerCommand, PartitionWriter::CustomerPeek>>(
      std::move(command), std::move(peek));
  Dispatch(
      p, deadline, here_only, std::move(done),
      [this, held](PartitionWriter& w, PartitionWriter::Completion settle) {
        if (membership_) {  // a copy, as for case commands
          w.Submit(CustomerCommand(held->first), std::move(settle), held->second);
        } else {
          w.Submit(std::move(held->first), std::move(settle), std::move(held->second));
        }
      },
      [this, held, deadline](const std::string& owner, PartitionWriter::Completion forwarded) {
        forwarder_->Forward(owner, held->first, deadline, std::move(forwarded),
                            std::move(held->second));
      });
}

Result<v1::CommandReply> CommandRouter::Execute(CustomerCommand command, absl::Time deadline) {
  auto promise = std::make_shared<std::promise<Result<v1::CommandReply>>>();
  auto future = promise->get_future();
  ExecuteAsync(std::move(command), deadline, [promise](Result<v1::CommandReply> result) {
    promise->set_value(std::move(result));
  });
  return future.get();
}

Result<v1::CommandReply> CommandRouter::Execute(Command command, absl::Time deadline,
                                                bool dry_run) {
  auto promise = std::make_shared<std::promise<Result<v1::CommandReply>>>();
  auto future = promise->get_future();
  ExecuteAsync(std::move(command), deadline, dry_run, [promise](Result<v1::CommandReply> result) {
    promise->set_value(std::move(result));
  });
  return future.get();
}

struct CallDeadlines::Call {
  std::atomic<bool> settled{false};
  PartitionWriter::Completion done;  // taken by whoever settles the call
  // Its entry in calls_ while it is there (guarded by the owner's mutex_).
  std::multimap<absl::Time, std::shared_ptr<Call>>::iterator entry;
  bool listed = false;
};

CallDeadlines::CallDeadlines() : thread_([this] { Run(); }) {}

CallDeadlines::~CallDeadlines() { Stop(); }

std::shared_ptr<CallDeadlines::Call> CallDeadlines::Add(absl::Time deadline,
                                                        PartitionWriter::Completion done) {
  auto call = std::make_shared<Call>();
  call->done = std::move(done);
  bool earliest = false;
  {
    std::lock_guard lock(mutex_);
    call->entry = calls_.emplace(deadline, call);
    call->listed = true;
    earliest = call->entry == calls_.begin();
  }
  if (earliest) wake_.notify_one();
  return call;
}

void CallDeadlines::Settle(const std::shared_ptr<Call>& call, Result<v1::CommandReply> result) {
  if (call->settled.exchange(true)) return;  // settled already (deadline, shutdown)
  {
    std::lock_guard lock(mutex_);
    if (call->listed) {
      calls_.erase(call->entry);
      call->listed = false;
    }
  }
  PartitionWriter::Completion done = std::move(call->done);
  done(std::move(result));
}

void CallDeadlines::AbandonAt(absl::Time at) {
  {
    std::lock_guard lock(mutex_);
    abandon_at_ = at;
  }
  wake_.notify_one();
}

size_t CallDeadlines::pending() const {
  std::lock_guard lock(mutex_);
  return calls_.size();
}

void CallDeadlines::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void CallDeadlines::Run() {
  const Error deadline_exceeded{
      Errc::kDeadlineExceeded,
      "DEADLINE_EXCEEDED",
      "the command was not committed before the call deadline; it may still be. Retry with the "
      "same command_id to learn the outcome",
      {},
      {}};
  const Error abandoned{Errc::kUnavailable,
                        "SHUTTING_DOWN",
                        "the service is shutting down while the command was being committed; it "
                        "may or may not be recorded: retry with the same command_id to learn which",
                        {},
                        {}};
  std::vector<std::pair<std::shared_ptr<Call>, const Error*>> due;
  std::unique_lock lock(mutex_);
  for (;;) {
    const absl::Time now = absl::Now();
    const bool abandon = stopping_ || now >= abandon_at_;
    while (!calls_.empty() && (abandon || calls_.begin()->first <= now)) {
      auto first = calls_.begin();
      std::shared_ptr<Call> call = std::move(first->second);
      call->listed = false;
      calls_.erase(first);
      due.emplace_back(std::move(call), abandon ? &abandoned : &deadline_exceeded);
    }
    if (!due.empty()) {
      lock.unlock();
      for (auto& [call, error] : due) Settle(call, *error);
      due.clear();
      lock.lock();
      continue;
    }
    if (stopping_) return;
    // Waits are capped: absl's infinite future does not convert to a time a condition
    // variable can wait until.
    absl::Time next = std::min(now + absl::Seconds(1), abandon_at_);
    if (!calls_.empty()) next = std::min(next, calls_.begin()->first);
    wake_.wait_until(lock, absl::ToChronoTime(next));
  }
}

}  // namespace collections
