#pragma once

#include "absl/time/civil_time.h"
#include "collections/v1/reporting_service.pb.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
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

// ---- Incremental aggregates ----
//
// An account's position folded in any order: each field set by "the first" or "the last" fact
// in business order remembers that fact's (business date, sequence), so folding the same facts
// in any order gives the same state, and therefore a rebuild gives the same bytes.
using OrderKey = std::pair<absl::CivilDay, int64_t>;
struct PositionState {
  Position position;
  OrderKey currency_key, creditor_key, due_key, owner_key;
  bool has_owner = false;  // a placement or an assignment set assignee and queue
};

// Folds one fact into `state` as PositionsAsOf would; facts that move no position are ignored.
void Fold(PositionState& state, const v1::ReportFact& fact);

// Deterministic bytes of a state (the reporting store's snapshot rows), and back.
std::string EncodeState(const PositionState& state);
bool DecodeState(std::string_view bytes, PositionState* state);

// The last day of the month of `day`.
absl::CivilDay MonthEnd(absl::CivilDay day);

// An account's month-end snapshots: snapshots[C] is the fold of its facts with business date
// <= C and recorded date <= C, for every month-end C at which some fact of the account has
// max(business date, recorded date) in C's month. Folds `fact` in: it enters every snapshot at
// or after MonthEnd(max(business, recorded)), creating that one from the one before it.
void FoldIntoSnapshots(std::map<absl::CivilDay, PositionState>& snapshots,
                       const v1::ReportFact& fact);

// The snapshot date a report reads from: the last month-end on or before both the earliest date
// whose positions the report needs and its known-at date.
absl::CivilDay SnapshotDateFor(absl::CivilDay first, absl::CivilDay known_at);

// True when a report whose dates end at `last`, reading snapshots at `base_date`, needs `fact`
// besides the snapshots: business date in (base_date, last], or business date <= base_date but
// recorded after base_date (a back-dated fact the snapshot does not hold).
bool NeededBeyondSnapshot(const v1::ReportFact& fact, absl::CivilDay base_date,
                          absl::CivilDay last);

// True for the facts that move an account's position (balance, owner of the work, on or off
// the book); the others are activity only.
bool MovesPosition(v1::ReportFactKind kind);

// ---- Aggregates of the accounts a report's facts do not move ----
//
// An account with no fact in a report's window keeps its snapshot's position on every date the
// report looks at, and for such an account the reports need only this: is it a receivable, and
// if so its creditor, queue, assignee, currency, due date (its bucket on any later date) and
// balance. So per month-end C the store keeps the sums, over every account's last snapshot on or
// before C, of that contribution, keyed by those fields; a report reads them at its base date,
// takes out the accounts its facts move (read one by one as before) and never reads the others.
//
// Days past due from which every date is in the last aging bucket (180+): a due date that many
// days or more before the month-end of the snapshot that contributes it is stored as that
// month-end minus kAgedOutDays, so the old accounts of a month share a few keys. Exact for every
// date on or after that month-end, the only dates a report asks of it.
inline constexpr int kAgedOutDays = 180;

struct AggregateKey {
  std::string creditor, queue, assignee, currency;
  absl::CivilDay due_date;
  bool operator<(const AggregateKey& o) const {
    return std::tie(creditor, queue, assignee, currency, due_date) <
           std::tie(o.creditor, o.queue, o.assignee, o.currency, o.due_date);
  }
  bool operator==(const AggregateKey& o) const {
    return std::tie(creditor, queue, assignee, currency, due_date) ==
           std::tie(o.creditor, o.queue, o.assignee, o.currency, o.due_date);
  }
};
// Exact sums (a delta may be negative, and many balances together may pass int64).
struct AggregateSums {
  int64_t accounts = 0;
  __int128 balance_minor = 0;
  bool Zero() const { return accounts == 0 && balance_minor == 0; }
};
using Aggregate = std::map<AggregateKey, AggregateSums>;
// Changes to the aggregates by month-end: the aggregate at C is the sum of the deltas of every
// month-end <= C.
using AggregateDeltas = std::map<absl::CivilDay, Aggregate>;

// Adds `sign` (+1 or -1) times what `state`, the snapshot at month-end `month_end`, contributes
// (nothing unless IsReceivable). Drops entries that become zero.
void AddContribution(Aggregate& into, const PositionState& state, absl::CivilDay month_end,
                     int sign);

// Adds `sign` times the deltas of an account's snapshots at month-ends >= `from`: at each such
// month-end C_i, the contribution of its snapshot there minus that of its snapshot before
// (nothing for the first). The projector subtracts the account's snapshots before a batch and
// adds them after, from the first month-end the batch changed; drops entries that become zero.
void AddSnapshotDeltas(AggregateDeltas& into,
                       const std::map<absl::CivilDay, PositionState>& snapshots,
                       absl::CivilDay from, int sign);

// Adds `delta` into `into` (dropping entries that become zero).
void AddSums(Aggregate& into, const AggregateKey& key, const AggregateSums& delta);

// Deterministic bytes of a key and of sums (the reporting store's aggregate rows), and back.
std::string EncodeAggregateKey(const AggregateKey& key);
bool DecodeAggregateKey(std::string_view bytes, AggregateKey* key);
std::string EncodeSums(const AggregateSums& sums);
bool DecodeSums(std::string_view bytes, AggregateSums* sums);

// What a report reads. The full scan (no base_date) passes every fact; the snapshot path
// passes the month-end snapshots at `base_date` (by account) and the facts that
// NeededBeyondSnapshot selects. Both give the same report, byte for byte, provided base_date
// is SnapshotDateFor(the report's first position date, known_at).
//
// With `unmoved` set (the aggregate path), `base` holds the snapshots of the accounts that a
// fact in `facts` moves (MovesPosition) only, and `unmoved` the aggregate at base_date of every
// other account. It gives the same figures, but an aging report built from it cannot list
// accounts (include_accounts needs every account's snapshot).
struct ReportInput {
  std::vector<v1::ReportFact> facts;
  std::optional<absl::CivilDay> base_date;
  std::map<std::string, PositionState> base;
  std::optional<Aggregate> unmoved;
};

// Positions at the end of `as_of` known at `known_at` from `input`; with a base, `as_of` and
// `known_at` must both be >= base_date.
std::map<std::string, Position> PositionsFrom(const ReportInput& input, absl::CivilDay as_of,
                                              absl::CivilDay known_at);

v1::GetAgingReportResponse BuildAging(const ReportInput& input, absl::CivilDay as_of,
                                      absl::CivilDay known_at, v1::ReportGroupBy group_by,
                                      bool include_accounts);
v1::GetCollectionEffectivenessResponse BuildCollectionEffectiveness(const ReportInput& input,
                                                                    absl::CivilDay start,
                                                                    absl::CivilDay end,
                                                                    absl::CivilDay known_at);
v1::GetRollRatesResponse BuildRollRates(const ReportInput& input, absl::CivilDay month,
                                        absl::CivilDay known_at);

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
