#include "services/domain/command.h"

#include "services/domain/internal.h"

namespace collections {

absl::Time OccurredAt(const Command& c, absl::Time received) {
  return std::visit(
      [&](const auto& r) {
        if (!r.has_occurred_at()) return received;
        return internal::ToTime(r.occurred_at());
      },
      c);
}

std::string CommandName(const Command& c) {
  std::string name = std::visit([](const auto& r) { return r.GetDescriptor()->name(); }, c);
  constexpr std::string_view kSuffix = "Request";
  if (name.size() > kSuffix.size() && name.ends_with(kSuffix))
    name.resize(name.size() - kSuffix.size());
  return name;
}

}  // namespace collections
