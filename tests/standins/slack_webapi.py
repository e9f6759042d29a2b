"""The Slack Web API stand-in shared by the loopback servers of the examples (tests/examples/standin_server.py) and of
the help and README examples (tests/pester/DocExamples.Server.py)."""
import json, time


def slack_api(path, headers, body):
    """The Slack Web API methods the bot channel calls (https://api.slack.com/methods), answered in their documented
    shapes: POST <base>/conversations.create|setTopic|invite|archive, chat.postMessage, pins.add, GET conversations.list,
    each with Authorization: Bearer xoxb-... (else not_authed)."""
    method = path.split("?")[0].rstrip("/").split("/")[-1]
    if not (headers.get("Authorization") or "").startswith("Bearer xoxb-"):
        return (200, "application/json", json.dumps({"ok": False, "error": "not_authed"}))
    try:
        args = json.loads(body or b"{}") if (headers.get("Content-Type") or "").startswith("application/json") else {}
    except ValueError:
        args = {}
    if method == "conversations.create":
        channel = {"id": "C0STANDIN01", "name": args.get("name", "incident"), "is_channel": True, "created": int(time.time()),
                   "creator": "U0BOT00001", "is_archived": False, "topic": {"value": ""}, "purpose": {"value": ""}}
        return (200, "application/json", json.dumps({"ok": True, "channel": channel}))
    if method == "conversations.list":
        return (200, "application/json", json.dumps({"ok": True, "channels": [], "response_metadata": {"next_cursor": ""}}))
    if method == "chat.postMessage":
        return (200, "application/json", json.dumps({"ok": True, "channel": args.get("channel", ""), "ts": "1764500000.000100"}))
    return (200, "application/json", json.dumps({"ok": True}))
