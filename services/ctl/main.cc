// collectionsctl: the compliance officer's command line. Talks gRPC to a running
// collections-server (collections.v1.ComplianceService) and answers, from the log itself,
// "what happened on this account, what did it look like after each step, and was anything
// altered?"
//
// Exit codes (services/ctl/ctl_format.h, README "Audit trail"): 0 success (and, for verify,
// an intact chain), 1 a broken chain, 2 bad usage, 3 the service could not be reached or
// failed, 4 not found, 5 refused (permission, authentication, rejected input), 6 the output
// could not be written.
#include "projections/compliance/audit.h"
#include "projections/reporting/report_csv.h"
#include "services/authz/tls.h"
#include "services/common/csv.h"
#include "services/common/flags.h"
#include "services/ctl/ctl_client.h"
#include "services/ctl/ctl_format.h"
#include "services/ctl/customer_commands.h"
#include "services/ctl/customer_queries.h"
#include "services/ctl/timeline.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/hashing.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "collections/v1/compliance_service.grpc.pb.h"
#include "collections/v1/reporting_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace collections::ctl {
namespace {

const std::string kOverview = std::string(
    "collectionsctl: compliance tooling for the collections case service. Every answer is\n"
    "computed by the service from the Kafka event log (the system of record), not from a\n"
    "projection.\n"
    "\n"
    "Commands:\n"
    "  replay ACCOUNT   the account's events in order with the state after each one\n"
    "                   [--format table|json] [--as-of RFC3339] [--as-known-at RFC3339]\n"
    "  verify ACCOUNT   recompute the account's hash chain; exit 1 if it is broken\n"
    "  verify --all     the same for every account, partition by partition\n"
    "  export ACCOUNT   every event of the account for an examiner\n"
    "                   --format jsonl|csv [--out FILE]\n"
    "  export --from DATE --to DATE --format jsonl|csv [--out FILE]\n"
    "                   every event whose business time is in the range, all accounts\n"
    "  timeline ACCOUNT --html FILE\n"
    "                   the account's history on a time axis as a self-contained HTML page\n"
    "  report aging|activity|cei|roll-rates\n"
    "                   management reports from the reporting projection, as a table or\n"
    "                   CSV [--format table|csv] [--out FILE]; see `report aging --help`\n"
    "\n"
    "\"What happened on account X, and prove nothing was altered\":\n"
    "  collectionsctl replay X && collectionsctl verify X\n"
    "\n"
    "Run `collectionsctl COMMAND --help` for a command's flags.\n\n") +
    CustomerQueriesOverview() + CustomerCommandsOverview() + kExitCodes;

std::unique_ptr<v1::ComplianceService::Stub> Connect(const CommonFlags& common) {
  return v1::ComplianceService::NewStub(OpenChannel(common, "compliance-officer-1"));
}

// RFC 3339 instant ("2025-10-01T12:00:00Z", offsets allowed) or, with `date_ok`, a UTC date
// ("2025-10-01" = its midnight). `end_of_day` moves a date to the next midnight, so that
// "--to 2025-10-31" includes the whole of the 31st.
bool ParseInstant(const std::string& text, bool end_of_day, google::protobuf::Timestamp* out) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    absl::CivilDay day;
    if (!absl::ParseCivilTime(text, &day)) return false;
    t = absl::FromCivil(end_of_day ? day + 1 : day, absl::UTCTimeZone());
  }
  out->set_seconds(absl::ToUnixSeconds(t));
  out->set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(absl::ToUnixSeconds(t))) /
                                      absl::Nanoseconds(1)));
  return true;
}

// `text` as the inside of a JSON string: quotes, backslashes and control characters escaped.
std::string JsonEscaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, absl::StrFormat("\\u%04x", static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

std::string Json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;  // the same names as the .proto and the CSV
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  // Every message here is generated code with known fields; failing to print one would be a
  // bug in protobuf, and printing an empty object would silently lose an event.
  if (!status.ok()) {
    std::fprintf(stderr, "%s: cannot print a message as JSON: %s\n", kProgram,
                 status.ToString().c_str());
    std::exit(kExitUnreachable);
  }
  return out;
}

// Opens --out, or stdout without it. Returns nullptr (after saying why) if it cannot.
std::FILE* OpenOut(const std::string& path) {
  if (path.empty() || path == "-") return stdout;
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) std::fprintf(stderr, "%s: cannot write %s\n", kProgram, path.c_str());
  return f;
}

int CloseOut(std::FILE* out, const std::string& path) {
  if (out == stdout) return std::fflush(stdout) == 0 ? kExitOk : kExitOutput;
  if (std::fclose(out) != 0) {
    std::fprintf(stderr, "%s: writing %s failed\n", kProgram, path.c_str());
    return kExitOutput;
  }
  return kExitOk;
}

// ---- replay ----

// Progress on stderr for long streams: a line every `every` items and the total at the end.
// Lives for one command; single-threaded.
class Progress {
 public:
  Progress(std::string what, int64_t every) : what_(std::move(what)), every_(every) {}
  void Tick() {
    if (++count_ % every_ == 0) {
      std::fprintf(stderr, "%s: %lld %s...\n", kProgram, static_cast<long long>(count_),
                   what_.c_str());
    }
  }
  int64_t count() const { return count_; }

