"""The built package as a service team gets it: importable next to Python's standard library
`collections`, the contract's names and RPCs, the descriptor set, and the error-details helper.

Run by tests/run_package_test.sh against the wheel clients/python/build.sh produced.
"""

import datetime
import subprocess
import sys
import unittest

import grpc
from google.protobuf import any_pb2, descriptor_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2


class ImportTest(unittest.TestCase):
    def test_stdlib_collections_survives_in_either_import_order(self):
        for order in ("import collections, collections.abc, collections_client.v1.case_service_pb2",
                      "import collections_client.v1.case_service_pb2, collections, collections.abc"):
            script = (order + "\n"
                      "import collections_client.v1.events_pb2 as events\n"
                      "assert collections.OrderedDict([(1, 2)])[1] == 2\n"
                      "assert issubclass(list, collections.abc.Sequence)\n"
                      "assert 'collections.v1' not in __import__('sys').modules\n"
                      "print(collections.__file__)\n")
            out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertNotIn("collections_client", out.stdout)  # the stdlib's file, not ours

    def test_generated_modules_import_each_other_by_the_package_name(self):
        from collections_client.v1 import case_service_pb2, events_pb2
        self.assertEqual(case_service_pb2.OpenCaseRequest.DESCRIPTOR.full_name,
                         "collections.v1.OpenCaseRequest")
        self.assertEqual(events_pb2.EventEnvelope.__module__, "collections_client.v1.events_pb2")


class ContractTest(unittest.TestCase):
    def test_messages_round_trip(self):
        from collections_client.v1 import case_service_pb2 as cs
        request = cs.PostPaymentRequest(command_id="c2", account_id="ACC-1", payment_id="P1")
        request.amount.amount_minor = 30000
        request.amount.currency = "USD"
        again = cs.PostPaymentRequest.FromString(request.SerializeToString())
        self.assertEqual(again, request)

    def test_decision_outcome_is_an_enum_with_overridden(self):
        from collections_client.v1 import events_pb2
        self.assertEqual(events_pb2.DecisionOutcome.Name(5), "DECISION_OUTCOME_OVERRIDDEN")
        decision = events_pb2.ComplianceDecision(outcome="OVERRIDDEN",
                                                 outcome_code=events_pb2.DECISION_OUTCOME_OVERRIDDEN)
        self.assertEqual(decision.outcome_code, 5)
        self.assertTrue(hasattr(decision, "allowed_from"))

    def test_every_rpc_has_a_stub_method(self):
        from collections_client.v1 import (case_service_pb2, case_service_pb2_grpc,
                                           compliance_service_pb2, compliance_service_pb2_grpc,
                                           reporting_service_pb2, reporting_service_pb2_grpc)
        channel = grpc.insecure_channel("127.0.0.1:1")  # lazy: nothing connects
        for module, grpc_module in ((case_service_pb2, case_service_pb2_grpc),
                                    (compliance_service_pb2, compliance_service_pb2_grpc),
                                    (reporting_service_pb2, reporting_service_pb2_grpc)):
            for service in module.DESCRIPTOR.services_by_name.values():
                stub = getattr(grpc_module, service.name + "Stub")(channel)
                for method in service.methods:
                    self.assertTrue(callable(getattr(stub, method.name)), method.full_name)
        self.assertIn("PostPayment",
                      case_service_pb2.DESCRIPTOR.services_by_name["CaseCommandService"].methods_by_name)
        channel.close()

    def test_descriptor_set_is_shipped_and_complete(self):
        import collections_client
        from collections_client.v1 import events_pb2
        files = descriptor_pb2.FileDescriptorSet()
        with open(collections_client.DESCRIPTOR_SET, "rb") as f:
            files.ParseFromString(f.read())
        names = {f.name for f in files.file}
        self.assertIn("collections/v1/events.proto", names)
        self.assertIn("google/protobuf/timestamp.proto", names)  # imports included
        events = next(f for f in files.file if f.name == "collections/v1/events.proto")
        self.assertIn("DecisionOutcome", [e.name for e in events.enum_type])
        # The same contract the generated code was built from.
        generated = descriptor_pb2.FileDescriptorProto()
        events_pb2.DESCRIPTOR.CopyToProto(generated)
        self.assertEqual([m.name for m in generated.message_type],
                         [m.name for m in events.message_type])


class FakeError(grpc.RpcError):
    def __init__(self, code, message, status=None):
        self._code, self._message, self._status = code, message, status

    def code(self):
        return self._code

    def details(self):
        return self._message

    def trailing_metadata(self):
        if self._status is None:
            return ()
        return (("grpc-status-details-bin", self._status.SerializeToString()),)


def pack(message):
    out = any_pb2.Any()
    out.Pack(message)
    return out


class ErrorDetailsTest(unittest.TestCase):
    def test_every_detail_kind_is_decoded(self):
        from collections_client import errors
        status = status_pb2.Status(code=9, message="F1: cap reached")
        status.details.append(pack(error_details_pb2.ErrorInfo(
            reason="F1", domain="collections.v1",
            metadata={"allowed_from": "2025-10-13T05:00:00Z",
                      "allowed_from_local": "2025-10-13T00:00 America/Chicago"})))
        bad = error_details_pb2.BadRequest()
        bad.field_violations.add(field="amount.currency", description="not an ISO 4217 code")
        bad.field_violations.add(field="payment_id", description="required")
        status.details.append(pack(bad))
        pre = error_details_pb2.PreconditionFailure()
        pre.violations.add(type="COMPLIANCE", subject="ACC-1", description="F1")
        status.details.append(pack(pre))
        status.details.append(pack(error_details_pb2.ResourceInfo(resource_type="account",
                                                                  resource_name="ACC-9")))
        status.details.append(pack(error_details_pb2.RetryInfo(
            retry_delay=duration_pb2.Duration(seconds=1, nanos=500000000))))
        d = errors.details(FakeError(grpc.StatusCode.FAILED_PRECONDITION, "F1: cap reached", status))
        self.assertTrue(d.has_status_details)
        self.assertEqual((d.code, d.reason, d.domain), (grpc.StatusCode.FAILED_PRECONDITION, "F1",
                                                        "collections.v1"))
        self.assertEqual(d.fields, ["amount.currency", "payment_id"])
        self.assertEqual(d.precondition_violations[0].description, "F1")
        self.assertEqual((d.resource_type, d.resource_name), ("account", "ACC-9"))
        self.assertEqual(d.retry_delay, datetime.timedelta(seconds=1.5))
        self.assertEqual(d.allowed_from, datetime.datetime(2025, 10, 13, 5, tzinfo=datetime.timezone.utc))
        self.assertEqual(d.metadata["allowed_from_local"], "2025-10-13T00:00 America/Chicago")
        self.assertFalse(d.retryable)

    def test_an_error_without_details_is_still_readable(self):
        from collections_client import details
        d = details(FakeError(grpc.StatusCode.UNAVAILABLE, "failed to connect"))
        self.assertFalse(d.has_status_details)
        self.assertEqual(d.reason, "")
        self.assertIsNone(d.allowed_from)
        self.assertTrue(d.retryable)


if __name__ == "__main__":
    unittest.main()
