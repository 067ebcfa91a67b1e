#include "services/domain/hashing.h"

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <cstdio>
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

std::string ChainHash(const v1::EventEnvelope& event) {
  // The pipeline hashes an event before it has a hash or a signature: no copy needed then.
  if (event.hash().empty() && !event.has_signature()) {
    return Sha256(event.prev_hash() + CanonicalBytes(event));
  }
  // The writer's signature covers the hash, so it cannot be part of it. Deterministic
  // serialisation writes fields one after another in field-number order, so the canonical
  // bytes of the event without those two fields are its own canonical bytes with their two
  // records left out: the event is read as it is, never copied.
  const std::string whole = CanonicalBytes(event);
  std::string hashed = event.prev_hash();
  hashed.reserve(hashed.size() + whole.size());
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(whole.data()),
                                            static_cast<int>(whole.size()));
  for (;;) {
    const int start = in.CurrentPosition();
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) {
      break;  // cannot happen for bytes protobuf just wrote
    }
    const int field = static_cast<int>(google::protobuf::internal::WireFormatLite::GetTagFieldNumber(tag));
    if (field == v1::EventEnvelope::kHashFieldNumber ||
        field == v1::EventEnvelope::kSignatureFieldNumber) {
      continue;
    }
    hashed.append(whole, static_cast<size_t>(start), static_cast<size_t>(in.CurrentPosition() - start));
  }
  return Sha256(hashed);
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
