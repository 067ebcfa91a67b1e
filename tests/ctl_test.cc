// collectionsctl as a compliance officer runs it: the built binary against a real service over
// mutual TLS (real broker, RocksDB, gRPC), on an account with a known history in yen. Checks
// what a user sees: exit codes and status names, money in the currency's exponent, CSV a
// spreadsheet cannot run, the replay table's columns, per-report help, the customer commands
// and reads, and the timeline page rendered by headless Chromium.
#define BOOST_TEST_MODULE ctl
#include "tests/support/fixture.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "collections/v1/customer_query_service.grpc.pb.h"

#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace collections::testing {
namespace {

constexpr char kChicago[] = "America/Chicago";
constexpr char kFormula[] = "=HYPERLINK(\"http://evil.example\",\"pay\")";

absl::Time At(int y, int m, int d, int hh, int mm = 0) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), Zone(kChicago));
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out = absl::StrSplit(text, '\n', absl::SkipEmpty());
  return out;
}

struct Ran {
  int exit_code = -1;
  std::string out, err;
};

// The account ACC-JPY, on 2025-10-08 in Chicago: opened for 15,000 JPY by a creditor whose
// name is a spreadsheet formula; a conversation; a second call refused by F2 (recorded as
// ContactBlocked); a payment of 5,000 JPY whose correlation id is a formula; its reversal.
struct History : ClockedService {
  History() : ClockedService(At(2025, 10, 8, 10), "ctl") {
    v1::OpenCaseRequest open = OpenCase("ACC-JPY", "open");
    open.set_currency("JPY");
    open.mutable_balances()->set_principal_minor(15000);
    open.mutable_balances()->set_fees_minor(0);
    open.set_creditor(kFormula);
    open.set_time_zone(kChicago);
    open.set_third_party_collector(true);
    open.set_jurisdiction("IL");
    *open.mutable_due_date() = Date(2025, 1, 1);
    Must(&Stub::OpenCase, open, "ACC-JPY");
    BOOST_REQUIRE(Call(v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION).ok());
    clock.Set(At(2025, 10, 8, 11));
    grpc::Status refused = Call(v1::CONTACT_OUTCOME_NO_ANSWER);
    BOOST_REQUIRE_MESSAGE(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION,
                          refused.error_message());
    auto pay = PostPayment("ACC-JPY", "pay-1", "P1", 5000);
    pay.mutable_amount()->set_currency("JPY");
    pay.set_correlation_id(kFormula);
    Must(&Stub::PostPayment, pay, "ACC-JPY");
    Must(&Stub::ReversePayment, ReversePayment("ACC-JPY", "rev-1", "P1"), "ACC-JPY");
    target = " --target " + service.app().address();
  }
  grpc::Status Call(v1::ContactOutcome outcome) {
    v1::RecordContactAttemptRequest r;
    r.set_contact_id("C" + std::to_string(++calls));
    r.set_channel(v1::CONTACT_CHANNEL_CALL);
    r.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
    r.set_address("+13125550100");
    r.set_phone_type(v1::PHONE_TYPE_CELL);
    r.set_outcome(outcome);
    r.mutable_content()->set_has_debt_collector_disclosure(true);
    return Send(&Stub::RecordContactAttempt, r, "ACC-JPY");
  }
  // Runs the built collectionsctl as `principal` (a client certificate of the test CA).
  Ran Run(const std::string& args, const std::string& principal = "compliance-officer-1") {
    const CertFiles cert = ClientCert(principal);
    const std::string err_file = (dir.path / "stderr.txt").string();
    const std::string command =
        absl::StrCat(COLLECTIONS_CTL_BINARY, " ", args, " --tls-ca ", Pki().ca(), " --tls-cert ",
                     cert.cert, " --tls-key ", cert.key, " 2>", err_file);
    Ran ran;
    std::FILE* pipe = ::popen(command.c_str(), "r");
    BOOST_REQUIRE(pipe != nullptr);
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) ran.out.append(buffer, n);
    const int status = ::pclose(pipe);
    ran.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    ran.err = Slurp(err_file);
    BOOST_TEST_MESSAGE("collectionsctl " << args << " -> " << ran.exit_code << "\n" << ran.err);
    return ran;
  }
  int calls = 0;
  std::string target;
};

History& H() {
  static History* history = new History();  // shared by the cases; the process ends after
  return *history;
}

