"""Jobs, credits and tenant isolation through the HTTP API of the template's functions (in-process)."""

from __future__ import annotations

from datetime import timedelta

from imagestudio.config import Settings
from imagestudio.models.records import utcnow
from imagestudio.operations.jobs import open_job, sweep_overdue
from local.scheduler import Scheduler
from tests.conftest import ApiClient, Deployed

P = "/api/image-studio"


def credits(client: ApiClient, user: str) -> dict:
    status, body = client.call("GET", f"{P}/credits", user=user)
    assert status == 200, body
    return body


def test_a_new_user_sees_the_free_plans_grant(client: ApiClient) -> None:
    body = credits(client, "alice")
    assert body["plan"] == "free"
    assert body["available"] == body["monthly_grant_credits"] == 200
    assert body["reserved"] == 0
    status, ledger = client.call("GET", f"{P}/credits/ledger", user="alice")
    assert status == 200
    assert [(e["kind"], e["amount"]) for e in ledger["entries"]] == [("grant", 200)]


def test_cancel_returns_the_reserved_credits(client: ApiClient, domain) -> None:
    credits(client, "alice")
    job = open_job(domain, "alice", operation="generate", credits=30, usd="0.30", inputs={"prompt": "a cat"})
    assert credits(client, "alice")["available"] == 170

    status, body = client.call("GET", f"{P}/jobs/{job.id}", user="alice")
    assert status == 200 and body["status"] == "queued" and body["credits_reserved"] == 30
    assert body["links"]["cancel_url"] == f"{P}/jobs/{job.id}"

    status, body = client.call("DELETE", f"{P}/jobs/{job.id}", user="alice")
    assert status == 200 and body["status"] == "canceled"
    after = credits(client, "alice")
    assert (after["available"], after["reserved"]) == (200, 0)
    assert client.call("DELETE", f"{P}/jobs/{job.id}", user="alice")[0] == 409  # already ended
    assert credits(client, "alice")["available"] == 200  # and nothing moved twice


def test_jobs_list_newest_first_with_filters_and_cursor(client: ApiClient, domain) -> None:
    credits(client, "alice")
    ids = [
        open_job(domain, "alice", operation=op, credits=1, usd="0.01", inputs={}).id
        for op in ("generate", "edit", "generate")
    ]
    status, page = client.call("GET", f"{P}/jobs?limit=2", user="alice")
    assert status == 200
    assert [j["id"] for j in page["jobs"]] == [ids[2], ids[1]]
    status, rest = client.call("GET", f"{P}/jobs?limit=2&cursor={page['next_cursor']}", user="alice")
    assert [j["id"] for j in rest["jobs"]] == [ids[0]]
    _, gen = client.call("GET", f"{P}/jobs?operation=generate", user="alice")
    assert [j["id"] for j in gen["jobs"]] == [ids[2], ids[0]]
    client.call("DELETE", f"{P}/jobs/{ids[1]}", user="alice")
    _, canceled = client.call("GET", f"{P}/jobs?status=canceled", user="alice")
    assert [j["id"] for j in canceled["jobs"]] == [ids[1]]
    _, both = client.call("GET", f"{P}/jobs?status=queued&operation=generate", user="alice")
    assert [j["id"] for j in both["jobs"]] == [ids[2], ids[0]]
    status, err = client.call("GET", f"{P}/jobs?status=lost", user="alice")
    assert status == 422 and "status" in err["error"]["message"]


def test_another_users_records_answer_404(client: ApiClient, domain) -> None:
    credits(client, "alice")
    job = open_job(domain, "alice", operation="generate", credits=5, usd="0.05", inputs={})
    for method, path in (("GET", f"{P}/jobs/{job.id}"), ("DELETE", f"{P}/jobs/{job.id}")):
        status, body = client.call(method, path, user="bob")
        assert status == 404, (method, path, body)
    assert client.call("GET", f"{P}/jobs", user="bob")[1]["jobs"] == []
    # alice's cursor cannot page through bob's partition, nor bob's through alice's
    _, page = client.call("GET", f"{P}/jobs?limit=1", user="alice")
    open_job(domain, "alice", operation="generate", credits=1, usd="0.01", inputs={})
    _, page = client.call("GET", f"{P}/jobs?limit=1", user="alice")
    assert page["next_cursor"]
    status, _ = client.call("GET", f"{P}/jobs?cursor={page['next_cursor']}", user="bob")
    assert status == 422
    _, ledger = client.call("GET", f"{P}/credits/ledger", user="bob")
    assert all(e["ref"] != job.id for e in ledger["entries"])
    assert client.call("GET", f"{P}/jobs/{job.id}", user="alice")[1]["status"] == "queued"  # untouched


