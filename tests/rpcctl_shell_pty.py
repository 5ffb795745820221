#!/usr/bin/env python3
# rpcctl's interactive shell driven through a pseudo-terminal, as a user
# would: rpcctl_shell_pty.py SCENARIO RPCCTL SOCKET [RPCD MODULE].  Every wait
# is for output matching a pattern, bounded by a deadline; nothing sleeps.
# Exit 0 if the scenario saw what it expected, else 1 with what it saw.
#
#   history     a command run in one session is recalled with the up
#               arrow in the next ($HOME/.rpcctl_history)
#   complete    a method of the test module completed by TAB, and run
#   multiline   params over three lines, sent once they balance
#   reconnect   rpcd (started here, on SOCKET) stopped: the next command
#               says so and the prompt too; rpcd started again on the same
#               socket, now with MODULE: the next command works, the
#               prompt names it, the module's methods complete

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

DEADLINE = 30  # seconds for any one pattern: generous, for a loaded host


class Shell:
    """rpcctl -S unix:SOCK on a pseudo-terminal, once it has prompted."""

    def __init__(self, rpcctl, sock):
        env = dict(os.environ, TERM="xterm")
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(rpcctl, [rpcctl, "-S", "unix:" + sock], env)
        self.seen = b""
        self.prompt = re.escape("unix:" + sock + "> ")
        self.expect(self.prompt)

    def expect(self, pattern):
        """Read until pattern matches what came since the last match."""
        end = time.monotonic() + DEADLINE
        rx = re.compile(pattern.encode())
        while True:
            m = rx.search(self.seen)
            if m:
                self.seen = self.seen[m.end():]
                return
            left = end - time.monotonic()
            if left <= 0:
                fail("no %r within %d s; saw %r" % (pattern, DEADLINE,
                                                   self.seen))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    fail("rpcctl ended before %r; saw %r" % (pattern,
                                                            self.seen))
                self.seen += data

    def type(self, keys, *patterns):
        """Type keys, then await each pattern in turn."""
        os.write(self.fd, keys.encode())
        for pattern in patterns:
            self.expect(pattern)

    def quit(self):
        """quit, and the shell's exit status."""
        self.type("quit\r")
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def history(rpcctl, sock):
    sh = Shell(rpcctl, sock)
    sh.type('call echo "remembered"\r', '"remembered"\r?\n', sh.prompt)
    sh.quit()
    sh = Shell(rpcctl, sock)
    # Up twice: the quit of session 1, then the call before it.
    sh.type("\x1b[A\x1b[A\r", '\r?\n"remembered"\r?\n', sh.prompt)
    sh.quit()


def complete(rpcctl, sock):
    sh = Shell(rpcctl, sock)
    # "whoa" is the test module's one method starting so; libedit writes
    # what completion added, "mi ", after it.
    sh.type("whoa\t", "mi ")
    sh.type("\r", '"address":', sh.prompt)
    sh.type("call ech\t", "o ")
    sh.type('"completed"\r', '\r?\n"completed"\r?\n', sh.prompt)
    sh.quit()


def multiline(rpcctl, sock):
    sh = Shell(rpcctl, sock)
    sh.type('call echo {"list": [1,\r', r"\.\.\. ")
    sh.type('"two ]}",\r', r"\.\.\. ")
    sh.type("3]}\r", r'"list":\s*\[\s*1,\s*"two \]}",\s*3\s*\]',
            sh.prompt)
    if sh.quit() != 0:
        fail("the shell did not exit 0")


def rpcd_start(rpcd, sock, *args):
    log = open(sock + ".log", "w+")
    p = subprocess.Popen([rpcd, "-l", "unix:" + sock] + list(args),
                         stderr=log)
    end = time.monotonic() + DEADLINE
    while True:
        log.seek(0)
        if "listening on" in log.read():
            return p
        if p.poll() is not None or time.monotonic() > end:
            p.kill()
            fail("rpcd did not start")
        # rpcd says nothing when it listens but in its log: poll it.
        time.sleep(0.05)


def rpcd_stop(p):
    p.send_signal(signal.SIGTERM)
    p.wait(DEADLINE)


def reconnect(rpcctl, sock, rpcd, module):
    # First without the module, then with it: its methods complete only
    # if they are asked again after the reconnect.
    p = rpcd_start(rpcd, sock)
    try:
        sh = Shell(rpcctl, sock)
        sh.type("ping\r", "pong", sh.prompt)
        rpcd_stop(p)
        sh.type("ping\r", r"\(error\) [^\r\n]*" + re.escape(sock),
                "not connected> ")
        sh.type("ping\r", r"\(error\) cannot connect to ",
                "not connected> ")
        p = rpcd_start(rpcd, sock, "-m", module)
        sh.type('call echo "back"\r', '\r?\n"back"\r?\n', sh.prompt)
        sh.type("whoa\t", "mi ")
        sh.type("\r", '"address":', sh.prompt)
        sh.quit()
    finally:
        if p.poll() is None:
            rpcd_stop(p)


def main():
    scenario, rpcctl, sock = sys.argv[1:4]
    if scenario == "reconnect":
        reconnect(rpcctl, sock, sys.argv[4], sys.argv[5])
    else:
        {"history": history, "complete": complete,
         "multiline": multiline}[scenario](rpcctl, sock)
    print("ok")


main()
