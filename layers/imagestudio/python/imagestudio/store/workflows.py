"""Step Functions executions of a job: named by the job id (it cannot start twice), stopped on cancel."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from imagestudio import tracing


@cache
def _client() -> Any:
    import boto3  # at the first request that needs it, not at cold start

    return tracing.instrument(boto3.client("stepfunctions"))


def reset_clients() -> None:
    _client.cache_clear()


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"


class Workflows:
    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        if not state_machine_arn:
            raise RuntimeError("PROVIDER_JOB_STATE_MACHINE is not configured for this function")
        try:
            arn: str = _client().start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload)
            )["executionArn"]
        except _client().exceptions.ExecutionAlreadyExists:
            arn = execution_arn(state_machine_arn, name)  # a retried request: the job is already running
        return arn

    def is_running(self, execution: str) -> bool:
        """Whether the execution with this ARN is still RUNNING (unknown ones are not)."""
        if not execution:
            return False
        try:
            status = _client().describe_execution(executionArn=execution)["status"]
        except (_client().exceptions.ExecutionDoesNotExist, _client().exceptions.InvalidArn):
            return False
        return bool(status == "RUNNING")

    def resume(self, token: str, output: dict[str, Any]) -> bool:
        """Resume a task waiting on `token` (callback mode); False when it no longer waits."""
        try:
            _client().send_task_success(taskToken=token, output=json.dumps(output))
        except (_client().exceptions.TaskTimedOut, _client().exceptions.InvalidToken):
            return False
        except _client().exceptions.TaskDoesNotExist:
            return False
        return True

    def stop(self, state_machine_arn: str, name: str, cause: str) -> bool:
        if not state_machine_arn:
            return False
        try:
            _client().stop_execution(executionArn=execution_arn(state_machine_arn, name), cause=cause[:256])
        except (_client().exceptions.ExecutionDoesNotExist, _client().exceptions.InvalidArn):
            return False
        return True
