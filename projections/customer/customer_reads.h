#pragma once

#include "projections/customer/customer_store.h"
#include "services/domain/error.h"

#include "absl/time/time.h"
#include "collections/v1/customer_query_service.pb.h"

namespace collections::customer {

// The answers of CustomerQueryService, read from the customer store: everything but
// transport, authorization and read-your-writes waits (customer_query_service.h), so the unit
// tests ask exactly what a caller asks. `now` is the service clock's "today" for days past due
// and aging, and the default as-known-at instant. Each call reads through one store snapshot
// (a batch applied meanwhile is seen in full or not at all). Pure apart from the store reads;
// any thread.

// Limits of one answer.
inline constexpr int kDefaultInvoicePage = 100;
inline constexpr int kMaxInvoicePage = 500;
inline constexpr int kDefaultShutdownPage = 100;
inline constexpr int kMaxShutdownPage = 1000;
inline constexpr int kDefaultWorkQueue = 50;
inline constexpr int kMaxWorkQueue = 1000;
inline constexpr int kMaxStatementDays = 366;
// Lines a statement may read; a period with more must be asked in shorter periods.
inline constexpr int kMaxStatementLines = 20000;

// kInvalidArgument naming every wrong field; kNotFound (CUSTOMER_NOT_FOUND) when the
// customer has no stream.
Result<v1::GetCustomerResponse> ReadCustomer(const CustomerStore& store,
                                             const v1::GetCustomerRequest& request,
                                             absl::Time now);

// The statement (and, for CSV / HTML, its document). kInvalidArgument naming every wrong field
// (dates, a period longer than kMaxStatementDays, to before from, a negative as_known_at);
// kNotFound for an unknown customer; kFailedPrecondition (STATEMENT_TOO_LARGE) past
// kMaxStatementLines.
Result<v1::GetCustomerReconciliationResponse> ReadReconciliation(
    const CustomerStore& store, const v1::GetCustomerReconciliationRequest& request,
    absl::Time now);

Result<v1::GetShutdownReportResponse> ReadShutdownReport(
    const CustomerStore& store, const v1::GetShutdownReportRequest& request, absl::Time now);

Result<v1::GetCustomerWorkQueueResponse> ReadCustomerWorkQueue(
    const CustomerStore& store, const v1::GetCustomerWorkQueueRequest& request, absl::Time now);

}  // namespace collections::customer
