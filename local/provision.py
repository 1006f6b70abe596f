"""Provision the offline stack FROM template.yaml: nothing here lists a table, a route or a function.

`plan_stack` reads the template (Globals merged, parameters and conditions applied, intrinsics
resolved) into a `StackPlan` without touching AWS; `apply_plan` creates every bucket, table, log
group, function, state machine, S3 notification and schedule rule in moto and registers the
functions with the in-process runtime. Tests and `make run` both go through here, so a test
table can never drift from the deployed one.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.auth import Authorizer
from local.cfn import (
    Resolver,
    apply_definition_substitutions,
    apply_globals,
    evaluate_conditions,
    load_template,
    parameter_values,
    resource_enabled,
)
from local.lambda_runtime import AsyncConfig, FunctionSpec, LocalLambdaRuntime

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
LAMBDA_ROLE = "image-studio-local-lambda"
STATES_ROLE = "image-studio-local-states"
IMPLICIT_HTTP_API = "ServerlessHttpApi"


# SAM: an HttpApi event without Path and Method is the API's $default route.
DEFAULT_ROUTE = "$default"


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ... or ANY
    path: str  # /api/image-studio/platform-specs/{platform}
    function: str  # physical function name
    authorizer: str | None  # None: no auth
    route_key: str

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.path == DEFAULT_ROUTE:
            return {}  # $default catches whatever no other route matched (find_route puts it last)
        if self.method not in ("ANY", method):
            return None
        return match_path(self.path, path)


@dataclass(frozen=True)
class Cors:
    allow_origins: tuple[str, ...]
    allow_headers: tuple[str, ...]
    allow_methods: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int | None
    allow_credentials: bool


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    expression: str
    target_kind: str  # "lambda" | "states"
    target: str  # function name or state machine ARN
    input: str | None
    enabled: bool
    source: str  # logical id and event name it came from


@dataclass(frozen=True)
class S3NotificationSpec:
    bucket: str
    function_arn: str
    events: tuple[str, ...]
    filter_rules: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class StateMachineSpec:
    logical_id: str
    name: str
    arn: str
    definition: str
    type: str


@dataclass
class StackPlan:
    stack_name: str
    region: str
    account_id: str
    template_dir: Path
    parameters: dict[str, Any]
    conditions: dict[str, bool]
    functions: list[FunctionSpec] = field(default_factory=list)
    layer_paths: list[Path] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    authorizers: dict[str, Authorizer] = field(default_factory=dict)
    cors: Cors | None = None
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # logical id -> resolved properties
    buckets: dict[str, dict[str, Any]] = field(default_factory=dict)
    log_groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    state_machines: list[StateMachineSpec] = field(default_factory=list)
    notifications: list[S3NotificationSpec] = field(default_factory=list)
    schedules: list[ScheduleSpec] = field(default_factory=list)
    event_buses: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)  # logical id -> resolved properties
    outputs: dict[str, Any] = field(default_factory=dict)
    physical: dict[str, str] = field(default_factory=dict)  # logical id -> physical name / id
    not_emulated: dict[str, str] = field(default_factory=dict)  # logical id -> type

    def function(self, logical_or_name: str) -> FunctionSpec:
        for spec in self.functions:
            if logical_or_name in (spec.logical_id, spec.name):
                return spec
        raise KeyError(f"no function {logical_or_name!r} in the template")

    def table_name(self, logical_id: str) -> str:
        return self.physical[logical_id]

    def queue_name(self, logical_id: str) -> str:
        return self.physical[logical_id].rsplit("/", 1)[-1]  # Ref of a queue is its URL

    def find_route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """API Gateway's rule: the most specific route wins (fewest variables, then longest)."""
        candidates = []
        fallback = None
        for route in self.routes:
            params = route.match(method, path)
            if params is not None and route.path == DEFAULT_ROUTE:
                fallback = (route, params)
            elif params is not None:
                specificity = (route.path.count("{"), "+}" in route.path, route.method == "ANY")
                candidates.append((specificity, -len(route.path), route, params))
        if not candidates:
            return fallback
        candidates.sort(key=lambda c: (c[0], c[1]))
        return candidates[0][2], candidates[0][3]


def match_path(template: str, path: str) -> dict[str, str] | None:
    pattern = ""
    for part in re.split(r"(\{[^}]+\})", template):
        if part.startswith("{") and part.endswith("+}"):
            pattern += f"(?P<{_group(part[1:-2])}>.+)"
        elif part.startswith("{"):
            pattern += f"(?P<{_group(part[1:-1])}>[^/]+)"
        else:
            pattern += re.escape(part)
    found = re.fullmatch(pattern, path)
    if not found:
        return None
    names = {_group(n): n for n in re.findall(r"\{([^}+]+)\+?\}", template)}
    return {names[k]: v for k, v in found.groupdict().items()}


