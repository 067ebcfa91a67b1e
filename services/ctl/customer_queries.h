#pragma once

#include <string_view>
#include <vector>

namespace collections::ctl {

// The customer read subcommands of collectionsctl, the client of
// collections.v1.CustomerQueryService: `customer` (GetCustomer), `statement`
// (GetCustomerReconciliation), `shutdown-report` (GetShutdownReport) and `customer-queue`
// (GetCustomerWorkQueue). Each sends one request built from its flags as the principal --as
// (default "compliance-officer-1", like the audit reads) and prints the answer for people
// (customer_text.h), or the service's own CSV / HTML document byte for byte, or the message
// as JSON.

// The subcommands' names, for the tool's command table.
const std::vector<std::string_view>& CustomerQueryNames();
// A few lines on each, for the tool's overview.
const char* CustomerQueriesOverview();
// Runs subcommand `name` with `argv` (program name, then its flags). Returns the exit code.
int RunCustomerQuery(std::string_view name, int argc, char** argv);

}  // namespace collections::ctl
