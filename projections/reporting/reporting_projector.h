#pragma once

#include "projections/projector/projector.h"
#include "projections/reporting/reporting_store.h"

#include <map>
#include <string>
#include <vector>

namespace collections::reporting {

// The reporting projection: each event as a reporting fact (business date, recorded date,
// amounts, dimensions) plus a brief and month-end snapshots per account, written with the
// consumed offsets in one WriteBatch. Rebuilt from offset 0 it is byte-for-byte the live one.
// Called from its projector's thread only.
class ReportingProjection final : public ProjectionSink {
 public:
  explicit ReportingProjection(ReportingStore& store) : store_(store) {}
  Result<std::map<int32_t, int64_t>> LoadOffsets() const override { return store_.LoadOffsets(); }
  Status ApplyBatch(const std::vector<ProjectedEvent>& events,
                    const std::map<int32_t, int64_t>& next_offsets) override;

 private:
  ReportingStore& store_;
};

// A Projector of the reporting projection into `store`.
class ReportingProjector : private collections::internal::SinkHolder<ReportingProjection>,
                           public Projector {
 public:
  ReportingProjector(kafka::LogOptions log, ReportingStore& store, int32_t partitions,
                     std::string client_id)
      : SinkHolder(store),
        Projector(std::move(log), sink, partitions, std::move(client_id), "reporting") {}
};

}  // namespace collections::reporting
