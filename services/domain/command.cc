#include "services/domain/command.h"

#include "services/domain/customer_aggregate.h"
#include "services/domain/internal.h"

namespace collections {
namespace {

// One reading of every request variant (case Command, CustomerCommand): they share fields 1-6.
template <typename CommandVariant>
absl::Time OccurredAtOf(const CommandVariant& c, absl::Time received) {
  return std::visit(
      [&](const auto& r) {
        if (!r.has_occurred_at()) return received;
        return internal::ToTime(r.occurred_at());
      },
      c);
}

template <typename CommandVariant>
std::string NameOf(const CommandVariant& c) {
  std::string name = std::visit([](const auto& r) { return r.GetDescriptor()->name(); }, c);
  constexpr std::string_view kSuffix = "Request";
  if (name.size() > kSuffix.size() && name.ends_with(kSuffix))
    name.resize(name.size() - kSuffix.size());
  return name;
}

}  // namespace

absl::Time OccurredAt(const Command& c, absl::Time received) { return OccurredAtOf(c, received); }
absl::Time CustomerOccurredAt(const CustomerCommand& c, absl::Time received) {
  return OccurredAtOf(c, received);
}

std::string CommandName(const Command& c) { return NameOf(c); }
std::string CustomerCommandName(const CustomerCommand& c) { return NameOf(c); }

}  // namespace collections
