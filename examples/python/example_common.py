"""What every example shares: where the service is, whose certificate to present, and a case
to work on. The service is the one deploy/up.sh starts unless the environment says otherwise:

  COLLECTIONS_TARGET  host:port of the service            [127.0.0.1:50051]
  COLLECTIONS_CERTS   directory of ca.pem and <principal>.pem/.key   [.local/certs]
"""

import datetime
import os
import uuid
import zoneinfo

from collections_client import connect
from collections_client.v1 import case_service_pb2 as cs
from collections_client.v1 import case_service_pb2_grpc as cs_grpc
from collections_client.v1 import common_pb2

TARGET = os.environ.get("COLLECTIONS_TARGET", "127.0.0.1:50051")
CERTS = os.environ.get("COLLECTIONS_CERTS", ".local/certs")


def channel(principal: str):
    """A mutual-TLS channel as `principal` (its certificate is who the service sees)."""
    return connect(TARGET, ca=f"{CERTS}/ca.pem", cert=f"{CERTS}/{principal}.pem",
                   key=f"{CERTS}/{principal}.key")


def commands(principal: str = "admin") -> cs_grpc.CaseCommandServiceStub:
    return cs_grpc.CaseCommandServiceStub(channel(principal))


def queries(principal: str = "admin") -> cs_grpc.CaseQueryServiceStub:
    return cs_grpc.CaseQueryServiceStub(channel(principal))


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def daytime_zone() -> str:
    """A consumer time zone where it is early afternoon now, so that the time-of-day rule (no
    calls before 08:00 or after 21:00 the consumer's time) lets the examples call whenever they
    run. Real cases use the consumer's real zone."""
    utc_hour = datetime.datetime.now(datetime.timezone.utc).hour
    offset = 13 - utc_hour  # local = UTC + offset
    offset = (offset + 12) % 24 - 12  # -12 .. 11
    # Etc/GMT zones are named with the opposite sign: Etc/GMT-5 is UTC+5.
    name = "Etc/GMT" if offset == 0 else f"Etc/GMT{'+' if offset < 0 else '-'}{abs(offset)}"
    zoneinfo.ZoneInfo(name)  # exists
    return name


def open_case(stub: cs_grpc.CaseCommandServiceStub, account_id: str, phone: str = "+13125550100"):
    """Opens a case with a principal of 1000.00 and fees of 25.00 and one cell phone, for a
    third-party collector (Regulation F's rules apply)."""
    request = cs.OpenCaseRequest(
        command_id=new_id("open"), account_id=account_id, creditor="Acme Bank",
        debtor_name="Jane Doe", currency="USD", time_zone=daytime_zone(),
        third_party_collector=True, jurisdiction="IL",  # Regulation F applies
        balances=common_pb2.Balances(principal_minor=100000, fees_minor=2500),
        due_date=common_pb2.LocalDate(year=2025, month=9, day=1))
    request.contact_points.phones.add(number=phone, type=common_pb2.PHONE_TYPE_CELL)
    return stub.OpenCase(request, timeout=10)
