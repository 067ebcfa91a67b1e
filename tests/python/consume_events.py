#!/usr/bin/env python3
"""A downstream consumer of the collections event topic, written only from the README.

Reads every partition of the topic to its end (read_committed), decodes each record value as
collections.v1.EventEnvelope and checks the consumer contract on every record:

- the key is the account id, and the record sits in partition murmur2(key) % partitions
  (the Java client's default partitioner);
- the CloudEvents headers: ce_specversion "1.0", ce_id = event_id, ce_source set,
  ce_type = "collections.v1." + the payload's message name, ce_time = recorded_at,
  ce_subject = account id = key, content-type "application/protobuf";
- per account, sequences follow each other without gaps (1, 2, 3 ... when read from the
  start) and each event's prev_hash is the previous event's hash, hash being
  SHA-256(prev_hash || deterministic bytes of the envelope without hash and signature).

Prints a count per event type. Exit status: 0 when every record passed (and, with
--expect-all, every payload type of EventEnvelope.payload appeared); 1 when a check failed;
2 when the topic could not be read at all.

Decoding uses either generated code (--pb2-dir: the output of
`protoc --python_out=DIR -I proto proto/collections/v1/*.proto`) or the descriptor set the
build installs (--descriptor-set share/collections/collections.desc), with no generated code.

Needs confluent-kafka and protobuf (tests/python/requirements.txt).
"""

import argparse
import collections as std_collections
import hashlib
import os
import sys
import time
import uuid

DEFAULT_TOPIC = "collections.case-events.v1"
ENVELOPE = "collections.v1.EventEnvelope"
CE_TYPE_PREFIX = "collections.v1."


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as a signed 32-bit int."""
    m = 0x5BD1E995
    h = (0x9747B28C ^ len(data)) & 0xFFFFFFFF
    whole = len(data) - len(data) % 4
    for i in range(0, whole, 4):
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    rest = len(data) % 4
    if rest == 3:
        h ^= data[whole + 2] << 16
    if rest >= 2:
        h ^= data[whole + 1] << 8
    if rest >= 1:
        h ^= data[whole]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(key: bytes, partitions: int) -> int:
    """The Java client's default partition of a keyed record: toPositive(murmur2) % n."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def self_test() -> int:
    """Checks murmur2 against the vectors of Apache Kafka's UtilsTest.testMurmur2."""
    vectors = {
        "21": -973932308,
        "foobar": -790332482,
        "a-little-bit-long-string": -985981536,
        "a-little-bit-longer-string": -1486304829,
        "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
        "abc": 479470107,
    }
    failed = 0
    for text, want in vectors.items():
        got = murmur2(text.encode())
        if got != want:
            print(f"murmur2({text!r}) = {got}, the Java client says {want}")
            failed += 1
    print(f"murmur2: {len(vectors) - failed} of {len(vectors)} Kafka vectors match")
    return 1 if failed else 0


def envelope_class(pb2_dir, descriptor_set):
    """Returns the EventEnvelope message class from generated code or from a descriptor set."""
    if descriptor_set:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

        with open(descriptor_set, "rb") as f:
            files = descriptor_pb2.FileDescriptorSet.FromString(f.read())
        pool = descriptor_pool.DescriptorPool()
        for file in files.file:  # protoc writes them imports first
            pool.Add(file)
        descriptor = pool.FindMessageTypeByName(ENVELOPE)
        if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.22
            return message_factory.GetMessageClass(descriptor)
        return message_factory.MessageFactory(pool).GetPrototype(descriptor)

    # The proto package `collections` has the name of Python's standard `collections` module,
    # which is always imported already. Extending the standard package's search path lets
    # `collections.v1` (generated code, no __init__.py) be found beside it.
    generated = os.path.join(os.path.abspath(pb2_dir), "collections")
    if not os.path.isdir(os.path.join(generated, "v1")):
        raise SystemExit(f"no generated code in {pb2_dir}: run protoc --python_out={pb2_dir} "
                         "-I proto proto/collections/v1/*.proto")
    if generated not in std_collections.__path__:
        std_collections.__path__.append(generated)
    from collections.v1 import events_pb2  # noqa: E402  (needs the path above)

    return events_pb2.EventEnvelope


