#!/usr/bin/env python3
"""ctest multiprocess_test: several collections-server processes of one deployment, as
deploy/cluster.sh runs them, on the test broker (README "Several processes").

Three processes under load from several client threads that retry every refused command with
the same command_id (round robin over the processes); then kill -9 one (as if in the middle of
a transaction: one is left open under its transactional id) and start it again, twice, the
other processes staying up; a rolling restart of all three (SIGTERM, start, wait until ready);
a fourth process added; and a misconfigured second deployment (another --deployment-id, same
topic) started beside them. After each crash the partitions must be served again within the
session timeout + 6 s, with no alert in any log. Afterwards, from the topic and from every
process:

- every acknowledged command is in the log exactly once (its events, with the event ids its
  reply named), and nothing in the log comes from a command no one acknowledged;
- every account's sequence is 1, 2, 3 ... with each event chained to the one before
  (tests/python/consume_events.py's checks: hash chain, partitioning, CloudEvents headers);
- every process answers GetAccount(min_position = the account's last position) with the same
  account, equal to the log's head of the account, the added process's projection (built from
  offset 0) included; VerifyAuditTrail is intact for the whole topic and a sample of accounts;
- the second deployment appended nothing and no chain broke.

Prints the longest a command waited from its first refusal to its success (overall and by what
the test was doing), the kill -9 -> every partition served again gap, and how long each start
and restart took. COLLECTIONS_TEST_KEEP=1 keeps the state and logs of a failed run.

  multiprocess_test.py BUILD_DIR PB2_DIR
  (broker: COLLECTIONS_TEST_BOOTSTRAP [127.0.0.1:29092]; ports: COLLECTIONS_TEST_MULTIPROC_PORT
  [29470]: gRPC of process N at PORT+N-1, its metrics at PORT+10+N-1; the second deployment on
  PORT+8 and PORT+18)
"""

import glob
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "python"))
import consume_events  # noqa: E402  (the reference consumer's checks)

import grpc  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build"))
PB2_DIR = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(BUILD, "tests", "python_pb2"))
BOOTSTRAP = os.environ.get("COLLECTIONS_TEST_BOOTSTRAP", "127.0.0.1:29092")
BASE_PORT = int(os.environ.get("COLLECTIONS_TEST_MULTIPROC_PORT", "29470"))
METRICS_BASE_PORT = BASE_PORT + 10
PARTITIONS = 8
SESSION_TIMEOUT_MS = 6000  # the broker's group.min.session.timeout.ms
CLIENT_THREADS = 6
GIVE_UP_S = 60  # a command not acknowledged after this long fails the test
TEST_BUDGET_S = 330  # the whole test, before it gives up (ctest's TIMEOUT is 420)

Envelope = consume_events.envelope_class(PB2_DIR, None)  # also makes collections.v1 importable
from collections.v1 import account_pb2  # noqa: E402
from collections.v1 import case_service_pb2 as cs  # noqa: E402
from collections.v1 import common_pb2  # noqa: E402
from collections.v1 import compliance_service_pb2 as comp  # noqa: E402

# Refusals a client retries with the same command_id. CANCELLED: a call that reaches a process
# while it shuts down is cancelled by gRPC itself before the service sees it.
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
             grpc.StatusCode.CANCELLED}
started_at = time.monotonic()


def log(text):
    print(f"[{time.monotonic() - started_at:7.2f}s] {text}", flush=True)


class Failure(Exception):
    pass


