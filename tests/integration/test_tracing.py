"""Tracing through the real gateway: a small OTLP/HTTP receiver collects
what the workers export; spans must be well formed, linked to the incoming
traceparent, and agree with the traceparent the demo backend received."""

import http.server
import json
import threading

import pytest

from gwtest import bearer, free_port, make_token, wait_for


class Receiver:
    """OTLP/HTTP JSON collector on a free port (POST /v1/traces)."""

    def __init__(self):
        self.port = free_port()
        self.bodies = []
        self.paths = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                outer.paths.append(self.path)
                outer.bodies.append(json.loads(self.rfile.read(n)))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def spans(self):
        out = []
        for b in list(self.bodies):
            for rs in b["resourceSpans"]:
                attrs = {a["key"]: a["value"]["stringValue"] for a in rs["resource"]["attributes"]}
                assert attrs["service.name"] == "api-gateway"
                for ss in rs["scopeSpans"]:
                    out += ss["spans"]
        return out

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def attrs(span):
    return {a["key"]: list(a["value"].values())[0] for a in span["attributes"]}


def traced_stack(stack_factory, receiver, **conf):
    c = {"ENABLE_TRACING": "true", "JAEGER_URL": receiver.url, "TRACE_SAMPLE_RATIO": "1.0"}
    c.update(conf)
    return stack_factory(conf=c)


def test_spans_follow_the_incoming_traceparent(stack_factory, receiver):
    s = traced_stack(stack_factory, receiver)
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    r = s.gw.req("GET", "/api/v1/users", headers=dict(bearer(make_token()),
                                                       traceparent="00-%s-%s-01" % (trace_id, parent)))
    assert r.status == 200
    spans = wait_for(lambda: len(receiver.spans()) >= 2 and receiver.spans(), what="spans exported")
    assert receiver.paths[0] == "/v1/traces"
    server = [x for x in spans if x["kind"] == 2 and x["traceId"] == trace_id][0]
    client = [x for x in spans if x["kind"] == 3 and x["traceId"] == trace_id][0]
    assert server["parentSpanId"] == parent and server["name"] == "GET /api/v1/users"
    assert attrs(server)["http.route"] == "/api/v1/users" and attrs(server)["http.status_code"] == "200"
    assert client["parentSpanId"] == server["spanId"]
    assert client["name"] == "/user.UserService/ListUsers"
    ca = attrs(client)
    assert ca["rpc.system"] == "grpc" and ca["rpc.service"] == "user.UserService"
    assert ca["rpc.method"] == "ListUsers" and ca["rpc.grpc.status_code"] == "0"
    assert ca["peer.service"] == "user-service"
    assert server["status"]["code"] == 1 and client["status"]["code"] == 1
    for sp in (server, client):
        assert len(sp["spanId"]) == 16 and int(sp["endTimeUnixNano"]) >= int(sp["startTimeUnixNano"]) > 0
    assert int(server["startTimeUnixNano"]) <= int(client["startTimeUnixNano"])
    # the backend's parent is our CLIENT span
    seen = s.user.records("/ListUsers")[-1]["metadata"]["traceparent"]
    assert seen == "00-%s-%s-01" % (trace_id, client["spanId"])
    wait_for(lambda: s.gw.metric("api_gateway_trace_spans_exported_total") >= 2, what="exported counted")


def test_a_trace_is_started_without_traceparent(stack_factory, receiver):
    s = traced_stack(stack_factory, receiver)
    assert s.gw.req("GET", "/api/v1/users", headers=bearer(make_token())).status == 200
    spans = wait_for(lambda: len(receiver.spans()) >= 2 and receiver.spans(), what="spans exported")
    server = [x for x in spans if x["kind"] == 2][0]
    assert server["parentSpanId"] == "" and len(server["traceId"]) == 32 and set(server["traceId"]) != {"0"}
    seen = s.user.records("/ListUsers")[-1]["metadata"]["traceparent"]
    assert seen.startswith("00-" + server["traceId"] + "-") and seen.endswith("-01")


