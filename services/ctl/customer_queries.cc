#include "services/ctl/customer_queries.h"

#include "services/ctl/ctl_client.h"
#include "services/ctl/ctl_format.h"
#include "services/ctl/customer_text.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "collections/v1/customer_query_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"

#include <cstdio>
#include <memory>
#include <string>

namespace collections::ctl {
namespace {

using Stub = v1::CustomerQueryService::Stub;

// The reads call as the tool's audit reads do: a compliance officer may call every RPC of
// CustomerQueryService (deploy/policy/access-2025.textproto), the reporting reader only the
// statement and the shutdown report, so one default serves all four.
constexpr char kReader[] = "compliance-officer-1";

std::string Help(const std::string& what) {
  return what +
         "\n\nAnswered from the customer projection (committed customer events only: a payment "
         "is never\nseen half applied). Money is printed in the customer's currency with its "
         "decimals. Calls as\ncompliance-officer-1 unless --as says otherwise (collectors, "
         "supervisors and admin may\ncall it too; the reporting reader only statement and "
         "shutdown-report).\n" +
         kExitCodes;
}

std::unique_ptr<Stub> Connect(const CommonFlags& common) {
  return v1::CustomerQueryService::NewStub(OpenChannel(common, kReader));
}

// "2:118" (as a customer command printed it: partition 2 offset 118) as a LogPosition.
bool ParsePosition(const std::string& text, v1::LogPosition* out) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos) return false;
  int32_t partition = 0;
  int64_t offset = 0;
  if (!absl::SimpleAtoi(text.substr(0, colon), &partition) ||
      !absl::SimpleAtoi(text.substr(colon + 1), &offset)) {
    return false;
  }
  out->set_partition(partition);
  out->set_offset(offset);
  return true;
}
constexpr char kPositionHelp[] =
    "read-your-writes: wait until the projection has applied this log position, PARTITION:OFFSET "
    "as a customer command printed it (\"partition 2 offset 118\" is 2:118)";

bool ParseDate(const std::string& text, v1::LocalDate* out) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day)) return false;
  out->set_year(static_cast<int32_t>(day.year()));
  out->set_month(day.month());
  out->set_day(day.day());
  return true;
}

bool ParseInstant(const std::string& text, google::protobuf::Timestamp* out) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return false;
  const int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
  return true;
}

// --format: text asks for the message (printed by customer_text.h), csv and html for the
// service's document.
bool ParseFormat(const std::string& text, v1::ReportFormat* out) {
  if (text == "text") {
    *out = v1::REPORT_FORMAT_PROTO;
  } else if (text == "csv") {
    *out = v1::REPORT_FORMAT_CSV;
  } else if (text == "html") {
    *out = v1::REPORT_FORMAT_HTML;
  } else {
    return false;
  }
  return true;
}

// Writes `bytes` exactly to `path` (stdout for "" or "-"). Returns kExitOk or kExitOutput.
int WriteOut(const std::string& bytes, const std::string& path) {
  const bool to_stdout = path.empty() || path == "-";
  std::FILE* out = to_stdout ? stdout : std::fopen(path.c_str(), "wb");
  if (out == nullptr) {
    std::fprintf(stderr, "%s: cannot write %s\n", kProgram, path.c_str());
    return kExitOutput;
  }
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size();
  const bool closed = to_stdout ? std::fflush(stdout) == 0 : std::fclose(out) == 0;
  if (!written || !closed) {
    std::fprintf(stderr, "%s: writing %s failed\n", kProgram, to_stdout ? "stdout" : path.c_str());
    return kExitOutput;
  }
  return kExitOk;
}

// The message as JSON with the .proto's field names, as the other --json outputs.
int PrintJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) {
    std::fprintf(stderr, "%s: cannot print the answer as JSON\n", kProgram);
    return kExitUnreachable;
  }
  return WriteOut(out + "\n", "");
}