# ---------------------------------------------------------------- the processes (deploy/cluster.sh)
class Cluster:
    def __init__(self, work, stamp):
        self.work = work
        self.state = os.path.join(work, "state")
        self.topic = f"collections.multiproc-test.{stamp}"
        self.deployment = f"mp-{stamp}"
        self.env = dict(os.environ, COLLECTIONS_STATE_DIR=self.state, COLLECTIONS_BUILD_DIR=BUILD,
                        COLLECTIONS_TOPIC=self.topic, COLLECTIONS_DEPLOYMENT_ID=self.deployment,
                        COLLECTIONS_BASE_PORT=str(BASE_PORT),
                        COLLECTIONS_METRICS_BASE_PORT=str(METRICS_BASE_PORT),
                        COLLECTIONS_READY_TIMEOUT="90")
        self.processes = 0

    def run(self, *args):
        began = time.monotonic()
        done = subprocess.run([os.path.join(REPO, "deploy", "cluster.sh"), *args], env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            raise Failure(f"deploy/cluster.sh {' '.join(args)} exited {done.returncode}:\n{done.stdout}")
        return time.monotonic() - began

    def up(self, processes):
        took = self.run("up", "--processes", str(processes), "--detach", "--no-build",
                        "--bootstrap", BOOTSTRAP, "--",
                        f"--ownership-session-timeout-ms={SESSION_TIMEOUT_MS}",
                        f"--partitions={PARTITIONS}", "--log-format=text")
        self.processes = processes
        return took

    def address(self, n):
        return f"127.0.0.1:{BASE_PORT + n - 1}"

    def certs(self):
        return os.path.join(self.state, "certs")

    def log_path(self, n):
        return os.path.join(self.state, "cluster", f"s{n}", "service.log")

    def pids(self):
        """The pid of every process deploy/cluster.sh started (the last of each sN)."""
        out = []
        for pid_file in glob.glob(os.path.join(self.state, "cluster", "s*", "service.pid")):
            try:
                with open(pid_file) as f:
                    out.append(int(f.read().strip()))
            except (OSError, ValueError):
                pass
        return out

    def owned(self, n):
        """Partitions process n's writers serve, from its metrics (None: no answer)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{METRICS_BASE_PORT + n - 1}/metrics",
                                        timeout=1) as r:
                text = r.read().decode()
        except OSError:
            return None
        return {int(m) for m in re.findall(
            r'^collections_writer_state\{partition="(\d+)",state="serving"\} 1$', text, re.M)}

    def down(self):
        try:
            self.run("down")
        except Failure as e:
            log(str(e))
        for pid in self.pids():  # whatever did not stop (and is still ours: its --db is here)
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if self.state.encode() in f.read():
                        os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


# ---------------------------------------------------------------- the clients
def channel_options():
    # Reconnect quickly to a process that comes back (gRPC's default backoff grows to 120 s).
    return [("grpc.initial_reconnect_backoff_ms", 200), ("grpc.min_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 1000)]


def secure_channel(certs, principal, target):
    def read(name):
        with open(os.path.join(certs, name), "rb") as f:
            return f.read()
    creds = grpc.ssl_channel_credentials(root_certificates=read("ca.pem"),
                                         private_key=read(f"{principal}.key"),
                                         certificate_chain=read(f"{principal}.pem"))
    return grpc.secure_channel(target, creds, options=channel_options())


def unary(channel, service, method, response_cls):
    return channel.unary_unary(f"/collections.v1.{service}/{method}",
                               request_serializer=lambda m: m.SerializeToString(),
                               response_deserializer=response_cls.FromString)


def reason_of(error):
    """ErrorInfo.reason from a failed call's google.rpc.Status ("" when there is none)."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for any_detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if any_detail.Unpack(info):
                    return info.reason
    return ""


class Ack:
    __slots__ = ("command_id", "account_id", "version", "partition", "offset", "event_ids",
                 "deduplicated", "waited", "at", "phase", "target")


class Load:
    """CLIENT_THREADS threads sending OpenCase and PostPayment to the processes in turn; every
    refused command is sent again, same command_id, to the next process."""

    def __init__(self, cluster, stamp):
        self.cluster = cluster
        self.stamp = stamp
        self.targets = [cluster.address(n) for n in range(1, cluster.processes + 1)]
        self.lock = threading.Lock()
        self.acks = []
        self.problems = []  # unexpected answers
        self.refusals = {}  # (code, reason) -> count
        self.stop = threading.Event()
        self.threads = []
        self.channels = {}
        self.phase = "steady"  # what the test is doing, set by the test: each ack records it

    def add_target(self, address):
        with self.lock:
            self.targets.append(address)

    def stubs(self, target):
        with self.lock:
            if target not in self.channels:
                ch = secure_channel(self.cluster.certs(), "admin", target)
                self.channels[target] = {
                    "channel": ch,
                    "OpenCase": unary(ch, "CaseCommandService", "OpenCase", cs.CommandReply),
                    "PostPayment": unary(ch, "CaseCommandService", "PostPayment", cs.CommandReply),
                }
            return self.channels[target]

    def execute(self, method, request, rr):
        """Sends until acknowledged, to the processes in turn; returns the Ack (None when the
        answer was a refusal not to retry, or the test gave up on it)."""
        first_refusal = None
        phase = self.phase
        began = time.monotonic()
        while True:
            with self.lock:
                targets = list(self.targets)
            target = targets[rr[0] % len(targets)]
            rr[0] += 1
            try:
                reply = self.stubs(target)[method](request, timeout=5)
            except grpc.RpcError as e:
                code, reason = e.code(), reason_of(e)
                with self.lock:
                    self.refusals[(code.name, reason)] = self.refusals.get((code.name, reason), 0) + 1
                if code not in RETRYABLE:
                    with self.lock:
                        self.problems.append(f"{method} {request.command_id} at {target}: "
                                             f"{code.name} {reason}: {e.details()}")
                    return None
                now = time.monotonic()
                if first_refusal is None:
                    first_refusal = now
                phase = self.phase  # what the test was doing at the last refusal
                if now - began > GIVE_UP_S:
                    with self.lock:
                        self.problems.append(f"{method} {request.command_id}: not acknowledged "
                                             f"in {GIVE_UP_S} s (last: {code.name} {reason})")
                    return None
                time.sleep(0.05)
                continue
            ack = Ack()
            ack.command_id = request.command_id
            ack.account_id = reply.account_id
            ack.version = reply.version
            ack.partition = reply.position.partition
            ack.offset = reply.position.offset
            ack.event_ids = list(reply.event_ids)
            ack.deduplicated = reply.deduplicated
            ack.at = time.monotonic()
            ack.waited = ack.at - first_refusal if first_refusal is not None else 0.0
            ack.phase = phase
            ack.target = target
            with self.lock:
                self.acks.append(ack)
            return ack

    def worker(self, index):
        rng = random.Random(index)
        rr = [rng.randrange(100)]
        accounts = []
        n = 0
        while not self.stop.is_set():
            n += 1
            command_id = f"mp-{self.stamp}-{index}-{n}"
            if len(accounts) < 4 or rng.random() < 0.2:
                account_id = f"MP-{self.stamp}-{index}-{len(accounts)}"
                request = cs.OpenCaseRequest(
                    command_id=command_id, account_id=account_id, creditor="Acme Bank",
                    debtor_name="Jane Doe", currency="USD", time_zone="America/Chicago",
                    jurisdiction="IL", balances=common_pb2.Balances(principal_minor=100000),
                    due_date=common_pb2.LocalDate(year=2025, month=9, day=1))
                if self.execute("OpenCase", request, rr) is not None:
                    accounts.append(account_id)
            else:
                request = cs.PostPaymentRequest(
                    command_id=command_id, account_id=rng.choice(accounts), payment_id=command_id,
                    amount=common_pb2.Money(amount_minor=100, currency="USD"),
                    method=common_pb2.PAYMENT_METHOD_ACH)
                self.execute("PostPayment", request, rr)
            time.sleep(0.03)

    def start(self):
        for i in range(CLIENT_THREADS):
            t = threading.Thread(target=self.worker, args=(i,), daemon=True)
            t.start()
            self.threads.append(t)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(GIVE_UP_S + 10)
        with self.lock:
            for ch in self.channels.values():
                ch["channel"].close()
            self.channels.clear()

    def acks_since(self, t):
        with self.lock:
            return [a for a in self.acks if a.at >= t]


# ---------------------------------------------------------------- the phases
def wait_all_serving(cluster, live, since, limit=30):
    """Seconds from `since` until the live processes' writers serve every partition."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        served = set()
        for n in live:
            served |= cluster.owned(n) or set()
        if served == set(range(PARTITIONS)):
            return time.monotonic() - since
        time.sleep(0.1)
    raise Failure(f"the partitions were not all served again within {limit} s")


LEAVE_OPEN = r"""
import os, sys
from confluent_kafka import Producer
bootstrap, topic, transactional_id, partition = sys.argv[1:5]
producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id,
                     "transaction.timeout.ms": 20000})  # as the writers
