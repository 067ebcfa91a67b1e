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
