#define BOOST_TEST_MODULE authz_integrity
#include "services/authz/integrity.h"
#include "services/domain/hashing.h"

#include <boost/test/unit_test.hpp>

namespace collections::authz {
namespace {

// Builds chained, signed commands for account A the way the writer does.
struct Log {
  SigningKey key = SigningKey::Generate();
  std::vector<v1::EventEnvelope> events;
  std::string last_hash;

  // One command of `n` events, signed with `signer` (null: unsigned).
  void Command(int n, const SigningKey* signer) {
    std::vector<v1::EventEnvelope*> run;
    size_t first = events.size();
    for (int k = 0; k < n; ++k) {
      v1::EventEnvelope e;
      e.set_account_id("A");
      e.set_event_id("e" + std::to_string(events.size() + 1));
      e.set_sequence(static_cast<int64_t>(events.size()) + 1);
      e.set_command_event_count(n);
      e.set_command_event_index(k);
      e.mutable_case_closed()->set_reason("r");
      e.set_prev_hash(last_hash);
      e.set_hash(ChainHash(e));
      last_hash = e.hash();
      events.push_back(e);
    }
    for (size_t i = first; i < events.size(); ++i) run.push_back(&events[i]);
    if (signer != nullptr) SignRun(*signer, run);
  }
};

// Feeds every event through the gate as a projector would; returns the account.
v1::Account Project(const IntegrityGate& gate, const std::vector<v1::EventEnvelope>& events,
                    int* quarantines = nullptr) {
  v1::Account account;
  int64_t offset = 0;
  for (const auto& e : events) {
    auto out = gate.Admit(account, e, 0, offset++);
    if (out.quarantined_now && quarantines != nullptr) ++*quarantines;
    for (const v1::EventEnvelope* applied : out.apply) {
      account.set_version(applied->sequence());
      account.set_last_hash(applied->hash());
    }
  }
  return account;
}

BOOST_AUTO_TEST_CASE(signed_commands_are_applied_whole_once_their_signature_arrives) {
  Log log;
  log.Command(3, &log.key);
  log.Command(1, &log.key);
  IntegrityGate gate({VerifyingKey::FromPem(log.key.PublicKeyPem()).value()});
  v1::Account account;
  BOOST_TEST(gate.Admit(account, log.events[0], 0, 0).apply.empty());
  BOOST_TEST(gate.Admit(account, log.events[1], 0, 1).apply.empty());
  BOOST_TEST(account.unsigned_events_size() == 2);
  auto out = gate.Admit(account, log.events[2], 0, 2);
  BOOST_TEST(out.apply.size() == 3u);
  BOOST_TEST(account.unsigned_events_size() == 0);
  account.set_version(3);
  account.set_last_hash(log.events[2].hash());
  BOOST_TEST(gate.Admit(account, log.events[3], 0, 3).apply.size() == 1u);
  BOOST_TEST(!account.has_quarantine());
}

BOOST_AUTO_TEST_CASE(a_record_signed_with_another_key_quarantines_the_account) {
  Log log;
  SigningKey forger = SigningKey::Generate();
  log.Command(1, &log.key);
  log.Command(1, &forger);  // a forged event with a correct prev_hash
  log.Command(1, &log.key);
  IntegrityGate gate({VerifyingKey::FromPem(log.key.PublicKeyPem()).value()});
  int quarantines = 0;
  v1::Account account = Project(gate, log.events, &quarantines);
  BOOST_TEST(quarantines == 1);
  BOOST_TEST(account.version() == 1);  // the last genuine event
  BOOST_TEST(account.quarantine().sequence() == 2);
  BOOST_TEST(account.quarantine().reason() == "UNKNOWN_KEY");
  BOOST_TEST(account.quarantine().position().offset() == 1);
  BOOST_TEST(account.quarantine().events_not_applied() == 2);
}

BOOST_AUTO_TEST_CASE(unsigned_broken_or_tampered_events_quarantine_with_their_reason) {
  IntegrityGate::Outcome out;
  {
    Log log;
    log.Command(1, &log.key);
    log.Command(1, nullptr);  // the chain is right, nobody signed it
    IntegrityGate gate({VerifyingKey::FromPem(log.key.PublicKeyPem()).value()});
    BOOST_TEST(Project(gate, log.events).quarantine().reason() == "UNSIGNED");
  }
  {
    Log log;
    log.Command(2, &log.key);
    log.events[0].mutable_case_closed()->set_reason("changed");  // contents changed
    IntegrityGate gate({VerifyingKey::FromPem(log.key.PublicKeyPem()).value()});
    v1::Account a = Project(gate, log.events);
    BOOST_TEST(a.quarantine().reason() == "HASH_MISMATCH");
    BOOST_TEST(a.version() == 0);
  }
  {
    Log log;
    log.Command(1, &log.key);
    log.Command(1, &log.key);
    log.events[1].set_prev_hash(std::string(32, 'x'));
    log.events[1].set_hash(ChainHash(log.events[1]));
    IntegrityGate gate({VerifyingKey::FromPem(log.key.PublicKeyPem()).value()});
    BOOST_TEST(Project(gate, log.events).quarantine().reason() == "CHAIN_BROKEN");
  }
  {
    Log log;
    log.Command(1, &log.key);
    log.Command(1, &log.key);
    IntegrityGate gate({VerifyingKey::FromPem(log.key.PublicKeyPem()).value()});
    BOOST_TEST(Project(gate, {log.events[1]}).quarantine().reason() == "SEQUENCE_GAP");
  }
}

BOOST_AUTO_TEST_CASE(a_record_is_checked_on_its_own_bytes_with_the_canonical_verdict) {
  Log log;
  log.Command(1, &log.key);
  log.Command(1, &log.key);
  IntegrityGate gate({VerifyingKey::FromPem(log.key.PublicKeyPem()).value()});
  const v1::EventEnvelope& second = log.events[1];
  auto admit = [&](const std::string& record) {
    v1::EventEnvelope parsed;
    BOOST_REQUIRE(parsed.ParseFromString(record));
    BOOST_TEST(ChainHashHolds(parsed, record) == (ChainHash(parsed) == parsed.hash()));
    v1::Account account;
    account.set_version(1);
    account.set_last_hash(log.events[0].hash());
    auto out = gate.Admit(account, parsed, 0, 1, record);
    return out.apply.size() == 1u ? std::string("applied") : account.quarantine().reason();
  };
  // As the writer produces it: the hash is checked on the record as it is.
  BOOST_TEST(admit(CanonicalBytes(second)) == "applied");
  // The same event written in another field order: judged on its canonical bytes, still genuine.
  v1::EventEnvelope payload;
  *payload.mutable_case_closed() = second.case_closed();
  v1::EventEnvelope rest = second;
  rest.clear_case_closed();
  BOOST_TEST(admit(CanonicalBytes(payload) + CanonicalBytes(rest)) == "applied");
  // One byte of the contents changed in the record: refused either way.
  std::string tampered = CanonicalBytes(second);
  const size_t at = tampered.rfind('r');
  BOOST_REQUIRE(at != std::string::npos);
  tampered[at] = 's';
  BOOST_TEST(admit(tampered) == "HASH_MISMATCH");
  // Bytes that do not hash to the event's hash: the verdict is the event's own.
  BOOST_TEST(ChainHashHolds(second, "not the record"));
  v1::EventEnvelope changed = second;
  changed.set_event_id("forged");
  BOOST_TEST(!ChainHashHolds(changed, "not the record"));
}

BOOST_AUTO_TEST_CASE(without_keys_only_the_chain_is_checked) {
  Log log;
  log.Command(2, nullptr);
  IntegrityGate gate({});
  v1::Account a = Project(gate, log.events);
  BOOST_TEST(!a.has_quarantine());
  BOOST_TEST(a.version() == 2);
}

}  // namespace
}  // namespace collections::authz
