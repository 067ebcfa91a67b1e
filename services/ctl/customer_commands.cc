#include "services/ctl/customer_commands.h"

#include "services/ctl/ctl_client.h"
#include "services/ctl/ctl_format.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "collections/v1/customer_command_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"

#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <string>

namespace collections::ctl {
namespace {

// Flags every customer subcommand has: who and which customer, and the command's envelope.
struct CustomerFlags {
  CommonFlags common;
  std::string customer;
  std::string command_id;
  int64_t expected_version = -1;
  std::string occurred_at;
  std::string late_entry_reason;
  std::string correlation_id;
  std::string on_behalf_of;
  bool json = false;
};

void AddCustomerFlags(FlagParser& flags, CustomerFlags& f) {
  AddCommon(flags, f.common);
  flags.Add("customer", &f.customer, "the customer's id (required)");
  flags.Add("command-id", &f.command_id,
            "idempotency key; retry with the same one to get the same answer (default: a new "
            "random id, printed)");
  flags.Add("expected-version", &f.expected_version,
            "refuse (ABORTED) unless the customer stream is at this version (default: not "
            "checked)");
  flags.Add("occurred-at", &f.occurred_at, "business time, RFC 3339 (default: now)");
  flags.Add("late-entry-reason", &f.late_entry_reason, "why it is recorded late, if it is");
  flags.Add("correlation-id", &f.correlation_id, "recorded on every event");
  flags.Add("on-behalf-of", &f.on_behalf_of,
            "the person a service principal acts for (needs PRIVILEGE_ACT_ON_BEHALF_OF)");
  flags.Add("json", &f.json, "print the reply as JSON instead of one line");
}

// "2025-10-01" as a LocalDate.
bool ParseDate(const std::string& text, v1::LocalDate* out) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day)) return false;
  out->set_year(static_cast<int32_t>(day.year()));
  out->set_month(day.month());
  out->set_day(day.day());
  return true;
}

std::string NewCommandId() {
  std::random_device random;
  return absl::StrCat("ctl-", absl::ToUnixMillis(absl::Now()), "-", random());
}

// Fills fields 1-6 and customer_id of `r` from the flags. Returns an exit code, or -1 to go on.
template <typename Request>
int FillCommon(CustomerFlags& f, Request& r) {
  if (f.customer.empty()) return Usage("--customer is required");
  if (f.command_id.empty()) {
    f.command_id = NewCommandId();
    std::fprintf(stderr, "%s: command id %s (retry with --command-id %s)\n", kProgram,
                 f.command_id.c_str(), f.command_id.c_str());
  }
  r.set_command_id(f.command_id);
  r.set_customer_id(f.customer);
  if (f.expected_version >= 0) r.set_expected_version(f.expected_version);
  if (!f.occurred_at.empty()) {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, f.occurred_at, &t, &err)) {
      return Usage("--occurred-at is not an RFC 3339 time");
    }
    r.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(t));
  }
  r.set_late_entry_reason(f.late_entry_reason);
  r.set_correlation_id(f.correlation_id);
  // The service sets actor.id and role from the client certificate; only on_behalf_of is ours.
  if (!f.on_behalf_of.empty()) r.mutable_actor()->set_on_behalf_of(f.on_behalf_of);
  return -1;
}

// Sends `r` with `call` and prints the reply.
template <typename Request>
int Send(CustomerFlags& f, const std::string& default_principal, const Request& r,
         grpc::Status (v1::CustomerCommandService::Stub::*call)(grpc::ClientContext*,
                                                                 const Request&,
                                                                 v1::CommandReply*)) {
  auto stub = v1::CustomerCommandService::NewStub(OpenChannel(f.common, default_principal));
  auto context = Context(f.common);
  v1::CommandReply reply;
  grpc::Status status = ((*stub).*call)(context.get(), r, &reply);
  if (!status.ok()) return ServiceError(f.common, status);
  if (f.json) {
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    std::string out;
    if (!google::protobuf::util::MessageToJsonString(reply, &out, options).ok()) {
      return kExitUnreachable;
    }
    std::printf("%s\n", out.c_str());
  } else {
    std::printf("%s version %lld (partition %d offset %lld, %d event(s))%s\n",
                reply.account_id().c_str(), static_cast<long long>(reply.version()),
                reply.position().partition(), static_cast<long long>(reply.position().offset()),
                reply.event_ids_size(), reply.deduplicated() ? " [repeat: nothing appended]" : "");
  }
  return kExitOk;
}

