#include "services/authz/signing.h"

#include "absl/strings/str_cat.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <sodium.h>

#include <array>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace collections::authz {
namespace {

EVP_PKEY* Key(const std::shared_ptr<void>& key) { return static_cast<EVP_PKEY*>(key.get()); }

std::shared_ptr<void> Own(EVP_PKEY* key) {
  return std::shared_ptr<void>(key, [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); });
}

std::string Sha256(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

std::string HexOf(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

std::string RawPublic(EVP_PKEY* key) {
  size_t length = 32;
  std::string raw(length, '\0');
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &length) !=
      1) {
    return "";
  }
  raw.resize(length);
  return raw;
}

std::string ReadFile(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string WritePem(EVP_PKEY* key, bool private_key) {
  BIO* bio = BIO_new(BIO_s_mem());
  int ok = private_key ? PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr)
                       : PEM_write_bio_PUBKEY(bio, key);
  std::string out;
  if (ok == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    out.assign(data, static_cast<size_t>(n));
  }
  BIO_free(bio);
  return out;
}

bool IsEd25519(EVP_PKEY* key) { return key != nullptr && EVP_PKEY_id(key) == EVP_PKEY_ED25519; }

// libsodium must be initialised once before use; sodium_init is itself thread-safe and
// idempotent, this only keeps the call in one place.
void InitSodium() {
  static const bool ready = sodium_init() >= 0;
  // Without a working libsodium the process cannot sign or check anything at all.
  if (!ready) throw std::runtime_error("libsodium failed to initialise");
}

// libsodium's 64-byte secret key from the key's 32-byte seed (RFC 8032's private key).
std::shared_ptr<const std::string> SodiumSecret(EVP_PKEY* key) {
  InitSodium();
  std::array<unsigned char, crypto_sign_SEEDBYTES> seed{};
  size_t length = seed.size();
  auto* secret = new std::string(crypto_sign_SECRETKEYBYTES, '\0');
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pub{};
  const bool ok = EVP_PKEY_get_raw_private_key(key, seed.data(), &length) == 1 &&
                  length == seed.size() &&
                  crypto_sign_seed_keypair(pub.data(),
                                           reinterpret_cast<unsigned char*>(secret->data()),
                                           seed.data()) == 0;
  sodium_memzero(seed.data(), seed.size());
  if (!ok) {
    delete secret;
    throw std::runtime_error("Ed25519 private key cannot be read");
  }
  return std::shared_ptr<const std::string>(secret, [](const std::string* s) {
    sodium_memzero(const_cast<char*>(s->data()), s->size());
    delete s;
  });
}

}  // namespace

std::string SignatureInput(const std::vector<std::string>& hashes) {
  std::string joined;
  for (const auto& h : hashes) joined += h;
  std::string input = "collections.v1.EventSignature";
  input.push_back('\0');
  input += Sha256(joined);
  return input;
}

std::string KeyId(std::string_view public_key_raw) {
  return HexOf(Sha256(public_key_raw)).substr(0, 16);
}

SigningKey SigningKey::Generate() {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &key) != 1) {
    EVP_PKEY_CTX_free(ctx);
    // Without a working CSPRNG and Ed25519 the process cannot sign anything at all.
    throw std::runtime_error("Ed25519 key generation failed");
  }
  EVP_PKEY_CTX_free(ctx);
  return SigningKey(Own(key));
}

Result<SigningKey> SigningKey::FromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!IsEd25519(key)) {
    EVP_PKEY_free(key);
    return Error::InvalidArgument("signing-key", "not an Ed25519 private key (PKCS#8 PEM)");
  }
  return SigningKey(Own(key));
}

Result<SigningKey> SigningKey::LoadPem(const std::string& path) {
  bool ok = false;
  std::string pem = ReadFile(path, ok);
  if (!ok) return Error::InvalidArgument("signing-key", path + ": cannot open");
  auto key = FromPem(pem);
  if (!key) return Error::InvalidArgument("signing-key", path + ": " + key.error().message);
  return key;
}

struct SignatureMemo::State {
  mutable std::mutex mutex;
  std::unordered_map<std::string, std::string> signatures;  // message -> signature
  std::deque<std::string> order;                            // messages, oldest first
};

SignatureMemo::SignatureMemo() : state_(std::make_unique<State>()) {}
SignatureMemo::~SignatureMemo() = default;

void SignatureMemo::Add(std::string_view message, std::string_view signature) {
  std::lock_guard lock(state_->mutex);
  auto [it, added] = state_->signatures.try_emplace(std::string(message), signature);
  if (!added) return;  // Ed25519 is deterministic: the same message has the same signature
  state_->order.push_back(it->first);
  if (state_->order.size() > kCapacity) {
    state_->signatures.erase(state_->order.front());
    state_->order.pop_front();
  }
}

bool SignatureMemo::Contains(std::string_view message, std::string_view signature) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->signatures.find(std::string(message));
  return it != state_->signatures.end() && it->second == signature;
}

SigningKey::SigningKey(std::shared_ptr<void> key)
    : key_(std::move(key)),
      secret_(SodiumSecret(Key(key_))),
      key_id_(KeyId(RawPublic(Key(key_)))),
      memo_(std::make_shared<SignatureMemo>()) {}

VerifyingKey SigningKey::verifying_key() const { return VerifyingKey(key_, memo_); }

std::string SigningKey::Sign(std::string_view message) const {
  std::string signature(crypto_sign_BYTES, '\0');
  // Ed25519 signing with a valid key cannot fail.
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<const unsigned char*>(secret_->data()));
  memo_->Add(message, signature);
  return signature;
}

