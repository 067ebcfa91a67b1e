#include "services/writer/writer.h"

#include "services/common/log.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/compliance_gate.h"
#include "services/domain/hashing.h"
#include "services/domain/internal.h"

#include "absl/strings/str_cat.h"
#include "collections/v1/events.pb.h"

#include <chrono>

namespace collections {
namespace {

using internal::ToProto;

std::string CommandKey(const std::string& account_id, const std::string& command_id) {
  std::string key = account_id;
  key.push_back('\0');
  return key + command_id;
}

std::string FingerprintOf(const Command& command) {
  return std::visit([](const auto& r) { return Fingerprint(r); }, command);
}

kafka::Record ToRecord(const v1::EventEnvelope& e, const std::string& source) {
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

}  // namespace

PartitionWriter::PartitionWriter(kafka::LogOptions log, WriterOptions options, int32_t partition,
                                 const Clock& clock)
    : log_(std::move(log)),
      options_(std::move(options)),
      partition_(partition),
      clock_(clock),
      integrity_(options_.trusted_keys) {}

PartitionWriter::~PartitionWriter() { Stop(); }

Status PartitionWriter::Start() {
  std::string component = absl::StrCat("writer[", partition_, "]");
  std::string txn_id = absl::StrCat(options_.transactional_id_prefix, "-writer-", partition_);
  auto producer = kafka::TransactionalProducer::Create(log_, txn_id);
  if (!producer) return producer.error();
  producer_ = std::move(producer.value());
  // Fences any earlier owner and aborts what it left open, so the log end read below is final.
  if (auto e = producer_->Init(60000)) return e;
  absl::Time started = absl::Now();
  if (auto e = Restore()) return e;
  LogInfo(component, "restored ", restored_accounts_, " accounts from ", restored_events_,
          " events in ", absl::FormatDuration(absl::Now() - started), "; serving as ", txn_id);
  thread_ = std::thread([this] { Run(); });
  return std::nullopt;
}

void PartitionWriter::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  Error stopping{Errc::kUnavailable,
                 "SHUTTING_DOWN",
                 "the service is shutting down; retry with the same command_id",
                 {},
                 {}};
  for (auto& p : queue_) {
    if (p.tick)
      p.tick_done.set_value(stopping);
    else
      p.done.set_value(stopping);
  }
  queue_.clear();
}

Status PartitionWriter::Restore() {
  auto reader = kafka::LogReader::Create(
      log_, absl::StrCat(options_.transactional_id_prefix, "-restore-", partition_));
  if (!reader) return reader.error();
  if (auto e = reader.value()->Assign({{partition_, 0}})) return e;
  auto high = reader.value()->HighWatermark(partition_, 10000);
  if (!high) return high.error();
  absl::Time give_up = absl::Now() + absl::Minutes(10);
  absl::Time next_progress = absl::Now() + absl::Seconds(5);
  for (;;) {
    std::vector<int32_t> at_end;
    auto records = reader.value()->Poll(1000, 200, &at_end);
    if (!records) return records.error();
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
      ApplyRestored(event, r.offset);
      ++restored_events_;
    }
    if (!at_end.empty()) break;
    if (absl::Now() > next_progress) {
      LogInfo(absl::StrCat("writer[", partition_, "]"), "restoring: ", restored_events_,
              " events read, log end ", high.value());
      next_progress = absl::Now() + absl::Seconds(5);
    }
    if (absl::Now() > give_up) {
      return Error{Errc::kUnavailable,
                   "RESTORE_TIMEOUT",
                   absl::StrCat("partition ", partition_, " did not reach the log end in 10 min"),
                   {},
                   {}};
    }
  }
  restored_accounts_ = static_cast<int64_t>(accounts_.size());
  for (const auto& [id, account] : accounts_) ScheduleDue(account);
  return std::nullopt;
}

