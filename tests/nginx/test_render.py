"""The generated configuration: golden files for both shared fixtures and each option, the
real `nginx -t` on every one, and properties over any mapping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout.nginx.check import check_config
from rollout.nginx.mapping import HTTP_VERBS, DomainMapping, MappingInvalidError, check_mappings
from rollout.nginx.render import ProxyOptions, RenderError, render_full, render_servers
from rollout.plan.source import SourceDocument, parse_source
from tests.support import run_cli

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
# The AWS sample's two mapping files, byte for byte (see fixtures/README.md).
FIXTURES = HERE / "fixtures"
FIXTURE_FILES = {
    "sample": "aws-sample-proxy-config.yaml",
    "stage-and-path": "aws-sample-proxy-config-stage-and-path.yaml",
}
VARIANTS: dict[str, list[str]] = {
    "full": [],
    "servers": ["--format", "servers"],
    "vpc-endpoint": [
        "--listen", "127.0.0.1:8080",
        "--vpc-endpoint", "vpce-0abc-12345.execute-api.us-east-1.vpce.amazonaws.com",
    ],
    "resolver": ["--resolver", "10.0.0.2", "--vpc-endpoint", "vpce-0abc.example.com:8443"],
    "tls": [
        "--listen", "443",
        "--ssl-cert", "/etc/ssl/proxy.pem", "--ssl-key", "/etc/ssl/proxy.key",
    ],
    "upstream-ca": ["--upstream-ca", "/etc/ssl/certs/ca-certificates.crt"],
}  # fmt: skip


def fixture(name: str) -> Path:
    return FIXTURES / FIXTURE_FILES[name]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("name", sorted(FIXTURE_FILES))
def test_rendering_matches_its_golden_file(name: str, variant: str) -> None:
    result = run_cli(["nginx", "render", str(fixture(name)), *VARIANTS[variant]])

    assert result.exit_code == 0, result.stderr
    golden = GOLDEN / f"{name}-{variant}.conf"
    if os.environ.get("ROLLOUT_UPDATE_GOLDEN"):
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("variant", ["full", "servers", "vpc-endpoint", "resolver"])
@pytest.mark.parametrize("name", sorted(FIXTURE_FILES))
def test_the_real_nginx_accepts_every_rendering(name: str, variant: str, tmp_path: Path) -> None:
    output = tmp_path / "proxy.conf"

    result = run_cli(
        ["nginx", "render", str(fixture(name)), "--check", "-o", str(output), *VARIANTS[variant]]
    )

    assert result.exit_code == 0, result.stderr
    assert "nginx -t passed" in result.stdout
    assert output.read_text(encoding="utf-8") == (GOLDEN / f"{name}-{variant}.conf").read_text()


def test_an_unchanged_file_is_not_rewritten(tmp_path: Path) -> None:
    output = tmp_path / "proxy.conf"
    assert run_cli(["nginx", "render", str(fixture("sample")), "-o", str(output)]).exit_code == 0
    os.utime(output, (1, 1))

    again = run_cli(["nginx", "render", str(fixture("sample")), "-o", str(output)])

    assert "unchanged" in again.stdout
    assert output.stat().st_mtime == 1


def test_a_check_that_fails_names_nginx_s_message_and_writes_nothing(tmp_path: Path) -> None:
    output = tmp_path / "proxy.conf"
    missing = tmp_path / "missing.pem"

    result = run_cli(
        ["nginx", "render", str(fixture("sample")), "--check", "-o", str(output),
         "--ssl-cert", str(missing), "--ssl-key", str(missing)]
    )  # fmt: skip

    assert result.exit_code == 1
    assert f'cannot load certificate "{missing}"' in result.stderr
    assert not output.exists()


def test_the_legacy_route53_key_is_accepted_with_a_warning(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "ROUTE53_PUBLIC_DOMAIN: example.com\nAPIS:\n"
        "  - CUSTOM_DOMAIN_URL: https://api.example.com\n"
        "    PRIVATE_API_URL: https://abc123.execute-api.us-east-1.amazonaws.com/dev\n"
    )
    result = run_cli(["nginx", "render", str(mapping), "--format", "servers"])

    assert result.exit_code == 0
    assert "ROUTE53_PUBLIC_DOMAIN is not used by rollout" in result.stderr
    assert "server_name api.example.com;" in result.stdout  # https:// accepted and dropped


# -- properties ------------------------------------------------------------------------------

_LABELS = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_DOMAINS = st.lists(_LABELS, min_size=2, max_size=4).map(".".join)
_SEGMENTS = st.lists(st.from_regex(r"[A-Za-z0-9._~-]{1,8}", fullmatch=True), max_size=3)


@st.composite
def mapping_files(draw: st.DrawFn) -> str:
    domains = draw(st.lists(_DOMAINS, min_size=1, max_size=4, unique=True))
    lines = ["APIS:"]
    for domain in domains:
        api = draw(st.from_regex(r"[a-z0-9]{10}", fullmatch=True))
        stage = draw(st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True))
        path = "".join(f"/{s}" for s in draw(_SEGMENTS) if s not in (".", ".."))
        lines.append(f"  - CUSTOM_DOMAIN_URL: '{domain}'")
        lines.append(
            f"    PRIVATE_API_URL: 'https://{api}.execute-api.eu-west-1.amazonaws.com/{stage}{path}'"
        )
        verbs = draw(st.lists(st.sampled_from(HTTP_VERBS), unique=True, max_size=3))
        if verbs:
            lines.append(f"    VERBS: [{', '.join(verbs)}]")
    return "\n".join(lines) + "\n"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mapping_files(), st.booleans())
def test_any_valid_mapping_renders_a_configuration_nginx_accepts(text: str, runtime: bool) -> None:
    loaded = check_mappings(parse_source(text, "m.yaml"))
    options = ProxyOptions(listen="127.0.0.1:8080", resolver="10.0.0.2" if runtime else None)

    checked = check_config(loaded.mappings, options, source="m.yaml")

    assert checked.passed, (text, checked.problems)


_METACHARACTERS = st.sampled_from([";", "{", "}", '"', "'", " ", "\t", "\n", "$", "#", "\\"])


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=10), _METACHARACTERS, st.text(max_size=10))
def test_any_domain_or_url_holding_a_configuration_metacharacter_is_refused(
    before: str, metacharacter: str, after: str
) -> None:
    value = f"{before}{metacharacter}{after}"
    for entry in (
        {"CUSTOM_DOMAIN_URL": f"api{value}.example.com",
         "PRIVATE_API_URL": "https://abc.execute-api.us-east-1.amazonaws.com/dev"},
        {"CUSTOM_DOMAIN_URL": "api.example.com",
         "PRIVATE_API_URL": f"https://abc.execute-api.us-east-1.amazonaws.com/dev{value}"},
    ):  # fmt: skip
        source = SourceDocument("m.yaml", {"APIS": [entry]}, {})
        with pytest.raises(MappingInvalidError):
            check_mappings(source)


@pytest.mark.parametrize("domain", ["api.example.com; return 200", "api.example.com\n"])
def test_the_renderer_itself_refuses_a_value_that_would_leave_its_directive(domain: str) -> None:
    # A mapping built in code, past the file's checks, still cannot inject a directive.
    forged = DomainMapping(domain, "abc", "us-east-1", "/dev", (), 1)
    with pytest.raises(RenderError):
        render_servers([forged], ProxyOptions())
    with pytest.raises(RenderError):
        render_full([forged], ProxyOptions())


@pytest.mark.parametrize(
    "option",
    [
        ["--listen", "99999"],
        ["--listen", "1.2.3:80"],
        ["--vpc-endpoint", "a..b"],
        ["--resolver", "not-an-ip"],
        ["--ssl-cert", "with space.pem", "--ssl-key", "k.pem"],
        ["--upstream-ca", "a;b.pem"],
        ["--ssl-cert", "only.pem"],
    ],
)
def test_an_option_nginx_cannot_take_is_a_usage_error(option: list[str]) -> None:
    result = run_cli(["nginx", "render", str(fixture("sample")), *option])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_an_ipv6_resolver_is_written_as_nginx_reads_it() -> None:
    result = run_cli(["nginx", "render", str(fixture("sample")), "--resolver", "::1", "--check"])
    assert result.exit_code == 0, result.stderr
    assert "resolver [::1] valid=30s;" in result.stdout