def _group(name: str) -> str:
    return re.sub(r"\W", "_", name)


class _PhysicalNames(Mapping[str, Any]):
    """Ref values, computed on first use so a name may depend on another resource's name."""

    def __init__(self, plan: StackPlan, resources: dict[str, Any], resolver_box: list[Resolver]) -> None:
        self._plan = plan
        self._resources = resources
        self._box = resolver_box
        self._busy: set[str] = set()

    def __getitem__(self, logical_id: str) -> Any:
        if logical_id in self._plan.physical:
            return self._plan.physical[logical_id]
        resource = self._resources.get(logical_id)
        if resource is None:
            raise KeyError(logical_id)
        if logical_id in self._busy:
            raise KeyError(f"circular reference through {logical_id}")
        self._busy.add(logical_id)
        try:
            name = self._name(logical_id, resource)
        finally:
            self._busy.discard(logical_id)
        self._plan.physical[logical_id] = name
        return name

    def __iter__(self) -> Iterator[str]:
        return iter(self._resources)

    def __len__(self) -> int:
        return len(self._resources)

    def _explicit(self, resource: dict[str, Any], prop: str) -> str | None:
        value = (resource.get("Properties") or {}).get(prop)
        return None if value is None else str(self._box[0].resolve(value))

    def _name(self, logical_id: str, resource: dict[str, Any]) -> str:
        stack, region, account = self._plan.stack_name, self._plan.region, self._plan.account_id
        kind = resource.get("Type", "")
        base = f"{stack}-{logical_id}"
        if kind == "AWS::DynamoDB::Table":
            return self._explicit(resource, "TableName") or base
        if kind == "AWS::S3::Bucket":
            return self._explicit(resource, "BucketName") or base.lower()
        if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            return self._explicit(resource, "FunctionName") or base[:64]
        if kind == "AWS::Serverless::StateMachine":
            name = self._explicit(resource, "Name") or base
            return f"arn:aws:states:{region}:{account}:stateMachine:{name}"
        if kind == "AWS::Serverless::LayerVersion":
            return f"arn:aws:lambda:{region}:{account}:layer:{base}:1"
        if kind == "AWS::Logs::LogGroup":
            return self._explicit(resource, "LogGroupName") or base
        if kind in ("AWS::Serverless::HttpApi", "AWS::Serverless::Api"):
            return logical_id.lower()
        if kind == "AWS::Cognito::UserPool":
            return f"{region}_LocalDevPool"
        if kind == "AWS::Events::EventBus":
            return self._explicit(resource, "Name") or base
        if kind == "AWS::Cognito::UserPoolClient":
            return "localdevclient"
        if kind == "AWS::SQS::Queue":  # Ref is the queue's URL
            name = self._explicit(resource, "QueueName") or base[:80]
            return f"https://sqs.{region}.amazonaws.com/{account}/{name}"
        if kind == "AWS::SNS::Topic":  # Ref is the topic's ARN
            return f"arn:aws:sns:{region}:{account}:{self._explicit(resource, 'TopicName') or base}"
        return base


