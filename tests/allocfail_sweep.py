"""Allocation failures: rpcd under tests/alloc_shim.c, run by allocfail.sh.

usage: allocfail_sweep.py RPCD SHIM [N ...]

A run of rpcd with the shim's ALLOCFAIL_N=0 counts the allocations
(malloc, calloc, realloc) of one script: start-up up to the first
accept(), then three connections, B (a bystander: a ping, then another
once V is done), V (five requests pipelined: ping, methods, stats, a bad
request and a 20 kB ping) and G (a ping), then SIGTERM.  Then the script
runs again once for each N, with allocation N failing: every N from the
first accept to exit, and every N of start-up (a sample of 200 if there
are more).  For each N rpcd must either refuse to start, exiting 1 with
a log line, or serve: every connection gets each of its replies right,
or a right prefix then end of file, at most one connection is cut short,
G is served if N came before it, and SIGTERM ends rpcd with exit 0 and no
sanitizer report (a leak is one, under ASan).  Each failure names its N;
given N arguments, it runs those alone and shows rpcd's log for each.
"""

import os
import re
import sys
import tempfile

import rpcdtest

BIG = "v" * 20000
B_EXPECT = [("pong", "b0"), ("pong", "b1")]
V_EXPECT = [("pong", "v1"), ("methods", None), ("stats", None),
            ("error", None), ("pong", BIG)]
G_EXPECT = [("pong", "g")]
STARTUP_SAMPLE = 200


def judge(got, expect, closed):
    """full, cut (a right prefix, then closed) or a reason it is wrong."""
    for reply, (kind, result) in zip(got, expect):
        if reply.get("out") != kind or (result is not None and
                                        reply.get("result") != result):
            return "wrong reply %.80r for %s" % (reply, kind)
    if len(got) == len(expect):
        return "full"
    return "cut" if closed else "neither answered nor closed"


def exchange(sock, frames, n):
    """Send frames, read up to n replies; return (replies, closed)."""
    got = []
    try:
        sock.sendall(b"".join(frames))
        while len(got) < n:
            reply = rpcdtest.recv_reply(sock)
            if reply is None:
                return got, True
            got.append(reply)
    except (BrokenPipeError, ConnectionResetError):
        return got, True
    except OSError:
        return got, False
    return got, False


def script(addr):
    """Run B, V and G against addr; return the verdict on each, and
    whether rpcd answered at all."""
    verdict = {}
    replies = 0
    try:
        b = rpcdtest.connect(addr, timeout=5)
        got_b, closed = exchange(b, [rpcdtest.request("ping", "b0")], 1)
        v = rpcdtest.connect(addr, timeout=5)
        got, vclosed = exchange(v, [
            rpcdtest.request("ping", "v1"), rpcdtest.request("methods"),
            rpcdtest.request("stats"), rpcdtest.frame(b'{"in": "ping"'),
            rpcdtest.request("ping", BIG)], len(V_EXPECT))
        verdict["V"] = judge(got, V_EXPECT, vclosed)
        replies += len(got)
        v.close()
        if not closed:
            more, closed = exchange(b, [rpcdtest.request("ping", "b1")], 1)
            got_b += more
        verdict["B"] = judge(got_b, B_EXPECT, closed)
        replies += len(got_b)
        b.close()
        g = rpcdtest.connect(addr, timeout=5)
        got, closed = exchange(g, [rpcdtest.request("ping", "g")], 1)
        verdict["G"] = judge(got, G_EXPECT, closed)
        replies += len(got)
        g.close()
    except OSError as e:
        verdict["connect"] = "cannot connect: %s" % e
    return verdict, replies > 0


def shim_log(path):
    """The shim's notes: the counts at each accept, at exit, failures."""
    accepts, exit_count, failed = [], None, 0
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                _, what, count, nfailed = line.split()
                if what == "accept":
                    accepts.append(int(count))
                else:
                    exit_count = int(count)
                failed = max(failed, int(nfailed))
        os.unlink(path)
    return accepts, exit_count, failed


