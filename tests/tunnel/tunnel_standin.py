#!/usr/bin/env python3
"""A stand-in for `kubectl port-forward`, `flyctl proxy` and `ssh -N -L` that really forwards.

Usage: tunnel_standin.py TOOL ARGS...  (the wrapper named kubectl, flyctl or ssh passes its own argv)

It parses the argv the way the real CLI reads it, appends one JSON line per event to $TUNNEL_STANDIN_LOG
({"event": "start", "tool", "argv", "pid"}, then {"event": "forwarded", "pid", "bytes"} when a connection's first
bytes pass), and forwards 127.0.0.1:LOCAL to the real server named for the remote port in $TUNNEL_STANDIN_ROUTES
("5432=127.0.0.1:48049,6379=127.0.0.1:43689"). Targets named like the failures below behave like the real CLI when
the target is wrong:
  *missing*  prints the CLI's "not found" error on stderr and exits 1
  *slow*     never listens (the caller's timeout must fire)
  *leak*     fails with an error that repeats $TUNNEL_STANDIN_SECRET (a CLI echoing a credential), exit 1
Anything it cannot parse is an error on stderr (exit 2), so a wrong argv fails the test that caused it.
Only loopback is ever dialled or bound.
"""
import json
import os
import socket
import sys
import threading
import time


def log(entry):
    path = os.environ.get("TUNNEL_STANDIN_LOG")
    if not path:
        return
    entry["pid"] = os.getpid()
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def fail(message, code=2):
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    sys.exit(code)


def value_after(args, flag):
    if flag in args:
        i = args.index(flag)
        if i + 1 < len(args):
            return args[i + 1]
    return None


def parse(tool, args):
    """Returns (target, bind, local, remote) as the real CLI would read them."""
    if tool == "kubectl":
        if "port-forward" not in args:
            fail("stand-in kubectl: only port-forward is implemented: " + " ".join(args))
        rest = args[args.index("port-forward") + 1:]
        bind = value_after(rest, "--address") or "localhost"
        if "--" not in rest:
            fail("stand-in kubectl: expected '--' before TYPE/NAME: " + " ".join(args))
        positional = rest[rest.index("--") + 1:]
        if len(positional) != 2:
            fail("stand-in kubectl: expected TYPE/NAME LOCAL:REMOTE after '--': " + " ".join(args))
        target, ports = positional
    elif tool == "flyctl":
        if not args or args[0] != "proxy":
            fail("stand-in flyctl: only proxy is implemented: " + " ".join(args))
        target = value_after(args, "--app") or value_after(args, "-a")
        bind = value_after(args, "--bind-addr") or "127.0.0.1"
        ports = args[1]
        if not target:
            fail("Error: the config for your app is missing an app name, add an app field to the fly.toml file or specify with the -a flag")
    elif tool == "ssh":
        if "-N" not in args:
            fail("stand-in ssh: a tunnel must pass -N: " + " ".join(args))
        spec = value_after(args, "-L")
        if not spec or "--" not in args:
            fail("stand-in ssh: expected -L BIND:LOCAL:HOST:PORT and '--' before the host: " + " ".join(args))
        target = args[args.index("--") + 1]
        bind, local, _host, remote = spec.rsplit(":", 3) if spec.count(":") >= 3 else fail("stand-in ssh: bad -L " + spec)
        ports = local + ":" + remote
    else:
        fail("stand-in: unknown tool " + tool)
    local, _, remote = ports.partition(":")
    return target, bind, int(local), int(remote)


def pipe(src, dst, counter, first=None):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if first is not None and counter[0] == 0:
                # Logged as the first bytes pass, before the server can answer: the record exists before the command ends.
                log({"event": "forwarded", "bytes": len(data)})
            counter[0] += len(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client, route):
    host, _, port = route.rpartition(":")
    try:
        upstream = socket.create_connection((host, int(port)), timeout=10)
        upstream.settimeout(None)
    except OSError as e:
        sys.stderr.write(f"stand-in: cannot reach {route}: {e}\n")
        client.close()
        return
    sent, received = [0], [0]
    t = threading.Thread(target=pipe, args=(upstream, client, received), daemon=True)
    t.start()
    pipe(client, upstream, sent, first=True)
    t.join(5)
    client.close()
    upstream.close()


def main():
    if len(sys.argv) < 2:
        fail("usage: tunnel_standin.py TOOL ARGS...")
    tool, args = sys.argv[1], sys.argv[2:]
    log({"event": "start", "tool": tool, "argv": args})
    target, bind, local, remote = parse(tool, args)
    if bind != "127.0.0.1":
        fail(f"stand-in {tool}: refusing to bind {bind}: tunnels listen on 127.0.0.1 only")
    if "missing" in target:
        name = target.split("/")[-1]
        messages = {
            "kubectl": f'Error from server (NotFound): services "{name}" not found',
            "flyctl": f'Error: failed to proxy: app not found: {name}',
            "ssh": f"ssh: Could not resolve hostname {target.split('@')[-1]}: Name or service not known",
        }
        fail(messages[tool], 255 if tool == "ssh" else 1)
    if "leak" in target:
        fail(f"error: error upgrading connection: Authorization: Bearer {os.environ.get('TUNNEL_STANDIN_SECRET', '')}", 1)
    if "slow" in target:
        sys.stderr.write(f"stand-in {tool}: waiting for {target} (never ready)\n")
        sys.stderr.flush()
        while True:
            time.sleep(3600)
    routes = dict(r.split("=", 1) for r in os.environ.get("TUNNEL_STANDIN_ROUTES", "").split(",") if "=" in r)
    route = routes.get(str(remote))
    if route is None:
        fail(f"stand-in {tool}: no route for remote port {remote} in TUNNEL_STANDIN_ROUTES")
    if not route.startswith("127."):
        fail("stand-in: routes go to loopback only")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", local))
    except OSError as e:
        fail(f"stand-in {tool}: unable to listen on 127.0.0.1:{local}: {e}", 1)
    listener.listen(64)
    if tool == "kubectl":
        print(f"Forwarding from 127.0.0.1:{local} -> {remote}", flush=True)
    elif tool == "flyctl":
        print(f"Proxying local port {local} to remote [{target}.internal]:{remote}", flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, route), daemon=True).start()


if __name__ == "__main__":
    main()
