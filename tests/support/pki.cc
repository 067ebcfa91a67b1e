#include "tests/support/pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <stdexcept>

namespace collections::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what + " failed");
}

EVP_PKEY* NewKey() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  Check(key != nullptr, "EC key generation");
  return key;
}

void WriteKey(EVP_PKEY* key, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  Check(f != nullptr, "opening a key file");
  Check(PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1, "writing a key");
  std::fclose(f);
}

void WriteCert(X509* cert, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  Check(f != nullptr, "opening a certificate file");
  Check(PEM_write_X509(f, cert) == 1, "writing a certificate");
  std::fclose(f);
}

EVP_PKEY* ReadKey(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  Check(f != nullptr, "opening the CA key");
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  Check(key != nullptr, "reading the CA key");
  return key;
}

X509* ReadCert(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  Check(f != nullptr, "opening the CA certificate");
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  Check(cert != nullptr, "reading the CA certificate");
  return cert;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Check(ext != nullptr, "making an extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Issues a certificate for `key` named `cn`, signed by issuer/issuer_key (self-signed when
// issuer is null), valid from now + not_before_s to now + not_after_s.
X509* Issue(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key, int serial,
            long not_before_s, long not_after_s, bool is_ca, bool server) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), not_before_s);
  X509_gmtime_adj(X509_getm_notAfter(cert), not_after_s);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Collections test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509* ext_issuer = issuer != nullptr ? issuer : cert;
  if (is_ca) {
    AddExtension(cert, ext_issuer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert, ext_issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert, ext_issuer, NID_basic_constraints, "CA:FALSE");
    AddExtension(cert, ext_issuer, NID_key_usage, "critical,digitalSignature");
    // The server's certificate is also its identity as a client of the other processes of
    // its deployment (services/peer), as deploy/certs.sh issues it.
    AddExtension(cert, ext_issuer, NID_ext_key_usage,
                 server ? "serverAuth,clientAuth" : "clientAuth");
    if (server) AddExtension(cert, ext_issuer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  }
  Check(X509_sign(cert, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0, "signing");
  return cert;
}

constexpr long kDay = 24 * 3600;

}  // namespace

TestPki::TestPki(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
  ca_ = (dir_ / "ca.pem").string();
  ca_key_ = (dir_ / "ca.key").string();
  EVP_PKEY* ca_key = NewKey();
  X509* ca = Issue(ca_key, "Collections test CA", nullptr, nullptr, serial_++, -kDay, 30 * kDay,
                   true, false);
  WriteKey(ca_key, ca_key_);
  WriteCert(ca, ca_);
  EVP_PKEY* key = NewKey();
  X509* server = Issue(key, "localhost", ca, ca_key, serial_++, -kDay, 30 * kDay, false, true);
  server_ = {(dir_ / "server.pem").string(), (dir_ / "server.key").string()};
  WriteKey(key, server_.key);
  WriteCert(server, server_.cert);
  X509_free(server);
  EVP_PKEY_free(key);
  X509_free(ca);
  EVP_PKEY_free(ca_key);
}

CertFiles TestPki::Client(const std::string& principal, Validity validity) {
  long from = -kDay, to = 30 * kDay;
  std::string suffix;
  if (validity == Validity::kExpired) {
    from = -10 * kDay;
    to = -kDay;
    suffix = ".expired";
  } else if (validity == Validity::kNotYetValid) {
    from = kDay;
    to = 10 * kDay;
    suffix = ".future";
  }
  EVP_PKEY* ca_key = ReadKey(ca_key_);
  X509* ca = ReadCert(ca_);
  EVP_PKEY* key = NewKey();
  X509* cert = Issue(key, principal, ca, ca_key, serial_++, from, to, false, false);
  CertFiles files{(dir_ / (principal + suffix + ".pem")).string(),
                  (dir_ / (principal + suffix + ".key")).string()};
  WriteKey(key, files.key);
  WriteCert(cert, files.cert);
  X509_free(cert);
  EVP_PKEY_free(key);
  X509_free(ca);
  EVP_PKEY_free(ca_key);
  return files;
}

CertFiles TestPki::Foreign(const std::string& principal) {
  EVP_PKEY* other_key = NewKey();
  X509* other = Issue(other_key, "Collections test CA", nullptr, nullptr, 1, -kDay, 30 * kDay,
                      true, false);
  EVP_PKEY* key = NewKey();
  X509* cert = Issue(key, principal, other, other_key, 2, -kDay, 30 * kDay, false, false);
  CertFiles files{(dir_ / (principal + ".foreign.pem")).string(),
                  (dir_ / (principal + ".foreign.key")).string()};
  WriteKey(key, files.key);
  WriteCert(cert, files.cert);
  X509_free(cert);
  EVP_PKEY_free(key);
  X509_free(other);
  EVP_PKEY_free(other_key);
  return files;
}

}  // namespace collections::testing
