#pragma once

#include "absl/time/civil_time.h"
#include "collections/v1/reporting_service.pb.h"

#include <map>
#include <string>
#include <vector>

namespace collections::reporting {

// The reports as pure functions of report facts (facts.h). No I/O and no clock: the service
// reads the facts from the reporting store and passes the dates, so the same facts and dates
// always give the same bytes.
//
// The known-at rule, shared by every report: a fact counts in a report's figures only if its
// recorded_date <= known_at. Facts dated within the report's dates but recorded after
// known_at are returned as `corrections` instead (ordered by business date, account,
// sequence), never folded into the figures.

// An account's position at the end of a business date, folded from its facts.
struct Position {
  std::string account_id;
  std::string creditor, queue, assignee, currency;
  int64_t balance_minor = 0;
  absl::CivilDay due_date;
  bool placed = false;    // its placement is known and dated on or before the date
  bool off_book = false;  // closed or transferred
};

// Positions at the end of `as_of` from the facts with business_date <= as_of and
// recorded_date <= known_at, by account id. Facts may come in any order.
std::map<std::string, Position> PositionsAsOf(const std::vector<v1::ReportFact>& facts,
                                              absl::CivilDay as_of, absl::CivilDay known_at);

// A receivable: placed, on the book, something owed.
bool IsReceivable(const Position& position);

// Days past due at the end of `as_of`, as the domain's DaysPastDue computes it (0 when nothing
// is owed or the due date has not passed).
int32_t DaysPastDue(const Position& position, absl::CivilDay as_of);

// Rounded half away from zero: numerator / denominator in basis points. Denominator > 0.
int64_t BasisPoints(int64_t numerator, int64_t denominator);

v1::GetAgingReportResponse BuildAging(const std::vector<v1::ReportFact>& facts,
                                      absl::CivilDay as_of, absl::CivilDay known_at,
                                      v1::ReportGroupBy group_by, bool include_accounts);

v1::GetActivityReportResponse BuildActivity(const std::vector<v1::ReportFact>& facts,
                                            absl::CivilDay start, absl::CivilDay end,
                                            absl::CivilDay known_at, v1::ReportGroupBy group_by);

v1::GetCollectionEffectivenessResponse BuildCollectionEffectiveness(
    const std::vector<v1::ReportFact>& facts, absl::CivilDay start, absl::CivilDay end,
    absl::CivilDay known_at);

// Movement over `month` (its first day): buckets at the end of the previous month against
// buckets at the end of `month`.
v1::GetRollRatesResponse BuildRollRates(const std::vector<v1::ReportFact>& facts,
                                        absl::CivilDay month, absl::CivilDay known_at);

// The last day of a period that starts at `start`; nullopt-like {start, false} when the
// period is unknown or a month does not start on its first day.
struct PeriodDays {
  absl::CivilDay start, end;
  bool valid = false;
};
PeriodDays ResolvePeriod(v1::ReportPeriod period, absl::CivilDay start);

}  // namespace collections::reporting