void PartitionWriter::ApplyRestored(const v1::EventEnvelope& event, int64_t offset) {
  v1::Account& account = accounts_[event.account_id()];
  auto outcome = integrity_.Admit(account, event, partition_, offset);
  if (outcome.quarantined_now) {
    LogError(absl::StrCat("writer[", partition_, "]"), "ALERT integrity: account ",
             event.account_id(), " quarantined at sequence ", event.sequence(), " (offset ",
             offset, "): ", account.quarantine().reason(), ": ", account.quarantine().detail(),
             "; it refuses commands until an operator investigates");
  }
  for (const auto& e : outcome.apply) ApplyCommitted(e, offset);
}

void PartitionWriter::ApplyCommitted(const v1::EventEnvelope& event, int64_t offset) {
  v1::Account& account = accounts_[event.account_id()];
  Evolve(account, event);
  account.mutable_last_position()->set_partition(partition_);
  account.mutable_last_position()->set_offset(offset);
  CommandRecord& record = commands_[CommandKey(event.account_id(), event.command_id())];
  record.fingerprint = event.command_fingerprint();
  record.reply.set_account_id(event.account_id());
  record.reply.set_version(event.sequence());
  record.reply.mutable_position()->set_partition(partition_);
  record.reply.mutable_position()->set_offset(offset);
  record.reply.add_event_ids(event.event_id());
  if (event.has_decision()) *record.reply.mutable_decision() = event.decision();
  if (event.has_contact_blocked())
    record.refusal = BlockedError(event.account_id(), event.decision());
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
  Pending p;
  p.command = std::move(command);
  p.dry_run = dry_run;
  auto future = p.done.get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || !failed_.empty()) {
      p.done.set_value(Error{Errc::kUnavailable,
                             "WRITER_UNAVAILABLE",
                             stopping_
                                 ? "the service is shutting down; retry with the same command_id"
                                 : "the writer of this partition stopped: " + failed_,
                             {},
                             {}});
      return future;
    }
    queue_.push_back(std::move(p));
  }
  wake_.notify_one();
  return future;
}

Result<int64_t> PartitionWriter::Tick() {
  Pending p;
  p.tick = true;
  auto future = p.tick_done.get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || !failed_.empty()) {
      return Error{Errc::kUnavailable, "WRITER_UNAVAILABLE", "the writer is not serving", {}, {}};
    }
    queue_.push_back(std::move(p));
  }
  wake_.notify_one();
  return future.get();
}

void PartitionWriter::ScheduleDue(const v1::Account& account) {
  const std::string& id = account.account_id();
  if (auto it = due_of_.find(id); it != due_of_.end()) {
    due_.erase({it->second, id});
    due_of_.erase(it);
  }
  if (auto next = NextDueTime(account, options_.domain)) {
    due_.insert({*next, id});
    due_of_[id] = *next;
  }
}

void PartitionWriter::Run() {
  std::vector<Pending> batch;
  const auto gap = std::chrono::milliseconds(options_.transaction_gap_ms);
  const auto tick_interval = std::chrono::milliseconds(options_.tick_interval_ms);
  auto last_commit = std::chrono::steady_clock::now() - gap;
  auto next_tick = std::chrono::steady_clock::now() + tick_interval;
  for (;;) {
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
    ProcessBatch(batch, timer_tick);
    batch.clear();
    last_commit = std::chrono::steady_clock::now();
    if (producer_->fatal()) {
      std::lock_guard lock(mutex_);
      failed_ = "the Kafka producer failed fatally (fenced by a newer owner?); restart the service";
      LogError(absl::StrCat("writer[", partition_, "]"), failed_);
      for (auto& p : queue_) {
        if (p.tick)
          p.tick_done.set_value(Error{Errc::kUnavailable, "WRITER_UNAVAILABLE", failed_, {}, {}});
        else
          p.done.set_value(Error{Errc::kUnavailable, "WRITER_UNAVAILABLE", failed_, {}, {}});
      }
      queue_.clear();
      return;
    }
  }
}

