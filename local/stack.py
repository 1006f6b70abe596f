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
from local.provision import REGION, StackPlan, apply_plan, plan_stack
from local.scheduler import Scheduler

log = logging.getLogger("local.stack")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = ROOT / "template.yaml"
DEFAULT_STATE_DIR = ROOT / ".local"
# The offline stack's parameter overrides, as `sam deploy --parameter-overrides` would pass them.
LOCAL_PARAMETERS = {"ProviderMode": "local", "Stage": "local", "PollWaitScale": "0.1"}


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


@dataclass
class LocalStack:
    template: Path = DEFAULT_TEMPLATE
    host: str = "127.0.0.1"
    port: int = 3000
    moto_port: int = 0
    state_dir: Path = DEFAULT_STATE_DIR
    parameters: dict[str, str] = field(default_factory=dict)
    tick_seconds: float = 1.0

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
        apply_plan(self.plan, self.session, self.runtime)

        self.signers = signers_for(self.plan, self.state_dir)
        sfn = self.session.client("stepfunctions")
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
            "outputs": self.plan.outputs,
            "not_emulated": self.plan.not_emulated,
            "started": datetime.now(UTC).isoformat(),
        }
