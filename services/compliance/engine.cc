#include "services/compliance/engine.h"

#include "services/common/time_zone.h"
#include "services/compliance/calendar.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <functional>

namespace collections::compliance {
namespace {

using Policy = v1::CompliancePolicy;

// A rule's verdict when it blocks.
struct Block {
  explicit Block(std::string why) : reason(std::move(why)) {}

  std::string reason;
  std::optional<absl::Time> allowed_from;
  std::string allowed_from_zone;
  std::map<std::string, int64_t> counters;
  std::vector<std::string> counted_event_ids;
};

// The inputs of one evaluation plus what every rule derives from them.
struct Context {
  const CaseFacts& facts;
  const ContactHistory& history;
  const Action& action;
  absl::Time now;
  const Policy& policy;
  absl::TimeZone zone;             // the consumer's
  absl::CivilDay today;            // the consumer's local day of `now`
  std::vector<std::string> debts;  // what the action is about (F3)
  std::vector<Flag>* flags;
  // Counts the rules made, blocking or not, so an allowed call still shows "6 of 7".
  std::map<std::string, int64_t>* counters;
};

// Records the largest count a rule saw (over the action's debts).
void Count(const Context& c, const std::string& name, size_t value) {
  int64_t& slot = (*c.counters)[name];
  slot = std::max(slot, static_cast<int64_t>(value));
}

using RuleResult = std::optional<Block>;

// ---- time helpers -------------------------------------------------------------------------

absl::CivilDay LocalDay(const Context& c, absl::Time t) { return absl::ToCivilDay(t, c.zone); }

absl::Time LocalMidnight(const Context& c, absl::CivilDay day) {
  return absl::FromCivil(absl::CivilSecond(day), c.zone);
}

absl::CivilDay AddYears(absl::CivilDay day, int years) {
  // Feb 29 + 1 year normalizes to Mar 1: the later day, which never ends a limit early.
  return absl::CivilDay(day.year() + years, day.month(), day.day());
}

bool RollingWindows(const Context& c) {
  return c.policy.window_counting() == Policy::WINDOW_COUNTING_ROLLING_HOURS;
}

// True when `t` lies in the `days`-day window that ends with `now` (see WindowCounting).
bool InWindow(const Context& c, absl::Time t, int days) {
  if (t > c.now) return false;
  if (RollingWindows(c)) return t > c.now - absl::Hours(24) * days;
  return LocalDay(c, t) >= c.today - (days - 1);
}

// When an event at `t` leaves the `days`-day window of a later action.
absl::Time WindowExit(const Context& c, absl::Time t, int days) {
  if (RollingWindows(c)) return t + absl::Hours(24) * days;
  return LocalMidnight(c, LocalDay(c, t) + days);
}

std::string Local(const Context& c, absl::Time t) { return FormatLocal(t, c.facts.time_zone); }

// ---- fact helpers -------------------------------------------------------------------------

std::optional<Channel> Medium(const Action& a) {
  switch (a.kind) {
    case ActionKind::kCall:
    case ActionKind::kVoicemail:
      return Channel::kCall;
    case ActionKind::kText:
      return Channel::kText;
    case ActionKind::kEmail:
      return Channel::kEmail;
    case ActionKind::kLetter:
      return Channel::kLetter;
    case ActionKind::kVisit:
      return Channel::kVisit;
    case ActionKind::kDemand:
    case ActionKind::kValidationNotice:
      return a.delivery_channel;
    default:
      return std::nullopt;
  }
}

bool IsCommunication(const Action& a) { return Medium(a).has_value(); }
bool IsCall(const Action& a) { return Medium(a) == Channel::kCall; }

// Acts to collect: every communication, and the commands that press for payment.
bool IsCollectionAction(const Action& a) {
  return IsCommunication(a) || a.kind == ActionKind::kPromiseToPay ||
         a.kind == ActionKind::kDemand || a.kind == ActionKind::kLegalReferral;
}

bool AboutDebt(const std::vector<std::string>& event_debts, const std::string& debt) {
  if (event_debts.empty() || debt.empty()) return true;
  return std::find(event_debts.begin(), event_debts.end(), debt) != event_debts.end();
}

bool AboutAnyDebt(const std::vector<std::string>& event_debts,
                  const std::vector<std::string>& debts) {
  return std::any_of(debts.begin(), debts.end(),
                     [&](const std::string& d) { return AboutDebt(event_debts, d); });
}

bool DisputeCovers(const Dispute& d, const std::string& debt) {
  return d.debt_id.empty() || debt.empty() || d.debt_id == debt;
}

bool Happened(const std::optional<absl::Time>& t, absl::Time now) { return t && *t <= now; }

// Recorded consent of `scope` in force at `at` that covers `target` in `medium`.
const ConsentRecord* ConsentAt(const Context& c, ConsentScope scope, absl::Time at,
                               const std::string& target, std::optional<Channel> medium) {
  for (const ConsentRecord& r : c.facts.consents) {
    if (r.scope != scope || r.given_at > at) continue;
    if (Happened(r.revoked_at, at)) continue;
    if (!r.target.empty() && r.target != target) continue;
    if (r.channel && medium && *r.channel != *medium) continue;
    return &r;
  }
  return nullptr;
}

const ConsentRecord* FindConsent(const Context& c, ConsentScope scope) {
  return ConsentAt(c, scope, c.now, c.action.target, Medium(c.action));
}

// F1/F2 exception: recorded direct consent, and the call at `at` falls within
// consent_call_days of it (the consent day is day 1). Only consent on file counts: what a
// caller claims about a call is never believed.
const ConsentRecord* CallConsentAt(const Context& c, absl::Time at, const std::string& target) {
  for (const ConsentRecord& r : c.facts.consents) {
    if (r.scope != ConsentScope::kCallFrequency || r.given_at > at) continue;
    if (Happened(r.revoked_at, at)) continue;
    if (!r.target.empty() && r.target != target) continue;
    if (r.channel && *r.channel != Channel::kCall) continue;
    bool within = RollingWindows(c)
                      ? at < r.given_at + absl::Hours(24) * c.policy.consent_call_days()
                      : LocalDay(c, at) <=
                            LocalDay(c, r.given_at) + (c.policy.consent_call_days() - 1);
    if (within) return &r;
  }
  return nullptr;
}

const ConsentRecord* CallConsent(const Context& c) {
  return CallConsentAt(c, c.now, c.action.target);
}

// The inbound contact the action replies to, if it is a first reply in the same medium.
const ContactAttempt* RepliedContact(const Context& c) {
  if (c.action.in_reply_to.empty()) return nullptr;
  const ContactAttempt* inbound = nullptr;
  for (const ContactAttempt& a : c.history.attempts) {
    if (a.id == c.action.in_reply_to && a.direction == Direction::kInbound && a.time <= c.now) {
      inbound = &a;
    }
  }
  if (inbound == nullptr || Medium(c.action) != inbound->channel) return nullptr;
  for (const ContactAttempt& a : c.history.attempts) {
    if (a.direction == Direction::kOutbound && a.in_reply_to == inbound->id) return nullptr;
  }
  return inbound;
}

// A dispute's F13 hold is on at `now`.
bool HoldActive(const Context& c, const Dispute& d) {
  if (d.form != DisputeForm::kWritten || d.received_at > c.now) return false;
  if (c.facts.validation_notice_sent_at && *c.facts.validation_notice_sent_at <= c.now) {
    ValidationPeriodDays period =
        ValidationPeriod(LocalDay(c, *c.facts.validation_notice_sent_at),
                         c.policy.receipt_business_days(), c.policy.validation_period_days());
    if (LocalDay(c, d.received_at) > period.period_end_day) return false;
  }
  // Before any notice the period has not begun, so it cannot have ended.
  bool verification_owed = d.disputes_debt && !Happened(d.response_sent_at, c.now);
  bool creditor_owed = d.original_creditor_request && !Happened(d.original_creditor_sent_at, c.now);
  return verification_owed || creditor_owed;
}

bool OpenDispute(const Context& c, const Dispute& d) {
  return d.disputes_debt && d.received_at <= c.now && !Happened(d.response_sent_at, c.now);
}

// Of `times` (sorted), the instant enough of them leave the window for the count to drop
// below `cap`.
absl::Time CountAllowedFrom(const Context& c, std::vector<absl::Time> times, int cap, int days) {
  std::sort(times.begin(), times.end());
  size_t drop = times.size() - static_cast<size_t>(cap) + 1;
  return WindowExit(c, times[drop - 1], days);
}

// ---- the rules, in evaluation order ---------------------------------------------------------

RuleResult O1(const Context& c) {
  if (!c.facts.bankruptcy_pending && !c.facts.bankruptcy_discharged) return std::nullopt;
  if (!IsCollectionAction(c.action) && c.action.kind != ActionKind::kAgencyPlacement) {
    return std::nullopt;
  }
  if (c.facts.bankruptcy_pending) {
    return Block{
        "A bankruptcy is pending: the automatic stay bars every act to collect this "
        "debt; route questions to the trustee or the consumer's bankruptcy attorney."};
  }
  return Block{"The debt was discharged in bankruptcy: collecting it is barred; close the case."};
}

RuleResult F5(const Context& c) {
  const CaseFacts& f = c.facts;
  if (!f.attorney_represented || f.attorney_contact.empty() || !IsCommunication(c.action)) {
    return std::nullopt;
  }
  if (f.attorney_consent || !f.attorney_override_by.empty()) return std::nullopt;
  if (c.action.target == f.attorney_contact) return std::nullopt;
  return Block{"The consumer is represented by an attorney for this debt: contact the attorney (" +
               f.attorney_contact + ") instead."};
}

RuleResult F7(const Context& c) {
  if (!Happened(c.facts.cease_received_at, c.now) || !IsCommunication(c.action)) {
    return std::nullopt;
  }
  if (c.action.cease_exception != CeaseExceptionNotice::kNone) return std::nullopt;
  return Block{"A written cease-communication request was received on " +
               Local(c, *c.facts.cease_received_at) +
               ": only a notice that efforts are ending or that a remedy may be or will be "
               "invoked may be sent."};
}

RuleResult F8(const Context& c) {
  std::optional<Channel> medium = Medium(c.action);
  if (!medium || c.action.is_opt_out_confirmation || c.action.required_by_law) return std::nullopt;
  for (const OptOut& o : c.facts.opt_outs) {
    if (o.received_at > c.now || o.channel != *medium) continue;
    if (!o.target.empty() && o.target != c.action.target) continue;
    std::string what = o.target.empty() ? "this medium" : "\"" + o.target + "\"";
    return Block{"The consumer asked on " + Local(c, o.received_at) +
                 " not to be contacted through " + what + ": use another channel."};
  }
  return std::nullopt;
}

RuleResult F6(const Context& c) {
  if (!c.facts.employer_prohibits_contact) return std::nullopt;
  std::optional<Channel> medium = Medium(c.action);
  bool at_work = ((medium == Channel::kCall || medium == Channel::kText) &&
                  c.action.phone_type == PhoneType::kWork) ||
                 (medium == Channel::kEmail && c.action.target_is_employer_address);
  if (!at_work || FindConsent(c, ConsentScope::kWorkplace) != nullptr) return std::nullopt;
  return Block{
      "The consumer's employer prohibits contact at work: use a personal number or "
      "address."};
}

RuleResult F13(const Context& c) {
  const Action& a = c.action;
  bool exempt_notice = a.kind == ActionKind::kValidationNotice || a.required_by_law;
  bool collects = IsCollectionAction(a) && !exempt_notice;
  if (!collects && a.kind != ActionKind::kBureauReport) return std::nullopt;
  for (const Dispute& d : c.facts.disputes) {
    bool covers = std::any_of(c.debts.begin(), c.debts.end(),
                              [&](const std::string& debt) { return DisputeCovers(d, debt); });
    if (!covers || !HoldActive(c, d)) continue;
    if (a.kind == ActionKind::kBureauReport) {
      if (!d.disputes_debt || a.dispute_code == DisputeCode::kXB) continue;
      return Block{
          "The debt is disputed and under investigation: report it with compliance "
          "condition code XB."};
    }
    if (d.partial && a.limited_to_undisputed_part) continue;
    std::string owed = d.disputes_debt && !Happened(d.response_sent_at, c.now)
                           ? "verification (or a copy of the judgment)"
                           : "the original creditor's name and address";
    return Block{"A written dispute received on " + Local(c, d.received_at) +
                 " holds collection until " + owed + " is sent to the consumer."};
  }
  return std::nullopt;
}

RuleResult F15(const Context& c) {
  const auto& last = c.facts.limitations_last_day;
  if (!last || c.today <= *last) return std::nullopt;
  const Action& a = c.action;
  std::string ran = absl::FormatCivilTime(*last);
  if (a.kind == ActionKind::kLegalReferral && !a.bankruptcy_proof_of_claim) {
    return Block{"The statute of limitations ran out on " + ran +
                 ": the debt is time-barred and may not be sued on."};
  }
  if (IsCommunication(a) && a.threatens_suit) {
    return Block{"The statute of limitations ran out on " + ran +
                 ": remove the threat of suit from the message."};
  }
  return std::nullopt;
}

RuleResult F17(const Context& c) {
  if (c.action.kind != ActionKind::kAgencyPlacement && c.action.kind != ActionKind::kDebtSale) {
    return std::nullopt;
  }
  const CaseFacts& f = c.facts;
  const char* why = f.paid_in_full            ? "paid in full"
                    : f.settled               ? "settled"
                    : f.bankruptcy_discharged ? "discharged in bankruptcy"
                    : f.identity_theft        ? "the result of identity theft"
                                              : nullptr;
  if (why == nullptr) return std::nullopt;
  return Block{std::string("The debt is ") + why + ": it may not be sold, transferred or placed."};
}

RuleResult F9(const Context& c) {
  std::optional<Channel> medium = Medium(c.action);
  if (medium != Channel::kText && medium != Channel::kEmail) return std::nullopt;
  if (c.action.has_opt_out_notice) return std::nullopt;
  return Block{
      "E-mails and texts must say how to opt out of further messages: add the opt-out "
      "line."};
}

RuleResult F10(const Context& c) {
  const Action& a = c.action;
  std::optional<Channel> medium = Medium(a);
  // Live calls and visits say it aloud; the script, not the engine, carries it.
  bool has_content = medium == Channel::kText || medium == Channel::kEmail ||
                     medium == Channel::kLetter || a.kind == ActionKind::kVoicemail;
  if (!has_content || a.is_limited_content_voicemail) return std::nullopt;
  if (a.is_initial_communication && !a.has_initial_disclosure) {
    return Block{
        "The initial communication must say the collector is attempting to collect a "
        "debt and information obtained will be used for that purpose."};
  }
  if (!a.is_initial_communication && !a.has_debt_collector_disclosure &&
      !a.has_initial_disclosure) {
    return Block{"Every communication after the first must say it is from a debt collector."};
  }
  return std::nullopt;
}

RuleResult F12(const Context& c) {
  if (c.action.kind != ActionKind::kValidationNotice) return std::nullopt;
  ValidationPeriodDays period = ValidationPeriod(c.today, c.policy.receipt_business_days(),
                                                 c.policy.validation_period_days());
  std::string want = absl::FormatCivilTime(period.period_end_day);
  if (!c.action.stated_period_end_day) {
    return Block{"The validation notice must state the end of the validation period: " + want +
                 "."};
  }
  if (*c.action.stated_period_end_day != period.period_end_day) {
    return Block{"The validation notice states " +
                 absl::FormatCivilTime(*c.action.stated_period_end_day) +
                 " as the end of the validation period; sent today it must state " + want + "."};
  }
  return std::nullopt;
}

RuleResult F14(const Context& c) {
  const Action& a = c.action;
  if (a.kind != ActionKind::kPaymentPosting) return std::nullopt;
  if (c.facts.debt_ids.size() > 1) {
    for (const std::string& debt : c.debts) {
      if (!a.consumer_directed_debt_ids.empty() &&
          std::find(a.consumer_directed_debt_ids.begin(), a.consumer_directed_debt_ids.end(),
                    debt) == a.consumer_directed_debt_ids.end()) {
        return Block{"The consumer directed this payment to " +
                     absl::StrJoin(a.consumer_directed_debt_ids, ", ") + ": do not apply it to " +
                     debt + "."};
      }
      for (const Dispute& d : c.facts.disputes) {
        if (!d.debt_id.empty() && d.debt_id == debt && OpenDispute(c, d)) {
          return Block{"Debt " + debt +
                       " is disputed: a payment covering several debts is never applied to it."};
        }
      }
    }
  }
  if (!a.cheque_date) return std::nullopt;
  if (c.today < *a.cheque_date) {
    Block b{"The cheque is dated " + absl::FormatCivilTime(*a.cheque_date) +
            ": it may not be deposited before that day."};
    b.allowed_from = LocalMidnight(c, *a.cheque_date);
    b.allowed_from_zone = c.facts.time_zone;
    return b;
  }
  if (!a.cheque_received_at) return std::nullopt;
  absl::CivilDay received = LocalDay(c, *a.cheque_received_at);
  if (*a.cheque_date - received <= c.policy.postdated_cheque_days()) return std::nullopt;
  const int low = c.policy.postdated_notice_min_business_days();
  const int high = c.policy.postdated_notice_max_business_days();
  std::string window = absl::StrCat(low, " to ", high);
  if (!Happened(a.postdated_notice_sent_at, c.now)) {
    return Block{"The cheque is post-dated by more than " +
                 absl::StrCat(c.policy.postdated_cheque_days()) + " days: send written notice " +
                 window + " business days before depositing it."};
  }
  absl::CivilDay notice = LocalDay(c, *a.postdated_notice_sent_at);
  int between = BusinessDaysBetween(notice, c.today);
  if (between < low) {
    Block b{"The post-dated cheque notice went out " + absl::StrCat(between) +
            " business days ago; deposit " + window + " business days after it."};
    b.allowed_from = LocalMidnight(c, AddBusinessDays(notice, low));
    b.allowed_from_zone = c.facts.time_zone;
    b.counters["business_days_since_notice"] = between;
    return b;
  }
  if (between > high) {
    Block b{"The post-dated cheque notice went out " + absl::StrCat(between) +
            " business days ago, more than " + absl::StrCat(high) + ": send a new notice."};
    b.counters["business_days_since_notice"] = between;
    return b;
  }
  return std::nullopt;
}

RuleResult F16(const Context& c) {
  if (c.action.kind != ActionKind::kBureauReport) return std::nullopt;
  const BureauFacts& b = c.facts.bureau;
  if (b.first_report_done || b.conversation_held) return std::nullopt;
  for (const ContactAttempt& h : c.history.attempts) {
    if (h.outcome == ContactOutcome::kRightPartyConversation && h.time <= c.now &&
        (h.channel == Channel::kCall || h.channel == Channel::kVisit) &&
        AboutAnyDebt(h.debt_ids, c.debts)) {
      return std::nullopt;
    }
  }
  const int quiet = c.policy.bureau_quiet_days();
  std::optional<absl::Time> earliest;
  for (const SentMessage& m : b.messages) {
    if (m.sent_at > c.now) continue;
    absl::CivilDay sent = LocalDay(c, m.sent_at);
    absl::CivilDay last_quiet_day = sent + quiet;
    bool bounced =
        Happened(m.undeliverable_at, c.now) && LocalDay(c, *m.undeliverable_at) <= last_quiet_day;
    if (bounced) continue;
    if (c.today > last_quiet_day) return std::nullopt;
    absl::Time from = LocalMidnight(c, last_quiet_day + 1);
    if (!earliest || from < *earliest) earliest = from;
  }
  Block block{"No conversation with the consumer and no letter or e-mail followed by " +
              absl::StrCat(quiet) + " days without an undeliverable notice: " +
              (earliest ? "the first report may go out from " + Local(c, *earliest) + "."
                        : "send a letter or e-mail about the debt first.")};
  block.allowed_from = earliest;
  if (earliest) block.allowed_from_zone = c.facts.time_zone;
  return block;
}

RuleResult C1(const Context& c) {
  if (c.action.kind != ActionKind::kBureauReport) return std::nullopt;
  for (const Dispute& d : c.facts.disputes) {
    if (!d.disputes_debt || d.received_at > c.now) continue;
    bool covers = std::any_of(c.debts.begin(), c.debts.end(),
                              [&](const std::string& debt) { return DisputeCovers(d, debt); });
    if (!covers) continue;
    if (OpenDispute(c, d) && c.action.dispute_code != DisputeCode::kXB) {
      return Block{
          "The consumer disputes this debt and it is under investigation: report it "
          "with compliance condition code XB."};
    }
    if (c.action.dispute_code == DisputeCode::kNone) {
      return Block{
          "The consumer disputed this debt: report it with compliance condition code "
          "XC (consumer disagrees) or XH (resolved)."};
    }
  }
  return std::nullopt;
}

RuleResult C2(const Context& c) {
  if (c.action.kind != ActionKind::kBureauReport) return std::nullopt;
  const std::string& status = c.action.account_status;
  std::string problem;
  if (status != "93" && status != "62" && status != "97") {
    problem = "account status \"" + status + "\" is not a collection status (93, 62 or 97)";
  } else if (c.facts.paid_in_full && status != "62") {
    problem = "the debt is paid in full but is reported with status " + status + ", not 62";
  } else if (!c.facts.paid_in_full && status == "62") {
    problem = "status 62 (paid, was a collection) is reported for a debt that is not paid";
  }
  if (!problem.empty()) c.flags->push_back(Flag{"C2", "COLLECTION_STATUS_MISMATCH", problem});
  return std::nullopt;
}

RuleResult C3(const Context& c) {
  if (c.action.kind != ActionKind::kBureauReport) return std::nullopt;
  const auto& dofd = c.facts.date_of_first_delinquency;
  if (c.action.reported_dofd && dofd && *c.action.reported_dofd != *dofd) {
    return Block{"The date of first delinquency never changes: report " +
                 absl::FormatCivilTime(*dofd) + ", not " +
                 absl::FormatCivilTime(*c.action.reported_dofd) + "."};
  }
  if (!dofd) return std::nullopt;
  absl::CivilDay limit =
      AddYears(*dofd + c.policy.reporting_delinquency_period_days(), c.policy.reporting_years());
  if (c.today < limit) return std::nullopt;
  return Block{"Negative reporting ended on " + absl::FormatCivilTime(limit) +
               " (7 years after the 180-day period from the date of first delinquency): stop "
               "reporting this debt."};
}

RuleResult C4(const Context& c) {
  if (c.action.kind != ActionKind::kBureauReport || c.facts.debt_type != DebtType::kMedical) {
    return std::nullopt;
  }
  const CaseFacts& f = c.facts;
  std::vector<std::string> why;
  if (f.paid_in_full) why.push_back("it is paid");
  if (!f.paid_in_full && f.date_of_first_delinquency &&
      c.today - *f.date_of_first_delinquency < c.policy.medical_min_age_days()) {
    why.push_back("it is unpaid and less than " + absl::StrCat(c.policy.medical_min_age_days()) +
                  " days past the date of first delinquency");
  }
  if (f.original_balance_minor < c.policy.medical_threshold_minor()) {
    why.push_back("its initial balance is under " +
                  absl::StrCat(c.policy.medical_threshold_minor()) + " minor units");
  }
  if (!why.empty()) {
    c.flags->push_back(Flag{
        "C4", "MEDICAL_NOT_DISPLAYED",
        "Bureaus will not display this medical collection: " + absl::StrJoin(why, "; ") + "."});
  }
  return std::nullopt;
}

RuleResult O2(const Context& c) {
  const CaseFacts& f = c.facts;
  if (c.action.kind != ActionKind::kInterestAccrual || !f.servicemember_active ||
      !f.debt_predates_service) {
    return std::nullopt;
  }
  if (c.action.rate_basis_points <= c.policy.scra_rate_cap_basis_points()) return std::nullopt;
  Block b{
      "The consumer is on active military service and the debt predates it: interest and "
      "fees are capped at " +
      absl::StrCat(c.policy.scra_rate_cap_basis_points()) + " basis points a year, not " +
      absl::StrCat(c.action.rate_basis_points) + "."};
  b.counters["rate_basis_points"] = c.action.rate_basis_points;
  return b;
}

RuleResult F18(const Context& c) {
  if (c.action.kind != ActionKind::kPurgeRecords) return std::nullopt;
  bool recording = c.action.purge_scope == PurgeScope::kCallRecording;
  const std::optional<absl::Time>& start =
      recording ? c.action.record_time : c.facts.last_collection_activity_at;
  if (!start) {
    return Block{recording ? "The call time of the recording is unknown: it must be kept."
                           : "The last collection activity is unknown: the records must be kept."};
  }
  const int years = c.policy.record_retention_years();
  absl::Time until = LocalMidnight(c, AddYears(LocalDay(c, *start), years));
  if (c.now >= until) return std::nullopt;
  Block b{std::string(recording ? "Call recordings" : "Case records") + " are kept " +
          absl::StrCat(years) + " years after " +
          (recording ? "the call" : "the last collection activity") + ": purge from " +
          Local(c, until) + "."};
  b.allowed_from = until;
  b.allowed_from_zone = c.facts.time_zone;
  return b;
}

// F11 never blocks; it records the violation on whatever is evaluated next.
RuleResult F11(const Context& c) {
  const CaseFacts& f = c.facts;
  if (!Happened(f.first_communication_at, c.now) || f.validation_in_initial_communication ||
      f.paid_in_full) {
    return std::nullopt;
  }
  absl::CivilDay first = LocalDay(c, *f.first_communication_at);
  const int days = c.policy.validation_notice_deadline_days();
  absl::CivilDay deadline = c.policy.validation_notice_deadline_business_days()
                                ? AddBusinessDays(first, days)
                                : first + days;
  std::string due = absl::FormatCivilTime(deadline);
  if (!Happened(f.validation_notice_sent_at, c.now)) {
    if (c.today > deadline) {
      c.flags->push_back(
          Flag{"F11", "VALIDATION_NOTICE_OVERDUE",
               "The validation notice was due by " + due + " and has not been sent."});
    }
  } else if (LocalDay(c, *f.validation_notice_sent_at) > deadline) {
    c.flags->push_back(Flag{"F11", "VALIDATION_NOTICE_LATE",
                            "The validation notice was sent after its deadline of " + due + "."});
  }
  return std::nullopt;
}

// The `days`-day windows that contain the action's instant, as [from, to) instants, the
// window ending with the action first. A back-dated action joins every one of them, so each
// is checked with the attempts recorded after the action's instant too: with calendar days
// the windows ending on today ... today + days - 1; rolling, the windows ending at `now` and
// at every later attempt inside the span.
std::vector<std::pair<absl::Time, absl::Time>> WindowsContaining(const Context& c, int days) {
  std::vector<std::pair<absl::Time, absl::Time>> out;
  if (RollingWindows(c)) {
    const absl::Duration span = absl::Hours(24) * days;
    const absl::Duration tick = absl::Nanoseconds(1);  // (end - span, end] as [from, to)
    out.push_back({c.now - span + tick, c.now + tick});
    for (const ContactAttempt& h : c.history.attempts) {
      if (h.time > c.now && h.time < c.now + span) out.push_back({h.time - span + tick, h.time + tick});
    }
    return out;
  }
  for (int k = 0; k < days; ++k) {
    absl::CivilDay last = c.today + k;
    out.push_back({LocalMidnight(c, last - (days - 1)), LocalMidnight(c, last + 1)});
  }
  return out;
}

// The frequency caps (F1, S-MA, S-NYC) share one shape: per debt, the attempts `counts`
// accepts inside each `days`-day window that contains the action; once a window holds `cap`
// of them, block. When the window ending with the action is full, name the debt with the
// most and when the window will hold fewer (`describe(debt, count, allowed_from)` words it);
// when only a later window is (a back-dated action among attempts recorded after it), say
// which window it would overfill.
RuleResult CapInWindow(
    const Context& c, const std::string& counter, int cap, int days,
    const std::function<bool(const ContactAttempt&)>& counts,
    const std::function<std::string(const std::string&, size_t, const std::string&)>& describe) {
  const auto windows = WindowsContaining(c, days);
  std::optional<Block> worst;
  size_t worst_count = 0;
  std::optional<Block> later;  // the first later window the action would overfill
  for (const std::string& debt : c.debts) {
    for (size_t w = 0; w < windows.size(); ++w) {
      const auto& [from, to] = windows[w];
      std::vector<absl::Time> times;
      std::vector<std::string> ids;
      for (const ContactAttempt& h : c.history.attempts) {
        if (!counts(h) || !AboutDebt(h.debt_ids, debt) || h.time < from || h.time >= to) continue;
        times.push_back(h.time);
        ids.push_back(h.id);
      }
      Count(c, counter, times.size());
      if (times.size() < static_cast<size_t>(cap)) continue;
      if (w == 0) {
        if (times.size() <= worst_count) continue;
        worst_count = times.size();
        absl::Time exit = CountAllowedFrom(c, times, cap, days);
        absl::Time allowed = std::max(exit, c.now);
        Block b{describe(debt, times.size(), Local(c, allowed))};
        b.allowed_from = allowed;
        b.allowed_from_zone = c.facts.time_zone;
        b.counters[counter] = static_cast<int64_t>(times.size());
        b.counted_event_ids = std::move(ids);
        worst = std::move(b);
      } else if (!later) {
        absl::CivilDay last = absl::ToCivilDay(to - absl::Nanoseconds(1), c.zone);
        Block b{absl::StrCat("Recorded at ", Local(c, c.now), " it joins ", times.size(),
                             " contacts already counted about ",
                             debt.empty() ? "this debt" : debt, " in the ", days,
                             " days ending ", absl::FormatCivilTime(last), " (at most ", cap,
                             "): that window would exceed the cap.")};
        b.counters[counter] = static_cast<int64_t>(times.size());
        b.counted_event_ids = std::move(ids);
        later = std::move(b);
      }
    }
  }
  if (worst) return worst;
  return later;
}

// What a call cap counts (F1, B2): an outbound call that reached the line or could have;
// calls that did not connect (busy, not in service) do not count.
bool CountedCall(const ContactAttempt& h) {
  if (h.channel != Channel::kCall || h.direction != Direction::kOutbound) return false;
  return h.outcome != ContactOutcome::kBusy && h.outcome != ContactOutcome::kNotInService;
}

RuleResult F1(const Context& c) {
  if (!IsCall(c.action) || CallConsent(c) != nullptr) return std::nullopt;
  const int cap = c.policy.call_cap();
  const int days = c.policy.call_window_days();
  auto counts = [&c](const ContactAttempt& h) {
    // A call the recorded consent exempted when it was placed never counts later.
    return CountedCall(h) && CallConsentAt(c, h.time, h.target) == nullptr;
  };
  return CapInWindow(c, "calls_in_window", cap, days, counts,
                     [&](const std::string& debt, size_t n, const std::string& from) {
                       return absl::StrCat(n, " calls about ", debt.empty() ? "this debt" : debt,
                                           " in the last ", days, " days (at most ", cap,
                                           "): the next call is allowed from ") +
                              from + ".";
                     });
}

RuleResult F2(const Context& c) {
  if (!IsCall(c.action) || CallConsent(c) != nullptr) return std::nullopt;
  const int days = c.policy.conversation_quiet_days();
  std::optional<absl::Time> latest;
  std::vector<std::string> ids;
  std::string about;
  for (const std::string& debt : c.debts) {
    for (const ContactAttempt& h : c.history.attempts) {
      if (h.channel != Channel::kCall || h.outcome != ContactOutcome::kRightPartyConversation) {
        continue;
      }
      if (!AboutDebt(h.debt_ids, debt) || !InWindow(c, h.time, days)) continue;
      if (std::find(ids.begin(), ids.end(), h.id) == ids.end()) ids.push_back(h.id);
      if (!latest || h.time > *latest) {
        latest = h.time;
        about = debt;
      }
    }
  }
  Count(c, "conversations_in_window", ids.size());
  if (!latest) return std::nullopt;
  absl::Time from = WindowExit(c, *latest, days);
  Block b{"A telephone conversation about " + (about.empty() ? std::string("this debt") : about) +
          " took place on " + Local(c, *latest) + ": no call about it for " + absl::StrCat(days) +
          " days; the next call is allowed from " + Local(c, from) + "."};
  b.allowed_from = from;
  b.allowed_from_zone = c.facts.time_zone;
  b.counters["conversations_in_window"] = static_cast<int64_t>(ids.size());
  b.counted_event_ids = std::move(ids);
  return b;
}

// F4: the zones the time of day is checked in, and why an instant is outside the hours.
struct Zone {
  std::string name;
  absl::TimeZone tz;
};

int Seconds(const Policy::TimeOfDay& t) { return t.hours() * 3600 + t.minutes() * 60; }

// Returns the earliest instant after `t` worth re-checking when `t` is inconvenient, or
// nullopt when `t` is fine; `why` names the zone or window.
std::optional<absl::Time> F4NextCandidate(const Context& c, const std::vector<Zone>& zones,
                                          absl::Time t, std::string* why, std::string* zone) {
  const int earliest = Seconds(c.policy.earliest_local_time());
  const int latest = Seconds(c.policy.latest_local_time());
  const bool inclusive = c.policy.time_of_day_boundaries_inclusive();
  for (const Zone& z : zones) {
    absl::CivilSecond local = absl::ToCivilSecond(t, z.tz);
    absl::CivilDay day(local);
    int s = static_cast<int>(local - absl::CivilSecond(day));
    bool ok = inclusive ? (s >= earliest && s <= latest) : (s > earliest && s < latest);
    if (ok) continue;
    *why = "it is " + absl::FormatTime("%H:%M:%S", t, z.tz) + " in " + z.name;
    *zone = z.name;
    absl::CivilDay next_day = s < earliest || (!inclusive && s == earliest) ? day : day + 1;
    absl::CivilSecond start = absl::CivilSecond(next_day) + earliest + (inclusive ? 0 : 1);
    return absl::FromCivil(start, z.tz);
  }
  absl::CivilSecond local = absl::ToCivilSecond(t, c.zone);
  absl::CivilDay day(local);
  int minute = static_cast<int>(local - absl::CivilSecond(day)) / 60;
  for (const InconvenientTime& w : c.facts.inconvenient_times) {
    if (w.weekday && *w.weekday != absl::GetWeekday(day)) continue;
    if (minute < w.start_minute || minute >= w.end_minute) continue;
    *why = absl::StrCat("the consumer said ", w.start_minute / 60, ":",
                        absl::Dec(w.start_minute % 60, absl::kZeroPad2), " to ", w.end_minute / 60,
                        ":", absl::Dec(w.end_minute % 60, absl::kZeroPad2), " is inconvenient");
    *zone = c.facts.time_zone;
    return absl::FromCivil(absl::CivilSecond(day) + w.end_minute * 60, c.zone);
  }
  return std::nullopt;
}

RuleResult F4(const Context& c) {
  std::optional<Channel> medium = Medium(c.action);
  if (!medium || *medium == Channel::kLetter) return std::nullopt;
  if (FindConsent(c, ConsentScope::kInconvenientTime) != nullptr) return std::nullopt;
  if (RepliedContact(c) != nullptr) return std::nullopt;
  std::vector<Zone> zones{{c.facts.time_zone, c.zone}};
  for (const std::string& other : c.facts.other_time_zones) {
    absl::TimeZone tz;
    if (!LoadIanaTimeZone(other, &tz)) {
      return Block{"Unknown time zone \"" + other +
                   "\" for the consumer: fix the customer's time zone before contacting them."};
    }
    zones.push_back({other, tz});
  }
  const std::string& number_zone = c.action.target_time_zone;
  if (!number_zone.empty() && number_zone != c.facts.time_zone) {
    absl::TimeZone tz;
    if (!LoadIanaTimeZone(number_zone, &tz)) {
      return Block{"Unknown time zone \"" + number_zone +
                   "\" for the number: fix the contact point before contacting it."};
    }
    zones.push_back({number_zone, tz});
  }
  std::string why, zone;
  std::optional<absl::Time> next = F4NextCandidate(c, zones, c.now, &why, &zone);
  if (!next) return std::nullopt;
  std::string first_why = why, first_zone = zone;
  // Walk forward to an instant every zone and stated window accepts. Zones more than 13
  // hours apart share no hours; the walk then gives up.
  std::optional<absl::Time> from;
  for (int i = 0; i < 16 && next; ++i) {
    absl::Time candidate = *next;
    next = F4NextCandidate(c, zones, candidate, &why, &zone);
    if (!next) from = candidate;
  }
  std::string earliest = absl::FormatTime(
      "%H:%M", absl::UnixEpoch() + absl::Seconds(Seconds(c.policy.earliest_local_time())),
      absl::UTCTimeZone());
  std::string latest = absl::FormatTime(
      "%H:%M", absl::UnixEpoch() + absl::Seconds(Seconds(c.policy.latest_local_time())),
      absl::UTCTimeZone());
  Block b{"Contact is allowed " + earliest + " to " + latest + " local time and " + first_why +
          (from ? "; allowed from " + FormatLocal(*from, first_zone) + "."
                : "; the consumer's and the number's hours never overlap.")};
  b.allowed_from = from;
  b.allowed_from_zone = first_zone;
  return b;
}

// S-MA and S-NYC count outbound contacts the creditor started.
bool IsReply(const ContactAttempt& h) { return !h.in_reply_to.empty(); }

bool PersonalNumber(PhoneType t) {
  return t == PhoneType::kUnknown || t == PhoneType::kHome || t == PhoneType::kCell;
}

RuleResult SMa(const Context& c) {
  std::optional<Channel> medium = Medium(c.action);
  if (medium != Channel::kCall && medium != Channel::kText) return std::nullopt;
  if (RepliedContact(c) != nullptr) return std::nullopt;  // a response to the debtor's request
  const bool personal = PersonalNumber(c.action.phone_type);
  const int cap = personal ? c.policy.ma_personal_cap() : c.policy.ma_other_cap();
  const int days = personal ? c.policy.ma_personal_window_days() : c.policy.ma_other_window_days();
  auto counts = [personal](const ContactAttempt& h) {
    if ((h.channel != Channel::kCall && h.channel != Channel::kText) ||
        h.direction != Direction::kOutbound || IsReply(h)) {
      return false;
    }
    // A live call, a text, a recorded message, or an unanswered call where one could have
    // been left.
    bool counted = h.outcome == ContactOutcome::kRightPartyConversation ||
                   h.outcome == ContactOutcome::kVoicemailLeft ||
                   h.outcome == ContactOutcome::kAnsweringMachineNoMessage ||
                   h.outcome == ContactOutcome::kNoAnswerMessagePossible ||
                   h.outcome == ContactOutcome::kDelivered;
    return counted && PersonalNumber(h.phone_type) == personal;
  };
  return CapInWindow(
      c, "ma_contacts_in_window", cap, days, counts,
      [&](const std::string&, size_t n, const std::string& from) {
        return absl::StrCat("Massachusetts allows ", cap, " creditor-initiated phone contacts in ",
                            days, " days to ", personal ? "home, cell or personal" : "other",
                            " numbers per debt; ", n, " already made: next allowed from ") +
               from + ".";
      });
}

RuleResult SNyc(const Context& c) {
  std::optional<Channel> medium = Medium(c.action);
  if (!medium) return std::nullopt;
  if ((medium == Channel::kText || medium == Channel::kEmail) &&
      FindConsent(c, ConsentScope::kElectronic) == nullptr) {
    return Block{
        "In New York City e-mail and text need the consumer's consent: record it or use "
        "another channel."};
  }
  const int cap = c.policy.nyc_cap();
  const int days = c.policy.nyc_window_days();
  auto counts = [](const ContactAttempt& h) {
    return h.direction == Direction::kOutbound && !IsReply(h);
  };
  return CapInWindow(
      c, "nyc_contacts_in_window", cap, days, counts,
      [&](const std::string&, size_t n, const std::string& from) {
        return absl::StrCat("New York City allows ", cap, " contacts or attempts in ", days,
                            " days across all channels; ", n, " already made: next allowed from ") +
               from + ".";
      });
}

// ---- commercial debts: the customer-level policy -------------------------------------------
//
// A business is not a consumer: the consumer rules do not protect it (CaseFacts::commercial
// says which rules apply and why). What the creditor owes a business customer is its own
// contact policy: reach it in business hours (B1) and do not flood it with calls (B2).

// "Saturday 2025-10-11", "Monday 2025-10-13 (Columbus Day)": why `day` is not a business day.
std::string ClosedDay(const Context& c, absl::CivilDay day) {
  std::string text = absl::FormatTime("%A %Y-%m-%d", LocalMidnight(c, day), c.zone);
  for (int year : {day.year(), day.year() + 1}) {  // New Year's Day may be observed the day before
    for (const FederalHoliday& h : FederalHolidays(year)) {
      if (h.date == day || h.observed == day) return text + " (" + h.name + ")";
    }
  }
  return text;
}

std::string HoursText(const Policy::TimeOfDay& t) {
  return absl::StrCat(absl::Dec(t.hours(), absl::kZeroPad2), ":",
                      absl::Dec(t.minutes(), absl::kZeroPad2));
}

// B1 business hours: calls, texts and visits only on the customer's business days (not a
// Saturday, a Sunday or a federal holiday), from commercial_contact_start to
// commercial_contact_end in the account's zone, the ends included as F4 includes them. E-mails
// and letters wait in an inbox and are not limited. No consent or reply exception: the hours
// are the creditor's policy, and a compliance officer's override is the way past it.
RuleResult B1(const Context& c) {
  std::optional<Channel> medium = Medium(c.action);
  if (medium != Channel::kCall && medium != Channel::kText && medium != Channel::kVisit) {
    return std::nullopt;
  }
  const int start = Seconds(c.policy.commercial_contact_start());
  const int end = Seconds(c.policy.commercial_contact_end());
  const bool inclusive = c.policy.time_of_day_boundaries_inclusive();
  absl::CivilSecond local = absl::ToCivilSecond(c.now, c.zone);
  absl::CivilDay day(local);
  const int s = static_cast<int>(local - absl::CivilSecond(day));
  const bool open_day = IsBusinessDay(day);
  const bool before = inclusive ? s < start : s <= start;
  const bool in_hours = inclusive ? (s >= start && s <= end) : (s > start && s < end);
  if (open_day && in_hours) return std::nullopt;
  // The next opening: today's, if it has not come yet, or the next business day's.
  absl::CivilDay opening_day = open_day && before ? day : NextBusinessDay(day + 1);
  absl::Time from =
      absl::FromCivil(absl::CivilSecond(opening_day) + start + (inclusive ? 0 : 1), c.zone);
  std::string why = open_day ? "it is " + absl::FormatTime("%H:%M:%S", c.now, c.zone) + " in " +
                                   c.facts.time_zone
                             : "it is " + ClosedDay(c, day) + ", not a business day";
  Block b{"A commercial debtor is contacted on business days from " +
          HoursText(c.policy.commercial_contact_start()) + " to " +
          HoursText(c.policy.commercial_contact_end()) + " local time and " + why +
          "; allowed from " + Local(c, from) + "."};
  b.allowed_from = from;
  b.allowed_from_zone = c.facts.time_zone;
  return b;
}

// B2 call cadence: at most commercial_max_calls_per_7_days outbound call attempts per debt in
// any 7-day window, counted as F1 counts them (CapInWindow: back-dated calls join every window
// that contains them). Recorded consent does not lift it: it is a consumer's Reg F right, and a
// business that wants more calls gets them through an officer's override.
RuleResult B2(const Context& c) {
  const int cap = c.policy.commercial_max_calls_per_7_days();
  if (!IsCall(c.action) || cap == 0) return std::nullopt;
  const int days = kCommercialCallWindowDays;
  return CapInWindow(c, "commercial_calls_in_window", cap, days, CountedCall,
                     [&](const std::string& debt, size_t n, const std::string& from) {
                       return absl::StrCat(n, " calls about ", debt.empty() ? "this debt" : debt,
                                           " in the last ", days,
                                           " days (the commercial policy allows at most ", cap,
                                           "): the next call is allowed from ") +
                              from + ".";
                     });
}

struct Rule {
  const char* id;
  RuleResult (*check)(const Context&);
};

// Who a rule protects. kConsumer rules (and Reg F, and the state overlays, which protect
// consumers too) are skipped for a commercial debt; kCommercial rules apply only to one.
enum class Scope { kRegF, kAlways, kConsumer, kMassachusetts, kNewYorkCity, kCommercial };

struct ScopedRule {
  Scope scope;
  Rule rule;
};

// Evaluation order: bars that no waiting lifts first, then content, then counts and clocks,
// so the reported rule is the one a person must deal with first.
constexpr ScopedRule kRules[] = {
    {Scope::kAlways, {"O1", O1}},
    {Scope::kRegF, {"F5", F5}},
    {Scope::kRegF, {"F7", F7}},
    {Scope::kRegF, {"F8", F8}},
    {Scope::kRegF, {"F6", F6}},
    {Scope::kRegF, {"F13", F13}},
    {Scope::kRegF, {"F15", F15}},
    {Scope::kRegF, {"F17", F17}},
    {Scope::kRegF, {"F9", F9}},
    {Scope::kRegF, {"F10", F10}},
    {Scope::kRegF, {"F12", F12}},
    {Scope::kRegF, {"F14", F14}},
    {Scope::kRegF, {"F16", F16}},
    {Scope::kConsumer, {"C1", C1}},
    {Scope::kConsumer, {"C2", C2}},
    {Scope::kConsumer, {"C3", C3}},
    {Scope::kConsumer, {"C4", C4}},
    {Scope::kAlways, {"O2", O2}},
    {Scope::kRegF, {"F18", F18}},
    {Scope::kRegF, {"F11", F11}},
    {Scope::kRegF, {"F1", F1}},
    {Scope::kRegF, {"F2", F2}},
    {Scope::kRegF, {"F4", F4}},
    {Scope::kMassachusetts, {"S-MA", SMa}},
    {Scope::kNewYorkCity, {"S-NYC", SNyc}},
    // The cap before the hours, as F1 before F4.
    {Scope::kCommercial, {"B2", B2}},
    {Scope::kCommercial, {"B1", B1}},
};

bool Applies(Scope scope, const CaseFacts& facts, const Policy& policy) {
  const bool consumer = !facts.commercial;
  switch (scope) {
    case Scope::kRegF:
      return consumer && facts.reg_f_applies;
    case Scope::kAlways:
      return true;
    case Scope::kConsumer:
      return consumer;
    case Scope::kMassachusetts:
      return consumer && facts.jurisdiction == "MA";
    case Scope::kNewYorkCity:
      return consumer && facts.nyc && policy.nyc_enabled();
    case Scope::kCommercial:
      return facts.commercial;
  }
  return true;
}

}  // namespace

Decision Evaluate(const CaseFacts& facts, const ContactHistory& history, const Action& action,
                  absl::Time now, const v1::CompliancePolicy& policy) {
  Decision d;
  d.policy_version = policy.version();
  absl::TimeZone zone;
  if (!LoadIanaTimeZone(facts.time_zone, &zone)) {
    // Every rule counts in the consumer's local days; without the zone none can be trusted.
    d.outcome = DecisionOutcome::kBlock;
    d.rule_id = "FACTS";
    d.reason = "The consumer's time zone \"" + facts.time_zone +
               "\" is not a known IANA zone: fix the case's address before acting.";
    return d;
  }
  std::vector<Flag> flags;
  Context c{facts,
            history,
            action,
            now,
            policy,
            zone,
            absl::ToCivilDay(now, zone),
            !action.debt_ids.empty() ? action.debt_ids : facts.debt_ids,
            &flags,
            &d.counters};
  if (c.debts.empty()) c.debts.push_back("");  // one unnamed debt: every event is about it

  bool blocked = false;
  for (const ScopedRule& r : kRules) {
    if (!Applies(r.scope, facts, policy)) continue;
    d.rules_evaluated.push_back(r.rule.id);
    RuleResult result = r.rule.check(c);
    if (!result) continue;
    if (blocked) {
      d.also_blocked_by.push_back(r.rule.id);
      continue;
    }
    blocked = true;
    d.rule_id = r.rule.id;
    d.reason = std::move(result->reason);
    d.allowed_from = result->allowed_from;
    d.allowed_from_zone = std::move(result->allowed_from_zone);
    for (auto& [name, value] : result->counters) d.counters[name] = value;
    d.counted_event_ids = std::move(result->counted_event_ids);
  }
  d.flags = std::move(flags);
  d.exempt_by_consent = Applies(Scope::kRegF, facts, policy) && IsCall(action) &&
                        CallConsent(c) != nullptr;
  if (blocked) {
    d.outcome = DecisionOutcome::kBlock;
  } else if (!d.flags.empty()) {
    d.outcome = DecisionOutcome::kAllowWithFlags;
    d.rule_id = d.flags.front().rule_id;
    d.reason = d.flags.front().message;
  } else {
    d.outcome = DecisionOutcome::kAllow;
    d.reason = absl::StrCat("Allowed: ", d.rules_evaluated.size(), " rules evaluated under policy ",
                            policy.version(), ".");
  }
  return d;
}

std::string FormatLocal(absl::Time time, const std::string& zone_name) {
  absl::TimeZone tz;
  std::string name = zone_name;
  if (!LoadIanaTimeZone(zone_name, &tz)) {
    tz = absl::UTCTimeZone();
    name = "UTC";
  }
  return absl::FormatTime("%Y-%m-%dT%H:%M", time, tz) + " " + name;
}

std::string FormatAllowedFrom(const Decision& decision) {
  if (!decision.allowed_from) return "";
  return FormatLocal(*decision.allowed_from, decision.allowed_from_zone);
}

const char* OutcomeName(DecisionOutcome outcome) {
  switch (outcome) {
    case DecisionOutcome::kAllow:
      return "ALLOW";
    case DecisionOutcome::kBlock:
      return "BLOCK";
    case DecisionOutcome::kAllowWithFlags:
      return "ALLOW_WITH_FLAGS";
  }
  return "UNKNOWN";
}

v1::DecisionOutcome OutcomeCode(DecisionOutcome outcome) {
  switch (outcome) {
    case DecisionOutcome::kAllow:
      return v1::DECISION_OUTCOME_ALLOW;
    case DecisionOutcome::kBlock:
      return v1::DECISION_OUTCOME_BLOCK;
    case DecisionOutcome::kAllowWithFlags:
      return v1::DECISION_OUTCOME_ALLOW_WITH_FLAGS;
  }
  return v1::DECISION_OUTCOME_UNSPECIFIED;
}

}  // namespace collections::compliance