// One enum flag: its text (lower case, '-' for '_') to the value.
template <typename Enum>
bool ParseEnum(const std::string& text, const std::map<std::string, Enum>& values, Enum* out) {
  auto it = values.find(text);
  if (it == values.end()) return false;
  *out = it->second;
  return true;
}

template <typename Enum>
std::string Choices(const std::map<std::string, Enum>& values) {
  std::string out;
  for (const auto& [k, v] : values) absl::StrAppend(&out, out.empty() ? "" : ", ", k);
  return out;
}

const std::map<std::string, v1::PaymentMethod> kMethods = {
    {"card", v1::PAYMENT_METHOD_CARD},   {"ach", v1::PAYMENT_METHOD_ACH},
    {"cheque", v1::PAYMENT_METHOD_CHEQUE}, {"cash", v1::PAYMENT_METHOD_CASH},
    {"wire", v1::PAYMENT_METHOD_WIRE}};
const std::map<std::string, v1::ShortPaymentReason> kShortReasons = {
    {"deduction", v1::SHORT_PAYMENT_REASON_DEDUCTION},
    {"pricing-dispute", v1::SHORT_PAYMENT_REASON_PRICING_DISPUTE},
    {"damaged-goods", v1::SHORT_PAYMENT_REASON_DAMAGED_GOODS},
    {"short-shipment", v1::SHORT_PAYMENT_REASON_SHORT_SHIPMENT},
    {"promotional-allowance", v1::SHORT_PAYMENT_REASON_PROMOTIONAL_ALLOWANCE},
    {"early-payment-discount", v1::SHORT_PAYMENT_REASON_EARLY_PAYMENT_DISCOUNT},
    {"other", v1::SHORT_PAYMENT_REASON_OTHER}};

// --direct "INV-1=5000,INV-2=3000:deduction,account:ACC-9": where the payer said the payment
// goes. Each item is an invoice id (or account:ID), optionally =AMOUNT_MINOR and :SHORT_REASON.
bool ParseDirections(const std::string& text,
                     google::protobuf::RepeatedPtrField<v1::PaymentDirection>* out,
                     std::string* error) {
  if (text.empty()) return true;
  for (const std::string& item : std::vector<std::string>(absl::StrSplit(text, ','))) {
    v1::PaymentDirection* d = out->Add();
    std::string target = item, amount, reason;
    if (auto colon = item.rfind(':');
        colon != std::string::npos && !item.substr(0, colon).ends_with("account")) {
      reason = item.substr(colon + 1);
      target = item.substr(0, colon);
    }
    if (auto eq = target.find('='); eq != std::string::npos) {
      amount = target.substr(eq + 1);
      target = target.substr(0, eq);
    }
    if (target.starts_with("account:")) {
      d->set_account_id(target.substr(8));
    } else {
      d->set_invoice_id(target);
    }
    int64_t minor = 0;
    if (!amount.empty() && !absl::SimpleAtoi(amount, &minor)) {
      *error = absl::StrCat("--direct: \"", amount, "\" is not an amount in minor units");
      return false;
    }
    d->set_amount_minor(minor);
    if (!reason.empty()) {
      v1::ShortPaymentReason r;
      if (!ParseEnum(reason, kShortReasons, &r)) {
        *error = absl::StrCat("--direct: short reason \"", reason, "\" is not one of ",
                              Choices(kShortReasons));
        return false;
      }
      d->set_short_reason(r);
    }
  }
  return true;
}

using Stub = v1::CustomerCommandService::Stub;
constexpr char kAdmin[] = "admin";
constexpr char kSupervisor[] = "supervisor-1";

std::string Help(const std::string& what) {
  return what +
         "\n\nEvery customer command is idempotent by --command-id and answers with the "
         "customer stream's\nnew version and log position.\n" + kExitCodes;
}

