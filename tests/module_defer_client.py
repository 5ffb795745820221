"""Calls a module answers later (tests/module_defer.sh).

The test module's later method answers from a timer of the worker's
event loop, hold waits for a call of release.  On one connection the
replies keep the order of the requests whatever order they are answered
in, while other connections are answered meanwhile; past --max-inflight
calls unanswered, reading from the connection pauses.  A call past its
deadline is answered timeout and cancelled, as are the calls of a client
that goes away; the module's counts method tells what it was told.
"""

import re
import select
import struct
import sys
import time
import urllib.request

import rpcdtest


def call(sock, name, params=None):
    sock.sendall(rpcdtest.request(name, params))
    return rpcdtest.recv_reply(sock)


def reply(name, result):
    return {"out": name, "result": result}


def error(code):
    return {"out": "error", "result": {"code": code}}


def strip(r):
    """A reply with an error's message left out, to compare codes."""
    if r and r.get("out") == "error" and isinstance(r.get("result"), dict):
        return {"out": "error", "result": {"code": r["result"].get("code")}}
    return r


def method_stats(sock, name):
    """The counters of method name, from the stats method."""
    for m in call(sock, "stats")["result"]["methods"]:
        if m["name"] == name:
            return m
    return None


def wait_stats(sock, name, key, value, seconds=10):
    """Wait until method name's counter key is value; the last seen."""
    deadline = time.monotonic() + seconds
    while True:
        got = method_stats(sock, name)[key]
        if got == value or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def readable(sock, seconds):
    return bool(select.select([sock], [], [], seconds)[0])


def start(tap, rpcd, args):
    """rpcd with args; its metrics address too, if it serves them."""
    server = rpcdtest.start(rpcd, args)
    if server.addr is None:
        tap.ok(False, "rpcd %s starts" % " ".join(args))
        tap.diag(server.log())
        sys.exit(tap.done())
    server.metrics = None
    deadline = time.monotonic() + 10
    while "--metrics-listen" in args and server.metrics is None and \
            time.monotonic() < deadline:
        for line in list(server.lines):
            m = re.search(r"serving metrics on http://(\S+)/metrics", line)
            if m:
                server.metrics = m.group(1)
        time.sleep(0.02)
    return server


def stop(tap, server, what):
    tap.ok(server.stop() == 0, "%s: rpcd exits 0 on SIGTERM" % what)
    report = rpcdtest.sanitizer_report(server.log())
    tap.ok(report is None, "%s: no sanitizer report" % what)
    if report is not None:
        tap.diag(report)


def order(tap, server):
    """[later 50 ms, echo, later 10 ms, echo] pipelined on a, b meanwhile."""
    a = rpcdtest.connect(server.addr)
    b = rpcdtest.connect(server.addr)
    tap.ok(call(a, "later", [10, "x"]) == reply("later", "x"),
           "a deferred call is answered")
    want = [reply("later", "a"), reply("echo", 1), reply("later", "b"),
            reply("echo", 2), error("unknown_method")]
    # The other connection races a 50 ms timer: on a loaded machine it
    # may lose now and then, never three times in a row.
    for _ in range(3):
        a.sendall(rpcdtest.request("later", [50, "a"]) +
                  rpcdtest.request("echo", 1) +
                  rpcdtest.request("later", [10, "b"]) +
                  rpcdtest.request("echo", 2) +
                  rpcdtest.request("nosuchmethod"))
        t0 = time.monotonic()
        rb = call(b, "echo", "b")
        tb = time.monotonic() - t0
        got = [rpcdtest.recv_reply(a)]
        ta = time.monotonic() - t0
        got += [rpcdtest.recv_reply(a) for _ in range(4)]
        if rb != reply("echo", "b") or tb < ta:
            break
    tap.ok([strip(r) for r in got] == want,
           "pipelined replies keep the order of the requests")
    if [strip(r) for r in got] != want:
        tap.diag("got %r" % got)
    tap.ok(rb == reply("echo", "b") and tb < ta,
           "another connection is answered meanwhile (after %.1f ms, the "
           "50 ms call after %.1f ms)" % (tb * 1000, ta * 1000))
    # Timers may fire a millisecond early; t0 is taken after the send.
    tap.ok(ta >= 0.04, "the deferred reply came after its 50 ms")

    # hold answers only when release is called: no clock involved.
    a.sendall(rpcdtest.request("hold", "h") + rpcdtest.request("echo", 3))
    tap.ok(wait_stats(b, "hold", "in_flight", 1) == 1,
           "a held call is in flight")
    tap.ok(call(b, "echo", 4) == reply("echo", 4),
           "another connection is answered while it is")
    tap.ok(not readable(a, 0.2),
           "the reply of a call after it waits for it")
    tap.ok(method_stats(b, "echo")["calls"] >= 3,
           "though that call was answered already")
    tap.ok(call(b, "release") == reply("release", 1), "release answers it")
    tap.ok([rpcdtest.recv_reply(a) for _ in range(2)] ==
           [reply("hold", "h"), reply("echo", 3)],
           "then both replies come, in order")
    tap.ok(method_stats(b, "hold")["in_flight"] == 0,
           "nothing is in flight any more")
    a.close()
    b.close()


