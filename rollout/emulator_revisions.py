"""Makes moto's Lambda aliases honour `RevisionId` as AWS does.

rollout writes a Lambda alias without reading it first and relies on Lambda
refusing a stale revision to find drift. moto 5.2 neither changes an alias's
revision on update nor checks the one sent, so against the bare emulator a
change made outside rollout would be silently overwritten.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any
from urllib.parse import unquote

_LOCK = threading.Lock()  # the check and the update must not interleave with another write
_INSTALLED: list[bool] = []
STALE = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetAlias API to retrieve the latest Revision Id"
)


def enforce_alias_revisions() -> None:
    """Patch moto here: each alias update gets a new revision; a stale one is refused."""
    if _INSTALLED:
        return
    from moto.awslambda import models, responses  # noqa: PLC0415 (an optional extra)
    from moto.awslambda.exceptions import PreconditionFailedException  # noqa: PLC0415

    update_model = models.LambdaAlias.update
    handle_update = responses.LambdaResponse.update_alias

    def update(self: Any, *arguments: Any, **keywords: Any) -> None:
        update_model(self, *arguments, **keywords)
        self.revision_id = str(uuid.uuid4())

    def update_alias(self: Any) -> Any:
        wanted = json.loads(self.body or "{}").get("RevisionId")
        with _LOCK:
            if wanted:
                function = unquote(self.path.rsplit("/")[-3])
                alias = self.backend.get_alias(unquote(self.path.rsplit("/", 2)[-1]), function)
                if alias.revision_id != wanted:
                    raise PreconditionFailedException(STALE)
            return handle_update(self)

    models.LambdaAlias.update = update  # type: ignore[method-assign]
    responses.LambdaResponse.update_alias = update_alias  # type: ignore[method-assign]
    _INSTALLED.append(True)
