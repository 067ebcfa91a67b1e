#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace collections::metrics {

// Metrics in the Prometheus data model, written out in the text exposition format 0.0.4.
//
// A Registry owns families (one metric name, one help text, fixed label names); a family owns
// one child per distinct label-value tuple, created on first use and kept for the life of the
// registry, so a pointer or reference to a child stays valid and can be cached on a hot path.
// Names follow Prometheus conventions: base units (seconds, bytes), counters end in _total.
//
// Threading: every operation is thread-safe. Updating a child is a lock-free atomic;
// WithLabels takes the family's mutex; Render takes each family's mutex in turn and runs the
// collect hooks (on the scraping thread).
// Lifetime: main owns the Registry; it must outlive every component that updates it.

class Counter {
 public:
  void Increment(double amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  // For a total kept elsewhere (librdkafka's, RocksDB's): mirrors it at scrape time.
  void Set(double total) { value_.store(total, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative buckets with upper bounds `bounds` (ascending) and +Inf.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bucket (not cumulative), +Inf last
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// Bucket bounds for latencies from 0.5 ms to 10 s.
std::vector<double> LatencyBuckets();
// Bucket bounds 1, 2, 4, ... 1024 for sizes counted in items.
std::vector<double> SizeBuckets();

template <typename Child>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<Child>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  // The child for these label values (one per label name, in order); created on first use.
  Child& WithLabels(const std::vector<std::string>& values) {
    std::lock_guard lock(mutex_);
    auto& slot = children_[values];
    if (!slot) slot = make_();
    return *slot;
  }
  Child& Get() { return WithLabels({}); }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Calls fn(label values, child) for every child, under the family's lock.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    std::lock_guard lock(mutex_);
    for (const auto& [values, child] : children_) fn(values, *child);
  }

 private:
  const std::string name_, help_;
  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<Child>()> make_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Child>> children_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each returns the family registered under `name`, creating it on first call; a second call
  // with the same name returns the same family (its help and labels must match).
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> bounds);

  // `hook` runs at the start of every Render, to refresh values read from elsewhere (process
  // statistics, RocksDB properties, projector positions). It must outlive the registry's use.
  void AddCollectHook(std::function<void()> hook);

  // The whole registry in the Prometheus text format 0.0.4 (families sorted by name).
  std::string Render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family<Counter>>> counters_;
  std::map<std::string, std::unique_ptr<Family<Gauge>>> gauges_;
  std::map<std::string, std::unique_ptr<Family<Histogram>>> histograms_;
  std::vector<std::function<void()>> hooks_;
};

// The Content-Type of Render's output.
inline constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// Registers process_resident_memory_bytes, process_virtual_memory_bytes, process_threads,
// process_open_fds, process_cpu_seconds_total and process_start_time_seconds, read from
// /proc/self at every scrape.
void AddProcessMetrics(Registry& registry);

}  // namespace collections::metrics
