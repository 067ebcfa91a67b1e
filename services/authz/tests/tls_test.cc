#define BOOST_TEST_MODULE authz_tls
#include "services/authz/tls.h"

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

}  // namespace
}  // namespace collections::authz