def _attribute(
    plan: StackPlan, refs: _PhysicalNames, resources: dict[str, Any], logical: str, attr: str
) -> Any:
    region, account = plan.region, plan.account_id
    kind = resources[logical].get("Type", "")
    name = refs[logical]
    arns = {
        "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{region}:{account}:table/{name}",
        "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
        "AWS::Serverless::Function": f"arn:aws:lambda:{region}:{account}:function:{name}",
        "AWS::Lambda::Function": f"arn:aws:lambda:{region}:{account}:function:{name}",
        "AWS::Logs::LogGroup": f"arn:aws:logs:{region}:{account}:log-group:{name}:*",
        "AWS::Cognito::UserPool": f"arn:aws:cognito-idp:{region}:{account}:userpool/{name}",
        "AWS::Serverless::StateMachine": name,
    }
    if attr == "Arn" and kind in arns:
        return arns[kind]
    if kind == "AWS::SQS::Queue":
        queue = str(name).rsplit("/", 1)[-1]
        values = {"Arn": f"arn:aws:sqs:{region}:{account}:{queue}", "QueueName": queue, "QueueUrl": name}
        if attr in values:
            return values[attr]
    if kind == "AWS::DynamoDB::Table" and attr == "StreamArn":
        return f"{arns[kind]}/stream/local"
    if kind == "AWS::S3::Bucket" and attr in ("DomainName", "RegionalDomainName"):
        return f"{name}.s3.{region}.amazonaws.com"
    if kind == "AWS::Serverless::StateMachine" and attr == "Name":
        return str(name).rsplit(":", 1)[-1]
    if kind == "AWS::Cognito::UserPool" and attr == "ProviderURL":
        return f"https://cognito-idp.{region}.amazonaws.com/{name}"
    if kind == "AWS::Cognito::UserPool" and attr == "ProviderName":
        return f"cognito-idp.{region}.amazonaws.com/{name}"
    # The Studio's CloudFront resources are not emulated (the offline stack serves web/ itself), but
    # the Cognito client and CORS settings name the distribution's domain.
    if kind == "AWS::CloudFront::Distribution" and attr == "DomainName":
        return f"{str(name).lower()}.cloudfront.net"
    if kind == "AWS::CloudFront::OriginAccessControl" and attr == "Id":
        return name
    if kind == "AWS::CloudFront::Function" and attr == "FunctionARN":
        return f"arn:aws:cloudfront::{account}:function/{name}"
    raise KeyError(f"{logical}.{attr}")


class _Attributes(Mapping[tuple[str, str], Any]):
    def __init__(self, plan: StackPlan, refs: _PhysicalNames, resources: dict[str, Any]) -> None:
        self._args = (plan, refs, resources)

    def __getitem__(self, key: tuple[str, str]) -> Any:
        plan, refs, resources = self._args
        if key[0] not in resources:
            raise KeyError(key)
        return _attribute(plan, refs, resources, key[0], key[1])

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(())

    def __len__(self) -> int:
        return 0


def plan_stack(
    template_path: str | Path,
    *,
    parameters: Mapping[str, str] | None = None,
    stack_name: str = "image-studio-local",
    region: str = REGION,
    account_id: str = ACCOUNT_ID,
) -> StackPlan:
    template_path = Path(template_path).resolve()
    template = apply_globals(load_template(template_path))
    values = parameter_values(template, parameters)
    conditions = evaluate_conditions(
        template, values, region=region, account_id=account_id, stack_name=stack_name
    )
    resources = {
        logical: res
        for logical, res in (template.get("Resources") or {}).items()
        if resource_enabled(logical, res, conditions)
    }
    plan = StackPlan(
        stack_name=stack_name,
        region=region,
        account_id=account_id,
        template_dir=template_path.parent,
        parameters=values,
        conditions=conditions,
    )
    box: list[Resolver] = []
    refs = _PhysicalNames(plan, resources, box)
    resolver = Resolver(
        template=template,
        parameters=values,
        conditions=conditions,
        refs=refs,
        attrs=_Attributes(plan, refs, resources),
        region=region,
        account_id=account_id,
        stack_name=stack_name,
    )
    box.append(resolver)

    for logical, res in resources.items():
        kind = res.get("Type", "")
        props = resolver.resolve(res.get("Properties") or {})
        if kind == "AWS::DynamoDB::Table":
            plan.tables[logical] = props
        elif kind == "AWS::S3::Bucket":
            plan.buckets[logical] = props
        elif kind == "AWS::Logs::LogGroup":
            plan.log_groups[logical] = props
        elif kind == "AWS::Serverless::LayerVersion":
            _plan_layer(plan, res, props)
        elif kind == "AWS::Serverless::HttpApi":
            _plan_http_api(plan, logical, props)
        elif kind == "AWS::Serverless::StateMachine":
            _plan_state_machine(plan, logical, props, refs[logical])
        elif kind == "AWS::Events::EventBus":
            plan.event_buses.append(str(props.get("Name") or refs[logical]))
        elif kind == "AWS::SNS::Topic":
            plan.topics.append(str(refs[logical]).rsplit(":", 1)[1])
        elif kind == "AWS::SQS::Queue":
            plan.queues[logical] = props
        elif kind == "AWS::Events::Rule" and props.get("ScheduleExpression"):
            for target in props.get("Targets") or []:
                plan.schedules.append(_schedule_from_target(plan, logical, props, target))
        elif kind not in ("AWS::Serverless::Function", "AWS::S3::BucketPolicy"):
            plan.not_emulated[logical] = kind
        refs[logical]

    for logical, res in resources.items():
        if res.get("Type") == "AWS::Serverless::Function":
            _plan_function(plan, logical, resolver.resolve(res.get("Properties") or {}), refs[logical])

    for name, output in (template.get("Outputs") or {}).items():
        if "Condition" in output and not conditions.get(output["Condition"], False):
            continue
        plan.outputs[name] = resolver.resolve(output.get("Value"))
    return plan


