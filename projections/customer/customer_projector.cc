#include "projections/customer/customer_projector.h"

#include "projections/customer/customer_ledger.h"
#include "services/common/log.h"
#include "services/domain/customer_aggregate.h"
#include "services/domain/hashing.h"
#include "services/domain/internal.h"

#include "collections/v1/customer_query_service.pb.h"

#include <optional>
#include <set>

namespace collections::customer {
namespace {

using Family = CustomerStore::Family;
using internal::ToCivil;
using internal::ToTime;

Error CorruptRow(const std::string& what) {
  return Error{Errc::kInternal, "CORRUPT_ROW", what + " does not parse", {}, {}};
}

// A customer's month-end snapshots as this batch sees them: every stored row from
// `covered_from` on (and, when `complete`, every row), changed in memory.
struct SnapshotCache {
  std::map<absl::CivilDay, LedgerSnapshot> rows;
  std::optional<absl::CivilDay> covered_from;  // nullopt: nothing loaded yet
  bool complete = false;                       // no stored row before covered_from
  std::optional<absl::CivilDay> changed_from;  // the first row this batch changed
};

// The batch being built, over the store as it was before the batch: reads see the batch's
// own writes first.
class Overlay {
 public:
  Overlay(const CustomerStore& store, CustomerStore::Batch& batch)
      : reader_(store.NewReader()), batch_(batch) {}

  Result<std::optional<std::string>> Get(Family f, const std::string& key) const {
    const auto& writes = batch_.writes[static_cast<int>(f)];
    if (auto it = writes.find(key); it != writes.end()) return it->second;
    return reader_->Get(f, key);
  }

  template <typename Message>
  Result<std::optional<Message>> GetMessage(Family f, const std::string& key) const {
    auto bytes = Get(f, key);
    if (!bytes) return bytes.error();
    if (!bytes.value()) return std::optional<Message>();
    Message m;
    if (!m.ParseFromString(*bytes.value())) return CorruptRow("a customer store row");
    return std::optional<Message>(std::move(m));
  }

  void Put(Family f, const std::string& key, const google::protobuf::Message& value) {
    batch_.writes[static_cast<int>(f)][key] = CanonicalBytes(value);
  }
  void PutEmpty(Family f, const std::string& key) { batch_.writes[static_cast<int>(f)][key] = ""; }
  void Delete(Family f, const std::string& key) {
    batch_.writes[static_cast<int>(f)][key] = std::nullopt;
  }

  // The snapshots of `customer_id` from the last stored one on or before `month_end` on.
  Result<SnapshotCache*> Snapshots(const std::string& customer_id, absl::CivilDay month_end) {
    SnapshotCache& cache = snapshots_[customer_id];
    if (cache.complete || (cache.covered_from && *cache.covered_from <= month_end)) {
      return &cache;
    }
    const std::string prefix = CustomerPrefix(customer_id);
    auto floor = reader_->Floor(Family::kSnapshots, SnapshotKey(customer_id, month_end), prefix);
    if (!floor) return floor.error();
    // Rows in [start, limit): the floor (or the customer's first row) up to what is loaded.
    const std::string start = floor.value() ? floor.value()->first : prefix;
    std::string limit = cache.covered_from ? SnapshotKey(customer_id, *cache.covered_from)
                                           : prefix.substr(0, prefix.size() - 1) + '\x01';
    Status corrupt;
    auto scanned = reader_->Scan(Family::kSnapshots, start, limit,
                                 [&](std::string_view key, std::string_view value) {
                                   absl::CivilDay day;
                                   LedgerSnapshot snapshot;
                                   if (!ParseDayKey(key.substr(prefix.size()), &day) ||
                                       !snapshot.ParseFromArray(value.data(),
                                                                static_cast<int>(value.size()))) {
                                     corrupt = CorruptRow("a customer snapshot row");
                                     return false;
                                   }
                                   cache.rows.emplace(day, std::move(snapshot));
                                   return true;
                                 });
    if (scanned) return *scanned;
    if (corrupt) return *corrupt;
    if (floor.value()) {
      absl::CivilDay day;
      ParseDayKey(std::string_view(floor.value()->first).substr(prefix.size()), &day);
      cache.covered_from = day;
    } else {
      cache.complete = true;
    }
    return &cache;
  }