int Customer(int argc, char** argv) {
  CommonFlags common;
  std::string customer, min_position, page_token;
  int page_size = 0;
  bool include_paid = false, json = false;
  FlagParser flags(
      "collectionsctl customer --customer ID",
      Help("The customer as a collections specialist works it: profile and contacts, linked\n"
           "accounts, totals (open, unapplied cash, exposure, past due, disputed, in discrepancy,\n"
           "credit limit and what is left of it), days past due, aging by bucket, open\n"
           "short-payment discrepancies, credit holds in effect, credit memos waiting for\n"
           "approval, and one page of invoices (the open ones by due date; every invoice by id\n"
           "with --include-paid-invoices). When there are more it prints `next page: --page-token\n"
           "T`; run it again with that flag. --json prints the GetCustomerResponse as JSON."));
  AddCommon(flags, common);
  flags.Add("customer", &customer, "the customer's id (required)");
  flags.Add("min-position", &min_position, kPositionHelp);
  flags.Add("page-size", &page_size, "invoices per page, 1..500 (default 100)");
  flags.Add("page-token", &page_token, "the next page, as the previous page printed it");
  flags.Add("include-paid-invoices", &include_paid,
            "every invoice by invoice id, not only those with something open");
  flags.Add("json", &json, "print the answer as JSON (collections.v1.GetCustomerResponse)");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  if (customer.empty()) return Usage("--customer is required");
  v1::GetCustomerRequest request;
  request.set_customer_id(customer);
  if (!min_position.empty() && !ParsePosition(min_position, request.mutable_min_position())) {
    return Usage("--min-position must be PARTITION:OFFSET (e.g. 2:118)");
  }
  // The service checks the range and names page_size when it is out of it.
  request.set_page_size(page_size);
  request.set_page_token(page_token);
  request.set_include_paid_invoices(include_paid);

  v1::GetCustomerResponse response;
  grpc::Status status = Connect(common)->GetCustomer(Context(common).get(), request, &response);
  if (!status.ok()) return ServiceError(common, status);
  if (json) return PrintJson(response);
  return WriteOut(CustomerText(response, include_paid), "");
}

int Statement(int argc, char** argv) {
  CommonFlags common;
  std::string customer, from, to, as_known_at, min_position, format = "text", out_path;
  FlagParser flags(
      "collectionsctl statement --customer ID --from YYYY-MM-DD --to YYYY-MM-DD",
      Help("The customer's reconciliation statement of a period of business dates (inclusive,\n"
           "at most 366 days) as known at an instant (default: now): the opening balance, every\n"
           "ledger line dated in the period with the running balance, the totals, the closing\n"
           "balance and the open items at the end of the period. Asked again with the same\n"
           "--as-known-at it is the same, byte for byte; use an instant in the past for a\n"
           "statement you send. --format text prints it for reading; csv and html write the\n"
           "service's document exactly as served (README \"Reading customers\" lists the CSV\n"
           "columns; html is a printable page) to --out or stdout."));
  AddCommon(flags, common);
  flags.Add("customer", &customer, "the customer's id (required)");
  flags.Add("from", &from, "the period's first business date, YYYY-MM-DD (required)");
  flags.Add("to", &to, "the period's last business date, YYYY-MM-DD (required)");
  flags.Add("as-known-at", &as_known_at,
            "count only what was recorded by this instant, RFC 3339 (default: now)");
  flags.Add("format", &format, "text, csv or html");
  flags.Add("out", &out_path, "file to write (default: stdout)");
  flags.Add("min-position", &min_position, kPositionHelp);
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  if (customer.empty()) return Usage("--customer is required");
  v1::GetCustomerReconciliationRequest request;
  request.set_customer_id(customer);
  if (!ParseDate(from, request.mutable_from())) return Usage("--from must be YYYY-MM-DD");
  if (!ParseDate(to, request.mutable_to())) return Usage("--to must be YYYY-MM-DD");
  if (!as_known_at.empty() && !ParseInstant(as_known_at, request.mutable_as_known_at())) {
    return Usage("--as-known-at is not an RFC 3339 time (e.g. 2025-11-01T00:00:00Z)");
  }
  v1::ReportFormat report_format;
  if (!ParseFormat(format, &report_format)) return Usage("--format must be text, csv or html");
  request.set_format(report_format);
  if (!min_position.empty() && !ParsePosition(min_position, request.mutable_min_position())) {
    return Usage("--min-position must be PARTITION:OFFSET (e.g. 2:118)");
  }

  v1::GetCustomerReconciliationResponse response;
  grpc::Status status =
      Connect(common)->GetCustomerReconciliation(Context(common).get(), request, &response);
  if (!status.ok()) return ServiceError(common, status);
  if (report_format == v1::REPORT_FORMAT_PROTO) {
    const v1::CustomerReconciliation& s = response.statement();
    if (int rc = WriteOut(StatementText(s), out_path); rc != kExitOk) return rc;
    std::fprintf(stderr, "%s: statement of %s: %d line(s), %d open item(s)\n", kProgram,
                 customer.c_str(), s.lines_size(), s.open_items_size());
    return kExitOk;
  }
  if (int rc = WriteOut(response.document(), out_path); rc != kExitOk) return rc;
  std::fprintf(stderr, "%s: wrote %s (%zu bytes, %s; suggested name %s)\n", kProgram,
               out_path.empty() || out_path == "-" ? "stdout" : out_path.c_str(),
               response.document().size(), response.content_type().c_str(),
               response.file_name().c_str());
  return kExitOk;
}

