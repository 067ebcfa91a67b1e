#include "projections/reporting/reporting_projector.h"

#include "projections/reporting/facts.h"

namespace collections::reporting {

Status ReportingProjection::ApplyBatch(const std::vector<ProjectedEvent>& events,
                                       const std::map<int32_t, int64_t>& next_offsets) {
  ReportingStore::Batch batch;
  batch.next_offsets = next_offsets;
  for (const auto& e : events) {
    const std::string& id = e.event.account_id();
    auto it = batch.briefs.find(id);
    if (it == batch.briefs.end()) {
      auto stored = store_.GetBrief(id);
      if (!stored) return stored.error();
      it = batch.briefs.emplace(id, stored.value().value_or(v1::Account())).first;
    }
    if (auto fact = ApplyEvent(it->second, e.event)) batch.facts.push_back(std::move(*fact));
  }
  return store_.Apply(batch);
}

}  // namespace collections::reporting
