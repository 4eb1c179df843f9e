"""The shared state backend: documents in an S3 bucket, the lock in a DynamoDB table.

As with Terraform's S3 backend, the lock is a conditional write: the item for a
rollout name can be created only when absent, and changed or deleted only by
the rollout that holds it. Buckets and tables are never created here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from rollout.aws.errors import config_error, error_code
from rollout.aws.permissions import ApiCall, Scope, declared
from rollout.state.model import LockHolder, Requests, RolloutRecord
from rollout.state.store import (
    LOCK_ATTEMPTS,
    RECORD_ADVICE,
    REQUESTS_ADVICE,
    LockHeldError,
    StateError,
    history_lines,
    holder_is_dead,
    parse_document,
    unreadable_holder,
)

# Every call this store makes; its clients refuse others and `rollout iam-policy` grants these.
S3_CALLS = (
    ApiCall("s3", "GetObject", Scope.STATE_OBJECTS),
    ApiCall("s3", "PutObject", Scope.STATE_OBJECTS),
    ApiCall("s3", "DeleteObject", Scope.STATE_OBJECTS),
    # Also what makes S3 answer 404 rather than 403 for a document not written yet.
    ApiCall("s3", "ListObjectsV2", Scope.STATE_BUCKET, ("s3:ListBucket",)),
)
DYNAMODB_CALLS = (
    ApiCall("dynamodb", "GetItem", Scope.LOCK_TABLE),
    ApiCall("dynamodb", "PutItem", Scope.LOCK_TABLE),
    ApiCall("dynamodb", "UpdateItem", Scope.LOCK_TABLE),
    ApiCall("dynamodb", "DeleteItem", Scope.LOCK_TABLE),
)


class S3StateStore:
    """State documents under `s3://bucket/prefix/NAME/`, locks in `lock_table`."""

    def __init__(
        self, s3: Any, dynamodb: Any, *, bucket: str, prefix: str, lock_table: str
    ) -> None:
        self.s3 = declared(s3, S3_CALLS)
        self.dynamodb = declared(dynamodb, DYNAMODB_CALLS)
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.table = lock_table

    def _key(self, name: str, leaf: str) -> str:
        return f"{self.prefix}{name}/{leaf}"

    def _fail(self, exc: ClientError, what: str) -> StateError:
        code = error_code(exc)
        if code in ("NoSuchBucket", "404") and "bucket" in what:
            return StateError(f"the state bucket {self.bucket!r} does not exist (create it first)")
        if code == "ResourceNotFoundException":
            return StateError(f"the lock table {self.table!r} does not exist (create it first)")
        return StateError(f"{what} failed: {code}: {exc}")

    @contextmanager
    def _answering(
        self, what: str, allowed: Callable[[ClientError], bool] = lambda _e: False
    ) -> Iterator[None]:
        """AWS's refusals and silences as StateErrors naming what was asked (`allowed` passes)."""
        try:
            yield
        except (ClientError, BotoCoreError) as exc:
            problem = config_error(exc, what)
            if problem is not None:  # expired or missing credentials: say how to fix them
                raise problem from None
            if isinstance(exc, BotoCoreError):  # no connection, a timeout: no answer
                raise StateError(f"{what} failed: {exc}") from None
            if allowed(exc):
                raise
            raise self._fail(exc, what) from None

    def _get(self, key: str) -> str | None:
        try:
            with self._answering(f"reading s3://{self.bucket}/{key} (bucket)", _missing):
                body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError:
            return None
        return str(body.decode("utf-8", "replace"))

    def _put(self, key: str, text: str) -> None:
        with self._answering(f"writing s3://{self.bucket}/{key} (bucket)"):
            self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=text.encode("utf-8"),
                ContentType="application/json",
                ServerSideEncryption="AES256",
            )

    def _where(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def read(self, name: str) -> RolloutRecord | None:
        key = self._key(name, "state.json")
        text = self._get(key)
        if text is None:
            return None
        return parse_document(RolloutRecord, text, self._where(key), RECORD_ADVICE)

    def write(self, record: RolloutRecord) -> None:
        # One PUT replaces the object whole: readers never see half a document.
        self._put(self._key(record.plan, "state.json"), record.model_dump_json(indent=2))

    def read_requests(self, name: str) -> Requests:
        key = self._key(name, "requests.json")
        text = self._get(key)
        requests = (
            Requests()
            if text is None
            else parse_document(Requests, text, self._where(key), REQUESTS_ADVICE)
        )
        if self._get(self._key(name, "requests.abort")) is not None:
            requests = requests.model_copy(update={"abort": True})
        return requests

    def write_requests(self, name: str, requests: Requests) -> None:
        if requests.abort:
            self.request_abort(name)
        self._put(self._key(name, "requests.json"), requests.model_dump_json(indent=2))

    def request_abort(self, name: str) -> None:
        # Its own object, so a promote's read-modify-write cannot write it away.
        self._put(self._key(name, "requests.abort"), "abort requested\n")

    def clear_requests(self, name: str) -> None:
        key = self._key(name, "requests.abort")
        with self._answering(f"deleting s3://{self.bucket}/{key} (bucket)"):
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        self._put(self._key(name, "requests.json"), Requests().model_dump_json(indent=2))

    def append_history(self, record: RolloutRecord) -> None:
        stamp = record.started_at.strftime("%Y%m%dT%H%M%S")
        self._put(
            self._key(record.plan, f"history/{stamp}-{record.id}.json"), record.model_dump_json()
        )

    def history(self, name: str) -> list[RolloutRecord]:
        with self._answering("listing the history (bucket)"):
            pages = self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(name, "history/")
            )
            keys = sorted(item["Key"] for page in pages for item in page.get("Contents", []))
        return [
            record
            for key in keys
            if (text := self._get(key)) is not None
            for record in history_lines(text, self._where(key))
        ]

    # -- the lock --------------------------------------------------------------------------------

    def acquire_lock(self, name: str, holder: LockHolder) -> None:
        """A conditional put: succeeds only when no one holds the name."""
        for _ in range(LOCK_ATTEMPTS):
            try:
                with self._answering("taking the lock", _condition_failed):
                    self.dynamodb.put_item(
                        TableName=self.table,
                        Item={
                            "LockID": {"S": name},
                            "Holder": {"S": holder.model_dump_json()},
                            "RolloutID": {"S": holder.rollout_id},
                        },
                        ConditionExpression="attribute_not_exists(LockID)",
                    )
                return
            except ClientError:
                current = self.lock_holder(name)
                if current is not None:
                    raise LockHeldError(current, dead=holder_is_dead(current)) from None
                # Released between our two looks: try again.
        raise StateError(f"cannot take the lock {name!r} in {self.table!r}: it keeps changing")

    def _only_if_ours(self, holder: LockHolder, **values: dict[str, str]) -> dict[str, Any]:
        return {
            "ConditionExpression": "RolloutID = :mine",
            "ExpressionAttributeValues": {":mine": {"S": holder.rollout_id}, **values},
        }

    def refresh_lock(self, name: str, holder: LockHolder) -> None:
        """Rewrite the holder record; a lock gone from under a running rollout is taken again
        (else `abort` and `status` would say nothing runs), one another took is a StateError."""
        try:
            with self._answering("refreshing the lock", _condition_failed):
                self.dynamodb.update_item(
                    TableName=self.table,
                    Key={"LockID": {"S": name}},
                    UpdateExpression="SET Holder = :holder",
                    **self._only_if_ours(holder, **{":holder": {"S": holder.model_dump_json()}}),
                )
        except ClientError:  # gone, or not ours any more
            try:
                self.acquire_lock(name, holder)
            except LockHeldError as held:
                raise StateError(
                    f"lost the lock {name!r} in {self.table!r}: now held by "
                    f"{held.holder.describe()}"
                ) from None

    def release_lock(self, name: str, holder: LockHolder) -> None:
        """Delete the lock, if it is still ours."""
        try:
            with self._answering("releasing the lock", _condition_failed):
                self.dynamodb.delete_item(
                    TableName=self.table, Key={"LockID": {"S": name}}, **self._only_if_ours(holder)
                )
        except ClientError:  # not ours any more
            return

    def lock_holder(self, name: str) -> LockHolder | None:
        with self._answering("reading the lock"):
            item = self.dynamodb.get_item(
                TableName=self.table, Key={"LockID": {"S": name}}, ConsistentRead=True
            ).get("Item")
        if not item:
            return None
        text = str(item.get("Holder", {}).get("S", ""))
        try:
            return LockHolder.model_validate_json(text)
        except ValueError:
            return unreadable_holder(f"{self.table}/{name}", text)

    def break_lock(self, name: str, only: LockHolder | None = None) -> LockHolder | None:
        """Delete the lock whoever holds it, or only if `only` still does (LockHeldError
        otherwise: another taker of a dead holder's lock was first)."""
        holder = self.lock_holder(name) if only is None else only
        condition: dict[str, Any] = {}
        if only is not None:
            condition = {
                "ConditionExpression": "attribute_not_exists(LockID) OR Holder = :seen",
                "ExpressionAttributeValues": {":seen": {"S": only.model_dump_json()}},
            }
        try:
            with self._answering("breaking the lock", _condition_failed):
                self.dynamodb.delete_item(
                    TableName=self.table, Key={"LockID": {"S": name}}, **condition
                )
        except ClientError:
            current = self.lock_holder(name)
            if current is not None:
                raise LockHeldError(current, dead=holder_is_dead(current)) from None
        return holder


def _missing(exc: ClientError) -> bool:
    return error_code(exc) in ("NoSuchKey", "404")


def _condition_failed(exc: ClientError) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"
