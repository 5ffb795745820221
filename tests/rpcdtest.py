"""Helpers for the Python tests: TAP output, rpcd on 127.0.0.1:0, frames.

The shell wrapper of each test runs it through libtool, so that argv
holds the real binaries (not libtool's wrapper scripts, which an
LD_PRELOAD would reach too) and the environment finds libproto.
"""

import json
import os
import signal
import socket
import struct
import subprocess
import threading


class Tap:
    """TAP output: ok() each check, done() for the plan and exit status."""

    def __init__(self):
        self.count = 0
        self.failed = 0

    def ok(self, good, desc):
        self.count += 1
        if not good:
            self.failed += 1
        print("%sok %d - %s" % ("" if good else "not ", self.count, desc),
              flush=True)
        return good

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def done(self):
        # No check run is a broken test, not a skip (that is "1..0 # SKIP").
        if self.count == 0:
            self.ok(False, "the script ran no check")
        print("1..%d" % self.count, flush=True)
        return 1 if self.failed else 0


class Rpcd:
    """An rpcd process whose standard error is collected as it comes."""

    def __init__(self, argv, env=None, timeout=20):
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env)
        self.lines = []
        self.addr = None
        self._listening = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._listening.wait(timeout)

    def _read(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            if self.addr is None and "listening on " in line:
                host, port = line.split("listening on ")[1].rsplit(":", 1)
                self.addr = (host.strip("[]"), int(port.split()[0]))
                self._listening.set()
        self._listening.set()

    def log(self):
        """Everything rpcd wrote to standard error, once it has exited."""
        self._reader.join(10)
        return "\n".join(self.lines)

    def signal(self, sig):
        if self.proc.returncode is None:
            self.proc.send_signal(sig)

    def stop(self, timeout=30):
        """SIGTERM rpcd and return its exit status (-SIG if killed)."""
        self.signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "hung"


def start(rpcd, args=(), env=None):
    """Start rpcd on 127.0.0.1:0 with args; its .addr is None if it died."""
    return Rpcd([rpcd, "-l", "127.0.0.1:0"] + list(args), env=env)


def request(name, params=None):
    """A request frame: 4-byte little-endian length, then the JSON."""
    body = {"in": name}
    if params is not None:
        body["params"] = params
    data = json.dumps(body).encode()
    return struct.pack("<I", len(data)) + data


def frame(body):
    """A frame holding body, which need not be valid JSON."""
    return struct.pack("<I", len(body)) + body


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def recv_reply(sock):
    """The next reply, parsed; None at end of file or on a reset.  A reply
    that does not come within the socket's timeout raises socket.timeout."""
    try:
        head = recv_exact(sock, 4)
        if head is None:
            return None
        body = recv_exact(sock, struct.unpack("<I", head)[0])
    except ConnectionResetError:
        return None
    if body is None:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return {"invalid JSON": body.decode("utf-8", "replace")}


def connect(addr, timeout=10):
    sock = socket.create_connection(addr, timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def sanitizer_report(text):
    """The first line of a sanitizer's report in text, or None."""
    for line in text.splitlines():
        if ("ERROR: AddressSanitizer" in line or
                "ERROR: LeakSanitizer" in line or "runtime error:" in line):
            return line
    return None
