"""Hostile clients of --metrics-listen (issue 22, items 1-3).

Usage: metrics_hostile_clients.py RPCD

In a single process and under -P 2:
  - a request whose headers pass RPCD_METRICS_HEAD_MAX is answered 431,
    one with a body 413, and a client that sends a byte a second is
    closed at the RPCD_METRICS_TIMEOUT deadline, not held for ever;
  - while 1,000 slow and 1,000 over-limit clients are held, RPC pings are
    answered within 50 ms (95% of them: the machine is shared), new RPC
    connections are accepted and the log grows by less than 100 lines a
    second;
  - with rpcd's descriptors limited to fewer than the metrics clients,
    accept(2) fails with EMFILE: the process pauses instead of spinning
    (its CPU time stays low) and logs at most a few lines a second.
The clients run in a child process, so that the pings are timed by a
process that does nothing else.
"""

import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

import rpcdtest

RPCD = sys.argv[1]
CLIENTS = 1000          # of each kind
HOLD = 12               # seconds: past the 10 s deadline
DEADLINE = 10           # RPCD_METRICS_TIMEOUT
HEAD_MAX = 8192         # RPCD_METRICS_HEAD_MAX
PING_MAX = 0.050        # seconds
LOG_RATE = 100          # lines a second, at most
LOW_NOFILE = 40         # rpcd's limit for the out-of-descriptors case

t = rpcdtest.Tap()


def metrics_addr(r):
    """The metrics address rpcd logged, waiting for it a while."""
    for _ in range(100):
        for line in list(r.lines):
            m = re.search(r"serving metrics on http://([^/]*)/metrics$", line)
            if m:
                host, port = m.group(1).rsplit(":", 1)
                return (host, int(port))
        time.sleep(0.1)
    return None


def http(addr, data, timeout=5):
    """Send data, return all the server sends back until it closes.  The
    server may close before all is sent: what it answered is read all the
    same."""
    s = socket.create_connection(addr, timeout=timeout)
    got = b""
    try:
        s.sendall(data)
    except OSError:
        pass
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except OSError as e:
        got += ("<%s>" % e).encode()
    s.close()
    return got


def ping(sock, n):
    """One ping on sock: its round trip in seconds, None if unanswered."""
    start = time.monotonic()
    sock.sendall(rpcdtest.request("ping", n))
    try:
        reply = rpcdtest.recv_reply(sock)
    except OSError:
        return None
    if reply is None or reply.get("result") != n:
        return None
    return time.monotonic() - start


def flood(addr, seconds):
    """In a child: CLIENTS slow and CLIENTS over-limit metrics clients for
    seconds.  A slow one sends a byte of a request a second, never its
    end; an over-limit one 4 KiB of one header line a second.  Return the
    child's pid and a pipe that reads one byte once all are connecting."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid != 0:
        os.close(wfd)
        return pid, rfd
    os.close(rfd)
    try:
        socks = []
        for i in range(2 * CLIENTS):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(addr)
            socks.append(s)
        os.write(wfd, b"r")
        slow = b"GET /metrics HTTP/1.1\r\nX-Slow: " + b"s" * 100000
        big = b"GET /metrics HTTP/1.1\r\nX-Big: " + b"b" * 100000
        sent = [0] * len(socks)
        end = time.monotonic() + seconds
        turn = 0
        while time.monotonic() < end:
            # A twentieth of the clients every 50 ms: no burst.
            for i in range(turn % 20, len(socks), 20):
                try:
                    if i < CLIENTS:
                        sent[i] += socks[i].send(slow[sent[i]:sent[i] + 1])
                    else:
                        sent[i] += socks[i].send(big[sent[i]:sent[i] +
                                                     4096])
                except OSError:
                    pass
            turn += 1
            time.sleep(0.05)
    finally:
        os._exit(0)


def log_lines(r, start):
    return len(r.lines) - start


def cpu_seconds(pid):
    """User and system CPU time of pid so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metrics_pid(r, mode):
    """The process serving the metrics: rpcd itself, or the metrics
    process of -P 2."""
    if mode == "single":
        return r.proc.pid
    for _ in range(100):
        for line in list(r.lines):
            m = re.search(r"metrics server started, pid (\d+)$", line)
            if m:
                return int(m.group(1))
        time.sleep(0.1)
    return None