def rfc3339_micros(timestamp) -> str:
    """ce_time's format: UTC, six fractional digits, 'Z'."""
    return timestamp.ToDatetime().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Checker:
    """Checks records one by one and keeps the counts and the problems found."""

    def __init__(self, envelope_cls, partitions: int, max_problems: int):
        self.envelope_cls = envelope_cls
        self.partitions = partitions
        self.max_problems = max_problems
        oneof = envelope_cls.DESCRIPTOR.oneofs_by_name["payload"]
        # payload field name -> message name, in declaration order
        self.payload_types = {f.name: f.message_type.name for f in oneof.fields}
        self.counts = std_collections.Counter()
        self.records = 0
        self.problems = []
        self.problem_count = 0
        self.last = {}  # account id -> (sequence, hash) of its last event seen

    def problem(self, where: str, text: str):
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(f"{where}: {text}")

    def check(self, msg):
        self.records += 1
        where = f"partition {msg.partition()} offset {msg.offset()}"
        headers = {}
        for name, value in msg.headers() or []:
            headers[name] = value.decode("utf-8", "replace") if value is not None else None
        key = msg.key()
        if not key:
            self.problem(where, "record has no key (the key must be the account id)")
            return
        account = key.decode("utf-8", "replace")
        where += f" account {account}"

        envelope = self.envelope_cls()
        try:
            envelope.ParseFromString(msg.value() or b"")
        except Exception as e:  # DecodeError; any failure to decode is the finding
            self.problem(where, f"value is not a collections.v1.EventEnvelope: {e}")
            return
        payload = envelope.WhichOneof("payload")
        if payload is None:
            self.counts["(no known payload)"] += 1
            self.problem(where, "no payload this schema knows (an event type newer than these "
                         f"bindings? ce_type {headers.get('ce_type')}); regenerate from proto/")
            return
        self.counts[payload] += 1
        message_name = self.payload_types[payload]
        where += f" seq {envelope.sequence} {message_name}"

        if envelope.account_id != account:
            self.problem(where, f"account_id {envelope.account_id!r} is not the key {account!r}")
        want_partition = partition_for(key, self.partitions)
        if msg.partition() != want_partition:
            self.problem(where, f"in partition {msg.partition()}, murmur2(key) % "
                         f"{self.partitions} = {want_partition}")

        expected_headers = {
            "ce_specversion": "1.0",
            "ce_id": envelope.event_id,
            "ce_type": CE_TYPE_PREFIX + message_name,
            "ce_subject": account,
            "content-type": "application/protobuf",
            "ce_time": rfc3339_micros(envelope.recorded_at),
        }
        for name, want in expected_headers.items():
            if headers.get(name) != want:
                self.problem(where, f"header {name} is {headers.get(name)!r}, want {want!r}")
        if not headers.get("ce_source"):
            self.problem(where, "header ce_source is missing")
        try:
            uuid.UUID(envelope.event_id)
        except ValueError:
            self.problem(where, f"event_id {envelope.event_id!r} is not a UUID")

        # Ordering: one account's events arrive in sequence order with nothing missing, each
        # chained to the one before.
        copy = self.envelope_cls()
        copy.CopyFrom(envelope)
        copy.ClearField("hash")
        copy.ClearField("signature")  # the writer's signature covers the hash, not the reverse
        digest = hashlib.sha256(envelope.prev_hash + copy.SerializeToString(deterministic=True))
        if digest.digest() != envelope.hash:
            self.problem(where, "hash is not SHA-256(prev_hash || envelope without hash, signature)")
        previous = self.last.get(account)
        if previous is None:
            if envelope.sequence == 1 and envelope.prev_hash:
                self.problem(where, "the account's first event has a prev_hash")
        else:
            if envelope.sequence != previous[0] + 1:
                self.problem(where, f"sequence {envelope.sequence} follows {previous[0]}")
            if envelope.prev_hash != previous[1]:
                self.problem(where, "prev_hash is not the previous event's hash")
        self.last[account] = (envelope.sequence, envelope.hash)


def read_properties(path):
    """librdkafka settings from a `key=value` file (kafka.sh's clients/<user>.properties)."""
    settings = {}
    if path:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    key, value = line.split("=", 1)
                    settings[key.strip()] = value.strip()
    return settings


class WrittenEnds:
    """When each partition has been read to the end of what was written to it.

    A read_committed consumer's end-of-partition event comes at the last stable offset. That
    stays below a transaction still open, and below a committed one until the coordinator has
    written its markers, a moment after the service acknowledged the command. So a partition is
    read when an end event reaches the high watermark of its first end event (the one the fetch
    was answered with, which counts every record written, settled or not)."""

    def __init__(self, consumer, topic):
        self.consumer, self.topic, self.targets = consumer, topic, {}

    def reached(self, eof_msg) -> bool:
        from confluent_kafka import TopicPartition

        partition = eof_msg.partition()
        if partition not in self.targets:
            _, high = self.consumer.get_watermark_offsets(TopicPartition(self.topic, partition),
                                                          cached=True)
            self.targets[partition] = high if high is not None and high >= 0 else 0
        return eof_msg.offset() >= self.targets[partition]


