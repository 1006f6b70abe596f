"""The whole system offline: moto in server mode, everything provisioned from template.yaml,
functions in-process, the HTTP API in front, schedules ticking.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from local import lambda_runtime, moto_atomic, studio
from local.auth import TokenSigner, load_or_create_key
from local.cfn import load_template
from local.http_api import HttpApi, serve
from local.lambda_runtime import LocalLambdaRuntime
from local.persistence import SNAPSHOT_SECONDS, StateStore
from local.provision import REGION, StackPlan, apply_plan, plan_stack
from local.scheduler import Scheduler

log = logging.getLogger("local.stack")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = ROOT / "template.yaml"
DEFAULT_STATE_DIR = ROOT / ".local"
# The offline stack's parameter overrides, as `sam deploy --parameter-overrides` would pass them.
LOCAL_PARAMETERS = {"ProviderMode": "local", "Stage": "local", "PollWaitScale": "0.1"}
# What a job or batch row that was running when the stack stopped says happened to it.
INTERRUPTED = "The offline stack stopped while this ran; its reserved credits were returned."


def data_dir(state_dir: Path) -> Path:
    """Where the tables' items and the buckets' objects are kept (`make reset` removes it)."""
    return state_dir / "data"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def signers_for(plan: StackPlan, state_dir: Path) -> dict[str, TokenSigner]:
    key = load_or_create_key(state_dir / "dev-jwt-key.pem")
    return {name: TokenSigner(key, authorizer) for name, authorizer in plan.authorizers.items()}


def default_signer(plan: StackPlan, state_dir: Path) -> TokenSigner:
    signers = signers_for(plan, state_dir)
    default = next((s for name, s in signers.items() if name.endswith(".<default>")), None)
    if default is None:
        raise SystemExit("template.yaml declares no JWT authorizer: no token to make")
    return default


def local_plan(template: Path = DEFAULT_TEMPLATE, parameters: dict[str, str] | None = None) -> StackPlan:
    """The template planned with the offline stack's overrides (those it declares) and the caller's."""
    declared = load_template(template).get("Parameters") or {}
    defaults = {k: v for k, v in LOCAL_PARAMETERS.items() if k in declared}
    return plan_stack(template, parameters={**defaults, **(parameters or {})})


def stack_environment(plan: StackPlan) -> dict[str, str]:
    """The union of the functions' environments: every table, bucket and state machine of the stack
    (for work the stack itself does, such as recovery after a restart)."""
    environment: dict[str, str] = {}
    for spec in plan.functions:
        environment.update(spec.environment)
    return environment


def recover_after_restart(plan: StackPlan) -> Any:
    """Open jobs and batches whose executions did not survive a restart: re-driven or ended."""
    from imagestudio.api.context import ports
    from imagestudio.batches.recovery import recover
    from imagestudio.config import environment_view

    with environment_view(stack_environment(plan)):
        p = ports()
        result = recover(p, p.settings, INTERRUPTED)
    if any(vars(result).values()):
        log.info("recovery after restart: %s", vars(result))
    return result


@dataclass
class LocalStack:
    template: Path = DEFAULT_TEMPLATE
    host: str = "127.0.0.1"
    port: int = 3000
    moto_port: int = 0
    state_dir: Path = DEFAULT_STATE_DIR
    parameters: dict[str, str] = field(default_factory=dict)
    tick_seconds: float = 1.0
    persist: bool = True  # keep tables and buckets under state_dir/data across stop and start
    snapshot_seconds: float = SNAPSHOT_SECONDS

    def start(self) -> LocalStack:
        from moto.core.config import default_user_config
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        self.moto_port = self.moto_port or free_port(self.host)
        self.moto_url = f"http://{self.host}:{self.moto_port}"
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.moto_url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                # Step Functions' own clients inside moto call back to this port.
                "MOTO_PORT": str(self.moto_port),
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
            }
        )
        # Clients cached in this process before now point at another endpoint: start afresh.
        from imagestudio.api import context

        context.reset()
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        # Lambda keeps use_docker on: with it off moto answers from an echoing backend instead of
        # LambdaFunction.invoke, which lambda_runtime.install() routes to our functions.
        moto_atomic.install()  # the server answers requests on many threads
        self.moto = ThreadedMotoServer(ip_address=self.host, port=self.moto_port, verbose=False)
        self.moto.start()

        self.plan = local_plan(self.template, self.parameters)
        self.runtime = LocalLambdaRuntime(self.plan.layer_paths)
        lambda_runtime.install(self.runtime)
        self.session = boto3.Session(region_name=self.plan.region)
        self.state = StateStore(data_dir(self.state_dir), self.plan, self.session) if self.persist else None
        self.restored = (0, 0)

        def restore() -> None:
            if self.state is not None:
                self.restored = self.state.restore()
                log.info("state: %s items and %s objects restored from %s", *self.restored, self.state.root)

        apply_plan(self.plan, self.session, self.runtime, before_triggers=restore)
        self.recovery = recover_after_restart(self.plan)
        if self.state is not None:
            self.state.start(self.snapshot_seconds)

        self.signers = signers_for(self.plan, self.state_dir)
        sfn = self.session.client("stepfunctions")
        self.sqs = self.session.client("sqs")  # made once here: HTTP threads share it
        self.scheduler = Scheduler(
            self.plan,
            self.runtime,
            lambda arn, name, payload: sfn.start_execution(stateMachineArn=arn, name=name, input=payload)[
                "executionArn"
            ],
        )
        self.api = HttpApi(self.plan, self.runtime, self.signers)
        self._add_local_routes()
        self.http = serve(self.api, self.host, self.port)
        self.port = self.http.server_address[1]
        self._thread = threading.Thread(target=self.http.serve_forever, name="local-http-api", daemon=True)
        self._thread.start()
        self.scheduler.start(self.tick_seconds)
        return self

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def token(self, user: str, groups: list[str] | None = None) -> str:
        signer = next(s for name, s in self.signers.items() if name.endswith(".<default>"))
        return signer.issue(user, groups=groups)

    def stop(self) -> None:
        self.scheduler.stop()
        self.http.shutdown()
        if self.state is not None:  # the last snapshot, after the last request was answered
            self.state.stop()
            self.state.save()
        self.moto.stop()
        lambda_runtime.uninstall()

    # -- /_local/: the offline stack's own controls (not part of the deployed API)

    def _add_local_routes(self) -> None:
        def reply(status: int, body: Any) -> tuple[int, dict[str, str], bytes]:
            return status, {"content-type": "application/json"}, json.dumps(body, default=str).encode()

        def info(
            method: str, path: str, headers: dict[str, str], body: bytes
        ) -> tuple[int, dict[str, str], bytes]:
            return reply(200, self.describe())

        def schedules(
            method: str, path: str, headers: dict[str, str], body: bytes
        ) -> tuple[int, dict[str, str], bytes]:
            # POST /_local/schedules/{name}/fire
            parts = path.strip("/").split("/")
            if len(parts) != 4 or parts[3] != "fire":
                return reply(404, {"message": "use POST /_local/schedules/{name}/fire"})
            try:
                firing = self.scheduler.fire(parts[2])
            except KeyError as exc:
                return reply(404, {"message": str(exc.args[0])})
            return reply(202, firing.__dict__)

        def jwks(
            method: str, path: str, headers: dict[str, str], body: bytes
        ) -> tuple[int, dict[str, str], bytes]:
            signer = next(iter(self.signers.values()))
            return reply(200, signer.jwks())

        def redrive(
            method: str, path: str, headers: dict[str, str], body: bytes
        ) -> tuple[int, dict[str, str], bytes]:
            # POST /_local/redrive (every dead-letter queue) or /_local/redrive/{queue}
            queue = path.strip("/").split("/")[2] if path.strip("/").count("/") >= 2 else "all"
            status, answer = self.redrive(queue)
            return reply(status, answer)

        self.api.add_local_route("POST", "/_local/redrive", redrive)

        def dev_token(
            method: str, path: str, headers: dict[str, str], body: bytes
        ) -> tuple[int, dict[str, str], bytes]:
            return studio.dev_token(self.token, body)

        # The Studio page (web/) and its offline sign-in: the deployed stack has neither route.
        self.api.add_local_route("GET", studio.PREFIX + "/config.json", lambda *_: studio.config())
        self.api.add_local_route("GET", studio.PREFIX, lambda _m, path, _h, _b: studio.static_file(path))
        self.api.add_local_route("POST", "/_local/dev-token", dev_token)
        self.api.add_local_route("GET", "/_local/jwks.json", jwks)
        self.api.add_local_route("POST", "/_local/schedules/", schedules)
        self.api.add_local_route("GET", "/_local", info)

    def dead_letters(self) -> dict[str, Any]:
        """Each dead-letter queue of the template: messages waiting and the first few failures."""
        sqs = self.sqs
        out: dict[str, Any] = {}
        for logical in self.plan.queues:
            url = sqs.get_queue_url(QueueName=self.plan.queue_name(logical))["QueueUrl"]
            attrs = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            peek = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5, VisibilityTimeout=0)
            failures = []
            for message in peek.get("Messages", []):
                try:
                    record = json.loads(message["Body"])
                    failures.append(
                        {
                            "function": record["requestContext"]["functionArn"].split(":")[6],
                            "at": record.get("timestamp"),
                            "attempts": record["requestContext"].get("approximateInvokeCount"),
                            "error": (record.get("responsePayload") or {}).get("errorMessage"),
                        }
                    )
                except (ValueError, KeyError, IndexError, TypeError):
                    failures.append({"message": message["Body"][:200]})
            out[logical] = {
                "queue": self.plan.queue_name(logical),
                "messages": int(attrs.get("ApproximateNumberOfMessages", 0)),
                "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
                "first": failures,
                "failed_functions": sorted(
                    {
                        f.name
                        for f in self.plan.functions
                        if f.async_config.on_failure
                        and f.async_config.on_failure.endswith(":" + self.plan.queue_name(logical))
                    }
                ),
            }
        return out

    def redrive(self, queue: str) -> tuple[int, Any]:
        """Run the template's re-drive function (the one given DEAD_LETTER_QUEUES) on a queue or all."""
        function = next((f for f in self.plan.functions if "DEAD_LETTER_QUEUES" in f.environment), None)
        if function is None:
            return 404, {"message": "the template declares no re-drive function"}
        result = self.runtime.invoke(function.name, {"queue": queue})
        if result.error:
            status = 422 if result.payload.get("errorType") == "InvalidInput" else 500
            return status, {"message": result.payload.get("errorMessage")}
        return 200, result.payload

    def describe(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "aws_endpoint_url": self.moto_url,
            "region": self.plan.region,
            "routes": [
                {"route": r.route_key, "function": r.function, "auth": "JWT" if r.authorizer else "NONE"}
                for r in self.plan.routes
            ],
            "functions": [f.name for f in self.plan.functions],
            "tables": {k: self.plan.physical[k] for k in self.plan.tables},
            "buckets": {k: self.plan.physical[k] for k in self.plan.buckets},
            "state_machines": [m.arn for m in self.plan.state_machines],
            "schedules": [
                {
                    "name": s.name,
                    "expression": s.expression,
                    "target": s.target,
                    "next_run": self.scheduler.next_run(s.name),
                }
                for s in self.plan.schedules
            ],
            "dead_letter_queues": self.dead_letters(),
            "outputs": self.plan.outputs,
            "not_emulated": self.plan.not_emulated,
            "state": {
                "dir": str(self.state.root) if self.state else None,
                "snapshot_seconds": self.snapshot_seconds if self.state else None,
                "restored": {"items": self.restored[0], "objects": self.restored[1]},
                "last_save": vars(self.state.last_save) if self.state and self.state.last_save else None,
                "recovery": vars(self.recovery),
            },
            "started": datetime.now(UTC).isoformat(),
        }
