"""`python -m local run|token|check-asl`: the offline stack's commands (see the Makefile)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from local.stack import DEFAULT_STATE_DIR, DEFAULT_TEMPLATE, ROOT, LocalStack, default_signer, local_plan


def _params(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param takes Name=Value, got {pair!r}")
        out[key] = value
    return out


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("werkzeug", "botocore", "urllib3", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stack = LocalStack(
        template=Path(args.template),
        host=args.host,
        port=args.port,
        moto_port=args.moto_port,
        state_dir=Path(args.state_dir),
        parameters=_params(args.param),
    ).start()
    token = stack.token("dev-user")
    base = stack.base_url
    print(
        f"""
Image Studio offline stack is up (provisioned from {Path(args.template).name}).

  Studio (web)   {base}/studio/   (sign in with the dev token in one click)
  API            {base}/api/image-studio/
  API docs       {base}/api/image-studio/docs   (spec: {base}/api/image-studio/openapi.json)
  AWS (moto)     {stack.moto_url}   (AWS_ENDPOINT_URL for the aws CLI or boto3)
  Stack info     {base}/_local
  Functions      {len(stack.plan.functions)}, routes {len(stack.plan.routes)}, tables {len(stack.plan.tables)},
                 buckets {len(stack.plan.buckets)}, state machines {len(stack.plan.state_machines)},
                 schedules {len(stack.plan.schedules)}

Dev token for user 'dev-user' (another user: make token USER=alice):
  export TOKEN={token}

Try:
  curl {base}/api/image-studio/health
  curl -H "Authorization: Bearer $TOKEN" "{base}/api/image-studio/templates?platform=instagram"
  curl -H "Authorization: Bearer $TOKEN" "{base}/api/image-studio/templates/recommend?use_case=product%20launch"
  curl -H "Authorization: Bearer $TOKEN" {base}/api/image-studio/social/platforms/linkedin/formats
  curl -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
       -d '{{"operation":"generate","quality":"premium","num_variations":3}}' {base}/api/image-studio/estimate-cost
  curl -X POST {base}/_local/schedules/<name>/fire     # fire a schedule now

Ctrl-C stops it.""",
        flush=True,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    stack.stop()
    return 0


def token(args: argparse.Namespace) -> int:
    plan = local_plan(Path(args.template), _params(args.param))
    signer = default_signer(plan, Path(args.state_dir))
    groups = [g for g in (args.groups or "").split(",") if g]
    print(f"# dev JWT for user {args.user!r}, issuer {signer.authorizer.issuer}", file=sys.stderr)
    print(signer.issue(args.user, groups=groups, ttl=args.ttl))
    return 0


def check_asl(args: argparse.Namespace) -> int:
    """Every state machine of the template: JSON after substitution (plan_stack), then asl-validator."""
    plan = local_plan(Path(args.template))
    if not plan.state_machines:
        print("check-asl: the template declares no state machine")
        return 0
    npx = shutil.which("npx")
    failures = 0
    for machine in plan.state_machines:
        path = DEFAULT_STATE_DIR / "asl" / f"{machine.logical_id}.asl.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(json.loads(machine.definition), indent=2))
        if npx is None:
            print(f"check-asl: {machine.logical_id} parsed; npx not found, asl-validator skipped")
            continue
        result = subprocess.run(  # noqa: S603 - fixed command, our own file
            [npx, "--yes", "asl-validator@3", "--json-path", str(path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        ok = result.returncode == 0
        failures += 0 if ok else 1
        print(f"check-asl: {machine.logical_id}: {'valid' if ok else 'INVALID'}")
        if not ok:
            print(result.stdout + result.stderr)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--template", default=str(DEFAULT_TEMPLATE))
    common.add_argument("--state-dir", default=str(DEFAULT_STATE_DIR), help="where the dev signing key lives")
    common.add_argument("--param", action="append", default=[], help="template parameter override Name=Value")

    p_run = sub.add_parser("run", parents=[common], help="start the whole system offline")
    p_run.add_argument("--host", default="127.0.0.1")
    p_run.add_argument("--port", type=int, default=3000)
    p_run.add_argument("--moto-port", type=int, default=0, help="0 picks a free port")
    p_run.set_defaults(func=run)

    p_token = sub.add_parser("token", parents=[common], help="print a dev JWT (last line)")
    p_token.add_argument("--user", default="dev-user")
    p_token.add_argument("--groups", default="", help="comma-separated groups, e.g. admin")
    p_token.add_argument("--ttl", type=int, default=12 * 3600)
    p_token.set_defaults(func=token)

    p_asl = sub.add_parser("check-asl", parents=[common], help="validate the template's state machines")
    p_asl.set_defaults(func=check_asl)

    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
