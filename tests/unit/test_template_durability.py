"""Nothing is lost, deployed: checks that fail when a new table, bucket, queue, asynchronous trigger,
function or state machine in template.yaml misses its retention, versioning, failure destination,
re-drive or alarm. (cfn-lint's I3011, turned on in .cfnlintrc, checks the policies too.)"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from local.cfn import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
RETAINED = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::Cognito::UserPool")
# Event sources that invoke a function asynchronously: Lambda retries, then drops the event.
ASYNC_EVENTS = ("S3", "Schedule", "ScheduleV2", "SNS", "EventBridgeRule", "CloudWatchEvent")
FOURTEEN_DAYS = 14 * 24 * 3600


def refs(value: Any) -> set[str]:
    """Logical ids a value refers to (Ref, GetAtt, ${X} or ${X.Attr} inside Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", str(text))}
                if isinstance(inner, list):
                    found |= refs(inner[1:])
            else:
                found |= refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= refs(inner)
    return found


def metrics_of(alarm: dict[str, Any]) -> set[tuple[str, str, frozenset[str]]]:
    """(namespace, metric, logical ids in its dimensions) of every metric an alarm watches."""
    props = alarm.get("Properties") or {}
    out = set()
    if "MetricName" in props:
        out.add((props.get("Namespace"), props["MetricName"], frozenset(refs(props.get("Dimensions")))))
    for metric in props.get("Metrics") or []:
        stat = (metric.get("MetricStat") or {}).get("Metric")
        if stat:
            out.add((stat["Namespace"], stat["MetricName"], frozenset(refs(stat.get("Dimensions")))))
    return out


def problems(template: dict[str, Any]) -> list[str]:
    resources: dict[str, Any] = template["Resources"]
    found: list[str] = []

    def of_type(kind: str) -> dict[str, Any]:
        return {k: v for k, v in resources.items() if v.get("Type") == kind}

    alarms = of_type("AWS::CloudWatch::Alarm")
    watched = {m for alarm in alarms.values() for m in metrics_of(alarm)}
    topics = set(of_type("AWS::SNS::Topic"))

    def alarmed(namespace: str, metric: str, logical: str) -> bool:
        return any(ns == namespace and name == metric and logical in ids for ns, name, ids in watched)

    for logical, alarm in alarms.items():
        if not refs((alarm.get("Properties") or {}).get("AlarmActions")) & topics:
            found.append(f"{logical}: notifies no SNS topic of the template")

    for logical, res in resources.items():
        if res.get("Type") in RETAINED:
            for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
                if res.get(policy) != "Retain":
                    found.append(f"{logical}: {policy} is {res.get(policy)!r}, not 'Retain'")

    for logical, res in of_type("AWS::DynamoDB::Table").items():
        pitr = (res["Properties"].get("PointInTimeRecoverySpecification") or {}).get(
            "PointInTimeRecoveryEnabled"
        )
        if pitr is not True:
            found.append(f"{logical}: point-in-time recovery is off")

    for logical, res in of_type("AWS::S3::Bucket").items():
        props = res["Properties"]
        if (props.get("VersioningConfiguration") or {}).get("Status") != "Enabled":
            found.append(f"{logical}: not versioned")
        rules = (props.get("LifecycleConfiguration") or {}).get("Rules") or []
        if not any(
            r.get("ExpiredObjectDeleteMarker") and "NoncurrentVersionExpiration" in r and not r.get("Prefix")
            for r in rules
        ):
            found.append(f"{logical}: no rule expiring old versions and delete markers bucket-wide")
        for rule in rules:
            if "ExpirationInDays" in rule and "NoncurrentVersionExpiration" not in rule:
                found.append(f"{logical}: rule {rule.get('Id')} expires objects but keeps their old versions")

    queues = of_type("AWS::SQS::Queue")
    redrive = {
        logical: res
        for logical, res in of_type("AWS::Serverless::Function").items()
        if "DEAD_LETTER_QUEUES" in ((res["Properties"].get("Environment") or {}).get("Variables") or {})
    }
    drained = refs(
        [r["Properties"]["Environment"]["Variables"]["DEAD_LETTER_QUEUES"] for r in redrive.values()]
    )
    for logical, res in queues.items():
        props = res["Properties"]
        if not (props.get("SqsManagedSseEnabled") is True or props.get("KmsMasterKeyId")):
            found.append(f"{logical}: not encrypted")
        if props.get("MessageRetentionPeriod") != FOURTEEN_DAYS:
            found.append(f"{logical}: keeps messages {props.get('MessageRetentionPeriod')} s, not 14 days")
        if logical not in drained:
            found.append(f"{logical}: no re-drive function reads it (DEAD_LETTER_QUEUES)")
        if not alarmed("AWS/SQS", "ApproximateNumberOfMessagesVisible", logical):
            found.append(f"{logical}: no alarm on messages waiting")

    for logical, res in of_type("AWS::Serverless::Function").items():
        props = res["Properties"]
        for metric in ("Errors", "Throttles"):
            if not alarmed("AWS/Lambda", metric, logical):
                found.append(f"{logical}: no alarm on its {metric}")
        triggers = [n for n, e in (props.get("Events") or {}).items() if e.get("Type") in ASYNC_EVENTS]
        if not triggers:
            continue
        config = props.get("EventInvokeConfig") or {}
        for setting in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if setting not in config:
                found.append(f"{logical}: invoked asynchronously ({', '.join(triggers)}) without {setting}")
        failure = ((config.get("DestinationConfig") or {}).get("OnFailure")) or {}
        target = refs(failure.get("Destination"))
        if failure.get("Type") != "SQS" or not target & set(queues):
            found.append(
                f"{logical}: invoked asynchronously ({', '.join(triggers)}) with no SQS OnFailure queue"
            )

    for logical in of_type("AWS::Serverless::StateMachine"):
        for metric in ("ExecutionsFailed", "ExecutionsTimedOut"):
            if not alarmed("AWS/States", metric, logical):
                found.append(f"{logical}: no alarm on {metric}")

    for logical in of_type("AWS::Serverless::HttpApi"):
        if not alarmed("AWS/ApiGateway", "5xx", logical):
            found.append(f"{logical}: no alarm on 5xx answers")
    return found


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def test_the_template_keeps_data_and_reports_failures(template: dict[str, Any]) -> None:
    assert problems(template) == []


def test_alarms_and_the_dashboard_read_metrics_the_code_emits(template: dict[str, Any]) -> None:
    ours = {
        name
        for alarm in template["Resources"].values()
        if alarm.get("Type") == "AWS::CloudWatch::Alarm"
        for namespace, name, _ in metrics_of(alarm)
        if namespace == "ImageStudio"
    }
    body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    ours |= {m[1] for w in widgets for m in w["properties"]["metrics"] if m[0] == "ImageStudio"}
    assert {"ProviderErrors", "OverdueReservations", "JobsEnded", "CreditsCharged", "ProviderLatency"} <= ours
    code = "\n".join(p.read_text() for p in (ROOT / "layers/imagestudio/python/imagestudio").rglob("*.py"))
    for name in ours:
        assert re.search(rf'emit\(\s*"{name}"', code), f"no code emits {name}"


def with_resource(template: dict[str, Any], logical: str, resource: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(template)
    changed["Resources"][logical] = resource
    return changed


def test_a_new_table_without_retain_is_caught(template: dict[str, Any]) -> None:
    table = copy.deepcopy(template["Resources"]["IdempotencyTable"])
    table.pop("DeletionPolicy")
    assert problems(with_resource(template, "NewTable", table)) == [
        "NewTable: DeletionPolicy is None, not 'Retain'"
    ]


def test_a_new_bucket_without_versioning_is_caught(template: dict[str, Any]) -> None:
    bucket = {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    bucket["Properties"] = {"LifecycleConfiguration": {"Rules": [{"Id": "tmp", "ExpirationInDays": 1}]}}
    assert problems(with_resource(template, "Exports", bucket)) == [
        "Exports: not versioned",
        "Exports: no rule expiring old versions and delete markers bucket-wide",
        "Exports: rule tmp expires objects but keeps their old versions",
    ]


def test_a_new_scheduled_function_without_a_failure_queue_or_alarm_is_caught(
    template: dict[str, Any],
) -> None:
    function = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": "functions/nightly/",
            "Events": {"Nightly": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 day)"}}},
            "EventInvokeConfig": {"MaximumRetryAttempts": 1},
        },
    }
    assert problems(with_resource(template, "NightlyFunction", function)) == [
        "NightlyFunction: no alarm on its Errors",
        "NightlyFunction: no alarm on its Throttles",
        "NightlyFunction: invoked asynchronously (Nightly) without MaximumEventAgeInSeconds",
        "NightlyFunction: invoked asynchronously (Nightly) with no SQS OnFailure queue",
    ]


def test_a_new_queue_nobody_redrives_is_caught(template: dict[str, Any]) -> None:
    queue = copy.deepcopy(template["Resources"]["SweeperDeadLetterQueue"])
    queue["Properties"].pop("SqsManagedSseEnabled")
    assert problems(with_resource(template, "ExtraQueue", queue)) == [
        "ExtraQueue: not encrypted",
        "ExtraQueue: no re-drive function reads it (DEAD_LETTER_QUEUES)",
        "ExtraQueue: no alarm on messages waiting",
    ]
