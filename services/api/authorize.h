#pragma once

#include "services/api/error_mapping.h"
#include "services/authz/call_guard.h"

#include <grpcpp/server_context.h>

#include <optional>

namespace collections {

// The first line of every read handler: the authenticated caller's role must allow `method`.
// Returns the status to answer with (UNAUTHENTICATED / PERMISSION_DENIED with ErrorInfo), or
// nullopt to serve the call. A null guard allows everything (services built without one).
inline std::optional<grpc::Status> RefuseUnauthorized(const authz::CallGuard* guard,
                                                      const grpc::ServerContextBase& context,
                                                      const char* method) {
  if (guard == nullptr) return std::nullopt;
  auto caller = guard->Authorize(context, method);
  if (!caller) return ToGrpcStatus(caller.error());
  return std::nullopt;
}

}  // namespace collections
