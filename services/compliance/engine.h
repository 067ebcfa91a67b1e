#pragma once

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "collections/v1/events.pb.h"
#include "collections/v1/policy.pb.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace collections::compliance {

// The compliance policy engine: one pure function, Evaluate, that says whether an action on
// a case may happen now, and why not. It reads the facts of the case, the contact history
// and the policy numbers; it does no I/O and keeps no state, so the writer can call it from
// any thread and a decision can be replayed from the recorded inputs. Rule ids are those of
// docs/rules.md (F1 ... F18, C1 ... C4, O1, O2, S-MA, S-NYC; B1, B2 for commercial debts).
//
// Times are absl::Time instants; the rules count in the consumer's local calendar, read
// through the IANA zone in CaseFacts (never a fixed offset), so DST is handled.

// The medium of a contact (F8 opt-outs name one).
enum class Channel {
  kCall = 1,  // telephone, including a message left on voicemail
  kText = 2,
  kEmail = 3,
  kLetter = 4,
  kVisit = 5,  // in person
};

enum class Direction {
  kOutbound = 1,  // the collector (or creditor) started it
  kInbound = 2,   // the consumer started it
};

// How a contact attempt ended.
enum class ContactOutcome {
  kNoAnswer = 1,                   // rang out; no way to leave a message
  kBusy = 2,                       // did not connect (F1: not counted)
  kNotInService = 3,               // did not connect (F1: not counted)
  kVoicemailLeft = 4,              // a (limited-content) message was left
  kAnsweringMachineNoMessage = 5,  // a message could have been left but was not
  kRightPartyConversation = 6,     // spoke with the consumer (F2 clock starts)
  kThirdParty = 7,                 // spoke with someone else
  kWrongNumber = 8,
  kUndeliverable = 9,  // text, e-mail or letter bounced / returned
  kDelivered = 10,     // text, e-mail or letter delivered (or not known bounced)
  // Rang out where a message could have been left; none was (S-MA counts it, 940 CMR
  // 7.04(1)(f): "an unanswered call where a message could have been left").
  kNoAnswerMessagePossible = 11,
};

enum class PhoneType {
  kUnknown = 0,  // treated as personal (home/cell) by S-MA
  kHome = 1,
  kCell = 2,
  kWork = 3,
  kOther = 4,
};

// One past contact attempt or contact, inbound or outbound.
struct ContactAttempt {
  std::string id;   // event id or sequence; returned in counted_event_ids
  absl::Time time;  // when it happened
  Channel channel = Channel::kCall;
  Direction direction = Direction::kOutbound;
  ContactOutcome outcome = ContactOutcome::kNoAnswer;
  PhoneType phone_type = PhoneType::kUnknown;  // calls and texts
  std::string target;                          // the number or address used
  std::vector<std::string> debt_ids;  // what it was about; empty = every debt of the case (F3)
  // No "under consent" flag: whether recorded consent exempted it is derived from
  // CaseFacts::consents at `time`, never taken from the caller.
  std::string in_reply_to;            // id of the inbound contact this answered (F4, S-MA), if any
};

// Everything the case has contacted or been contacted through. Order does not matter.
struct ContactHistory {
  std::vector<ContactAttempt> attempts;
};

// A part of the day the consumer said is inconvenient (F4), in the consumer's zone.
struct InconvenientTime {
  int start_minute = 0;                  // minute of day, inclusive (12:00 = 720)
  int end_minute = 0;                    // minute of day, exclusive
  std::optional<absl::Weekday> weekday;  // only on that weekday; none = every day
};

// What a consent record allows.
enum class ConsentScope {
  kCallFrequency = 1,     // F1/F2: calls within consent_call_days of the consent
  kInconvenientTime = 2,  // F4: contact outside the hours or in a stated window
  kWorkplace = 3,         // F6: contact at work
  kElectronic = 4,        // S-NYC: e-mail and text
};

// Consent given directly by the consumer to the collector.
struct ConsentRecord {
  ConsentScope scope = ConsentScope::kCallFrequency;
  absl::Time given_at;
  std::optional<absl::Time> revoked_at;
  std::string target;              // the number or address it covers; empty = any
  std::optional<Channel> channel = std::nullopt;  // the medium it covers; none = any
};

