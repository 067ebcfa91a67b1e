// collectionsctl as a compliance officer runs it: the built binary against a real service over
// mutual TLS (real broker, RocksDB, gRPC), on an account with a known history in yen. Checks
// what a user sees: exit codes and status names, money in the currency's exponent, CSV a
// spreadsheet cannot run, the replay table's columns, per-report help, and the timeline page
// rendered by headless Chromium.
#define BOOST_TEST_MODULE ctl
#include "tests/support/fixture.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
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
