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
  *inuse*    finds its local port taken when it binds it (the bind error of that CLI, below)
  *squat*    (ssh) logs in slowly: it binds its local port only once $TUNNEL_STANDIN_LOG.squatted exists (written by
             tests/tunnel/port_squatter.py once it holds that port, at most 20 s later) and 2 s after that
Like the real CLIs, kubectl and flyctl bind a free port themselves for a local port of 0 (kubectl also for ':REMOTE')
and print it on stdout ("Forwarding from 127.0.0.1:N -> REMOTE", client-go's portforward; "Proxying localhost:N to
remote [HOST]:REMOTE", flyctl's proxy), kubectl prints "Handling connection for N" for each connection, and a port
that is taken is their error: kubectl and flyctl exit 1; ssh prints OpenSSH's bind warnings and exits 255 with
-o ExitOnForwardFailure=yes, or, without it, keeps running and forwards nothing (what makes that option matter).
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
    if tool == "kubectl" and local == "":
        local = "0"  # kubectl port-forward TYPE/NAME :REMOTE picks a random local port
    if tool == "ssh" and local == "0":
        fail("stand-in ssh: -L with local port 0 is not a port ssh chooses: " + spec)
    return target, bind, int(local), int(remote)


def option(args, name):
    """The value of ssh's -o NAME=VALUE (last one wins), or None."""
    value = None
    for i, a in enumerate(args):
        if a == "-o" and i + 1 < len(args) and args[i + 1].lower().startswith(name.lower() + "="):
            value = args[i + 1].split("=", 1)[1]
    return value


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
    if tool == "ssh" and "squat" in target:
        gate = os.environ.get("TUNNEL_STANDIN_LOG", "") + ".squatted"
        until = time.monotonic() + 20
        while not os.path.exists(gate) and time.monotonic() < until:
            time.sleep(0.05)
        time.sleep(2)  # the port was taken early in the login, which goes on a while before ssh binds its forward
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        if "inuse" in target:
            raise OSError(98, "Address already in use")  # a port taken and let go again before anyone saw its listener
        listener.bind(("127.0.0.1", local))
    except OSError as e:
        if tool == "ssh":
            sys.stderr.write(f"bind [127.0.0.1]:{local}: Address already in use\r\n"
                             f"channel_setup_fwd_listener_tcpip: cannot listen to port: {local}\r\n")
            if (option(args, "ExitOnForwardFailure") or "no").lower() == "yes":
                fail("Could not request local forwarding.", 255)
            sys.stderr.write("Warning: Could not request local forwarding.\r\n")
            sys.stderr.flush()
            while True:  # logged in, forwarding nothing
                time.sleep(3600)
        if tool == "kubectl":
            sys.stderr.write(f"Unable to listen on port {local}: Listeners failed to create with the following errors: "
                             f"[unable to create listener: Error listen tcp4 127.0.0.1:{local}: bind: address already in use]\n")
            fail(f"error: unable to listen on any of the requested ports: [{{{local} {remote}}}]", 1)
        fail(f"Error: listen tcp 127.0.0.1:{local}: bind: address already in use", 1)
    listener.listen(64)
    local = listener.getsockname()[1]
    if tool == "kubectl":
        print(f"Forwarding from 127.0.0.1:{local} -> {remote}", flush=True)
    elif tool == "flyctl":
        positional = [a for a in args[2:3] if not a.startswith("-")]
        host = positional[0] if positional else f"{target}.internal"
        print(f"Proxying localhost:{local} to remote [{host}]:{remote}", flush=True)
    while True:
        client, _ = listener.accept()
        if tool == "kubectl":
            print(f"Handling connection for {local}", flush=True)
        threading.Thread(target=serve, args=(client, route), daemon=True).start()


if __name__ == "__main__":
    main()