int ShutdownReport(int argc, char** argv) {
  CommonFlags common;
  std::string page_token, format = "text", out_path;
  int page_size = 0;
  FlagParser flags(
      "collectionsctl shutdown-report",
      Help("Every customer on credit hold or recommended for it, by customer then hold id: the\n"
           "hold's status (RECOMMENDED or APPROVED), reason, who recommended and approved it and\n"
           "when, and today's exposure, past-due amount, days past due and credit limit. One\n"
           "page at a time (default 100 entries); when there are more it says `next page:\n"
           "--page-token T` (on stderr for csv and html). --format csv or html writes the\n"
           "service's document of the page exactly as served."));
  AddCommon(flags, common);
  flags.Add("page-size", &page_size, "entries per page, 1..1000 (default 100)");
  flags.Add("page-token", &page_token, "the next page, as the previous page printed it");
  flags.Add("format", &format, "text, csv or html");
  flags.Add("out", &out_path, "file to write (default: stdout)");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  v1::GetShutdownReportRequest request;
  v1::ReportFormat report_format;
  if (!ParseFormat(format, &report_format)) return Usage("--format must be text, csv or html");
  request.set_format(report_format);
  request.set_page_size(page_size);
  request.set_page_token(page_token);

  v1::GetShutdownReportResponse response;
  grpc::Status status =
      Connect(common)->GetShutdownReport(Context(common).get(), request, &response);
  if (!status.ok()) return ServiceError(common, status);
  if (report_format == v1::REPORT_FORMAT_PROTO) {
    return WriteOut(ShutdownReportText(response), out_path);
  }
  if (int rc = WriteOut(response.document(), out_path); rc != kExitOk) return rc;
  std::fprintf(stderr, "%s: %d entr%s\n", kProgram, response.entries_size(),
               response.entries_size() == 1 ? "y" : "ies");
  if (!response.next_page_token().empty()) {
    std::fprintf(stderr, "%s: next page: --page-token %s\n", kProgram,
                 response.next_page_token().c_str());
  }
  return kExitOk;
}

int CustomerQueue(int argc, char** argv) {
  CommonFlags common;
  int limit = 0;
  FlagParser flags(
      "collectionsctl customer-queue",
      Help("The customers with something past due, highest exposure x days past due first:\n"
           "rank, customer, name, exposure, days past due, priority (exposure in minor units x\n"
           "days past due) and credit hold status. Disputed invoices and amounts under a\n"
           "short-payment discrepancy do not count as past due."));
  AddCommon(flags, common);
  flags.Add("limit", &limit, "how many customers, 1..1000 (default 50)");
  if (int rc = flags.Parse(argc, argv); rc >= 0) return rc;
  v1::GetCustomerWorkQueueRequest request;
  request.set_limit(limit);
  v1::GetCustomerWorkQueueResponse response;
  grpc::Status status =
      Connect(common)->GetCustomerWorkQueue(Context(common).get(), request, &response);
  if (!status.ok()) return ServiceError(common, status);
  return WriteOut(CustomerQueueText(response), "");
}

struct Subcommand {
  std::string_view name;
  int (*run)(int, char**);
};
constexpr Subcommand kSubcommands[] = {
    {"customer", &Customer},
    {"statement", &Statement},
    {"shutdown-report", &ShutdownReport},
    {"customer-queue", &CustomerQueue},
};

}  // namespace

const std::vector<std::string_view>& CustomerQueryNames() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const auto& s : kSubcommands) out.push_back(s.name);
    return out;
  }();
  return names;
}

const char* CustomerQueriesOverview() {
  return "Customer reads (CustomerQueryService; default --as compliance-officer-1):\n"
         "  customer --customer ID [--include-paid-invoices] [--page-token T] [--json]\n"
         "                   profile, totals, days past due, aging, discrepancies, holds,\n"
         "                   invoices\n"
         "  statement --customer ID --from DATE --to DATE [--as-known-at RFC3339]\n"
         "                   the reconciliation statement [--format text|csv|html] [--out FILE]\n"
         "  shutdown-report  customers on credit hold or recommended for it\n"
         "                   [--format text|csv|html] [--out FILE]\n"
         "  customer-queue   customers with something past due, most urgent first [--limit N]\n"
         "\n";
}

int RunCustomerQuery(std::string_view name, int argc, char** argv) {
  for (const auto& s : kSubcommands) {
    if (s.name == name) return s.run(argc, argv);
  }
  return kExitUsage;
}

}  // namespace collections::ctl
