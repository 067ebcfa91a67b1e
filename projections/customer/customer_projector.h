#pragma once

#include "projections/customer/customer_store.h"
#include "projections/projector/projector.h"

#include <map>
#include <string>
#include <vector>

namespace collections::customer {

// The customer projection: from the events of the customer streams (record key
// "customer/<id>"), every customer's head, invoices, payments, discrepancies and holds as rows
// of their own, the open-invoice, open-discrepancy and hold indexes, and the ledger lines and
// month-end snapshots a reconciliation reads, written with the consumed offsets in one
// WriteBatch. Events of account streams are skipped. The head and the rows are built by the
// domain's EvolveCustomer (the code the writer runs) on a partial state holding only the rows
// the event names, so applying an event reads and writes a bounded number of rows whatever
// the customer's history. Rebuilt from offset 0 it is byte for byte the live one.
// Called from its projector's thread only.
class CustomerProjection final : public ProjectionSink {
 public:
  explicit CustomerProjection(CustomerStore& store) : store_(store) {}
  Result<std::map<int32_t, int64_t>> LoadOffsets() const override { return store_.LoadOffsets(); }
  Status ApplyBatch(const std::vector<ProjectedEvent>& events,
                    const std::map<int32_t, int64_t>& next_offsets) override;

 private:
  CustomerStore& store_;
};

// A Projector of the customer projection into `store` (in the server it is attached to the
// account projector, whose consumer reads and parses each record once for every projection).
class CustomerProjector : private collections::internal::SinkHolder<CustomerProjection>,
                          public Projector {
 public:
  CustomerProjector(kafka::LogOptions log, CustomerStore& store, int32_t partitions,
                    std::string client_id)
      : SinkHolder(store),
        Projector(std::move(log), sink, partitions, std::move(client_id), "customers") {}
};

}  // namespace collections::customer
