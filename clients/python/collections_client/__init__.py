"""Client for the collections case service (the collections.v1 gRPC contract).

The generated messages and stubs are in ``collections_client.v1`` (``case_service_pb2``,
``case_service_pb2_grpc``, ``events_pb2`` ...). Their proto package is ``collections.v1``:
the full names (``collections.v1.OpenCaseRequest``) and the descriptor pool entries are the
contract's, only the Python import path differs, so Python's standard library ``collections``
stays importable next to this package.
"""

from __future__ import annotations

import os
from typing import Optional

import grpc

from collections_client import errors  # noqa: F401  (re-exported: collections_client.errors)
from collections_client.errors import ErrorDetails, details  # noqa: F401

__all__ = ["connect", "command_id", "DESCRIPTOR_SET", "ErrorDetails", "details", "errors"]

#: The descriptor set (FileDescriptorSet with imports and source info) of the contract this
#: package was generated from: decode events or build dynamic clients from it.
DESCRIPTOR_SET = os.path.join(os.path.dirname(__file__), "collections.desc")


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def connect(target: str, *, ca: str, cert: str, key: str,
            options: Optional[list] = None) -> grpc.Channel:
    """Returns a channel to ``target`` ("host:port") with mutual TLS.

    ``ca`` is the PEM file of the CA that signed the server's certificate; ``cert`` and
    ``key`` are the caller's client certificate and key (the service identifies the caller by
    this certificate and authorises it by its role). The channel connects lazily.
    """
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read(ca), private_key=_read(key), certificate_chain=_read(cert))
    return grpc.secure_channel(target, credentials, options=options or [])


def command_id(prefix: str = "cmd") -> str:
    """Returns a fresh idempotency key: keep it and send it again when retrying a command."""
    import uuid
    return f"{prefix}-{uuid.uuid4()}"