producer.init_transactions(15)
producer.begin_transaction()
producer.produce(topic, key=b"crashed-writer", value=b"left open by a writer that crashed",
                 partition=int(partition))
producer.flush(15)
os._exit(0)  # no abort, no clean close: a crash
"""


def leave_transaction_open(cluster, transactional_id, partition):
    subprocess.run([sys.executable, "-c", LEAVE_OPEN, BOOTSTRAP, cluster.topic, transactional_id,
                    str(partition)], check=True, timeout=30)


def crash(cluster, load, n, label, figures, problems):
    """kill -9 process n under load; measures until its partitions are served and take
    commands again, then starts it again and measures until it is ready."""
    load.phase = label
    owned = cluster.owned(n)
    if not owned:
        raise Failure(f"s{n} writes no partition before the kill")
    live = [m for m in range(1, cluster.processes + 1) if m != n]
    alerts_before = {m: len(log_lines(cluster.log_path(m), "ALERT")) for m in live}
    t_kill = time.monotonic()
    cluster.run("kill", str(n))
    # As if it died in the middle of a transaction (whether it did depends on the instant): one
    # left open under its transactional id in one of its partitions. The new owner must not be
    # held up (the broker would abort it only after transaction.timeout.ms) nor stopped by it.
    leave_transaction_open(cluster, f"{cluster.deployment}-writers-s{n}", min(owned))
    failure = None
    try:
        served = wait_all_serving(cluster, live, t_kill)
        took_commands = first_ack_per_partition(load, owned, t_kill, cluster.address(n))
    except Failure as e:
        failure = e
    alerts = [line for m in live for line in log_lines(cluster.log_path(m), "ALERT")[alerts_before[m]:]]
    if alerts or failure:
        raise Failure(f"{label}: {failure or 'an alert'}" +
                      "".join(f"\n  survivor's log: {line[:400]}" for line in alerts[:4]))
    figures[f"{label} -> every partition served again (metrics)"] = served
    figures[f"{label} -> a command of each of its partitions acknowledged"] = took_commands
    log(f"{label} (it wrote partitions {sorted(owned)}): every partition served again after "
        f"{served:.1f} s, its partitions took commands again after {took_commands:.1f} s")
    # The group notices the crash after the session timeout; the new owners fence the dead
    # process's transactions and restore from the shared writer store: a second or two more.
    bound = SESSION_TIMEOUT_MS / 1000 + 6
    if served > bound:
        problems.append(f"{label}: partitions served again only after {served:.1f} s "
                        f"(session timeout {SESSION_TIMEOUT_MS / 1000:.0f} s + 6 s = {bound:.0f} s)")
    time.sleep(2)
    load.phase = f"start s{n} after {label}"
    took = cluster.run("start", str(n))
    figures[f"start of s{n} after {label} (until ready)"] = took
    log(f"s{n} started again in {took:.1f} s")


def first_ack_per_partition(load, partitions, since, gone, limit=30):
    """Seconds from `since` until a process other than `gone` acknowledged a command of each
    of `partitions`."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        acks = load.acks_since(since)
        firsts = {}
        for a in acks:
            if a.partition in partitions and a.target != gone:
                firsts[a.partition] = min(firsts.get(a.partition, a.at), a.at)
        if set(firsts) == set(partitions):
            return max(firsts.values()) - since
        time.sleep(0.2)
    raise Failure(f"no command of partition(s) {sorted(set(partitions) - set(firsts))} "
                  f"acknowledged within {limit} s")