 private:
  std::string what_;
  int64_t every_;
  int64_t count_ = 0;
};

int Replay(int argc, char** argv) {
  CommonFlags common;
  std::string format = "table", as_of, as_known_at;
  FlagParser flags(
      "collectionsctl replay ACCOUNT",
      "Replays the account from the event log: each event in sequence order with the state\n"
      "after it, computed by the domain's Evolve (the code the service itself runs). With\n"
      "--as-of only events that had happened by then (business time); with --as-known-at only\n"
      "events the system had recorded by then (system time). Table columns: seq, occurred_at,\n"
      "recorded_at, type, actor, amount (in the account's currency), rule (the blocking rule,\n"
      "or the rule of a violation or override), balance_after, status_after, reason (the\n"
      "payload's reasons, the decision's, a refused request decoded as JSON). --format json\n"
      "prints one collections.v1.ReplayStep per line (JSON Lines), a refused request also\n"
      "decoded in `decoded_request`. --state last (or none)\n"
      "asks for the state on the last step only (or on none): far less to stream for a long\n"
      "history. Progress on stderr every 1000 events.\n" + std::string(kExitCodes));
  AddCommon(flags, common);
  flags.AcceptPositional("ARGS", "the command's arguments (see the usage above)");
  std::string state = "every";
  flags.Add("format", &format, "table or json");
  flags.Add("state", &state, "which steps carry the state after them: every, last or none");
  flags.Add("as-of", &as_of, "business time cut-off, RFC 3339 (e.g. 2025-10-01T00:00:00Z)");
  flags.Add("as-known-at", &as_known_at, "system time cut-off, RFC 3339");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  if (flags.positional().size() != 1) return Usage("replay takes exactly one ACCOUNT");
  if (format != "table" && format != "json") return Usage("--format must be table or json");

  v1::ReplayAccountRequest request;
  request.set_account_id(flags.positional()[0]);
  if (state == "every") {
    request.set_state_mode(v1::REPLAY_STATE_MODE_EVERY_STEP);
  } else if (state == "last") {
    request.set_state_mode(v1::REPLAY_STATE_MODE_LAST_STEP);
  } else if (state == "none") {
    request.set_state_mode(v1::REPLAY_STATE_MODE_NONE);
  } else {
    return Usage("--state must be every, last or none");
  }
  if (!as_of.empty() && !ParseInstant(as_of, false, request.mutable_as_of_business_time())) {
    return Usage("--as-of is not an RFC 3339 time");
  }
  if (!as_known_at.empty() && !ParseInstant(as_known_at, false, request.mutable_as_known_at())) {
    return Usage("--as-known-at is not an RFC 3339 time");
  }
  auto stub = Connect(common);
  auto context = Context(common);
  auto reader = stub->ReplayAccount(context.get(), request);
  v1::ReplayStep step;
  Progress progress("events replayed", 1000);
  // The table is printed once every row is in, so each column is as wide as its widest cell.
  reporting::Table table = {{"seq", "occurred_at", "recorded_at", "type", "actor", "amount",
                             "rule", "balance_after", "status_after", "reason"}};
  std::string currency;  // the account's, from CaseOpened or the state
  while (reader->Read(&step)) {
    progress.Tick();
    if (format == "json") {
      std::string line = Json(step);
      // The step keeps a refused request as protobuf bytes (base64 in JSON); its decoded copy
      // goes beside it as `decoded_request`, so nobody has to decode it by hand.
      if (auto request = BlockedRequestJson(step.event()); request && !line.empty()) {
        line.insert(line.size() - 1, ",\"decoded_request\":\"" + JsonEscaped(*request) + "\"");
      }
      std::printf("%s\n", line.c_str());
      continue;
    }
    const v1::EventEnvelope& e = step.event();
    const v1::Account& a = step.state_after();
    const bool with_state = step.has_state_after();
    if (e.has_case_opened()) currency = e.case_opened().currency();
    if (with_state && !a.currency().empty()) currency = a.currency();
    const auto amount = EventAmountMinor(e);
    std::string reason = EventReason(e);
    if (!step.integrity().empty()) {
      reason = absl::StrCat("NOT APPLIED: ", step.integrity(), reason.empty() ? "" : "; ", reason);
    }
    table.push_back({absl::StrCat(e.sequence()), compliance::Rfc3339(e.occurred_at()),
                     compliance::Rfc3339(e.recorded_at()), ShortType(EventType(e)), e.actor().id(),
                     amount ? Money(*amount, currency) : "", EventRule(e),
                     with_state ? Money(a.total_balance_minor(), a.currency()) : "",
                     with_state ? EnumSuffix(v1::AccountStatus_Name(a.status()), "ACCOUNT_STATUS_")
                                : "",
                     reason});
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return ServiceError(common, status);
  if (format == "table") std::fputs(reporting::Aligned(table).c_str(), stdout);
  std::fflush(stdout);
  const bool cut = request.has_as_of_business_time() || request.has_as_known_at();
  if (progress.count() == 0) {
    std::fprintf(stderr, "%s: no events for %s%s\n", kProgram, request.account_id().c_str(),
                 cut ? " inside the --as-of / --as-known-at cut" : "");
  } else {
    std::fprintf(stderr, "%lld event(s) replayed for %s%s\n",
                 static_cast<long long>(progress.count()), request.account_id().c_str(),
                 cut ? " (cut off)" : "");
  }
  return kExitOk;
}

// ---- verify ----

void PrintBreaks(const v1::VerifyAuditTrailResponse& response) {
  for (const auto& b : response.breaks()) {
    std::printf("BREAK account=%s sequence=%lld partition=%d offset=%lld reason=%s\n",
                b.account_id().c_str(), static_cast<long long>(b.sequence()), b.partition(),
                static_cast<long long>(b.offset()), b.reason().c_str());
  }
}

int Verify(int argc, char** argv) {
  CommonFlags common;
  bool all = false;
  FlagParser flags(
      "collectionsctl verify ACCOUNT|--all",
      "Recomputes the audit hash chain from the event log: each event's hash must be\n"
      "SHA-256(prev_hash || its content), its prev_hash the hash of the event before it, and\n"
      "its sequence the next one. Prints \"intact\" or every break with account, sequence,\n"
      "partition (numbered from 0, as Kafka does), offset and reason. --all checks every\n"
      "account partition by partition, with progress on stderr.\n" + std::string(kExitCodes));
  AddCommon(flags, common);
  flags.AcceptPositional("ARGS", "the command's arguments (see the usage above)");
  flags.Add("all", &all, "verify every account on the topic");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  if (all == !flags.positional().empty() || flags.positional().size() > 1) {
    return Usage("verify takes one ACCOUNT or --all");
  }
  auto stub = Connect(common);

  if (!all) {
    v1::VerifyAuditTrailRequest request;
    request.set_account_id(flags.positional()[0]);
    v1::VerifyAuditTrailResponse response;
    grpc::Status status = stub->VerifyAuditTrail(Context(common).get(), request, &response);
    if (!status.ok()) return ServiceError(common, status);
    if (response.intact()) {
      std::printf("intact: account %s, %lld events, hash chain verified\n",
                  request.account_id().c_str(), static_cast<long long>(response.events_checked()));
      return kExitOk;
    }
    std::printf("BROKEN: account %s, %d break(s) in %lld events\n", request.account_id().c_str(),
                response.breaks_size(), static_cast<long long>(response.events_checked()));
    PrintBreaks(response);
    return kExitBroken;
  }

  // Partition by partition: each call is bounded, and the officer sees it moving.
  v1::VerifyAuditTrailResponse total;
  total.set_intact(true);
  int32_t partitions = 1;
  for (int32_t p = 0; p < partitions; ++p) {
    v1::VerifyAuditTrailRequest request;
    request.set_partition(p);
    v1::VerifyAuditTrailResponse response;
    grpc::Status status = stub->VerifyAuditTrail(Context(common).get(), request, &response);
    if (!status.ok()) return ServiceError(common, status);
    partitions = response.partitions();
    total.set_accounts_checked(total.accounts_checked() + response.accounts_checked());
    total.set_events_checked(total.events_checked() + response.events_checked());
    for (const auto& b : response.breaks()) *total.add_breaks() = b;
    // Numbered as Kafka numbers them (0 ...), with how far along it is.
    std::fprintf(stderr, "partition %d (%d of %d): %lld accounts, %lld events, %d break(s)\n", p,
                 p + 1, partitions, static_cast<long long>(response.accounts_checked()),
                 static_cast<long long>(response.events_checked()), response.breaks_size());
  }
  std::fprintf(stderr, "checked %lld accounts, %lld events\n",
               static_cast<long long>(total.accounts_checked()),
               static_cast<long long>(total.events_checked()));
  if (total.accounts_checked() == 0) {
    std::fprintf(stderr, "%s: the topic holds no accounts yet: nothing to verify\n", kProgram);
  }
  if (total.breaks_size() == 0) {
    std::printf("intact: %lld accounts, %lld events, every hash chain and writer signature verified\n",
                static_cast<long long>(total.accounts_checked()),
                static_cast<long long>(total.events_checked()));
    return kExitOk;
  }
  std::printf("BROKEN: %d break(s) in %lld accounts, %lld events\n", total.breaks_size(),
              static_cast<long long>(total.accounts_checked()),
              static_cast<long long>(total.events_checked()));
  PrintBreaks(total);
  return kExitBroken;
}

// ---- export ----

// Writes entries in the chosen format and reports progress on stderr for long exports.
// Each entry gets, among its reasons, the refused request of a ContactBlocked or AccessDenied
// decoded as JSON (the envelope keeps the bytes, so the export still verifies); CSV rows end
// with the event's amount in minor units, the account's currency and the decimal amount in
// that currency's ISO 4217 exponent. Lives for one export; does not own `out`;
// single-threaded like the rest of the tool.
class EntryWriter {
 public:
  // `currency_of` answers an account's currency when the export did not include its
  // CaseOpened (a period export); it may call the service.
  EntryWriter(std::FILE* out, bool csv, std::function<std::string(const std::string&)> currency_of)
      : out_(out), csv_(csv), currency_of_(std::move(currency_of)) {
    if (csv_) {
      std::string header = compliance::CsvHeader();
      header.pop_back();  // "\n"
      std::fputs((header + ",amount_minor,currency,amount\n").c_str(), out_);
    }
  }
  void Write(v1::AuditEntry entry) {
    if (auto request = BlockedRequestJson(entry.envelope())) {
      entry.add_reasons("request: " + *request);
    }
    if (csv_) {
      const v1::EventEnvelope& e = entry.envelope();
      if (e.has_case_opened()) currencies_[entry.account_id()] = e.case_opened().currency();
      std::string row = compliance::CsvRow(entry);
      row.pop_back();  // "\n"
      const auto amount = EventAmountMinor(e);
      std::string currency;
      if (amount) {
        auto it = currencies_.find(entry.account_id());
        if (it == currencies_.end()) {
          it = currencies_.emplace(entry.account_id(), currency_of_(entry.account_id())).first;
        }
        currency = it->second;
      }
      absl::StrAppend(&row, ",", amount ? absl::StrCat(*amount) : "", ",", CsvCell(currency), ",",
                      amount ? DecimalAmount(*amount, currency) : "", "\n");
      std::fputs(row.c_str(), out_);
    } else {
      std::fputs(Json(entry).c_str(), out_);
      std::fputc('\n', out_);
    }
    progress_.Tick();
  }
  int64_t count() const { return progress_.count(); }

 private:
  std::FILE* out_;
  bool csv_;
  std::function<std::string(const std::string&)> currency_of_;
  std::map<std::string, std::string> currencies_;
  Progress progress_{"events exported", 1000};
};

int Export(int argc, char** argv) {
  CommonFlags common;
  std::string format, out_path, from, to;
  FlagParser flags(
      "collectionsctl export ACCOUNT|--from DATE --to DATE",
      "Exports events for an examiner, read from the event log. With ACCOUNT: every event of\n"
      "the account in sequence order. With --from/--to: every event whose occurred_at (business\n"
      "time) is in the range, all accounts. DATE is YYYY-MM-DD (UTC; --to includes that day)\n"
      "or an RFC 3339 instant (--to exclusive). jsonl: one collections.v1.AuditEntry per line.\n"
      "csv columns: account_id, sequence, event_id, event_type, occurred_at, recorded_at,\n"
      "actor_id, actor_role, command_id, correlation_id, reason, rule_id, policy_version,\n"
      "hash_hex, prev_hash_hex, amount_minor, currency, amount (decimal, in the currency's\n"
      "ISO 4217 exponent: 15000 JPY is 15000, 150000 USD is 1500.00). A refused request is\n"
      "among the reasons, decoded as JSON. Cells a spreadsheet would run as a formula\n"
      "(= + - @ tab CR) are quoted with a leading apostrophe. Progress goes to stderr.\n" +
          std::string(kExitCodes));
  AddCommon(flags, common);
  flags.AcceptPositional("ARGS", "the command's arguments (see the usage above)");
  flags.Add("format", &format, "jsonl or csv (required)");
  flags.Add("out", &out_path, "file to write (default: stdout)");
  flags.Add("from", &from, "start of the business-time range");
  flags.Add("to", &to, "end of the business-time range");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  if (format != "jsonl" && format != "csv") return Usage("--format must be jsonl or csv");
  const bool by_account = flags.positional().size() == 1;
  if (by_account == (!from.empty() || !to.empty()) || flags.positional().size() > 1) {
    return Usage("export takes one ACCOUNT, or --from and --to");
  }
  v1::ExportEventsRequest range;
  if (!by_account) {
    if (from.empty() || to.empty()) return Usage("export by period needs both --from and --to");
    if (!ParseInstant(from, false, range.mutable_from())) return Usage("--from is not a date");
    if (!ParseInstant(to, true, range.mutable_to())) return Usage("--to is not a date");
  }
  auto stub = Connect(common);
  std::FILE* out = OpenOut(out_path);
  if (out == nullptr) return kExitOutput;
  // An account's currency is on its CaseOpened, its first event.
  auto currency_of = [&](const std::string& account) -> std::string {
    v1::GetAuditTrailRequest first;
    first.set_account_id(account);
    first.set_page_size(1);
    v1::GetAuditTrailResponse page;
    if (!stub->GetAuditTrail(Context(common).get(), first, &page).ok() ||
        page.entries_size() == 0) {
      return "";
    }
    return EventCurrency(page.entries(0).envelope());
  };
  EntryWriter writer(out, format == "csv", currency_of);
  std::string last_hash;

  if (by_account) {
    v1::GetAuditTrailRequest request;
    request.set_account_id(flags.positional()[0]);
    request.set_page_size(1000);
    do {
      v1::GetAuditTrailResponse page;
      grpc::Status status = stub->GetAuditTrail(Context(common).get(), request, &page);
      if (!status.ok()) {
        CloseOut(out, out_path);
        return ServiceError(common, status);
      }
      for (const auto& entry : page.entries()) {
        writer.Write(entry);
        last_hash = entry.envelope().hash();
      }
      request.set_page_token(page.next_page_token());
    } while (!request.page_token().empty());
  } else {
    auto context = Context(common);
    auto reader = stub->ExportEvents(context.get(), range);
    v1::AuditEntry entry;
    while (reader->Read(&entry)) writer.Write(entry);
    grpc::Status status = reader->Finish();
    if (!status.ok()) {
      CloseOut(out, out_path);
      return ServiceError(common, status);
    }
  }
  if (int rc = CloseOut(out, out_path); rc != kExitOk) return rc;
  if (writer.count() == 0) {
    std::fprintf(stderr,
                 "%s: no events %s (business time is when a thing happened: events recorded\n"
                 "  today are dated today unless their command gave occurred_at)\n",
                 kProgram, by_account ? "for the account" : "in the range");
  }
  // The chain head lets an examiner pin what they received: any later change to the account's
  // history up to here would change it.
  std::fprintf(stderr, "exported %lld event(s)%s%s\n", static_cast<long long>(writer.count()),
               last_hash.empty() ? "" : "; chain head hash ", Hex(last_hash).c_str());
  return kExitOk;
}

// ---- report ----

bool ParseDay(const std::string& text, v1::LocalDate* out) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day)) return false;
  out->set_year(static_cast<int32_t>(day.year()));
  out->set_month(day.month());
  out->set_day(day.day());
  return true;
}

