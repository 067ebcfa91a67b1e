#pragma once

#include "services/authz/access_control.h"
#include "services/domain/error.h"

#include "collections/v1/common.pb.h"

#include <grpcpp/server_context.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace collections::authz {

// The authenticated caller of one RPC and the role the access policy gives it.
struct Caller {
  std::string principal;
  std::string role;
};

// The door of every RPC: who is calling (the verified client certificate, never a request
// field) and whether the role matrix lets them. Handlers call Authorize() first and answer
// with its error; command handlers then StampActor() the request so the events record the
// authenticated principal.
//
// Lifetime: built by the server before its services, outlives them. Threading: thread-safe;
// SetPolicy swaps the policy atomically for calls that start afterwards.
class CallGuard {
 public:
  // `plaintext_principal`: the identity given to calls without an authenticated peer, used
  // only by a server the operator explicitly started in plaintext on a loopback address;
  // empty = such calls are UNAUTHENTICATED. `service_principal`: the service's own identity,
  // which its processes call each other with (AuthorizePeer): the principal of the server's
  // certificate (CertificatePrincipal); for a plaintext server, its plaintext principal (the
  // only identity a call has there). Empty = no call is a peer's.
  CallGuard(AccessControl access, std::string plaintext_principal,
            std::string service_principal = "");

  // Returns the caller, or kUnauthenticated (reason UNAUTHENTICATED) when the call has no
  // authenticated identity, or kPermissionDenied (reason UNKNOWN_PRINCIPAL, RPC_NOT_ALLOWED,
  // PRIVILEGE_REQUIRED) with metadata principal, role, roles_allowed, rpc, policy_version.
  Result<Caller> Authorize(const grpc::ServerContextBase& context,
                           std::string_view full_method) const;

  // The door of the service's internal RPCs (collections.state.v1.PeerCommandService): they
  // carry commands whose actor another process of the deployment already stamped, so the
  // access policy's roles never reach them; only the service itself may call them,
  // authenticated as service_principal (holding the service's own key, or a certificate the
  // CA issued in its name). Returns the caller (role ""), or kUnauthenticated as Authorize does,
  // or kPermissionDenied (NOT_A_PEER) with metadata principal, rpc.
  Result<Caller> AuthorizePeer(const grpc::ServerContextBase& context,
                               std::string_view full_method) const;

  // Replaces what the request says about its actor with the caller: id = principal,
  // role = the principal's role; kind is kept (defaults to SERVICE); on_behalf_of is kept only
  // when the role holds PRIVILEGE_ACT_ON_BEHALF_OF, else kPermissionDenied
  // (ON_BEHALF_OF_NOT_ALLOWED).
  Status StampActor(const Caller& caller, v1::Actor* actor) const;

  bool HasPrivilege(const Caller& caller, v1::Privilege privilege) const;
  // Roles holding `privilege` under the current policy.
  std::vector<std::string> RolesWithPrivilege(v1::Privilege privilege) const;

  std::shared_ptr<const AccessControl> access() const;
  void SetPolicy(AccessControl access);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const AccessControl> access_;  // guarded by mutex_ (the pointer)
  const std::string plaintext_principal_;
  const std::string service_principal_;
};

}  // namespace collections::authz
