#!/usr/bin/env python3
"""Another process that takes a tunnel's local port between IncidentOps choosing it and the CLI binding it.

Usage: port_squatter.py LOG SKIP TARGET

Watches the stand-ins' log (tests/tunnel/tunnel_standin.py, $TUNNEL_STANDIN_LOG) after its first SKIP lines for the
start of a tunnel whose argv names TARGET, reads the local port from its argv (ssh -L 127.0.0.1:PORT:HOST:REMOTE),
listens on 127.0.0.1:PORT itself, then writes LOG.squatted (the ssh stand-in for a *squat* target binds only after
that, as a real ssh that is still logging in would). It logs {"event": "squatter-bound", "port"} and, for every
connection it accepts, {"event": "squatter-accept"} and {"event": "squatter-bytes", "bytes"} when data arrives: the
PostgreSQL startup message, with the user name, that a tunnel fooled by it would send. It never answers, and it exits
after 60 s or when killed. A process of its own, not a child of the tunnel CLI: to IncidentOps it is "another process".
"""
import json
import os
import socket
import sys
import threading
import time


def log(path, entry):
    entry["pid"] = os.getpid()
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def local_port(argv):
    if "-L" in argv:
        spec = argv[argv.index("-L") + 1]
        return int(spec.split(":")[1] if spec.count(":") >= 3 else spec.split(":")[0])
    for a in argv:
        if ":" in a and a.split(":")[0].isdigit():
            return int(a.split(":")[0])
    return None


def main():
    path, skip, target = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    deadline = time.monotonic() + 60
    port = None
    while port is None and time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                for line in f.read().splitlines()[skip:]:
                    e = json.loads(line) if line else {}
                    if e.get("event") == "start" and any(target in a for a in e.get("argv", [])):
                        port = local_port(e["argv"])
                        break
        if port is None:
            time.sleep(0.02)
    if not port:
        sys.exit("port_squatter: no tunnel start for " + target)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    log(path, {"event": "squatter-bound", "port": port})
    with open(path + ".squatted", "w", encoding="utf-8") as f:
        f.write(str(port))
    listener.settimeout(0.2)

    def read(conn):
        conn.settimeout(30)
        try:
            data = conn.recv(65536)
            if data:
                log(path, {"event": "squatter-bytes", "bytes": len(data)})
        except OSError:
            pass

    while time.monotonic() < deadline:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        log(path, {"event": "squatter-accept"})
        threading.Thread(target=read, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