bool ParseGroupBy(const std::string& text, v1::ReportGroupBy* out) {
  static const std::pair<const char*, v1::ReportGroupBy> kNames[] = {
      {"none", v1::REPORT_GROUP_BY_UNSPECIFIED},
      {"creditor", v1::REPORT_GROUP_BY_CREDITOR},
      {"queue", v1::REPORT_GROUP_BY_QUEUE},
      {"creditor-queue", v1::REPORT_GROUP_BY_CREDITOR_AND_QUEUE},
      {"assignee", v1::REPORT_GROUP_BY_ASSIGNEE}};
  for (const auto& [name, value] : kNames) {
    if (text == name) {
      *out = value;
      return true;
    }
  }
  return false;
}

// Collects one report's tables over one or more calls and writes them at the end, so a failed
// call leaves no half-written file. Lives for one command; single-threaded.
class ReportOutput {
 public:
  explicit ReportOutput(bool csv) : csv_(csv) {}
  void Add(const reporting::Table& figures, const reporting::Table& corrections) {
    if (csv_) {
      reporting::AppendCsv(figures, first_, &figures_);
      reporting::AppendCsv(corrections, first_, &corrections_);
    } else {
      figures_ += reporting::Aligned(figures);
      if (figures.size() <= 1) figures_ += "(no data for this period)\n";
      if (corrections.size() > 1) {
        figures_ += "corrections (recorded after known_at, not in the figures above):\n";
        figures_ += reporting::Aligned(corrections);
      }
      figures_ += "\n";
    }
    first_ = false;
    row_count_ += static_cast<int64_t>(figures.size()) - 1;
    correction_count_ += static_cast<int64_t>(corrections.size()) - 1;
  }
  int Write(const std::string& out_path, const std::string& corrections_path) {
    std::FILE* out = OpenOut(out_path);
    if (out == nullptr) return kExitOutput;
    std::fputs(figures_.c_str(), out);
    if (int rc = CloseOut(out, out_path); rc != kExitOk) return rc;
    if (!corrections_path.empty()) {
      std::FILE* c = OpenOut(corrections_path);
      if (c == nullptr) return kExitOutput;
      std::fputs(corrections_.c_str(), c);
      if (int rc = CloseOut(c, corrections_path); rc != kExitOk) return rc;
    }
    return kExitOk;
  }
  int64_t correction_count() const { return correction_count_; }
  int64_t row_count() const { return row_count_; }