def start_foreign(cluster, work):
    """A second deployment (another --deployment-id) on the same topic, as a misconfigured
    process would be started. Returns the process, its log's path and its gRPC address."""
    port, metrics = BASE_PORT + 8, METRICS_BASE_PORT + 8
    certs, keys = cluster.certs(), os.path.join(cluster.state, "keys")
    log_path = os.path.join(work, "foreign.log")
    args = [os.path.join(BUILD, "services", "server", "collections-server"),
            f"--listen=127.0.0.1:{port}", f"--bootstrap={BOOTSTRAP}", f"--topic={cluster.topic}",
            f"--deployment-id={cluster.deployment}-other", "--instance-id=x1",
            f"--db={work}/foreign/projection", f"--writer-store={work}/foreign/writer-store",
            f"--metrics-listen=127.0.0.1:{metrics}", "--log-format=text",
            f"--ownership-session-timeout-ms={SESSION_TIMEOUT_MS}",
            f"--policy={REPO}/deploy/policy/federal-2025.textproto",
            f"--access-policy={REPO}/deploy/policy/access-2025.textproto",
            f"--tls-ca={certs}/ca.pem", f"--tls-cert={certs}/server.pem",
            f"--tls-key={certs}/server.key", f"--signing-key={keys}/writer-signing.key"]
    with open(log_path, "w") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return proc, log_path, f"127.0.0.1:{port}"