BOOST_AUTO_TEST_CASE(exit_codes_and_status_names_tell_apart_what_went_wrong) {
  History& h = H();
  Ran version = h.Run("--version");
  BOOST_TEST(version.exit_code == 0);
  BOOST_TEST(version.out.rfind("collectionsctl ", 0) == 0u, version.out);

  Ran missing = h.Run("replay ACC-NOBODY" + h.target);
  BOOST_TEST(missing.exit_code == 4);
  BOOST_TEST(missing.err.find("NOT_FOUND: account ACC-NOBODY") != std::string::npos, missing.err);
  BOOST_TEST(missing.err.find("reason: ACCOUNT_NOT_FOUND") != std::string::npos, missing.err);
  BOOST_TEST(h.Run("verify ACC-NOBODY" + h.target).exit_code == 4);

  // A dialer may not read audit trails.
  Ran denied = h.Run("replay ACC-JPY" + h.target, "dialer-1");
  BOOST_TEST(denied.exit_code == 5);
  BOOST_TEST(denied.err.find("PERMISSION_DENIED") != std::string::npos, denied.err);

  // Rejected input names the field.
  Ran backwards = h.Run("export --from 2025-10-31 --to 2025-10-01 --format csv" + h.target);
  BOOST_TEST(backwards.exit_code == 5);
  BOOST_TEST(backwards.err.find("INVALID_ARGUMENT") != std::string::npos, backwards.err);
  BOOST_TEST(backwards.err.find("field to: ") != std::string::npos, backwards.err);

  // Nobody listening.
  Ran nobody = h.Run("verify ACC-JPY --timeout-seconds 5 --target 127.0.0.1:1");
  BOOST_TEST(nobody.exit_code == 3);
  BOOST_TEST(nobody.err.find("UNAVAILABLE") != std::string::npos, nobody.err);

  BOOST_TEST(h.Run("replay" + h.target).exit_code == 2);
  Ran intact = h.Run("verify ACC-JPY" + h.target);
  BOOST_TEST(intact.exit_code == 0);
  BOOST_TEST(intact.out.rfind("intact", 0) == 0u, intact.out);
}

// A customer's receivables from the command line: each subcommand one request, its reply's
// version printed, a retry with the same --command-id appending nothing, refusals with the
// documented exit codes, and the customer's stream verified like an account's.
BOOST_AUTO_TEST_CASE(customer_commands_run_a_customer_from_the_command_line) {
  History& h = H();
  const std::string c = " --customer C-CTL" + h.target;
  Ran help = h.Run("receive-payment --help");
  BOOST_TEST(help.exit_code == 0);
  BOOST_TEST(help.out.find("--direct") != std::string::npos, help.out);

  Ran opened = h.Run("open-customer --name \"Northwind Traders\" --kind company --commercial "
                     "--time-zone America/Chicago" + c, "admin");
  BOOST_TEST(opened.exit_code == 0, opened.err);
  BOOST_TEST(opened.out.rfind("customer/C-CTL version 1 (", 0) == 0u, opened.out);
  // An account with no case of its own (the other tests replay ACC-JPY's history): only the
  // customer's side of the link is recorded.
  BOOST_TEST(h.Run("link-account --account ACC-AR-1" + c, "admin").exit_code == 0);
  for (const char* invoice : {"INV-1", "INV-2"}) {
    Ran recorded = h.Run(absl::StrCat("record-invoice --invoice ", invoice,
                                      " --account ACC-AR-1 --invoice-date 2025-08-01 "
                                      "--due-date 2025-09-01 --amount-minor 20000",
                                      c),
                         "collector-1");
    BOOST_TEST(recorded.exit_code == 0, recorded.err);
  }
  const std::string pay = "receive-payment --payment P-1 --amount-minor 15000 --payer-reference "
                          "CHQ-1 --received-date 2025-10-07 --direct INV-1=15000:deduction "
                          "--command-id ctl-pay-1" + c;
  Ran paid = h.Run(pay, "collector-1");
  BOOST_TEST(paid.exit_code == 0, paid.err);
  BOOST_TEST(paid.out.find("customer/C-CTL version 7 (") == 0u, paid.out);
  BOOST_TEST(paid.out.find("3 event(s)") != std::string::npos, paid.out);
  Ran again = h.Run(pay, "collector-1");
  BOOST_TEST(again.exit_code == 0, again.err);
  BOOST_TEST(again.out.find("[repeat: nothing appended]") != std::string::npos, again.out);

  BOOST_TEST(h.Run("dispute-invoice --invoice INV-2 --dispute D-1 --reason \"not ordered\"" + c,
                   "collector-1").exit_code == 0);
  Ran to_disputed = h.Run("receive-payment --payment P-2 --amount-minor 100 --received-date "
                          "2025-10-07 --direct INV-2=100" + c, "collector-1");
  BOOST_TEST(to_disputed.exit_code == 5);
  BOOST_TEST(to_disputed.err.find("FAILED_PRECONDITION") != std::string::npos, to_disputed.err);
  BOOST_TEST(to_disputed.err.find("PAYMENT_TO_DISPUTED_INVOICE") != std::string::npos,
             to_disputed.err);

  BOOST_TEST(h.Run("recommend-hold --hold H-1 --reason \"past due\"" + c, "collector-1")
                 .exit_code == 0);
  Ran collector_approves = h.Run("approve-hold --hold H-1" + c, "collector-1");
  BOOST_TEST(collector_approves.exit_code == 5);
  BOOST_TEST(collector_approves.err.find("PERMISSION_DENIED") != std::string::npos,
             collector_approves.err);
  Ran approved = h.Run("approve-hold --hold H-1 --json" + c, "supervisor-1");
  BOOST_TEST(approved.exit_code == 0, approved.err);
  BOOST_TEST(approved.out.find("\"account_id\":\"customer/C-CTL\"") != std::string::npos,
             approved.out);
  BOOST_TEST(h.Run("release-hold --hold H-1 --reason paid" + c, "supervisor-1").exit_code == 0);
  BOOST_TEST(h.Run("record-invoice --invoice INV-3" + c, "collector-1").exit_code == 2);

  Ran intact = h.Run("verify customer/C-CTL" + h.target);
  BOOST_TEST(intact.exit_code == 0, intact.err);
  BOOST_TEST(intact.out.rfind("intact", 0) == 0u, intact.out);
}