 private:
  const bool csv_;
  bool first_ = true;
  std::string figures_, corrections_;
  int64_t correction_count_ = 0;
  int64_t row_count_ = 0;
};

// What each report says in `report KIND --help`, and which flags it takes.
struct ReportKind {
  const char* name;
  const char* usage;
  const char* description;
};
constexpr ReportKind kReportKinds[] = {
    {"aging", "collectionsctl report aging --as-of DATE [--group-by ...]",
     "Accounts and balances per days-past-due bucket at the end of DATE (YYYY-MM-DD, a\n"
     "business date in each account's time zone), per group, with per-currency totals.\n"
     "Columns: as_of, known_at, creditor, queue, assignee, currency, bucket, accounts,\n"
     "balance_minor, currency_exponent."},
    {"activity",
     "collectionsctl report activity --period day|week|month --start DATE [--count N] "
     "[--group-by ...]",
     "Payments, reversals, refunds, adjustments, write-offs, promises, contacts, disputes and\n"
     "compliance blocks of a day, a week (7 days from --start) or a calendar month; --count N\n"
     "runs N consecutive periods (progress on stderr); --group-by assignee is collector\n"
     "performance. Columns: period_start, period_end, known_at, creditor, queue, assignee,\n"
     "measure, type, currency, count, amount_minor, rate_basis_points, currency_exponent."},
    {"cei", "collectionsctl report cei --start DATE --end DATE",
     "Collection effectiveness index per currency over --start..--end (inclusive). Columns:\n"
     "start, end, known_at, currency, opening_receivables_minor, new_placements_minor,\n"
     "closing_total_receivables_minor, closing_current_receivables_minor, numerator_minor,\n"
     "denominator_minor, cei_basis_points, cei_percent, currency_exponent."},
    {"roll-rates", "collectionsctl report roll-rates --month YYYY-MM [--count N]",
     "Per pair of buckets: accounts and balance in bucket X at the end of the month before and\n"
     "in bucket Y (EXITED: left receivables) at the end of --month. Columns: from_date,\n"
     "to_date, known_at, currency, from_bucket, to_bucket, accounts, from_balance_minor,\n"
     "to_balance_minor, rate_basis_points, currency_exponent."},
};

