#!/usr/bin/env python3
"""Verify an exported event history with the service's public key alone.

Written for examiners from the README, with no code of the project: it needs Python 3, the
`protobuf` and `cryptography` packages, the contract's descriptor set (collections.desc,
built from proto/ by `protoc --include_imports --descriptor_set_out=collections.desc`, or the
build's build/collections.desc) and the writer's public key (an Ed25519 PEM).

Input: JSON lines, one collections.v1.AuditEntry each, as `collectionsctl export ... --format
jsonl` writes them (each entry's `envelope` is the event exactly as it is in the log).

For every account, in sequence order, it checks:
  1. sequences follow each other without gaps, from 1 (or from the first exported one);
  2. prev_hash is the previous event's hash;
  3. hash = SHA-256(prev_hash || deterministic protobuf bytes of the envelope with `hash` and
     `signature` cleared);
  4. every event is covered by an Ed25519 signature of the writer: the signature on an event
     covers it and the signature.event_count - 1 events before it, over
     b"collections.v1.EventSignature" + b"\\0" + SHA-256(hash_1 || ... || hash_n).

Prints one line per problem and a summary. Exit status 0: every event verified; 1: something
did not; 2: the input or the key could not be read.

  verify_export.py --descriptor-set collections.desc --public-key writer-signing.pub.pem export.jsonl
"""

import argparse
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

SIGNATURE_CONTEXT = b"collections.v1.EventSignature\x00"


def load_types(descriptor_set_path):
    with open(descriptor_set_path, "rb") as f:
        files = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in files.file:
        pool.Add(fd)
    factory = message_factory.MessageFactory(pool)
    entry = factory.GetPrototype(pool.FindMessageTypeByName("collections.v1.AuditEntry"))
    return entry


def load_key(path):
    with open(path, "rb") as f:
        key = serialization.load_pem_public_key(f.read())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key, hashlib.sha256(raw).hexdigest()[:16]


def chain_hash(envelope):
    copy = type(envelope)()
    copy.CopyFrom(envelope)
    copy.ClearField("hash")
    copy.ClearField("signature")
    return hashlib.sha256(envelope.prev_hash + copy.SerializeToString(deterministic=True)).digest()


def verify(entries, key, key_id, out):
    """Returns the number of problems found; `entries` are AuditEntry messages."""
    by_account = {}
    for e in entries:
        by_account.setdefault(e.envelope.account_id, []).append(e.envelope)
    problems = 0
    events = 0

    def problem(account, sequence, what):
        nonlocal problems
        problems += 1
        print(f"{account} sequence {sequence}: {what}", file=out)

    for account in sorted(by_account):
        envs = sorted(by_account[account], key=lambda e: e.sequence)
        previous = None
        pending = []  # (sequence, hash) not yet covered by a signature
        for env in envs:
            events += 1
            if previous is not None:
                if env.sequence != previous.sequence + 1:
                    problem(account, env.sequence, f"gap: follows sequence {previous.sequence}")
                if env.prev_hash != previous.hash:
                    problem(account, env.sequence, "prev_hash is not the previous event's hash")
            elif env.sequence == 1 and env.prev_hash:
                problem(account, env.sequence, "the first event has a prev_hash")
            if chain_hash(env) != env.hash:
                problem(account, env.sequence, "hash does not match the event's contents")
            pending.append((env.sequence, env.hash))
            if env.HasField("signature"):
                s = env.signature
                n = s.event_count
                if s.algorithm != "Ed25519":
                    problem(account, env.sequence, f"signature algorithm {s.algorithm!r}")
                elif s.key_id != key_id:
                    problem(account, env.sequence,
                            f"signed with key {s.key_id}, not the given key {key_id}")
                elif n < 1 or n > len(pending):
                    problem(account, env.sequence,
                            f"signature claims {n} events, {len(pending)} are unsigned")
                else:
                    digest = hashlib.sha256(b"".join(h for _, h in pending[-n:])).digest()
                    try:
                        key.verify(s.signature, SIGNATURE_CONTEXT + digest)
                        for seq, _ in pending[:-n]:
                            problem(account, seq, "covered by no signature")
                        pending = []
                    except InvalidSignature:
                        problem(account, env.sequence, "Ed25519 signature does not verify")
            previous = env
        for seq, _ in pending:
            problem(account, seq, "covered by no signature")
    print(f"{'VERIFIED' if problems == 0 else 'FAILED'}: {events} events, "
          f"{len(by_account)} accounts, {problems} problem(s)", file=out)
    return problems


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--descriptor-set", required=True)
    parser.add_argument("--public-key", required=True)
    parser.add_argument("export", help="JSON lines of collections.v1.AuditEntry ('-' = stdin)")
    args = parser.parse_args(argv)
    try:
        entry_type = load_types(args.descriptor_set)
        key, key_id = load_key(args.public_key)
        stream = sys.stdin if args.export == "-" else open(args.export, encoding="utf-8")
        entries = []
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            entry = entry_type()
            try:
                json_format.Parse(line, entry)
            except json_format.ParseError as e:
                raise ValueError(f"line {number}: {e}") from e
            entries.append(entry)
    except (OSError, ValueError, KeyError) as e:
        print(f"verify_export: {e}", file=sys.stderr)
        return 2
    return 0 if verify(entries, key, key_id, sys.stdout) == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
