#!/usr/bin/env python3
"""Opens a collections case and reads it back with read-your-writes.

  .local/venv/bin/python examples/python/open_case.py [ACCOUNT_ID]
"""

import sys

from collections_client.v1 import case_service_pb2 as cs

import example_common as ex


def main() -> None:
    account_id = sys.argv[1] if len(sys.argv) > 1 else ex.new_id("ACC")
    reply = ex.open_case(ex.commands("admin"), account_id)
    # The position is where the command's last event is in the log: partition and offset.
    # Protobuf leaves out a field at its default, so read it with the accessors (offset 0
    # is a real offset), never by looking for a key in JSON.
    print(f"opened {reply.account_id}: version {reply.version}, "
          f"position {reply.position.partition}/{reply.position.offset}")
    assert reply.version == 1 and not reply.deduplicated

    # Read-your-writes: ask for the account as of at least that position. The service waits
    # (up to the call's deadline) until its projection has applied it.
    account = ex.queries("admin").GetAccount(
        cs.GetAccountRequest(account_id=account_id, min_position=reply.position), timeout=10)
    total = account.balances.principal_minor + account.balances.fees_minor
    print(f"read back: version {account.version}, balance {total / 100:.2f} {account.currency}")
    assert account.version >= reply.version and total == 102500


if __name__ == "__main__":
    main()
