#include "services/compliance/calendar.h"

#include <algorithm>

namespace collections::compliance {
namespace {

// The `nth` (1-based) `weekday` of a month.
absl::CivilDay NthWeekday(int year, int month, absl::Weekday weekday, int nth) {
  absl::CivilDay first(year, month, 1);
  absl::CivilDay day = first;
  while (absl::GetWeekday(day) != weekday) ++day;
  return day + 7 * (nth - 1);
}

// The last `weekday` of a month.
absl::CivilDay LastWeekday(int year, int month, absl::Weekday weekday) {
  absl::CivilDay day = absl::CivilDay(absl::CivilMonth(year, month) + 1) - 1;
  while (absl::GetWeekday(day) != weekday) --day;
  return day;
}

absl::CivilDay Observed(absl::CivilDay date) {
  switch (absl::GetWeekday(date)) {
    case absl::Weekday::saturday:
      return date - 1;
    case absl::Weekday::sunday:
      return date + 1;
    default:
      return date;
  }
}

bool IsWeekend(absl::CivilDay day) {
  absl::Weekday w = absl::GetWeekday(day);
  return w == absl::Weekday::saturday || w == absl::Weekday::sunday;
}

}  // namespace

std::vector<FederalHoliday> FederalHolidays(int year) {
  std::vector<FederalHoliday> out;
  auto add = [&out](std::string name, absl::CivilDay date) {
    out.push_back(FederalHoliday{std::move(name), date, Observed(date)});
  };
  using absl::Weekday;
  add("New Year's Day", absl::CivilDay(year, 1, 1));
  if (year >= 1986)
    add("Birthday of Martin Luther King, Jr.", NthWeekday(year, 1, Weekday::monday, 3));
  add("Washington's Birthday", NthWeekday(year, 2, Weekday::monday, 3));
  add("Memorial Day", LastWeekday(year, 5, Weekday::monday));
  if (year >= 2021) add("Juneteenth National Independence Day", absl::CivilDay(year, 6, 19));
  add("Independence Day", absl::CivilDay(year, 7, 4));
  add("Labor Day", NthWeekday(year, 9, Weekday::monday, 1));
  add("Columbus Day", NthWeekday(year, 10, Weekday::monday, 2));
  add("Veterans Day", absl::CivilDay(year, 11, 11));
  add("Thanksgiving Day", NthWeekday(year, 11, Weekday::thursday, 4));
  add("Christmas Day", absl::CivilDay(year, 12, 25));
  return out;
}

bool IsFederalHoliday(absl::CivilDay day) {
  // The observed day of next year's New Year's Day can be Dec 31 of this year.
  for (int year : {static_cast<int>(day.year()), static_cast<int>(day.year()) + 1}) {
    for (const FederalHoliday& h : FederalHolidays(year)) {
      if (h.date == day || h.observed == day) return true;
    }
  }
  return false;
}

bool IsBusinessDay(absl::CivilDay day) { return !IsWeekend(day) && !IsFederalHoliday(day); }

absl::CivilDay AddBusinessDays(absl::CivilDay day, int n) {
  const int step = n < 0 ? -1 : 1;
  for (int remaining = n < 0 ? -n : n; remaining > 0;) {
    day += step;
    if (IsBusinessDay(day)) --remaining;
  }
  return day;
}

absl::CivilDay NextBusinessDay(absl::CivilDay day) {
  while (!IsBusinessDay(day)) ++day;
  return day;
}

int BusinessDaysBetween(absl::CivilDay from, absl::CivilDay to) {
  int count = 0;
  for (absl::CivilDay d = from + 1; d <= to; ++d) {
    if (IsBusinessDay(d)) ++count;
  }
  return count;
}

ValidationPeriodDays ValidationPeriod(absl::CivilDay notice_sent_day, int receipt_business_days,
                                      int period_days) {
  absl::CivilDay receipt = AddBusinessDays(notice_sent_day, receipt_business_days);
  return ValidationPeriodDays{receipt, receipt + period_days};
}

}  // namespace collections::compliance
