#define BOOST_TEST_MODULE error_mapping
#include "services/api/error_mapping.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

#include "google/protobuf/util/message_differencer.h"

#include <boost/test/unit_test.hpp>
#include <random>

namespace collections {
namespace {

google::rpc::Status Details(const grpc::Status& s) {
  google::rpc::Status d;
  BOOST_REQUIRE(d.ParseFromString(s.error_details()));
  return d;
}

BOOST_AUTO_TEST_CASE(every_domain_code_has_its_grpc_code) {
  BOOST_TEST(ToGrpcCode(Errc::kInvalidArgument) == grpc::StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(ToGrpcCode(Errc::kNotFound) == grpc::StatusCode::NOT_FOUND);
  BOOST_TEST(ToGrpcCode(Errc::kAlreadyExists) == grpc::StatusCode::ALREADY_EXISTS);
  BOOST_TEST(ToGrpcCode(Errc::kFailedPrecondition) == grpc::StatusCode::FAILED_PRECONDITION);
  BOOST_TEST(ToGrpcCode(Errc::kAborted) == grpc::StatusCode::ABORTED);
  BOOST_TEST(ToGrpcCode(Errc::kUnavailable) == grpc::StatusCode::UNAVAILABLE);
  BOOST_TEST(ToGrpcCode(Errc::kDeadlineExceeded) == grpc::StatusCode::DEADLINE_EXCEEDED);
  BOOST_TEST(ToGrpcCode(Errc::kInternal) == grpc::StatusCode::INTERNAL);
}

BOOST_AUTO_TEST_CASE(invalid_argument_names_the_field_in_bad_request) {
  grpc::Status s =
      ToGrpcStatus(Error::InvalidArgument("amount.amount_minor", "must be greater than zero"));
  BOOST_TEST(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(s.error_message() == "amount.amount_minor: must be greater than zero");
  auto d = Details(s);
  BOOST_REQUIRE(d.details_size() == 2);
  google::rpc::BadRequest bad;
  BOOST_REQUIRE(d.details(1).UnpackTo(&bad));
  BOOST_TEST(bad.field_violations(0).field() == "amount.amount_minor");
  google::rpc::ErrorInfo info;
  BOOST_REQUIRE(d.details(0).UnpackTo(&info));
  BOOST_TEST(info.reason() == "INVALID_FIELD");
  BOOST_TEST(info.domain() == "collections.v1");
}

// Python's grpc_status.rpc_status.from_call raises ValueError unless the status code and
// message equal those in the google.rpc.Status details; every code must pass that check.
void RequireDetailsMatch(const grpc::Status& s) {
  auto d = Details(s);
  BOOST_TEST(d.code() == static_cast<int>(s.error_code()));
  BOOST_TEST(d.message() == s.error_message());
}

BOOST_AUTO_TEST_CASE(status_message_is_the_details_message_for_every_code) {
  RequireDetailsMatch(ToGrpcStatus(Error::InvalidArgument("amount", "must be greater than zero")));
  Error many{Errc::kInvalidArgument, "INVALID_FIELD", "bad request", "", ""};
  many.violations = {{"command_id", "is required"}, {"amount.currency", "not ISO 4217"}};
  RequireDetailsMatch(ToGrpcStatus(many));
  RequireDetailsMatch(ToGrpcStatus(Error{Errc::kFailedPrecondition, "R", "blocked", "", "A"}));
  RequireDetailsMatch(ToGrpcStatus(Error{Errc::kNotFound, "ACCOUNT_NOT_FOUND", "no case", "", ""}));
  RequireDetailsMatch(ToGrpcStatus(Error{Errc::kAborted, "VERSION_MISMATCH", "at 3", "", ""}));
  RequireDetailsMatch(ToGrpcStatus(Error{Errc::kUnavailable, "LOG_UNAVAILABLE", "retry", "", ""}));
  RequireDetailsMatch(
      ToGrpcStatus(Error{Errc::kDeadlineExceeded, "DEADLINE_EXCEEDED", "late", "", ""}));
  RequireDetailsMatch(ToGrpcStatus(Error{Errc::kInternal, "INTERNAL", "bug", "", ""}));
}

BOOST_AUTO_TEST_CASE(every_violation_is_listed_in_bad_request_and_in_the_message) {
  Error e{Errc::kInvalidArgument, "INVALID_FIELD", "3 invalid fields", "", ""};
  e.violations = {{"command_id", "is required"},
                  {"amount.currency", "must be an active ISO 4217 code"},
                  {"occurred_at.nanos", "must be 0..999999999"}};
  grpc::Status s = ToGrpcStatus(e);
  BOOST_TEST(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(s.error_message() ==
             "3 invalid fields: command_id: is required; amount.currency: must be an active ISO "
             "4217 code; occurred_at.nanos: must be 0..999999999");
  google::rpc::BadRequest bad;
  BOOST_REQUIRE(Details(s).details(1).UnpackTo(&bad));
  BOOST_REQUIRE(bad.field_violations_size() == 3);
  BOOST_TEST(bad.field_violations(0).field() == "command_id");
  BOOST_TEST(bad.field_violations(1).field() == "amount.currency");
  BOOST_TEST(bad.field_violations(2).field() == "occurred_at.nanos");
  BOOST_TEST(bad.field_violations(2).description() == "must be 0..999999999");
}

// A 3 MB field must not come back in the status: clients refuse trailers over 8 KiB.
BOOST_AUTO_TEST_CASE(huge_input_is_never_echoed_beyond_a_bounded_excerpt) {
  const std::string huge(3 * 1024 * 1024, 'x');
  Error e = Error::InvalidArgument(huge, "bad value " + huge);
  e.subject = huge;
  e.metadata = {{"rule", huge}};
  grpc::Status s = ToGrpcStatus(e);
  BOOST_TEST(s.error_message().size() <= 512u);
  BOOST_TEST(s.error_details().size() <= 4096u);
  RequireDetailsMatch(s);

  Error precondition{Errc::kFailedPrecondition, "RULE", huge, huge, huge};
  grpc::Status p = ToGrpcStatus(precondition);
  BOOST_TEST(p.error_message().size() <= 512u);
  BOOST_TEST(p.error_details().size() <= 4096u);
  BOOST_TEST(p.error_message().ends_with("..."));
}

BOOST_AUTO_TEST_CASE(thousands_of_violations_stay_within_the_trailer_budget) {
  Error e{Errc::kInvalidArgument, "INVALID_FIELD", "many", "", ""};
  for (int i = 0; i < 5000; ++i)
    e.violations.push_back({"instalments[" + std::to_string(i) + "].due_date",
                            "is not a calendar date (year 1..9999, month 1..12, a day the month "
                            "has)"});
  grpc::Status s = ToGrpcStatus(e);
  BOOST_TEST(s.error_details().size() <= 4096u);
  BOOST_TEST(s.error_message().size() <= 512u);
  BOOST_TEST(s.error_message().starts_with("5000 invalid fields ("));
  RequireDetailsMatch(s);
  auto d = Details(s);
  google::rpc::ErrorInfo info;
  BOOST_REQUIRE(d.details(0).UnpackTo(&info));
  BOOST_TEST(info.metadata().at("violations") == "5000");
  google::rpc::BadRequest bad;
  BOOST_REQUIRE(d.details(1).UnpackTo(&bad));
  BOOST_TEST(bad.field_violations_size() > 5);
  BOOST_TEST(info.metadata().at("violations_listed") ==
             std::to_string(bad.field_violations_size()));
}

// Cutting a message must not split a UTF-8 sequence: google.rpc.Status.message is a proto3
// string, and a client's parser rejects invalid UTF-8.
BOOST_AUTO_TEST_CASE(truncation_keeps_utf8_valid) {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "\xc3\xa9";  // "é" 400 times: 800 bytes
  grpc::Status s = ToGrpcStatus(Error{Errc::kFailedPrecondition, "R", text, "", "A"});
  BOOST_TEST(s.error_message().size() <= 512u);
  google::rpc::Status d;
  BOOST_TEST(d.ParseFromString(s.error_details()));
}

BOOST_AUTO_TEST_CASE(quoted_input_is_a_bounded_escaped_excerpt) {
  BOOST_TEST(Quoted("USD") == "\"USD\"");
  BOOST_TEST(Quoted("a\"b\n") == "\"a\\\"b\\x0a\"");
  BOOST_TEST(Quoted(std::string(1000, 'z')) == "\"" + std::string(64, 'z') + "...\"");
}

BOOST_AUTO_TEST_CASE(failed_precondition_names_the_rule) {
  grpc::Status s = ToGrpcStatus(Error{Errc::kFailedPrecondition, "PAYMENT_ALREADY_REVERSED",
                                      "payment P1 was already reversed", "payment_id", "P1"});
  auto d = Details(s);
  google::rpc::PreconditionFailure failure;
  BOOST_REQUIRE(d.details(1).UnpackTo(&failure));
  BOOST_TEST(failure.violations(0).type() == "PAYMENT_ALREADY_REVERSED");
  BOOST_TEST(failure.violations(0).subject() == "P1");
}

BOOST_AUTO_TEST_CASE(not_found_carries_the_resource) {
  grpc::Status s =
      ToGrpcStatus(Error{Errc::kNotFound, "ACCOUNT_NOT_FOUND", "no case", "", "ACC-9"});
  BOOST_TEST(s.error_code() == grpc::StatusCode::NOT_FOUND);
  google::rpc::ResourceInfo resource;
  BOOST_REQUIRE(Details(s).details(1).UnpackTo(&resource));
  BOOST_TEST(resource.resource_type() == "account");
  BOOST_TEST(resource.resource_name() == "ACC-9");
}

// ---- FromGrpcStatus: a forwarded refusal reaches the caller as the owner gave it ----

// The same status: code, message, and the same details (Any payloads compared unpacked: a
// map's serialized order is not fixed).
void RequireSameStatus(const grpc::Status& got, const grpc::Status& want) {
  BOOST_TEST(static_cast<int>(got.error_code()) == static_cast<int>(want.error_code()));
  BOOST_TEST(got.error_message() == want.error_message());
  google::rpc::Status a = Details(got), b = Details(want);
  std::string diff;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  BOOST_TEST(differ.Compare(a, b), diff);
}

// ToGrpcStatus(FromGrpcStatus(s)) == s for s = ToGrpcStatus(error).
void RequireRoundTrip(const Error& error) {
  const grpc::Status original = ToGrpcStatus(error);
  const Error back = FromGrpcStatus(original);
  BOOST_TEST(static_cast<int>(back.code) == static_cast<int>(error.code));
  BOOST_TEST(back.reason == Truncated(error.reason, 200));
  RequireSameStatus(ToGrpcStatus(back), original);
}

BOOST_AUTO_TEST_CASE(from_grpc_status_recovers_what_the_caller_sees_for_every_code) {
  RequireRoundTrip(Error::InvalidArgument("amount.amount_minor", "must be greater than zero"));
  Error many{Errc::kInvalidArgument, "INVALID_FIELD", "3 invalid fields", "", ""};
  many.violations = {{"command_id", "is required"},
                     {"amount.currency", "must be an active ISO 4217 code; not \"XXX\""},
                     {"occurred_at.nanos", "must be 0..999999999"}};
  RequireRoundTrip(many);
  RequireRoundTrip(Error{Errc::kInvalidArgument, "REQUEST_TOO_LARGE", "too large", "", ""});
  RequireRoundTrip(Error{Errc::kNotFound, "ACCOUNT_NOT_FOUND", "no case", "", "ACC-1"});
  RequireRoundTrip(
      Error{Errc::kNotFound, "PAYMENT_NOT_FOUND", "no such payment", "payment_id", "P-1"});
  RequireRoundTrip(Error{Errc::kAlreadyExists, "ACCOUNT_EXISTS", "exists", "", "ACC-1"});
  RequireRoundTrip(Error{Errc::kFailedPrecondition,
                         "F5",
                         "contact blocked: outside 08:00-21:00 local time",
                         "",
                         "ACC-1",
                         {{"rule_id", "F5"}, {"allowed_from", "2025-09-02T13:00:00Z"}}});
  RequireRoundTrip(Error{Errc::kAborted, "VERSION_CONFLICT", "at 3, expected 2", "", "ACC-1"});
  RequireRoundTrip(Error{Errc::kUnavailable, "PARTITION_MOVED", "retry", "", "", {{"p", "2"}}});
  RequireRoundTrip(Error{Errc::kDeadlineExceeded, "DEADLINE_EXCEEDED", "late", "", ""});
  RequireRoundTrip(Error{Errc::kInternal, "INTERNAL", "bug", "", ""});
  RequireRoundTrip(Error{Errc::kPermissionDenied,
                         "PRIVILEGE_REQUIRED",
                         "role collector may not",
                         "actor.on_behalf_of",
                         "collector-1",
                         {{"principal", "collector-1"}, {"role", "collector"}}});
  RequireRoundTrip(Error{Errc::kUnauthenticated, "UNAUTHENTICATED", "who?", "", ""});
  const Error back = FromGrpcStatus(ToGrpcStatus(many));
  BOOST_TEST(back.violations.size() == 3u);
  BOOST_TEST(back.violations[1].description == many.violations[1].description);
  BOOST_TEST(back.field == "command_id");
}

BOOST_AUTO_TEST_CASE(from_grpc_status_recovers_descriptions_longer_than_bad_request_keeps) {
  // One field: the message shows up to 512 bytes of the description, BadRequest 300.
  RequireRoundTrip(Error::InvalidArgument("note", std::string(400, 'n')));
  RequireRoundTrip(Error::InvalidArgument("note", std::string(2000, 'n')));
  RequireRoundTrip(Error::InvalidArgument(std::string(500, 'f'), std::string(2000, 'n')));
  RequireRoundTrip(Error::InvalidArgument("note", std::string(350, 'n') + "..."));
  // Several: the message shows each whole until its own cut.
  Error e{Errc::kInvalidArgument, "INVALID_FIELD", "", "", ""};
  e.violations = {{"a", std::string(320, 'x')}, {"b", "short"}, {"c", std::string(900, 'z')}};
  RequireRoundTrip(e);
  e.violations = {{"a", "short"}, {"b", std::string(298, 'y') + "; c: more"}, {"c", "end"}};
  RequireRoundTrip(e);
  // Long messages of other codes are cut the same way again.
  RequireRoundTrip(Error{Errc::kFailedPrecondition, "F11", std::string(3000, 'm'), "", "A"});
  RequireRoundTrip(Error{Errc::kNotFound, "X", std::string(700, 'm'), "invoice_id", "I"});
  // UTF-8 at every cut.
  std::string accents;
  for (int i = 0; i < 400; ++i) accents += "\xc3\xa9";
  RequireRoundTrip(Error::InvalidArgument("name", accents));
  e.violations = {{"a", accents}, {"b", accents}};
  RequireRoundTrip(e);
}

BOOST_AUTO_TEST_CASE(from_grpc_status_counts_violations_bad_request_had_no_room_for) {
  Error e{Errc::kInvalidArgument, "INVALID_FIELD", "", "", ""};
  for (int i = 0; i < 2000; ++i) {
    e.violations.push_back({"items[" + std::to_string(i) + "].sku", "is required"});
  }
  RequireRoundTrip(e);
  e.violations.clear();
  for (int i = 0; i < 40; ++i) {
    e.violations.push_back({"lines[" + std::to_string(i) + "]", std::string(290 + i, 'd')});
  }
  RequireRoundTrip(e);
}

BOOST_AUTO_TEST_CASE(from_grpc_status_round_trips_random_errors) {
  std::mt19937 rng(20251202);
  auto text = [&](size_t max) {
    std::string s(std::uniform_int_distribution<size_t>(0, max)(rng), 'a');
    for (char& c : s) c = "ab;: .xyz"[rng() % 9];
    return s;
  };
  const Errc codes[] = {Errc::kInvalidArgument, Errc::kNotFound, Errc::kAlreadyExists,
                        Errc::kFailedPrecondition, Errc::kAborted, Errc::kUnavailable,
                        Errc::kDeadlineExceeded, Errc::kPermissionDenied};
  for (int round = 0; round < 3000; ++round) {
    Error e{codes[rng() % 8], text(40), text(rng() % 4 == 0 ? 900 : 120), "", text(30)};
    if (rng() % 2 == 0) e.field = "f" + text(rng() % 8 == 0 ? 300 : 20);
    if (e.code == Errc::kInvalidArgument && rng() % 2 == 0) {
      const int n = 1 + static_cast<int>(rng() % (rng() % 4 == 0 ? 60 : 5));
      for (int i = 0; i < n; ++i) {
        e.violations.push_back({"v" + std::to_string(i) + text(rng() % 8 == 0 ? 200 : 10),
                                text(rng() % 4 == 0 ? 600 : 60)});
      }
    }
    if (rng() % 3 == 0) e.metadata = {{"rule_id", text(10)}, {"z", text(300)}};
    BOOST_TEST_CONTEXT("round " << round) { RequireRoundTrip(e); }
  }
}

BOOST_AUTO_TEST_CASE(from_grpc_status_of_grpc_own_status_keeps_code_and_message) {
  Error e = FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused"));
  BOOST_TEST(static_cast<int>(e.code) == static_cast<int>(Errc::kUnavailable));
  BOOST_TEST(e.reason.empty());
  BOOST_TEST(e.message == "connection refused");
  e = FromGrpcStatus(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"));
  BOOST_TEST(static_cast<int>(e.code) == static_cast<int>(Errc::kDeadlineExceeded));
  e = FromGrpcStatus(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, ""));
  BOOST_TEST(static_cast<int>(e.code) == static_cast<int>(Errc::kUnavailable));
}

}  // namespace
}  // namespace collections
