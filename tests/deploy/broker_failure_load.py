#!/usr/bin/env python3
"""Load and bookkeeping for tests/deploy/broker_failure_test.sh (a broker killed under load).

  load   drives OpenCase + PostPayment against a running collections-server with mutual TLS,
         as a careful client does: every command is retried with its own command_id (and the
         same request) while the answer is UNAVAILABLE, DEADLINE_EXCEEDED or
         RESOURCE_EXHAUSTED, until it is acknowledged. Writes one JSON line per acknowledged
         command (account, command id, event ids, first send, acknowledgement) and one per
         refused attempt (time, code, reason) to --journal. Runs until --stop-file exists.
  check  reads the event topic (read_committed, every partition to its end) and compares it
         with the journal: every acknowledged command's events are on the log exactly once,
         nothing is on the log that no one acknowledged, and the topic is replicated as asked
         (replication factor, min.insync.replicas). Prints how long commands were refused
         around --kill-time. Exit 1 when something acknowledged is missing or doubled.

Messages come from the build's descriptor set (build/collections.desc), so no generated code
is needed. Needs grpcio, googleapis-common-protos and confluent-kafka (tests/python/requirements.txt).
"""

import argparse
import collections as std_collections
import json
import os
import sys
import threading
import time

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import consume_events  # noqa: E402  (reading a partition to the end of what was written)

RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
             grpc.StatusCode.RESOURCE_EXHAUSTED}


def message_classes(descriptor_set, names):
    with open(descriptor_set, "rb") as f:
        files = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:  # imports first, as protoc writes them
        pool.Add(file)
    factory = message_factory.MessageFactory(pool)
    return {name: factory.GetPrototype(pool.FindMessageTypeByName(f"collections.v1.{name}"))
            for name in names}


def reason_of(error):
    """The ErrorInfo reason of a refusal (LOG_UNAVAILABLE ...), or its status code name."""
    try:
        from google.rpc import error_details_pb2, status_pb2
        for key, value in error.trailing_metadata() or ():
            if key == "grpc-status-details-bin":
                status = status_pb2.Status.FromString(value)
                for detail in status.details:
                    info = error_details_pb2.ErrorInfo()
                    if detail.Unpack(info):
                        return info.reason
    except Exception:  # the code alone is still a finding
        pass
    return error.code().name


class Journal:
    def __init__(self, path):
        self.file = open(path, "w", encoding="utf-8")
        self.lock = threading.Lock()

    def write(self, record):
        line = json.dumps(record, separators=(",", ":"))
        with self.lock:
            self.file.write(line + "\n")
            self.file.flush()


def load(args):
    classes = message_classes(args.descriptor_set,
                              ["OpenCaseRequest", "PostPaymentRequest", "CommandReply"])
    read = lambda path: open(path, "rb").read()  # noqa: E731
    credentials = grpc.ssl_channel_credentials(
        root_certificates=read(f"{args.certs}/ca.pem"),
        private_key=read(f"{args.certs}/{args.principal}.key"),
        certificate_chain=read(f"{args.certs}/{args.principal}.pem"))
    channel = grpc.secure_channel(args.target, credentials)
    grpc.channel_ready_future(channel).result(timeout=30)
    reply_cls = classes["CommandReply"]
    methods = {
        name: channel.unary_unary(f"/collections.v1.CaseCommandService/{name}",
                                  request_serializer=lambda m: m.SerializeToString(),
                                  response_deserializer=reply_cls.FromString)
        for name in ("OpenCase", "PostPayment")
    }
    journal = Journal(args.journal)
    failures = []

    def open_case(account, command_id):
        return json_format.ParseDict({
            "command_id": command_id, "account_id": account, "creditor": "Failover Bank",
            "debtor_name": "Pat Doe", "currency": "USD", "time_zone": "America/New_York",
            "balances": {"principal_minor": 1000000, "fees_minor": 5000},
            "due_date": {"year": 2025, "month": 9, "day": 1},
            "contact_points": {"phones": [{"number": "+12125550100", "type": "PHONE_TYPE_CELL"}]},
        }, classes["OpenCaseRequest"]())

    def post_payment(account, command_id, step):
        return json_format.ParseDict({
            "command_id": command_id, "account_id": account, "payment_id": f"P{step}",
            "amount": {"amount_minor": 2500, "currency": "USD"},
            "method": "PAYMENT_METHOD_CARD", "reference": "failover",
        }, classes["PostPaymentRequest"]())

    # Sends one command until it is acknowledged; False when it was refused for good.
    def send(method, request):
        first = time.time()
        attempts = 0
        while True:
            attempts += 1
            sent = time.time()
            try:
                reply = methods[method](request, timeout=args.attempt_timeout)
            except grpc.RpcError as error:
                if error.code() not in RETRYABLE or time.time() - first > args.give_up:
                    failures.append(f"{method} {request.account_id}/{request.command_id}: "
                                    f"{error.code().name} {error.details()}")
                    journal.write({"failed": request.command_id, "account": request.account_id,
                                   "code": error.code().name, "details": error.details()})
                    return False
                journal.write({"refused": round(time.time(), 3), "sent": round(sent, 3),
                               "code": error.code().name, "reason": reason_of(error)})
                time.sleep(args.retry_delay)
                continue
            journal.write({"acked": request.command_id, "account": request.account_id,
                           "events": list(reply.event_ids), "first": round(first, 3),
                           "at": round(time.time(), 3), "attempts": attempts,
                           "deduplicated": reply.deduplicated})
            return True

    def worker(w):
        n = 0
        while not os.path.exists(args.stop_file):
            account = f"FAIL-{args.run_id}-{w}-{n}"
            n += 1
            if not send("OpenCase", open_case(account, f"{account}-open")):
                return
            for step in range(1, args.payments_per_case + 1):
                if os.path.exists(args.stop_file):
                    return
                if not send("PostPayment", post_payment(account, f"{account}-pay-{step}", step)):
                    return

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(args.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for failure in failures[:10]:
        print(f"refused for good: {failure}", file=sys.stderr)
    return 1 if failures else 0


def read_journal(path):
    acked, refused, failed = [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if "acked" in record:
                acked.append(record)
            elif "refused" in record:
                refused.append(record)
            else:
                failed.append(record)
    return acked, refused, failed


def read_topic(bootstrap, topic, envelope_cls, timeout):
    """Every committed record of the topic: (partition, offset, envelope)."""
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": f"reader-failover-check-{os.getpid()}",
        "isolation.level": "read_committed", "enable.auto.commit": False,
        "auto.offset.reset": "earliest", "enable.partition.eof": True,
    })
    try:
        metadata = consumer.list_topics(topic, timeout=15)
        partitions = sorted(metadata.topics[topic].partitions)
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        at_end, records = set(), []
        written = consume_events.WrittenEnds(consumer, topic)
        deadline = time.monotonic() + timeout
        while len(at_end) < len(partitions):
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out reading {topic}: partitions "
                                 f"{sorted(set(partitions) - at_end)} not read to the end")
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF and written.reached(msg):
                    at_end.add(msg.partition())
                continue
            envelope = envelope_cls.FromString(msg.value())
            records.append((msg.partition(), msg.offset(), envelope))
        return records, metadata.topics[topic]
    finally:
        consumer.close()


