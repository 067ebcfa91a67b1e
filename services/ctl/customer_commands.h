#pragma once

#include <string_view>
#include <vector>

namespace collections::ctl {

// The customer subcommands of collectionsctl (open-customer, record-invoice, receive-payment
// ...): each builds one request of collections.v1.CustomerCommandService from its flags, sends
// it as the principal --as (default "admin"; "supervisor-1" for approve-hold and
// release-hold) and prints the reply (the customer stream's new version and log position).

// The subcommands' names, for the tool's command table.
const std::vector<std::string_view>& CustomerCommandNames();
// A one-line summary of each, for the tool's overview.
const char* CustomerCommandsOverview();
// Runs subcommand `name` with `argv` (program name, then its flags). Returns the exit code.
int RunCustomerCommand(std::string_view name, int argc, char** argv);

}  // namespace collections::ctl