// A request not to be contacted by a medium, or at one number or address (F8).
struct OptOut {
  Channel channel = Channel::kCall;
  std::string target;  // empty = the whole medium
  absl::Time received_at;
};

enum class DisputeForm {
  kWritten = 1,  // letter, e-mail, portal, response form: starts the F13 hold
  kOral = 2,     // no hold, but the tradeline is reported as disputed (C1)
};

// A dispute, or only a request for the original creditor (disputes_debt = false).
struct Dispute {
  std::string debt_id;        // empty = every debt of the case
  bool disputes_debt = true;  // false: only original_creditor_request
  DisputeForm form = DisputeForm::kWritten;
  absl::Time received_at;
  bool partial = false;  // only part of the amount is disputed
  // When verification, a copy of a judgment, or (for a duplicate dispute with no new
  // information) the notice saying so was sent. Ends the hold.
  std::optional<absl::Time> response_sent_at;
  bool original_creditor_request = false;  // asked for the original creditor's name and address
  std::optional<absl::Time> original_creditor_sent_at;  // when they were sent
};

// A letter or electronic message about the debt, for F16.
struct SentMessage {
  Channel channel = Channel::kLetter;
  absl::Time sent_at;
  std::optional<absl::Time> undeliverable_at;  // when a returned-mail / bounce notice arrived
};

// Credit-reporting facts (F16, C3, C4).
struct BureauFacts {
  bool first_report_done = false;  // the debt has been reported before
  bool conversation_held = false;  // a conversation (phone or in person) about the debt
  std::vector<SentMessage> messages;
};

enum class DebtType {
  kOther = 0,
  kMedical = 1,
  kStudentLoan = 2,
};

// The facts of one case (one account, one consumer) that the rules read.
struct CaseFacts {
  // F3: the debts this account represents; one account is one debt (student loans serviced
  // under one account number are one debt). A call may be about several.
  std::vector<std::string> debt_ids;
  // Reg F (F1-F18) binds third-party collectors and debt buyers, not a creditor collecting
  // its own debt in its own name. C1-C4, O1, O2 and the state overlays apply either way.
  bool reg_f_applies = true;
  // A commercial (business-to-business) debt: owed by a business, not incurred for personal,
  // family or household purposes. The consumer rules do not apply to it, whatever
  // reg_f_applies says, and the customer-level commercial policy (B1, B2) does:
  // - F1-F18: the FDCPA and Regulation F cover consumer debts only (15 U.S.C. 1692a(5)).
  // - S-MA, S-NYC: the Massachusetts and New York City rules protect consumer debtors too.
  // - C1-C4: they are FCRA / Metro 2 rules for consumer reports; a business debt is reported
  //   to the business credit bureaus, outside the FCRA, so none of them applies (C4's medical
  //   thresholds are a consumer-report rule as well).
  // - O1 still applies: the bankruptcy stay (11 U.S.C. 362) protects every debtor, businesses
  //   included. O2 still applies: the SCRA cap covers obligations a servicemember incurred
  //   before service, a business debt they are liable on included; it only fires when
  //   servicemember_active is set.
  bool commercial = false;
  std::string jurisdiction;  // US state code of the consumer; "MA" turns on S-MA
  bool nyc = false;          // the consumer is in New York City (S-NYC)
  std::string time_zone;     // IANA zone of the consumer's address, e.g. "America/Chicago"
  // Other zones the consumer is known to be in (the person's zone recorded on the customer,
  // when it differs): F4 allows only hours acceptable in every one of them.
  std::vector<std::string> other_time_zones;
  std::vector<InconvenientTime> inconvenient_times;

  // F5 attorney representation.
  bool attorney_represented = false;
  std::string attorney_contact;      // known name/number/address; empty = not known (no block)
  bool attorney_consent = false;     // the attorney consented to direct contact
  std::string attorney_override_by;  // officer who documented the attorney's non-response

