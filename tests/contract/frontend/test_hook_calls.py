"""Replays the original front end's calls (hook_calls.py) against the API handlers on moto.

Each call goes through the emulated HTTP API and JWT authorizer as the original client would send
it, as a pro user with credits, with tokens issued to the original front end's app client (the
deployment lists it in OriginalClientIds, so its studio calls get the original's inline answers).
A call passes when it answers 2xx and every field the front end reads is there with the type it
expects. Calls that need phase 2 are xfail(strict=True): when one
starts working the test fails until its `phase2` note is removed from the table.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from local.stack import LOCAL_PARAMETERS
from tests.conftest import TEMPLATE, ApiClient, Deployed, deploy
from tests.contract.frontend.hook_calls import CALLS, FACE, IMAGE, RAW_IMAGE, HookCall

USER = "frontend-user"
#: the app client the original front end's tokens are issued to, listed in the deployment's
#: OriginalClientIds: its studio calls get the original's shapes (create's body has no other sign)
CLIENT = "alwrity-frontend"
_TIERS = {"budget", "mid", "premium"}
_DATA_URL = re.compile(r"data:image/[a-z0-9.+-]+;base64,(?P<data>.+)", re.DOTALL)


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def _data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


_SUBSTITUTES = {
    IMAGE: _data_url(_png(256, 192, (200, 30, 40))),
    FACE: _data_url(_png(128, 128, (230, 190, 160))),
    RAW_IMAGE: base64.b64encode(_png(64, 64, (20, 90, 200))).decode(),
}


def _fill(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v) for v in value]
    return _SUBSTITUTES.get(value, value) if isinstance(value, str) else value


# --- the reads checker -----------------------------------------------------------------------------


def _is_image(data: str) -> bool:
    try:
        Image.open(io.BytesIO(base64.b64decode(data, validate=True))).verify()
    except (binascii.Error, ValueError, OSError):
        return False
    return True


def _type_ok(kind: str, value: Any) -> bool:
    checks = {
        "str": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "list": lambda v: isinstance(v, list),
        "dict": lambda v: isinstance(v, dict),
        "true": lambda v: v is True,
        "tier": lambda v: v in _TIERS,
        "base64": lambda v: isinstance(v, str) and _is_image(v),
        "data_url": lambda v: (
            isinstance(v, str) and (m := _DATA_URL.fullmatch(v)) is not None and _is_image(m.group("data"))
        ),
    }
    return checks[kind](value)


class _Missing(Exception):
    pass


def _values(node: Any, steps: list[str], where: str) -> Iterator[tuple[str, Any]]:
    """Every value the path reaches: (where it is, value); `[]` and `{}` fan out and must not be empty."""
    if not steps:
        yield where, node
        return
    step, rest = steps[0], steps[1:]
    name = step.removesuffix("[]").removesuffix("{}")
    if not isinstance(node, dict):
        raise _Missing(f"{where or 'the body'} is {type(node).__name__}, not an object")
    if name not in node:
        raise _Missing(f"{where + '.' if where else ''}{name} is missing")
    child, here = node[name], f"{where}.{name}" if where else name
    if step.endswith("[]"):
        if not isinstance(child, list) or not child:
            raise _Missing(f"{here} should be a non-empty list, is {child!r:.80}")
        for i, item in enumerate(child):
            yield from _values(item, rest, f"{here}[{i}]")
    elif step.endswith("{}"):
        if not isinstance(child, dict) or not child:
            raise _Missing(f"{here} should be a non-empty object keyed by id")
        for key, item in child.items():
            yield from _values(item, rest, f"{here}[{key!r}]")
    else:
        yield from _values(child, rest, here)


def problems(body: Any, reads: tuple[str, ...]) -> list[str]:
    """What the front end would not find: one line per missing field or wrong type."""
    found = []
    for read in reads:
        path, kind = read.rsplit(":", 1)
        optional = path.endswith("?")
        steps = path.removesuffix("?").split(".")
        try:
            # The last step of an optional field may be absent: check its parent exists, then the value.
            for where, parent in _values(body, steps[:-1], ""):
                last = steps[-1]
                name = last.removesuffix("[]").removesuffix("{}")
                if optional and (not isinstance(parent, dict) or parent.get(name) is None):
                    continue
                for spot, value in _values(parent, [last], where):
                    if not _type_ok(kind, value):
                        found.append(f"{spot} should be {kind}, is {value!r:.80}")
        except _Missing as missing:
            found.append(str(missing))
    return found


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployed, ApiClient]]:
    """One deployment for the whole module: the calls only add records, never change shared state."""
    with pytest.MonkeyPatch.context() as env:
        env.delenv("AWS_ENDPOINT_URL", raising=False)
        env.delenv("AWS_PROFILE", raising=False)
        for key, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }.items():
            env.setenv(key, value)
        parameters = {**LOCAL_PARAMETERS, "PollWaitScale": "0", "OriginalClientIds": CLIENT}
        for deployed in deploy(TEMPLATE, parameters):
            from imagestudio.api.context import ports
            from imagestudio.config import environment_view

            with environment_view(deployed.plan.function("JobsFunction").environment):
                ledger = ports().ledger
                ledger.account(USER)
                ledger.set_plan(USER, "pro")
            yield deployed, ApiClient(deployed, tmp_path_factory.mktemp("signers"))


def _param(call: HookCall) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=call.phase2)] if call.phase2 else []
    return pytest.param(call, id=call.name, marks=marks)


# --- tests -----------------------------------------------------------------------------------------


def test_the_table_records_every_call_of_the_hook_once() -> None:
    assert len(CALLS) == 26
    assert len({c.name for c in CALLS}) == 26
    assert len({(c.method, c.path.split("?")[0]) for c in CALLS}) == 26


@pytest.mark.parametrize("call", [_param(c) for c in CALLS])
def test_the_front_end_reads_what_it_needs(stack: tuple[Deployed, ApiClient], call: HookCall) -> None:
    _, client = stack
    body = _fill(call.body) if call.body is not None else None
    status, answer = client.call(call.method, call.path, user=USER, body=body, client=CLIENT)
    assert 200 <= status < 300, f"{call.method} {call.path} answered {status}: {answer!r:.400}"
    assert isinstance(answer, dict), f"the body is not a JSON object: {answer!r:.200}"
    assert problems(answer, call.reads) == [], f"answer: {answer!r:.300}"


@pytest.mark.parametrize("call", [pytest.param(c, id=c.name) for c in CALLS])
def test_every_error_the_front_end_can_get_has_a_detail_to_show(
    stack: tuple[Deployed, ApiClient], call: HookCall
) -> None:
    """`err.response.data.detail` is what every handler of the hook shows: a 4xx must carry it."""
    _, client = stack
    status, answer = client.call(call.method, call.path)  # no token
    assert 400 <= status < 500 and isinstance(answer["detail"], str) and answer["detail"], answer
    if call.method == "POST":
        status, _, raw = client.api.handle(
            "POST",
            call.path,
            {
                "host": "localhost",
                "content-type": "application/json",
                "authorization": f"Bearer {client.token(USER)}",
            },
            b"{not json",
        )
        answer = json.loads(raw)
        assert 400 <= status < 500 and isinstance(answer["detail"], str) and answer["detail"], answer


def test_the_checker_catches_what_the_front_end_would_miss() -> None:
    """The checker itself can fail: missing fields, wrong types, empty lists, lists for objects."""
    reads = ("providers:dict", "providers{}.name:str", "results[].width:int", "seed?:int", "ok:true")
    assert problems({"providers": {"a": {"name": "A"}}, "results": [{"width": 1}], "ok": True}, reads) == []
    assert problems({"providers": [{"name": "A"}], "results": [], "seed": "7", "ok": False}, reads) == [
        "providers should be dict, is [{'name': 'A'}]",
        "providers should be a non-empty object keyed by id",
        "results should be a non-empty list, is []",
        "seed should be int, is '7'",
        "ok should be true, is False",
    ]
    image = _SUBSTITUTES[IMAGE]
    assert problems({"a": image, "b": image.split(",", 1)[1]}, ("a:data_url", "b:base64")) == []
    assert problems({"a": "data:image/png;base64,bm90IGFuIGltYWdl"}, ("a:data_url",)) != []
    assert problems({"tier": "free"}, ("tier:tier",)) == ["tier should be tier, is 'free'"]
