#pragma once

#include "absl/time/civil_time.h"

#include <string>
#include <vector>

namespace collections::compliance {

// The US federal calendar the rules count in (5 U.S.C. 6103): legal public holidays with
// the observed-day rule, business days, and the F12 validation period. Pure functions of
// their arguments, safe from any thread.

// One legal public holiday of a year.
struct FederalHoliday {
  std::string name;         // e.g. "Christmas Day"
  absl::CivilDay date;      // the day the statute names (may fall on a weekend)
  absl::CivilDay observed;  // the day off: Saturday -> Friday before, Sunday -> Monday after
};

// The holidays whose statutory date falls in `year`, in date order. Martin Luther King Jr.
// Day from 1986 and Juneteenth from 2021 (the years they were first observed); the other
// nine with today's rules for every year. The observed day of New Year's Day can fall in
// the year before (2022-01-01 was a Saturday: observed Friday 2021-12-31).
std::vector<FederalHoliday> FederalHolidays(int year);

// Returns true when `day` is a legal public holiday or the day it is observed on.
bool IsFederalHoliday(absl::CivilDay day);

// Returns true when `day` is not a Saturday, a Sunday or a federal holiday (statutory or
// observed).
bool IsBusinessDay(absl::CivilDay day);

// The day `n` business days after `day` (`day` itself is not counted; it need not be a
// business day). Negative `n` counts backwards; zero returns `day`.
absl::CivilDay AddBusinessDays(absl::CivilDay day, int n);

// `day` if it is a business day, otherwise the first business day after it.
absl::CivilDay NextBusinessDay(absl::CivilDay day);

// The number of business days d with from < d <= to (0 when to <= from). "Notice on Monday,
// deposit on Thursday" is 3.
int BusinessDaysBetween(absl::CivilDay from, absl::CivilDay to);

// F12: the validation period of a notice sent on `notice_sent_day`.
struct ValidationPeriodDays {
  // Receipt is assumed this many business days after sending (Reg F 1006.34(b)(5)).
  absl::CivilDay assumed_receipt_day;
  // The last day of the period: receipt + period days, calendar days, never rolled forward
  // even when it is a weekend or holiday.
  absl::CivilDay period_end_day;
};

// Defaults are the federal ones (5 business days, 30 calendar days); the engine passes the
// policy's numbers.
ValidationPeriodDays ValidationPeriod(absl::CivilDay notice_sent_day, int receipt_business_days = 5,
                                      int period_days = 30);

}  // namespace collections::compliance
