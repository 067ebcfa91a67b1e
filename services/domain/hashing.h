#pragma once

#include "collections/v1/events.pb.h"
#include "google/protobuf/message.h"

#include <string>
#include <string_view>

namespace collections {

// Deterministic protobuf bytes of `message` (map entries sorted, unknown fields kept).
std::string CanonicalBytes(const google::protobuf::Message& message);

// SHA-256 of `data`, 32 raw bytes.
std::string Sha256(std::string_view data);

// SHA-256 of the canonical bytes of a command request: the idempotency fingerprint.
std::string Fingerprint(const google::protobuf::Message& request);

// The audit-chain hash of `event`: SHA-256(prev_hash || canonical bytes of the event with
// `hash` and `signature` cleared). Reads event.prev_hash(); ignores event.hash() and
// event.signature().
std::string ChainHash(const v1::EventEnvelope& event);

// Whether event.hash() is the chain hash of `event`. `record`, when not empty, is the bytes
// `event` was parsed from: when the writer produced them (its canonical bytes) the hash is
// checked on them as they are, else on the event's canonical bytes, with the same verdict.
// `record` must be what `event` was parsed from: other bytes could vouch for another event.
bool ChainHashHolds(const v1::EventEnvelope& event, std::string_view record = {});

// A random (version 4) UUID in its 36-character text form.
std::string NewUuid();

// Lower-case hex of raw bytes.
std::string Hex(std::string_view bytes);

}  // namespace collections