def hostile(mode, args):
    r = rpcdtest.start(RPCD, args + ["--metrics-listen", "127.0.0.1:0"])
    maddr = metrics_addr(r)
    if r.addr is None or maddr is None:
        t.ok(False, "%s: rpcd starts" % mode)
        t.diag(r.log())
        r.stop()
        return
    t.ok(http(maddr, b"GET /metrics HTTP/1.1\r\n\r\n").startswith(
        b"HTTP/1.1 200 "), "%s: GET /metrics: 200" % mode)

    got = http(maddr, b"GET /metrics HTTP/1.1\r\nX: " + b"x" * 65536 +
               b"\r\n\r\n")
    t.ok(got.startswith(b"HTTP/1.1 431 "),
         "%s: 64 KiB of headers: 431 (got %r)" % (mode, got[:40]))
    got = http(maddr, b"GET /" + b"x" * (64 * 1024 * 1024) +
               b" HTTP/1.1\r\n\r\n", timeout=20)
    t.ok(got.startswith(b"HTTP/1.1 431 "),
         "%s: a 64 MiB request line: 431 (got %r)" % (mode, got[:40]))
    got = http(maddr, b"GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\n"
               b"hello")
    t.ok(got.startswith(b"HTTP/1.1 413 "),
         "%s: a request body: 413 (got %r)" % (mode, got[:40]))
    got = http(maddr, b"GET /metrics HTTP/1.1\r\nX: " + b"x" *
               (HEAD_MAX - 64) + b"\r\n\r\n")
    t.ok(got.startswith(b"HTTP/1.1 200 "),
         "%s: headers just under the limit: 200" % mode)

    # The slow probe is accepted before the flood fills the cap.
    probe = socket.create_connection(maddr, timeout=1)
    probe.setblocking(False)
    probe_start = time.monotonic()
    rpc = rpcdtest.connect(r.addr, timeout=5)
    ping(rpc, 0)
    lines0 = len(r.lines)
    child, ready = flood(maddr, HOLD + 2)
    os.read(ready, 1)
    os.close(ready)

    times, lost, fresh, probe_closed = [], 0, 0, None
    request = b"GET /metrics HTTP/1.1\r\nX-Probe: " + b"p" * 100
    end = time.monotonic() + HOLD
    n = 0
    while time.monotonic() < end:
        n += 1
        rtt = ping(rpc, n)
        if rtt is None:
            lost += 1
        else:
            times.append(rtt)
        if n % 20 == 0:
            try:
                c = rpcdtest.connect(r.addr, timeout=2)
                fresh += ping(c, n) is not None
                c.close()
            except OSError:
                pass
        if probe_closed is None:
            try:
                if n % 10 == 1:
                    probe.send(request[n // 10:n // 10 + 1])
                if probe.recv(1) == b"":
                    probe_closed = time.monotonic() - probe_start
            except BlockingIOError:
                pass
            except OSError:
                probe_closed = time.monotonic() - probe_start
        time.sleep(0.05)
    lines = log_lines(r, lines0)
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)

    times.sort()
    t.diag("%s: %d pings, max %.1f ms, p99 %.1f ms, median %.1f ms; "
           "%d log lines in %d s" %
           (mode, len(times), 1000 * times[-1] if times else 0,
            1000 * times[len(times) * 99 // 100] if times else 0,
            1000 * times[len(times) // 2] if times else 0, lines, HOLD))
    t.ok(lost == 0 and len(times) > 50, "%s: every ping answered (%d lost)" %
         (mode, lost))
    # The machine is shared: a ping may wait for a core now and then
    # whatever rpcd does, so 95% of them, not all, are held to 50 ms, and
    # none may wait a second (the old code let them time out).
    t.ok(times and times[len(times) * 95 // 100] < PING_MAX and
         times[-1] < 1, "%s: 95%% of pings within %d ms, none past 1 s, "
         "while 2 x %d hostile metrics clients are held" %
         (mode, PING_MAX * 1000, CLIENTS))
    t.ok(fresh >= len(times) // 20 - 1,
         "%s: new RPC connections are served (%d)" % (mode, fresh))
    t.ok(lines < LOG_RATE * HOLD, "%s: the log grew by %d lines in %d s" %
         (mode, lines, HOLD))
    t.ok(probe_closed is not None and DEADLINE - 1 < probe_closed <
         DEADLINE + 2, "%s: a byte a second: closed at the %d s deadline "
         "(%s)" % (mode, DEADLINE, probe_closed))
    probe.close()
    rpc.close()

    ok = False
    for _ in range(150):
        if http(maddr, b"GET /metrics HTTP/1.0\r\n\r\n").startswith(
                b"HTTP/1.1 200 "):
            ok = True
            break
        time.sleep(0.1)
    t.ok(ok, "%s: after the flood /metrics answers" % mode)
    t.ok(r.stop() == 0, "%s: rpcd exits 0" % mode)
    raw = [line for line in r.lines if line.startswith("[")]
    t.ok(not raw, "%s: no raw libevent line (%s)" % (mode, raw[:1]))


def low_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOW_NOFILE, LOW_NOFILE))


def exhaust(mode, args):
    """More metrics clients than rpcd has descriptors: accept(2) fails."""
    r = rpcdtest.Rpcd.__new__(rpcdtest.Rpcd)
    r.proc = subprocess.Popen([RPCD, "-l", "127.0.0.1:0", "--metrics-listen",
                               "127.0.0.1:0"] + args,
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, preexec_fn=low_nofile)
    r.lines, r.addr = [], None
    r._listening = threading.Event()
    r._reader = threading.Thread(target=r._read, daemon=True)
    r._reader.start()
    r._listening.wait(20)
    maddr = metrics_addr(r)
    mpid = metrics_pid(r, mode)
    if r.addr is None or maddr is None or mpid is None:
        t.ok(False, "%s, %d descriptors: rpcd starts" % (mode, LOW_NOFILE))
        t.diag(r.log())
        r.stop()
        return
    rpc = rpcdtest.connect(r.addr, timeout=5)
    ping(rpc, 0)
    socks = []
    for _ in range(2 * LOW_NOFILE):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(maddr)
        socks.append(s)
    # Any line on accept(2) failing: the old code's said "accept" too.
    lines0 = len(r.lines)
    for _ in range(50):
        if any("accept" in line for line in r.lines[lines0:]):
            break
        time.sleep(0.1)
    pattern = "metrics: out of file descriptors"
    t.ok(any(pattern in line for line in list(r.lines)),
         "%s, %d descriptors: accept fails with EMFILE" % (mode, LOW_NOFILE))
    lines0, cpu0, start = len(r.lines), cpu_seconds(mpid), time.monotonic()
    times = []
    while time.monotonic() - start < 3:
        rtt = ping(rpc, len(times) + 1)
        times.append(rtt if rtt is not None else 99)
        time.sleep(0.05)
    spent = time.monotonic() - start
    cpu = cpu_seconds(mpid) - cpu0
    lines = log_lines(r, lines0)
    t.diag("%s, %d descriptors: %.2f s of CPU and %d log lines in %.1f s; "
           "pings max %.1f ms" % (mode, LOW_NOFILE, cpu, lines, spent,
                                  1000 * max(times)))
    t.ok(cpu < 0.1 * spent, "%s: no spin: %.2f s of CPU in %.1f s" %
         (mode, cpu, spent))
    t.ok(lines < 10 * spent, "%s: the log grew by %d lines in %.1f s" %
         (mode, lines, spent))
    t.ok(max(times) < 1, "%s: pings on an open connection are answered" %
         mode)
    for s in socks:
        s.close()
    ok = False
    for _ in range(150):
        try:
            c = rpcdtest.connect(r.addr, timeout=2)
            ok = ping(c, 1) is not None
            c.close()
        except OSError:
            pass
        if ok and http(maddr, b"GET /metrics HTTP/1.0\r\n\r\n").startswith(
                b"HTTP/1.1 200 "):
            break
        ok = False
        time.sleep(0.1)
    t.ok(ok, "%s: descriptors back, RPC and metrics accept again" % mode)
    rpc.close()
    t.ok(r.stop() == 0, "%s, %d descriptors: rpcd exits 0" %
         (mode, LOW_NOFILE))
    raw = [line for line in r.lines if line.startswith("[")]
    t.ok(not raw, "%s: no raw libevent line (%s)" % (mode, raw[:1]))


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2 * CLIENTS + 512
    if hard != resource.RLIM_INFINITY and hard < want:
        print("1..0 # SKIP %d descriptors needed, the hard limit is %d" %
              (want, hard))
        return 0
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    hostile("single", [])
    hostile("-P 2", ["-P", "2"])
    exhaust("single", [])
    exhaust("-P 2", ["-P", "2"])
    return t.done()


sys.exit(main())
