#include "projections/reporting/reporting_projector.h"

#include "projections/reporting/facts.h"
#include "projections/reporting/reports.h"

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
    auto fact = ApplyEvent(it->second, e.event);
    if (!fact) continue;
    // The account's month-end snapshots move in the same WriteBatch as the fact.
    auto snaps = batch.snapshots.find(id);
    if (snaps == batch.snapshots.end()) {
      auto stored = store_.GetSnapshots(id);
      if (!stored) return stored.error();
      snaps = batch.snapshots.emplace(id, std::move(stored.value())).first;
    }
    FoldIntoSnapshots(snaps->second, *fact);
    batch.facts.push_back(std::move(*fact));
  }
  return store_.Apply(batch);
}

}  // namespace collections::reporting