int OpenCustomer(int argc, char** argv) {
  CustomerFlags f;
  std::string name, kind = "company", currency = "USD", time_zone = "UTC", rule = "oldest-first";
  std::string contact_name, contact_email, contact_roles;
  bool commercial = false, auto_release = false;
  FlagParser flags("collectionsctl open-customer --customer ID --name NAME",
                   Help("Opens a customer (a person or a company) that owns accounts."));
  AddCustomerFlags(flags, f);
  flags.Add("name", &name, "the customer's name (required)");
  flags.Add("kind", &kind, "person or company");
  flags.Add("currency", &currency, "ISO 4217 code of every amount on the customer");
  flags.Add("time-zone", &time_zone, "IANA zone the customer's dates are read in");
  flags.Add("commercial", &commercial, "business-to-business: consumer rules do not apply");
  flags.Add("cash-rule", &rule, "how undirected cash is applied: oldest-first or pro-rata");
  flags.Add("auto-release-hold", &auto_release,
            "release an approved credit hold once nothing is past due");
  flags.Add("contact-name", &contact_name, "one contact's name (optional)");
  flags.Add("contact-email", &contact_email, "that contact's e-mail");
  flags.Add("contact-roles", &contact_roles, "that contact's roles, comma-separated");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  v1::OpenCustomerRequest r;
  if (int rc = FillCommon(f, r); rc >= 0) return rc;
  r.set_name(name);
  if (kind != "person" && kind != "company") return Usage("--kind must be person or company");
  r.set_kind(kind == "person" ? v1::CUSTOMER_KIND_PERSON : v1::CUSTOMER_KIND_COMPANY);
  r.set_currency(currency);
  r.set_time_zone(time_zone);
  r.set_commercial(commercial);
  if (rule != "oldest-first" && rule != "pro-rata") {
    return Usage("--cash-rule must be oldest-first or pro-rata");
  }
  r.set_cash_application_rule(rule == "pro-rata" ? v1::CASH_APPLICATION_RULE_PRO_RATA
                                                 : v1::CASH_APPLICATION_RULE_OLDEST_FIRST);
  r.set_auto_release_hold_when_current(auto_release);
  if (!contact_name.empty()) {
    v1::CustomerContact* c = r.add_contacts();
    c->set_contact_id("contact-1");
    c->set_name(contact_name);
    c->set_email(contact_email);
    for (const std::string& role :
         std::vector<std::string>(absl::StrSplit(contact_roles, ',', absl::SkipEmpty()))) {
      c->add_roles(role);
    }
  }
  return Send(f, kAdmin, r, &Stub::OpenCustomer);
}

int LinkAccount(int argc, char** argv) {
  CustomerFlags f;
  std::string account, reason, moved_from;
  FlagParser flags("collectionsctl link-account --customer ID --account ACCOUNT",
                   Help("Links an account to the customer, or moves it here from another one."));
  AddCustomerFlags(flags, f);
  flags.Add("account", &account, "the account to link (required)");
  flags.Add("reason", &reason, "why (required when it moves from another customer)");
  flags.Add("moved-from", &moved_from, "the customer the account leaves");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  v1::LinkCustomerAccountRequest r;
  if (int rc = FillCommon(f, r); rc >= 0) return rc;
  r.set_linked_account_id(account);
  r.set_reason(reason);
  r.set_moved_from_customer_id(moved_from);
  return Send(f, kAdmin, r, &Stub::LinkCustomerAccount);
}

