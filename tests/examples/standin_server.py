#!/usr/bin/env python3
"""Loopback stand-in for the examples' HTTP endpoints: health checks (HTTP and HTTPS with a self-signed
certificate) and the notification providers (Slack, Discord, Teams, PagerDuty, Statuspage, Opsgenie, webhooks).
Started by tests/examples/Examples.Tests.ps1; listens on 127.0.0.1 only and logs every request."""
import json, os, sys, threading, urllib.parse
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "standins"))
from slack_webapi import slack_api  # noqa: E402
from web_standin import HEALTHY_SERVICES, PROVIDER_REPLIES, StandInHandler, serve  # noqa: E402

http_port, https_port, cert, key, log_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
log_lock = threading.Lock()

REPLIES = {
    **PROVIDER_REPLIES,
    # Opsgenie's Alert API answers 202 with a requestId (https://docs.opsgenie.com/docs/response).
    "opsgenie": (202, "application/json", json.dumps({"result": "Request will be processed", "took": 0.302, "requestId": "og-standin-request-1"})),
    # The seed 001 app's own API (declared actions: POST /api/workflows/emergency-stop).
    "api": (200, "application/json", json.dumps({"status": "stopped", "workflows": 3})),
}


class Handler(StandInHandler):
    def _log(self, body=b""):
        with log_lock, open(log_path, "a") as f:
            f.write(f"{self.command} {self.path} {len(body)}\n")

    def do_GET(self):
        self._log()
        path = self.path.split("?")[0]
        if path.startswith("/slackapi/"):
            return self._reply(*slack_api(self.path, self.headers, b""))
        if path.startswith("/flyprometheus/") and path.endswith("/api/v1/query"):
            # Fly's managed Prometheus (https://fly.io/docs/metrics-and-logs/metrics/): an instant vector per machine.
            query = urllib.parse.parse_qs(self.path.partition("?")[2]).get("query", [""])[0]
            value = "0.42" if "fly_instance_cpu" in query else "440401920" if "memory" in query else "123456789" if "recv" in query else "98765432"
            self._reply(200, "application/json", json.dumps({"status": "success", "data": {"resultType": "vector", "result": [
                {"metric": {"instance": "148ed726c03918"}, "value": [1795425000.123, value]}]}}))
        elif path.startswith("/opsgenie/v2/alerts/requests/"):
            # Get Request Status (https://docs.opsgenie.com/docs/alert-api): every 202 was processed.
            if not (self.headers.get("Authorization") or "").startswith("GenieKey "):
                return self._reply(401, "application/json", json.dumps({"message": "Could not authenticate", "took": 0.0, "requestId": "og-standin-401"}))
            request_id = urllib.parse.unquote(path.rsplit("/", 1)[1])
            self._reply(200, "application/json", json.dumps({"data": {"success": True, "action": "Create", "isSuccess": True, "status": "Processed",
                                                                       "processedAt": "2026-01-01T09:15:13.113Z"}, "took": 0.02, "requestId": request_id}))
        elif path.endswith("/health/services"):
            self._reply(200, "application/json", HEALTHY_SERVICES)
        elif "health" in path:
            self._reply(200, "application/json", json.dumps({"status": "ok"}))
        else:
            self._reply(404, "text/plain", "not found")

    do_HEAD = do_GET

    def _write(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._log(body)
        segment = self.path.strip("/").split("/")[0]
        if segment == "slackapi":
            return self._reply(*slack_api(self.path, self.headers, body))
        if segment == "opsgenie" and not (self.headers.get("Authorization") or "").startswith("GenieKey "):
            self._reply(401, "application/json", json.dumps({"message": "Could not authenticate", "took": 0.0, "requestId": "og-standin-401"}))
            return
        self._reply(*REPLIES.get(segment, (404, "text/plain", "no such provider")))

    do_POST = do_PUT = do_PATCH = _write


serve(Handler, http_port, https_port, cert, key)
