"""The shared state backend: documents in an S3 bucket, the lock in a DynamoDB table.

As with Terraform's S3 backend, the lock is a conditional write: the item for a
rollout name can be created only when absent, and changed or deleted only by
the rollout that holds it. Buckets and tables are never created here.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from rollout.aws.errors import error_code
from rollout.state.model import LockHolder, Requests, RolloutRecord
from rollout.state.store import LockHeldError, StateError, holder_is_dead


class S3StateStore:
    """State documents under `s3://bucket/prefix/NAME/`, locks in `lock_table`."""

    def __init__(
        self, s3: Any, dynamodb: Any, *, bucket: str, prefix: str, lock_table: str
    ) -> None:
        self.s3 = s3
        self.dynamodb = dynamodb
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

    def _get(self, key: str) -> str | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise self._fail(exc, f"reading s3://{self.bucket}/{key} (bucket)") from None
        return str(body.decode("utf-8"))

    def _put(self, key: str, text: str) -> None:
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=text.encode("utf-8"),
                ContentType="application/json",
                ServerSideEncryption="AES256",
            )
        except ClientError as exc:
            raise self._fail(exc, f"writing s3://{self.bucket}/{key} (bucket)") from None

    def read(self, name: str) -> RolloutRecord | None:
        text = self._get(self._key(name, "state.json"))
        return RolloutRecord.model_validate_json(text) if text else None

    def write(self, record: RolloutRecord) -> None:
        # One PUT replaces the object whole: readers never see half a document.
        self._put(self._key(record.plan, "state.json"), record.model_dump_json(indent=2))

    def read_requests(self, name: str) -> Requests:
        text = self._get(self._key(name, "requests.json"))
        return Requests.model_validate_json(text) if text else Requests()

    def write_requests(self, name: str, requests: Requests) -> None:
        self._put(self._key(name, "requests.json"), requests.model_dump_json(indent=2))

    def append_history(self, record: RolloutRecord) -> None:
        stamp = record.started_at.strftime("%Y%m%dT%H%M%S")
        self._put(
            self._key(record.plan, f"history/{stamp}-{record.id}.json"), record.model_dump_json()
        )

    def history(self, name: str) -> list[RolloutRecord]:
        records = []
        try:
            pages = self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(name, "history/")
            )
            keys = sorted(item["Key"] for page in pages for item in page.get("Contents", []))
        except ClientError as exc:
            raise self._fail(exc, "listing the history (bucket)") from None
        for key in keys:
            text = self._get(key)
            if text:
                records.append(RolloutRecord.model_validate_json(text))
        return records

    # -- the lock --------------------------------------------------------------------------------

    def acquire_lock(self, name: str, holder: LockHolder) -> None:
        """A conditional put: succeeds only when no one holds the name."""
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item={
                    "LockID": {"S": name},
                    "Holder": {"S": holder.model_dump_json()},
                    "RolloutID": {"S": holder.rollout_id},
                },
                ConditionExpression="attribute_not_exists(LockID)",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise self._fail(exc, "taking the lock") from None
            current = self.lock_holder(name)
            if current is None:
                return self.acquire_lock(name, holder)
            raise LockHeldError(current, dead=holder_is_dead(current)) from None
        return None

    def _only_if_ours(self, holder: LockHolder, **values: dict[str, str]) -> dict[str, Any]:
        return {
            "ConditionExpression": "RolloutID = :mine",
            "ExpressionAttributeValues": {":mine": {"S": holder.rollout_id}, **values},
        }

    def refresh_lock(self, name: str, holder: LockHolder) -> None:
        """Rewrite the holder record, if the lock is still ours."""
        try:
            self.dynamodb.update_item(
                TableName=self.table,
                Key={"LockID": {"S": name}},
                UpdateExpression="SET Holder = :holder",
                **self._only_if_ours(holder, **{":holder": {"S": holder.model_dump_json()}}),
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":  # not ours any more
                raise self._fail(exc, "refreshing the lock") from None

    def release_lock(self, name: str, holder: LockHolder) -> None:
        """Delete the lock, if it is still ours."""
        try:
            self.dynamodb.delete_item(
                TableName=self.table, Key={"LockID": {"S": name}}, **self._only_if_ours(holder)
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise self._fail(exc, "releasing the lock") from None

    def lock_holder(self, name: str) -> LockHolder | None:
        try:
            item = self.dynamodb.get_item(
                TableName=self.table, Key={"LockID": {"S": name}}, ConsistentRead=True
            ).get("Item")
        except ClientError as exc:
            raise self._fail(exc, "reading the lock") from None
        return LockHolder.model_validate_json(item["Holder"]["S"]) if item else None

    def break_lock(self, name: str) -> LockHolder | None:
        holder = self.lock_holder(name)
        try:
            self.dynamodb.delete_item(TableName=self.table, Key={"LockID": {"S": name}})
        except ClientError as exc:
            raise self._fail(exc, "breaking the lock") from None
        return holder