def consume(args, checker_factory):
    from confluent_kafka import OFFSET_STORED, Consumer, KafkaError, TopicPartition

    consumer = Consumer({
        **read_properties(args.kafka_config),
        "bootstrap.servers": args.bootstrap,
        # "reader" first: the secured broker lets its reader principal use only such groups.
        "group.id": args.group or f"reader-consume-events-{uuid.uuid4()}",
        # The service writes in transactions: only committed events are the log.
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": True,  # tells us when a partition has been read to its end
    })
    try:
        metadata = consumer.list_topics(args.topic, timeout=15)
        topic = metadata.topics.get(args.topic)
        if topic is None or topic.error is not None or not topic.partitions:
            error = topic.error if topic is not None else "not found"
            print(f"cannot read topic {args.topic} at {args.bootstrap}: {error}", file=sys.stderr)
            return None
        partitions = sorted(topic.partitions)
        checker = checker_factory(len(partitions))
        # From the group's committed offsets; a new group starts at the earliest offset.
        consumer.assign([TopicPartition(args.topic, p, OFFSET_STORED) for p in partitions])
        at_end, written = set(), WrittenEnds(consumer, args.topic)
        deadline = time.monotonic() + args.timeout
        while len(at_end) < len(partitions):
            if time.monotonic() > deadline:
                print(f"timed out after {args.timeout}s: partitions {sorted(set(partitions) - at_end)} "
                      "not read to the end", file=sys.stderr)
                return None
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    if written.reached(msg):
                        at_end.add(msg.partition())
                    continue
                print(f"consumer error: {msg.error()}", file=sys.stderr)
                if msg.error().fatal():
                    return None
                continue
            checker.check(msg)
        return checker
    finally:
        consumer.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", default=os.environ.get("COLLECTIONS_BOOTSTRAP", "127.0.0.1:19092"))
    parser.add_argument("--topic", default=DEFAULT_TOPIC)
    parser.add_argument("--kafka-config",
                        help="librdkafka properties file (key=value: security.protocol, sasl.* ...), "
                             "e.g. .local/kafka-19092-scram/clients/collections-reader.properties")
    parser.add_argument("--group", help="consumer group (default: a new one, so the topic is read from the start)")
    decode = parser.add_mutually_exclusive_group()
    decode.add_argument("--pb2-dir", help="directory of protoc --python_out output for proto/")
    decode.add_argument("--descriptor-set", help="collections.desc (build/ or share/collections/)")
    parser.add_argument("--expect-all", action="store_true",
                        help="fail unless every payload type of EventEnvelope appeared")
    parser.add_argument("--allow-missing", default="",
                        help="with --expect-all: comma-separated payload field names that may be absent")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to reach the end of the topic")
    parser.add_argument("--max-problems", type=int, default=50, help="problems printed at most")
    parser.add_argument("--self-test", action="store_true", help="check murmur2 against Kafka's vectors and exit")
    args = parser.parse_args(argv)

    if args.self_test:
        return self_test()
    if not args.pb2_dir and not args.descriptor_set:
        parser.error("give --pb2-dir or --descriptor-set")

    envelope_cls = envelope_class(args.pb2_dir, args.descriptor_set)
    checker = consume(args, lambda n: Checker(envelope_cls, n, args.max_problems))
    if checker is None:
        return 2

    accounts = len(checker.last)
    print(f"{checker.records} records on {args.topic} ({checker.partitions} partitions, {accounts} accounts), "
          f"decoded as {ENVELOPE} via {'descriptor set' if args.descriptor_set else 'generated code'}")
    print(f"  {'payload field':<28} {'message (ce_type collections.v1.*)':<36} count")
    for field, message in checker.payload_types.items():
        print(f"  {field:<28} {message:<36} {checker.counts[field]}")
    if checker.counts["(no known payload)"]:
        print(f"  {'(no known payload)':<28} {'':<36} {checker.counts['(no known payload)']}")

    failed = False
    if checker.problem_count:
        failed = True
        print(f"FAILED: {checker.problem_count} contract problems", file=sys.stderr)
        for p in checker.problems:
            print(f"  {p}", file=sys.stderr)
    if args.expect_all:
        allowed = {name.strip() for name in args.allow_missing.split(",") if name.strip()}
        unknown = allowed - set(checker.payload_types)
        if unknown:
            print(f"FAILED: --allow-missing names no payload field: {sorted(unknown)}", file=sys.stderr)
            failed = True
        missing = [f for f in checker.payload_types if checker.counts[f] == 0 and f not in allowed]
        if missing:
            failed = True
            print(f"FAILED: {len(missing)} event types never appeared: "
                  f"{', '.join(checker.payload_types[f] + ' (' + f + ')' for f in missing)}", file=sys.stderr)
        else:
            seen = len(checker.payload_types) - len(allowed)
            print(f"every expected event type appeared ({seen} of {len(checker.payload_types)}"
                  f"{'; allowed missing: ' + ', '.join(sorted(allowed)) if allowed else ''})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
