// CustomerQueryService through the real server (broker, RocksDB, mutual TLS, the shipped role
// matrix): the service is registered, its health name answers, reads are authorized per role,
// bad requests name their fields, and a customer nobody opened is NOT_FOUND.
//
// No call of the running service appends a customer event yet (the customer commands are a
// separate change), so the figures a customer shows are tested on the projection itself
// (projections/customer/tests/customer_projection_test.cc); once the commands exist, the
// lifecycle through gRPC belongs here.
#define BOOST_TEST_MODULE customer_query
#include "tests/support/harness.h"

#include "collections/v1/customer_query_service.grpc.pb.h"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>

namespace collections::testing {
namespace {

grpc::Status Ask(v1::CustomerQueryService::Stub& stub, const v1::GetCustomerRequest& request,
                 v1::GetCustomerResponse* reply) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return stub.GetCustomer(&context, request, reply);
}

grpc::Status Ask(v1::CustomerQueryService::Stub& stub,
                 const v1::GetCustomerReconciliationRequest& request,
                 v1::GetCustomerReconciliationResponse* reply) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return stub.GetCustomerReconciliation(&context, request, reply);
}

v1::LocalDate Date(int y, int m, int d) {
  v1::LocalDate date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

BOOST_AUTO_TEST_CASE(customer_queries_are_served_authorized_and_validated) {
  TempDir dir;
  TestService service(TestOptions("customer-query", dir.path));
  // Health: the customer projection has caught up with the (new) topic.
  int health = 0;
  for (int i = 0; i < 100 && health != 1; ++i) {
    health = HealthStatus(service.app().address(), ServerApp::kCustomerQueryService);
    if (health != 1) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_TEST(health == 1);

  auto collector = v1::CustomerQueryService::NewStub(service.channel_as("collector-1"));
  auto reader = v1::CustomerQueryService::NewStub(service.channel_as("reporting-reader"));
  auto dialer = v1::CustomerQueryService::NewStub(service.channel_as("dialer-1"));

  v1::GetCustomerRequest get;
  get.set_customer_id("C-NOBODY");
  v1::GetCustomerResponse customer;
  grpc::Status s = Ask(*collector, get, &customer);
  BOOST_TEST(s.error_code() == grpc::StatusCode::NOT_FOUND, s.error_message());
  BOOST_TEST(ErrorReason(s) == "CUSTOMER_NOT_FOUND");

  // The dialer reads no customers; the reporting reader reads statements, not customers.
  s = Ask(*dialer, get, &customer);
  BOOST_TEST(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  s = Ask(*reader, get, &customer);
  BOOST_TEST(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);

  v1::GetCustomerReconciliationRequest statement;
  statement.set_customer_id("C-NOBODY");
  *statement.mutable_from() = Date(2025, 10, 1);
  *statement.mutable_to() = Date(2025, 10, 31);
  v1::GetCustomerReconciliationResponse reconciliation;
  s = Ask(*reader, statement, &reconciliation);
  BOOST_TEST(s.error_code() == grpc::StatusCode::NOT_FOUND, s.error_message());

  // A period that ends before it starts: INVALID_ARGUMENT naming `to`.
  *statement.mutable_to() = Date(2025, 9, 1);
  s = Ask(*reader, statement, &reconciliation);
  BOOST_TEST(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(BadRequestField(s) == "to");

  // Nobody on hold, nobody past due: empty answers, not errors.
  {
    grpc::ClientContext context;
    v1::GetShutdownReportRequest request;
    request.set_format(v1::REPORT_FORMAT_CSV);
    v1::GetShutdownReportResponse report;
    s = reader->GetShutdownReport(&context, request, &report);
    BOOST_TEST(s.ok(), s.error_message());
    BOOST_TEST(report.entries_size() == 0);
    BOOST_TEST(report.document().starts_with("customer_id,name,hold_id,status,"));
  }
  {
    grpc::ClientContext context;
    v1::GetCustomerWorkQueueRequest request;
    v1::GetCustomerWorkQueueResponse queue;
    s = collector->GetCustomerWorkQueue(&context, request, &queue);
    BOOST_TEST(s.ok(), s.error_message());
    BOOST_TEST(queue.items_size() == 0);
  }
}

}  // namespace
}  // namespace collections::testing
