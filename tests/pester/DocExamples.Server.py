#!/usr/bin/env python3
"""Loopback stand-in for the endpoints that help and README examples reach (started by DocExamples.Tests.ps1):
health endpoints over HTTP and HTTPS (self-signed, for localhost), the notification providers, and the DigitalOcean
App Platform rollback API. Listens on 127.0.0.1 only."""
import json, os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "standins"))
from slack_webapi import slack_api  # noqa: E402
from web_standin import HEALTHY_SERVICES, PROVIDER_REPLIES, StandInHandler, serve  # noqa: E402

http_port, https_port, cert, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]

REPLIES = {
    **PROVIDER_REPLIES,
    "api": (200, "application/json", json.dumps({"stopped": True})),  # the runbook action emergency-stop
}


class Handler(StandInHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path.startswith("/slackapi/"):
            return self._reply(*slack_api(self.path, self.headers, b""))
        if path.endswith("/health/services"):
            self._reply(200, "application/json", HEALTHY_SERVICES)
        elif path.startswith("/digitalocean/v2/apps/tiers/instance_sizes/"):
            # App Platform instance sizes (GET /v2/apps/tiers/instance_sizes/{slug}): cpus and memory_bytes are strings.
            slug = path.rsplit("/", 1)[1]
            memory = "536870912" if slug.endswith("0.5gb") else "1073741824"
            self._reply(200, "application/json", json.dumps({"instance_size": {"slug": slug, "cpu_type": "SHARED", "cpus": "1", "memory_bytes": memory}}))
        elif path.startswith("/digitalocean/v2/apps/") and path.endswith("/health"):
            # App Platform component health (GET /v2/apps/{id}/health), as Get-AppResourceUsage reads it.
            self._reply(200, "application/json", json.dumps({"components": [
                {"name": "portfolio-web", "cpu_usage_percent": 37.5, "memory_usage_percent": 81.25, "replicas_desired": 2, "replicas_ready": 2, "state": "HEALTHY"},
                {"name": "image-worker", "cpu_usage_percent": 96.2, "memory_usage_percent": 99.1, "replicas_desired": 1, "replicas_ready": 0, "state": "UNHEALTHY"}]}))
        elif path.startswith("/down/"):
            self._reply(503, "application/json", json.dumps({"status": "down"}))
        elif "health" in path:
            self._reply(200, "application/json", json.dumps({"status": "ok"}))
        else:
            self._reply(404, "text/plain", "not found")

    do_HEAD = do_GET

    def _write(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0].strip("/")
        segment = path.split("/")[0]
        if segment == "slackapi":
            return self._reply(*slack_api(self.path, self.headers, body))
        if segment == "digitalocean":
            if path.endswith("/rollback/validate"):
                return self._reply(200, "application/json", json.dumps({"valid": True, "warnings": []}))
            if path.endswith("/rollback"):
                return self._reply(200, "application/json", json.dumps({"deployment": {"id": "d7", "phase": "PENDING_DEPLOY"}}))
            if path.endswith("/rollback/commit"):
                return self._reply(200, None, "")
            if path.endswith("/rollback/revert"):
                return self._reply(200, "application/json", json.dumps({"deployment": {"id": "d8", "phase": "PENDING_DEPLOY"}}))
        self._reply(*REPLIES.get(segment, (404, "text/plain", "no such endpoint")))

    do_POST = do_PUT = do_PATCH = _write


serve(Handler, http_port, https_port, cert, key)
