#pragma once

#include "absl/time/clock.h"
#include "absl/time/time.h"

#include <grpcpp/server_context.h>

#include <chrono>

namespace collections {

// The call's deadline, capped at 30 s from now: a call without a deadline must not hold a
// server thread forever.
inline absl::Time CallDeadline(const grpc::ServerContextBase* context) {
  absl::Time cap = absl::Now() + absl::Seconds(30);
  auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return cap;
  return std::min(cap, absl::FromChrono(deadline));
}

}  // namespace collections