def _plan_layer(plan: StackPlan, res: dict[str, Any], props: dict[str, Any]) -> None:
    # A layer with a BuildMethod is built by `sam build` from a requirements file: offline those
    # packages come from the virtual environment. A prebuilt layer ships its python/ folder as-is.
    if (res.get("Metadata") or {}).get("BuildMethod"):
        return
    content = plan.template_dir / str(props.get("ContentUri", ""))
    python_dir = content / "python"
    plan.layer_paths.append(python_dir if python_dir.is_dir() else content)


def _plan_http_api(plan: StackPlan, logical: str, props: dict[str, Any]) -> None:
    auth = props.get("Auth") or {}
    for name, config in (auth.get("Authorizers") or {}).items():
        jwt = config.get("JwtConfiguration") or {}
        audience = jwt.get("audience") or jwt.get("Audience") or []
        plan.authorizers[f"{logical}.{name}"] = Authorizer(
            name=name,
            issuer=str(jwt.get("issuer") or jwt.get("Issuer") or ""),
            audience=tuple(str(a) for a in audience if a),
            identity_source=str(config.get("IdentitySource", "$request.header.Authorization")),
        )
    if default := auth.get("DefaultAuthorizer"):
        plan.authorizers[f"{logical}.<default>"] = plan.authorizers[f"{logical}.{default}"]
    cors = props.get("CorsConfiguration")
    if cors is True:
        cors = {"AllowOrigins": ["*"], "AllowHeaders": ["*"], "AllowMethods": ["*"]}
    if isinstance(cors, dict):

        def _list(key: str) -> tuple[str, ...]:
            value = cors.get(key) or []
            return tuple(value.split(",") if isinstance(value, str) else (str(v) for v in value))

        plan.cors = Cors(
            allow_origins=_list("AllowOrigins"),
            allow_headers=tuple(h.lower() for h in _list("AllowHeaders")),
            allow_methods=tuple(m.upper() for m in _list("AllowMethods")),
            expose_headers=_list("ExposeHeaders"),
            max_age=int(cors["MaxAge"]) if cors.get("MaxAge") is not None else None,
            allow_credentials=bool(cors.get("AllowCredentials", False)),
        )


def _plan_state_machine(plan: StackPlan, logical: str, props: dict[str, Any], arn: str) -> None:
    if "Definition" in props:
        text = json.dumps(props["Definition"])
    else:
        text = (plan.template_dir / str(props["DefinitionUri"])).read_text(encoding="utf-8")
    text = apply_definition_substitutions(text, props.get("DefinitionSubstitutions") or {})
    json.loads(text)  # a definition that is not JSON after substitution fails here, not at runtime
    plan.state_machines.append(
        StateMachineSpec(
            logical_id=logical,
            name=arn.rsplit(":", 1)[-1],
            arn=arn,
            definition=text,
            type=str(props.get("Type", "STANDARD")),
        )
    )
    for event_name, event in (props.get("Events") or {}).items():
        if event.get("Type") in ("Schedule", "ScheduleV2"):
            plan.schedules.append(_schedule_from_event(logical, event_name, event, "states", arn))


def _schedule_from_event(
    logical: str, event_name: str, event: dict[str, Any], kind: str, target: str
) -> ScheduleSpec:
    p = event.get("Properties") or {}
    expression = p.get("Schedule") or p.get("ScheduleExpression")
    state = p.get("State")
    enabled = p.get("Enabled", True) if state is None else state == "ENABLED"
    return ScheduleSpec(
        name=str(p.get("Name") or f"{logical}-{event_name}"),
        expression=str(expression),
        target_kind=kind,
        target=target,
        input=p.get("Input"),
        enabled=bool(enabled),
        source=f"{logical}.{event_name}",
    )


def _schedule_from_target(
    plan: StackPlan, logical: str, props: dict[str, Any], target: dict[str, Any]
) -> ScheduleSpec:
    arn = str(target["Arn"])
    kind = "states" if ":states:" in arn else "lambda"
    return ScheduleSpec(
        name=str(props.get("Name") or logical),
        expression=str(props["ScheduleExpression"]),
        target_kind=kind,
        target=arn if kind == "states" else arn.split(":function:")[-1],
        input=target.get("Input"),
        enabled=props.get("State", "ENABLED") == "ENABLED",
        source=logical,
    )


