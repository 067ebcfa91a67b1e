#include "services/bench/history_fill.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <map>

namespace collections::bench {

google::protobuf::Timestamp Ts(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

Status FillTopic(const kafka::LogOptions& log, int32_t partitions, const std::string& run,
                 int64_t from, int64_t to, int events, const HistoryOf& history) {
  auto producer = kafka::TransactionalProducer::Create(log, absl::StrCat(run, "-filler-", from));
  if (!producer) return producer.error();
  if (auto e = producer.value()->Init(30000)) return e;
  std::map<int32_t, std::vector<kafka::Record>> pending;
  auto flush = [&](int32_t p) -> Status {
    auto& records = pending[p];
    if (records.empty()) return std::nullopt;
    auto result = producer.value()->Append(p, records);
    if (result.outcome != kafka::AppendResult::Outcome::kCommitted) {
      return Error{Errc::kUnavailable, "FILL_FAILED", result.message, {}, {}};
    }
    records.clear();
    return std::nullopt;
  };
  constexpr int64_t kSlice = 500;
  for (int64_t first = from; first < to; first += kSlice) {
    const int64_t last = std::min(to, first + kSlice);
    std::vector<std::vector<v1::EventEnvelope>> histories;
    for (int64_t n = first; n < last; ++n) {
      histories.push_back(history(absl::StrCat(run, "-", n), events));
    }
    for (int i = 0; i < events; ++i) {
      for (auto& h : histories) {
        if (i >= static_cast<int>(h.size())) continue;
        const v1::EventEnvelope& e = h[i];
        const int32_t p = kafka::PartitionFor(e.account_id(), partitions);
        pending[p].push_back({e.account_id(), e.SerializeAsString(), {}, 0});
        if (pending[p].size() >= 2000) {
          if (auto error = flush(p)) return error;
        }
      }
    }
  }
  for (int32_t p = 0; p < partitions; ++p) {
    if (auto e = flush(p)) return e;
  }
  return std::nullopt;
}

}  // namespace collections::bench
