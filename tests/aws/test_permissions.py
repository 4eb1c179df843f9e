"""A declared client lets through the declared calls and refuses any other before AWS sees it."""

from __future__ import annotations

from typing import Any

import pytest

from rollout.aws.permissions import ApiCall, Scope, UndeclaredCallError, declared


class Recorder:
    """Answers any method with the name it was called by."""

    def __getattr__(self, name: str) -> Any:
        return lambda **_arguments: name

    def get_waiter(self, name: str) -> str:
        return name


CALLS = (ApiCall("lambda", "GetAlias", Scope.TARGET_FUNCTION),)


def test_a_declared_call_passes_and_an_undeclared_one_is_refused() -> None:
    client = declared(Recorder(), CALLS, {"alias_ready": "GetAlias"})

    assert client.get_alias(FunctionName="api") == "get_alias"
    assert client.get_waiter("alias_ready") == "alias_ready"
    with pytest.raises(UndeclaredCallError, match="delete_function is not among"):
        client.delete_function(FunctionName="api")
    with pytest.raises(UndeclaredCallError, match="waiter function_active"):
        client.get_waiter("function_active")


def test_a_waiter_must_poll_a_declared_operation() -> None:
    with pytest.raises(UndeclaredCallError, match="polls undeclared GetFunction"):
        declared(Recorder(), CALLS, {"function_updated_v2": "GetFunction"})