void PartitionWriter::ProcessBatch(std::vector<Pending>& batch, bool timer_tick) {
  const absl::Time now = clock_.Now();
  // Accounts as this batch leaves them; committed state is untouched until the commit.
  std::unordered_map<std::string, v1::Account> staged;
  // Command key -> index in `batch` of the first command with that key in this batch.
  std::unordered_map<std::string, size_t> staged_commands;
  std::vector<kafka::Record> records;
  std::vector<v1::EventEnvelope> events_of_batch;
  // Per command: its events' indexes in `records` (empty = answered already), or the index
  // of the earlier identical command whose reply it shares.
  std::vector<std::vector<size_t>> record_indexes(batch.size());
  std::vector<std::optional<size_t>> same_as(batch.size());
  std::vector<std::optional<Error>> refusals(batch.size());  // blocked: answered after the commit
  std::set<std::string> caught_up;  // accounts whose time-driven events are staged
  int64_t clock_events = 0;

  auto state_of = [&](const std::string& account_id) -> const v1::Account* {
    if (auto it = staged.find(account_id); it != staged.end()) return &it->second;
    if (auto it = accounts_.find(account_id); it != accounts_.end()) return &it->second;
    return nullptr;
  };
  // Numbers, stamps, chains and stages `events` for `account_id`; returns their record indexes.
  auto stage = [&](const std::string& account_id, std::vector<v1::EventEnvelope>& events,
                   const std::string& command_id, const v1::Actor& actor,
                   const std::string& correlation_id, absl::Time occurred_at,
                   const std::string& fingerprint) {
    const v1::Account* state = state_of(account_id);
    v1::Account next = state == nullptr ? v1::Account() : *state;
    std::vector<size_t> indexes;
    std::vector<std::string> run_hashes;
    for (size_t k = 0; k < events.size(); ++k) {
      v1::EventEnvelope& e = events[k];
      e.set_event_id(NewUuid());
      e.set_account_id(account_id);
      e.set_sequence(next.version() + 1);
      e.set_command_id(command_id);
      *e.mutable_actor() = actor;
      e.set_correlation_id(correlation_id);
      if (!e.has_occurred_at()) *e.mutable_occurred_at() = ToProto(occurred_at);
      *e.mutable_recorded_at() = ToProto(now);
      e.set_policy_version(options_.policy.version());
      e.set_command_fingerprint(fingerprint);
      e.set_command_event_count(static_cast<int32_t>(events.size()));
      e.set_command_event_index(static_cast<int32_t>(k));
      e.set_prev_hash(next.last_hash());
      e.set_hash(ChainHash(e));
      run_hashes.push_back(e.hash());
      if (k + 1 == events.size() && options_.signing_key != nullptr) {
        // The command's last event carries the signature over all of its events' hashes.
        authz::SignLast(*options_.signing_key, run_hashes, &e);
      }
      Evolve(next, e);
      indexes.push_back(records.size());
      records.push_back(ToRecord(e, options_.source));
      events_of_batch.push_back(std::move(e));
    }
    staged[account_id] = std::move(next);
    return indexes;
  };
  // Stages the time-driven events due on the account before anything else touches it.
  v1::Actor clock_actor;
  clock_actor.set_id("collections-writer");
  clock_actor.set_kind(v1::ACTOR_KIND_SERVICE);
  clock_actor.set_role("system");
  auto catch_up = [&](const std::string& account_id) {
    if (!caught_up.insert(account_id).second) return;
    const v1::Account* state = state_of(account_id);
    if (state == nullptr) return;
    auto events = DecideTime(*state, now, options_.domain);
    if (events.empty()) return;
    std::string command_id = absl::StrCat("clock:", state->version() + 1);
    stage(account_id, events, command_id, clock_actor, "", now, "");
    clock_events += static_cast<int64_t>(events.size());
  };

  bool tick_requested = timer_tick;
  for (const auto& p : batch) tick_requested = tick_requested || p.tick;
  if (tick_requested) {
    std::vector<std::string> due_accounts;
    for (auto it = due_.begin(); it != due_.end() && it->first <= now; ++it)
      due_accounts.push_back(it->second);
    for (const auto& id : due_accounts) catch_up(id);
  }

  for (size_t i = 0; i < batch.size(); ++i) {
    Pending& p = batch[i];
    if (p.tick) continue;
    const std::string& account_id = AccountId(p.command);
    p.key = CommandKey(account_id, CommandId(p.command));
    p.fingerprint = FingerprintOf(p.command);
    if (auto e = ValidateRequest(p.command)) {
      p.done.set_value(*e);
      continue;
    }
    auto reused = [&](const std::string& fingerprint) -> bool {
      if (fingerprint == p.fingerprint) return false;
      p.done.set_value(Error{Errc::kAlreadyExists, "COMMAND_ID_REUSED",
                             "command_id " + CommandId(p.command) +
                                 " was already used on account " + account_id +
                                 " for a different request; use a new command_id",
                             "command_id", CommandId(p.command)});
      return true;
    };
    if (auto it = commands_.find(p.key); !p.dry_run && it != commands_.end()) {
      if (reused(it->second.fingerprint)) continue;
      if (it->second.refusal) {
        p.done.set_value(*it->second.refusal);
        continue;
      }
      v1::CommandReply reply = it->second.reply;
      reply.set_deduplicated(true);
      p.done.set_value(std::move(reply));
      continue;
    }
    if (auto it = staged_commands.find(p.key); !p.dry_run && it != staged_commands.end()) {
      if (reused(batch[it->second].fingerprint)) continue;
      same_as[i] = it->second;
      continue;
    }

    catch_up(account_id);
    const v1::Account* state = state_of(account_id);
    const int64_t version = state == nullptr ? 0 : state->version();
    if (auto expected = ExpectedVersion(p.command); expected && *expected != version) {
      p.done.set_value(Error{
          Errc::kAborted, "VERSION_MISMATCH",
          absl::StrCat("account ", account_id, " is at version ", version,
                       ", the command expected ", *expected, "; read the account and decide again"),
          "expected_version", account_id});
      continue;
    }
    if (state != nullptr && state->has_quarantine()) {
      p.done.set_value(Error{
          Errc::kFailedPrecondition, "ACCOUNT_QUARANTINED",
          absl::StrCat("account ", account_id, " is quarantined: its log holds an event that is not "
                       "the service's (sequence ", state->quarantine().sequence(), ", ",
                       state->quarantine().reason(), "); nothing is appended until it is resolved"),
          "", account_id});
      continue;
    }
    auto decided = Decide(state, p.command, now, options_.domain);
    if (!decided && !p.dry_run && IsRecordedDenial(decided.error())) {
      // A refused privileged action is itself recorded (AccessDenied), like a compliance block.
      std::vector<v1::EventEnvelope> denied{AccessDeniedEvent(decided.error(), p.command)};
      refusals[i] = decided.error();
      record_indexes[i] = stage(account_id, denied, CommandId(p.command), CommandActor(p.command),
                                CorrelationId(p.command), OccurredAt(p.command, now),
                                p.fingerprint);
      staged_commands[p.key] = i;
      continue;
    }
    if (!decided) {
      p.done.set_value(decided.error());
      continue;
    }
    // Compliance: every rule judged before anything is appended.
    GateDecision gate;
    if (state != nullptr)
      gate = Gate(*state, p.command, OccurredAt(p.command, now), options_.policy);
    if (p.dry_run) {
      v1::CommandReply reply;
      reply.set_account_id(account_id);
      reply.set_version(version);
      *reply.mutable_decision() = gate.record;
      p.done.set_value(std::move(reply));
      continue;
    }
    std::vector<v1::EventEnvelope> events;
    if (gate.blocked) {
      // Only the refusal is recorded: what was attempted, by whom, which rule and what it counted.
      v1::EventEnvelope blocked;
      auto* b = blocked.mutable_contact_blocked();
      b->set_command(CommandName(p.command));
      b->set_command_type(
          std::visit([](const auto& r) { return r.GetDescriptor()->full_name(); }, p.command));
      b->set_command_request(
          std::visit([](const auto& r) { return CanonicalBytes(r); }, p.command));
      events.push_back(std::move(blocked));
      refusals[i] = BlockedError(account_id, gate.record);
    } else {
      events = std::move(decided.value());
    }
    if (gate.evaluated) {
      for (auto& e : events) *e.mutable_decision() = gate.record;
    }
    record_indexes[i] = stage(account_id, events, CommandId(p.command), CommandActor(p.command),
                              CorrelationId(p.command), OccurredAt(p.command, now), p.fingerprint);
    staged_commands[p.key] = i;
  }

  auto finish_ticks = [&](Result<int64_t> outcome) {
    for (auto& p : batch) {
      if (p.tick) p.tick_done.set_value(outcome);
    }
  };
  if (records.empty()) {
    finish_ticks(int64_t{0});
    return;
  }
  const absl::Time append_started = absl::Now();
  auto offsets = producer_->Append(partition_, records);
  Log(LogLevel::kDebug, "writer[" + std::to_string(partition_) + "]",
      absl::StrCat("batch of ", batch.size(), " commands, ", records.size(),
                   " events, appended in ", absl::FormatDuration(absl::Now() - append_started)));
  if (!offsets) {
    LogError(absl::StrCat("writer[", partition_, "]"), "append of ", records.size(),
             " events failed: ", offsets.error().message);
    Error e{Errc::kUnavailable,
            "APPEND_FAILED",
            "the event log did not accept the command (" + offsets.error().message +
                "); nothing was recorded, retry with the same command_id",
            {},
            {}};
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!batch[i].tick && (!record_indexes[i].empty() || same_as[i])) batch[i].done.set_value(e);
    }
    finish_ticks(e);
    return;
  }
  // Committed: only now does the writer's state move and do callers hear OK.
  for (size_t r = 0; r < events_of_batch.size(); ++r) {
    ApplyCommitted(events_of_batch[r], offsets.value()[r]);
  }
  for (const auto& [account_id, ignored] : staged) ScheduleDue(accounts_.at(account_id));
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].tick) continue;
    size_t source = same_as[i] ? *same_as[i] : i;
    if (record_indexes[source].empty()) continue;
    if (refusals[source]) {
      batch[i].done.set_value(*refusals[source]);
      continue;
    }
    v1::CommandReply reply = commands_.at(batch[source].key).reply;
    reply.set_deduplicated(same_as[i].has_value());
    batch[i].done.set_value(std::move(reply));
  }
  finish_ticks(clock_events);
}

