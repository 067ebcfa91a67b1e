#include "projections/compliance/reader_pool.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

#include <utility>

namespace collections::compliance {

ReaderPool::ReaderPool(kafka::LogOptions options, std::string name, size_t max_idle)
    : options_(std::move(options)), name_(std::move(name)), max_idle_(max_idle) {}

ReaderPool::~ReaderPool() = default;

ReaderPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), reader_(std::move(other.reader_)), keep_(other.keep_) {}

ReaderPool::Lease::~Lease() {
  if (reader_ && keep_) pool_->Return(std::move(reader_));
  // Otherwise the reader is destroyed here: it may hold an assignment, records or an error of
  // the call that gave it up.
}

Result<ReaderPool::Lease> ReaderPool::Checkout() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<kafka::LogReader> reader = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(reader));
    }
  }
  // A unique client id per reader: the broker's logs and quotas tell them apart.
  const int64_t n = created_.fetch_add(1);
  auto reader = kafka::LogReader::Create(
      options_, absl::StrCat(options_.topic, "-", name_, "-", absl::ToUnixMicros(absl::Now()),
                             "-", n));
  if (!reader) {
    created_.fetch_sub(1);
    return reader.error();
  }
  return Lease(this, std::move(reader.value()));
}

size_t ReaderPool::idle() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

void ReaderPool::Return(std::unique_ptr<kafka::LogReader> reader) {
  // No partitions while idle: nothing is fetched for nobody, and the next call's assignment
  // starts from a clean one. A reader that cannot let go of its partitions is not reused.
  if (reader->Assign({})) return;
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(reader));
  // Otherwise the pool is full (a burst of concurrent calls): the reader is destroyed on return.
}

}  // namespace collections::compliance
