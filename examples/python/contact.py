#!/usr/bin/env python3
"""A dialer's call: ask (CheckContact), reserve (ReserveContact), call, record the attempt
with the reservation; then a blocked call and a compliance officer's override.

  .local/venv/bin/python examples/python/contact.py
"""

import grpc

from collections_client import details
from collections_client.v1 import case_service_pb2 as cs
from collections_client.v1 import account_pb2, common_pb2, events_pb2

import example_common as ex

PHONE = "+13125550100"


def call(account_id: str, **extra) -> cs.RecordContactAttemptRequest:
    return cs.RecordContactAttemptRequest(
        command_id=ex.new_id("call"), account_id=account_id, contact_id=ex.new_id("C"),
        channel=common_pb2.CONTACT_CHANNEL_CALL, direction=common_pb2.CONTACT_DIRECTION_OUTBOUND,
        address=PHONE, phone_type=common_pb2.PHONE_TYPE_CELL,
        outcome=common_pb2.CONTACT_OUTCOME_NO_ANSWER, **extra)


def main() -> None:
    account_id = ex.new_id("ACC")
    ex.open_case(ex.commands("admin"), account_id, PHONE)
    dialer = ex.commands("dialer-1")

    check = dialer.CheckContact(cs.CheckContactRequest(
        account_id=account_id, channel=common_pb2.CONTACT_CHANNEL_CALL, address=PHONE,
        phone_type=common_pb2.PHONE_TYPE_CELL), timeout=10)
    print(f"check: allowed={check.allowed} "
          f"outcome={events_pb2.DecisionOutcome.Name(check.decision.outcome_code)}")
    assert check.allowed

    reserved = dialer.ReserveContact(cs.ReserveContactRequest(
        command_id=ex.new_id("reserve"), account_id=account_id, reservation_id="R1",
        channel=common_pb2.CONTACT_CHANNEL_CALL, address=PHONE,
        phone_type=common_pb2.PHONE_TYPE_CELL), timeout=10)
    assert reserved.decision.outcome_code == events_pb2.DECISION_OUTCOME_ALLOW, reserved.decision
    print(f"reserved R1: counts against the caps from now (version {reserved.version})")
    recorded = dialer.RecordContactAttempt(call(account_id, reservation_id="R1"), timeout=10)
    print(f"call recorded against R1: version {recorded.version}")

    # The consumer names an attorney: calling the consumer is now blocked (rule F5).
    admin = ex.commands("admin")
    admin.UpdateFlag(cs.UpdateFlagRequest(
        command_id=ex.new_id("flag"), account_id=account_id, reason="consumer named an attorney",
        attorney=events_pb2.AttorneyRepresentation(
            represented=True, attorney=account_pb2.AttorneyContact(name="Sam Lawyer",
                                                                  phone="+13125550199"))),
        timeout=10)
    try:
        dialer.RecordContactAttempt(call(account_id), timeout=10)
        raise SystemExit("the call should have been blocked")
    except grpc.RpcError as e:
        d = details(e)
        assert d.code == grpc.StatusCode.FAILED_PRECONDITION and d.reason == "F5", d
        print(f"blocked: {d.reason} ({d.message})")

    # A compliance officer authorises one call; it then goes through, reported OVERRIDDEN.
    ex.commands("compliance-officer-1").AuthorizeOverride(cs.AuthorizeOverrideRequest(
        command_id=ex.new_id("override"), account_id=account_id, override_id="OV1",
        rule_id="F5", command="RecordContactAttempt",
        reason="attorney did not respond in 30 days (documented)"), timeout=10)
    check = dialer.CheckContact(cs.CheckContactRequest(
        account_id=account_id, channel=common_pb2.CONTACT_CHANNEL_CALL, address=PHONE,
        phone_type=common_pb2.PHONE_TYPE_CELL), timeout=10)
    assert check.allowed and check.decision.outcome_code == events_pb2.DECISION_OUTCOME_OVERRIDDEN
    overridden = dialer.RecordContactAttempt(call(account_id), timeout=10)
    decision = overridden.decision
    assert decision.outcome_code == events_pb2.DECISION_OUTCOME_OVERRIDDEN, decision
    assert decision.outcome == "OVERRIDDEN" and decision.override_id == "OV1", decision
    print(f"override OV1 used: outcome {events_pb2.DecisionOutcome.Name(decision.outcome_code)}, "
          f"rule {decision.rule_id}")


if __name__ == "__main__":
    main()