def _plan_function(plan: StackPlan, logical: str, props: dict[str, Any], name: str) -> None:
    arn = f"arn:aws:lambda:{plan.region}:{plan.account_id}:function:{name}"
    env = {k: str(v) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()}
    plan.functions.append(
        FunctionSpec(
            logical_id=logical,
            name=name,
            arn=arn,
            code_dir=(plan.template_dir / str(props.get("CodeUri", "."))).resolve(),
            handler=str(props.get("Handler", "app.lambda_handler")),
            environment=env,
            timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
            async_config=_async_config(props.get("EventInvokeConfig") or {}),
        )
    )
    for event_name, event in (props.get("Events") or {}).items():
        kind, p = event.get("Type"), event.get("Properties") or {}
        if kind == "HttpApi":
            api = str(p.get("ApiId") or IMPLICIT_HTTP_API)
            api_logical = next((k for k, v in plan.physical.items() if v == api), api)
            auth = (p.get("Auth") or {}).get("Authorizer")
            authorizer = None if auth == "NONE" else f"{api_logical}.{auth or '<default>'}"
            if authorizer is not None and authorizer not in plan.authorizers:
                authorizer = None  # an API without authorizers: every route is open
            method = str(p.get("Method", "ANY")).upper()
            path = str(p.get("Path", DEFAULT_ROUTE))
            plan.routes.append(
                Route(
                    method=method,
                    path=path,
                    function=name,
                    authorizer=authorizer,
                    route_key=DEFAULT_ROUTE if path == DEFAULT_ROUTE else f"{method} {path}",
                )
            )
        elif kind == "S3":
            events = p.get("Events") or []
            rules = ((p.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
            plan.notifications.append(
                S3NotificationSpec(
                    bucket=str(p["Bucket"]),
                    function_arn=arn,
                    events=tuple([events] if isinstance(events, str) else events),
                    filter_rules=tuple((str(r["Name"]).lower(), str(r["Value"])) for r in rules),
                )
            )
        elif kind in ("Schedule", "ScheduleV2"):
            plan.schedules.append(_schedule_from_event(logical, event_name, event, "lambda", name))


def _async_config(config: dict[str, Any]) -> AsyncConfig:
    on_failure = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    return AsyncConfig(
        max_retries=int(config.get("MaximumRetryAttempts", 2)),
        max_event_age=int(config.get("MaximumEventAgeInSeconds", 21600)),
        on_failure=str(on_failure) if on_failure else None,
    )


# ---------------------------------------------------------------------------- apply


def _code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "# runs in-process: see local/lambda_runtime.py\n")
    return buffer.getvalue()


def apply_plan(
    plan: StackPlan,
    session: Any,
    runtime: LocalLambdaRuntime,
    before_triggers: Callable[[], None] | None = None,
) -> None:
    """Create the plan's resources in moto (server or decorator mode) through `session`'s clients.

    `before_triggers` runs once the tables, buckets and functions exist and before any S3
    notification is configured: the offline stack puts its saved data back there without firing
    triggers a second time."""
    iam = session.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "*"}, "Action": "sts:AssumeRole"}],
    }
    roles = {}
    for role in (LAMBDA_ROLE, STATES_ROLE):
        try:
            roles[role] = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
                "Arn"
            ]
        except iam.exceptions.EntityAlreadyExistsException:
            roles[role] = iam.get_role(RoleName=role)["Role"]["Arn"]

    s3 = session.client("s3")
    for logical, props in plan.buckets.items():
        _create_bucket(s3, plan.physical[logical], props, plan.region)

    dynamodb = session.client("dynamodb")
    for logical, props in plan.tables.items():
        _create_table(dynamodb, plan.physical[logical], props)

    logs = session.client("logs")
    for logical, props in plan.log_groups.items():
        name = plan.physical[logical]
        logs.create_log_group(logGroupName=name)
        if props.get("RetentionInDays"):
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))

    sqs = session.client("sqs")
    queue_urls: dict[str, str] = {}
    for logical, props in plan.queues.items():
        attributes = {
            key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
            for key in (
                "MessageRetentionPeriod",
                "VisibilityTimeout",
                "DelaySeconds",
                "SqsManagedSseEnabled",
                "KmsMasterKeyId",
            )
            if key in props
        }
        name = plan.queue_name(logical)
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        queue_urls[f"arn:aws:sqs:{plan.region}:{plan.account_id}:{name}"] = url

    def send_failure(destination: str, record: dict[str, Any]) -> None:
        if destination not in queue_urls:
            raise KeyError(f"failure destination {destination} is not a queue of the template")
        sqs.send_message(QueueUrl=queue_urls[destination], MessageBody=json.dumps(record, default=str))

    runtime.send_failure = send_failure

    lam = session.client("lambda")
    code = _code_zip()
    for spec in plan.functions:
        lam.create_function(
            FunctionName=spec.name,
            Runtime="python3.12",
            Role=roles[LAMBDA_ROLE],
            Handler=spec.handler,
            Code={"ZipFile": code},
            Timeout=spec.timeout,
            MemorySize=spec.memory,
            Environment={"Variables": spec.environment},
        )
        runtime.register(spec)

    if before_triggers is not None:
        before_triggers()

    for bucket, configs in _notifications_by_bucket(plan).items():
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": configs}
        )

    sfn = session.client("stepfunctions")
    for machine in plan.state_machines:
        sfn.create_state_machine(
            name=machine.name, definition=machine.definition, roleArn=roles[STATES_ROLE], type=machine.type
        )

    sns = session.client("sns")
    for topic in plan.topics:
        sns.create_topic(Name=topic)

    events = session.client("events")
    for bus in plan.event_buses:
        events.create_event_bus(Name=bus)
    for schedule in plan.schedules:
        expression = schedule.expression
        if expression.startswith(("rate(", "cron(")):  # EventBridge rules take no at() expressions
            events.put_rule(
                Name=schedule.name,
                ScheduleExpression=expression,
                State="ENABLED" if schedule.enabled else "DISABLED",
            )


