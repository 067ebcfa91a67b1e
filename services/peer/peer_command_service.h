#pragma once

#include "services/authz/call_guard.h"
#include "services/writer/writer.h"

#include "collections/state/v1/peer_command_service.grpc.pb.h"

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

namespace collections::peer {

// collections.state.v1.PeerCommandService: the owner's side of a forwarded command. Only the
// service's own processes may call it (CallGuard::AuthorizePeer: a normal client gets
// PERMISSION_DENIED NOT_A_PEER). The command is parsed (INVALID_ARGUMENT when its type is not
// one this release knows or its bytes do not parse), validated again as a caller's request
// would be (the forwarding process did, but it may run another release), and run here with
// CommandRouter::ExecuteHere, never forwarded further. Its actor is kept as the forwarding
// process stamped it. No admission: the forwarding process admitted the call (rate limit,
// size) when its caller made it.
//
// gRPC's callback API, as the public command services: no thread waits for the group commit.
// Stateless; thread-safe as the router and the guard are; both must outlive it.
class PeerCommandService final : public state::v1::PeerCommandService::CallbackService {
 public:
  PeerCommandService(CommandRouter& router, const authz::CallGuard& guard)
      : router_(router), guard_(guard) {}

  grpc::ServerUnaryReactor* Execute(grpc::CallbackServerContext* context,
                                    const state::v1::ForwardedCommand* request,
                                    state::v1::ForwardedReply* reply) override;

 private:
  CommandRouter& router_;
  const authz::CallGuard& guard_;
};

}  // namespace collections::peer
