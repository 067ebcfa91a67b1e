#pragma once

#include "services/domain/error.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace collections::kafka {

// Where the log is. Defaults suit the local single-node broker of deploy/kafka.
struct LogOptions {
  std::string bootstrap = "127.0.0.1:19092";
  std::string topic = "collections.case-events.v1";
  // Used only when the topic does not exist yet. 4 partitions: enough to spread accounts over
  // writers on 2 cores, few enough to restore quickly.
  int partitions = 4;
  // 1 for the local broker; 3 in production (with min.insync.replicas=2).
  int replication_factor = 1;
  // Extra librdkafka properties applied to every client, e.g. {"debug", "eos"}.
  std::map<std::string, std::string> extra;
};

// Java-compatible default partitioner: murmur2(key) & 0x7fffffff % partitions, so consumers in
// any language find an account where Java's client would put it.
int32_t PartitionFor(std::string_view key, int32_t partitions);
int32_t Murmur2(std::string_view data);

// Creates the topic if it is missing (retention forever, delete policy). Returns the number of
// partitions it has, or kUnavailable with the broker's message.
Result<int32_t> EnsureTopic(const LogOptions& options);

// One record to append.
struct Record {
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t timestamp_ms = 0;
};

// One record read back.
struct ConsumedRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Appends batches of records to one partition, each batch in one Kafka transaction.
// `transactional.id` fences older producers with the same id: after Init() succeeds, any
// zombie owner of the partition can no longer commit.
// Not thread-safe: owned and used by one partition writer thread.
class TransactionalProducer {
 public:
  virtual ~TransactionalProducer() = default;

  // Connects and calls init_transactions (which also aborts a transaction a previous owner
  // left open). Returns kUnavailable on failure.
  virtual Status Init(int timeout_ms) = 0;

  // Appends `records` to `partition` in one transaction and commits. Returns each record's
  // offset, only after the commit succeeded. On failure nothing of the batch is visible to
  // read_committed consumers; `fatal()` then says whether the producer may be used again.
  virtual Result<std::vector<int64_t>> Append(int32_t partition,
                                              const std::vector<Record>& records) = 0;

  // True after a fatal error (fenced by a newer owner, or unknown state): stop using it.
  virtual bool fatal() const = 0;

  static Result<std::unique_ptr<TransactionalProducer>> Create(const LogOptions& options,
                                                               const std::string& transactional_id);
};

// Reads partitions of the topic with isolation.level=read_committed from given offsets.
// Not thread-safe: owned by one thread.
class LogReader {
 public:
  virtual ~LogReader() = default;

  // Starts reading `partition` at `offset` (0 = from the beginning).
  virtual Status Assign(const std::map<int32_t, int64_t>& start_offsets) = 0;

  // Returns up to `max_records` committed records, waiting at most `timeout_ms` for the first.
  // `reached_end` gets the partitions that hit the current end of the log in this call.
  virtual Result<std::vector<ConsumedRecord>> Poll(int max_records, int timeout_ms,
                                                   std::vector<int32_t>* reached_end) = 0;

  // Current high watermark of a partition (for progress and lag).
  virtual Result<int64_t> HighWatermark(int32_t partition, int timeout_ms) = 0;

  static Result<std::unique_ptr<LogReader>> Create(const LogOptions& options,
                                                   const std::string& client_id);
};

}  // namespace collections::kafka