// A collections specialist works a customer from the command line end to end: the writes
// through collectionsctl, then the four reads show what they did (totals in dollars, the
// invoice page and the next one, the statement as the service serves it, the recommended hold
// on the shutdown report, the customer in the queue), and wrong input, an unknown customer or
// a role that may not read customers exit with the documented codes.
BOOST_AUTO_TEST_CASE(customer_reads_show_what_the_commands_did) {
  History& h = H();
  v1::OpenCaseRequest account = OpenCase("ACC-AR", "open-ar", 50000);
  account.set_time_zone(kChicago);
  h.Must(&Stub::OpenCase, account, "ACC-AR");
  const std::string c = " --customer C-READ" + h.target;
  BOOST_REQUIRE(h.Run("open-customer --name \"Contoso Ltd\" --kind company --commercial "
                      "--time-zone America/Chicago" + c, "admin")
                    .exit_code == 0);
  BOOST_REQUIRE(h.Run("link-account --account ACC-AR" + c, "admin").exit_code == 0);
  // INV-A1 was due on 1 September (37 days past due on 8 October), INV-A2 is not due yet.
  BOOST_REQUIRE(h.Run("record-invoice --invoice INV-A1 --number 1001 --account ACC-AR "
                      "--invoice-date 2025-08-01 --due-date 2025-09-01 --amount-minor 20000" + c,
                      "collector-1")
                    .exit_code == 0);
  BOOST_REQUIRE(h.Run("record-invoice --invoice INV-A2 --number 1002 --account ACC-AR "
                      "--invoice-date 2025-10-01 --due-date 2025-11-01 --amount-minor 30000" + c,
                      "collector-1")
                    .exit_code == 0);
  // Undirected: the oldest-first rule puts it on INV-A1.
  BOOST_REQUIRE(h.Run("receive-payment --payment P-A1 --amount-minor 5000 --payer-reference "
                      "WIRE-9 --received-date 2025-10-08" + c, "collector-1")
                    .exit_code == 0);
  Ran recommended = h.Run("recommend-hold --hold H-A1 --reason \"INV-A1 past due\"" + c,
                          "collector-1");
  BOOST_REQUIRE(recommended.exit_code == 0);
  // "customer/C-READ version 6 (partition P offset O, 1 event(s))" -> "P:O"
  const size_t p = recommended.out.find("(partition ");
  const size_t o = recommended.out.find(" offset ", p);
  BOOST_REQUIRE(p != std::string::npos && o != std::string::npos);
  const std::string position = absl::StrCat(
      recommended.out.substr(p + 11, o - p - 11), ":",
      recommended.out.substr(o + 8, recommended.out.find(',', o) - o - 8));
  const std::string after = " --min-position " + position;

  // customer: read-your-writes from the last command's position.
  Ran customer = h.Run("customer" + after + c);
  BOOST_REQUIRE_MESSAGE(customer.exit_code == 0, customer.err);
  const std::string& shown = customer.out;
  BOOST_TEST(shown.rfind("Customer C-READ: Contoso Ltd\n", 0) == 0u, shown);
  BOOST_TEST(shown.find("linked accounts   ACC-AR") != std::string::npos, shown);
  BOOST_TEST(shown.find("open              450.00 USD on 2 invoice(s)") != std::string::npos,
             shown);
  BOOST_TEST(shown.find("past due          150.00 USD") != std::string::npos, shown);
  BOOST_TEST(shown.find("days past due     37") != std::string::npos, shown);
  BOOST_TEST(shown.find("credit hold       RECOMMENDED") != std::string::npos, shown);
  BOOST_TEST(shown.find("30_59    1         150.00 USD") != std::string::npos, shown);
  BOOST_TEST(shown.find("CURRENT  1         300.00 USD") != std::string::npos, shown);
  BOOST_TEST(shown.find("H-A1  RECOMMENDED  INV-A1 past due  collector-1") != std::string::npos,
             shown);
  const size_t a1 = shown.find("\n  INV-A1   1001"), a2 = shown.find("\n  INV-A2   1002");
  BOOST_TEST((a1 != std::string::npos && a2 != std::string::npos && a1 < a2), shown);
  BOOST_TEST(shown.find("200.00 USD  150.00 USD  50.00 USD") != std::string::npos, shown);
  BOOST_TEST(shown.find("next page") == std::string::npos, shown);

  // One invoice a page: the second page comes from the flag the first one prints.
  Ran first = h.Run("customer --page-size 1" + c);
  BOOST_REQUIRE(first.exit_code == 0);
  const size_t token_at = first.out.find("next page: --page-token ");
  BOOST_REQUIRE_MESSAGE(token_at != std::string::npos, first.out);
  const std::string token = first.out.substr(token_at + 24, first.out.find('\n', token_at) -
                                                                token_at - 24);
  BOOST_TEST(first.out.find("INV-A1") != std::string::npos);
  BOOST_TEST(first.out.find("INV-A2") == std::string::npos);
  Ran second = h.Run("customer --page-size 1 --page-token " + token + c);
  BOOST_REQUIRE(second.exit_code == 0);
  BOOST_TEST(second.out.find("\n  INV-A2") != std::string::npos, second.out);
  BOOST_TEST(second.out.find("next page") == std::string::npos, second.out);

  Ran json = h.Run("customer --json" + c);
  BOOST_REQUIRE(json.exit_code == 0);
  BOOST_TEST(json.out.rfind("{\"customer_id\":\"C-READ\"", 0) == 0u, json.out);
  BOOST_TEST(json.out.find("\"open_minor\":\"45000\"") != std::string::npos, json.out);

  // statement: CSV and HTML are the service's documents byte for byte.
  const std::string period =
      " --from 2025-10-01 --to 2025-10-31 --as-known-at 2025-10-09T00:00:00Z" + after + c;
  auto served = [&](v1::ReportFormat format) {
    auto stub = v1::CustomerQueryService::NewStub(h.service.channel_as("compliance-officer-1"));
    v1::GetCustomerReconciliationRequest r;
    r.set_customer_id("C-READ");
    *r.mutable_from() = Date(2025, 10, 1);
    *r.mutable_to() = Date(2025, 10, 31);
    r.mutable_as_known_at()->set_seconds(absl::ToUnixSeconds(absl::FromCivil(
        absl::CivilDay(2025, 10, 9), absl::UTCTimeZone())));
    r.set_format(format);
    v1::GetCustomerReconciliationResponse out;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Status s = stub->GetCustomerReconciliation(&context, r, &out);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
    return out.document();
  };
  const std::string csv_file = (h.dir.path / "statement.csv").string();
  Ran csv = h.Run("statement --format csv --out " + csv_file + period);
  BOOST_REQUIRE_MESSAGE(csv.exit_code == 0, csv.err);
  const std::string csv_bytes = Slurp(csv_file);
  BOOST_TEST(csv_bytes == served(v1::REPORT_FORMAT_CSV));
  BOOST_TEST(csv_bytes.find("\nclosing_balance_minor,45000\n") != std::string::npos, csv_bytes);
  BOOST_TEST(csv_bytes.find(",invoice,INV-A1,1001,ACC-AR,,,20000,20000,20000,") !=
                 std::string::npos,
             csv_bytes);
  BOOST_TEST(csv_bytes.find(",payment,,,,P-A1,WIRE-9,5000,-5000,45000,") != std::string::npos,
             csv_bytes);
  BOOST_TEST(csv.err.find("statement-C-READ-2025-10-01-2025-10-31.csv") != std::string::npos,
             csv.err);
  Ran csv_out = h.Run("statement --format csv" + period);  // to stdout, the same bytes
  BOOST_TEST(csv_out.out == csv_bytes);
  const std::string html_file = (h.dir.path / "statement.html").string();
  BOOST_REQUIRE(h.Run("statement --format html --out " + html_file + period).exit_code == 0);
  BOOST_TEST(Slurp(html_file) == served(v1::REPORT_FORMAT_HTML));
  Ran text = h.Run("statement" + period);
  BOOST_REQUIRE(text.exit_code == 0);
  BOOST_TEST(text.out.rfind("Statement of account C-READ: Contoso Ltd\n", 0) == 0u, text.out);
  BOOST_TEST(text.out.find("closing balance  450.00 USD") != std::string::npos, text.out);
  BOOST_TEST(text.out.find("+200.00 USD") != std::string::npos, text.out);
  BOOST_TEST(text.out.find("-50.00 USD") != std::string::npos, text.out);
  BOOST_TEST(text.out.find("Open items on 2025-10-31 (2)") != std::string::npos, text.out);
  // The reporting reader may read statements.
  BOOST_TEST(h.Run("statement" + period, "reporting-reader").exit_code == 0);

  // shutdown-report: the recommended hold, with today's exposure.
  Ran shutdown = h.Run("shutdown-report" + h.target);
  BOOST_REQUIRE(shutdown.exit_code == 0);
  BOOST_TEST(shutdown.out.find("C-READ    Contoso Ltd  H-A1  RECOMMENDED  INV-A1 past due  "
                               "collector-1") != std::string::npos,
             shutdown.out);
  BOOST_TEST(shutdown.out.find("450.00 USD") != std::string::npos, shutdown.out);
  Ran shutdown_csv = h.Run("shutdown-report --format csv" + h.target);
  BOOST_REQUIRE(shutdown_csv.exit_code == 0);
  BOOST_TEST(shutdown_csv.out.rfind("customer_id,name,hold_id,status,", 0) == 0u);
  BOOST_TEST(shutdown_csv.out.find("\nC-READ,Contoso Ltd,H-A1,") != std::string::npos,
             shutdown_csv.out);

  // customer-queue: C-READ is past due: 450.00 of exposure, 37 days.
  Ran queue = h.Run("customer-queue --limit 10" + h.target);
  BOOST_REQUIRE(queue.exit_code == 0);
  const size_t row = queue.out.find("C-READ");
  BOOST_REQUIRE_MESSAGE(row != std::string::npos, queue.out);
  const std::string line = queue.out.substr(row, queue.out.find('\n', row) - row);
  BOOST_TEST(line.find("450.00 USD  37") != std::string::npos, line);
  BOOST_TEST(line.find(absl::StrCat(45000 * 37)) != std::string::npos, line);
  BOOST_TEST(line.find("RECOMMENDED") != std::string::npos, line);

  // What goes wrong, and the exit code that says so.
  Ran nobody = h.Run("customer --customer C-NOBODY" + h.target);
  BOOST_TEST(nobody.exit_code == 4);
  BOOST_TEST(nobody.err.find("NOT_FOUND") != std::string::npos, nobody.err);
  BOOST_TEST(nobody.err.find("reason: CUSTOMER_NOT_FOUND") != std::string::npos, nobody.err);
  Ran backwards = h.Run("statement --from 2025-10-31 --to 2025-10-01" + c);
  BOOST_TEST(backwards.exit_code == 5);
  BOOST_TEST(backwards.err.find("INVALID_ARGUMENT") != std::string::npos, backwards.err);
  BOOST_TEST(backwards.err.find("field to: is before from") != std::string::npos, backwards.err);
  Ran too_big = h.Run("customer --page-size 9999" + c);
  BOOST_TEST(too_big.exit_code == 5);
  BOOST_TEST(too_big.err.find("field page_size: ") != std::string::npos, too_big.err);
  BOOST_TEST(h.Run("customer-queue --limit 5000" + h.target).exit_code == 5);
  Ran dialer = h.Run("customer" + c, "dialer-1");
  BOOST_TEST(dialer.exit_code == 5);
  BOOST_TEST(dialer.err.find("PERMISSION_DENIED") != std::string::npos, dialer.err);
  BOOST_TEST(h.Run("customer" + c, "reporting-reader").exit_code == 5);
  // Usage errors ask nothing.
  BOOST_TEST(h.Run("customer" + h.target).exit_code == 2);  // no --customer
  BOOST_TEST(h.Run("statement --from 2025-10-01 --to 2025-13-01" + c).exit_code == 2);
  BOOST_TEST(h.Run("statement --from 2025-10-01 --to 2025-10-31 --format pdf" + c).exit_code ==
             2);
  BOOST_TEST(h.Run("customer --min-position 2-118" + c).exit_code == 2);
  Ran down = h.Run("customer-queue --timeout-seconds 5 --target 127.0.0.1:1");
  BOOST_TEST(down.exit_code == 3);
  BOOST_TEST(down.err.find("UNAVAILABLE") != std::string::npos, down.err);
  for (const char* command : {"customer", "statement", "shutdown-report", "customer-queue"}) {
    Ran help = h.Run(absl::StrCat(command, " --help"));
    BOOST_TEST(help.exit_code == 0, command);
    BOOST_TEST(help.out.find("Exit codes:") != std::string::npos, help.out);
  }
  BOOST_TEST(h.Run("--help").out.find("shutdown-report") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(replay_table_is_aligned_with_amount_rule_reason_and_actor) {
  History& h = H();
  Ran replay = h.Run("replay ACC-JPY" + h.target);
  BOOST_REQUIRE(replay.exit_code == 0);
  auto rows = Lines(replay.out);
  BOOST_REQUIRE(rows.size() == 6u);  // header + opened, call, blocked, payment, reversal
  const std::string& header = rows[0];
  auto column = [&](const std::string& name) {
    const size_t at = header.find("  " + name + " ");
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, name << " in " << header);
    return at + 2;
  };
  const size_t type = column("type"), actor = column("actor"), amount = column("amount"),
               rule = column("rule"), balance = column("balance_after");
  const size_t reason = header.find("reason");
  BOOST_REQUIRE(reason != std::string::npos);
  // Every row's cells start under their header.
  BOOST_TEST(rows[1].substr(type, 10) == "CaseOpened");
  BOOST_TEST(rows[1].substr(amount, 10) == "15,000 JPY");  // not "150.00 JPY"
  BOOST_TEST(rows[1].substr(actor, 10) == "test-suite");
  BOOST_TEST(rows[3].substr(type, 14) == "ContactBlocked", rows[3]);
  BOOST_TEST(rows[3].substr(rule, 3) == "F2 ", rows[3]);
  // The refused request decoded, not base64.
  BOOST_TEST(rows[3].substr(reason).find(
                 "request: collections.v1.RecordContactAttemptRequest {") != std::string::npos,
             rows[3]);
  BOOST_TEST(rows[3].find("\"contact_id\":\"C2\"") != std::string::npos, rows[3]);
  BOOST_TEST(rows[4].substr(amount, 9) == "5,000 JPY", rows[4]);
  BOOST_TEST(rows[4].substr(balance, 10) == "10,000 JPY", rows[4]);
  BOOST_TEST(rows[5].substr(balance, 10) == "15,000 JPY", rows[5]);

  // JSON Lines: the blocked step carries the request decoded beside protobuf's base64 bytes,
  // and every line stays one JSON object.
  Ran json = h.Run("replay ACC-JPY --format json" + h.target);
  BOOST_REQUIRE(json.exit_code == 0);
  auto lines = Lines(json.out);
  BOOST_REQUIRE(lines.size() == 5u);
  const std::string decoded =
      "\"decoded_request\":\"collections.v1.RecordContactAttemptRequest {";
  BOOST_TEST(lines[2].find(decoded) != std::string::npos, lines[2]);
  BOOST_TEST(lines[2].find("\\\"contact_id\\\":\\\"C2\\\"") != std::string::npos, lines[2]);
  BOOST_TEST(lines[2].back() == '}');
  BOOST_TEST(lines[1].find("decoded_request") == std::string::npos, lines[1]);
}

BOOST_AUTO_TEST_CASE(export_csv_has_amounts_and_no_formula_a_spreadsheet_would_run) {
  History& h = H();
  Ran csv = h.Run("export ACC-JPY --format csv" + h.target);
  BOOST_REQUIRE(csv.exit_code == 0);
  auto rows = Lines(csv.out);
  BOOST_REQUIRE(rows.size() == 6u);
  BOOST_TEST(rows[0].find(",hash_hex,prev_hash_hex,amount_minor,currency,amount") !=
             std::string::npos);
  BOOST_TEST(rows[1].substr(rows[1].size() - 16) == ",15000,JPY,15000", rows[1]);
  BOOST_TEST(rows[4].substr(rows[4].size() - 14) == ",5000,JPY,5000", rows[4]);
  // The payment's correlation id is a formula: quoted with a leading apostrophe.
  BOOST_TEST(rows[4].find(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"pay\"\")\",") !=
                 std::string::npos,
             rows[4]);
  BOOST_TEST(csv.out.find(",=HYPERLINK") == std::string::npos);
  // The blocked request decoded among the reasons, in JSON Lines too.
  BOOST_TEST(rows[3].find("request: collections.v1.RecordContactAttemptRequest") !=
             std::string::npos);
  Ran jsonl = h.Run("export ACC-JPY --format jsonl" + h.target);
  BOOST_TEST(jsonl.out.find("request: collections.v1.RecordContactAttemptRequest {") !=
             std::string::npos);

  // An empty period says so.
  Ran empty = h.Run("export --from 2000-01-01 --to 2000-01-02 --format csv" + h.target);
  BOOST_TEST(empty.exit_code == 0);
  BOOST_TEST(empty.err.find("no events in the range") != std::string::npos, empty.err);
}

BOOST_AUTO_TEST_CASE(report_csv_carries_the_exponent_and_defuses_the_creditor) {
  History& h = H();
  Ran aging;
  // The reporting projection follows the log on its own; give it a moment.
  for (int i = 0; i < 100; ++i) {
    aging = h.Run("report aging --as-of 2025-10-08 --group-by creditor --format csv" + h.target,
                  "reporting-reader");
    if (aging.out.find("JPY") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  BOOST_REQUIRE(aging.exit_code == 0);
  auto rows = Lines(aging.out);
  BOOST_REQUIRE(rows.size() >= 2u);
  BOOST_TEST(rows[0] ==
             "as_of,known_at,creditor,queue,assignee,currency,bucket,accounts,balance_minor,"
             "currency_exponent");
  BOOST_TEST(aging.out.find("\"'=HYPERLINK(") != std::string::npos, aging.out);
  BOOST_TEST(aging.out.find(",JPY,") != std::string::npos);
  bool yen = false;
  for (const auto& row : rows) {
    if (row.find(",JPY,") != std::string::npos) {
      yen = true;
      BOOST_TEST(row.substr(row.size() - 10) == ",1,15000,0", row);
    }
  }
  BOOST_TEST(yen);

  // A day with no data says so.
  Ran before = h.Run("report aging --as-of 2000-01-01" + h.target, "reporting-reader");
  BOOST_TEST(before.exit_code == 0);
  BOOST_TEST(before.err.find("no data") != std::string::npos, before.err);

  // Each report explains its own flags.
  Ran help = h.Run("report aging --help");
  BOOST_TEST(help.exit_code == 0);
  BOOST_TEST(help.out.find("--as-of") != std::string::npos, help.out);
  BOOST_TEST(help.out.find("--month") == std::string::npos, help.out);
  BOOST_TEST(help.out.find("currency_exponent") != std::string::npos, help.out);
}

BOOST_AUTO_TEST_CASE(timeline_renders_in_chromium_with_the_known_history) {
  History& h = H();
  const std::string html = (h.dir.path / "ACC-JPY.html").string();
  Ran timeline = h.Run("timeline ACC-JPY --html " + html + h.target);
  BOOST_REQUIRE(timeline.exit_code == 0);
  const std::string page = Slurp(html);
  BOOST_TEST(page.find("<script") == std::string::npos);
  BOOST_TEST(page.find(" src=") == std::string::npos);
  BOOST_TEST(page.find("href=") == std::string::npos);

  // What a browser builds from it.
  const std::string dom_file = (h.dir.path / "dom.html").string();
  const std::string chromium = absl::StrCat(
      COLLECTIONS_CHROMIUM, " --headless --no-sandbox --disable-gpu --no-first-run ",
      "--user-data-dir=", (h.dir.path / "chromium").string(), " --dump-dom file://", html, " >",
      dom_file, " 2>/dev/null");
  BOOST_REQUIRE_MESSAGE(std::system(chromium.c_str()) == 0, chromium);
  const std::string dom = Slurp(dom_file);
  BOOST_REQUIRE_MESSAGE(dom.find("<main data-account=\"ACC-JPY\"") != std::string::npos, dom);
  BOOST_TEST(dom.find("data-events=\"5\"") != std::string::npos);
  BOOST_TEST(dom.find("data-contacts=\"1\"") != std::string::npos);
  BOOST_TEST(dom.find("data-blocks=\"1\"") != std::string::npos);
  BOOST_TEST(dom.find("data-payments=\"1\"") != std::string::npos);
  BOOST_TEST(dom.find("data-reversals=\"1\"") != std::string::npos);
  BOOST_TEST(dom.find("data-verification=\"intact\"") != std::string::npos);
  BOOST_TEST(dom.find("data-kind=\"block\" data-seq=\"3\" data-rule=\"F2\"") != std::string::npos);
  BOOST_TEST(dom.find("data-outcome=\"RIGHT_PARTY_CONVERSATION\"") != std::string::npos);
  BOOST_TEST(dom.find("15,000 JPY") != std::string::npos);
  // Printed to PDF, it is a real document.
  const std::string pdf = (h.dir.path / "timeline.pdf").string();
  const std::string print = absl::StrCat(
      COLLECTIONS_CHROMIUM, " --headless --no-sandbox --disable-gpu --no-first-run ",
      "--user-data-dir=", (h.dir.path / "chromium").string(), " --no-pdf-header-footer",
      " --print-to-pdf=", pdf, " file://", html, " >/dev/null 2>&1");
  BOOST_REQUIRE(std::system(print.c_str()) == 0);
  BOOST_TEST(Slurp(pdf).rfind("%PDF", 0) == 0u);

  BOOST_TEST(h.Run("timeline ACC-NOBODY --html " + html + h.target).exit_code == 4);
  BOOST_TEST(h.Run("timeline ACC-JPY" + h.target).exit_code == 2);  // --html is required
}

// A month of one account in dollars, for the page a reader sees (docs/timeline.png is this
// page: COLLECTIONS_TIMELINE_SCREENSHOT=<png> writes the screenshot): calls, an F2 block, a
// promise kept and one broken by the clock, a payment reversed, a dispute opened and rejected.
BOOST_AUTO_TEST_CASE(timeline_of_a_month_shows_promises_disputes_and_the_balance) {
  ClockedService s(At(2025, 10, 1, 9), "ctl-month");
  const std::string account = "ACC-DEMO";
  auto call = [&](v1::ContactOutcome outcome, int n) {
    v1::RecordContactAttemptRequest r;
    r.set_contact_id("C" + std::to_string(n));
    r.set_channel(v1::CONTACT_CHANNEL_CALL);
    r.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
    r.set_address("+13125550100");
    r.set_phone_type(v1::PHONE_TYPE_CELL);
    r.set_outcome(outcome);
    r.mutable_content()->set_has_debt_collector_disclosure(true);
    return s.Send(&Stub::RecordContactAttempt, r, account);
  };
  auto promise = [&](const std::string& id, int64_t minor, v1::LocalDate due) {
    v1::RecordPromiseToPayRequest r;
    r.set_promise_id(id);
    r.mutable_amount()->set_amount_minor(minor);
    r.mutable_amount()->set_currency("USD");
    *r.mutable_due_date() = due;
    r.set_channel(v1::CONTACT_CHANNEL_CALL);
    s.Must(&Stub::RecordPromiseToPay, r, account);
  };
  v1::OpenCaseRequest open = OpenCase(account, "open-demo", 125000);
  open.set_time_zone(kChicago);
  open.set_third_party_collector(true);
  open.set_jurisdiction("IL");
  *open.mutable_due_date() = Date(2025, 6, 1);
  s.Must(&Stub::OpenCase, open, account);
  s.clock.Set(At(2025, 10, 1, 10));
  BOOST_REQUIRE(call(v1::CONTACT_OUTCOME_NO_ANSWER, 1).ok());
  s.clock.Set(At(2025, 10, 2, 10));
  BOOST_REQUIRE(call(v1::CONTACT_OUTCOME_VOICEMAIL, 2).ok());
  s.clock.Set(At(2025, 10, 3, 10));
  BOOST_REQUIRE(call(v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION, 3).ok());
  s.clock.Set(At(2025, 10, 3, 10, 30));
  promise("PR1", 30000, Date(2025, 10, 10));
  s.clock.Set(At(2025, 10, 3, 15));
  BOOST_REQUIRE(call(v1::CONTACT_OUTCOME_NO_ANSWER, 4).error_code() ==
                grpc::StatusCode::FAILED_PRECONDITION);
  s.clock.Set(At(2025, 10, 9, 11));
  s.Must(&Stub::PostPayment, PostPayment(account, "pay-demo-1", "P1", 30000), account);
  s.clock.Set(At(2025, 10, 13, 9));
  s.Must(&Stub::ReversePayment, ReversePayment(account, "rev-demo-1", "P1"), account);
  s.clock.Set(At(2025, 10, 13, 11));
  BOOST_REQUIRE(call(v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION, 5).ok());
  s.clock.Set(At(2025, 10, 13, 11, 30));
  promise("PR2", 20000, Date(2025, 10, 15));
  s.AdvanceTo(At(2025, 10, 20, 10));  // PR2's grace runs out: broken by the clock
  v1::OpenDisputeRequest dispute;
  dispute.set_dispute_id("D1");
  dispute.set_written(true);
  dispute.set_reason("amount not owed");
  s.Must(&Stub::OpenDispute, dispute, account);
  s.clock.Set(At(2025, 10, 23, 10));
  v1::SendDisputeVerificationRequest verification;
  verification.set_dispute_id("D1");
  s.Must(&Stub::SendDisputeVerification, verification, account);
  s.clock.Set(At(2025, 10, 27, 10));
  v1::ResolveDisputeRequest resolve;
  resolve.set_dispute_id("D1");
  resolve.set_upheld(false);
  resolve.set_resolution("verified against the creditor's statements");
  s.Must(&Stub::ResolveDispute, resolve, account);
  s.clock.Set(At(2025, 10, 28, 10));
  s.Must(&Stub::PostPayment, PostPayment(account, "pay-demo-2", "P2", 10000), account);

  const std::string html = (s.dir.path / "demo.html").string();
  const CertFiles officer = ClientCert("compliance-officer-1");
  const std::string ctl = absl::StrCat(
      COLLECTIONS_CTL_BINARY, " timeline ", account, " --html ", html, " --target ",
      s.service.app().address(), " --tls-ca ", Pki().ca(), " --tls-cert ", officer.cert,
      " --tls-key ", officer.key);
  BOOST_REQUIRE_EQUAL(std::system(ctl.c_str()), 0);
  const std::string dom_file = (s.dir.path / "dom.html").string();
  const std::string chromium = absl::StrCat(
      COLLECTIONS_CHROMIUM, " --headless --no-sandbox --disable-gpu --no-first-run ",
      "--user-data-dir=", (s.dir.path / "chromium").string());
  BOOST_REQUIRE(std::system(absl::StrCat(chromium, " --dump-dom file://", html, " >", dom_file,
                                         " 2>/dev/null")
                                .c_str()) == 0);
  const std::string dom = Slurp(dom_file);
  BOOST_TEST(dom.find("data-contacts=\"4\"") != std::string::npos);  // the block is not one
  BOOST_TEST(dom.find("data-blocks=\"1\"") != std::string::npos);
  BOOST_TEST(dom.find("data-payments=\"2\"") != std::string::npos);
  BOOST_TEST(dom.find("data-reversals=\"1\"") != std::string::npos);
  BOOST_TEST(dom.find("data-promises-kept=\"1\"") != std::string::npos, dom);
  BOOST_TEST(dom.find("data-promises-broken=\"1\"") != std::string::npos, dom);
  BOOST_TEST(dom.find("data-kind=\"dispute-span\"") != std::string::npos);
  BOOST_TEST(dom.find("data-status=\"rejected\"") != std::string::npos);
  BOOST_TEST(dom.find("data-verification=\"intact\"") != std::string::npos);
  if (const char* png = std::getenv("COLLECTIONS_TIMELINE_SCREENSHOT")) {
    BOOST_TEST(std::system(absl::StrCat(chromium, " --hide-scrollbars --window-size=1280,1400",
                                        " --screenshot=", png, " file://", html,
                                        " >/dev/null 2>&1")
                               .c_str()) == 0);
  }
}

}  // namespace
}  // namespace collections::testing
