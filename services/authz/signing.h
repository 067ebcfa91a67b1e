#pragma once

#include "services/domain/error.h"

#include "collections/v1/events.pb.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace collections::authz {

// Ed25519 for the writer's signatures on the log (keys read and written as PEM with OpenSSL 3;
// signing and verification by libsodium, RFC 8032 signatures either way), and the one
// definition of what is signed. A signature on an event covers a run of the account's events
// ending with it (EventSignature in events.proto); since each event's hash chains to the one
// before, a valid signature vouches for the run and, through prev_hash, for what it extends.

inline constexpr std::string_view kSignatureAlgorithm = "Ed25519";

// The exact bytes signed for a run of events with these chain hashes (in sequence order):
// "collections.v1.EventSignature" || 0x00 || SHA-256(hash_1 || ... || hash_n).
std::string SignatureInput(const std::vector<std::string>& hashes);

// The signatures a SigningKey made lately, so that a VerifyingKey of the same key in the same
// process (SigningKey::verifying_key) accepts exactly those (message, signature) pairs without
// running Ed25519 again: a signature this process computed with the private key verifies with
// its public key by construction, so the answer is the one the full check gives. Anything else
// (another key, other bytes, a pair no longer remembered) is checked in full. Bounded (the most
// recent kCapacity signatures: a projection reading what the writers just appended finds them).
// Thread-safe; shared by the copies of a key.
class SignatureMemo {
 public:
  static constexpr size_t kCapacity = 16384;
  SignatureMemo();
  ~SignatureMemo();
  SignatureMemo(const SignatureMemo&) = delete;
  SignatureMemo& operator=(const SignatureMemo&) = delete;
  void Add(std::string_view message, std::string_view signature);
  bool Contains(std::string_view message, std::string_view signature) const;

 private:
  struct State;
  const std::unique_ptr<State> state_;
};

class VerifyingKey;

// An Ed25519 private key. Copyable (shares the immutable key); Sign is thread-safe.
class SigningKey {
 public:
  // A fresh random key (tests, and deploy/keys when none exists).
  static SigningKey Generate();
  // PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), e.g. from `openssl genpkey -algorithm ed25519`.
  // Returns kInvalidArgument when it is not an Ed25519 private key.
  static Result<SigningKey> FromPem(std::string_view pem);
  static Result<SigningKey> LoadPem(const std::string& path);

  std::string Sign(std::string_view message) const;  // 64 bytes
  std::string PublicKeyRaw() const;                  // 32 bytes
  std::string PublicKeyPem() const;                  // SubjectPublicKeyInfo PEM
  std::string PrivateKeyPem() const;                 // PKCS#8 PEM
  const std::string& key_id() const { return key_id_; }
  // Its public key, remembering what this key signed (see SignatureMemo): the key to verify the
  // process's own writing with.
  VerifyingKey verifying_key() const;

 private:
  explicit SigningKey(std::shared_ptr<void> key);
  std::shared_ptr<void> key_;  // EVP_PKEY
  // libsodium's secret key (seed || public key), derived once; wiped when the last copy goes.
  std::shared_ptr<const std::string> secret_;
  std::string key_id_;
  std::shared_ptr<SignatureMemo> memo_;
};

// An Ed25519 public key: all a verifier needs. Copyable; Verify is thread-safe.
class VerifyingKey {
 public:
  // SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
  static Result<VerifyingKey> FromPem(std::string_view pem);
  static Result<VerifyingKey> LoadPem(const std::string& path);
  static Result<VerifyingKey> FromRaw(std::string_view raw32);

  bool Verify(std::string_view message, std::string_view signature) const;
  std::string PublicKeyRaw() const;
  const std::string& key_id() const { return key_id_; }
  // The same key without the memo of SigningKey::verifying_key: every Verify runs Ed25519 (for
  // an examiner's check of the whole trail).
  VerifyingKey WithoutMemo() const;

 private:
  friend class SigningKey;
  explicit VerifyingKey(std::shared_ptr<void> key,
                        std::shared_ptr<const SignatureMemo> memo = nullptr);
  std::shared_ptr<void> key_;
  std::string raw_;  // the 32-byte public key libsodium verifies with
  std::string key_id_;
  std::shared_ptr<const SignatureMemo> memo_;  // what the matching SigningKey signed, or null
};

// First 16 hex digits of SHA-256 of a raw 32-byte Ed25519 public key.
std::string KeyId(std::string_view public_key_raw);

// Signs a run of one account's consecutive events (already hashed) on its last event: sets
// run.back()->signature to cover all of them.
void SignRun(const SigningKey& key, const std::vector<v1::EventEnvelope*>& run);
// The same from the run's hashes (in sequence order, the last being `last`'s own).
void SignLast(const SigningKey& key, const std::vector<std::string>& hashes,
              v1::EventEnvelope* last);

// Checks one account's events in sequence order, as they are read. Feed() every event; the
// answer says what is known about it so far. An event is genuine once a valid signature
// covers it; events fed since the last signature are pending until the next one (a command's
// events are written together, so pending only lasts within one command). Not thread-safe;
// one per account.
class SignatureChecker {
 public:
  explicit SignatureChecker(std::vector<VerifyingKey> keys) : keys_(std::move(keys)) {}

  enum class Outcome {
    kPending,       // no signature yet covers this event
    kSigned,        // this event carries a valid signature covering the pending run
    kBadSignature,  // it carries a signature that does not verify with any known key
    kUnknownKey,    // signed with a key id none of the keys has
    kBadCoverage,   // event_count does not match the events pending (a gap, or a forged run)
  };
  struct Result {
    Outcome outcome = Outcome::kPending;
    std::string message;  // what is wrong, for kBad*/kUnknownKey
    int64_t covered_from_sequence = 0;  // kSigned: the first sequence the signature covers
  };
  Result Feed(const v1::EventEnvelope& event);
  // Sequences of events no signature covered (call at the end of the account's log).
  const std::vector<int64_t>& pending() const { return pending_sequences_; }
  void Reset() {
    pending_hashes_.clear();
    pending_sequences_.clear();
  }

 private:
  std::vector<VerifyingKey> keys_;
  std::vector<std::string> pending_hashes_;
  std::vector<int64_t> pending_sequences_;
};

const char* OutcomeName(SignatureChecker::Outcome outcome);

}  // namespace collections::authz
