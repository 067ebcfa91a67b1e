#include "projections/compliance/account_index.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <vector>

namespace collections::compliance {
namespace {

Error IndexBehind(const std::string& why) {
  Error error;
  error.code = Errc::kUnavailable;
  error.reason = "INDEX_BEHIND";
  error.message = why;
  return error;
}

// Offsets closer than this are read in one pass rather than by seeking again: reading a few
// hundred small records costs less than another fetch round trip.
constexpr int64_t kRunGap = 256;

// Readers kept warm for verification between calls: as many as the service lets read the log at
// once by default (Admission's max_log_reads), so calls that overlap up to that limit never make
// a new one; an idle reader costs a connection and a few client threads.
constexpr size_t kIdleReaders = 8;

// The verification readers' settings, unless the deployment set its own. A fetch the broker
// holds at the end of the log (fetch.wait.max.ms) delays the next fetch on that connection, which
// may be the next call's first, so it is held briefly; and a reader that kept a backoff from a
// fetch error (fetch.error.backoff.ms, 500 ms by default) would hand it to the next call. The
// local queue (queued.min.messages) stays at librdkafka's default on purpose: 2.0.2 stops
// fetching a partition for a whole second once its queue reaches that size, which a small value
// would hit in the middle of a run; prefetching ends instead when the reader goes back to the
// pool without partitions.
kafka::LogOptions ReadBackOptions(kafka::LogOptions options) {
  options.extra.emplace("fetch.wait.max.ms", "5");
  options.extra.emplace("fetch.error.backoff.ms", "10");
  return options;
}

}  // namespace

AccountIndex::AccountIndex(const AuditLog& log, const ProjectionStore& store, Projector& projector)
    : log_(log),
      store_(store),
      projector_(projector),
      readers_(std::make_unique<ReaderPool>(ReadBackOptions(log.log()), "audit-verify",
                                            kIdleReaders)) {}

AccountIndex::~AccountIndex() = default;

Result<std::pair<int32_t, int64_t>> AccountIndex::CoveredEnd(const std::string& account_id,
                                                            absl::Time deadline) const {
  const int32_t partition = kafka::PartitionFor(account_id, log_.partitions());
  if (!projector_.caught_up()) {
    return IndexBehind("the account projection is still rebuilding");
  }
  // Everything written to the partition, so a command acknowledged before this call is in the
  // trail: the projection covers it once its transaction's markers are written.
  auto written = log_.WrittenEnd(partition);
  if (!written) return written.error();
  const int64_t end = written.value();
  if (!projector_.WaitForCoverage(partition, end, std::min(deadline, absl::Now() + max_wait_))) {
    return IndexBehind(absl::StrCat("the account projection has not covered partition ", partition,
                                    " up to offset ", end, " in time"));
  }
  return std::make_pair(partition, end);
}

Status AccountIndex::ScanAccount(const std::string& account_id, absl::Time deadline, int64_t skip,
                                 int64_t* skipped, const AuditLog::Visitor& visit) const {
  *skipped = 0;
  auto covered = CoveredEnd(account_id, deadline);
  if (!covered) return covered.error();
  const auto [partition, end] = covered.value();
  LoggedRecord record;
  return store_.ScanAccountLog(account_id, partition, end,
                               [&](ProjectionStore::AccountLogRecord& row) {
                                 if (*skipped < skip) {
                                   ++*skipped;
                                   return true;
                                 }
                                 record = DecodeRecord(row.partition, row.offset,
                                                       std::move(row.key), row.value);
                                 return visit(record);
                               });
}

Status AccountIndex::ScanAccountFromLog(const std::string& account_id, absl::Time deadline,
                                        const AuditLog::Visitor& visit) const {
  auto covered = CoveredEnd(account_id, deadline);
  if (!covered) return covered.error();
  const auto [partition, end] = covered.value();
  std::vector<int64_t> offsets;
  auto status = store_.ScanAccountLog(account_id, partition, end,
                                      [&](ProjectionStore::AccountLogRecord& row) {
                                        offsets.push_back(row.offset);
                                        return true;
                                      });
  if (status) return status;
  if (offsets.empty()) return std::nullopt;
  // A warm reader from the pool: a new client would first connect and fetch the topic's
  // metadata, which costs more than the reads themselves. It goes back only if the call ends
  // cleanly (reader.Keep()); after an error or a timeout it is destroyed.
  auto checked_out = readers_->Checkout();
  if (!checked_out) return checked_out.error();
  ReaderPool::Lease reader = std::move(checked_out).value();
  LoggedRecord record;
  size_t i = 0;
  while (i < offsets.size()) {
    // One run: offsets[i .. j) lie close together and are read in one pass.
    size_t j = i + 1;
    while (j < offsets.size() && offsets[j] - offsets[j - 1] <= kRunGap) ++j;
    const int64_t first = offsets[i];
    const int64_t last = offsets[j - 1];
    if (auto e = reader->Assign({{partition, first}})) return *e;
    size_t next = i;  // the next indexed offset of this run still to meet
    bool done = false;
    while (!done) {
      std::vector<int32_t> at_end;
      auto records = reader->Poll(500, 1000, &at_end);
      if (!records) return records.error();
      for (auto& r : records.value()) {
        if (r.partition != partition || r.offset < first || r.offset > last) continue;
        while (next < j && offsets[next] < r.offset) ++next;  // gone from the log
        if (next < j && offsets[next] == r.offset) {
          record = DecodeRecord(r.partition, r.offset, std::move(r.key), r.value);
          // A record that now names another account is that account's, as in a scan.
          if (AccountOf(record) == account_id && !visit(record)) {
            reader.Keep();
            return std::nullopt;
          }
          ++next;
        }
        if (r.offset >= last) done = true;
      }
      if (std::find(at_end.begin(), at_end.end(), partition) != at_end.end()) done = true;
      if (!done && absl::Now() > deadline) {
        Error timeout;
        timeout.code = Errc::kDeadlineExceeded;
        timeout.reason = "AUDIT_READ_TIMEOUT";
        timeout.message = absl::StrCat("could not read back the records of ", account_id,
                                       " from the log before the deadline");
        timeout.subject = account_id;
        return timeout;
      }
    }
    i = j;
  }
  reader.Keep();
  return std::nullopt;
}

}  // namespace collections::compliance
