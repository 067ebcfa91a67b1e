#pragma once

#include "services/domain/command.h"
#include "services/domain/customer_aggregate.h"
#include "services/domain/error.h"

#include "collections/state/v1/peer_command_service.pb.h"

namespace collections::peer {

// A command as it travels to the owner of its partition: the full name of its request message
// and the message's bytes, so either side needs nothing but the domain's two variants to
// agree on what it is.
state::v1::ForwardedCommand Encode(const Command& command, bool dry_run);
state::v1::ForwardedCommand Encode(const CustomerCommand& command);

// Back to the domain's command: the alternative of Command (DecodeCommand) or CustomerCommand
// (DecodeCustomerCommand, for `customer`) that `type` names, parsed from the bytes.
// kInvalidArgument otherwise: UNKNOWN_COMMAND_TYPE (field "type": not a command of that kind,
// e.g. one a newer release added) or UNPARSABLE_COMMAND (field "command").
Result<Command> DecodeCommand(const state::v1::ForwardedCommand& forwarded);
Result<CustomerCommand> DecodeCustomerCommand(const state::v1::ForwardedCommand& forwarded);

// The trailing metadata a refused customer command carries its peek state in (a refusal has
// no reply body): a serialized PeekState.
inline constexpr char kCustomerStateTrailer[] = "collections-customer-state-bin";

// What the owner returns of a customer for the forwarding side's peek: the customer's recorded
// facts (kind, commercial, zone, currency, quarantine ...), without any of its lists (contacts,
// accounts, the ledger), which grow with the customer and which no peek reads.
CustomerState PeekState(const CustomerState& customer);

}  // namespace collections::peer