def try_foreign(cluster, address, accounts_by_partition, stamp):
    """Sends the second deployment a new account's OpenCase and an existing account's payment
    for every partition; returns what it answered (any OK is a failure)."""
    ch = secure_channel(cluster.certs(), "admin", address)
    open_case = unary(ch, "CaseCommandService", "OpenCase", cs.CommandReply)
    pay = unary(ch, "CaseCommandService", "PostPayment", cs.CommandReply)
    answers = []
    for p, account in sorted(accounts_by_partition.items()):
        tries = [
            ("OpenCase", open_case, cs.OpenCaseRequest(
                command_id=f"foreign-open-{stamp}-{p}-{uuid.uuid4().hex[:6]}",
                account_id=f"FOREIGN-{stamp}-{p}-{uuid.uuid4().hex[:6]}", creditor="Acme",
                debtor_name="X", currency="USD", time_zone="America/Chicago", jurisdiction="IL",
                balances=common_pb2.Balances(principal_minor=5000),
                due_date=common_pb2.LocalDate(year=2025, month=9, day=1))),
            ("PostPayment", pay, cs.PostPaymentRequest(
                command_id=f"foreign-pay-{stamp}-{p}", account_id=account,
                payment_id=f"foreign-{p}", amount=common_pb2.Money(amount_minor=1, currency="USD"),
                method=common_pb2.PAYMENT_METHOD_ACH)),
        ]
        for name, call, request in tries:
            try:
                reply = call(request, timeout=5)
                answers.append((p, name, "OK", f"version {reply.version}"))
            except grpc.RpcError as e:
                answers.append((p, name, e.code().name, reason_of(e)))
    ch.close()
    return answers