int Report(int argc, char** argv) {
  // The report is the first argument naming one, so `report aging --help` explains aging.
  const ReportKind* chosen = nullptr;
  for (int i = 1; i < argc && chosen == nullptr; ++i) {
    for (const auto& k : kReportKinds) {
      if (std::string(argv[i]) == k.name) chosen = &k;
    }
  }
  CommonFlags common;
  std::string format = "table", out_path, corrections_path, group_by_text = "none", as_of,
              as_known_at, period = "day", start, end, month;
  int count = 1;
  const std::string kind_name = chosen ? chosen->name : "";
  const std::string common_text =
      "\nDates are business dates. A past report is reproducible: it counts only what was\n"
      "recorded by its known-at date (default: its last date plus the server's close) and lists\n"
      "later, back-dated events as corrections (--corrections-out FILE writes them as CSV; the\n"
      "table format prints them under the figures). Money is in minor units; currency_exponent\n"
      "is the ISO 4217 exponent (amount = minor / 10^exponent). An empty report says so on\n"
      "stderr.\n" +
      std::string(kExitCodes);
  FlagParser flags(
      chosen ? chosen->usage : "collectionsctl report aging|activity|cei|roll-rates",
      chosen ? std::string(chosen->description) + "\n" + common_text
             : "Management reports from collections.v1.ReportingService, as an aligned table or\n"
               "CSV. Run `collectionsctl report KIND --help` for one report's flags and columns.\n"
               "  aging       --as-of DATE [--group-by ...]\n"
               "  activity    --period day|week|month --start DATE [--count N] [--group-by ...]\n"
               "  cei         --start DATE --end DATE\n"
               "  roll-rates  --month YYYY-MM [--count N]\n" +
                   common_text);
  AddCommon(flags, common);
  flags.AcceptPositional("REPORT", "aging, activity, cei or roll-rates");
  flags.Add("format", &format, "table or csv");
  flags.Add("out", &out_path, "file to write (default: stdout)");
  flags.Add("corrections-out", &corrections_path, "file for the corrections, as CSV");
  flags.Add("as-known-at", &as_known_at, "count only events recorded by the end of this date");
  if (kind_name.empty() || kind_name == "aging" || kind_name == "activity") {
    flags.Add("group-by", &group_by_text,
              "none, creditor, queue, creditor-queue or assignee (aging, activity)");
  }
  if (kind_name.empty() || kind_name == "aging")
    flags.Add("as-of", &as_of, "aging: the business date");
  if (kind_name.empty() || kind_name == "activity")
    flags.Add("period", &period, "activity: day, week or month");
  if (kind_name.empty() || kind_name == "activity" || kind_name == "cei")
    flags.Add("start", &start, "activity, cei: first day (a month starts on its 1st)");
  if (kind_name.empty() || kind_name == "cei") flags.Add("end", &end, "cei: last day, inclusive");
  if (kind_name.empty() || kind_name == "roll-rates")
    flags.Add("month", &month, "roll-rates: YYYY-MM");
  if (kind_name.empty() || kind_name == "activity" || kind_name == "roll-rates")
    flags.Add("count", &count, "activity, roll-rates: number of consecutive periods");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  if (flags.positional().size() != 1)
    return Usage("report takes one of aging, activity, cei, roll-rates");
  const std::string kind = flags.positional()[0];
  if (format != "table" && format != "csv") return Usage("--format must be table or csv");
  v1::ReportGroupBy group_by;
  if (!ParseGroupBy(group_by_text, &group_by))
    return Usage("--group-by must be none, creditor, queue, creditor-queue or assignee");
  v1::LocalDate known;
  if (!as_known_at.empty() && !ParseDay(as_known_at, &known))
    return Usage("--as-known-at is not a YYYY-MM-DD date");
  if (count < 1) return Usage("--count must be at least 1");

  auto stub = v1::ReportingService::NewStub(OpenChannel(common, "reporting-reader"));
  ReportOutput output(format == "csv");
  auto progress = [&](int i, const std::string& what, int64_t rows, int corrections) {
    std::fprintf(stderr, "%s %s: %s (%d/%d): %lld row(s), %d correction(s)\n", kProgram,
                 kind.c_str(), what.c_str(), i + 1, count, static_cast<long long>(rows),
                 corrections);
  };

  if (kind == "aging") {
    v1::GetAgingReportRequest request;
    if (!ParseDay(as_of, request.mutable_as_of())) return Usage("aging needs --as-of YYYY-MM-DD");
    request.set_group_by(group_by);
    if (!as_known_at.empty()) *request.mutable_as_known_at() = known;
    v1::GetAgingReportResponse response;
    grpc::Status status = stub->GetAgingReport(Context(common).get(), request, &response);
    if (!status.ok()) return ServiceError(common, status);
    output.Add(reporting::AgingTable(response),
               reporting::CorrectionsTable(response.corrections()));
    progress(0, "as of " + as_of, response.rows_size(), response.corrections_size());
  } else if (kind == "activity") {
    v1::ReportPeriod p = period == "day"     ? v1::REPORT_PERIOD_DAY
                         : period == "week"  ? v1::REPORT_PERIOD_WEEK
                         : period == "month" ? v1::REPORT_PERIOD_MONTH
                                             : v1::REPORT_PERIOD_UNSPECIFIED;
    if (p == v1::REPORT_PERIOD_UNSPECIFIED) return Usage("--period must be day, week or month");
    v1::LocalDate first;
    if (!ParseDay(start, &first)) return Usage("activity needs --start YYYY-MM-DD");
    absl::CivilDay next(first.year(), first.month(), first.day());
    for (int i = 0; i < count; ++i) {
      v1::GetActivityReportRequest request;
      request.set_period(p);
      request.set_group_by(group_by);
      ParseDay(absl::FormatCivilTime(next), request.mutable_start());
      if (!as_known_at.empty()) *request.mutable_as_known_at() = known;
      v1::GetActivityReportResponse response;
      grpc::Status status = stub->GetActivityReport(Context(common).get(), request, &response);
      if (!status.ok()) return ServiceError(common, status);
      const reporting::Table table = reporting::ActivityTable(response);
      output.Add(table, reporting::CorrectionsTable(response.corrections()));
      progress(i,
               reporting::DateText(response.start()) + ".." + reporting::DateText(response.end()),
               static_cast<int64_t>(table.size()) - 1, response.corrections_size());
      next =
          absl::CivilDay(response.end().year(), response.end().month(), response.end().day()) + 1;
    }
  } else if (kind == "cei") {
    v1::GetCollectionEffectivenessRequest request;
    if (!ParseDay(start, request.mutable_start()) || !ParseDay(end, request.mutable_end())) {
      return Usage("cei needs --start and --end YYYY-MM-DD");
    }
    if (!as_known_at.empty()) *request.mutable_as_known_at() = known;
    v1::GetCollectionEffectivenessResponse response;
    grpc::Status status =
        stub->GetCollectionEffectiveness(Context(common).get(), request, &response);
    if (!status.ok()) return ServiceError(common, status);
    output.Add(reporting::EffectivenessTable(response),
               reporting::CorrectionsTable(response.corrections()));
    progress(0, start + ".." + end, response.figures_size(), response.corrections_size());
  } else if (kind == "roll-rates") {
    absl::CivilMonth m;
    if (!absl::ParseCivilTime(month, &m)) return Usage("roll-rates needs --month YYYY-MM");
    for (int i = 0; i < count; ++i, ++m) {
      v1::GetRollRatesRequest request;
      request.mutable_month()->set_year(static_cast<int32_t>(m.year()));
      request.mutable_month()->set_month(m.month());
      request.mutable_month()->set_day(1);
      if (!as_known_at.empty()) *request.mutable_as_known_at() = known;
      v1::GetRollRatesResponse response;
      grpc::Status status = stub->GetRollRates(Context(common).get(), request, &response);
      if (!status.ok()) return ServiceError(common, status);
      output.Add(reporting::RollRateTable(response),
                 reporting::CorrectionsTable(response.corrections()));
      progress(i, absl::FormatCivilTime(m), response.rates_size(), response.corrections_size());
    }
  } else {
    return Usage("unknown report " + kind + " (aging, activity, cei, roll-rates)");
  }
  if (int rc = output.Write(out_path, corrections_path); rc != kExitOk) return rc;
  if (output.correction_count() > 0 && corrections_path.empty() && format == "csv") {
    std::fprintf(stderr, "%s: %lld correction(s) not shown; --corrections-out FILE writes them\n",
                 kProgram, static_cast<long long>(output.correction_count()));
  }
  if (output.row_count() == 0) {
    std::fprintf(stderr,
                 "%s: no data: the reporting projection holds nothing for this %s. Reports count\n"
                 "  events by business date in each account's time zone, and only those recorded\n"
                 "  by the known-at date: for cases opened today ask about today, e.g.\n"
                 "  --as-of $(date +%%F) or --start $(date +%%F).\n",
                 kProgram, kind == "aging" ? "date" : "period");
  }
  return kExitOk;
}

