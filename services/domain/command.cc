#include "services/domain/command.h"

namespace collections {

absl::Time OccurredAt(const Command& c, absl::Time received) {
  return std::visit(
      [&](const auto& r) {
        if (!r.has_occurred_at()) return received;
        return absl::FromUnixSeconds(r.occurred_at().seconds()) +
               absl::Nanoseconds(r.occurred_at().nanos());
      },
      c);
}

const char* CommandName(const Command& c) {
  struct Namer {
    const char* operator()(const v1::OpenCaseRequest&) const { return "OpenCase"; }
    const char* operator()(const v1::PostPaymentRequest&) const { return "PostPayment"; }
    const char* operator()(const v1::ReversePaymentRequest&) const { return "ReversePayment"; }
  };
  return std::visit(Namer{}, c);
}

}  // namespace collections
