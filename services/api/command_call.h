#pragma once

#include "services/api/admission.h"
#include "services/api/deadline.h"
#include "services/api/error_mapping.h"
#include "services/authz/call_guard.h"
#include "services/domain/error.h"

#include "collections/v1/case_service.pb.h"

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <functional>
#include <utility>

namespace collections {

// How a command RPC hands its request to the writers: routes it (with the call's deadline) and
// calls the completion exactly once with the outcome.
using CommandCompletion = std::function<void(Result<v1::CommandReply>)>;

// The one shape of every command RPC (CaseCommandService, CustomerCommandService), on gRPC's
// callback API: the authenticated caller must be allowed the method (CallGuard) before anything
// else; then admission (may be null); then the request as sent is checked (`validate`: a
// malformed actor is still wrong input, even though the service replaces its id and role);
// then the actor is stamped with the caller, whatever the request says; then `route` takes the
// request, the call deadline and a completion that finishes the call with the reply or a rich
// gRPC error. The call holds no thread while its command waits for its group commit.
template <typename Request, typename Validate, typename Route>
grpc::ServerUnaryReactor* ExecuteCommandCall(grpc::CallbackServerContext* context,
                                             const char* method, Request request,
                                             v1::CommandReply* reply,
                                             const authz::CallGuard& guard, Admission* admission,
                                             Validate validate, Route route) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto refuse = [reactor](grpc::Status status) {
    reactor->Finish(std::move(status));
    return reactor;
  };
  auto caller = guard.Authorize(*context, method);
  if (!caller) return refuse(ToGrpcStatus(caller.error()));
  if (admission != nullptr) {
    if (auto refused = admission->Admit(*context, &request)) return refuse(*refused);
  }
  if (Status e = validate(request)) return refuse(ToGrpcStatus(*e));
  if (auto e = guard.StampActor(caller.value(), request.mutable_actor())) {
    return refuse(ToGrpcStatus(*e));
  }
  route(std::move(request), CallDeadline(context),
        [reactor, reply](Result<v1::CommandReply> result) {
          if (!result) {
            reactor->Finish(ToGrpcStatus(result.error()));
            return;
          }
          *reply = std::move(result.value());
          reactor->Finish(grpc::Status::OK);
        });
  return reactor;
}

}  // namespace collections
