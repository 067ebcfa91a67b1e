#include "services/authz/tls.h"

#include <grpcpp/security/auth_context.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

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

Result<std::string> CertificatePrincipal(const std::string& pem, const std::string& field) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = bio != nullptr ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (cert == nullptr) return Error::InvalidArgument(field, "--" + field + " holds no certificate");
  std::string principal;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names) && principal.empty(); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    principal.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                     ASN1_STRING_length(uri));
  }
  GENERAL_NAMES_free(names);
  if (principal.empty()) {
    X509_NAME* subject = X509_get_subject_name(cert);
    const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (at >= 0) {
      const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
      unsigned char* utf8 = nullptr;
      const int length = ASN1_STRING_to_UTF8(&utf8, cn);
      if (length > 0) principal.assign(reinterpret_cast<const char*>(utf8), length);
      OPENSSL_free(utf8);
    }
  }
  X509_free(cert);
  if (principal.empty()) {
    return Error::InvalidArgument(field, "--" + field +
                                             ": the certificate has neither a URI subject "
                                             "alternative name nor a subject CN");
  }
  return principal;
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
