// What the customer read commands print: money in the customer's currency with its decimals,
// every section said even when empty, holds and the next page's flag, the statement's running
// balance with signed changes.
#include "services/ctl/customer_text.h"

#include <boost/test/unit_test.hpp>

namespace collections::ctl {
namespace {

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

v1::LocalDate Date(int y, int m, int d) {
  v1::LocalDate date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

BOOST_AUTO_TEST_CASE(customer_shows_totals_in_the_currency_and_the_next_page) {
  v1::GetCustomerResponse c;
  c.set_customer_id("C-1");
  c.set_name("Northwind Traders");
  c.set_kind(v1::CUSTOMER_KIND_COMPANY);
  c.set_commercial(true);
  c.set_currency("USD");
  c.set_time_zone("America/Chicago");
  c.add_account_ids("ACC-1");
  c.add_account_ids("ACC-2");
  c.mutable_totals()->set_open_minor(2500000);
  c.mutable_totals()->set_open_invoices(2);
  c.mutable_totals()->set_available_credit_minor(-500);
  c.set_days_past_due(37);
  c.set_hold_status(v1::CREDIT_HOLD_STATUS_RECOMMENDED);
  auto* aging = c.add_aging();
  aging->set_bucket(v1::AGING_BUCKET_30_59);
  aging->set_invoices(2);
  aging->set_open_minor(2500000);
  auto* hold = c.add_holds();
  hold->set_hold_id("H-1");
  hold->set_status(v1::CREDIT_HOLD_STATUS_RECOMMENDED);
  hold->set_reason("37 days past due");
  hold->set_recommended_by("collector-1");
  auto* invoice = c.add_invoices();
  invoice->mutable_invoice()->set_invoice_id("INV-1");
  invoice->mutable_invoice()->set_number("1001");
  *invoice->mutable_invoice()->mutable_due_date() = Date(2025, 9, 1);
  invoice->mutable_invoice()->mutable_amount()->set_amount_minor(2000000);
  invoice->set_status(v1::CUSTOMER_INVOICE_STATUS_OPEN);
  invoice->set_open_minor(1999999);
  invoice->set_aging_bucket(v1::AGING_BUCKET_30_59);
  c.set_next_page_token("iINV-1");

  const std::string text = CustomerText(c, false);
  BOOST_TEST(text.rfind("Customer C-1: Northwind Traders\n", 0) == 0u, text);
  BOOST_TEST(Has(text, "company, commercial"), text);
  BOOST_TEST(Has(text, "ACC-1, ACC-2"), text);
  BOOST_TEST(Has(text, "25,000.00 USD on 2 invoice(s)"), text);
  BOOST_TEST(Has(text, "-5.00 USD"), text);  // over the credit limit
  BOOST_TEST(Has(text, "days past due     37"), text);
  BOOST_TEST(Has(text, "credit hold       RECOMMENDED"), text);
  BOOST_TEST(Has(text, "30_59   2         25,000.00 USD"), text);
  BOOST_TEST(Has(text, "H-1   RECOMMENDED  37 days past due  collector-1"), text);
  BOOST_TEST(Has(text, "INV-1    1001"), text);
  BOOST_TEST(Has(text, "2025-09-01  OPEN    20,000.00 USD  19,999.99 USD"), text);
  // An unapproved hold has no approval time, not 1970.
  BOOST_TEST(!Has(text, "1970"), text);
  // Empty sections are said.
  BOOST_TEST(Has(text, "Open short-payment discrepancies\n  (none)\n"), text);
  BOOST_TEST(Has(text, "Credit memos waiting for approval\n  (none)\n"), text);
  BOOST_TEST(text.ends_with("\n  next page: --page-token iINV-1\n"), text);
  BOOST_TEST(!Has(text, " \n"), text);  // no padding at the end of a line

  // Yen has no decimals.
  c.set_currency("JPY");
  BOOST_TEST(Has(CustomerText(c, true), "2,500,000 JPY on 2 invoice(s)"));
  BOOST_TEST(Has(CustomerText(c, true), "Invoices (all, by invoice id)"));
}

BOOST_AUTO_TEST_CASE(statement_prints_lines_with_signed_changes_and_the_open_items) {
  v1::CustomerReconciliation s;
  s.set_customer_id("C-1");
  s.set_name("Northwind Traders");
  s.set_currency("USD");
  s.set_time_zone("America/Chicago");
  *s.mutable_from() = Date(2025, 10, 1);
  *s.mutable_to() = Date(2025, 10, 31);
  s.mutable_as_known_at()->set_seconds(1761955200);  // 2025-11-01T00:00:00Z
  s.set_invoiced_minor(40000);
  s.set_payments_minor(15000);
  s.set_closing_balance_minor(25000);
  auto* invoice = s.add_lines();
  invoice->set_sequence(3);
  invoice->set_kind(v1::STATEMENT_LINE_KIND_INVOICE);
  *invoice->mutable_business_date() = Date(2025, 10, 8);
  invoice->set_invoice_id("INV-1");
  invoice->set_amount_minor(20000);
  invoice->set_balance_change_minor(20000);
  invoice->set_balance_after_minor(20000);
  auto* payment = s.add_lines();
  payment->set_sequence(5);
  payment->set_kind(v1::STATEMENT_LINE_KIND_PAYMENT);
  *payment->mutable_business_date() = Date(2025, 10, 8);
  payment->set_payment_id("P-1");
  payment->set_reference("CHQ-1");
  payment->set_amount_minor(15000);
  payment->set_balance_change_minor(-15000);
  payment->set_balance_after_minor(5000);
  auto* applied = s.add_lines();
  applied->set_sequence(6);
  applied->set_kind(v1::STATEMENT_LINE_KIND_PAYMENT_APPLIED);
  *applied->mutable_business_date() = Date(2025, 10, 8);
  applied->set_amount_minor(15000);
  applied->set_balance_after_minor(5000);
  applied->set_detail("directed");

  const std::string text = StatementText(s);
  BOOST_TEST(text.rfind("Statement of account C-1: Northwind Traders\n", 0) == 0u, text);
  BOOST_TEST(Has(text, "2025-10-01 to 2025-10-31 (business dates in America/Chicago)"), text);
  BOOST_TEST(Has(text, "as known at      2025-11-01T00:00:00Z"), text);
  BOOST_TEST(Has(text, "closing balance  250.00 USD"), text);
  BOOST_TEST(Has(text, "Lines (3, by date then sequence)"), text);
  BOOST_TEST(Has(text, "INVOICE          INV-1"), text);
  BOOST_TEST(Has(text, "+200.00 USD"), text);
  BOOST_TEST(Has(text, "P-1      CHQ-1      150.00 USD  -150.00 USD  50.00 USD"), text);
  // A line that only says where money went changes nothing: its "change" cell is empty.
  BOOST_TEST(Has(text, "PAYMENT_APPLIED                                        150.00 USD       "
                       "        50.00 USD   directed\n"),
             text);
  BOOST_TEST(Has(text, "Open items on 2025-10-31 (0)\n  (nothing open)\n"), text);
}

BOOST_AUTO_TEST_CASE(shutdown_report_and_queue_say_when_they_are_empty) {
  v1::GetShutdownReportResponse report;
  BOOST_TEST(Has(ShutdownReportText(report), "(no customer is on credit hold"));
  auto* e = report.add_entries();
  e->set_customer_id("C-1");
  e->set_name("Northwind Traders");
  e->set_currency("EUR");
  e->set_exposure_minor(123456);
  e->set_days_past_due(61);
  e->mutable_hold()->set_hold_id("H-1");
  e->mutable_hold()->set_status(v1::CREDIT_HOLD_STATUS_APPROVED);
  e->mutable_hold()->set_approved_by("supervisor-1");
  report.set_next_page_token("4332");
  const std::string text = ShutdownReportText(report);
  BOOST_TEST(Has(text, "C-1       Northwind Traders  H-1   APPROVED"), text);
  BOOST_TEST(Has(text, "1,234.56 EUR"), text);
  BOOST_TEST(Has(text, "next page: --page-token 4332"), text);

  v1::GetCustomerWorkQueueResponse queue;
  BOOST_TEST(Has(CustomerQueueText(queue), "(no customer has anything past due)"));
  auto* item = queue.add_items();
  item->set_customer_id("C-2");
  item->set_name("Contoso");
  item->set_currency("JPY");
  item->set_exposure_minor(150000);
  item->set_days_past_due(10);
  item->set_priority(1500000);
  BOOST_TEST(Has(CustomerQueueText(queue), "1     C-2       Contoso  150,000 JPY  10             "
                                           "1500000"),
             CustomerQueueText(queue));
}

}  // namespace
}  // namespace collections::ctl
