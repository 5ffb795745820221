"""Chaos: rpcd -P 3 under load and random signals, run by chaos.sh.

usage: chaos_client.py RPCD RPCCTL [SECONDS]

Four reconnecting clients send pings, each with params of its own
("client-seq"), in batches of one to four, and check that the replies
echo them in order; a connection lives for a random number of batches.
Meanwhile, for SECONDS (default 6), every 50 to 300 ms comes one of:
SIGHUP to the master, SIGKILL to a random worker (at most one a second,
so that no slot dies at start often enough for the master to give up),
a burst of SIGUSR1 to the master or a worker, a burst of SIGHUP.  A
sampler reads rpcctl --json stats every 100 ms.  Then SIGTERM, with the
clients still running.

The invariants: no reply wrong or out of order; every request sent was
answered or its connection closed (answered + unanswered at close ==
sent, none hung past 5 s); the total requests, total_connections,
bytes_in and bytes_out never go down; the master exits 0; no worker it
ever had is left running.
"""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import deque

import rpcdtest

CLIENTS = 4
COUNTERS = ("requests", "total_connections", "bytes_in", "bytes_out")


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = self.answered = self.unanswered = self.hung = 0
        self.connections = self.wrong = 0
        self.wrong_examples = []

    def add(self, **kw):
        with self.lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)


def client(idx, addr, counts, stop):
    """Ping in batches over short connections until stop is set."""
    rng = random.Random(idx)
    seq = 0
    while not stop.is_set():
        try:
            sock = rpcdtest.connect(addr, timeout=5)
        except OSError:
            if stop.wait(0.01):
                break
            continue
        counts.add(connections=1)
        outstanding = deque()
        for _ in range(rng.randint(1, 30)):
            if stop.is_set():
                break
            frames = []
            for _ in range(rng.randint(1, 4)):
                seq += 1
                outstanding.append("%d-%d" % (idx, seq))
                frames.append(rpcdtest.request("ping", outstanding[-1]))
            counts.add(sent=len(frames))
            try:
                sock.sendall(b"".join(frames))
                while outstanding:
                    reply = rpcdtest.recv_reply(sock)
                    if reply is None:
                        break
                    want = outstanding.popleft()
                    counts.add(answered=1)
                    if reply != {"out": "pong", "result": want}:
                        counts.add(wrong=1)
                        if len(counts.wrong_examples) < 5:
                            counts.wrong_examples.append((want, reply))
            except (BrokenPipeError, ConnectionResetError):
                pass
            except OSError:
                counts.add(hung=len(outstanding))
                outstanding.clear()
            if outstanding:
                counts.add(unanswered=len(outstanding))
                break
        sock.close()


