#pragma once

#include "services/domain/error.h"

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_context.h>

#include <memory>
#include <string>

namespace collections::authz {

// Where the gRPC port's certificates are. Files are PEM. Read once at start-up: to rotate,
// replace the files and restart the service.
struct TlsOptions {
  std::string ca_path;    // CA(s) whose client certificates are accepted
  std::string cert_path;  // the server's certificate (chain)
  std::string key_path;   // its private key
};

// Server credentials for mutual TLS: the server presents cert/key and requires every client
// to present a certificate that chains to the CA (expired, not yet valid or foreign
// certificates fail the handshake). Returns kInvalidArgument naming the file it cannot read or
// that is not PEM.
Result<std::shared_ptr<grpc::ServerCredentials>> MutualTlsServerCredentials(
    const TlsOptions& options);

// Client credentials: trust `ca_path`, present cert/key (both empty: no client certificate).
Result<std::shared_ptr<grpc::ChannelCredentials>> MutualTlsChannelCredentials(
    const std::string& ca_path, const std::string& cert_path, const std::string& key_path);

// The caller's authenticated identity: the first URI subject alternative name of its verified
// client certificate, else its subject CN; "" when the call has no authenticated peer
// (plaintext). Never read from the request.
std::string AuthenticatedPrincipal(const grpc::ServerContextBase& context);

// The principal a certificate presents, by the same rule: its first URI subject alternative
// name, else its subject CN. `pem`: the certificate (the first of a chain). kInvalidArgument
// naming `field` when it is no certificate or names nobody. The server's own principal, which
// its peers authenticate with (CallGuard::AuthorizePeer).
Result<std::string> CertificatePrincipal(const std::string& pem, const std::string& field);

// True when `listen` ("host:port") names a loopback address: 127.0.0.0/8, [::1], localhost.
bool IsLoopbackAddress(const std::string& listen);

// Reads a whole file; kInvalidArgument "<path>: cannot open" naming `field`.
Result<std::string> ReadPemFile(const std::string& path, const std::string& field);

}  // namespace collections::authz