// ---- timeline ----

int Timeline(int argc, char** argv) {
  CommonFlags common;
  std::string html_path;
  FlagParser flags(
      "collectionsctl timeline ACCOUNT --html FILE",
      "Draws one account's history on a time axis (business time) as a self-contained HTML page\n"
      "(inline CSS and SVG, no script, nothing fetched; prints to PDF from a browser): contacts\n"
      "by channel and outcome, blocks, violations and overrides with their rules, promises and\n"
      "plans kept or broken, payments, reversals, refunds and adjustments, disputes and holds,\n"
      "the balance after every event, the event table (amount, rule, reason, actor) and the\n"
      "hash chain verification. Exit 1 when the chain is broken (the page says where).\n" +
          std::string(kExitCodes));
  AddCommon(flags, common);
  flags.AcceptPositional("ACCOUNT", "the account to draw");
  flags.Add("html", &html_path, "the HTML file to write (required; - for stdout)");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  if (flags.positional().size() != 1) return Usage("timeline takes exactly one ACCOUNT");
  if (html_path.empty()) return Usage("timeline needs --html FILE");

  TimelineInput input;
  input.account_id = flags.positional()[0];
  input.tool_version = CollectionsVersion();
  input.generated_at = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  auto stub = Connect(common);
  v1::ReplayAccountRequest request;
  request.set_account_id(input.account_id);
  request.set_state_mode(v1::REPLAY_STATE_MODE_EVERY_STEP);
  auto context = Context(common);
  auto reader = stub->ReplayAccount(context.get(), request);
  Progress progress("events read", 1000);
  v1::ReplayStep step;
  while (reader->Read(&step)) {
    progress.Tick();
    input.steps.push_back(step);
  }
  if (grpc::Status status = reader->Finish(); !status.ok()) return ServiceError(common, status);
  std::fprintf(stderr, "%s: %lld event(s) read; verifying the chain...\n", kProgram,
               static_cast<long long>(progress.count()));
  v1::VerifyAuditTrailRequest verify;
  verify.set_account_id(input.account_id);
  grpc::Status status = stub->VerifyAuditTrail(Context(common).get(), verify, &input.verification);
  if (!status.ok()) return ServiceError(common, status);

  std::FILE* out = OpenOut(html_path);
  if (out == nullptr) return kExitOutput;
  std::fputs(RenderTimelineHtml(input).c_str(), out);
  if (int rc = CloseOut(out, html_path); rc != kExitOk) return rc;
  if (input.steps.empty()) {
    std::fprintf(stderr, "%s: account %s has no events; the page says so\n", kProgram,
                 input.account_id.c_str());
  }
  std::fprintf(stderr, "%s: wrote %s (%lld events, chain %s)\n", kProgram,
               html_path == "-" ? "stdout" : html_path.c_str(),
               static_cast<long long>(input.steps.size()),
               input.verification.intact() ? "intact" : "BROKEN");
  return input.verification.intact() ? kExitOk : kExitBroken;
}

