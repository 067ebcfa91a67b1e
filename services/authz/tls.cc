#include "services/authz/tls.h"

#include <grpcpp/security/auth_context.h>

#include <fstream>
#include <sstream>

namespace collections::authz {

Result<std::string> ReadPemFile(const std::string& path, const std::string& field) {
  if (path.empty()) return Error::InvalidArgument(field, "--" + field + " is not set");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::InvalidArgument(field, path + ": cannot open (--" + field + ")");
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  if (text.find("-----BEGIN ") == std::string::npos) {
    return Error::InvalidArgument(field, path + ": not a PEM file (--" + field + ")");
  }
  return text;
}

Result<std::shared_ptr<grpc::ServerCredentials>> MutualTlsServerCredentials(
    const TlsOptions& options) {
  auto ca = ReadPemFile(options.ca_path, "tls-ca");
  if (!ca) return ca.error();
  auto cert = ReadPemFile(options.cert_path, "tls-cert");
  if (!cert) return cert.error();
  auto key = ReadPemFile(options.key_path, "tls-key");
  if (!key) return key.error();
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = ca.value();
  ssl.pem_key_cert_pairs.push_back({key.value(), cert.value()});
  return grpc::SslServerCredentials(ssl);
}

Result<std::shared_ptr<grpc::ChannelCredentials>> MutualTlsChannelCredentials(
    const std::string& ca_path, const std::string& cert_path, const std::string& key_path) {
  grpc::SslCredentialsOptions ssl;
  auto ca = ReadPemFile(ca_path, "tls-ca");
  if (!ca) return ca.error();
  ssl.pem_root_certs = ca.value();
  if (!cert_path.empty() || !key_path.empty()) {
    auto cert = ReadPemFile(cert_path, "tls-cert");
    if (!cert) return cert.error();
    auto key = ReadPemFile(key_path, "tls-key");
    if (!key) return key.error();
    ssl.pem_cert_chain = cert.value();
    ssl.pem_private_key = key.value();
  }
  return grpc::SslCredentials(ssl);
}

std::string AuthenticatedPrincipal(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return "";
  for (const auto& uri : auth->FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME)) {
    if (!uri.empty()) return std::string(uri.data(), uri.size());
  }
  for (const auto& cn : auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME)) {
    if (!cn.empty()) return std::string(cn.data(), cn.size());
  }
  return "";
}

bool IsLoopbackAddress(const std::string& listen) {
  std::string host = listen;
  if (auto colon = host.rfind(':'); colon != std::string::npos && host.front() != '[') {
    host = host.substr(0, colon);
  } else if (host.front() == '[') {
    host = host.substr(1, host.find(']') - 1);
  }
  if (host == "localhost" || host == "::1") return true;
  if (host.rfind("127.", 0) == 0) {
    int dots = 0;
    for (char c : host) {
      if (c == '.') ++dots;
      else if (c < '0' || c > '9') return false;
    }
    return dots == 3;
  }
  return false;
}

}  // namespace collections::authz