int RecordInvoice(int argc, char** argv) {
  CustomerFlags f;
  std::string invoice, number, account, invoice_date, due_date, currency = "USD";
  int64_t amount = 0;
  FlagParser flags("collectionsctl record-invoice --customer ID --invoice ID --account ACCOUNT "
                   "--amount-minor N --invoice-date DATE --due-date DATE",
                   Help("Records an invoice line of one of the customer's linked accounts."));
  AddCustomerFlags(flags, f);
  flags.Add("invoice", &invoice, "the invoice's id, unique on the customer (required)");
  flags.Add("number", &number, "the number the customer sees (default: the id)");
  flags.Add("account", &account, "the linked account it belongs to (required)");
  flags.Add("invoice-date", &invoice_date, "YYYY-MM-DD (required)");
  flags.Add("due-date", &due_date, "YYYY-MM-DD (required)");
  flags.Add("amount-minor", &amount, "the amount in minor units (required)");
  flags.Add("currency", &currency, "the customer's currency");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  v1::RecordInvoiceRequest r;
  if (int rc = FillCommon(f, r); rc >= 0) return rc;
  v1::Invoice* i = r.mutable_invoice();
  i->set_invoice_id(invoice);
  i->set_number(number.empty() ? invoice : number);
  i->set_account_id(account);
  if (!ParseDate(invoice_date, i->mutable_invoice_date())) {
    return Usage("--invoice-date must be YYYY-MM-DD");
  }
  if (!ParseDate(due_date, i->mutable_due_date())) return Usage("--due-date must be YYYY-MM-DD");
  i->mutable_amount()->set_amount_minor(amount);
  i->mutable_amount()->set_currency(currency);
  return Send(f, kAdmin, r, &Stub::RecordInvoice);
}

int ReceivePayment(int argc, char** argv) {
  CustomerFlags f;
  std::string payment, currency = "USD", method = "ach", reference, received, direct, refund;
  int64_t amount = 0;
  bool no_rule = false;
  FlagParser flags(
      "collectionsctl receive-payment --customer ID --payment ID --amount-minor N "
      "--received-date DATE",
      Help("Receives a payment and applies all of it at once: as --direct says, then by the\n"
           "customer's rule (unless --unapplied-remainder), the rest as unapplied cash. A\n"
           "payment with the same payer reference, amount and date as an earlier one is a\n"
           "duplicate and is refunded. Never applied to a disputed invoice\n"
           "(FAILED_PRECONDITION PAYMENT_TO_DISPUTED_INVOICE)."));
  AddCustomerFlags(flags, f);
  flags.Add("payment", &payment, "the payment's id (required)");
  flags.Add("amount-minor", &amount, "the amount in minor units (required)");
  flags.Add("currency", &currency, "the customer's currency");
  flags.Add("method", &method, Choices(kMethods));
  flags.Add("payer-reference", &reference, "cheque number, wire id ...");
  flags.Add("received-date", &received, "YYYY-MM-DD (required)");
  flags.Add("direct", &direct,
            "where the payer said it goes: INVOICE[=AMOUNT][:SHORT_REASON] or "
            "account:ACCOUNT[=AMOUNT], comma-separated; a short reason (" +
                Choices(kShortReasons) + ") opens a discrepancy for the rest of that invoice");
  flags.Add("unapplied-remainder", &no_rule,
            "keep what the directions leave as unapplied cash (no rule applies it)");
  flags.Add("refund-id", &refund, "the refund's id should it be a duplicate");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  v1::ReceiveCustomerPaymentRequest r;
  if (int rc = FillCommon(f, r); rc >= 0) return rc;
  r.set_payment_id(payment);
  r.mutable_amount()->set_amount_minor(amount);
  r.mutable_amount()->set_currency(currency);
  v1::PaymentMethod m;
  if (!ParseEnum(method, kMethods, &m)) return Usage("--method must be " + Choices(kMethods));
  r.set_method(m);
  r.set_payer_reference(reference);
  if (!ParseDate(received, r.mutable_received_date())) {
    return Usage("--received-date must be YYYY-MM-DD");
  }
  std::string error;
  if (!ParseDirections(direct, r.mutable_directions(), &error)) return Usage(error);
  if (no_rule) r.set_apply_remainder_by_rule(false);
  r.set_refund_id(refund);
  return Send(f, kAdmin, r, &Stub::ReceiveCustomerPayment);
}

