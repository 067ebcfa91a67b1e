#pragma once

#include "projections/customer/customer_store.h"
#include "projections/projector/projector.h"
#include "services/authz/integrity.h"

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
//
// Every event passes the integrity gate first (authz::IntegrityGate: the stream's hash chain
// and the writer signature, `trusted_keys`), as on the account projection: a command's events
// wait in the head row (unsigned_events) until the signature on its last one arrives, and a
// customer whose log holds an event that is not the service's is quarantined at its last
// genuine event (CustomerState.quarantine in the head row; GetCustomer shows it) and an ALERT
// line is logged. The gate's state is the head's version, last_hash, unsigned_events and
// quarantine, so admitting an event costs the same whatever the customer's history.
// Called from its projector's thread only.
class CustomerProjection final : public ProjectionSink {
 public:
  explicit CustomerProjection(CustomerStore& store,
                              std::vector<authz::VerifyingKey> trusted_keys = {})
      : store_(store), integrity_(std::move(trusted_keys)) {}
  Result<std::map<int32_t, int64_t>> LoadOffsets() const override { return store_.LoadOffsets(); }
  Status ApplyBatch(const std::vector<ProjectedEvent>& events,
                    const std::map<int32_t, int64_t>& next_offsets) override;

 private:
  CustomerStore& store_;
  const authz::IntegrityGate integrity_;
};

// A Projector of the customer projection into `store` (in the server it is attached to the
// account projector, whose consumer reads and parses each record once for every projection,
// and trusts the same writer keys).
class CustomerProjector : private collections::internal::SinkHolder<CustomerProjection>,
                          public Projector {
 public:
  CustomerProjector(kafka::LogOptions log, CustomerStore& store, int32_t partitions,
                    std::string client_id, std::vector<authz::VerifyingKey> trusted_keys = {})
      : SinkHolder(store, std::move(trusted_keys)),
        Projector(std::move(log), sink, partitions, std::move(client_id), "customers") {}
};

}  // namespace collections::customer