  bool employer_prohibits_contact = false;      // F6: known or reason to know
  std::optional<absl::Time> cease_received_at;  // F7: written cease or refusal to pay
  std::vector<OptOut> opt_outs;                 // F8
  std::vector<ConsentRecord> consents;

  // F11/F12 validation.
  std::optional<absl::Time> first_communication_at;
  std::optional<absl::Time> validation_notice_sent_at;
  bool validation_in_initial_communication = false;

  std::vector<Dispute> disputes;  // F13, F14, C1
  BureauFacts bureau;

  // F15: the last day a suit may be filed; from the next day the debt is time-barred.
  std::optional<absl::CivilDay> limitations_last_day;

  // F17 (and F11: a debt paid in full needs no notice).
  bool paid_in_full = false;
  bool settled = false;
  bool identity_theft = false;
  // O1.
  bool bankruptcy_pending = false;
  bool bankruptcy_discharged = false;
  // O2: on active duty, and the debt predates service.
  bool servicemember_active = false;
  bool debt_predates_service = true;

  DebtType debt_type = DebtType::kOther;
  std::optional<absl::CivilDay> date_of_first_delinquency;  // C3, C4
  int64_t original_balance_minor = 0;                       // C4

  std::optional<absl::Time> last_collection_activity_at;  // F18
};

enum class ActionKind {
  kCall = 1,
  kText = 2,
  kEmail = 3,
  kLetter = 4,
  kVisit = 5,
  kVoicemail = 6,  // a call placed to leave a message
  kBureauReport = 7,
  kLegalReferral = 8,
  kAgencyPlacement = 9,
  kDebtSale = 10,
  kPromiseToPay = 11,
  kDemand = 12,  // a demand for payment, sent by `delivery_channel`
  kPaymentPosting = 13,
  kInterestAccrual = 14,
  kPurgeRecords = 15,
  kValidationNotice = 16,  // F12 notice generation, sent by `delivery_channel`
};

// F7 exception notices.
enum class CeaseExceptionNotice {
  kNone = 0,
  kEffortsEnding = 1,
  kMayInvokeRemedy = 2,
  kIntendsToInvokeRemedy = 3,
};

enum class DisputeCode {
  kNone = 0,
  kXB = 1,  // disputed, under investigation
  kXC = 2,  // investigation done, consumer disagrees
  kXH = 3,  // resolved
};

enum class PurgeScope {
  kCaseRecords = 1,    // until retention years after the last collection activity
  kCallRecording = 2,  // until retention years after the call (`record_time`)
};

// What someone wants to do now.
struct Action {
  ActionKind kind = ActionKind::kCall;
  std::string target;  // number or address
  PhoneType phone_type = PhoneType::kUnknown;
  std::string target_time_zone;  // IANA zone of the number (area code); empty = the consumer's
  bool target_is_employer_address = false;      // F6 for e-mail
  std::vector<std::string> debt_ids;            // empty = every debt of the case (F3)
  Channel delivery_channel = Channel::kLetter;  // medium of a kDemand or kValidationNotice

  // Content.
  bool has_opt_out_notice = false;             // F9
  bool has_debt_collector_disclosure = false;  // F10
  bool is_initial_communication = false;       // F10: needs the full disclosure
  bool has_initial_disclosure = false;         // F10: "attempting to collect ... used for that"
  bool is_limited_content_voicemail = false;   // F10: an attempt, not a communication
  CeaseExceptionNotice cease_exception = CeaseExceptionNotice::kNone;  // F7
  bool is_opt_out_confirmation = false;                                // F8
  bool required_by_law = false;             // F8 exception (e.g. a notice the law requires)
  bool threatens_suit = false;              // F15
  std::string in_reply_to;                  // id of an inbound contact this replies to (F4, S-MA)
  bool limited_to_undisputed_part = false;  // F13 with a partial dispute

  // Bureau report (C1, C2, C3).
  DisputeCode dispute_code = DisputeCode::kNone;
  std::string account_status;  // Metro 2: "93", "62", "97"
  std::optional<absl::CivilDay> reported_dofd;

