"""contrib/zk/rpcd_discovery.py against 3, then 4 rpcd (tests/zk_contrib.sh).

Each rpcd loads the test module and registers in the real ZooKeeper at
argv[3].  The client must find every member and spread calls round robin
(counted by each rpcd's stats), take a member registered later, lose no
call while a member is stopped by SIGTERM under load, and send again to
the others the calls a member killed by SIGKILL held unanswered.  Every
wait is for a state, bounded by a deadline.
"""

import json
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import rpcdtest
import rpcd_discovery

RPCD, TESTMOD, ZK_HOSTS, TEST_DIR = sys.argv[1:5]
SERVERSET = "/rpcd/test/contrib"
WAIT = 30           # s: the bound of every wait for a state
DRAIN_DELAY = 8     # s: of the rpcd stopped by SIGTERM
CLI = rpcd_discovery.__file__
tap = rpcdtest.Tap()
servers = []


def start(drain_delay=1):
    """An rpcd registered in the serverset, its pid noted for the shell."""
    s = rpcdtest.start(RPCD, ["-m", TESTMOD,
                              "--drain-delay", str(drain_delay),
                              "--register", "zk://%s%s" % (ZK_HOSTS,
                                                           SERVERSET)])
    with open(os.path.join(TEST_DIR, "pids"), "a") as f:
        f.write("%d\n" % s.proc.pid)
    if s.addr is None:
        tap.diag(s.log())
        print("Bail out! rpcd did not start", flush=True)
        raise SystemExit(1)
    servers.append(s)
    return s


def wait_until(fn, seconds=WAIT):
    end = time.monotonic() + seconds
    while not fn():
        if time.monotonic() >= end:
            return False
        time.sleep(0.02)
    return True


def stats(server):
    """rpcd's stats, or None if it does not answer."""
    try:
        sock = rpcdtest.connect(server.addr)
        sock.sendall(rpcdtest.request("stats"))
        reply = rpcdtest.recv_reply(sock)
        sock.close()
    except OSError:
        return None
    return reply["result"] if reply else None


def connections(server):
    """The connections rpcd has open, the one asking included."""
    s = stats(server)
    return s["total"]["connections"] if s else None


def method_stats(server, name):
    """rpcd's stats of a method: {"calls": ..., "in_flight": ...}."""
    for m in (stats(server) or {"methods": []})["methods"]:
        if m["name"] == name:
            return m
    return {"calls": 0, "in_flight": 0}


def results(calls):
    """The (out, result) of each call, or why it failed."""
    got = []
    for call in calls:
        try:
            got.append(call.result())
        except rpcd_discovery.CallFailed as e:
            got.append(str(e))
    return got


def calls_of(name, among):
    return [method_stats(s, name)["calls"] for s in among]


def by_address(client):
    """The servers the client is connected to, by their address."""
    return sorted(client.members().values())


def addresses(among):
    return sorted(s.addr for s in among)