# ---------------------------------------------------------------- the checks
def read_topic(topic):
    from confluent_kafka import Consumer, KafkaError, TopicPartition
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"reader-mp-{uuid.uuid4()}",
                         "isolation.level": "read_committed", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "enable.partition.eof": True})
    checker = consume_events.Checker(Envelope, PARTITIONS, 20)
    events = {}  # account -> [(sequence, command_id, event_id, deployment_id, hash, partition, offset)]
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        at_end, deadline = set(), time.monotonic() + 60
        written = consume_events.WrittenEnds(consumer, topic)
        while len(at_end) < PARTITIONS:
            if time.monotonic() > deadline:
                raise Failure("the topic could not be read to its end in 60 s")
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    if written.reached(msg):
                        at_end.add(msg.partition())
                    continue
                raise Failure(f"consumer error: {msg.error()}")
            checker.check(msg)
            env = Envelope.FromString(msg.value())
            events.setdefault(env.account_id, []).append(
                (env.sequence, env.command_id, env.event_id, env.deployment_id, env.hash,
                 msg.partition(), msg.offset()))
    finally:
        consumer.close()
    return checker, events


def check_log(load, events, deployment, problems):
    by_command = {}
    for account, evs in events.items():
        for seq, command_id, event_id, dep, _, _, _ in evs:
            by_command.setdefault((account, command_id), []).append((seq, event_id))
            if dep != deployment:
                problems.append(f"{account} seq {seq}: written by deployment {dep!r}")
    duplicates = 0
    for a in load.acks:
        found = by_command.get((a.account_id, a.command_id))
        if not found:
            problems.append(f"acknowledged {a.command_id} ({a.account_id} v{a.version}) is not in the log")
            continue
        seqs = [s for s, _ in found]
        if sorted(e for _, e in found) != sorted(a.event_ids) or max(seqs) != a.version or \
                sorted(seqs) != list(range(min(seqs), max(seqs) + 1)):
            duplicates += 1
            problems.append(f"{a.command_id} ({a.account_id}): log has events {found}, the reply "
                            f"said version {a.version} events {a.event_ids}")
    acked = {(a.account_id, a.command_id) for a in load.acks}
    ours = f"mp-{load.stamp}-"
    for (account, command_id) in by_command:
        if command_id.startswith(ours) and (account, command_id) not in acked:
            problems.append(f"{command_id} ({account}) is in the log but was never acknowledged")
    return duplicates


def get_account(channel, account_id, partition, offset):
    call = unary(channel, "CaseQueryService", "GetAccount", account_pb2.Account)
    request = cs.GetAccountRequest(account_id=account_id,
                                   min_position=common_pb2.LogPosition(partition=partition,
                                                                       offset=offset))
    return call(request, timeout=15)


def check_projections(cluster, events, problems):
    """Every process's account equals the others' and the log's head of the account."""
    channels = {n: secure_channel(cluster.certs(), "admin", cluster.address(n))
                for n in range(1, cluster.processes + 1)}
    compared = 0
    for account, evs in sorted(events.items()):
        last = max(evs)
        seq, _, _, _, head_hash, partition, offset = last
        seen = {}
        for n, ch in channels.items():
            acc = get_account(ch, account, partition, offset)
            acc.days_past_due = 0  # recomputed for the moment of the call
            del acc.priority[:]
            seen[n] = acc.SerializeToString(deterministic=True)
            if acc.version != seq or acc.last_hash != head_hash:
                problems.append(f"s{n}: {account} at version {acc.version}, the log's head is {seq}")
        if len(set(seen.values())) != 1:
            problems.append(f"{account}: the processes' projections differ "
                            f"({', '.join(f's{n}' for n in seen)})")
        compared += 1
    for ch in channels.values():
        ch.close()
    return compared


def verify(cluster, account_ids, problems):
    ch = secure_channel(cluster.certs(), "compliance-officer-1", cluster.address(1))
    call = unary(ch, "ComplianceService", "VerifyAuditTrail", comp.VerifyAuditTrailResponse)
    whole = call(comp.VerifyAuditTrailRequest(), timeout=60)
    if not whole.intact:
        problems.append(f"VerifyAuditTrail (whole topic): {list(whole.breaks)[:5]}")
    for i, account in enumerate(account_ids):
        other = secure_channel(cluster.certs(), "compliance-officer-1",
                               cluster.address(1 + i % cluster.processes))
        one = unary(other, "ComplianceService", "VerifyAuditTrail",
                    comp.VerifyAuditTrailResponse)(comp.VerifyAuditTrailRequest(account_id=account),
                                                   timeout=30)
        if not one.intact or one.events_checked == 0:
            problems.append(f"VerifyAuditTrail {account}: intact={one.intact} "
                            f"events={one.events_checked} {list(one.breaks)[:3]}")
        other.close()
    ch.close()
    return whole


