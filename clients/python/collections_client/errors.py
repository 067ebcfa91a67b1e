"""Reads the rich error details the service attaches to every failed call.

Every error carries a ``google.rpc.Status`` in the ``grpc-status-details-bin`` trailer, with a
``google.rpc.ErrorInfo`` (a stable ``reason`` in domain ``collections.v1``) and, depending on
the error, ``BadRequest`` (one field violation per wrong field), ``PreconditionFailure`` (the
rule that blocks), ``ResourceInfo`` (what was not found) and ``RetryInfo`` (how long to wait).
``details(error)`` turns them into one plain object.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import grpc
from google.rpc import error_details_pb2, status_pb2

_DETAILS_KEY = "grpc-status-details-bin"


@dataclass
class FieldViolation:
    field: str          # the path in the request, e.g. "amount.currency", "instalments[3].due_date"
    description: str


@dataclass
class PreconditionViolation:
    type: str
    subject: str
    description: str


@dataclass
class ErrorDetails:
    """What a failed call says, decoded. Empty fields mean the detail was not sent."""

    code: grpc.StatusCode
    message: str
    reason: str = ""                 # ErrorInfo.reason: VERSION_MISMATCH, F1, RATE_LIMITED ...
    domain: str = ""                 # ErrorInfo.domain: "collections.v1"
    metadata: Dict[str, str] = field(default_factory=dict)   # ErrorInfo.metadata
    field_violations: List[FieldViolation] = field(default_factory=list)      # BadRequest
    precondition_violations: List[PreconditionViolation] = field(default_factory=list)
    resource_type: str = ""          # ResourceInfo (NOT_FOUND)
    resource_name: str = ""
    retry_delay: Optional[datetime.timedelta] = None          # RetryInfo
    has_status_details: bool = False  # False: the trailer was missing (e.g. a TLS failure)

    @property
    def fields(self) -> List[str]:
        """The paths of every wrong field (BadRequest), in the order the service listed them."""
        return [v.field for v in self.field_violations]

    @property
    def allowed_from(self) -> Optional[datetime.datetime]:
        """For a compliance block: when the action becomes allowed (UTC), if the rule knows."""
        text = self.metadata.get("allowed_from", "")
        if not text:
            return None
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)

    @property
    def retryable(self) -> bool:
        """True when the same call (same command_id) may succeed later."""
        return self.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED,
                             grpc.StatusCode.DEADLINE_EXCEEDED)


def status_from_error(error: grpc.RpcError) -> Optional[status_pb2.Status]:
    """Returns the google.rpc.Status of a failed call, or None when it has none."""
    trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in trailers or ():
        if key == _DETAILS_KEY:
            status = status_pb2.Status()
            status.ParseFromString(value)
            return status
    return None


def from_status(code: grpc.StatusCode, message: str,
                status: Optional[status_pb2.Status]) -> ErrorDetails:
    """Decodes a google.rpc.Status (what status_from_error returns) into ErrorDetails."""
    out = ErrorDetails(code=code, message=message)
    if status is None:
        return out
    out.has_status_details = True
    for any_detail in status.details:
        if any_detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            any_detail.Unpack(info)
            out.reason, out.domain, out.metadata = info.reason, info.domain, dict(info.metadata)
        elif any_detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            any_detail.Unpack(bad)
            out.field_violations += [FieldViolation(v.field, v.description)
                                     for v in bad.field_violations]
        elif any_detail.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
            pre = error_details_pb2.PreconditionFailure()
            any_detail.Unpack(pre)
            out.precondition_violations += [
                PreconditionViolation(v.type, v.subject, v.description) for v in pre.violations]
        elif any_detail.Is(error_details_pb2.ResourceInfo.DESCRIPTOR):
            res = error_details_pb2.ResourceInfo()
            any_detail.Unpack(res)
            out.resource_type, out.resource_name = res.resource_type, res.resource_name
        elif any_detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            any_detail.Unpack(retry)
            out.retry_delay = retry.retry_delay.ToTimedelta()
    return out


def details(error: grpc.RpcError) -> ErrorDetails:
    """Returns the decoded details of a failed call (grpc.RpcError from a stub call)."""
    return from_status(error.code(), error.details() or "", status_from_error(error))
