#include "services/authz/integrity.h"

#include "services/domain/hashing.h"

#include "absl/strings/str_cat.h"

namespace collections::authz {

template <typename Account>
IntegrityGate::Outcome IntegrityGate::Admit(Account& account, const v1::EventEnvelope& event,
                                            int32_t partition, int64_t offset,
                                            std::string_view record) const {
  Outcome out;
  if (account.has_quarantine()) {
    account.mutable_quarantine()->set_events_not_applied(
        account.quarantine().events_not_applied() + 1);
    out.ignored = true;
    return out;
  }
  // The chain continues from the last held event, else from the last applied one.
  for (const auto& bytes : account.unsigned_events()) {
    out.released.push_back(std::make_unique<v1::EventEnvelope>());
    out.released.back()->ParseFromString(bytes);
  }
  const auto& held = out.released;
  const int64_t last_sequence = held.empty() ? account.version() : held.back()->sequence();
  const std::string& last_hash = held.empty() ? account.last_hash() : held.back()->hash();

  auto quarantine = [&](const std::string& reason, const std::string& detail) {
    if constexpr (requires { account.account_id(); }) {
      if (account.account_id().empty()) account.set_account_id(event.account_id());
    } else {
      if (account.customer_id().empty()) account.set_customer_id(event.customer_id());
    }
    auto* q = account.mutable_quarantine();
    q->set_sequence(event.sequence());
    q->set_event_id(event.event_id());
    q->set_reason(reason);
    q->set_detail(detail);
    q->mutable_position()->set_partition(partition);
    q->mutable_position()->set_offset(offset);
    q->set_events_not_applied(account.unsigned_events_size() + 1);
    account.clear_unsigned_events();
    out.quarantined_now = true;
    out.released.clear();
    return std::move(out);
  };

  if (event.sequence() != last_sequence + 1) {
    return quarantine("SEQUENCE_GAP", absl::StrCat("sequence ", event.sequence(), " follows ",
                                                   last_sequence));
  }
  if (event.prev_hash() != last_hash) {
    return quarantine("CHAIN_BROKEN", "prev_hash is not the previous event's hash");
  }
  if (!ChainHashHolds(event, record)) {
    return quarantine("HASH_MISMATCH", "hash is not SHA-256 of the event's contents");
  }
  if (keys_.empty()) {
    out.released.clear();
    out.apply.push_back(&event);
    return out;
  }
  if (!event.has_signature()) {
    const bool last_of_command = event.command_event_count() <= 0 ||
                                 event.command_event_index() >= event.command_event_count() - 1;
    if (last_of_command) {
      return quarantine("UNSIGNED", "no writer signature covers the event");
    }
    *account.add_unsigned_events() = event.SerializeAsString();
    out.released.clear();
    return out;
  }
  SignatureChecker checker(keys_);
  SignatureChecker::Result r;
  for (const auto& e : held) r = checker.Feed(*e);
  r = checker.Feed(event);
  switch (r.outcome) {
    case SignatureChecker::Outcome::kSigned:
      account.clear_unsigned_events();
      for (const auto& e : held) out.apply.push_back(e.get());
      out.apply.push_back(&event);
      return out;
    case SignatureChecker::Outcome::kUnknownKey:
      return quarantine("UNKNOWN_KEY", r.message);
    case SignatureChecker::Outcome::kBadCoverage:
      return quarantine("UNSIGNED", r.message);
    default:
      return quarantine("BAD_SIGNATURE", r.message);
  }
}

template IntegrityGate::Outcome IntegrityGate::Admit(v1::Account&, const v1::EventEnvelope&,
                                                     int32_t, int64_t, std::string_view) const;
template IntegrityGate::Outcome IntegrityGate::Admit(state::v1::AccountState&,
                                                     const v1::EventEnvelope&, int32_t,
                                                     int64_t, std::string_view) const;
template IntegrityGate::Outcome IntegrityGate::Admit(state::v1::CustomerState&,
                                                     const v1::EventEnvelope&, int32_t,
                                                     int64_t, std::string_view) const;

}  // namespace collections::authz
