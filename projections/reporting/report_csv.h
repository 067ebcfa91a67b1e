#pragma once

#include "collections/v1/reporting_service.pb.h"

#include <string>
#include <vector>

namespace collections::reporting {

// Reports as tables (a header row, then data rows) and those tables as CSV (CsvCell: RFC 4180
// quoting, formula cells defused, "\n" line ends like the audit export) or as aligned text.
// Pure; used by `collectionsctl report` and its tests. Money stays in integer minor units with
// its currency in its own column, so a spreadsheet never rounds it; every table with a currency
// ends with `currency_exponent` (ISO 4217 minor-unit digits: amount = minor / 10^exponent).
using Table = std::vector<std::vector<std::string>>;

// as_of, known_at, creditor, queue, assignee, currency, bucket, accounts, balance_minor,
// currency_exponent
Table AgingTable(const v1::GetAgingReportResponse& report);
// period_start, period_end, known_at, creditor, queue, assignee, measure, type, currency, count,
// amount_minor, rate_basis_points, currency_exponent: one row per figure (payments, reversals, refunds,
// net_collected, promised, adjustment, write_off, promises_*, contact_attempts,
// right_party_contacts, disputes_*, compliance_blocks).
Table ActivityTable(const v1::GetActivityReportResponse& report);
// start, end, known_at, currency, opening_receivables_minor, new_placements_minor,
// closing_total_receivables_minor, closing_current_receivables_minor, numerator_minor,
// denominator_minor, cei_basis_points, cei_percent, currency_exponent
Table EffectivenessTable(const v1::GetCollectionEffectivenessResponse& report);
// from_date, to_date, known_at, currency, from_bucket, to_bucket, accounts, from_balance_minor,
// to_balance_minor, rate_basis_points, currency_exponent (to_bucket EXITED: left receivables)
Table RollRateTable(const v1::GetRollRatesResponse& report);
// account_id, sequence, event_type, kind, business_date, recorded_date, currency, amount_minor,
// balance_change_minor, assignee, queue, currency_exponent
Table CorrectionsTable(const google::protobuf::RepeatedPtrField<v1::ReportFact>& corrections);

// Appends `table` as CSV; `with_header` false skips its first row (the second and later
// periods of a multi-period export).
void AppendCsv(const Table& table, bool with_header, std::string* out);
// The table with columns padded to their widest cell.
std::string Aligned(const Table& table);

std::string DateText(const v1::LocalDate& date);  // YYYY-MM-DD

}  // namespace collections::reporting
