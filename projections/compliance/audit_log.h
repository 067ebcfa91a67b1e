#pragma once

#include "projections/compliance/audit.h"
#include "services/domain/error.h"
#include "services/kafka/kafka.h"

#include "absl/time/time.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace collections::compliance {

// Reads the event topic for the audit: every committed record (read_committed, the same
// isolation the projector uses) of the chosen partitions, from offset 0 to the end of the log
// as it was when the read started. Reads the log itself, never the projection, so a
// projection bug cannot hide a tampered or missing event.
//
// Lifetime: holds only options; each read opens its own short-lived kafka::LogReader.
// Threading: thread-safe (reads share nothing), so one instance serves concurrent gRPC calls.
class AuditLog {
 public:
  // `partitions` is the topic's partition count (as the writer created it); it decides which
  // partition holds an account (kafka::PartitionFor).
  AuditLog(kafka::LogOptions log, int32_t partitions);

  int32_t partitions() const { return partitions_; }
  const kafka::LogOptions& log() const { return log_; }

  // Called every few seconds during a read with (records read, records to go).
  using Progress = std::function<void(int64_t, int64_t)>;

  // Called with each record of a scan, in log order; return false to stop the scan early
  // (the client went away, a page is full). The record may be moved from.
  using Visitor = std::function<bool(LoggedRecord&)>;

  // Streams every record of `partitions` up to their log end as it was when the scan started,
  // partition by partition, each in offset order, holding at most one poll's records (a few
  // hundred) at a time: memory does not grow with the log. Returns kDeadlineExceeded if
  // `deadline` passes first, kUnavailable if the broker fails, kInvalidArgument for a
  // partition outside [0, partitions()). Stopping early through the visitor is success.
  Status Scan(const std::vector<int32_t>& partitions, absl::Time deadline, const Visitor& visit,
              const Progress& progress = nullptr) const;

  // Scan of the partition that holds `account_id`, visiting only that account's records
  // (by envelope account id, or by key for a record that no longer parses).
  Status ScanAccount(const std::string& account_id, absl::Time deadline,
                     const Visitor& visit) const;

  // Every record of `partitions` up to their log end, in partition then offset order.
  // Collects a whole Scan in memory: for tests and small topics, not for the service.
  // Returns kDeadlineExceeded if `deadline` passes first, kUnavailable if the broker fails,
  // kInvalidArgument for a partition outside [0, partitions()).
  Result<std::vector<LoggedRecord>> ReadPartitions(const std::vector<int32_t>& partitions,
                                                   absl::Time deadline,
                                                   const Progress& progress = nullptr) const;

  // The records of one account (read from its partition only), in log order. An account
  // with no records gives an empty list. Collects in memory, like ReadPartitions.
  Result<std::vector<LoggedRecord>> ReadAccount(const std::string& account_id,
                                                absl::Time deadline) const;

  // Every record of the topic grouped by account. Collects in memory, like ReadPartitions.
  Result<RecordsByAccount> ReadAll(absl::Time deadline, const Progress& progress = nullptr) const;

  // The end of what has been written to `partition` (its high watermark), asked of the broker
  // now. Reads that must hold every command acknowledged before they started read up to it:
  // the last stable offset a read_committed reader is told stays below a committed
  // transaction until its coordinator has written the markers, a moment after the writer
  // answered. Thread-safe; one client for every call.
  Result<int64_t> WrittenEnd(int32_t partition) const;

 private:
  const kafka::LogOptions log_;
  const int32_t partitions_;
  mutable std::mutex end_mutex_;
  mutable std::unique_ptr<kafka::LogReader> end_reader_;  // guarded by end_mutex_
};

}  // namespace collections::compliance
