"""`python -m local check-asl` (part of make test) accepts valid state machines and catches broken ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from local.__main__ import main

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "mini_stack"

needs_npx = pytest.mark.skipif(shutil.which("npx") is None, reason="asl-validator runs through npx")


@needs_npx
def test_valid_state_machine_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-asl", "--template", str(MINI / "template.yaml")]) == 0
    assert "Pipeline: valid" in capsys.readouterr().out


@needs_npx
def test_missing_transition_target_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(MINI, tmp_path / "stack")
    asl = tmp_path / "stack" / "statemachines" / "pipeline.asl.json"
    definition = json.loads(asl.read_text())
    definition["States"]["Enough?"]["Default"] = "NoSuchState"
    asl.write_text(json.dumps(definition))
    assert main(["check-asl", "--template", str(tmp_path / "stack" / "template.yaml")]) == 1
    assert "Pipeline: INVALID" in capsys.readouterr().out
