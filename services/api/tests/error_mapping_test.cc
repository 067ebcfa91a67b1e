#define BOOST_TEST_MODULE error_mapping
#include "services/api/error_mapping.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

#include <boost/test/unit_test.hpp>

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

}  // namespace
}  // namespace collections
