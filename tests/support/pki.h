#pragma once

// A throw-away PKI for integration tests: a CA, the server's certificate and client
// certificates for any principal (valid, expired, or from another CA), as PEM files in a
// directory. Made with OpenSSL in-process, so no test depends on the openssl CLI.

#include <filesystem>
#include <string>

namespace collections::testing {

struct CertFiles {
  std::string cert;
  std::string key;
};

// Lifetime: the files live as long as the directory; the object only names them.
// Not thread-safe.
class TestPki {
 public:
  // Creates ca.pem/ca.key and server.pem/server.key (CN localhost, SAN IP:127.0.0.1,
  // DNS:localhost; for server and client authentication) in `dir`.
  explicit TestPki(std::filesystem::path dir);

  enum class Validity { kValid, kExpired, kNotYetValid };
  // A client certificate with CN = principal, signed by this CA (files <name>.pem/.key).
  CertFiles Client(const std::string& principal, Validity validity = Validity::kValid);
  // A client certificate with CN = principal signed by another CA that nobody trusts.
  CertFiles Foreign(const std::string& principal);

  const std::string& ca() const { return ca_; }
  const CertFiles& server() const { return server_; }

 private:
  std::filesystem::path dir_;
  std::string ca_;
  std::string ca_key_;
  CertFiles server_;
  int serial_ = 1;
};

}  // namespace collections::testing