int ResolveShortPayment(int argc, char** argv) {
  CustomerFlags f;
  std::string discrepancy, resolution, note, adjustment;
  FlagParser flags("collectionsctl resolve-short-payment --customer ID --discrepancy ID "
                   "--resolution accepted|rejected",
                   Help("Ends a short-payment discrepancy: accepted (the shortfall is credited "
                        "off the invoice\nwith the credit memo --adjustment, under the credit-memo "
                        "approval rule) or rejected\n(it stays owed)."));
  AddCustomerFlags(flags, f);
  flags.Add("discrepancy", &discrepancy, "PAYMENT:INVOICE, as the payment opened it (required)");
  flags.Add("resolution", &resolution, "accepted or rejected");
  flags.Add("note", &note, "what was found");
  flags.Add("adjustment", &adjustment, "accepted: the credit memo's id (required then)");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  v1::ResolveShortPaymentRequest r;
  if (int rc = FillCommon(f, r); rc >= 0) return rc;
  if (resolution != "accepted" && resolution != "rejected") {
    return Usage("--resolution must be accepted or rejected");
  }
  r.set_discrepancy_id(discrepancy);
  r.set_resolution(resolution == "accepted" ? v1::DISCREPANCY_RESOLUTION_ACCEPTED
                                            : v1::DISCREPANCY_RESOLUTION_REJECTED);
  r.set_note(note);
  r.set_adjustment_id(adjustment);
  return Send(f, kAdmin, r, &Stub::ResolveShortPayment);
}

int AdjustInvoice(int argc, char** argv) {
  CustomerFlags f;
  std::string adjustment, invoice, kind = "credit", reason;
  int64_t amount = 0;
  FlagParser flags("collectionsctl adjust-invoice --customer ID --adjustment ID --invoice ID "
                   "--amount-minor N --reason TEXT",
                   Help("A credit memo (takes the amount off the invoice) or a debit memo (adds "
                        "it). A credit\nmemo above the service's threshold needs a supervisor "
                        "other than the person who asked:\nthe first attempt is refused "
                        "(PERMISSION_DENIED SUPERVISOR_APPROVAL_REQUIRED) and recorded; a\n"
                        "supervisor then runs the same command with a new --command-id."));
  AddCustomerFlags(flags, f);
  flags.Add("adjustment", &adjustment, "the memo's id (required)");
  flags.Add("invoice", &invoice, "the invoice (required)");
  flags.Add("kind", &kind, "credit or debit");
  flags.Add("amount-minor", &amount, "the amount in minor units (required)");
  flags.Add("reason", &reason, "why (required)");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  v1::AdjustInvoiceRequest r;
  if (int rc = FillCommon(f, r); rc >= 0) return rc;
  if (kind != "credit" && kind != "debit") return Usage("--kind must be credit or debit");
  r.set_adjustment_id(adjustment);
  r.set_invoice_id(invoice);
  r.set_kind(kind == "credit" ? v1::INVOICE_ADJUSTMENT_KIND_CREDIT_MEMO
                              : v1::INVOICE_ADJUSTMENT_KIND_DEBIT_MEMO);
  r.set_amount_minor(amount);
  r.set_reason(reason);
  return Send(f, kAdmin, r, &Stub::AdjustInvoice);
}

int DisputeInvoice(int argc, char** argv) {
  CustomerFlags f;
  std::string invoice, dispute, reason;
  FlagParser flags("collectionsctl dispute-invoice --customer ID --invoice ID --dispute ID "
                   "--reason TEXT",
                   Help("Marks an invoice disputed: no payment is applied to it until the "
                        "dispute is resolved."));
  AddCustomerFlags(flags, f);
  flags.Add("invoice", &invoice, "the invoice (required)");
  flags.Add("dispute", &dispute, "the dispute's id (required)");
  flags.Add("reason", &reason, "what the customer disputes (required)");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  v1::DisputeInvoiceRequest r;
  if (int rc = FillCommon(f, r); rc >= 0) return rc;
  r.set_invoice_id(invoice);
  r.set_dispute_id(dispute);
  r.set_reason(reason);
  return Send(f, kAdmin, r, &Stub::DisputeInvoice);
}

int SetCreditLimit(int argc, char** argv) {
  CustomerFlags f;
  std::string currency = "USD", reason;
  int64_t limit = 0;
  FlagParser flags("collectionsctl set-credit-limit --customer ID --limit-minor N --reason TEXT",
                   Help("Records the customer's credit limit (0 = no credit) and why."));
  AddCustomerFlags(flags, f);
  flags.Add("limit-minor", &limit, "the limit in minor units");
  flags.Add("currency", &currency, "the customer's currency");
  flags.Add("reason", &reason, "why (required)");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  v1::SetCreditLimitRequest r;
  if (int rc = FillCommon(f, r); rc >= 0) return rc;
  r.mutable_limit()->set_amount_minor(limit);
  r.mutable_limit()->set_currency(currency);
  r.set_reason(reason);
  return Send(f, kAdmin, r, &Stub::SetCreditLimit);
}