def test_malformed_traceparent_starts_a_new_trace(stack_factory, receiver):
    s = traced_stack(stack_factory, receiver)
    bad = "00-00000000000000000000000000000000-00f067aa0ba902b7-01"
    s.gw.req("GET", "/api/v1/users", headers=dict(bearer(make_token()), traceparent=bad))
    spans = wait_for(lambda: receiver.spans(), what="spans exported")
    assert all(x["traceId"] != "0" * 32 for x in spans)


def test_sample_ratio_zero_exports_nothing(stack_factory, receiver):
    s = traced_stack(stack_factory, receiver, TRACE_SAMPLE_RATIO="0")
    for _ in range(5):
        assert s.gw.req("GET", "/api/v1/users", headers=bearer(make_token())).status == 200
    # still propagated, marked not sampled
    assert s.user.records("/ListUsers")[-1]["metadata"]["traceparent"].endswith("-00")
    s.gw.get("/ready")
    wait_for(lambda: s.gw.metric("api_gateway_requests_total", endpoint="/ready") >= 1, what="view refreshed")
    assert receiver.spans() == [] and s.gw.metric("api_gateway_trace_spans_exported_total") == 0


def test_receiver_down_never_fails_requests(stack_factory):
    s = stack_factory(conf={"ENABLE_TRACING": "true", "JAEGER_URL": "http://127.0.0.1:%d" % free_port()})
    for _ in range(5):
        assert s.gw.req("GET", "/api/v1/users", headers=bearer(make_token())).status == 200
    wait_for(lambda: s.gw.metric("api_gateway_trace_export_errors_total") >= 1, timeout=10, what="export errors")
    assert s.gw.metric("api_gateway_trace_spans_dropped_total") >= 1
    s.gw.wait_log("trace export to .* failed")


def test_proxy_call_is_a_client_span(stack_factory, receiver):
    s = traced_stack(stack_factory, receiver)
    trace_id, parent = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    r = s.gw.req("POST", "/api/v1/notifications/email", body={"to": "a@b.c", "subject": "hi"},
                 headers=dict(bearer(make_token()), traceparent="00-%s-%s-01" % (trace_id, parent)))
    assert r.status == 201, r
    spans = wait_for(lambda: len(receiver.spans()) >= 2 and receiver.spans(), what="spans exported")
    server = [x for x in spans if x["kind"] == 2 and x["traceId"] == trace_id][0]
    client = [x for x in spans if x["kind"] == 3 and x["traceId"] == trace_id][0]
    assert server["parentSpanId"] == parent and client["parentSpanId"] == server["spanId"]
    assert attrs(server)["http.route"] == "/api/v1/notifications/email"
    ca = attrs(client)
    assert ca["http.method"] == "POST" and ca["http.status_code"] == "201"
    assert ca["peer.service"] == "notification-service" and "rpc.method" not in ca
    seen = s.notification.records()[-1]["metadata"]["traceparent"]
    assert seen == "00-%s-%s-01" % (trace_id, client["spanId"])


def test_tracing_off_passes_traceparent_through(stack_factory):
    s = stack_factory()
    tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    h = dict(bearer(make_token()), traceparent=tp)
    assert s.gw.req("GET", "/api/v1/users", headers=h).status == 200
    assert s.user.records("/ListUsers")[-1]["metadata"]["traceparent"] == tp
    assert s.gw.req("POST", "/api/v1/notifications/email", body={"to": "a@b.c"}, headers=h).status == 201
    assert s.notification.records()[-1]["metadata"]["traceparent"] == tp
    # nothing made up without an incoming one
    assert s.gw.req("GET", "/api/v1/users", headers=bearer(make_token())).status == 200
    assert "traceparent" not in s.user.records("/ListUsers")[-1]["metadata"]
