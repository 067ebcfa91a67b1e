#define BOOST_TEST_MODULE compliance_calendar
#include "services/compliance/calendar.h"

#include <boost/test/unit_test.hpp>
#include <set>

namespace collections::compliance {
namespace {

absl::CivilDay Day(int y, int m, int d) { return absl::CivilDay(y, m, d); }

struct HolidayCase {
  absl::CivilDay day;
  bool holiday;
  const char* why;
};

BOOST_AUTO_TEST_CASE(holidays_and_observed_days_over_several_years) {
  const HolidayCase cases[] = {
      // 2021: Juneteenth's first year, and three Saturday/Sunday holidays.
      {Day(2021, 6, 18), true, "Juneteenth 2021 (Sat) observed Friday"},
      {Day(2021, 6, 19), true, "Juneteenth 2021 statutory day"},
      {Day(2021, 7, 5), true, "Independence Day 2021 (Sun) observed Monday"},
      {Day(2021, 12, 24), true, "Christmas 2021 (Sat) observed Friday"},
      {Day(2021, 12, 31), true, "New Year's Day 2022 (Sat) observed Friday in 2021"},
      {Day(2021, 12, 30), false, "an ordinary Thursday"},
      // 2022.
      {Day(2022, 6, 20), true, "Juneteenth 2022 (Sun) observed Monday"},
      {Day(2022, 12, 26), true, "Christmas 2022 (Sun) observed Monday"},
      {Day(2022, 1, 17), true, "MLK Day 2022, third Monday"},
      {Day(2022, 1, 10), false, "second Monday of January 2022"},
      // 2023.
      {Day(2023, 1, 2), true, "New Year's Day 2023 (Sun) observed Monday"},
      {Day(2023, 11, 10), true, "Veterans Day 2023 (Sat) observed Friday"},
      {Day(2023, 6, 19), true, "Juneteenth 2023 on a Monday"},
      // 2024.
      {Day(2024, 5, 27), true, "Memorial Day 2024, last Monday of May"},
      {Day(2024, 5, 20), false, "second-to-last Monday of May 2024"},
      {Day(2024, 11, 28), true, "Thanksgiving 2024"},
      {Day(2024, 11, 29), false, "day after Thanksgiving is not a federal holiday"},
      // 2025.
      {Day(2025, 1, 20), true, "MLK Day 2025"},
      {Day(2025, 2, 17), true, "Washington's Birthday 2025"},
      {Day(2025, 9, 1), true, "Labor Day 2025, first Monday"},
      {Day(2025, 10, 13), true, "Columbus Day 2025, second Monday"},
      {Day(2025, 10, 6), false, "first Monday of October 2025"},
      {Day(2025, 11, 11), true, "Veterans Day 2025"},
      {Day(2025, 11, 27), true, "Thanksgiving 2025, fourth Thursday"},
      {Day(2025, 11, 20), false, "third Thursday of November 2025"},
      // 2026 and 2027.
      {Day(2026, 7, 3), true, "Independence Day 2026 (Sat) observed Friday"},
      {Day(2027, 6, 18), true, "Juneteenth 2027 (Sat) observed Friday"},
      {Day(2027, 12, 31), true, "New Year's Day 2028 (Sat) observed Friday in 2027"},
      // Before the holidays existed.
      {Day(2020, 6, 19), false, "no Juneteenth before 2021"},
      {Day(2019, 6, 19), false, "no Juneteenth before 2021"},
      {Day(1985, 1, 21), false, "no MLK Day before 1986"},
      {Day(1986, 1, 20), true, "first MLK Day"},
      // Far future: the rules are the same.
      {Day(2100, 11, 25), true, "Thanksgiving 2100"},
  };
  for (const HolidayCase& c : cases) {
    BOOST_TEST_CONTEXT(c.why << " " << c.day) { BOOST_TEST(IsFederalHoliday(c.day) == c.holiday); }
  }
}

BOOST_AUTO_TEST_CASE(holiday_count_per_year_and_observed_days_are_weekdays) {
  BOOST_TEST(FederalHolidays(1985).size() == 9u);
  BOOST_TEST(FederalHolidays(2020).size() == 10u);
  for (int year = 1990; year <= 2060; ++year) {
    auto holidays = FederalHolidays(year);
    BOOST_TEST(holidays.size() == (year >= 2021 ? 11u : 10u));
    std::set<absl::CivilDay> distinct;
    for (const FederalHoliday& h : holidays) {
      BOOST_TEST_CONTEXT(h.name << " " << year) {
        absl::Weekday w = absl::GetWeekday(h.observed);
        BOOST_TEST((w != absl::Weekday::saturday && w != absl::Weekday::sunday));
        BOOST_TEST(std::abs(h.observed - h.date) <= 1);
        BOOST_TEST(!IsBusinessDay(h.observed));
      }
      distinct.insert(h.observed);
    }
    BOOST_TEST(distinct.size() == holidays.size());
  }
}

BOOST_AUTO_TEST_CASE(business_days) {
  BOOST_TEST(IsBusinessDay(Day(2025, 11, 26)));   // Wednesday
  BOOST_TEST(!IsBusinessDay(Day(2025, 11, 27)));  // Thanksgiving
  BOOST_TEST(!IsBusinessDay(Day(2025, 11, 29)));  // Saturday
  BOOST_TEST(!IsBusinessDay(Day(2025, 11, 30)));  // Sunday
  BOOST_TEST(!IsBusinessDay(Day(2021, 12, 25)));  // Saturday Christmas

  BOOST_TEST(AddBusinessDays(Day(2025, 11, 21), 1) == Day(2025, 11, 24));  // Fri -> Mon
  BOOST_TEST(AddBusinessDays(Day(2025, 11, 26), 1) == Day(2025, 11, 28));  // over Thanksgiving
  BOOST_TEST(AddBusinessDays(Day(2025, 11, 29), 0) == Day(2025, 11, 29));  // zero: unchanged
  BOOST_TEST(AddBusinessDays(Day(2025, 12, 1), -1) == Day(2025, 11, 28));
  BOOST_TEST(AddBusinessDays(Day(2025, 12, 1), -2) == Day(2025, 11, 26));
  BOOST_TEST(AddBusinessDays(Day(2021, 12, 30), 1) == Day(2022, 1, 3));  // Dec 31 observed

  BOOST_TEST(NextBusinessDay(Day(2025, 12, 27)) == Day(2025, 12, 29));  // Sat -> Mon
  BOOST_TEST(NextBusinessDay(Day(2025, 12, 25)) == Day(2025, 12, 26));  // Christmas -> Fri
  BOOST_TEST(NextBusinessDay(Day(2025, 12, 1)) == Day(2025, 12, 1));    // already one
  BOOST_TEST(NextBusinessDay(Day(2021, 12, 31)) == Day(2022, 1, 3));    // observed New Year

  BOOST_TEST(BusinessDaysBetween(Day(2025, 11, 24), Day(2025, 11, 27)) == 2);  // Tue, Wed
  BOOST_TEST(BusinessDaysBetween(Day(2025, 11, 24), Day(2025, 11, 28)) == 3);
  BOOST_TEST(BusinessDaysBetween(Day(2025, 11, 28), Day(2025, 11, 24)) == 0);
}

struct PeriodCase {
  absl::CivilDay sent;
  absl::CivilDay receipt;
  absl::CivilDay end;
  const char* why;
};

BOOST_AUTO_TEST_CASE(f12_validation_period) {
  const PeriodCase cases[] = {
      // docs/rules.md scenario 4: weekend and Thanksgiving skipped; the end is a Sunday and
      // is not rolled forward.
      {Day(2025, 11, 20), Day(2025, 11, 28), Day(2025, 12, 28), "scenario 4"},
      {Day(2025, 12, 19), Day(2025, 12, 29), Day(2026, 1, 28), "over Christmas"},
      {Day(2025, 6, 30), Day(2025, 7, 8), Day(2025, 8, 7), "over Independence Day"},
      {Day(2025, 12, 1), Day(2025, 12, 8), Day(2026, 1, 7), "plain week"},
      {Day(2025, 11, 22), Day(2025, 12, 1), Day(2025, 12, 31), "sent on a Saturday"},
  };
  for (const PeriodCase& c : cases) {
    BOOST_TEST_CONTEXT(c.why) {
      ValidationPeriodDays p = ValidationPeriod(c.sent);
      BOOST_TEST(p.assumed_receipt_day == c.receipt);
      BOOST_TEST(p.period_end_day == c.end);
    }
  }
  // The policy's numbers are honoured.
  ValidationPeriodDays p = ValidationPeriod(Day(2025, 11, 20), 3, 10);
  BOOST_TEST(p.assumed_receipt_day == Day(2025, 11, 25));
  BOOST_TEST(p.period_end_day == Day(2025, 12, 5));
}

}  // namespace
}  // namespace collections::compliance