def counts(sock):
    return call(sock, "counts")["result"]


def wait_counts(sock, key, value, seconds=10):
    """Wait until the module's count key is value; the last seen."""
    deadline = time.monotonic() + seconds
    while True:
        got = counts(sock)[key]
        if got == value or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def deadlines(tap, server):
    """A method's timeout_ms, and a client that goes away."""
    a = rpcdtest.connect(server.addr)
    b = rpcdtest.connect(server.addr)
    t0 = time.monotonic()
    r = call(a, "deadline", [5000, "late"])
    took = time.monotonic() - t0
    tap.ok(strip(r) == error("timeout"),
           "a call past its method's timeout_ms is answered timeout")
    tap.ok(0.09 <= took < 4, "by its deadline of 100 ms (%.0f ms)"
           % (took * 1000))
    tap.ok(counts(b)["cancels"] == 1,
           "and the module's cancel callback was called")
    m = method_stats(b, "deadline")
    tap.ok((m["calls"], m["errors"], m["timeouts"], m["in_flight"]) ==
           (1, 1, 1, 0), "stats count it a timeout")
    with urllib.request.urlopen("http://%s/metrics" % server.metrics,
                                timeout=10) as f:
        text = f.read().decode()
    tap.ok(re.search(r'^rpcd_request_timeouts_total\{method="deadline",frontend="framed"\} 1$',
                     text, re.M) is not None, "so does /metrics")
    a.sendall(rpcdtest.request("deadline", [5000, "late"]) +
              rpcdtest.request("echo", 5))
    tap.ok([strip(rpcdtest.recv_reply(a)) for _ in range(2)] ==
           [error("timeout"), reply("echo", 5)],
           "a timeout keeps its place in the order of the replies")

    c = rpcdtest.connect(server.addr)
    c.sendall(rpcdtest.request("hold", "gone") +
              rpcdtest.request("later", [5000, "gone"]) +
              rpcdtest.request("echo", 6))
    tap.ok(wait_stats(b, "later", "in_flight", 1) == 1 and
           method_stats(b, "hold")["in_flight"] == 1,
           "a client has calls held and deferred")
    c.close()
    tap.ok(wait_counts(b, "cancels", 4) == 4,
           "it goes away: the module's cancel is called for each")
    tap.ok(method_stats(b, "hold")["in_flight"] == 0 and
           method_stats(b, "later")["in_flight"] == 0,
           "and they are no longer in flight")
    tap.ok(call(b, "release") == reply("release", 0),
           "the module holds none any more")
    tap.ok(call(a, "echo", 7) == reply("echo", 7),
           "other connections are served on")
    a.close()
    b.close()


def call_timeout(tap, server):
    """--call-timeout 1, and a method without a cancel callback."""
    a = rpcdtest.connect(server.addr)
    t0 = time.monotonic()
    r = call(a, "later_nc", [2500, "late"])
    took = time.monotonic() - t0
    tap.ok(strip(r) == error("timeout") and 0.9 <= took < 2.4,
           "--call-timeout 1 answers timeout after a second (%.0f ms)"
           % (took * 1000))
    tap.ok(counts(a)["cancels"] == 0 and counts(a)["refused"] == 0,
           "a method without cancel is not told")
    tap.ok(wait_counts(a, "refused", 1) == 1,
           "its reply, when it comes, is refused")
    tap.ok(call(a, "echo", 8) == reply("echo", 8),
           "and the connection goes on")
    a.close()


def offload(tap, server):
    """--offload-threads 1 --offload-queue 1."""
    a = rpcdtest.connect(server.addr)
    b = rpcdtest.connect(server.addr)
    c = rpcdtest.connect(server.addr)
    tap.ok(call(a, "work", [10, "w"]) == reply("work", "w"),
           "an offloaded call is answered")
    tap.ok(strip(call(a, "work", [0, "fail"])) == error("nope"),
           "with an error of its work function's too")

    # The one thread busy, one call queued: the next is answered busy.
    started = counts(c)["started"]
    a.sendall(rpcdtest.request("work", [20000, "long"]))
    tap.ok(wait_counts(c, "started", started + 1) == started + 1,
           "a long work function runs")
    b.sendall(rpcdtest.request("work", [0, "queued"]))
    tap.ok(wait_stats(c, "work", "in_flight", 2) == 2,
           "another call waits in the queue")
    t0 = time.monotonic()
    r = call(c, "work", [0, "more"])
    tap.ok(strip(r) == error("busy"), "a full queue answers busy")
    tap.ok(time.monotonic() - t0 < 5, "at once")
    stopped = counts(c)["stopped"]
    cancels = counts(c)["cancels"]
    a.close()
    tap.ok(wait_counts(c, "stopped", stopped + 1) == stopped + 1,
           "its client gone, the work function sees cancelled()")
    tap.ok(counts(c)["cancels"] == cancels + 1,
           "and the cancel callback was called")
    tap.ok(rpcdtest.recv_reply(b) == reply("work", "queued"),
           "the thread takes the call queued")

    t0 = time.monotonic()
    r = call(b, "work_deadline", [20000, "late"])
    took = time.monotonic() - t0
    tap.ok(strip(r) == error("timeout") and took < 10,
           "an offloaded call past its deadline is answered timeout "
           "(%.0f ms)" % (took * 1000))
    tap.ok(wait_counts(c, "stopped", stopped + 2) == stopped + 2 and
           counts(c)["cancels"] == cancels + 2,
           "its work function sees cancelled(), its cancel is called")
    m = method_stats(c, "work_deadline")
    tap.ok((m["timeouts"], m["in_flight"]) == (1, 0),
           "stats count the timeout")
    tap.ok(call(b, "work", [0, "after"]) == reply("work", "after"),
           "the pool serves on")
    b.close()
    c.close()


