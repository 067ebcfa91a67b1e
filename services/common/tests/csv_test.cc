#include "services/common/csv.h"

#include <boost/test/unit_test.hpp>

namespace collections {
namespace {

BOOST_AUTO_TEST_CASE(plain_cells_are_left_alone_and_rfc4180_quoting_applies) {
  BOOST_TEST(CsvCell("Acme Bank") == "Acme Bank");
  BOOST_TEST(CsvCell("") == "");
  BOOST_TEST(CsvCell("a,b") == "\"a,b\"");
  BOOST_TEST(CsvCell("say \"hi\"") == "\"say \"\"hi\"\"\"");
  BOOST_TEST(CsvCell("two\nlines") == "\"two\nlines\"");
}

BOOST_AUTO_TEST_CASE(cells_a_spreadsheet_would_run_as_formulas_are_defused) {
  // The creditor a hostile upstream could name: opened in a spreadsheet it must show as text.
  BOOST_TEST(CsvCell("=HYPERLINK(\"http://x\",\"pay\")") ==
             "\"'=HYPERLINK(\"\"http://x\"\",\"\"pay\"\")\"");
  BOOST_TEST(CsvCell("+1+2") == "\"'+1+2\"");
  BOOST_TEST(CsvCell("-2+3") == "\"'-2+3\"");
  BOOST_TEST(CsvCell("@SUM(A1)") == "\"'@SUM(A1)\"");
  BOOST_TEST(CsvCell("\tx") == "\"'\tx\"");
  BOOST_TEST(CsvCell("\rx") == "\"'\rx\"");
}

BOOST_AUTO_TEST_CASE(negative_amounts_stay_numbers) {
  BOOST_TEST(CsvCell("-1500") == "-1500");
  BOOST_TEST(CsvCell("-12.50") == "-12.50");
  BOOST_TEST(IsPlainNumber("0"));
  BOOST_TEST(!IsPlainNumber("-"));
  BOOST_TEST(!IsPlainNumber("1."));
  BOOST_TEST(!IsPlainNumber("1e5"));
}

}  // namespace
}  // namespace collections