int RecommendHold(int argc, char** argv) {
  CustomerFlags f;
  std::string hold, reason;
  FlagParser flags("collectionsctl recommend-hold --customer ID --hold ID --reason TEXT --as "
                   "collector-1",
                   Help("A collector recommends putting the customer on credit hold; a "
                        "supervisor approves it\n(approve-hold)."));
  AddCustomerFlags(flags, f);
  flags.Add("hold", &hold, "the hold's id (required)");
  flags.Add("reason", &reason, "why (required)");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  v1::RecommendCreditHoldRequest r;
  if (int rc = FillCommon(f, r); rc >= 0) return rc;
  r.set_hold_id(hold);
  r.set_reason(reason);
  return Send(f, "collector-1", r, &Stub::RecommendCreditHold);
}

int ApproveHold(int argc, char** argv) {
  CustomerFlags f;
  std::string hold, note;
  FlagParser flags("collectionsctl approve-hold --customer ID --hold ID [--as supervisor-1]",
                   Help("A supervisor other than the recommender approves the hold: the "
                        "customer is on credit\nhold, and CreditHoldApproved on the event topic "
                        "tells the sales side."));
  AddCustomerFlags(flags, f);
  flags.Add("hold", &hold, "the hold's id (required)");
  flags.Add("note", &note, "a note for the record");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  v1::ApproveCreditHoldRequest r;
  if (int rc = FillCommon(f, r); rc >= 0) return rc;
  r.set_hold_id(hold);
  r.set_note(note);
  return Send(f, kSupervisor, r, &Stub::ApproveCreditHold);
}

int ReleaseHold(int argc, char** argv) {
  CustomerFlags f;
  std::string hold, reason;
  FlagParser flags("collectionsctl release-hold --customer ID --hold ID --reason TEXT "
                   "[--as supervisor-1]",
                   Help("A supervisor releases the customer's credit hold."));
  AddCustomerFlags(flags, f);
  flags.Add("hold", &hold, "the hold's id (required)");
  flags.Add("reason", &reason, "why (required)");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  v1::ReleaseCreditHoldRequest r;
  if (int rc = FillCommon(f, r); rc >= 0) return rc;
  r.set_hold_id(hold);
  r.set_reason(reason);
  return Send(f, kSupervisor, r, &Stub::ReleaseCreditHold);
}

struct Subcommand {
  std::string_view name;
  int (*run)(int, char**);
};
constexpr Subcommand kSubcommands[] = {
    {"open-customer", &OpenCustomer},
    {"link-account", &LinkAccount},
    {"record-invoice", &RecordInvoice},
    {"receive-payment", &ReceivePayment},
    {"resolve-short-payment", &ResolveShortPayment},
    {"adjust-invoice", &AdjustInvoice},
    {"dispute-invoice", &DisputeInvoice},
    {"set-credit-limit", &SetCreditLimit},
    {"recommend-hold", &RecommendHold},
    {"approve-hold", &ApproveHold},
    {"release-hold", &ReleaseHold},
};

}  // namespace

const std::vector<std::string_view>& CustomerCommandNames() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const auto& s : kSubcommands) out.push_back(s.name);
    return out;
  }();
  return names;
}

const char* CustomerCommandsOverview() {
  return "Customer commands (accounts receivable; default --as admin, approvals supervisor-1):\n"
         "  open-customer, link-account, record-invoice, receive-payment,\n"
         "  resolve-short-payment, adjust-invoice (credit/debit memo), dispute-invoice,\n"
         "  set-credit-limit, recommend-hold, approve-hold, release-hold\n"
         "                   each with --customer ID and its own flags; see `open-customer "
         "--help`\n";
}

int RunCustomerCommand(std::string_view name, int argc, char** argv) {
  for (const auto& s : kSubcommands) {
    if (s.name == name) return s.run(argc, argv);
  }
  return kExitUsage;
}

}  // namespace collections::ctl
