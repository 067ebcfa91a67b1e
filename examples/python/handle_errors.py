#!/usr/bin/env python3
"""Each kind of error the service answers, provoked on purpose, and how to read it with
collections_client.details(): the code says what to do, ErrorInfo.reason says why, and the
other details say where (field violations), which rule, what was missing, when to retry.

  .local/venv/bin/python examples/python/handle_errors.py
"""

import grpc

from collections_client import details
from collections_client.v1 import case_service_pb2 as cs
from collections_client.v1 import common_pb2, events_pb2

import example_common as ex


def expect_error(call, code: grpc.StatusCode, reason: str = ""):
    try:
        call()
    except grpc.RpcError as e:
        d = details(e)
        assert d.code == code, (d.code, d.message)
        assert not reason or d.reason == reason, (d.reason, d.message)
        assert d.has_status_details and d.domain == "collections.v1", d
        return d
    raise SystemExit(f"expected {code.name}, the call succeeded")


def payment(account_id: str, command_id: str, amount: int, currency: str = "USD"):
    return cs.PostPaymentRequest(
        command_id=command_id, account_id=account_id, payment_id="P1",
        amount=common_pb2.Money(amount_minor=amount, currency=currency),
        method=common_pb2.PAYMENT_METHOD_ACH)


def main() -> None:
    admin = ex.commands("admin")
    account_id = ex.new_id("ACC")
    opened = ex.open_case(admin, account_id)

    # INVALID_ARGUMENT: every wrong field is listed, by its path in the request. Fix the
    # request; retrying it unchanged fails the same way.
    bad = cs.PostPaymentRequest(command_id=ex.new_id("pay"), account_id=account_id,
                                amount=common_pb2.Money(amount_minor=-5, currency="XYZ"))
    d = expect_error(lambda: admin.PostPayment(bad, timeout=10), grpc.StatusCode.INVALID_ARGUMENT)
    print(f"INVALID_ARGUMENT: {len(d.field_violations)} fields: {', '.join(d.fields)}")
    assert {"amount.currency", "payment_id"} <= set(d.fields), d.fields

    # ABORTED / VERSION_MISMATCH: optimistic concurrency. Re-read the account and decide again.
    stale = payment(account_id, ex.new_id("pay"), 1000)
    stale.expected_version = opened.version + 5
    d = expect_error(lambda: admin.PostPayment(stale, timeout=10), grpc.StatusCode.ABORTED,
                     "VERSION_MISMATCH")
    print(f"ABORTED: {d.reason} {d.metadata}")

    # ALREADY_EXISTS / COMMAND_ID_REUSED: a command id names one request, forever.
    command_id = ex.new_id("pay")
    admin.PostPayment(payment(account_id, command_id, 1000), timeout=10)
    d = expect_error(lambda: admin.PostPayment(payment(account_id, command_id, 2000), timeout=10),
                     grpc.StatusCode.ALREADY_EXISTS, "COMMAND_ID_REUSED")
    print(f"ALREADY_EXISTS: {d.reason}")

    # NOT_FOUND: ResourceInfo names what is missing.
    reversal = cs.ReversePaymentRequest(command_id=ex.new_id("rev"), account_id=account_id,
                                        payment_id="NO-SUCH-PAYMENT",
                                        reason=common_pb2.REVERSAL_REASON_NSF)
    d = expect_error(lambda: admin.ReversePayment(reversal, timeout=10), grpc.StatusCode.NOT_FOUND)
    print(f"NOT_FOUND: {d.reason} {d.resource_type} {d.resource_name}")

    # PERMISSION_DENIED: the caller's certificate maps to a role that may not call this RPC.
    dialer = ex.commands("dialer-1")
    d = expect_error(lambda: dialer.PostPayment(payment(account_id, ex.new_id("pay"), 1000),
                                                timeout=10),
                     grpc.StatusCode.PERMISSION_DENIED, "RPC_NOT_ALLOWED")
    print(f"PERMISSION_DENIED: {d.reason} as {d.metadata.get('principal')} "
          f"(role {d.metadata.get('role')})")

    # FAILED_PRECONDITION with a compliance rule: the consumer asked not to be contacted
    # (cease communication); ErrorInfo.reason is the rule id, PreconditionFailure says more.
    admin.UpdateFlag(cs.UpdateFlagRequest(
        command_id=ex.new_id("flag"), account_id=account_id, reason="written cease letter",
        cease_communication=events_pb2.CeaseCommunication(in_effect=True, written=True)),
        timeout=10)
    call = cs.RecordContactAttemptRequest(
        command_id=ex.new_id("call"), account_id=account_id, contact_id=ex.new_id("C"),
        channel=common_pb2.CONTACT_CHANNEL_CALL, direction=common_pb2.CONTACT_DIRECTION_OUTBOUND,
        address="+13125550100", phone_type=common_pb2.PHONE_TYPE_CELL,
        outcome=common_pb2.CONTACT_OUTCOME_NO_ANSWER)
    d = expect_error(lambda: dialer.RecordContactAttempt(call, timeout=10),
                     grpc.StatusCode.FAILED_PRECONDITION)
    print(f"FAILED_PRECONDITION: rule {d.reason}: {d.message}; allowed from: "
          f"{d.allowed_from or 'not while the flag stands'}")

    # UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED: retry later with the same
    # command_id; RetryInfo (d.retry_delay) says how long to wait when the service knows.
    print(f"retryable kinds: UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED "
          f"(this one: {d.retryable})")


if __name__ == "__main__":
    main()
