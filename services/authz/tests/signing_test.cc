#define BOOST_TEST_MODULE authz_signing
#include "services/authz/signing.h"

#include <openssl/sha.h>

#include <boost/test/unit_test.hpp>

namespace collections::authz {
namespace {

// A run of fake chained events for one account (hashes need only be distinct here).
std::vector<v1::EventEnvelope> Events(int n, int first_sequence = 1) {
  std::vector<v1::EventEnvelope> out(n);
  for (int i = 0; i < n; ++i) {
    out[i].set_account_id("ACC-1");
    out[i].set_sequence(first_sequence + i);
    out[i].set_hash(std::string(32, static_cast<char>('a' + first_sequence + i)));
  }
  return out;
}

void Sign(const SigningKey& key, std::vector<v1::EventEnvelope>& events, size_t from, size_t to) {
  std::vector<v1::EventEnvelope*> run;
  for (size_t i = from; i < to; ++i) run.push_back(&events[i]);
  SignRun(key, run);
}

BOOST_AUTO_TEST_CASE(a_signature_verifies_with_the_public_key_alone) {
  SigningKey key = SigningKey::Generate();
  auto pub = VerifyingKey::FromPem(key.PublicKeyPem());
  BOOST_REQUIRE(pub.ok());
  BOOST_TEST(pub->key_id() == key.key_id());
  BOOST_TEST(key.key_id().size() == 16u);
  std::string sig = key.Sign("message");
  BOOST_TEST(sig.size() == 64u);
  BOOST_TEST(pub->Verify("message", sig));
  BOOST_TEST(!pub->Verify("messagf", sig));
  auto other = VerifyingKey::FromPem(SigningKey::Generate().PublicKeyPem());
  BOOST_TEST(!other->Verify("message", sig));
}

// The key a process verifies its own writing with remembers what it signed, and still refuses
// anything else: other bytes, another signature, a signature of another key, and a pair it no
// longer remembers is checked in full (and verifies when genuine).
BOOST_AUTO_TEST_CASE(the_own_verifying_key_gives_the_answers_of_the_full_check) {
  SigningKey key = SigningKey::Generate();
  VerifyingKey own = key.verifying_key();
  BOOST_TEST(own.key_id() == key.key_id());
  const std::string sig = key.Sign("message");
  BOOST_TEST(own.Verify("message", sig));
  BOOST_TEST(own.WithoutMemo().Verify("message", sig));
  BOOST_TEST(!own.Verify("messagf", sig));
  std::string altered = sig;
  altered[10] ^= 0x01;
  BOOST_TEST(!own.Verify("message", altered));
  SigningKey other = SigningKey::Generate();
  BOOST_TEST(!own.Verify("message", other.Sign("message")));
  BOOST_TEST(!other.verifying_key().Verify("message", sig));
  // Past the memo's capacity the first signature is forgotten and verified in full.
  for (size_t i = 0; i < SignatureMemo::kCapacity; ++i) key.Sign("filler " + std::to_string(i));
  BOOST_TEST(own.Verify("message", sig));
  BOOST_TEST(!own.Verify("message", altered));
}

BOOST_AUTO_TEST_CASE(keys_round_trip_through_pem_and_reject_other_key_types) {
  SigningKey key = SigningKey::Generate();
  auto again = SigningKey::FromPem(key.PrivateKeyPem());
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->key_id() == key.key_id());
  BOOST_TEST(!SigningKey::FromPem("not a key").ok());
  BOOST_TEST(!VerifyingKey::FromPem(key.PrivateKeyPem()).ok());
  BOOST_TEST(!SigningKey::LoadPem("/nonexistent.pem").ok());
}

BOOST_AUTO_TEST_CASE(signature_input_is_the_documented_bytes) {
  // "collections.v1.EventSignature" || 0x00 || SHA-256(h1 || h2): what the README and the
  // examiner's script compute.
  std::string h1(32, 'x'), h2(32, 'y');
  std::string joined = h1 + h2;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(joined.data()), joined.size(), digest);
  std::string expected = std::string("collections.v1.EventSignature") + '\0' +
                         std::string(reinterpret_cast<char*>(digest), sizeof(digest));
  BOOST_TEST(SignatureInput({h1, h2}) == expected);
}

BOOST_AUTO_TEST_CASE(checker_accepts_signed_runs_and_reports_pending) {
  SigningKey key = SigningKey::Generate();
  auto events = Events(5);
  Sign(key, events, 0, 3);  // a command of three events
  Sign(key, events, 3, 4);  // one of one
  SignatureChecker checker({VerifyingKey::FromPem(key.PublicKeyPem()).value()});
  using O = SignatureChecker::Outcome;
  BOOST_TEST((checker.Feed(events[0]).outcome == O::kPending));
  BOOST_TEST((checker.Feed(events[1]).outcome == O::kPending));
  auto r = checker.Feed(events[2]);
  BOOST_TEST((r.outcome == O::kSigned));
  BOOST_TEST(r.covered_from_sequence == 1);
  BOOST_TEST((checker.Feed(events[3]).outcome == O::kSigned));
  BOOST_TEST((checker.Feed(events[4]).outcome == O::kPending));
  BOOST_TEST(checker.pending() == std::vector<int64_t>{5});
}

BOOST_AUTO_TEST_CASE(checker_catches_wrong_key_tampering_and_bad_coverage) {
  SigningKey key = SigningKey::Generate();
  SigningKey forger = SigningKey::Generate();
  VerifyingKey trusted = VerifyingKey::FromPem(key.PublicKeyPem()).value();
  using O = SignatureChecker::Outcome;
  {
    auto events = Events(1);
    Sign(forger, events, 0, 1);
    SignatureChecker checker({trusted});
    BOOST_TEST((checker.Feed(events[0]).outcome == O::kUnknownKey));
  }
  {
    // The forger copies the trusted key id: the signature itself fails.
    auto events = Events(1);
    Sign(forger, events, 0, 1);
    events[0].mutable_signature()->set_key_id(key.key_id());
    SignatureChecker checker({trusted});
    BOOST_TEST((checker.Feed(events[0]).outcome == O::kBadSignature));
  }
  {
    // A hash changed after signing.
    auto events = Events(2);
    Sign(key, events, 0, 2);
    events[0].set_hash(std::string(32, 'z'));
    SignatureChecker checker({trusted});
    checker.Feed(events[0]);
    BOOST_TEST((checker.Feed(events[1]).outcome == O::kBadSignature));
  }
  {
    // An unsigned event slipped in before a genuine signed one.
    auto events = Events(2);
    Sign(key, events, 1, 2);
    SignatureChecker checker({trusted});
    checker.Feed(events[0]);
    auto r = checker.Feed(events[1]);
    BOOST_TEST((r.outcome == O::kBadCoverage));
  }
}

}  // namespace
}  // namespace collections::authz