def _notifications_by_bucket(plan: StackPlan) -> dict[str, list[dict[str, Any]]]:
    by_bucket: dict[str, list[dict[str, Any]]] = {}
    for n in plan.notifications:
        config: dict[str, Any] = {"LambdaFunctionArn": n.function_arn, "Events": list(n.events)}
        if n.filter_rules:
            config["Filter"] = {"Key": {"FilterRules": [{"Name": k, "Value": v} for k, v in n.filter_rules]}}
        by_bucket.setdefault(n.bucket, []).append(config)
    return by_bucket


def _create_bucket(s3: Any, name: str, props: dict[str, Any], region: str) -> None:
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    if enc := props.get("BucketEncryption"):
        rules = [
            {
                "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                **({"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {}),
            }
            for rule in enc["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if block := props.get("PublicAccessBlockConfiguration"):
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
    if cors := props.get("CorsConfiguration"):
        s3.put_bucket_cors(
            Bucket=name, CORSConfiguration={"CORSRules": [_cors_rule(r) for r in cors["CorsRules"]]}
        )
    if versioning := props.get("VersioningConfiguration"):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})
    if lifecycle := props.get("LifecycleConfiguration"):
        s3.put_bucket_lifecycle_configuration(
            Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in lifecycle["Rules"]]}
        )


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's CORS rule shape -> the S3 API's."""
    names = {"Id": "ID", "MaxAge": "MaxAgeSeconds", "ExposedHeaders": "ExposeHeaders"}
    return {names.get(k, k): v for k, v in rule.items()}


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's lifecycle rule shape -> the S3 API's."""
    out: dict[str, Any] = {"ID": rule.get("Id", "rule"), "Status": rule.get("Status", "Enabled")}
    out["Filter"] = {"Prefix": rule.get("Prefix", "")}
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if rule.get("ExpiredObjectDeleteMarker"):
        out["Expiration"] = {"ExpiredObjectDeleteMarker": True}
    if noncurrent := rule.get("NoncurrentVersionExpiration"):
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent["NoncurrentDays"])}
    if abort := rule.get("AbortIncompleteMultipartUpload"):
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(abort["DaysAfterInitiation"])}
    return out


def _create_table(dynamodb: Any, name: str, props: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
        if props.get(key):
            kwargs[key] = props[key]
    if sse := props.get("SSESpecification"):  # CloudFormation says SSEEnabled, the API says Enabled
        kwargs["SSESpecification"] = {("Enabled" if k == "SSEEnabled" else k): v for k, v in sse.items()}
    if kwargs["BillingMode"] == "PROVISIONED":
        kwargs["ProvisionedThroughput"] = props["ProvisionedThroughput"]
    dynamodb.create_table(**kwargs)
    if ttl := props.get("TimeToLiveSpecification"):
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    if (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled"):
        dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