std::string SigningKey::PublicKeyRaw() const { return RawPublic(Key(key_)); }
std::string SigningKey::PublicKeyPem() const { return WritePem(Key(key_), false); }
std::string SigningKey::PrivateKeyPem() const { return WritePem(Key(key_), true); }

Result<VerifyingKey> VerifyingKey::FromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!IsEd25519(key)) {
    EVP_PKEY_free(key);
    return Error::InvalidArgument("public-key", "not an Ed25519 public key (PEM)");
  }
  return VerifyingKey(Own(key));
}

Result<VerifyingKey> VerifyingKey::LoadPem(const std::string& path) {
  bool ok = false;
  std::string pem = ReadFile(path, ok);
  if (!ok) return Error::InvalidArgument("public-key", path + ": cannot open");
  auto key = FromPem(pem);
  if (!key) return Error::InvalidArgument("public-key", path + ": " + key.error().message);
  return key;
}

Result<VerifyingKey> VerifyingKey::FromRaw(std::string_view raw32) {
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw32.data()),
      raw32.size());
  if (key == nullptr) {
    return Error::InvalidArgument("public-key", "not a raw 32-byte Ed25519 public key");
  }
  return VerifyingKey(Own(key));
}

VerifyingKey::VerifyingKey(std::shared_ptr<void> key, std::shared_ptr<const SignatureMemo> memo)
    : key_(std::move(key)),
      raw_(RawPublic(Key(key_))),
      key_id_(KeyId(raw_)),
      memo_(std::move(memo)) {
  InitSodium();
}

VerifyingKey VerifyingKey::WithoutMemo() const { return VerifyingKey(key_); }

bool VerifyingKey::Verify(std::string_view message, std::string_view signature) const {
  // The memo only answers for the exact pairs this process signed; anything else runs Ed25519.
  if (memo_ != nullptr && memo_->Contains(message, signature)) return true;
  if (signature.size() != crypto_sign_BYTES || raw_.size() != crypto_sign_PUBLICKEYBYTES) {
    return false;
  }
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(),
                                     reinterpret_cast<const unsigned char*>(raw_.data())) == 0;
}

std::string VerifyingKey::PublicKeyRaw() const { return raw_; }

void SignRun(const SigningKey& key, const std::vector<v1::EventEnvelope*>& run) {
  if (run.empty()) return;
  std::vector<std::string> hashes;
  hashes.reserve(run.size());
  for (const auto* e : run) hashes.push_back(e->hash());
  SignLast(key, hashes, run.back());
}

void SignLast(const SigningKey& key, const std::vector<std::string>& hashes,
              v1::EventEnvelope* last) {
  auto* s = last->mutable_signature();
  s->set_key_id(key.key_id());
  s->set_algorithm(std::string(kSignatureAlgorithm));
  s->set_event_count(static_cast<int32_t>(hashes.size()));
  s->set_signature(key.Sign(SignatureInput(hashes)));
}

SignatureChecker::Result SignatureChecker::Feed(const v1::EventEnvelope& event) {
  pending_hashes_.push_back(event.hash());
  pending_sequences_.push_back(event.sequence());
  Result r;
  if (!event.has_signature()) return r;  // kPending
  const auto& s = event.signature();
  const int64_t count = s.event_count();
  auto fail = [&](Outcome outcome, std::string message) {
    r.outcome = outcome;
    r.message = std::move(message);
    // What the bad signature claimed is not trusted: those events stay unsigned.
    return r;
  };
  if (s.algorithm() != kSignatureAlgorithm) {
    return fail(Outcome::kBadSignature, "signature algorithm \"" + s.algorithm() +
                                            "\" is not " + std::string(kSignatureAlgorithm));
  }
  if (count < 1 || count > static_cast<int64_t>(pending_hashes_.size())) {
    return fail(Outcome::kBadCoverage,
                absl::StrCat("the signature claims ", count, " events but ",
                             pending_hashes_.size(), " are unsigned since the last signature"));
  }
  const VerifyingKey* key = nullptr;
  for (const auto& k : keys_) {
    if (k.key_id() == s.key_id()) key = &k;
  }
  if (key == nullptr) {
    return fail(Outcome::kUnknownKey, "signed with key " + s.key_id() + ", not a trusted key");
  }
  std::vector<std::string> covered(pending_hashes_.end() - count, pending_hashes_.end());
  if (!key->Verify(SignatureInput(covered), s.signature())) {
    return fail(Outcome::kBadSignature, "the Ed25519 signature does not verify with key " +
                                            s.key_id());
  }
  r.outcome = count == static_cast<int64_t>(pending_hashes_.size()) ? Outcome::kSigned
                                                                    : Outcome::kBadCoverage;
  r.covered_from_sequence = pending_sequences_[pending_sequences_.size() - count];
  if (r.outcome == Outcome::kBadCoverage) {
    r.message = absl::StrCat(pending_hashes_.size() - count,
                             " earlier events are covered by no signature");
  }
  Reset();
  return r;
}

const char* OutcomeName(SignatureChecker::Outcome outcome) {
  switch (outcome) {
    case SignatureChecker::Outcome::kPending: return "PENDING";
    case SignatureChecker::Outcome::kSigned: return "SIGNED";
    case SignatureChecker::Outcome::kBadSignature: return "BAD_SIGNATURE";
    case SignatureChecker::Outcome::kUnknownKey: return "UNKNOWN_KEY";
    case SignatureChecker::Outcome::kBadCoverage: return "BAD_COVERAGE";
  }
  return "?";
}

}  // namespace collections::authz