def children(pid):
    """The pids of pid's children, from /proc."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return {int(p) for p in f.read().split()}
    except OSError:
        return set()


def alive_as(pid, exe):
    """Is pid alive and running exe (not a zombie, not a reused pid)?"""
    try:
        return os.readlink("/proc/%d/exe" % pid) == exe
    except OSError:
        return False


class Sampler(threading.Thread):
    """rpcctl --json stats every 100 ms: totals and worker pids."""

    def __init__(self, rpcctl, addr, server):
        super().__init__(daemon=True)
        self.argv = [rpcctl, "-t", "2", "-S", "%s:%d" % addr, "--json",
                     "stats"]
        self.server = server
        self.stop = threading.Event()
        self.samples, self.failed, self.pids = [], 0, set()

    def run(self):
        while not self.stop.wait(0.1):
            self.pids |= children(self.server.proc.pid)
            out = subprocess.run(self.argv, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)
            if out.returncode != 0:
                self.failed += 1
                continue
            result = json.loads(out.stdout)["result"]
            self.pids |= {w["pid"] for w in result["workers"] if "pid" in w}
            self.samples.append(tuple(result["total"][k] for k in COUNTERS))


def chaos(server, seconds, log):
    """Signal the master and its workers at random for seconds."""
    rng = random.Random(17)
    master = server.proc.pid
    end = time.monotonic() + seconds
    last_kill = 0
    while time.monotonic() < end:
        time.sleep(rng.uniform(0.05, 0.3))
        workers = sorted(children(master))
        action = rng.choice(("hup", "kill", "usr1", "usr1-worker",
                             "hup-burst"))
        if action == "kill" and workers and time.monotonic() - last_kill > 1:
            victim = rng.choice(workers)
            os.kill(victim, signal.SIGKILL)
            last_kill = time.monotonic()
            log.append("SIGKILL %d" % victim)
        elif action == "hup":
            server.signal(signal.SIGHUP)
            log.append("SIGHUP")
        elif action == "usr1":
            for _ in range(rng.randint(2, 5)):
                server.signal(signal.SIGUSR1)
            log.append("SIGUSR1 burst")
        elif action == "usr1-worker" and workers:
            for _ in range(rng.randint(2, 5)):
                try:
                    os.kill(rng.choice(workers), signal.SIGUSR1)
                except ProcessLookupError:
                    pass
            log.append("SIGUSR1 burst to workers")
        elif action == "hup-burst":
            for _ in range(rng.randint(2, 4)):
                server.signal(signal.SIGHUP)
            log.append("SIGHUP burst")


def main():
    rpcd, rpcctl = sys.argv[1], sys.argv[2]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 6
    tap = rpcdtest.Tap()
    server = rpcdtest.start(rpcd, ["-P", "3", "--shutdown-timeout", "5"])
    if server.addr is None:
        tap.ok(False, "rpcd -P 3 starts")
        tap.diag(server.log())
        return tap.done()
    exe = os.readlink("/proc/%d/exe" % server.proc.pid)
    counts, stop = Counts(), threading.Event()
    clients = [threading.Thread(target=client,
                                args=(i, server.addr, counts, stop))
               for i in range(CLIENTS)]
    for t in clients:
        t.start()
    sampler = Sampler(rpcctl, server.addr, server)
    sampler.start()
    actions = []
    chaos(server, seconds, actions)
    # A slow machine (a sanitizer build under load) takes fewer samples
    # in the time: wait for enough of them, not for luck.
    deadline = time.monotonic() + 60
    while len(sampler.samples) <= 10 and time.monotonic() < deadline:
        time.sleep(0.1)
    sampler.pids |= children(server.proc.pid)
    sampler.stop.set()
    sampler.join()
    status = server.stop()
    stop.set()
    for t in clients:
        t.join(30)
    log = server.log()

    tap.diag("%d actions: %d SIGKILL, %d SIGHUP (bursts too), %d SIGUSR1 "
             "bursts" % (len(actions),
                         sum(a.startswith("SIGKILL") for a in actions),
                         sum(a.startswith("SIGHUP") for a in actions),
                         sum(a.startswith("SIGUSR1") for a in actions)))
    tap.diag("%d requests over %d connections: %d answered, %d unanswered "
             "at close" % (counts.sent, counts.connections, counts.answered,
                           counts.unanswered))
    tap.ok(counts.answered > 1000 and counts.connections > 100,
           "the clients kept working through it")
    tap.ok(counts.wrong == 0, "no reply wrong or out of order")
    for want, got in counts.wrong_examples:
        tap.diag("wanted pong %s, got %.100r" % (want, got))
    tap.ok(counts.hung == 0 and
           counts.answered + counts.unanswered == counts.sent,
           "every request answered or its connection closed "
           "(%d + %d == %d, %d hung)" % (counts.answered, counts.unanswered,
                                         counts.sent, counts.hung))
    down = [(a, b) for a, b in zip(sampler.samples, sampler.samples[1:])
            if any(y < x for x, y in zip(a, b))]
    tap.ok(len(sampler.samples) > 10 and not down,
           "%s never went down over %d samples (%d failed)" %
           ("/".join(COUNTERS), len(sampler.samples), sampler.failed))
    for a, b in down[:3]:
        tap.diag("%r then %r" % (a, b))
    tap.ok(status == 0, "the master exits 0 on SIGTERM (%s)" % status)
    left = sorted(p for p in sampler.pids if alive_as(p, exe))
    tap.ok(len(sampler.pids) > 3 and not left,
           "none of the %d workers seen is left behind %s" %
           (len(sampler.pids), left or ""))
    for line in (rpcdtest.sanitizer_report(log),):
        tap.ok(line is None, "no sanitizer report")
        if line is not None:
            tap.diag(line)
    if tap.failed:
        tap.diag("\n".join(log.splitlines()[-30:]))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
