"""EdgeMetrics.child: the same child prometheus_client's labels() gives, made once per label set."""

from __future__ import annotations

from prometheus_client import generate_latest

from ringside_server.observability.metrics import EdgeMetrics


def test_child_is_the_labelled_child_and_counts_into_the_exposition() -> None:
    metrics = EdgeMetrics.create()
    child = metrics.child(metrics.requests, "/v1/chat/completions", "POST", "200", "")
    assert child is metrics.requests.labels("/v1/chat/completions", "POST", "200", "")
    assert metrics.child(metrics.requests, "/v1/chat/completions", "POST", "200", "") is child
    assert metrics.child(metrics.requests, "/v1/chat/completions", "POST", "400", "invalid_request") is not child
    child.inc()
    child.inc()
    metrics.settled("openai", "fc:openai/gpt-4o-mini", "completed", (12, 5), (300, 330), "")
    text = generate_latest(metrics.registry).decode()
    assert 'ringside_http_requests_total{code="",method="POST",route="/v1/chat/completions",status="200"} 2.0' in text
    assert 'ringside_tokens_total{direction="output",model="fc:openai/gpt-4o-mini"} 5.0' in text


def test_children_of_two_metrics_with_the_same_labels_stay_apart() -> None:
    metrics = EdgeMetrics.create()
    assert metrics.child(metrics.duration, "/v1/embeddings") is not metrics.child(metrics.added, "/v1/embeddings")
