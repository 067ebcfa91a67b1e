#define BOOST_TEST_MODULE admission
#include "services/api/admission.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

#include <boost/test/unit_test.hpp>
#include <memory>
#include <variant>

namespace collections {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1760000000);

google::rpc::Status Details(const grpc::Status& status) {
  google::rpc::Status d;
  BOOST_REQUIRE(d.ParseFromString(status.error_details()));
  return d;
}

template <typename Detail>
bool Find(const grpc::Status& status, Detail* out) {
  const google::rpc::Status details = Details(status);
  for (const auto& any : details.details()) {
    if (any.UnpackTo(out)) return true;
  }
  return false;
}

BOOST_AUTO_TEST_CASE(token_bucket_allows_the_burst_then_the_rate) {
  TokenBucket bucket(/*rate=*/10, /*burst=*/3, kStart);
  for (int i = 0; i < 3; ++i) BOOST_TEST(bucket.Take(kStart) == absl::ZeroDuration());
  // Empty: the next token comes in 1/10 s.
  BOOST_TEST(bucket.Take(kStart) == absl::Milliseconds(100));
  BOOST_TEST(bucket.Take(kStart + absl::Milliseconds(100)) == absl::ZeroDuration());
  BOOST_TEST(bucket.Take(kStart + absl::Milliseconds(100)) > absl::ZeroDuration());
  // A long pause refills it only up to the burst.
  const absl::Time later = kStart + absl::Hours(1);
  for (int i = 0; i < 3; ++i) BOOST_TEST(bucket.Take(later) == absl::ZeroDuration());
  BOOST_TEST(bucket.Take(later) > absl::ZeroDuration());
}

BOOST_AUTO_TEST_CASE(each_principal_has_its_own_bucket_and_a_refusal_says_when_to_retry) {
  absl::Time now = kStart;
  AdmissionOptions options;
  options.rate_per_second = 2;
  options.burst = 2;
  Admission admission(options, [&] { return now; });
  std::string caller = "ipv4:10.0.0.1";
  admission.SetPrincipalResolver([&](const grpc::ServerContextBase&) { return caller; });
  grpc::ServerContext context;  // not a live call: the resolver above never looks at it

  BOOST_TEST(!admission.Admit(context, nullptr).has_value());
  BOOST_TEST(!admission.Admit(context, nullptr).has_value());
  auto refused = admission.Admit(context, nullptr);
  BOOST_REQUIRE(refused.has_value());
  BOOST_TEST(static_cast<int>(refused->error_code()) ==
             static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
  google::rpc::ErrorInfo info;
  BOOST_REQUIRE(Find(*refused, &info));
  BOOST_TEST(info.reason() == "RATE_LIMITED");
  BOOST_TEST(info.metadata().at("principal") == "ipv4:10.0.0.1");
  google::rpc::RetryInfo retry;
  BOOST_REQUIRE(Find(*refused, &retry));
  BOOST_TEST(retry.retry_delay().nanos() == 500000000);  // one token at 2/s
  BOOST_TEST(Details(*refused).message() == refused->error_message());

  // Another caller is not affected by the first one's burst.
  caller = "ipv4:10.0.0.2";
  BOOST_TEST(!admission.Admit(context, nullptr).has_value());
  // The first one may call again once a token is back.
  caller = "ipv4:10.0.0.1";
  now += absl::Milliseconds(500);
  BOOST_TEST(!admission.Admit(context, nullptr).has_value());
}

BOOST_AUTO_TEST_CASE(rate_zero_disables_the_limit) {
  AdmissionOptions options;
  options.rate_per_second = 0;
  Admission admission(options, [] { return kStart; });
  admission.SetPrincipalResolver([](const grpc::ServerContextBase&) { return "p"; });
  grpc::ServerContext context;
  for (int i = 0; i < 10000; ++i) BOOST_REQUIRE(!admission.Admit(context, nullptr).has_value());
}

BOOST_AUTO_TEST_CASE(log_reads_beyond_the_cap_are_refused_until_a_slot_is_released) {
  AdmissionOptions options;
  options.max_log_reads = 2;
  Admission admission(options);
  auto first = std::make_unique<std::variant<Admission::LogReadSlot, grpc::Status>>(
      admission.AcquireLogRead());
  auto second = admission.AcquireLogRead();
  BOOST_REQUIRE(std::holds_alternative<Admission::LogReadSlot>(*first));
  BOOST_REQUIRE(std::holds_alternative<Admission::LogReadSlot>(second));
  {
    auto third = admission.AcquireLogRead();
    BOOST_REQUIRE(std::holds_alternative<grpc::Status>(third));
    const auto& status = std::get<grpc::Status>(third);
    BOOST_TEST(static_cast<int>(status.error_code()) ==
               static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
    google::rpc::ErrorInfo info;
    BOOST_REQUIRE(Find(status, &info));
    BOOST_TEST(info.reason() == "TOO_MANY_LOG_READS");
    BOOST_TEST(info.metadata().at("limit") == "2");
    google::rpc::RetryInfo retry;
    BOOST_TEST(Find(status, &retry));
  }
  first.reset();  // releases the first slot
  BOOST_TEST(admission.log_reads_in_use() == 1);
  BOOST_TEST(std::holds_alternative<Admission::LogReadSlot>(admission.AcquireLogRead()));
}

BOOST_AUTO_TEST_CASE(transport_refusals_are_invalid_argument_with_their_reason) {
  auto malformed = MalformedRequest("collections.v1.GetAccountRequest");
  BOOST_TEST(static_cast<int>(malformed.error_code()) ==
             static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  BOOST_TEST(malformed.error_message().find("not a valid collections.v1.GetAccountRequest") !=
             std::string::npos);
  google::rpc::ErrorInfo info;
  BOOST_REQUIRE(Find(malformed, &info));
  BOOST_TEST(info.reason() == "MALFORMED_REQUEST");

  auto large = RequestTooLarge(5000000, 4194304);
  BOOST_TEST(static_cast<int>(large.error_code()) ==
             static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  BOOST_REQUIRE(Find(large, &info));
  BOOST_TEST(info.reason() == "REQUEST_TOO_LARGE");
  BOOST_TEST(info.metadata().at("limit") == "4194304");
}

}  // namespace
}  // namespace collections
