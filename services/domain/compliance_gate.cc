#include "services/domain/compliance_gate.h"

#include "services/compliance/calendar.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/hashing.h"
#include "services/domain/internal.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <map>

namespace collections {

using namespace internal;  // NOLINT(google-build-using-namespace)

namespace {

compliance::Channel ToChannel(v1::ContactChannel c) {
  switch (c) {
    case v1::CONTACT_CHANNEL_TEXT:
      return compliance::Channel::kText;
    case v1::CONTACT_CHANNEL_EMAIL:
      return compliance::Channel::kEmail;
    case v1::CONTACT_CHANNEL_LETTER:
      return compliance::Channel::kLetter;
    case v1::CONTACT_CHANNEL_VISIT:
      return compliance::Channel::kVisit;
    default:
      return compliance::Channel::kCall;
  }
}

compliance::PhoneType ToPhoneType(v1::PhoneType t) {
  switch (t) {
    case v1::PHONE_TYPE_HOME:
      return compliance::PhoneType::kHome;
    case v1::PHONE_TYPE_CELL:
      return compliance::PhoneType::kCell;
    case v1::PHONE_TYPE_WORK:
      return compliance::PhoneType::kWork;
    default:
      return compliance::PhoneType::kUnknown;
  }
}

compliance::ContactOutcome ToOutcome(v1::ContactOutcome o) {
  switch (o) {
    case v1::CONTACT_OUTCOME_BUSY:
      return compliance::ContactOutcome::kBusy;
    case v1::CONTACT_OUTCOME_NOT_IN_SERVICE:
      return compliance::ContactOutcome::kNotInService;
    case v1::CONTACT_OUTCOME_VOICEMAIL:
    case v1::CONTACT_OUTCOME_MESSAGE_LEFT:
      return compliance::ContactOutcome::kVoicemailLeft;
    case v1::CONTACT_OUTCOME_ANSWERING_MACHINE_NO_MESSAGE:
      return compliance::ContactOutcome::kAnsweringMachineNoMessage;
    case v1::CONTACT_OUTCOME_NO_ANSWER_MESSAGE_POSSIBLE:
      return compliance::ContactOutcome::kNoAnswerMessagePossible;
    case v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION:
      return compliance::ContactOutcome::kRightPartyConversation;
    case v1::CONTACT_OUTCOME_THIRD_PARTY:
      return compliance::ContactOutcome::kThirdParty;
    case v1::CONTACT_OUTCOME_WRONG_NUMBER:
      return compliance::ContactOutcome::kWrongNumber;
    case v1::CONTACT_OUTCOME_UNDELIVERABLE:
      return compliance::ContactOutcome::kUndeliverable;
    case v1::CONTACT_OUTCOME_DELIVERED:
      return compliance::ContactOutcome::kDelivered;
    default:
      return compliance::ContactOutcome::kNoAnswer;
  }
}

bool IsNyc(const v1::PostalAddress& address) {
  static const char* kBoroughs[] = {"New York", "Manhattan", "Brooklyn",
                                    "Bronx",    "Queens",    "Staten Island"};
  if (address.region() != "NY") return false;
  for (const char* b : kBoroughs) {
    if (address.city() == b) return true;
  }
  return false;
}

// The id of the consumer's latest inbound contact in `channel` (a reply answers it).
std::string LastInbound(const AccountState& a, v1::ContactChannel channel) {
  for (int i = a.contacts_size() - 1; i >= 0; --i) {
    const auto& c = a.contacts(i);
    if (c.direction() == v1::CONTACT_DIRECTION_INBOUND && c.channel() == channel)
      return c.event_id();
  }
  return "";
}

std::string PhoneZone(const AccountState& a, const std::string& number) {
  for (const auto& p : a.contact_points().phones()) {
    if (p.number() == number) return p.time_zone();
  }
  return "";
}

void ApplyContent(compliance::Action& action, const v1::ContentFlags& c) {
  action.has_opt_out_notice = c.has_opt_out_notice();
  action.has_debt_collector_disclosure = c.has_debt_collector_disclosure();
  action.is_initial_communication = c.is_initial_communication();
  action.has_initial_disclosure = c.is_initial_communication() && c.has_debt_collector_disclosure();
  action.cease_exception = static_cast<compliance::CeaseExceptionNotice>(c.cease_exception());
  action.is_opt_out_confirmation = c.is_opt_out_confirmation();
  action.threatens_suit = c.threatens_suit();
}

compliance::DisputeCode ToDisputeCode(const std::string& code) {
  if (code == "XB") return compliance::DisputeCode::kXB;
  if (code == "XC") return compliance::DisputeCode::kXC;
  if (code == "XH") return compliance::DisputeCode::kXH;
  return compliance::DisputeCode::kNone;
}

// An outbound contact (an attempt, or the reservation of one) as the action the rules judge.
void ContactAction(const AccountState& a, compliance::Action& action, v1::ContactChannel channel,
                   v1::ContactOutcome outcome, const std::string& address, v1::PhoneType phone_type,
                   const v1::ContentFlags& content) {
  const bool message_left =
      outcome == v1::CONTACT_OUTCOME_VOICEMAIL || outcome == v1::CONTACT_OUTCOME_MESSAGE_LEFT;
  switch (channel) {
    case v1::CONTACT_CHANNEL_TEXT:
      action.kind = compliance::ActionKind::kText;
      break;
    case v1::CONTACT_CHANNEL_EMAIL:
      action.kind = compliance::ActionKind::kEmail;
      break;
    case v1::CONTACT_CHANNEL_LETTER:
      action.kind = compliance::ActionKind::kLetter;
      break;
    case v1::CONTACT_CHANNEL_VISIT:
      action.kind = compliance::ActionKind::kVisit;
      break;
    default:
      action.kind = message_left ? compliance::ActionKind::kVoicemail : compliance::ActionKind::kCall;
  }
  action.target = address;
  action.phone_type = ToPhoneType(phone_type);
  action.target_time_zone = PhoneZone(a, address);
  // Only a limited-content voicemail is an attempt rather than a communication (F10).
  action.is_limited_content_voicemail = outcome == v1::CONTACT_OUTCOME_VOICEMAIL;
  ApplyContent(action, content);
  if (content.reply_to_consumer()) action.in_reply_to = LastInbound(a, channel);
  if (content.is_demand()) action.delivery_channel = ToChannel(channel);
}

// The action a command asks for, or nullopt when no rule judges it.
std::optional<compliance::Action> ActionFor(const AccountState& a, const Command& command,
                                            absl::Time at) {
  compliance::Action action;
  action.debt_ids = {a.account_id()};
  if (const auto* r = std::get_if<v1::RecordContactAttemptRequest>(&command)) {
    if (r->direction() != v1::CONTACT_DIRECTION_OUTBOUND)
      return std::nullopt;  // the consumer called us
    ContactAction(a, action, r->channel(), r->outcome(), r->address(), r->phone_type(),
                  r->content());
    return action;
  }
  if (const auto* r = std::get_if<v1::ReserveContactRequest>(&command)) {
    // Judged as the attempt it reserves, whatever its outcome will be.
    ContactAction(a, action, r->channel(), v1::CONTACT_OUTCOME_UNSPECIFIED, r->address(),
                  r->phone_type(), r->content());
    return action;
  }
  if (const auto* r = std::get_if<v1::RecordCorrespondenceRequest>(&command)) {
    action.delivery_channel = ToChannel(r->channel());
    action.target = r->address();
    if (r->kind() == v1::CORRESPONDENCE_KIND_VALIDATION_NOTICE) {
      action.kind = compliance::ActionKind::kValidationNotice;
      // The service computes the period end and records it on the notice (CorrespondenceSent):
      // that is the date the notice states.
      action.stated_period_end_day =
          compliance::ValidationPeriod(LocalDay(at, Zone(a))).period_end_day;
    } else if (r->content().is_demand() || r->kind() == v1::CORRESPONDENCE_KIND_PAYMENT_REMINDER ||
               r->kind() == v1::CORRESPONDENCE_KIND_DELINQUENCY_NOTICE ||
               r->kind() == v1::CORRESPONDENCE_KIND_SETTLEMENT_OFFER) {
      action.kind = compliance::ActionKind::kDemand;
    } else {
      action.kind = r->channel() == v1::CONTACT_CHANNEL_EMAIL ? compliance::ActionKind::kEmail
                                                              : compliance::ActionKind::kLetter;
    }
    ApplyContent(action, r->content());
    return action;
  }
  if (std::holds_alternative<v1::RecordPromiseToPayRequest>(command)) {
    action.kind = compliance::ActionKind::kPromiseToPay;
    return action;
  }
  if (const auto* r = std::get_if<v1::ReportToBureauRequest>(&command)) {
    action.kind = compliance::ActionKind::kBureauReport;
    action.dispute_code = ToDisputeCode(r->compliance_condition_code());
    action.account_status = r->status_code();
    if (IsSet(a.date_of_first_delinquency()))
      action.reported_dofd = ToCivil(a.date_of_first_delinquency());
    return action;
  }
  if (const auto* r = std::get_if<v1::ReferToLegalRequest>(&command)) {
    action.kind = compliance::ActionKind::kLegalReferral;
    action.bankruptcy_proof_of_claim = r->bankruptcy_proof_of_claim();
    return action;
  }
  if (const auto* r = std::get_if<v1::PostAdjustmentRequest>(&command);
      r != nullptr && r->kind() == v1::ADJUSTMENT_KIND_INTEREST_ACCRUAL) {
    action.kind = compliance::ActionKind::kInterestAccrual;
    action.rate_basis_points = r->rate_basis_points();
    return action;
  }
  if (std::holds_alternative<v1::PlaceWithAgencyRequest>(command)) {
    action.kind = compliance::ActionKind::kAgencyPlacement;
    return action;
  }
  if (std::holds_alternative<v1::TransferDebtRequest>(command)) {
    action.kind = compliance::ActionKind::kDebtSale;
    return action;
  }
  return std::nullopt;
}

}  // namespace

compliance::CaseFacts FactsFor(const AccountState& a) {
  compliance::CaseFacts f;
  f.debt_ids = {a.account_id()};
  f.reg_f_applies = a.third_party_collector();
  // A commercial account (AccountCustomerLinked commercial) is a business's debt: the engine
  // skips the consumer rules and applies the customer-level commercial policy (B1, B2).
  f.commercial = a.commercial();
  f.jurisdiction = a.jurisdiction();
  f.nyc = IsNyc(a.contact_points().address());
  f.time_zone = a.time_zone();
  // The consumer is one person across their debts: the zone their customer record gives.
  if (!a.consumer_time_zone().empty() && a.consumer_time_zone() != a.time_zone())
    f.other_time_zones.push_back(a.consumer_time_zone());
  const auto& flags = a.flags();
  for (const auto& w : flags.inconvenient_windows()) {
    f.inconvenient_times.push_back({w.start_minute(), w.end_minute(), std::nullopt});
  }
  f.attorney_represented = flags.attorney_represented();
  const auto& att = flags.attorney();
  f.attorney_contact = att.name().empty() && att.phone().empty() && att.email().empty()
                           ? ""
                           : absl::StrCat(att.name(), " ", att.phone(), " ", att.email());
  f.employer_prohibits_contact = flags.employer_prohibits_contact();
  if (flags.cease_communication()) f.cease_received_at = ToTime(flags.cease_received_at());
  for (const auto& o : flags.opt_outs()) {
    if (o.active())
      f.opt_outs.push_back({ToChannel(o.channel()), o.address(), ToTime(o.received_at())});
  }
  // Consent is a fact recorded on the account (UpdateFlag consent): the rules read it here,
  // with when it was given and revoked, so a call it exempted stays exempt after a revocation.
  for (const auto& c : flags.consents()) {
    std::optional<absl::Time> revoked;
    if (c.revoked()) revoked = c.has_revoked_at() ? ToTime(c.revoked_at()) : ToTime(c.given_at());
    std::optional<compliance::Channel> medium;
    if (c.channel() != v1::CONTACT_CHANNEL_UNSPECIFIED) medium = ToChannel(c.channel());
    auto add = [&](compliance::ConsentScope scope) {
      f.consents.push_back({scope, ToTime(c.given_at()), revoked, c.address(), medium});
    };
    switch (c.kind()) {
      case v1::CONSENT_KIND_CALLS:
        if (c.given_directly_to_collector()) add(compliance::ConsentScope::kCallFrequency);
        break;
      case v1::CONSENT_KIND_CONTACT_TIMES:
        add(compliance::ConsentScope::kInconvenientTime);
        break;
      case v1::CONSENT_KIND_WORKPLACE:
        add(compliance::ConsentScope::kWorkplace);
        break;
      case v1::CONSENT_KIND_ELECTRONIC:
        add(compliance::ConsentScope::kElectronic);
        break;
      case v1::CONSENT_KIND_ATTORNEY_DIRECT:
        if (!c.revoked()) f.attorney_consent = true;
        break;
      default:
        break;
    }
  }
  // Communications and messages, for F11, F12 and F16. The first communication and whether a
  // conversation was held are kept by the state as contacts are applied (contacts older than
  // the horizon are pruned from it).
  if (a.has_first_conversation_or_letter_at())
    f.first_communication_at = ToTime(a.first_conversation_or_letter_at());
  f.bureau.conversation_held = a.conversation_held();
  for (const auto& c : a.correspondence()) {
    absl::Time sent = ToTime(c.sent_at());
    if (c.kind() == v1::CORRESPONDENCE_KIND_VALIDATION_NOTICE && !f.validation_notice_sent_at) {
      f.validation_notice_sent_at = sent;
    }
    f.bureau.messages.push_back({ToChannel(c.channel()), sent, std::nullopt});
  }
  for (const auto& c : a.contacts()) {
    if (c.direction() != v1::CONTACT_DIRECTION_OUTBOUND) continue;
    const absl::Time at = ToTime(c.at());
    const bool message = c.channel() == v1::CONTACT_CHANNEL_LETTER ||
                         c.channel() == v1::CONTACT_CHANNEL_EMAIL ||
                         c.channel() == v1::CONTACT_CHANNEL_TEXT;
    if (message && c.outcome() == v1::CONTACT_OUTCOME_DELIVERED) {
      f.bureau.messages.push_back({ToChannel(c.channel()), at, std::nullopt});
    } else if (message && c.outcome() == v1::CONTACT_OUTCOME_UNDELIVERABLE) {
      // A returned-mail or bounce notice: it marks the latest message sent in that channel.
      for (auto it = f.bureau.messages.rbegin(); it != f.bureau.messages.rend(); ++it) {
        if (it->channel == ToChannel(c.channel()) && it->sent_at <= at && !it->undeliverable_at) {
          it->undeliverable_at = at;
          break;
        }
      }
    }
  }
  f.bureau.first_report_done = !a.bureau_reports().empty();
  for (const auto& d : a.disputes()) {
    if (d.status() == v1::DISPUTE_STATUS_WITHDRAWN) continue;
    compliance::Dispute dispute;
    dispute.form = d.written() ? compliance::DisputeForm::kWritten : compliance::DisputeForm::kOral;
    dispute.received_at = ToTime(d.received_at());
    dispute.partial = d.partial();
    if (d.has_verification_sent_at())
      dispute.response_sent_at = ToTime(d.verification_sent_at());
    else if (d.has_resolved_at())
      dispute.response_sent_at = ToTime(d.resolved_at());
    dispute.original_creditor_request = d.original_creditor_request();
    if (dispute.original_creditor_request && dispute.response_sent_at) {
      dispute.original_creditor_sent_at = dispute.response_sent_at;
    }
    f.disputes.push_back(dispute);
  }
  if (IsSet(a.statute_of_limitations_date()))
    f.limitations_last_day = ToCivil(a.statute_of_limitations_date());
  f.paid_in_full = a.status() == v1::ACCOUNT_STATUS_PAID_IN_FULL;
  f.settled = a.status() == v1::ACCOUNT_STATUS_SETTLED;
  f.bankruptcy_pending = flags.bankruptcy() == v1::BANKRUPTCY_STATUS_PENDING;
  f.bankruptcy_discharged = flags.bankruptcy() == v1::BANKRUPTCY_STATUS_DISCHARGED;
  f.servicemember_active = flags.servicemember();
  f.debt_type = a.debt_type() == v1::DEBT_TYPE_MEDICAL        ? compliance::DebtType::kMedical
                : a.debt_type() == v1::DEBT_TYPE_STUDENT_LOAN ? compliance::DebtType::kStudentLoan
                                                              : compliance::DebtType::kOther;
  if (IsSet(a.date_of_first_delinquency()))
    f.date_of_first_delinquency = ToCivil(a.date_of_first_delinquency());
  f.original_balance_minor = Total(a.original_balances());
  if (a.has_updated_at()) f.last_collection_activity_at = ToTime(a.updated_at());
  return f;
}

compliance::ContactHistory HistoryFor(const AccountState& a, absl::Time at,
                                      const std::string& completing,
                                      const v1::CompliancePolicy* policy) {
  compliance::ContactHistory h;
  // Live reservations count as the attempts they reserve, with the outcome that counts
  // against every cap (F1, S-MA, S-NYC) and starts no F2 clock: the dialer may yet leave a
  // message. The reservation a command completes is replaced by the contact itself.
  for (const auto& r : a.reservations()) {
    if (r.reservation_id() == completing || ToTime(r.expires_at()) <= at) continue;
    compliance::ContactAttempt attempt;
    attempt.id = r.event_id();
    attempt.time = ToTime(r.reserved_at());
    attempt.channel = ToChannel(r.channel());
    attempt.direction = compliance::Direction::kOutbound;
    attempt.outcome = compliance::ContactOutcome::kAnsweringMachineNoMessage;
    attempt.phone_type = ToPhoneType(r.phone_type());
    attempt.target = r.address();
    attempt.debt_ids = {a.account_id()};
    h.attempts.push_back(std::move(attempt));
  }
  // Only contacts some window around `at` can hold matter to the caps and quiet periods (a
  // window ends at `at` or, for a back-dated action, at a later attempt within its span), plus
  // the inbound contact a reply answers and the replies to it. The rest are not materialised.
  const absl::Duration reach =
      policy != nullptr ? LongestWindow(*policy) : absl::InfiniteDuration();
  // The latest inbound contact per channel so far (contacts are in log order): a reply
  // answers it. One pass, no search per contact.
  std::map<int, const v1::ContactRecord*> last_inbound;
  for (const auto& c : a.contacts()) {
    const int channel = static_cast<int>(c.channel());
    const v1::ContactRecord* answered = nullptr;
    if (c.content().reply_to_consumer()) {
      if (auto it = last_inbound.find(channel); it != last_inbound.end()) answered = it->second;
    }
    if (c.direction() == v1::CONTACT_DIRECTION_INBOUND) last_inbound[channel] = &c;
    const absl::Time time = ToTime(c.at());
    const bool near = reach == absl::InfiniteDuration() || (time > at - reach && time < at + reach);
    // Inbound contacts are few and a reply may name any of them: kept whatever their age.
    if (!near && c.direction() != v1::CONTACT_DIRECTION_INBOUND && answered == nullptr) continue;
    compliance::ContactAttempt attempt;
    attempt.id = c.event_id();
    attempt.time = time;
    attempt.channel = ToChannel(c.channel());
    attempt.direction = c.direction() == v1::CONTACT_DIRECTION_INBOUND
                            ? compliance::Direction::kInbound
                            : compliance::Direction::kOutbound;
    attempt.outcome = ToOutcome(c.outcome());
    attempt.phone_type = ToPhoneType(c.phone_type());
    attempt.target = c.address();
    attempt.debt_ids = {a.account_id()};
    if (answered != nullptr) attempt.in_reply_to = answered->event_id();
    h.attempts.push_back(std::move(attempt));
  }
  return h;
}

absl::Duration LongestWindow(const v1::CompliancePolicy& policy) {
  const int days = std::max({policy.call_window_days(), policy.conversation_quiet_days(),
                             policy.ma_personal_window_days(), policy.ma_other_window_days(),
                             policy.nyc_window_days(), compliance::kCommercialCallWindowDays});
  // Calendar-day windows start at a local midnight: a day more covers any zone and DST.
  return absl::Hours(24) * (days + 1);
}

absl::Duration ContactHorizon(const v1::CompliancePolicy& policy) {
  // An action may be recorded up to contact_backdate_hours late without a late-entry
  // authorisation, and its windows reach that far behind it; a day more for the clocks'
  // skew. A late entry beyond that is judged on the contacts the state still holds.
  return LongestWindow(policy) + absl::Hours(policy.contact_backdate_hours()) + absl::Hours(24);
}

StateHorizon StateHorizonFor(const v1::CompliancePolicy& policy, const DomainSettings& settings) {
  StateHorizon h;
  h.contacts = ContactHorizon(policy);
  if (settings.payment_reversal_days > 0) {
    h.payments = absl::Hours(24) * settings.payment_reversal_days;
  }
  return h;
}

GateDecision Gate(const AccountState& state, const Command& command, absl::Time at,
                  const v1::CompliancePolicy& policy) {
  GateDecision out;
  auto action = ActionFor(state, command, at);
  if (!action) return out;
  out.evaluated = true;
  const auto* attempt = std::get_if<v1::RecordContactAttemptRequest>(&command);
  const std::string completing = attempt != nullptr ? attempt->reservation_id() : "";
  compliance::Decision d = compliance::Evaluate(
      FactsFor(state), HistoryFor(state, at, completing, &policy), *action, at, policy);
  v1::ComplianceDecision& rec = out.record;
  rec.set_outcome(compliance::OutcomeName(d.outcome));
  rec.set_outcome_code(compliance::OutcomeCode(d.outcome));
  rec.set_rule_id(d.rule_id);
  rec.set_reason(d.reason);
  for (const auto& r : d.rules_evaluated) rec.add_rules_evaluated(r);
  for (const auto& [k, v] : d.counters) (*rec.mutable_counters())[k] = v;
  for (const auto& id : d.counted_event_ids) rec.add_counted_event_ids(id);
  rec.set_policy_version(d.policy_version);
  if (d.allowed_from) {
    *rec.mutable_allowed_from() = ToProto(*d.allowed_from);
    rec.set_allowed_from_text(compliance::FormatAllowedFrom(d));
  }
  for (const auto& f : d.flags) rec.add_flags(f.rule_id + ":" + f.code);
  for (const auto& r : d.also_blocked_by) rec.add_also_blocked_by(r);
  // The request's consent claim is only cross-checked: a call is exempt under recorded
  // consent or not at all, and a claim the record does not support is flagged for review.
  if (attempt != nullptr && attempt->under_consent() && !d.exempt_by_consent)
    rec.add_flags("CONSENT:NOT_ON_FILE");
  if (d.outcome != compliance::DecisionOutcome::kBlock) return out;
  // A contact that already took place is recorded, as a violation, not refused.
  out.took_place = attempt != nullptr && (attempt->took_place() || !completing.empty());

  // A compliance officer's unused override for this rule and command lets it through.
  const std::string name = CommandName(command);
  for (const auto& o : state.overrides()) {
    bool live = !o.consumed() && o.rule_id() == d.rule_id && o.command() == name &&
                (!o.has_expires_at() || ToTime(o.expires_at()) > at);
    if (live && d.also_blocked_by.empty()) {
      rec.set_override_id(o.override_id());
      // Callers read "it went through": the block and its rule stay in rule_id and reason.
      rec.set_outcome("OVERRIDDEN");
      rec.set_outcome_code(v1::DECISION_OUTCOME_OVERRIDDEN);
      return out;
    }
  }
  out.blocked = true;
  return out;
}

GatedEvents ApplyGate(const Command& command, const GateDecision& gate,
                      std::vector<v1::EventEnvelope> decided) {
  GatedEvents out;
  const std::string& account_id = AccountId(command);
  if (gate.blocked && gate.took_place) {
    // What happened is recorded, marked, and followed by the violation compliance officers
    // look for (ListComplianceExceptions, the audit trail).
    v1::ComplianceDecision record = gate.record;
    record.set_outcome("VIOLATION");
    record.set_outcome_code(v1::DECISION_OUTCOME_VIOLATION);
    const auto& r = std::get<v1::RecordContactAttemptRequest>(command);
    for (auto& e : decided) {
      if (e.has_contact_attempted()) e.mutable_contact_attempted()->mutable_contact()->set_violation(true);
    }
    v1::EventEnvelope violation;
    auto* v = violation.mutable_compliance_violation_recorded();
    v->set_rule_id(record.rule_id());
    for (const auto& also : record.also_blocked_by()) v->add_also_broken(also);
    v->set_command(CommandName(command));
    v->set_subject_id(r.contact_id());
    v->set_reason(record.reason());
    decided.push_back(std::move(violation));
    for (auto& e : decided) *e.mutable_decision() = record;
    out.events = std::move(decided);
    return out;
  }
  if (gate.blocked) {
    // Only the refusal is recorded: what was attempted, by whom, which rule and what it counted.
    v1::EventEnvelope blocked;
    auto* b = blocked.mutable_contact_blocked();
    b->set_command(CommandName(command));
    b->set_command_type(
        std::visit([](const auto& r) { return r.GetDescriptor()->full_name(); }, command));
    b->set_command_request(std::visit([](const auto& r) { return CanonicalBytes(r); }, command));
    *blocked.mutable_decision() = gate.record;
    out.events.push_back(std::move(blocked));
    out.refusal = BlockedError(account_id, gate.record);
    return out;
  }
  out.events = std::move(decided);
  if (gate.evaluated) {
    for (auto& e : out.events) *e.mutable_decision() = gate.record;
  }
  return out;
}

Error BlockedError(const std::string& account_id, const v1::ComplianceDecision& decision) {
  std::string message = decision.rule_id() + ": " + decision.reason();
  if (!decision.allowed_from_text().empty())
    message += "; allowed from " + decision.allowed_from_text();
  Error e{Errc::kFailedPrecondition, decision.rule_id(), message, "", account_id};
  e.metadata = {{"rule_id", decision.rule_id()}, {"policy_version", decision.policy_version()}};
  // Machines read allowed_from (RFC 3339, UTC); people read allowed_from_local (the
  // consumer's local time and zone), which is also in the message.
  if (decision.has_allowed_from()) {
    e.metadata.emplace_back("allowed_from",
                            absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                             internal::ToTime(decision.allowed_from()),
                                             absl::UTCTimeZone()));
  }
  if (!decision.allowed_from_text().empty())
    e.metadata.emplace_back("allowed_from_local", decision.allowed_from_text());
  return e;
}

}  // namespace collections