def many(tap, server, nconns=4, ncalls=100):
    """Replies from four threads at once, on four connections."""
    socks = [rpcdtest.connect(server.addr) for _ in range(nconns)]
    a = socks[0]
    a.sendall(rpcdtest.request("work", [50, "o1"]) +
              rpcdtest.request("echo", 1) +
              rpcdtest.request("later", [10, "o2"]) +
              rpcdtest.request("work", [0, "o3"]))
    tap.ok([rpcdtest.recv_reply(a) for _ in range(4)] ==
           [reply("work", "o1"), reply("echo", 1), reply("later", "o2"),
            reply("work", "o3")],
           "offloaded, at once and deferred replies keep their order")
    for i, s in enumerate(socks):
        s.sendall(b"".join(rpcdtest.request("work", [0, "%d-%d" % (i, n)])
                           for n in range(ncalls)))
    good = 0
    for i, s in enumerate(socks):
        got = [rpcdtest.recv_reply(s) for _ in range(ncalls)]
        good += got == [reply("work", "%d-%d" % (i, n))
                        for n in range(ncalls)]
        s.close()
    tap.ok(good == nconns, "%d connections of %d offloaded calls each, "
           "answered by %s threads: every reply right and in order"
           % (nconns, ncalls, nconns))


def inflight(tap, server):
    """--max-inflight 2: a third request is not read until one is done."""
    a = rpcdtest.connect(server.addr)
    b = rpcdtest.connect(server.addr)
    a.sendall(rpcdtest.request("hold", 1) + rpcdtest.request("hold", 2) +
              rpcdtest.request("echo", 3))
    tap.ok(wait_stats(b, "hold", "in_flight", 2) == 2,
           "two calls held on one connection")
    tap.ok(method_stats(b, "echo")["calls"] == 0,
           "at --max-inflight 2, the third request is not read")
    tap.ok(wait_stats(b, "echo", "calls", 0, 0.2) == 0,
           "nor a moment later")
    tap.ok(call(b, "release") == reply("release", 2), "release answers both")
    tap.ok([rpcdtest.recv_reply(a) for _ in range(3)] ==
           [reply("hold", 1), reply("hold", 2), reply("echo", 3)],
           "reading resumes: all three answered, in order")
    a.close()
    b.close()


def too_large(tap, server):
    """A frame over --max-frame behind a held call: the calls read before it
    ran, so their replies come first, in order, once the held one is
    answered; then frame_too_large, then the end."""
    a = rpcdtest.connect(server.addr)
    b = rpcdtest.connect(server.addr)
    a.sendall(rpcdtest.request("hold", 1) + rpcdtest.request("ping", 2) +
              struct.pack("<I", 100000))
    tap.ok(wait_stats(b, "ping", "calls", 1) == 1,
           "a held call, a ping, then a frame over --max-frame")
    tap.ok(not readable(a, 0.2), "nothing is answered while the call is held")
    tap.ok(call(b, "release") == reply("release", 1), "release answers it")
    tap.ok([strip(rpcdtest.recv_reply(a)) for _ in range(4)] ==
           [reply("hold", 1), reply("pong", 2), error("frame_too_large"),
            None], "then both replies, in order, frame_too_large and the end")
    a.close()
    b.close()


# Each part: its function, what it is called, and rpcd's options.
PARTS = [
    (order, "deferred calls", []),
    (deadlines, "deadlines", ["--metrics-listen", "127.0.0.1:0"]),
    (call_timeout, "--call-timeout", ["--call-timeout", "1"]),
    (offload, "offload", ["--offload-threads", "1", "--offload-queue",
                            "1"]),
    (many, "four threads", ["--offload-threads", "4"]),
    (inflight, "--max-inflight", ["--max-inflight", "2"]),
    (too_large, "frame too large", ["--max-frame", "64"]),
]


def main():
    rpcd, module = sys.argv[1], sys.argv[2]
    tap = rpcdtest.Tap()
    for part, what, args in PARTS:
        server = start(tap, rpcd, ["-m", module] + args)
        part(tap, server)
        stop(tap, server, what)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
