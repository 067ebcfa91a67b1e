#include "services/bench/history_fill.h"

#include "services/domain/hashing.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <map>

namespace collections::bench {

google::protobuf::Timestamp Ts(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

std::vector<v1::EventEnvelope> ChainedHistory(
    const std::string& account, int events, int64_t spacing_seconds, const std::string& actor,
    int64_t principal_minor, const std::function<void(v1::EventEnvelope&, int)>& body) {
  std::vector<v1::EventEnvelope> out;
  std::string prev;
  const int64_t start = 1735689600;  // 2025-01-01
  for (int i = 1; i <= events; ++i) {
    v1::EventEnvelope e;
    e.set_event_id(absl::StrCat(account, "-e", i));
    e.set_account_id(account);
    e.set_sequence(i);
    e.set_command_id(absl::StrCat(account, "-c", i));
    *e.mutable_occurred_at() = Ts(start + i * spacing_seconds);
    *e.mutable_recorded_at() = Ts(start + i * spacing_seconds);
    e.mutable_actor()->set_id(actor);
    if (i == 1) {
      auto* open = e.mutable_case_opened();
      open->set_creditor("Bench Bank");
      open->set_debtor_name("Bench Debtor");
      open->set_currency("USD");
      open->mutable_balances()->set_principal_minor(principal_minor);
      open->set_time_zone("America/Chicago");
      open->mutable_due_date()->set_year(2025);
      open->mutable_due_date()->set_month(1);
      open->mutable_due_date()->set_day(1);
    }
    body(e, i);
    e.set_prev_hash(prev);
    e.set_hash(ChainHash(e));
    prev = e.hash();
    out.push_back(std::move(e));
  }
  return out;
}

void SetPayment(v1::EventEnvelope& e, int sequence) {
  auto* pay = e.mutable_payment_posted();
  pay->set_payment_id(absl::StrCat("p", sequence));
  pay->mutable_amount()->set_amount_minor(1000);
  pay->mutable_amount()->set_currency("USD");
  pay->set_method(v1::PAYMENT_METHOD_ACH);
  pay->mutable_applied()->set_principal_minor(1000);
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
