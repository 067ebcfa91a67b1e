#pragma once

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "collections/state/v1/customer_projection.pb.h"
#include "collections/state/v1/customer_state.pb.h"
#include "collections/v1/customer_query_service.pb.h"
#include "collections/v1/events.pb.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace collections::customer {

// The customer's receivables ledger as the reconciliation statement reads it: pure functions,
// no I/O, no clock. The projector turns each ledger event of a customer stream into one
// statement line (LedgerLine) and folds it into month-end snapshots (FoldIntoSnapshots); a
// statement is computed from a snapshot and the lines after it (BuildReconciliation), and
// rendered as CSV or as a printable page. Everything here is deterministic, so a statement
// asked again as known at the same instant is the same bytes. Thread-compatible.

using LedgerSnapshot = state::v1::CustomerLedgerSnapshot;

// The day `t` falls on in `zone_name` (UTC when the name is not a loadable IANA zone).
absl::CivilDay DayIn(absl::Time t, const std::string& zone_name);

// The last day of `day`'s month.
absl::CivilDay MonthEnd(absl::CivilDay day);
// The last month-end on or before `day`.
absl::CivilDay MonthEndOnOrBefore(absl::CivilDay day);

// The statement line of one event of a customer stream, or nullopt for events that are not
// part of the ledger (profile, links, credit limits, holds, refusals). `invoice` is the
// invoice the event names, as the projection holds it (for its number and account), if any;
// `discrepancy_invoice_id` / `discrepancy_amount_minor` the discrepancy a resolution closes.
// `zone` is the customer's time zone. balance_after_minor is left 0: a statement sets it.
std::optional<v1::CustomerStatementLine> LedgerLine(
    const v1::EventEnvelope& event, const std::string& zone,
    const state::v1::CustomerInvoiceState* invoice,
    const state::v1::CustomerDiscrepancyState* discrepancy);

// Adds the line's effect to a snapshot: balance, unapplied cash, the invoice's open amount and
// open disputes. Items that come to all zero are removed; items stay sorted by invoice id, so
// the snapshot's bytes do not depend on the order lines were folded in.
void FoldLine(LedgerSnapshot& snapshot, const v1::CustomerStatementLine& line);

// Folds `line` into a customer's month-end snapshots (by month-end): it enters every snapshot
// from MonthEnd(max(business date, recorded date)) on; that one is created from the one before
// it (or empty) when missing. `recorded_day` is the line's recorded date in the customer's
// zone. Returns the month-end of the first snapshot it changed.
absl::CivilDay FoldIntoSnapshots(std::map<absl::CivilDay, LedgerSnapshot>& snapshots,
                                 const v1::CustomerStatementLine& line, absl::CivilDay recorded_day);

// The snapshot date a statement of [from, to] as known at `known_at` (in the customer's
// zone) starts from: the last month-end before `from` whose day had ended by `known_at`, so
// every line the snapshot holds was recorded by then.
absl::CivilDay StatementBaseDate(absl::CivilDay from, absl::Time known_at,
                                 const std::string& zone);

// What a statement is computed from (CustomerStore::ReadStatementInput reads it).
struct StatementInput {
  state::v1::CustomerState head;       // profile: name, currency, zone
  absl::CivilDay base_date;            // see StatementBaseDate
  LedgerSnapshot base;                 // the last snapshot on or before base_date (or empty)
  // Lines dated after base_date up to the period's end, and lines dated on or before it that
  // were recorded after it, in any order; lines recorded after known_at are skipped here.
  std::vector<v1::CustomerStatementLine> lines;
  std::map<std::string, v1::Invoice> invoices;  // the invoices the open items name
};

// The reconciliation statement of [from, to] as known at `known_at`: opening balance (the
// base plus every known line dated before `from`), the known lines dated in the period by
// date then sequence with a running balance, per-kind totals, closing balance and the open
// items at the end of `to` (by due date, then invoice id).
v1::CustomerReconciliation BuildReconciliation(const StatementInput& input, absl::CivilDay from,
                                               absl::CivilDay to, absl::Time known_at);

// The statement as CSV: a header block of "field,value" rows, then one table of lines, then
// one table of open items (see the README for the columns). "\n" line ends.
std::string ReconciliationCsv(const v1::CustomerReconciliation& statement);
// The statement as a self-contained printable HTML page (inline CSS, no script, nothing
// fetched).
std::string ReconciliationHtml(const v1::CustomerReconciliation& statement);

// The shutdown report page as CSV / HTML (see the README for the columns).
std::string ShutdownReportCsv(const v1::GetShutdownReportResponse& report);
std::string ShutdownReportHtml(const v1::GetShutdownReportResponse& report);

// "YYYY-MM-DD".
std::string DateText(const v1::LocalDate& date);

}  // namespace collections::customer
