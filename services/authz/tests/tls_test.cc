#define BOOST_TEST_MODULE authz_tls
#include "services/authz/tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/test/unit_test.hpp>

namespace collections::authz {
namespace {

BOOST_AUTO_TEST_CASE(plaintext_is_only_for_loopback_addresses) {
  for (const char* ok : {"127.0.0.1:50051", "127.1.2.3:0", "localhost:50051", "[::1]:50051"}) {
    BOOST_TEST(IsLoopbackAddress(ok), ok);
  }
  for (const char* no : {"0.0.0.0:50051", "10.0.0.7:50051", "[::]:50051", "example.com:50051",
                         "127.0.0.1.example.com:1", "128.0.0.1:50051"}) {
    BOOST_TEST(!IsLoopbackAddress(no), no);
  }
}

BOOST_AUTO_TEST_CASE(credentials_name_the_missing_file) {
  auto creds = MutualTlsServerCredentials({"/nonexistent/ca.pem", "c", "k"});
  BOOST_REQUIRE(!creds.ok());
  BOOST_TEST(creds.error().field == "tls-ca");
  BOOST_TEST(creds.error().message.find("/nonexistent/ca.pem") != std::string::npos);
  auto unset = MutualTlsServerCredentials({});
  BOOST_TEST(unset.error().message.find("--tls-ca is not set") != std::string::npos);
}

// A self-signed certificate (PEM) with subject CN `cn` ("" = none) and, when given, these
// subject alternative names.
std::string Certificate(const std::string& cn, const std::string& san) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Test"), -1, -1, 0);
  if (!cn.empty()) {
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  }
  X509_set_issuer_name(cert, name);
  if (!san.empty()) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, key, EVP_sha256());
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(out, cert);
  char* data = nullptr;
  const long size = BIO_get_mem_data(out, &data);
  std::string pem(data, size);
  BIO_free(out);
  X509_free(cert);
  EVP_PKEY_free(key);
  return pem;
}

// The server's own principal is read from its certificate by the rule callers are read by.
BOOST_AUTO_TEST_CASE(a_certificate_principal_is_its_first_uri_else_its_cn) {
  auto cn =
      CertificatePrincipal(Certificate("localhost", "DNS:localhost,IP:127.0.0.1"), "tls-cert");
  BOOST_REQUIRE(cn.ok());
  BOOST_TEST(cn.value() == "localhost");
  auto uri = CertificatePrincipal(
      Certificate("localhost", "DNS:a.example,URI:spiffe://example/collections,URI:urn:x"),
      "tls-cert");
  BOOST_REQUIRE(uri.ok());
  BOOST_TEST(uri.value() == "spiffe://example/collections");
  auto nobody = CertificatePrincipal(Certificate("", "DNS:a.example"), "tls-cert");
  BOOST_REQUIRE(!nobody.ok());
  BOOST_TEST(nobody.error().field == "tls-cert");
  auto garbage =
      CertificatePrincipal("-----BEGIN CERTIFICATE-----\nno\n-----END CERTIFICATE-----\n", "");
  BOOST_TEST(!garbage.ok());
}

}  // namespace
}  // namespace collections::authz
