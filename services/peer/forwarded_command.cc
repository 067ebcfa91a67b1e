#include "services/peer/forwarded_command.h"

#include <optional>
#include <utility>

namespace collections::peer {
namespace {

template <typename Variant>
state::v1::ForwardedCommand EncodeAny(const Variant& command) {
  state::v1::ForwardedCommand out;
  std::visit(
      [&out](const auto& request) {
        out.set_type(request.GetDescriptor()->full_name());
        request.SerializeToString(out.mutable_command());
      },
      command);
  return out;
}

// Parses the alternative T of Variant into `out` when `type` names it.
template <typename T, typename Variant>
bool TryAlternative(const state::v1::ForwardedCommand& forwarded,
                    std::optional<Result<Variant>>& out) {
  if (T::descriptor()->full_name() != forwarded.type()) return false;
  T request;
  if (request.ParseFromString(forwarded.command())) {
    out.emplace(Variant(std::move(request)));
  } else {
    out.emplace(Error{Errc::kInvalidArgument, "UNPARSABLE_COMMAND",
                      "the bytes are not a " + forwarded.type(), "command", forwarded.type()});
  }
  return true;
}

template <typename Variant>
Result<Variant> DecodeAny(const state::v1::ForwardedCommand& forwarded, const char* kind) {
  std::optional<Result<Variant>> out;
  [&]<size_t... I>(std::index_sequence<I...>) {
    (TryAlternative<std::variant_alternative_t<I, Variant>>(forwarded, out) || ...);
  }(std::make_index_sequence<std::variant_size_v<Variant>>());
  if (out) return std::move(*out);
  return Error{Errc::kInvalidArgument, "UNKNOWN_COMMAND_TYPE",
               Quoted(forwarded.type()) + " is not " + kind + " this release knows", "type",
               Truncated(forwarded.type(), kMaxQuotedInput)};
}

}  // namespace

state::v1::ForwardedCommand Encode(const Command& command, bool dry_run) {
  state::v1::ForwardedCommand out = EncodeAny(command);
  out.set_dry_run(dry_run);
  return out;
}

state::v1::ForwardedCommand Encode(const CustomerCommand& command) {
  state::v1::ForwardedCommand out = EncodeAny(command);
  out.set_customer(true);
  return out;
}

Result<Command> DecodeCommand(const state::v1::ForwardedCommand& forwarded) {
  return DecodeAny<Command>(forwarded, "an account command");
}

Result<CustomerCommand> DecodeCustomerCommand(const state::v1::ForwardedCommand& forwarded) {
  return DecodeAny<CustomerCommand>(forwarded, "a customer command");
}

CustomerState PeekState(const CustomerState& customer) {
  CustomerState out = customer;
  const auto* descriptor = out.GetDescriptor();
  const auto* reflection = out.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    if (descriptor->field(i)->is_repeated()) reflection->ClearField(&out, descriptor->field(i));
  }
  return out;
}

}  // namespace collections::peer
