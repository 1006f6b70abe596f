"""template.yaml provisioned in moto exactly as declared, and every route served by its function."""

from __future__ import annotations

import re
from pathlib import Path

from local.provision import DEFAULT_ROUTE, plan_stack
from local.stack import LOCAL_PARAMETERS
from tests.conftest import TEMPLATE, Deployed, api_event


def test_tables_have_the_declared_keys_indexes_ttl_and_recovery(deployed: Deployed) -> None:
    ddb = deployed.session.client("dynamodb")
    assert set(ddb.list_tables()["TableNames"]) == {deployed.plan.physical[t] for t in deployed.plan.tables}
    for logical, props in deployed.plan.tables.items():
        name = deployed.plan.physical[logical]
        table = ddb.describe_table(TableName=name)["Table"]
        assert table["KeySchema"] == props["KeySchema"]
        declared = {i["IndexName"] for i in props.get("GlobalSecondaryIndexes", [])}
        assert {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])} == declared
        ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl["TimeToLiveStatus"] == "ENABLED"
        assert ttl["AttributeName"] == props["TimeToLiveSpecification"]["AttributeName"]
        backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert {"JobsTable", "CreditsTable", "AssetsTable", "IdempotencyTable"} <= set(deployed.plan.tables)


def test_media_bucket_is_private_encrypted_and_expires_temporary_prefixes(deployed: Deployed) -> None:
    s3 = deployed.session.client("s3")
    bucket = deployed.plan.outputs["MediaBucketName"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    lifecycle = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert lifecycle["expire-tmp"]["Filter"]["Prefix"] == "tmp/"
    assert lifecycle["expire-tmp"]["Expiration"]["Days"] == 1


def test_functions_get_the_names_of_the_resources_they_use(deployed: Deployed) -> None:
    tables = set(deployed.session.client("dynamodb").list_tables()["TableNames"])
    for spec in deployed.plan.functions:
        env = spec.environment
        assert {
            env["JOBS_TABLE"],
            env["CREDITS_TABLE"],
            env["ASSETS_TABLE"],
            env["IDEMPOTENCY_TABLE"],
        } <= tables
        assert env["MEDIA_BUCKET"] == deployed.plan.outputs["MediaBucketName"]
        assert env["PROVIDER_MODE"] == "local"  # the offline stack's parameter override
        assert spec.code_dir.joinpath("app.py").is_file()


def test_renaming_a_table_in_the_template_renames_it_offline(tmp_path: Path) -> None:
    text = TEMPLATE.read_text().replace("JobsTable", "RenamedJobsTable")
    copy = tmp_path / "template.yaml"
    copy.write_text(text)
    for folder in ("functions", "layers", "statemachines"):
        (tmp_path / folder).symlink_to(TEMPLATE.parent / folder)
    plan = plan_stack(copy, parameters=LOCAL_PARAMETERS)
    assert "RenamedJobsTable" in plan.tables and "JobsTable" not in plan.tables
    assert all(f.environment["JOBS_TABLE"].endswith("-RenamedJobsTable") for f in plan.functions)


def _sample_path(route_path: str) -> str:
    samples = {"platform": "instagram"}
    return re.sub(r"\{(\w+)\+?\}", lambda m: samples.get(m.group(1), "sample"), route_path)


def test_every_template_route_is_served_by_its_function(deployed: Deployed) -> None:
    assert len(deployed.plan.routes) >= 13
    for route in deployed.plan.routes:
        if route.path == DEFAULT_ROUTE:
            continue  # answers route_not_found by design: see test_unknown_routes_reach_the_default_route
        path = _sample_path(route.path)
        event = api_event(
            "catalog/templates",
            routeKey=route.route_key,
            rawPath=path,
            rawQueryString="",
            queryStringParameters=None,
            body='{"operation": "generate"}' if route.method == "POST" else None,
        )
        event["requestContext"] = {**event["requestContext"], "routeKey": route.route_key}
        event["requestContext"]["http"] = {
            **event["requestContext"]["http"],
            "method": route.method,
            "path": path,
        }
        result = deployed.runtime.invoke(route.function, event)
        assert not result.error, (route.route_key, result.payload)
        assert "route_not_found" not in (result.payload.get("body") or ""), route.route_key


def test_openapi_documents_exactly_the_template_routes(deployed: Deployed) -> None:
    status, spec = deployed.http("ApiDocsFunction", api_event("api_docs/openapi"))
    assert status == 200
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    declared = {(r.method, r.path) for r in deployed.plan.routes if r.path != DEFAULT_ROUTE}
    docs_routes = {("GET", "/api/image-studio/openapi.json"), ("GET", "/api/image-studio/docs")}
    assert documented == declared - docs_routes


def test_unknown_routes_reach_the_default_route(deployed: Deployed) -> None:
    (default,) = [r for r in deployed.plan.routes if r.path == DEFAULT_ROUTE]
    assert default.route_key == "$default" and default.authorizer is None
    found = deployed.plan.find_route("POST", "/api/image-studio/control/nowhere")
    assert found is not None and found[0] is default
    assert deployed.plan.find_route("GET", "/api/image-studio/health")[0] is not default
    status, body = deployed.http(default.function, api_event("health/unknown_route"))
    assert status == 404 and body["error"]["code"] == "route_not_found"
    assert body["detail"].startswith("No route POST /api/image-studio/no-such-route")


def test_control_operations_are_catalog_data(deployed: Deployed) -> None:
    status, body = deployed.http("CatalogFunction", api_event("catalog/control_operations"))
    assert status == 200 and [o["id"] for o in body["operations"]] == [
        "sketch",
        "structure",
        "style",
        "style_transfer",
    ]


def test_health_answers_without_a_token(deployed: Deployed) -> None:
    status, body = deployed.http("HealthFunction", api_event("health/get"))
    assert status == 200
    assert body["status"] == "ok" and body["stage"] == "local" and body["provider_mode"] == "local"


def test_swagger_ui_is_served_without_a_cdn(deployed: Deployed) -> None:
    result = deployed.invoke("ApiDocsFunction", api_event("api_docs/swagger_ui"))
    assert result.payload["statusCode"] == 200
    assert result.payload["headers"]["Content-Type"].startswith("text/html")