def log_lines(path, pattern):
    try:
        with open(path, errors="replace") as f:
            return [line.rstrip() for line in f if re.search(pattern, line)]
    except OSError:
        return []


# ---------------------------------------------------------------- the test
def main():
    stamp = f"{int(time.time())}{random.randrange(1000):03d}"
    work = tempfile.mkdtemp(prefix="collections-multiproc-test.")
    cluster = Cluster(work, stamp)
    load = None
    foreign = None
    figures = {}
    problems = []

    def on_signal(signum, _frame):
        if signum == signal.SIGALRM:
            raise Failure(f"the test took longer than {TEST_BUDGET_S} s")
        raise Failure(f"signal {signum}")
    # Whatever ends the test (a failure, ctest's timeout, Ctrl-C), `finally` stops every process.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_signal)
    signal.alarm(TEST_BUDGET_S)
    ok = False
    try:
        log(f"topic {cluster.topic}, deployment {cluster.deployment}, broker {BOOTSTRAP}, "
            f"{PARTITIONS} partitions, session timeout {SESSION_TIMEOUT_MS} ms")
        figures["start of 3 processes"] = cluster.up(3)
        log(f"3 processes ready in {figures['start of 3 processes']:.1f} s: " +
            ", ".join(f"s{n} writes {sorted(cluster.owned(n) or [])}" for n in (1, 2, 3)))

        load = Load(cluster, stamp)
        load.start()
        time.sleep(8)
        log(f"steady load: {len(load.acks)} commands acknowledged")

        # ---- kill -9 one process, then start it again; then once more, the others still the
        # processes that fenced its first incarnation
        crash(cluster, load, 2, "kill -9 s2", figures, problems)
        time.sleep(3)
        crash(cluster, load, 2, "kill -9 s2 again", figures, problems)
        time.sleep(3)

        # ---- rolling restart
        load.phase = "rolling restart"
        for n in (1, 2, 3):
            took = cluster.run("restart", str(n))
            figures[f"rolling restart of s{n} (SIGTERM until ready)"] = took
            log(f"s{n} restarted (SIGTERM, start, ready) in {took:.1f} s")
            time.sleep(2)

        # ---- a fourth process (its projection built from offset 0)
        load.phase = "add s4"
        t_add = time.monotonic()
        cluster.processes = 4
        cluster.run("add")
        figures["add s4 (until ready)"] = time.monotonic() - t_add
        load.add_target(cluster.address(4))
        time.sleep(2)
        log(f"s4 added in {figures['add s4 (until ready)']:.1f} s: " +
            ", ".join(f"s{n} writes {sorted(cluster.owned(n) or [])}" for n in (1, 2, 3, 4)))

        # ---- a second deployment on the same topic (every partition has events by now)
        by_partition = {}
        for a in load.acks:
            by_partition.setdefault(a.partition, a.account_id)
        if len(by_partition) != PARTITIONS:
            raise Failure(f"the load reached only partitions {sorted(by_partition)}")
        load.phase = "second deployment"
        foreign, foreign_log, foreign_address = start_foreign(cluster, work)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and foreign.poll() is None and \
                not log_lines(foreign_log, "FOREIGN_WRITER|listening on"):
            time.sleep(0.2)
        time.sleep(3)  # its writers restore and refuse
        foreign_answers = []
        if foreign.poll() is None:
            foreign_answers = try_foreign(cluster, foreign_address, by_partition, stamp)
        foreign_exit = foreign.poll()
        if foreign_exit is None:
            foreign.terminate()
            try:
                foreign.wait(15)
            except subprocess.TimeoutExpired:
                foreign.kill()
                foreign.wait()
        alerts = log_lines(foreign_log, "FOREIGN_WRITER")
        accepted = [a for a in foreign_answers if a[2] == "OK"]
        log(f"second deployment: {'exited ' + str(foreign_exit) if foreign_exit is not None else 'ran'}"
            f", {len(alerts)} FOREIGN_WRITER log lines, answers: " +
            (", ".join(sorted({f'{c} {r}' for _, _, c, r in foreign_answers})) or "none"))
        if accepted:
            problems.append(f"the second deployment accepted commands: {accepted}")
        if not alerts:
            problems.append("the second deployment's log has no FOREIGN_WRITER line")
        time.sleep(2)

        load.finish()
        log(f"load stopped: {len(load.acks)} commands acknowledged, "
            f"{sum(1 for a in load.acks if a.deduplicated)} of them as repeats")

        # ---- checks
        checker, events = read_topic(cluster.topic)
        log(f"topic read: {checker.records} events, {len(events)} accounts")
        if checker.problem_count:
            problems += [f"log: {p}" for p in checker.problems]
        problems += load.problems
        duplicates = check_log(load, events, cluster.deployment, problems)
        compared = check_projections(cluster, events, problems)
        sample = sorted(events)[:: max(1, len(events) // 8)][:8]
        whole = verify(cluster, sample, problems)
        log(f"{compared} accounts compared on 4 processes; VerifyAuditTrail: whole topic "
            f"intact={whole.intact} ({whole.events_checked} events), {len(sample)} accounts one by one")

        waits = sorted(((a.waited, a.command_id) for a in load.acks if a.waited > 0), reverse=True)
        print("\n==== figures")
        print(f"commands acknowledged: {len(load.acks)}; refused first and retried: {len(waits)}; "
              f"in the log twice: {duplicates}")
        if waits:
            print(f"longest wait from a command's first refusal to its success: {waits[0][0]:.2f} s "
                  f"({waits[0][1]}); 99th percentile of retried commands: "
                  f"{waits[len(waits) // 100][0]:.2f} s")
        for name, value in figures.items():
            print(f"{name}: {value:.2f} s")
        phases = {}
        for a in load.acks:
            if a.waited > phases.get(a.phase, 0.0):
                phases[a.phase] = a.waited
        print("longest wait by what the test was doing at the command's last refusal: " +
              ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
        print("refusals seen by the clients (code, reason: count): " +
              ", ".join(f"{c} {r or '-'}: {k}" for (c, r), k in sorted(load.refusals.items())))
        for n in range(1, cluster.processes + 1):
            for line in log_lines(cluster.log_path(n), r"ALERT|fencing its writers|could not start"):
                print(f"s{n} log: {line[:200]}")
        print(f"runtime: {time.monotonic() - started_at:.0f} s")
        if problems:
            print(f"\nFAILED: {len(problems)} problems", file=sys.stderr)
            for p in problems[:40]:
                print(f"  {p}", file=sys.stderr)
            return 1
        ok = True
        print("PASSED")
        return 0
    except Failure as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        if load is not None:
            load.stop.set()
        if foreign is not None and foreign.poll() is None:
            foreign.kill()
        cluster.down()
        if not ok:
            for n in range(1, max(cluster.processes, 3) + 1):
                print(f"--- s{n} log (last 15 lines)", file=sys.stderr)
                for line in log_lines(cluster.log_path(n), "")[-15:]:
                    print(f"  {line[:300]}", file=sys.stderr)
        # COLLECTIONS_TEST_KEEP=1 keeps the state and logs of a failed run, =always of every run.
        keep = os.environ.get("COLLECTIONS_TEST_KEEP", "")
        if keep != "always" and (ok or not keep):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