def run(rpcd, env, n, log):
    """Run the script with allocation n failing; return (problems, the
    shim's notes, rpcd's log)."""
    env = dict(env, ALLOCFAIL_N=str(n), ALLOCFAIL_LOG=log)
    server = rpcdtest.start(rpcd, env=env)
    problems, verdict, served = [], {}, False
    if server.addr is None:
        status = server.proc.wait()
    else:
        verdict, served = script(server.addr)
        status = server.stop()
    text = server.log()
    notes = shim_log(log)
    if not served:
        # Refused to start: it says why, in one line, and exits 1 (2 if
        # the -l address could not be resolved).
        last = text.splitlines()[-1] if text else ""
        if status not in (1, 2) or not re.search(r"rpcd\b.*: .", last):
            problems.append("no service, exit status %s, last line %r" %
                            (status, last))
    else:
        if status != 0:
            problems.append("exit status %s after SIGTERM" % status)
        problems += [k + ": " + v for k, v in sorted(verdict.items())
                     if v not in ("full", "cut")]
        cut = [k for k, v in sorted(verdict.items()) if v == "cut"]
        if len(cut) > 1:
            problems.append("%s all cut short" % ", ".join(cut))
        accepts = notes[0]
        if len(accepts) >= 3 and n <= accepts[2] and "G" in cut:
            problems.append("G cut short, after the failure")
    report = rpcdtest.sanitizer_report(text)
    if report is not None:
        problems.append(report)
    return problems, notes, text


def sweep(tap, rpcd, env, numbers, log, what):
    """Run each n; one check for them all, naming the n that failed.
    Return how many allocations the shim failed, and in how many runs
    none was failed because the run made fewer than n allocations (how
    many a run makes varies a little with timing: how a request is split
    over reads, how the select backend grows its sets)."""
    bad, injected, short = [], 0, 0
    for n in numbers:
        problems, notes, text = run(rpcd, env, n, log)
        injected += notes[2]
        if notes[2] == 0 and notes[1] is not None and notes[1] < n:
            short += 1
        if problems:
            bad.append((n, problems, text))
    tap.ok(not bad, "%s: each of %d N (%d..%d) refused or served" %
           (what, len(numbers), numbers[0], numbers[-1]))
    for n, problems, text in bad[:5]:
        tap.diag("N=%d: %s" % (n, "; ".join(problems)))
        tap.diag("\n".join(text.splitlines()[-8:]))
    if len(bad) > 5:
        tap.diag("and %d N more: %s" %
                 (len(bad) - 5, " ".join(str(b[0]) for b in bad[5:])))
    return injected, short


def main():
    rpcd, shim = sys.argv[1], sys.argv[2]
    tap = rpcdtest.Tap()
    asan = os.environ.get("ASAN_OPTIONS", "")
    env = dict(os.environ, LD_PRELOAD=shim, ASAN_OPTIONS=(
        asan + ":" if asan else "") + "verify_asan_link_order=0")
    log = os.path.join(tempfile.mkdtemp(prefix="rpcd-allocfail."), "log")
    if len(sys.argv) > 3:
        env["ALLOCFAIL_BACKTRACE"] = "1"
        for n in map(int, sys.argv[3:]):
            problems, notes, text = run(rpcd, env, n, log)
            tap.ok(not problems, "N=%d: %s" % (n, "; ".join(problems)))
            tap.diag("shim: accepts at %r, exit at %s, %d failed\n%s" %
                     (notes + (text,)))
        os.rmdir(os.path.dirname(log))
        return tap.done()

    problems, (accepts, total, _), text = run(rpcd, env, 0, log)
    if total == 0 or (not accepts and not problems):
        print("1..0 # SKIP the shim sees no allocation: a sanitizer "
              "runtime linked into rpcd comes before any LD_PRELOAD")
        return 0
    if not tap.ok(not problems and len(accepts) == 3 and total is not None,
                  "counting run: %s allocations at start-up, %s in all" %
                  (accepts[0] if accepts else "?", total)):
        tap.diag("; ".join(problems) or "accepts %r" % accepts)
        tap.diag(text)
        return tap.done()
    start = accepts[0]
    step = max(1, start // STARTUP_SAMPLE)
    startup = list(range(1, start + 1, step))
    if startup[-1] != start:
        startup.append(start)
    conn = list(range(start + 1, total + 1))
    injected, short = sweep(tap, rpcd, env, startup, log, "start-up")
    more = sweep(tap, rpcd, env, conn, log, "connections, replies and exit")
    injected, short = injected + more[0], short + more[1]
    runs = len(startup) + len(conn)
    # Every run failed its allocation, but for a few near the end that
    # allocated less than the counting run did.
    tap.ok(injected + short == runs and short <= runs // 20,
           "the shim failed %d allocations, one per run of %d "
           "(%d runs made fewer than N)" % (injected, runs, short))
    os.rmdir(os.path.dirname(log))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