def test_every_route_needs_a_token(client: ApiClient) -> None:
    for route in client.deployed.plan.routes:
        if route.authorizer is None:
            continue
        path = route.path.replace("{job_id}", "x").replace("{asset_id}", "x").replace("{upload_id}", "x")
        path = path.replace("{platform}", "instagram")
        assert client.call(route.method, path)[0] == 401, route.route_key


def test_sweeper_expires_overdue_jobs_and_releases_their_credits(client: ApiClient, domain, deployed) -> None:
    credits(client, "alice")
    late = open_job(
        domain, "alice", operation="generate", credits=20, usd="0.20", inputs={}, deadline=timedelta(0)
    )
    fresh = open_job(domain, "alice", operation="generate", credits=10, usd="0.10", inputs={})
    assert credits(client, "alice")["reserved"] == 30
    # the template's schedule reaches the sweeper function
    scheduler = Scheduler(deployed.plan, deployed.runtime, lambda *a: None)
    (sweeper,) = [s for s in scheduler.schedules if s.target.endswith("SweeperFunction")]
    firing = scheduler.fire(sweeper.name, wait=True)
    assert firing.detail == "ok"
    assert client.call("GET", f"{P}/jobs/{late.id}", user="alice")[1]["status"] == "expired"
    assert client.call("GET", f"{P}/jobs/{fresh.id}", user="alice")[1]["status"] == "queued"
    after = credits(client, "alice")
    assert (after["available"], after["reserved"]) == (190, 10)
    assert sweep_overdue(domain, utcnow()) == []  # a second sweep finds nothing to do


def test_admin_grant_is_exactly_once_and_admins_only(client: ApiClient) -> None:
    credits(client, "alice")
    body = {"user_id": "alice", "credits": 500, "reason": "launch promo", "grant_id": "promo-1"}
    status, err = client.call("POST", f"{P}/credits/grants", user="alice", body=body)
    assert status == 403 and "admin" in err["error"]["message"]
    for _ in range(2):
        status, movement = client.call("POST", f"{P}/credits/grants", user="ops", groups=["admin"], body=body)
        assert status == 200, movement
    assert credits(client, "alice")["available"] == 700


def test_monthly_grant_runs_once_per_period(client: ApiClient, deployed) -> None:
    credits(client, "alice")
    credits(client, "bob")
    event = {"time": "2026-12-01T00:05:00Z", "detail-type": "Scheduled Event", "source": "aws.events"}
    first = deployed.invoke("MonthlyGrantFunction", event)
    second = deployed.invoke("MonthlyGrantFunction", event)
    assert not first.error, first.payload
    assert first.payload == {"period": "2026-12", "granted": 2}
    assert second.payload["granted"] == 0
    assert credits(client, "alice")["available"] == 400


def test_idempotency_key_replays_and_refuses_a_different_body(client: ApiClient) -> None:
    headers = {"idempotency-key": "upload-key-0001"}
    body = {"content_type": "image/png", "filename": "a.png"}
    s1, first = client.call("POST", f"{P}/uploads", user="alice", body=body, headers=headers)
    s2, again = client.call("POST", f"{P}/uploads", user="alice", body=body, headers=headers)
    assert (s1, s2) == (200, 200)
    assert first["upload"]["id"] == again["upload"]["id"]
    s3, err = client.call(
        "POST", f"{P}/uploads", user="alice", body={**body, "filename": "b.png"}, headers=headers
    )
    assert s3 == 422 and "different request body" in err["error"]["message"]
    # the same key from another user is that user's own request
    s4, other = client.call("POST", f"{P}/uploads", user="bob", body=body, headers=headers)
    assert s4 == 200 and other["upload"]["id"] != first["upload"]["id"]


def test_settings_come_from_the_template(deployed: Deployed) -> None:
    from imagestudio.config import environment_view

    with environment_view(deployed.plan.function("CreditsFunction").environment):
        settings = Settings.from_env()
    assert settings.credits_table == deployed.plan.physical["CreditsTable"]
