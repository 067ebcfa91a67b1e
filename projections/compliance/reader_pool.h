#pragma once

#include "services/domain/error.h"
#include "services/kafka/kafka.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace collections::compliance {

// A small pool of ready log readers (librdkafka consumers), so a call that reads a few records
// back from the log does not pay for a new client each time: its connection to the broker, the
// topic's metadata and its fetch threads stay warm between calls.
//
// A reader is checked out for one call and goes back to the pool only when the call says it is
// still good (Lease::Keep): a reader that saw an error, or a call that gave up half-way, is
// destroyed instead, so the next call never meets a client in an unknown state. A reader going
// back is first left without partitions, so an idle reader fetches nothing. At most `max_idle`
// readers wait in the pool; when every one is out (more concurrent calls than that), Checkout
// makes another, which is kept afterwards only while the pool has room. How many calls read at
// once is bounded by the caller (the service's log-read admission).
//
// The readers are made for short reads at given offsets (see Create): they prefetch little and
// the broker answers a fetch at the end of the log quickly.
//
// Lifetime: borrows nothing (the options are copied); leases must not outlive the pool.
// Threading: thread-safe; each leased reader is used by one thread at a time.
class ReaderPool {
 public:
  ReaderPool(kafka::LogOptions options, std::string name, size_t max_idle);
  ~ReaderPool();
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;

  // One checked-out reader. Destroyed without Keep(), it destroys the reader.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    kafka::LogReader* operator->() const { return reader_.get(); }
    kafka::LogReader& operator*() const { return *reader_; }
    // The call finished with the reader in a known state: it may serve the next call.
    void Keep() { keep_ = true; }

   private:
    friend class ReaderPool;
    Lease(ReaderPool* pool, std::unique_ptr<kafka::LogReader> reader)
        : pool_(pool), reader_(std::move(reader)) {}
    ReaderPool* pool_;
    std::unique_ptr<kafka::LogReader> reader_;
    bool keep_ = false;
  };

  // An idle reader, or a new one when none is idle. Fails only when a client cannot be made
  // (bad configuration): kInvalidArgument or kUnavailable from kafka::LogReader::Create.
  Result<Lease> Checkout();

  // Readers made so far, and readers idle now (for tests and diagnostics).
  int64_t created() const { return created_.load(); }
  size_t idle() const;

 private:
  void Return(std::unique_ptr<kafka::LogReader> reader);

  kafka::LogOptions options_;
  const std::string name_;
  const size_t max_idle_;
  std::atomic<int64_t> created_{0};
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<kafka::LogReader>> idle_;  // guarded by mutex_
};

}  // namespace collections::compliance