def topic_settings(bootstrap, topic):
    """(replicas per partition, in-sync replicas per partition, min.insync.replicas)."""
    from confluent_kafka.admin import AdminClient, ConfigResource

    admin = AdminClient({"bootstrap.servers": bootstrap})
    described = admin.list_topics(topic, timeout=15).topics[topic]
    replicas = {p: len(m.replicas) for p, m in described.partitions.items()}
    isrs = {p: len(m.isrs) for p, m in described.partitions.items()}
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    config = admin.describe_configs([resource])[resource].result(timeout=15)
    return replicas, isrs, config["min.insync.replicas"].value


def windows(times, gap):
    """Groups sorted instants into runs whose neighbours are at most `gap` seconds apart."""
    runs = []
    for t in times:
        if runs and t - runs[-1][1] <= gap:
            runs[-1][1] = t
        else:
            runs.append([t, t])
    return runs


def check(args):
    envelope_cls = message_classes(args.descriptor_set, ["EventEnvelope"])["EventEnvelope"]
    acked, refused, failed = read_journal(args.journal)
    records, _ = read_topic(args.bootstrap, args.topic, envelope_cls, args.timeout)
    problems = []

    replicas, isrs, min_isr = topic_settings(args.bootstrap, args.topic)
    print(f"topic {args.topic}: {len(replicas)} partitions, replicas "
          f"{sorted(set(replicas.values()))}, in sync now {sorted(set(isrs.values()))}, "
          f"min.insync.replicas={min_isr}")
    if set(replicas.values()) != {args.replication_factor}:
        problems.append(f"replicas per partition {replicas}, want {args.replication_factor}")
    if str(min_isr) != str(args.min_insync):
        problems.append(f"min.insync.replicas is {min_isr}, want {args.min_insync}")
    settings_problems = len(problems)

    # The log: each event id once, each (account, command) written by one command only.
    event_copies = std_collections.Counter(e.event_id for _, _, e in records)
    commands_on_log = std_collections.Counter(
        (e.account_id, e.command_id) for _, _, e in records if e.command_event_index == 0)
    doubled_events = [e for e, n in event_copies.items() if n > 1]
    doubled_commands = [c for c, n in commands_on_log.items() if n > 1]
    if doubled_events:
        problems.append(f"{len(doubled_events)} event ids on the log more than once, "
                        f"e.g. {doubled_events[:3]}")
    if doubled_commands:
        problems.append(f"{len(doubled_commands)} commands on the log more than once, "
                        f"e.g. {doubled_commands[:3]}")

    # Every acknowledgement: its command on the log once, with exactly the events it was told.
    acked_keys = {(a["account"], a["acked"]) for a in acked}
    not_once = [(k, commands_on_log[k]) for k in sorted(acked_keys) if commands_on_log[k] != 1]
    if not_once:
        problems.append(f"{len(not_once)} acknowledged commands are not on the log exactly once "
                        f"(command, times): {not_once[:5]}")
    missing_events = sum(1 for a in acked for e in a["events"] if event_copies[e] != 1)
    if missing_events:
        problems.append(f"{missing_events} acknowledged event ids are not on the log exactly once")
    # The load's own commands only (their ids start with the account id); the service's
    # time-driven events carry ids of its own.
    unacknowledged = [c for c in commands_on_log
                      if c[1].startswith(c[0] + "-") and c not in acked_keys]
    if unacknowledged:
        problems.append(f"{len(unacknowledged)} commands on the log that no one acknowledged, "
                        f"e.g. {unacknowledged[:3]}")
    exactly_once = len(problems) == settings_problems
    if failed:
        problems.append(f"{len(failed)} commands refused for good, e.g. {failed[:2]}")

    events = sum(len(a["events"]) for a in acked)
    retried = sum(1 for a in acked if a["attempts"] > 1)
    deduplicated = sum(1 for a in acked if a["deduplicated"])
    print(f"acknowledged {len(acked)} commands ({events} events) in "
          f"{len({a['account'] for a in acked})} accounts; {retried} needed a retry, "
          f"{deduplicated} answered from an earlier commit (deduplicated)")
    print(f"log: {len(records)} events, {len(commands_on_log)} commands; every acknowledged "
          f"command on it exactly once: {'yes' if exactly_once else 'NO'}")

    # Throughput around the failure and the time commands were refused.
    kill, back = args.kill_time, args.restart_time
    first_send = min(a["first"] for a in acked)
    last_ack = max(a["at"] for a in acked)

    def rate(lo, hi):
        n = sum(1 for a in acked if lo <= a["at"] < hi)
        return f"{n / (hi - lo):.0f}/s" if hi > lo else "-"

    print(f"acknowledgements: {rate(first_send, kill)} before the kill, "
          f"{rate(kill, back)} with one broker down ({back - kill:.1f} s), "
          f"{rate(back, last_ack)} after its restart")
    # Per partition (from where the account's events are): how long its slowest command took
    # from its first send to its acknowledgement, retries included.
    partition_of = {e.account_id: p for p, _, e in records}
    slowest = {}
    for a in acked:
        p = partition_of.get(a["account"])
        if p is not None and a["at"] - a["first"] > slowest.get(p, (0, None))[0]:
            slowest[p] = (a["at"] - a["first"], a)
    for p in sorted(slowest):
        wait, a = slowest[p]
        print(f"partition {p}: longest wait for an acknowledgement {wait:.1f} s "
              f"(sent {a['first'] - kill:+.1f} s from the kill, {a['attempts']} attempts)")
    if refused:
        reasons = std_collections.Counter(r["reason"] for r in refused)
        times = sorted(r["refused"] for r in refused)
        for lo, hi in windows(times, 2.0):
            n = sum(1 for t in times if lo <= t <= hi)
            print(f"commands refused from {lo - kill:+.1f} s to {hi - kill:+.1f} s after the kill "
                  f"({hi - lo:.1f} s, {n} refusals)")
        print("refusals by reason: " + ", ".join(f"{r} {n}" for r, n in reasons.most_common()))
        print(f"REFUSAL_WINDOW_SECONDS={times[-1] - times[0]:.1f}")
    else:
        print("no command was refused (the broker's loss only slowed acknowledgements)")
        print("REFUSAL_WINDOW_SECONDS=0.0")

    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("load")
    p.add_argument("--target", required=True)
    p.add_argument("--certs", required=True, help="directory of ca.pem and <principal>.pem/.key")
    p.add_argument("--principal", default="admin")
    p.add_argument("--descriptor-set", required=True)
    p.add_argument("--journal", required=True)
    p.add_argument("--stop-file", required=True, help="the load stops once this file exists")
    p.add_argument("--run-id", default=str(int(time.time())))
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--payments-per-case", type=int, default=4)
    p.add_argument("--attempt-timeout", type=float, default=10.0)
    p.add_argument("--retry-delay", type=float, default=0.1)
    p.add_argument("--give-up", type=float, default=120.0,
                   help="seconds after which a command still refused counts as lost")
    c = sub.add_parser("check")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--topic", required=True)
    c.add_argument("--descriptor-set", required=True)
    c.add_argument("--journal", required=True)
    c.add_argument("--kill-time", type=float, required=True, help="epoch seconds of the kill")
    c.add_argument("--restart-time", type=float, required=True,
                   help="epoch seconds when the killed broker answered again")
    c.add_argument("--replication-factor", type=int, default=3)
    c.add_argument("--min-insync", type=int, default=2)
    c.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    return load(args) if args.command == "load" else check(args)


if __name__ == "__main__":
    sys.exit(main())
