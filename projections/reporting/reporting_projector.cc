#include "projections/reporting/reporting_projector.h"

#include "projections/reporting/facts.h"
#include "projections/reporting/reports.h"
#include "services/domain/customer_aggregate.h"

#include <algorithm>

namespace collections::reporting {

Status ReportingProjection::ApplyBatch(const std::vector<ProjectedEvent>& events,
                                       const std::map<int32_t, int64_t>& next_offsets) {
  ReportingStore::Batch batch;
  batch.next_offsets = next_offsets;
  std::map<std::string, std::map<absl::CivilDay, PositionState>> snapshots;  // loaded, by account
  // As loaded, before this batch, for the aggregate deltas.
  std::map<std::string, std::map<absl::CivilDay, PositionState>> before;
  std::map<std::string, absl::CivilDay> changed_from;  // the first month-end a fact moved
  for (const auto& e : events) {
    const std::string& id = e.event->account_id();
    // The reports are about accounts: a customer's stream ("customer/<id>") adds nothing to
    // them (its invoices and payments are the customer read side's).
    if (id.starts_with(kCustomerStreamPrefix)) continue;
    auto it = batch.briefs.find(id);
    if (it == batch.briefs.end()) {
      auto stored = store_.GetBrief(id);
      if (!stored) return stored.error();
      it = batch.briefs.emplace(id, stored.value().value_or(v1::Account())).first;
    }
    auto fact = ApplyEvent(it->second, *e.event);
    if (!fact) continue;
    // The account's month-end snapshots move in the same WriteBatch as the fact; only those
    // from the fact's month-end on can change, so only those are written.
    auto snaps = snapshots.find(id);
    if (snaps == snapshots.end()) {
      auto stored = store_.GetSnapshots(id);
      if (!stored) return stored.error();
      before.emplace(id, stored.value());
      snaps = snapshots.emplace(id, std::move(stored.value())).first;
    }
    FoldIntoSnapshots(snaps->second, *fact);
    const absl::CivilDay from =
        MonthEnd(std::max(ToDay(fact->business_date()), ToDay(fact->recorded_date())));
    auto [touched, inserted] = changed_from.emplace(id, from);
    if (!inserted) touched->second = std::min(touched->second, from);
    batch.facts.push_back(std::move(*fact));
  }
  for (const auto& [id, from] : changed_from) {
    const auto& all = snapshots.at(id);
    batch.snapshots[id].insert(all.lower_bound(from), all.end());
    // The aggregate rows move by the account's contribution after the batch minus before it,
    // at the month-ends from `from` on (the earlier snapshots did not change).
    AddSnapshotDeltas(batch.aggregates, before.at(id), from, -1);
    AddSnapshotDeltas(batch.aggregates, all, from, +1);
  }
  return store_.Apply(batch);
}

}  // namespace collections::reporting
