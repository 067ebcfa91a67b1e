#pragma once

// What the customer read commands of collectionsctl print for people: the answers of
// collections.v1.CustomerQueryService as sections of aligned text, money in the customer's
// currency with its ISO 4217 decimals ("1,500.00 USD", "15,000 JPY"). Pure (no I/O, no
// clock), so the unit tests check exactly what a collections specialist reads. Machine
// formats are the service's own (its CSV and HTML documents, or the message as JSON); nothing
// here is meant to be parsed. Thread-compatible.

#include "collections/v1/customer_query_service.pb.h"

#include <string>

namespace collections::ctl {

// `collectionsctl customer`: the profile, linked accounts, totals, days past due, aging, open
// discrepancies, holds, credit memos waiting for approval, the invoice page and, when there
// is one, the flag that fetches the next page. `paid_included` says which page it is (open
// invoices by due date, or every invoice by id), as the request asked.
std::string CustomerText(const v1::GetCustomerResponse& customer, bool paid_included);

// `collectionsctl statement --format text`: the period and the instant it is known at, the
// summary (opening, invoiced, payments, memos, refunds, closing, unapplied cash, open items),
// the lines with the running balance and the open items at the end of the period.
std::string StatementText(const v1::CustomerReconciliation& statement);

// `collectionsctl shutdown-report --format text`: one row per hold recommended or approved
// and not released, today's exposure and days past due beside it; the next page's flag.
std::string ShutdownReportText(const v1::GetShutdownReportResponse& report);

// `collectionsctl customer-queue`: the customers with something past due, highest
// exposure x days past due first, ranked from 1.
std::string CustomerQueueText(const v1::GetCustomerWorkQueueResponse& queue);

}  // namespace collections::ctl