CommandRouter::CommandRouter(kafka::LogOptions log, WriterOptions options, const Clock& clock)
    : log_(std::move(log)), options_(std::move(options)), clock_(clock) {}

CommandRouter::~CommandRouter() { Stop(); }

Status CommandRouter::Start() {
  auto partitions = kafka::EnsureTopic(log_);
  if (!partitions) return partitions.error();
  LogInfo("router", "topic ", log_.topic, " has ", partitions.value(), " partitions");
  for (int32_t p = 0; p < partitions.value(); ++p) {
    writers_.push_back(std::make_unique<PartitionWriter>(log_, options_, p, clock_));
  }
  std::vector<std::future<Status>> started;
  for (auto& w : writers_) {
    started.push_back(std::async(std::launch::async, [&w] { return w->Start(); }));
  }
  Status first_error;
  for (auto& f : started) {
    Status s = f.get();
    if (s && !first_error) first_error = s;
  }
  return first_error;
}

void CommandRouter::Stop() {
  for (auto& w : writers_) w->Stop();
}

Result<int64_t> CommandRouter::Tick() {
  int64_t appended = 0;
  for (auto& w : writers_) {
    auto n = w->Tick();
    if (!n) return n.error();
    appended += n.value();
  }
  return appended;
}

int64_t CommandRouter::restored_events() const {
  int64_t n = 0;
  for (const auto& w : writers_) n += w->restored_events();
  return n;
}

Result<v1::CommandReply> CommandRouter::Execute(Command command, absl::Time deadline,
                                                bool dry_run) {
  if (auto e = ValidateRequest(command)) return *e;
  int32_t p = kafka::PartitionFor(AccountId(command), partitions());
  auto future = writers_[p]->Submit(std::move(command), dry_run);
  auto wait = std::chrono::nanoseconds(absl::ToInt64Nanoseconds(deadline - absl::Now()));
  if (future.wait_for(wait) != std::future_status::ready) {
    return Error{Errc::kDeadlineExceeded,
                 "DEADLINE_EXCEEDED",
                 "the command was not committed before the call deadline; it may still be. Retry "
                 "with the same command_id to learn the outcome",
                 {},
                 {}};
  }
  return future.get();
}

}  // namespace collections