struct CommandEntry {
  const char* name;
  int (*run)(int, char**);
};
constexpr CommandEntry kCommands[] = {
    {"replay", &Replay}, {"verify", &Verify},     {"export", &Export},
    {"report", &Report}, {"timeline", &Timeline}};

}  // namespace

int Main(int argc, char** argv) {
  // The command is the first argument naming one; flags may come before or after it.
  int command_at = -1;
  for (int i = 1; i < argc && command_at < 0; ++i) {
    for (const auto& c : kCommands) {
      if (std::string(argv[i]) == c.name) command_at = i;
    }
    for (std::string_view c : CustomerCommandNames()) {
      if (argv[i] == c) command_at = i;
    }
    for (std::string_view c : CustomerQueryNames()) {
      if (argv[i] == c) command_at = i;
    }
  }
  if (command_at < 0) {
    CommonFlags common;
    FlagParser flags("collectionsctl [flags] COMMAND", kOverview);
    AddCommon(flags, common);
    flags.AcceptPositional("COMMAND",
                           "replay, verify, export, timeline, report, a customer read or a "
                           "customer command");
    if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
    return Usage(flags.positional().empty() ? "no command given"
                                            : "unknown command " + flags.positional()[0]);
  }
  // argv for the command: the program name, the flags given before the command, then the
  // arguments after it.
  std::vector<char*> args = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (i != command_at) args.push_back(argv[i]);
  }
  for (const auto& c : kCommands) {
    if (std::string(argv[command_at]) == c.name) {
      return c.run(static_cast<int>(args.size()), args.data());
    }
  }
  for (std::string_view c : CustomerQueryNames()) {
    if (argv[command_at] == c) {
      return RunCustomerQuery(c, static_cast<int>(args.size()), args.data());
    }
  }
  return RunCustomerCommand(argv[command_at], static_cast<int>(args.size()), args.data());
}

}  // namespace collections::ctl

int main(int argc, char** argv) { return collections::ctl::Main(argc, argv); }
