#include "services/domain/hashing.h"

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <cstdio>
#include <memory>
#include <stdexcept>

namespace collections {

std::string CanonicalBytes(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

std::string Sha256(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

std::string Fingerprint(const google::protobuf::Message& request) {
  return Sha256(CanonicalBytes(request));
}

namespace {

// SHA-256 of `prev_hash` followed by `bytes` (a serialised EventEnvelope) with its top-level
// `hash` and `signature` records left out, fed piece by piece: nothing is copied.
std::string HashWithoutSeal(std::string_view prev_hash, std::string_view bytes) {
  // One digest context per thread and the algorithm fetched once: no allocation per event.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(
      EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_MD_CTX* ctx = context.get();
  if (sha256 == nullptr || ctx == nullptr || EVP_DigestInit_ex(ctx, sha256, nullptr) != 1) {
    throw std::runtime_error("SHA-256 is not available from OpenSSL");
  }
  EVP_DigestUpdate(ctx, prev_hash.data(), prev_hash.size());
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  int kept_from = 0;  // start of the run of records not yet hashed
  for (;;) {
    const int start = in.CurrentPosition();
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) {
      // Not protobuf: hash what is left as it is (it cannot match a genuine hash).
      break;
    }
    const int field =
        static_cast<int>(google::protobuf::internal::WireFormatLite::GetTagFieldNumber(tag));
    if (field == v1::EventEnvelope::kHashFieldNumber ||
        field == v1::EventEnvelope::kSignatureFieldNumber) {
      EVP_DigestUpdate(ctx, bytes.data() + kept_from, static_cast<size_t>(start - kept_from));
      kept_from = in.CurrentPosition();
    }
  }
  EVP_DigestUpdate(ctx, bytes.data() + kept_from, bytes.size() - static_cast<size_t>(kept_from));
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx, digest.data(), &size);
  return std::string(reinterpret_cast<const char*>(digest.data()), size);
}

}  // namespace

std::string ChainHash(const v1::EventEnvelope& event) {
  // The pipeline hashes an event before it has a hash or a signature: nothing to leave out.
  if (event.hash().empty() && !event.has_signature()) {
    return Sha256(event.prev_hash() + CanonicalBytes(event));
  }
  // The writer's signature covers the hash, so it cannot be part of it. Deterministic
  // serialisation writes fields one after another in field-number order, so the canonical
  // bytes of the event without those two fields are its own canonical bytes with their two
  // records left out: the event is read as it is, never copied.
  return HashWithoutSeal(event.prev_hash(), CanonicalBytes(event));
}

bool ChainHashHolds(const v1::EventEnvelope& event, std::string_view record) {
  // The writer produces an event's canonical bytes, so the record's own bytes usually give
  // the hash without serialising the event again. Accepting them is as strict as the
  // canonical check: the hash matches only if the record, less its hash and signature, is
  // byte for byte what the writer hashed, which then parses to this very event. A record
  // written any other way (another field order, say) is judged on its canonical bytes.
  if (!record.empty() && HashWithoutSeal(event.prev_hash(), record) == event.hash()) return true;
  return ChainHash(event) == event.hash();
}

std::string NewUuid() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    // The OpenSSL CSPRNG failing means the process cannot make ids safely at all.
    throw std::runtime_error("RAND_bytes failed");
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char text[37];
  std::snprintf(text, sizeof(text),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return text;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

}  // namespace collections
