#include "projections/compliance/audit_log.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include <algorithm>
#include <atomic>
#include <map>

namespace collections::compliance {
namespace {

// Each read is its own consumer; the id only has to be unique so concurrent reads never share
// a librdkafka group (nothing is committed, the group is never joined).
std::string ClientId(const kafka::LogOptions& log) {
  static std::atomic<int64_t> counter{0};
  return absl::StrCat(log.topic, "-audit-", absl::ToUnixMicros(absl::Now()), "-", counter++);
}

// Each scan is its own consumer, and librdkafka prefetches up to queued.max.messages.kbytes
// (64 MB by default) per consumer ahead of what is polled. Scans only move forward at the pace
// the gRPC client reads, so a small prefetch loses nothing and keeps a call's memory small.
kafka::LogOptions ScanOptions(kafka::LogOptions log) {
  log.extra.try_emplace("queued.max.messages.kbytes", "4096");
  return log;
}

}  // namespace

AuditLog::AuditLog(kafka::LogOptions log, int32_t partitions)
    : log_(ScanOptions(std::move(log))), partitions_(partitions) {}

Status AuditLog::Scan(const std::vector<int32_t>& partitions, absl::Time deadline,
                      const Visitor& visit, const Progress& progress) const {
  if (partitions.empty()) return std::nullopt;
  for (int32_t p : partitions) {
    if (p < 0 || p >= partitions_) {
      return Error::InvalidArgument(
          "partition", absl::StrCat("partition ", p, " is not in [0, ", partitions_, ")"));
    }
  }
  auto reader = kafka::LogReader::Create(log_, ClientId(log_));
  if (!reader) return reader.error();
  // The end is fixed when the scan starts: what is appended during a long verification belongs
  // to the next one, and an ever-moving end could keep a busy topic's scan going forever. It is
  // what was written, so every command acknowledged before the scan is in it.
  std::map<int32_t, int64_t> targets;
  for (int32_t p : partitions) {
    auto high = WrittenEnd(p);
    if (!high) return high.error();
    targets[p] = high.value();
  }
  int64_t read = 0;
  std::map<int32_t, int64_t> next;
  for (const auto& [p, high] : targets) next[p] = 0;
  absl::Time next_progress = absl::Now() + absl::Seconds(2);
  LoggedRecord record;
  for (const auto& [p, high] : targets) {
    if (high == 0) continue;
    if (auto e = reader.value()->Assign({{p, 0}})) return *e;
    bool done = false;
    while (!done) {
      std::vector<int32_t> at_end;
      auto records = reader.value()->Poll(200, 1000, &at_end);
      if (!records) return records.error();
      for (auto& r : records.value()) {
        // Records of the partition assigned before, still in flight, and records appended
        // after the scan started are not this partition's part of the scan.
        if (r.partition != p || r.offset >= high) continue;
        next[p] = r.offset + 1;
        ++read;
        record = DecodeRecord(r.partition, r.offset, std::move(r.key), r.value);
        if (!visit(record)) return std::nullopt;
      }
      // Transaction markers occupy offsets, so "next == high" may never happen; an end-of-
      // partition event at or past it says the committed records before it were all delivered
      // (one below it comes at a transaction not settled yet: its records are still to come).
      done = next[p] >= high ||
             (std::find(at_end.begin(), at_end.end(), p) != at_end.end() &&
              reader.value()->EndsReached()[p] >= high);
      if (progress && absl::Now() >= next_progress) {
        int64_t to_go = 0;
        for (const auto& [q, end] : targets) to_go += std::max<int64_t>(0, end - next[q]);
        progress(read, to_go);
        next_progress = absl::Now() + absl::Seconds(2);
      }
      if (!done && absl::Now() > deadline) {
        Error timeout;
        timeout.code = Errc::kDeadlineExceeded;
        timeout.reason = "AUDIT_READ_TIMEOUT";
        timeout.message = absl::StrCat("read ", read,
                                       " records but did not reach the end of the log before "
                                       "the deadline; retry with a longer deadline");
        timeout.subject = log_.topic;
        return timeout;
      }
    }
  }
  return std::nullopt;
}

Result<int64_t> AuditLog::WrittenEnd(int32_t partition) const {
  std::lock_guard lock(end_mutex_);
  if (!end_reader_) {
    // read_uncommitted, so the broker answers the high watermark, not the last stable offset.
    auto reader = kafka::LogReader::Create(log_, ClientId(log_) + "-end", /*read_committed=*/false);
    if (!reader) return reader.error();
    end_reader_ = std::move(reader.value());
  }
  auto high = end_reader_->HighWatermark(partition, 5000);
  if (!high) end_reader_.reset();  // a fresh client next time
  return high;
}

Status AuditLog::ScanAccount(const std::string& account_id, absl::Time deadline,
                             const Visitor& visit) const {
  return Scan({kafka::PartitionFor(account_id, partitions_)}, deadline,
              [&](LoggedRecord& r) {
                // The key counts too: a record whose value no longer parses is still the
                // account's, and the verifier must see it.
                return AccountOf(r) != account_id || visit(r);
              });
}

Result<std::vector<LoggedRecord>> AuditLog::ReadPartitions(const std::vector<int32_t>& partitions,
                                                           absl::Time deadline,
                                                           const Progress& progress) const {
  std::vector<LoggedRecord> out;
  auto status = Scan(
      partitions, deadline,
      [&](LoggedRecord& r) {
        out.push_back(std::move(r));
        return true;
      },
      progress);
  if (status) return *status;
  return out;
}

Result<std::vector<LoggedRecord>> AuditLog::ReadAccount(const std::string& account_id,
                                                        absl::Time deadline) const {
  std::vector<LoggedRecord> mine;
  auto status = ScanAccount(account_id, deadline, [&](LoggedRecord& r) {
    mine.push_back(std::move(r));
    return true;
  });
  if (status) return *status;
  return mine;
}

Result<RecordsByAccount> AuditLog::ReadAll(absl::Time deadline, const Progress& progress) const {
  std::vector<int32_t> all;
  for (int32_t p = 0; p < partitions_; ++p) all.push_back(p);
  auto records = ReadPartitions(all, deadline, progress);
  if (!records) return records.error();
  return GroupByAccount(std::move(records.value()));
}

}  // namespace collections::compliance
