"""What the loopback web stand-ins of the "run it as written" suites share (tests/examples/standin_server.py for
examples/, tests/pester/DocExamples.Server.py for help and README examples): the notification providers' replies,
the reply helper and the HTTP + HTTPS listeners on 127.0.0.1."""
import json, os, ssl, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Provider replies, by the first path segment the test config gives each channel's url.
PROVIDER_REPLIES = {
    "slack": (200, "text/plain", "ok"),
    "discord": (204, None, ""),
    "teams": (202, "text/plain", ""),
    "pagerduty": (202, "application/json", json.dumps({"status": "success", "message": "Event processed", "dedup_key": "pd-standin-1"})),
    "statuspage": (201, "application/json", json.dumps({"id": "sp-standin-1", "name": "incident", "status": "investigating", "shortlink": "http://127.0.0.1/sp"})),
    "webhook": (200, "application/json", "{}"),
}

HEALTHY_SERVICES = json.dumps({"status": "ok", "services": {"database": {"status": "up"}, "redis": {"status": "up"}}})


class StandInHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _reply(self, code, ctype, body):
        data = body.encode()
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)


def serve(handler, http_port, https_port, cert, key):
    """Serves handler over HTTP on http_port and HTTPS (cert, key) on https_port, both on 127.0.0.1, until killed.
    A port of 0 takes one the system picks (no window in which another process can take a probed port); with
    STANDIN_PORT_FILE set, "<http port> <https port>" is written there (whole, by a rename) once both listen."""
    plain = ThreadingHTTPServer(("127.0.0.1", http_port), handler)
    tls = ThreadingHTTPServer(("127.0.0.1", https_port), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    tls.socket = context.wrap_socket(tls.socket, server_side=True)
    port_file = os.environ.get("STANDIN_PORT_FILE")
    if port_file:
        with open(port_file + ".tmp", "w") as f:
            f.write(f"{plain.server_address[1]} {tls.server_address[1]}\n")
        os.replace(port_file + ".tmp", port_file)
    threading.Thread(target=tls.serve_forever, daemon=True).start()
    plain.serve_forever()
