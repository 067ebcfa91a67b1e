#include "projections/compliance/audit_log.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include <atomic>
#include <map>
#include <set>

namespace collections::compliance {
namespace {

// Each read is its own consumer; the id only has to be unique so concurrent reads never share
// a librdkafka group (nothing is committed, the group is never joined).
std::string ClientId(const kafka::LogOptions& log) {
  static std::atomic<int64_t> counter{0};
  return absl::StrCat(log.topic, "-audit-", absl::ToUnixMicros(absl::Now()), "-", counter++);
}

}  // namespace

AuditLog::AuditLog(kafka::LogOptions log, int32_t partitions)
    : log_(std::move(log)), partitions_(partitions) {}

Result<std::vector<LoggedRecord>> AuditLog::ReadPartitions(const std::vector<int32_t>& partitions,
                                                           absl::Time deadline,
                                                           const Progress& progress) const {
  std::vector<LoggedRecord> out;
  if (partitions.empty()) return out;
  std::map<int32_t, int64_t> start;
  for (int32_t p : partitions) {
    if (p < 0 || p >= partitions_) {
      return Error::InvalidArgument(
          "partition", absl::StrCat("partition ", p, " is not in [0, ", partitions_, ")"));
    }
    start[p] = 0;
  }
  auto reader = kafka::LogReader::Create(log_, ClientId(log_));
  if (!reader) return reader.error();
  // The end is fixed when the read starts: what is appended during a long verification belongs
  // to the next one, and an ever-moving end could keep a busy topic's read going forever.
  std::map<int32_t, int64_t> targets;
  for (const auto& [p, offset] : start) {
    auto high = reader.value()->HighWatermark(p, 10000);
    if (!high) return high.error();
    targets[p] = high.value();
  }
  if (auto e = reader.value()->Assign(start)) return *e;

  std::map<int32_t, int64_t> next = start;
  std::set<int32_t> done;
  for (const auto& [p, high] : targets) {
    if (high == 0) done.insert(p);
  }
  absl::Time next_progress = absl::Now() + absl::Seconds(2);
  while (done.size() < start.size()) {
    std::vector<int32_t> at_end;
    auto records = reader.value()->Poll(1000, 200, &at_end);
    if (!records) return records.error();
    for (auto& r : records.value()) {
      if (r.offset >= targets[r.partition]) continue;  // appended after the read started
      next[r.partition] = r.offset + 1;
      out.push_back(DecodeRecord(r.partition, r.offset, std::move(r.key), r.value));
    }
    for (const auto& [p, high] : targets) {
      // Transaction markers occupy offsets, so "next == high" may never happen; the end-of-
      // partition event says the committed records before the end were all delivered.
      if (next[p] >= high) done.insert(p);
    }
    for (int32_t p : at_end) done.insert(p);
    if (progress && absl::Now() >= next_progress) {
      int64_t to_go = 0;
      for (const auto& [p, high] : targets) to_go += std::max<int64_t>(0, high - next[p]);
      progress(static_cast<int64_t>(out.size()), to_go);
      next_progress = absl::Now() + absl::Seconds(2);
    }
    if (done.size() < start.size() && absl::Now() > deadline) {
      Error timeout;
      timeout.code = Errc::kDeadlineExceeded;
      timeout.reason = "AUDIT_READ_TIMEOUT";
      timeout.message = absl::StrCat("read ", out.size(),
                                     " records but did not reach the end of the log before the "
                                     "deadline; retry with a longer deadline");
      timeout.subject = log_.topic;
      return timeout;
    }
  }
  return out;
}

Result<std::vector<LoggedRecord>> AuditLog::ReadAccount(const std::string& account_id,
                                                        absl::Time deadline) const {
  auto records = ReadPartitions({kafka::PartitionFor(account_id, partitions_)}, deadline);
  if (!records) return records.error();
  std::vector<LoggedRecord> mine;
  for (auto& r : records.value()) {
    // The key counts too: a record whose value no longer parses is still the account's, and
    // the verifier must see it.
    if (AccountOf(r) == account_id) mine.push_back(std::move(r));
  }
  return GroupByAccount(std::move(mine))[account_id];
}

Result<RecordsByAccount> AuditLog::ReadAll(absl::Time deadline, const Progress& progress) const {
  std::vector<int32_t> all;
  for (int32_t p = 0; p < partitions_; ++p) all.push_back(p);
  auto records = ReadPartitions(all, deadline, progress);
  if (!records) return records.error();
  return GroupByAccount(std::move(records.value()));
}

}  // namespace collections::compliance