  // Writes every snapshot row this batch changed.
  void FlushSnapshots() {
    for (auto& [customer_id, cache] : snapshots_) {
      if (!cache.changed_from) continue;
      for (auto it = cache.rows.lower_bound(*cache.changed_from); it != cache.rows.end(); ++it) {
        Put(Family::kSnapshots, SnapshotKey(customer_id, it->first), it->second);
      }
    }
  }

 private:
  std::unique_ptr<CustomerStore::Reader> reader_;
  CustomerStore::Batch& batch_;
  std::map<std::string, SnapshotCache> snapshots_;
};

// The state the event needs: the head plus the rows it names.
class PartialState {
 public:
  PartialState(Overlay& overlay, std::string customer_id)
      : overlay_(overlay), customer_id_(std::move(customer_id)) {}

  Status LoadInvoice(const std::string& id) {
    if (id.empty() || FindInvoice(id) != nullptr) return std::nullopt;
    auto row = overlay_.GetMessage<state::v1::CustomerInvoiceState>(
        Family::kItems, ItemKey(customer_id_, kInvoiceItem, id));
    if (!row) return row.error();
    if (row.value()) *state.add_invoices() = std::move(*row.value());
    return std::nullopt;
  }
  Status LoadPayment(const std::string& id) {
    if (id.empty()) return std::nullopt;
    auto row = overlay_.GetMessage<state::v1::CustomerPaymentState>(
        Family::kItems, ItemKey(customer_id_, kPaymentItem, id));
    if (!row) return row.error();
    if (row.value()) *state.add_payments() = std::move(*row.value());
    return std::nullopt;
  }
  Status LoadDiscrepancy(const std::string& id) {
    if (id.empty()) return std::nullopt;
    auto row = overlay_.GetMessage<state::v1::CustomerDiscrepancyState>(
        Family::kItems, ItemKey(customer_id_, kDiscrepancyItem, id));
    if (!row) return row.error();
    if (row.value()) *state.add_discrepancies() = std::move(*row.value());
    return std::nullopt;
  }

  const state::v1::CustomerInvoiceState* FindInvoice(const std::string& id) const {
    for (const auto& i : state.invoices()) {
      if (i.invoice().invoice_id() == id) return &i;
    }
    return nullptr;
  }
  const state::v1::CustomerDiscrepancyState* FindDiscrepancy(const std::string& id) const {
    for (const auto& d : state.discrepancies()) {
      if (d.discrepancy_id() == id) return &d;
    }
    return nullptr;
  }

  // Writes the rows back and the head without its lists.
  void Store() {
    for (const auto& i : state.invoices()) {
      const std::string& id = i.invoice().invoice_id();
      overlay_.Put(Family::kItems, ItemKey(customer_id_, kInvoiceItem, id), i);
      const std::string open = OpenInvoiceKey(customer_id_, ToCivil(i.invoice().due_date()), id);
      if (i.open_minor() > 0) {
        overlay_.Put(Family::kOpen, open, i);
      } else {
        overlay_.Delete(Family::kOpen, open);
      }
    }
    for (const auto& p : state.payments()) {
      overlay_.Put(Family::kItems, ItemKey(customer_id_, kPaymentItem, p.payment_id()), p);
    }
    for (const auto& d : state.discrepancies()) {
      overlay_.Put(Family::kItems, ItemKey(customer_id_, kDiscrepancyItem, d.discrepancy_id()),
                   d);
    }
    state.clear_invoices();
    state.clear_payments();
    state.clear_discrepancies();
    state.clear_holds();  // holds are rows of their own, with their times (ApplyHold)
    // Ids the writer keeps to refuse reuse; no read shows them, and they grow with history.
    state.clear_adjustment_ids();
    state.clear_refund_ids();
    state.clear_application_ids();
    overlay_.Put(Family::kHeads, customer_id_, state);
  }

