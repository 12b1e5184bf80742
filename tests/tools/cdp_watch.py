#!/usr/bin/env python3
"""Watches a page in a running headless Chromium over the DevTools protocol, standard library only.

Usage: cdp_watch.py DEVTOOLS_PORT URL SECONDS EXPRESSION UNTIL_REGEX

Opens URL in a new tab, then evaluates the JavaScript EXPRESSION (which must give a string) every
200 ms in that same document, printing each value that differs from the one before, until a value
matches UNTIL_REGEX (exit 0) or SECONDS pass (exit 1). Each line is "<seconds>\t<value>". The
first evaluation stores a mark in the page; every later line is checked to see it, so a reload
(which would lose it) fails the watch: what changed, changed live.
"""
import base64
import json
import os
import re
import socket
import struct
import sys
import time
import urllib.request


class DevTools:
    """A WebSocket client for one DevTools target: text frames, masked, as RFC 6455 asks of clients."""

    def __init__(self, ws_url):
        rest = ws_url.split("://", 1)[1]
        hostport, path = rest.split("/", 1)
        host, port = hostport.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise RuntimeError("DevTools closed the connection during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"DevTools refused the WebSocket: {head!r}")
        self.next_id = 0

    def _read_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise RuntimeError("DevTools closed the connection")
            data += chunk
        return data

    def _send(self, text):
        payload = text.encode()
        header = bytes([0x81])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _receive(self):
        message = b""
        while True:
            first, second = self._read_exact(2)
            n = second & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read_exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read_exact(8))[0]
            payload = self._read_exact(n)
            if first & 0x0F == 0x8:
                raise RuntimeError("DevTools closed the WebSocket")
            message += payload
            if first & 0x80:
                return json.loads(message)

    def call(self, method, **params):
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            reply = self._receive()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]


def main():
    port, url, seconds, expression, until = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5]
    request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?{url}", method="PUT")
    target = json.load(urllib.request.urlopen(request, timeout=30))
    tab = DevTools(target["webSocketDebuggerUrl"])
    start = time.monotonic()
    mark = None
    last = None
    while time.monotonic() - start < seconds:
        # The mark is set once, by the first evaluation that finds the page loaded; later ones only
        # read it, so a reloaded document answers without it.
        setting = "window.__watchMark = %r;" % str(start) if mark is None else ""
        probe = ("(() => { if (document.readyState !== 'complete') return null; %s"
                 " return [String(window.__watchMark), String(%s)]; })()" % (setting, expression))
        result = tab.call("Runtime.evaluate", expression=probe, returnByValue=True).get("result", {})
        value = result.get("value")
        if value is not None:
            if mark is None:
                mark = value[0]
            elif value[0] != mark:
                print("the page was reloaded: its state was lost", flush=True)
                return 1
            if value[1] != last:
                last = value[1]
                print(f"{time.monotonic() - start:.1f}\t{last}", flush=True)
                if re.search(until, last):
                    return 0
        time.sleep(0.2)
    print(f"timed out after {seconds:.0f} s waiting for /{until}/", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
