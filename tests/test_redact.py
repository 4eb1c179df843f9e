"""What the redactor masks and what it leaves alone, one line of text at a time."""

from __future__ import annotations

import pytest

from rollout.redact import REDACTED, redact

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS's documentation example


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("id AKIAIOSFODNN7EXAMPLE", f"id {REDACTED}"),
        ("id ASIAY34FZKBOKMUTVV7A.", f"id {REDACTED}."),
        (f"key={SECRET_KEY}", f"key={REDACTED}"),
        (f"'{SECRET_KEY}'", f"'{REDACTED}'"),
        ("t " + "Ab3/Cd+9" * 13, f"t {REDACTED}"),
        ("aws_secret_access_key = abc/def", f"aws_secret_access_key = {REDACTED}"),
        ("AWS_SESSION_TOKEN=a.b.c rest", f"AWS_SESSION_TOKEN={REDACTED} rest"),
        ('"SessionToken": "a.b.c",', f'"SessionToken": "{REDACTED}",'),
        ("?X-Amz-Security-Token=a%2Fb&x=1", f"?X-Amz-Security-Token={REDACTED}&x=1"),
    ],
)
def test_credentials_are_masked(text: str, shown: str) -> None:
    assert redact(text, environ={}) == shown


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:lambda:us-east-1:123456789012:function:api:live",
        "version 8 of 12",
        # Lambda's CodeSha256 is 44 base64 characters (32 bytes and padding), not a 40-char key.
        "CodeSha256 kVzOyTTsbmBj0Gz5vXL6Jx7CqOrA8Rj4xNxFprBqQOM=",
        # One character more or fewer than a secret key is not a secret key.
        f"{SECRET_KEY}x {SECRET_KEY[1:]}",
        # Hex digests (SHA-1 / git commits at 40, sha256, sha512 at 128) are never credentials.
        "f" * 40 + " " + "0123456789abcdef" * 4 + " " + "ABCDEF0123456789" * 8,
        # Runs in one case are paths or names, not random keys.
        "/home/runner/work/orders/orders/buildxyz " + "/usr/share/" * 10,
        "session token expired; aws_session_token_ttl=3600",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text, environ={}) == text


def test_the_environments_credential_values_are_masked_whatever_their_shape() -> None:
    environ = {
        "AWS_ACCESS_KEY_ID": "my-local-key-id-123",
        "AWS_SECRET_ACCESS_KEY": "p@ss w0rd!!!!!!!!",
    }
    assert redact("my-local-key-id-123 / p@ss w0rd!!!!!!!!", environ) == f"{REDACTED} / {REDACTED}"


def test_short_placeholder_credentials_are_not_masked() -> None:
    # Emulators accept credentials such as "testing"; masking them would mangle ordinary words.
    assert redact("testing the sandbox", {"AWS_ACCESS_KEY_ID": "testing"}) == "testing the sandbox"


def test_secrets_in_urls_are_masked_and_the_rest_of_the_url_kept() -> None:
    url = "https://deploy:s3cr3t-pw@smoke.example.com/check?region=us-east-1&token=abc.def&x=1"
    assert redact(url, {}) == (
        "https://deploy:[redacted]@smoke.example.com/check?region=us-east-1&token=[redacted]&x=1"
    )
    assert redact("http://h/p?api_key=k1&X-Amz-Signature=ab12", {}) == (
        "http://h/p?api_key=[redacted]&X-Amz-Signature=[redacted]"
    )
    assert redact("http://127.0.0.1:8080/health?version=7", {}) == (
        "http://127.0.0.1:8080/health?version=7"
    )
