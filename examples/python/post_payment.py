#!/usr/bin/env python3
"""Posts a payment, retries it safely, and reads the balance with read-your-writes.

  .local/venv/bin/python examples/python/post_payment.py
"""

from collections_client.v1 import case_service_pb2 as cs
from collections_client.v1 import common_pb2

import example_common as ex


def main() -> None:
    stub = ex.commands("admin")
    account_id = ex.new_id("ACC")
    ex.open_case(stub, account_id)

    payment = cs.PostPaymentRequest(
        command_id=ex.new_id("pay"), account_id=account_id, payment_id="P1",
        amount=common_pb2.Money(amount_minor=30000, currency="USD"),
        method=common_pb2.PAYMENT_METHOD_ACH)
    reply = stub.PostPayment(payment, timeout=10)
    print(f"payment posted: version {reply.version}, "
          f"position {reply.position.partition}/{reply.position.offset}")

    # A retry with the same command_id (after a timeout, UNAVAILABLE ...) never pays twice: the
    # service answers with the original reply.
    again = stub.PostPayment(payment, timeout=10)
    assert again.deduplicated and again.version == reply.version, again
    print("retry with the same command_id: deduplicated, nothing appended")

    account = ex.queries("admin").GetAccount(
        cs.GetAccountRequest(account_id=account_id, min_position=reply.position), timeout=10)
    b = account.balances
    print(f"balances now: principal {b.principal_minor / 100:.2f}, fees {b.fees_minor / 100:.2f}")
    # The default allocation is the oldest component first: principal, interest, fees, costs.
    assert (b.principal_minor, b.fees_minor) == (70000, 2500), b


if __name__ == "__main__":
    main()
