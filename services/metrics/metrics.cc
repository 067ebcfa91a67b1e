#include "services/metrics/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace collections::metrics {
namespace {

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.0f", v);
    return buffer;
  }
  // The shortest text that reads back as the same double (0.1, not 0.10000000000000001).
  char buffer[32];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, v);
    if (std::strtod(buffer, nullptr) == v) break;
  }
  return buffer;
}

void AppendEscaped(std::string& out, const std::string& text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// {a="x",b="y"} with an optional extra label (le for histogram buckets); "" without labels.
std::string Labels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                   const std::string& extra_name = "", const std::string& extra_value = "") {
  if (names.empty() && extra_name.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i] + "=\"";
    AppendEscaped(out, values[i], true);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name + "=\"" + extra_value + "\"";
  }
  return out + "}";
}

void Header(std::string& out, const std::string& name, const std::string& help,
            const char* type) {
  out += "# HELP " + name + " ";
  AppendEscaped(out, help, false);
  out += "\n# TYPE " + name + " " + type + "\n";
}

// Reads "Key:   value kB" lines of /proc/self/status.
double StatusField(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::istringstream fields(line.substr(key.size() + 1));
    double value = 0;
    std::string unit;
    fields >> value >> unit;
    return unit == "kB" ? value * 1024 : value;
  }
  return 0;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double value) {
  const size_t bucket =
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  // The +Inf bucket must equal _count; both are read without a lock, so take the buckets'.
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> SizeBuckets() { return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}; }

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  auto& slot = counters_[name];
  if (!slot) {
    slot = std::make_unique<Family<Counter>>(name, help, std::move(label_names),
                                             [] { return std::make_unique<Counter>(); });
  }
  return *slot;
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  auto& slot = gauges_[name];
  if (!slot) {
    slot = std::make_unique<Family<Gauge>>(name, help, std::move(label_names),
                                           [] { return std::make_unique<Gauge>(); });
  }
  return *slot;
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  auto& slot = histograms_[name];
  if (!slot) {
    slot = std::make_unique<Family<Histogram>>(
        name, help, std::move(label_names),
        [bounds] { return std::make_unique<Histogram>(bounds); });
  }
  return *slot;
}

void Registry::AddCollectHook(std::function<void()> hook) {
  std::lock_guard lock(mutex_);
  hooks_.push_back(std::move(hook));
}

std::string Registry::Render() const {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lock(mutex_);
    hooks = hooks_;
  }
  for (const auto& hook : hooks) hook();

  std::lock_guard lock(mutex_);
  // name -> text, so the output is sorted across kinds.
  std::map<std::string, std::string> blocks;
  for (const auto& [name, family] : counters_) {
    std::string& out = blocks[name];
    Header(out, name, family->help(), "counter");
    family->ForEach([&](const std::vector<std::string>& values, const Counter& c) {
      out += name + Labels(family->label_names(), values) + " " + FormatValue(c.value()) + "\n";
    });
  }
  for (const auto& [name, family] : gauges_) {
    std::string& out = blocks[name];
    Header(out, name, family->help(), "gauge");
    family->ForEach([&](const std::vector<std::string>& values, const Gauge& g) {
      out += name + Labels(family->label_names(), values) + " " + FormatValue(g.value()) + "\n";
    });
  }
  for (const auto& [name, family] : histograms_) {
    std::string& out = blocks[name];
    Header(out, name, family->help(), "histogram");
    family->ForEach([&](const std::vector<std::string>& values, const Histogram& h) {
      const Histogram::Snapshot s = h.snapshot();
      for (size_t i = 0; i <= s.bounds.size(); ++i) {
        const std::string le = i < s.bounds.size() ? FormatValue(s.bounds[i]) : "+Inf";
        out += name + "_bucket" + Labels(family->label_names(), values, "le", le) + " " +
               FormatValue(static_cast<double>(s.cumulative[i])) + "\n";
      }
      const std::string labels = Labels(family->label_names(), values);
      out += name + "_sum" + labels + " " + FormatValue(s.sum) + "\n";
      out += name + "_count" + labels + " " + FormatValue(static_cast<double>(s.count)) + "\n";
    });
  }
  std::string text;
  for (const auto& [name, block] : blocks) text += block;
  return text;
}

void AddProcessMetrics(Registry& registry) {
  auto& rss = registry.AddGauge("process_resident_memory_bytes", "Resident memory size in bytes.")
                  .Get();
  auto& vms =
      registry.AddGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.").Get();
  auto& threads = registry.AddGauge("process_threads", "Threads in the process.").Get();
  auto& fds = registry.AddGauge("process_open_fds", "Open file descriptors.").Get();
  auto& cpu = registry.AddCounter("process_cpu_seconds_total",
                                  "User and system CPU time spent in seconds.")
                  .Get();
  auto& start = registry.AddGauge("process_start_time_seconds",
                                  "Start time of the process since the Unix epoch in seconds.")
                    .Get();
  registry.AddCollectHook([&rss, &vms, &threads, &fds, &cpu, &start] {
    rss.Set(StatusField("VmRSS"));
    vms.Set(StatusField("VmSize"));
    threads.Set(StatusField("Threads"));
    int open = 0;
    if (DIR* dir = opendir("/proc/self/fd")) {
      while (dirent* entry = readdir(dir)) {
        if (entry->d_name[0] != '.') ++open;
      }
      closedir(dir);
    }
    fds.Set(open - 1);  // not counting the descriptor of the listing itself
    // /proc/self/stat: fields 14 and 15 are utime and stime, 22 the start time, in ticks.
    std::ifstream in("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t close = stat.rfind(')');  // the command name may contain spaces
    if (close == std::string::npos) return;
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> f;
    for (std::string s; fields >> s;) f.push_back(s);
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    if (f.size() > 19) {  // f[0] is field 3 (state)
      cpu.Set((std::stod(f[11]) + std::stod(f[12])) / ticks);
      double boot = 0;
      std::ifstream proc_stat("/proc/stat");
      for (std::string line; std::getline(proc_stat, line);) {
        if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
      }
      start.Set(boot + std::stod(f[19]) / ticks);
    }
  });
}

}  // namespace collections::metrics
