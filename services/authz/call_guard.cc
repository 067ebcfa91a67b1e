#include "services/authz/call_guard.h"

#include "services/authz/tls.h"
#include "services/common/log.h"

#include "absl/strings/str_join.h"

namespace collections::authz {

CallGuard::CallGuard(AccessControl access, std::string plaintext_principal,
                     std::string service_principal)
    : access_(std::make_shared<const AccessControl>(std::move(access))),
      plaintext_principal_(std::move(plaintext_principal)),
      service_principal_(std::move(service_principal)) {}

std::shared_ptr<const AccessControl> CallGuard::access() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return access_;
}

void CallGuard::SetPolicy(AccessControl access) {
  auto next = std::make_shared<const AccessControl>(std::move(access));
  std::lock_guard<std::mutex> lock(mutex_);
  access_ = std::move(next);
}

namespace {

Error Unauthenticated(const std::string& method) {
  return Error{Errc::kUnauthenticated,
               "UNAUTHENTICATED",
               "the call has no authenticated identity: connect with TLS and a client "
               "certificate issued by the service's CA",
               "",
               method,
               {{"rpc", method}}};
}

}  // namespace

Result<Caller> CallGuard::AuthorizePeer(const grpc::ServerContextBase& context,
                                        std::string_view full_method) const {
  std::string principal = AuthenticatedPrincipal(context);
  if (principal.empty()) principal = plaintext_principal_;
  std::string method(NormalizeMethod(full_method));
  if (principal.empty()) return Unauthenticated(method);
  if (service_principal_.empty() || principal != service_principal_) {
    LogWarn("authz", "denied ", method, " to principal ", principal,
            ": only the service's own processes may call it");
    return Error{Errc::kPermissionDenied,
                 "NOT_A_PEER",
                 method + " is the service's own: only its processes, authenticated with its "
                          "certificate, call it. Clients send commands to "
                          "collections.v1.CaseCommandService and CustomerCommandService",
                 "",
                 principal,
                 {{"principal", principal}, {"rpc", method}}};
  }
  return Caller{principal, ""};
}

Result<Caller> CallGuard::Authorize(const grpc::ServerContextBase& context,
                                    std::string_view full_method) const {
  std::string principal = AuthenticatedPrincipal(context);
  if (principal.empty()) principal = plaintext_principal_;
  std::string method(NormalizeMethod(full_method));
  if (principal.empty()) return Unauthenticated(method);
  auto access = this->access();
  AccessDecision d = access->Check(principal, method);
  if (!d.allowed) {
    LogWarn("authz", "denied ", method, " to principal ", principal, " (role ",
            d.role.empty() ? "none" : d.role, "): ", d.reason);
    return Error{Errc::kPermissionDenied,
                 d.reason,
                 d.message,
                 "",
                 principal,
                 {{"principal", principal},
                  {"role", d.role},
                  {"roles_allowed", absl::StrJoin(d.roles_allowed, ",")},
                  {"rpc", method},
                  {"policy_version", access->version()}}};
  }
  return Caller{principal, d.role};
}

Status CallGuard::StampActor(const Caller& caller, v1::Actor* actor) const {
  if (!actor->on_behalf_of().empty() && actor->on_behalf_of() != caller.principal &&
      !HasPrivilege(caller, v1::PRIVILEGE_ACT_ON_BEHALF_OF)) {
    auto access = this->access();
    return Error{Errc::kPermissionDenied,
                 "ON_BEHALF_OF_NOT_ALLOWED",
                 "role " + caller.role + " of principal \"" + caller.principal +
                     "\" may not act on behalf of another person (actor.on_behalf_of); roles "
                     "that may: " +
                     absl::StrJoin(access->RolesWithPrivilege(v1::PRIVILEGE_ACT_ON_BEHALF_OF),
                                   ", "),
                 "actor.on_behalf_of",
                 caller.principal,
                 {{"principal", caller.principal},
                  {"role", caller.role},
                  {"privilege", "PRIVILEGE_ACT_ON_BEHALF_OF"},
                  {"policy_version", access->version()}}};
  }
  if (actor->on_behalf_of() == caller.principal) actor->clear_on_behalf_of();
  actor->set_id(caller.principal);
  actor->set_role(caller.role);
  if (actor->kind() == v1::ACTOR_KIND_UNSPECIFIED) actor->set_kind(v1::ACTOR_KIND_SERVICE);
  return std::nullopt;
}

bool CallGuard::HasPrivilege(const Caller& caller, v1::Privilege privilege) const {
  return access()->HasPrivilege(caller.role, privilege);
}

std::vector<std::string> CallGuard::RolesWithPrivilege(v1::Privilege privilege) const {
  return access()->RolesWithPrivilege(privilege);
}

}  // namespace collections::authz