  CustomerState state;

 private:
  Overlay& overlay_;
  const std::string customer_id_;
};

Status ApplyHold(Overlay& overlay, const std::string& customer_id, const v1::EventEnvelope& e) {
  std::string hold_id;
  switch (e.payload_case()) {
    case v1::EventEnvelope::kCreditHoldRecommended:
      hold_id = e.credit_hold_recommended().hold_id();
      break;
    case v1::EventEnvelope::kCreditHoldApproved:
      hold_id = e.credit_hold_approved().hold_id();
      break;
    case v1::EventEnvelope::kCreditHoldReleased:
      hold_id = e.credit_hold_released().hold_id();
      break;
    default:
      return std::nullopt;
  }
  const std::string key = ItemKey(customer_id, kHoldItem, hold_id);
  auto row = overlay.GetMessage<v1::CustomerHold>(Family::kItems, key);
  if (!row) return row.error();
  v1::CustomerHold hold = row.value().value_or(v1::CustomerHold());
  hold.set_hold_id(hold_id);
  if (e.has_credit_hold_recommended()) {
    const auto& r = e.credit_hold_recommended();
    hold.set_status(v1::CREDIT_HOLD_STATUS_RECOMMENDED);
    hold.set_reason(r.reason());
    hold.set_recommended_by(r.recommended_by());
    *hold.mutable_recommended_at() = e.occurred_at();
    hold.set_recommended_exposure_minor(r.exposure_minor());
    hold.set_recommended_days_past_due(r.days_past_due());
  } else if (e.has_credit_hold_approved()) {
    const auto& a = e.credit_hold_approved();
    hold.set_status(v1::CREDIT_HOLD_STATUS_APPROVED);
    if (hold.reason().empty()) hold.set_reason(a.reason());
    if (hold.recommended_by().empty()) hold.set_recommended_by(a.recommended_by());
    hold.set_approved_by(a.approved_by());
    *hold.mutable_approved_at() = e.occurred_at();
  } else {
    const auto& r = e.credit_hold_released();
    hold.set_status(v1::CREDIT_HOLD_STATUS_RELEASED);
    hold.set_released_reason(r.reason());
    *hold.mutable_released_at() = e.occurred_at();
    hold.set_released_automatically(r.automatic());
  }
  overlay.Put(Family::kItems, key, hold);
  if (hold.status() == v1::CREDIT_HOLD_STATUS_RELEASED) {
    overlay.Delete(Family::kHolds, HoldKey(customer_id, hold_id));
  } else {
    overlay.PutEmpty(Family::kHolds, HoldKey(customer_id, hold_id));
  }
  return std::nullopt;
}

// Applies one genuine event (the integrity gate released it) to the customer whose head row
// is `head`; leaves the head row as stored in `head`.
Status ApplyEvent(Overlay& overlay, const std::string& customer_id, CustomerState& head,
                  const v1::EventEnvelope& e) {
  // A customer's stream starts with CustomerOpened; anything before it is not a customer: only
  // the chain moves on, so the gate judges the next event against it.
  if (!head.has_opened_at() && !e.has_customer_opened()) {
    head.set_version(e.sequence());
    head.set_last_hash(e.hash());
    overlay.Put(Family::kHeads, customer_id, head);
    return std::nullopt;
  }

  PartialState partial(overlay, customer_id);
  partial.state = std::move(head);
  Status loaded;
  switch (e.payload_case()) {
    case v1::EventEnvelope::kPaymentApplied:
      loaded = partial.LoadInvoice(e.payment_applied().invoice_id());
      if (!loaded) loaded = partial.LoadPayment(e.payment_applied().payment_id());
      break;
    case v1::EventEnvelope::kUnappliedCashRecorded:
      loaded = partial.LoadPayment(e.unapplied_cash_recorded().payment_id());
      break;
    case v1::EventEnvelope::kShortPaymentDiscrepancyOpened:
      loaded = partial.LoadInvoice(e.short_payment_discrepancy_opened().invoice_id());
      break;
    case v1::EventEnvelope::kShortPaymentDiscrepancyResolved: {
      const std::string& id = e.short_payment_discrepancy_resolved().discrepancy_id();
      loaded = partial.LoadDiscrepancy(id);
      if (!loaded) {
        if (const auto* d = partial.FindDiscrepancy(id)) loaded = partial.LoadInvoice(d->invoice_id());
      }
      break;
    }
    case v1::EventEnvelope::kDuplicatePaymentRefunded:
      loaded = partial.LoadPayment(e.duplicate_payment_refunded().payment_id());
      break;
    case v1::EventEnvelope::kInvoiceAdjusted:
      loaded = partial.LoadInvoice(e.invoice_adjusted().invoice_id());
      break;
    case v1::EventEnvelope::kInvoiceDisputed:
      loaded = partial.LoadInvoice(e.invoice_disputed().invoice_id());
      break;
    case v1::EventEnvelope::kInvoiceDisputeResolved:
      loaded = partial.LoadInvoice(e.invoice_dispute_resolved().invoice_id());
      break;
    default:
      break;
  }
  if (loaded) return loaded;

  // The ledger line, from the rows as they were before the event (numbers and accounts do
  // not change).
  const std::string zone =
      e.has_customer_opened() ? e.customer_opened().time_zone() : partial.state.time_zone();
  std::string invoice_id;
  const state::v1::CustomerDiscrepancyState* discrepancy = nullptr;
  if (e.has_payment_applied()) invoice_id = e.payment_applied().invoice_id();
  if (e.has_short_payment_discrepancy_opened())
    invoice_id = e.short_payment_discrepancy_opened().invoice_id();
  if (e.has_invoice_adjusted()) invoice_id = e.invoice_adjusted().invoice_id();
  if (e.has_invoice_disputed()) invoice_id = e.invoice_disputed().invoice_id();
  if (e.has_invoice_dispute_resolved()) invoice_id = e.invoice_dispute_resolved().invoice_id();
  if (e.has_short_payment_discrepancy_resolved()) {
    discrepancy = partial.FindDiscrepancy(e.short_payment_discrepancy_resolved().discrepancy_id());
    if (discrepancy != nullptr) invoice_id = discrepancy->invoice_id();
  }
  std::optional<v1::CustomerStatementLine> line =
      LedgerLine(e, zone, invoice_id.empty() ? nullptr : partial.FindInvoice(invoice_id),
                 discrepancy);

  // Open discrepancies are shown with what only their opening event says.
  if (e.has_short_payment_discrepancy_opened()) {
    const auto& d = e.short_payment_discrepancy_opened();
    v1::CustomerDiscrepancyView view;
    view.set_discrepancy_id(d.discrepancy_id());
    view.set_payment_id(d.payment_id());
    view.set_invoice_id(d.invoice_id());
    view.set_account_id(d.account_id());
    view.set_amount_minor(d.amount_minor());
    view.set_reason(d.reason());
    view.set_note(d.note());
    *view.mutable_opened_at() = e.occurred_at();
    overlay.Put(Family::kOpen, OpenDiscrepancyPrefix(customer_id) + d.discrepancy_id(), view);
  }
  if (e.has_short_payment_discrepancy_resolved()) {
    overlay.Delete(Family::kOpen, OpenDiscrepancyPrefix(customer_id) +
                                      e.short_payment_discrepancy_resolved().discrepancy_id());
  }
  if (auto held = ApplyHold(overlay, customer_id, e)) return held;

  EvolveCustomer(partial.state, e);
  partial.Store();
  head = std::move(partial.state);

  if (line) {
    const absl::CivilDay business = ToCivil(line->business_date());
    const absl::CivilDay recorded = DayIn(ToTime(e.recorded_at()), zone);
    overlay.Put(Family::kFacts, LineKey(customer_id, business, e.sequence()), *line);
    if (recorded > business) {
      overlay.Put(Family::kLate, LineKey(customer_id, recorded, e.sequence()), *line);
    }
    const absl::CivilDay month_end = MonthEnd(std::max(business, recorded));
    auto cache = overlay.Snapshots(customer_id, month_end);
    if (!cache) return cache.error();
    const absl::CivilDay from = FoldIntoSnapshots(cache.value()->rows, *line, recorded);
    auto& changed = cache.value()->changed_from;
    if (!changed || from < *changed) changed = from;
  }
  return std::nullopt;
}

// Runs the record through the integrity gate, on the gate's state in the customer's head row
// (version, last_hash, the held unsigned_events, quarantine), and applies what it releases.
// Records of account streams are skipped.
Status AdmitRecord(Overlay& overlay, const authz::IntegrityGate& gate, const ProjectedEvent& p) {
  const v1::EventEnvelope& e = *p.event;
  const std::string& stream = e.account_id();
  if (!stream.starts_with(kCustomerStreamPrefix)) return std::nullopt;
  const std::string customer_id = stream.substr(kCustomerStreamPrefix.size());
  if (customer_id.empty()) return std::nullopt;
  auto stored = overlay.GetMessage<CustomerState>(Family::kHeads, customer_id);
  if (!stored) return stored.error();
  CustomerState head;
  if (stored.value()) {
    head = std::move(*stored.value());
  } else {
    // The stream's id, not what a record claims: a quarantine before any genuine event names
    // the customer it was read under.
    head.set_customer_id(customer_id);
  }
  auto outcome = gate.Admit(head, e, p.partition, p.offset, RawBytes(p));
  if (outcome.quarantined_now) {
    LogError("customers", "ALERT integrity: customer ", customer_id,
             " quarantined at sequence ", e.sequence(), " (partition ", p.partition,
             " offset ", p.offset, "): ", head.quarantine().reason(), ": ",
             head.quarantine().detail(), "; nothing after its last genuine event is applied");
  }
  if (outcome.apply.empty()) {
    // Held, refused or ignored: only the gate's bookkeeping changed.
    overlay.Put(Family::kHeads, customer_id, head);
    return std::nullopt;
  }
  for (const v1::EventEnvelope* released : outcome.apply) {
    if (auto error = ApplyEvent(overlay, customer_id, head, *released)) return error;
  }
  return std::nullopt;
}

}  // namespace

Status CustomerProjection::ApplyBatch(const std::vector<ProjectedEvent>& events,
                                      const std::map<int32_t, int64_t>& next_offsets) {
  // Offsets make each record apply once: a record below the stored offset of its partition
  // (a batch applied again) is already in. Anything else on a customer's stream is judged by
  // the gate, a record that repeats a sequence too (the writer never writes one).
  auto applied = store_.LoadOffsets();
  if (!applied) return applied.error();
  CustomerStore::Batch batch;
  batch.next_offsets = next_offsets;
  {
    Overlay overlay(store_, batch);
    for (const auto& e : events) {
      if (!e.parsed) continue;
      if (auto it = applied.value().find(e.partition);
          it != applied.value().end() && e.offset < it->second) {
        continue;
      }
      if (auto error = AdmitRecord(overlay, integrity_, e)) return error;
    }
    overlay.FlushSnapshots();
  }
  return store_.Apply(batch);
}

}  // namespace collections::customer