def spread(client, among, n, what):
    """n echo calls, pipelined: each answered with its params, n / len
    among of them by each server."""
    before = calls_of("echo", among)
    calls = [client.submit("echo", {"n": i}) for i in range(n)]
    got = results(calls)
    tap.ok(got == [("echo", {"n": i}) for i in range(n)],
           "%s: %d pipelined calls answered, each with its params"
           % (what, n))
    after = calls_of("echo", among)
    tap.ok([a - b for a, b in zip(after, before)] ==
           [n // len(among)] * len(among),
           "%s: %d calls to each rpcd, by its stats (%s, then %s)"
           % (what, n // len(among), before, after))


class Load:
    """Calls of later (answered 5 ms on), 8 unanswered at any time, until
    stopped; every answer checked against its call."""

    def __init__(self, client):
        self.client = client
        self.answered = []      # (value, member) of each call answered
        self.wrong = []
        self.failed = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        calls = []
        i = 0
        while not self._stop.is_set() or calls:
            while len(calls) < 8 and not self._stop.is_set():
                calls.append((i, self.client.submit("later", [5, i])))
                i += 1
            value, call = calls.pop(0)
            try:
                if call.result() != ("later", value):
                    self.wrong.append((value, call.reply))
                self.answered.append((value, call.member))
            except rpcd_discovery.CallFailed as e:
                self.failed.append((value, str(e)))

    def stop(self):
        self._stop.set()
        self._thread.join()


class Hostile:
    """A member that answers the first request of each connection with a
    bad reply, in turn: a length past any bound, a body that is not JSON,
    JSON nested past Python's recursion limit, JSON that is not a reply;
    then reads until the client closes."""

    REPLIES = (struct.pack("<I", 0xffffffff), rpcdtest.frame(b"{not json"),
               rpcdtest.frame(b"[" * 100000 + b"]" * 100000),
               rpcdtest.frame(b"[1]"))
    WHY = ("a reply of 4294967295 bytes", "Expecting property name",
           "maximum recursion depth exceeded", 'a reply without "out"')

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.addr = self.sock.getsockname()
        self.served = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            conn, _ = self.sock.accept()
            with conn:
                if conn.recv(65536):
                    conn.sendall(self.REPLIES[self.served %
                                              len(self.REPLIES)])
                    self.served += 1
                # Not closed before the client, so as not to reset it.
                while conn.recv(65536):
                    pass


class Warnings(logging.Handler):
    """What the client logs as warnings."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def hostile(client, a, d):
    """Members that are not rpcd: the client connects only to one with a
    serverset member's data, drops it at its bad reply, sends its calls to
    the others, and tries it again while it is listed."""
    bad = Hostile()
    warnings = Warnings()
    logging.getLogger("rpcd_discovery").addHandler(warnings)
    member = json.dumps({"serviceEndpoint": {"host": bad.addr[0],
                                             "port": bad.addr[1]},
                         "status": "ALIVE", "shard": 0}).encode()
    nodes = [client.zk.create(SERVERSET + "/member_", data, ephemeral=True,
                              sequence=True)
             # The member last: listed after those the client must skip.
             for data in (b"\xff not JSON", b"[]", b"[" * 100000,
                          b'{"serviceEndpoint": {"host": "127.0.0.1", '
                          b'"port": "x"}, "status": "ALIVE"}', member)]
    rpcds = {n for n, addr in client.members().items()
             if addr in (a.addr, d.addr)}
    for i, why in enumerate(Hostile.WHY):
        tap.ok(wait_until(lambda: by_address(client) ==
                          sorted([a.addr, d.addr, bad.addr])),
               "hostile: the client connects to a member that is not rpcd,"
               " and to none of 4 whose data is not a member (%d)" % i)
        calls = [client.submit("echo", {"bad": i, "n": n}) for n in range(9)]
        got = results(calls)
        tap.ok(got == [("echo", {"bad": i, "n": n}) for n in range(9)] and
               {call.member for call in calls} <= rpcds and
               any(why in m for m in warnings.messages),
               "hostile: %s: dropped, its calls answered by the rpcd" % why)
    tap.diag("\n".join(warnings.messages))
    for node in nodes:
        client.zk.delete(node)
    tap.ok(wait_until(lambda: by_address(client) == addresses([a, d])),
           "hostile: gone from the serverset, the client leaves it")


def main():
    # b's drain delay bounds the wait for the client to leave it.
    a, b, c = start(), start(DRAIN_DELAY), start()
    client = rpcd_discovery.Client(ZK_HOSTS, SERVERSET, timeout=WAIT)
    tap.ok(wait_until(lambda: by_address(client) == addresses([a, b, c])),
           "the client finds the 3 members and connects to each")
    spread(client, [a, b, c], 30, "3 members")

    # The command line, a client of its own: 30 calls, 10 to each.
    before = calls_of("echo", [a, b, c])
    cli = subprocess.run([sys.executable, CLI, "zk://%s%s" % (ZK_HOSTS,
                          SERVERSET), "echo", '{"cli": true}', "--count",
                          "30", "-v"], capture_output=True, text=True,
                         timeout=WAIT)
    tap.ok(cli.returncode == 0 and
           cli.stdout == '{"out": "echo", "result": {"cli": true}}\n' * 30,
           "the command line: 30 calls, 30 replies, exit 0")
    tap.diag(cli.stderr.strip())
    after = calls_of("echo", [a, b, c])
    tap.ok([x - y for x, y in zip(after, before)] == [10, 10, 10],
           "the command line: 10 calls to each rpcd")

    d = start()
    tap.ok(wait_until(lambda: by_address(client) ==
                      addresses([a, b, c, d])),
           "a 4th rpcd, registered later: the client connects to it")
    spread(client, [a, b, c, d], 40, "4 members")

    # SIGTERM of b while calls run: it leaves the serverset, then serves
    # for --drain-delay, then drains.
    load = Load(client)
    tap.ok(wait_until(lambda: len(load.answered) >= 100),
           "SIGTERM: a load of calls runs")
    b.signal(signal.SIGTERM)
    tap.ok(wait_until(lambda: b.addr not in by_address(client),
                      DRAIN_DELAY) and b.proc.poll() is None,
           "SIGTERM: the client drops the member ZooKeeper no longer has,"
           " while rpcd still serves (for --drain-delay)")
    tap.ok(wait_until(lambda: connections(b) == 1, DRAIN_DELAY) and
           b.proc.poll() is None,
           "SIGTERM: the client closes its connection once its calls are"
           " answered, before rpcd drains it")
    status = b.proc.wait(WAIT)
    at_exit = len(load.answered)
    tap.ok(status == 0, "SIGTERM: rpcd exits 0 (%s)" % status)
    tap.ok(wait_until(lambda: len(load.answered) >= at_exit + 100),
           "SIGTERM: the load goes on after it")
    load.stop()
    members = {m for _, m in load.answered}
    tap.ok(not load.failed and not load.wrong and
           sorted(v for v, _ in load.answered) ==
           list(range(len(load.answered))),
           "SIGTERM: 0 calls lost: %d answered, each with its value"
           % len(load.answered))
    tap.ok(len(members) == 4 and
           by_address(client) == addresses([a, c, d]),
           "SIGTERM: all 4 answered calls; then the client kept 3")
    tap.ok(client.resent == 0,
           "SIGTERM: so no call was sent again (%d)" % client.resent)
    if load.failed or load.wrong:
        tap.diag("failed: %s; wrong: %s" % (load.failed[:5], load.wrong[:5]))

    # SIGKILL of c while it holds calls: they must come back from a and d.
    resent = client.resent
    held = [client.submit("hold", {"held": i}) for i in range(30)]
    tap.ok(wait_until(lambda: [method_stats(s, "hold")["in_flight"]
                               for s in (a, c, d)] == [10, 10, 10]),
           "SIGKILL: 30 calls held, 10 by each rpcd")
    c.signal(signal.SIGKILL)
    c.proc.wait(WAIT)
    tap.ok(wait_until(lambda: sum(method_stats(s, "hold")["in_flight"]
                                  for s in (a, d)) == 30),
           "SIGKILL: the 10 calls it held are sent to the others")
    tap.ok(client.resent - resent == 10,
           "SIGKILL: the client counts 10 calls sent again (%d)"
           % (client.resent - resent))
    for s in (a, d):
        sock = rpcdtest.connect(s.addr)
        sock.sendall(rpcdtest.request("release"))
        rpcdtest.recv_reply(sock)
        sock.close()
    got = results(held)
    tap.ok(got == [("hold", {"held": i}) for i in range(30)],
           "SIGKILL: 0 calls lost: all 30 answered, each with its params")
    tap.ok(sorted(call.sends for call in held) == [1] * 20 + [2] * 10,
           "SIGKILL: the 10 calls sent to it were sent twice, no other")
    tap.ok(wait_until(lambda: by_address(client) == addresses([a, d])),
           "SIGKILL: the client keeps the 2 left")

    hostile(client, a, d)

    client.close()
    # Both at once, for the drain delays to overlap; once each, for a
    # second SIGTERM kills rpcd.
    for s in (a, d):
        s.signal(signal.SIGTERM)
    for s in (a, d):
        status = s.proc.wait(WAIT)
        tap.ok(status == 0, "rpcd exits 0 at SIGTERM (%s)" % status)
        report = rpcdtest.sanitizer_report(s.log())
        if report:
            tap.ok(False, "sanitizer: %s" % report)


try:
    main()
finally:
    for s in servers:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
sys.exit(tap.done())