  bool bankruptcy_proof_of_claim = false;  // F15 exception for kLegalReferral

  // Payment posting (F14).
  std::vector<std::string> consumer_directed_debt_ids;  // empty = no direction given
  std::optional<absl::CivilDay> cheque_date;
  std::optional<absl::Time> cheque_received_at;
  std::optional<absl::Time> postdated_notice_sent_at;

  int32_t rate_basis_points = 0;  // O2: annual interest and fees of a kInterestAccrual

  // F12: the period end the notice states.
  std::optional<absl::CivilDay> stated_period_end_day;

  PurgeScope purge_scope = PurgeScope::kCaseRecords;  // F18
  std::optional<absl::Time> record_time;              // F18 call recordings: the call
};

enum class DecisionOutcome {
  kAllow = 1,
  kBlock = 2,
  kAllowWithFlags = 3,
};

// Something to record next to an allowed action (C4 medical, F11 violation, C2 mismatch).
struct Flag {
  std::string rule_id;  // e.g. "C4"
  std::string code;     // stable machine-readable, e.g. "MEDICAL_NOT_DISPLAYED"
  std::string message;  // one sentence
};

struct Decision {
  DecisionOutcome outcome = DecisionOutcome::kAllow;
  std::string rule_id;  // the rule that blocked (or the first flag's); empty when allowed
  std::string reason;   // one sentence a person can act on
  // When the blocking rule stops blocking, when it is knowable (F1, F2, F4, F16, F18 ...).
  std::optional<absl::Time> allowed_from;
  std::string allowed_from_zone;             // the zone the rule counted in, for display
  std::vector<std::string> also_blocked_by;  // other rules that would block too
  std::vector<Flag> flags;
  std::vector<std::string> rules_evaluated;    // ids, in evaluation order
  std::map<std::string, int64_t> counters;     // e.g. "calls_in_window" = 7
  std::vector<std::string> counted_event_ids;  // history entries the blocking count used
  std::string policy_version;
  // A call exempt from F1/F2 because recorded consent covers it (Reg F consumer cases only).
  bool exempt_by_consent = false;
};

// B2's window, in days: "per 7 days" is in the policy field's name
// (commercial_max_calls_per_7_days), so it is not a policy number. It is counted as F1's
// windows are (window_counting: local calendar days in the account's zone by default).
inline constexpr int kCommercialCallWindowDays = 7;

// Decides whether `action` may happen at `now`. `now` may lie before attempts in `history`
// (a back-dated action): the caps then count every window that contains `now`, including
// the attempts after it. For a consumer debt (not facts.commercial) Reg F rules are evaluated
// only when facts.reg_f_applies; S-MA when facts.jurisdiction is "MA"; S-NYC when facts.nyc
// and the policy enables it; C1-C4 always. For a commercial debt only O1, O2 and the
// commercial rules B1, B2 are (see CaseFacts::commercial). Every applicable rule is
// evaluated; the first blocking one (in the order of rules_evaluated) is reported, the others
// in also_blocked_by. An unknown consumer time zone blocks (rule id "FACTS"): the engine fails
// closed. `policy` must have passed ValidatePolicy.
Decision Evaluate(const CaseFacts& facts, const ContactHistory& history, const Action& action,
                  absl::Time now, const v1::CompliancePolicy& policy);

// "2025-11-11T00:00 America/New_York": an instant as a person in `zone_name` reads it.
// Falls back to UTC for an unknown zone.
std::string FormatLocal(absl::Time time, const std::string& zone_name);

// The decision's allowed_from in its zone, or "" when there is none.
std::string FormatAllowedFrom(const Decision& decision);

// Names for logs and tests; also ComplianceDecision.outcome, the string clients written before
// outcome_code read.
const char* OutcomeName(DecisionOutcome outcome);

// ComplianceDecision.outcome_code for an engine outcome. OVERRIDDEN and VIOLATION are not the
// engine's: the domain sets them when an override lets a block through or a contact that took
// place broke a rule.
v1::DecisionOutcome OutcomeCode(DecisionOutcome outcome);

}  // namespace collections::compliance
