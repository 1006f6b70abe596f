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

from local.stack import (
    DEFAULT_STATE_DIR,
    DEFAULT_TEMPLATE,
    ROOT,
    LocalStack,
    data_dir,
    default_signer,
    local_plan,
)


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
    if args.reset:
        reset(args)
    stack = LocalStack(
        template=Path(args.template),
        host=args.host,
        port=args.port,
        moto_port=args.moto_port,
        state_dir=Path(args.state_dir),
        parameters=_params(args.param),
        persist=not args.no_persist,
    ).start()
    if stack.state is None:
        kept = "nothing: --no-persist (everything is gone when it stops)"
    else:
        kept = (
            f"{stack.state.root} ({stack.restored[0]} items, {stack.restored[1]} objects restored;"
            f" saved every {stack.snapshot_seconds:g} s and on stop)"
        )
    recovered = stack.recovery
    interrupted = len(recovered.jobs_redriven) + len(recovered.jobs_failed) + len(recovered.batches_redriven)
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
  State          {kept}
  After restart  {interrupted} interrupted job(s)/batch(es): re-driven {recovered.jobs_redriven + recovered.batches_redriven},
                 failed and refunded {recovered.jobs_failed}
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

Ctrl-C stops it (saving first); make reset starts empty.""",
        flush=True,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    stack.stop()
    return 0


def reset(args: argparse.Namespace) -> int:
    """Forget the saved tables and buckets (the dev signing key stays, so tokens keep working)."""
    target = data_dir(Path(args.state_dir))
    shutil.rmtree(target, ignore_errors=True)
    print(f"reset: {target} removed; the next start is empty")
    return 0


def redrive(args: argparse.Namespace) -> int:
    """Ask the running offline stack to re-drive a dead-letter queue (or all of them)."""
    import urllib.error
    import urllib.request

    url = f"http://{args.host}:{args.port}/_local/redrive/{args.queue}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=900) as resp:
            answer = json.loads(resp.read())
    except urllib.error.HTTPError as err:
        print(f"redrive: {err.code} {err.read().decode()}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"redrive: no offline stack answers on {url} ({exc}); start it with make run", file=sys.stderr)
        return 1
    for queue in answer["queues"]:
        print(
            f"{queue['queue']}: {queue['redriven']} re-driven, {queue['failed']} failed again, "
            f"{queue['skipped']} not a failure record"
        )
        for error in queue["errors"]:
            print(f"  {error}")
    return 1 if any(q["failed"] or q["skipped"] for q in answer["queues"]) else 0


def token(args: argparse.Namespace) -> int:
    plan = local_plan(Path(args.template), _params(args.param))
    signer = default_signer(plan, Path(args.state_dir))
    groups = [g for g in (args.groups or "").split(",") if g]
    print(f"# dev JWT for user {args.user!r}, issuer {signer.authorizer.issuer}", file=sys.stderr)
    print(signer.issue(args.user, groups=groups, ttl=args.ttl, client=args.client))
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
    common.add_argument(
        "--state-dir",
        default=str(DEFAULT_STATE_DIR),
        help="where the dev signing key and the saved tables and buckets (data/) live",
    )
    common.add_argument("--param", action="append", default=[], help="template parameter override Name=Value")

    p_run = sub.add_parser("run", parents=[common], help="start the whole system offline")
    p_run.add_argument("--host", default="127.0.0.1")
    p_run.add_argument("--port", type=int, default=3000)
    p_run.add_argument("--moto-port", type=int, default=0, help="0 picks a free port")
    p_run.add_argument("--reset", action="store_true", help="forget the saved state first: start empty")
    p_run.add_argument("--no-persist", action="store_true", help="keep nothing on disk (in memory only)")
    p_run.set_defaults(func=run)

    p_token = sub.add_parser("token", parents=[common], help="print a dev JWT (last line)")
    p_token.add_argument("--user", default="dev-user")
    p_token.add_argument("--groups", default="", help="comma-separated groups, e.g. admin")
    p_token.add_argument("--ttl", type=int, default=12 * 3600)
    p_token.add_argument(
        "--client",
        default=None,
        help="the app client the token is issued to (azp claim); an original Image Studio front end's "
        "gets the original's answers when the stack runs with --param OriginalClientIds=<it>",
    )
    p_token.set_defaults(func=token)

    p_reset = sub.add_parser("reset", parents=[common], help="forget the saved tables and buckets")
    p_reset.set_defaults(func=reset)

    p_redrive = sub.add_parser("redrive", help="re-drive a dead-letter queue of the running stack")
    p_redrive.add_argument("--host", default="127.0.0.1")
    p_redrive.add_argument("--port", type=int, default=3000)
    p_redrive.add_argument("--queue", default="all", help="on_upload, sweeper, monthly_grant, ... or all")
    p_redrive.set_defaults(func=redrive)

    p_asl = sub.add_parser("check-asl", parents=[common], help="validate the template's state machines")
    p_asl.set_defaults(func=check_asl)

    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
