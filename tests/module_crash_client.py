"""A module's handler that crashes under --prefork 2 (tests/module_crash.sh).

Connection A learns the pid of its worker from the test module's pid
method; connection B calls crash, which aborts its worker.  Under
--max-conns 1, A's worker is full and leaves new connections to the
worker with room (worker_full in server/worker.c), so B reaches the other
worker whichever the kernel would wake: no retrying on luck.  The master
must log the signal with the method and module that were running, and
respawn the worker, while A, on the surviving worker, goes on being
answered.  A worker killed between calls names no method.
"""

import os
import re
import resource
import signal
import sys
import time

import rpcdtest


def call(sock, name, params=None):
    sock.sendall(rpcdtest.request(name, params))
    return rpcdtest.recv_reply(sock)


def wait_log(server, pattern, seconds=10):
    """The first line of server's log matching pattern, within seconds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for line in list(server.lines):
            m = re.search(pattern, line)
            if m:
                return m
        time.sleep(0.05)
    return None


def main():
    rpcd, module = sys.argv[1], sys.argv[2]
    tap = rpcdtest.Tap()
    # The abort must leave no core file behind.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    server = rpcdtest.start(rpcd, ["-P", "2", "--max-conns", "1",
                                   "-m", module])
    if server.addr is None:
        tap.ok(False, "rpcd -P 2 -m testmod starts")
        tap.diag(server.log())
        return tap.done()
    # The master fills a worker's stats slot, which tells the other that
    # it has room, before it logs the start; it starts worker 0 first.
    if not tap.ok(wait_log(server, r"worker 1 started, pid") is not None,
                  "both workers start"):
        server.stop()
        tap.diag(server.log())
        return tap.done()
    a = rpcdtest.connect(server.addr)
    pid_a = (call(a, "pid") or {}).get("result")
    b = rpcdtest.connect(server.addr)
    pid_b = (call(b, "pid") or {}).get("result")
    if not tap.ok(pid_a is not None and pid_b not in (None, pid_a),
                  "a second connection reaches the other worker"):
        server.stop()
        tap.diag(server.log())
        return tap.done()
    tap.ok(call(b, "crash") is None,
           "the crashing handler's connection is closed")
    b.close()
    m = wait_log(server, r"worker (\d) \(pid %d\) killed by signal 6 "
                 r"while running method crash \(module test\)" % pid_b)
    tap.ok(m is not None, "the master's line names the signal, the method "
           "and its module")
    if m is not None:
        tap.ok(wait_log(server, r"worker %s started, pid (?!%d\b)"
                        % (m.group(1), pid_b)) is not None,
               "the worker is replaced")
    tap.ok(call(a, "ping", "still") == {"out": "pong", "result": "still"},
           "the other worker's connection is still served")
    tap.ok(call(a, "pid") == {"out": "pid", "result": pid_a},
           "by the same worker")
    a.close()
    c = rpcdtest.connect(server.addr)
    tap.ok(call(c, "ping", 1) == {"out": "pong", "result": 1},
           "new connections are served")
    c.close()
    # Between calls a worker runs no method: its death names none.
    os.kill(pid_a, signal.SIGKILL)
    tap.ok(wait_log(server, r"worker \d \(pid %d\) killed by signal 9$"
                    % pid_a) is not None,
           "a worker killed between calls is logged without a method")
    status = server.stop()
    tap.ok(status == 0, "rpcd exits 0 on SIGTERM")
    report = rpcdtest.sanitizer_report(server.log())
    tap.ok(report is None, "no sanitizer report")
    if report is not None:
        tap.diag(report)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
