"""The command line: parses arguments, calls one function per command, formats the result.

Heavy modules (pydantic, rich, boto3) are imported inside the commands so that
`rollout --help` stays fast.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from rollout import __version__
from rollout.exitcodes import ExitCode

if TYPE_CHECKING:
    from rollout.reporters.environment import OutputEnvironment

CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    # Fixed widths keep help identical on every terminal (and to rollout.help_text).
    "max_content_width": 80,
    "terminal_width": 80,
}

F = TypeVar("F", bound=Callable[..., Any])


def example(purpose: str, command_line: str) -> str:
    """A help epilog with one example a user can copy; `\\b` keeps click from rewrapping it."""
    return f"\b\nExample ({purpose}):\n  {command_line}"


def plan_file_option(function: F) -> F:
    """`-f PLAN`, defaulting to rollout.yaml."""
    return click.option(
        "-f",
        "--file",
        "plan_file",
        type=click.Path(path_type=Path, dir_okay=True),
        default=Path("rollout.yaml"),
        show_default=True,
        help="The plan file.",
    )(function)


def endpoint_option(function: F) -> F:
    """`--endpoint-url`, for commands that reach the state store."""
    return click.option(
        "--endpoint-url",
        envvar="AWS_ENDPOINT_URL",
        help="The AWS endpoint, e.g. a local emulator.",
    )(function)


def output_option(function: F) -> F:
    """`--output text|json`."""
    return click.option(
        "--output",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Output format.",
    )(function)


def heartbeat_option(function: F) -> F:
    """`--heartbeat SECONDS`: how long plain output may stay silent during a wait."""
    return click.option(
        "--heartbeat",
        type=click.FloatRange(min=0),
        default=30.0,
        show_default=True,
        metavar="SECONDS",
        help="Without a terminal, say where each wait stands after this long silent (0: never).",
    )(function)


def _environment(no_color: bool = False) -> OutputEnvironment:
    """The one output environment of this run: streams, terminal or not, colour, width, CI."""
    from rollout.reporters.environment import detect_environment

    return detect_environment(os.environ, no_color=no_color)


def events_file_option(function: F) -> F:
    """`--events-file FILE`: the JSON event stream in a file, next to the view on the terminal."""
    return click.option(
        "--events-file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Also write every event as JSON lines to this file.",
    )(function)


def junit_option(function: F) -> F:
    """`--junit FILE`: a JUnit XML report of the run, for Jenkins and CI test views."""
    return click.option(
        "--junit",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Also write a JUnit XML report (one test case per region and target) to this file.",
    )(function)


@dataclass(frozen=True)
class ActingOptions:
    """The options shared by the commands that read or change AWS, parsed once."""

    plan_file: Path
    regions: tuple[str, ...]
    targets: tuple[str, ...]
    endpoint_url: str | None
    output: str
    no_color: bool


_ACTING_KEYS = ("plan_file", "regions", "targets", "endpoint_url", "output", "no_color")


def acting_options(function: F) -> F:
    """Add the shared options and hand them to the command as one `acting` argument."""

    @functools.wraps(function)
    def packed(**kwargs: Any) -> Any:
        acting = ActingOptions(**{key: kwargs.pop(key) for key in _ACTING_KEYS})
        return function(acting=acting, **kwargs)

    options = [
        plan_file_option,
        click.option("--region", "regions", multiple=True, help="Only this region (repeatable)."),
        click.option("--target", "targets", multiple=True, help="Only this target (repeatable)."),
        click.option(
            "--endpoint-url",
            envvar="AWS_ENDPOINT_URL",
            help="The AWS endpoint, e.g. a local emulator.",
        ),
        output_option,
        click.option("--no-color", is_flag=True, help="No colour (NO_COLOR is honoured too)."),
    ]
    decorated: Any = packed
    for option in reversed(options):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]


def _load_and_preview(acting: ActingOptions) -> tuple[Any, Any]:
    """The plan and its offline preview, narrowed to the chosen regions and targets."""
    from rollout.preview import preview_plan

    loaded = load_plan_file(acting.plan_file)
    return loaded, preview_plan(loaded.plan, _selection(acting, loaded))


def load_plan_file(plan_file: Path) -> Any:
    """The plan at `plan_file`, or PlanInvalidError."""
    from rollout.plan.load import load_plan

    return load_plan(plan_file)


def _selection(acting: ActingOptions, loaded: Any) -> Any:
    from rollout.pipeline.selection import FilterError, Selection

    try:
        return Selection(acting.regions, acting.targets).checked(loaded.plan)
    except FilterError as exc:
        raise click.UsageError(str(exc)) from None


def _context(acting: ActingOptions, loaded: Any | None = None) -> Any:
    """The command context of the shared options, its filters checked against the plan."""
    from rollout.clock import SystemClock
    from rollout.commands.context import CommandContext

    loaded = loaded or load_plan_file(acting.plan_file)
    return CommandContext(loaded, _selection(acting, loaded), SystemClock(), acting.endpoint_url)


def _recorded_context(acting: ActingOptions) -> Any:
    """A context for commands that act on the record: a --region may be one only it names."""
    from rollout.clock import SystemClock
    from rollout.commands.context import CommandContext
    from rollout.pipeline.selection import Selection

    loaded = load_plan_file(acting.plan_file)
    selection = Selection(acting.regions, acting.targets)
    return CommandContext(loaded, selection, SystemClock(), acting.endpoint_url)


def _plain_context(plan_file: Path, endpoint_url: str | None) -> Any:
    """The context of a command that takes only the plan file and the endpoint."""
    return _context(ActingOptions(plan_file, (), (), endpoint_url, "text", False))


def _lock_held_error() -> type[Exception]:
    from rollout.state.store import LockHeldError

    return LockHeldError


def _aws_errors() -> tuple[type[Exception], ...]:
    from rollout.aws.alarms import AlarmReadError
    from rollout.engine.ports import TargetError

    return (TargetError, AlarmReadError)


def _state_error() -> tuple[type[Exception], ...]:
    from rollout.engine.ports import JournalError
    from rollout.state.store import StateError

    return (StateError, JournalError)


def _usage_errors() -> tuple[type[Exception], ...]:
    from rollout.commands.context import TargetFilterError
    from rollout.commands.requests import UnknownTargetError
    from rollout.nginx.options import NginxUsageError
    from rollout.pipeline.selection import FilterError
    from rollout.reporters.setup import ReportFileError

    return (UnknownTargetError, TargetFilterError, FilterError, NginxUsageError, ReportFileError)


def explain_error(exc: Exception) -> tuple[list[str], ExitCode] | None:
    """What to tell the user about a known error, and the exit code; None for a bug."""
    from rollout.plan.errors import PlanInvalidError

    if isinstance(exc, PlanInvalidError):
        count = len(exc.errors)
        lines = [f"error: {error}" for error in exc.errors]
        what = getattr(exc, "what", "the plan")
        return [*lines, f"{count} error{'s' if count > 1 else ''} in {what}"], ExitCode.ERROR
    if isinstance(exc, _lock_held_error()):
        if getattr(exc, "dead", False):
            advice = "`rollout rollback` or `rollout resume` take such a lock over"
        else:
            advice = "wait for it, or break a stale lock with `rollout unlock --force`"
        return [f"error: {exc}", advice], ExitCode.NEEDS_HUMAN
    if isinstance(exc, _state_error()):
        text = str(exc)
        return [f"error: {text if text.startswith('state store') else f'state store: {text}'}"], (
            ExitCode.ERROR
        )
    if isinstance(exc, _aws_errors()):
        # Outside a release's own handling (status, plan, rollback's reads): nothing moved.
        hint = getattr(exc, "hint", None)
        return [f"error: {exc}", *([f"hint: {hint}"] if hint else [])], ExitCode.ERROR
    return None


def handle_errors(function: F) -> F:
    """Turn known errors into one-line messages and exit codes; tracebacks only with --debug."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        context = click.get_current_context()
        try:
            code = function(*args, **kwargs)
        except _usage_errors() as exc:
            raise click.UsageError(str(exc)) from None
        except click.ClickException:
            raise
        except Exception as exc:
            explained = explain_error(exc)
            if explained is None and context.find_root().params.get("debug"):
                raise
            lines, code = explained or (
                [
                    f"error: internal error: {type(exc).__name__}: {exc}",
                    "run again with `rollout --debug ...` for the traceback",
                ],
                ExitCode.ERROR,
            )
            environment = _environment(bool(context.params.get("no_color")))
            for line in lines:
                environment.warn(line)
            if context.params.get("output") == "json":
                _render_error(lines, code, environment)
        context.exit(int(code))

    return wrapper  # type: ignore[return-value]


@click.group(
    context_settings=CONTEXT_SETTINGS,
    epilog=example("see it work against a local AWS emulator", "rollout demo"),
)
@click.version_option(__version__, "--version", prog_name="rollout", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def main(debug: bool) -> None:
    """Release AWS Lambda and Step Functions versions gradually, watching alarms.

    Exit codes: 0 succeeded or nothing to do, 1 error before traffic moved,
    2 usage error (or changes pending with plan --detailed-exitcode), 3 failed
    and rolled back, 4 needs a human, 5 (status) a rollout is in progress.
    """


@main.command(
    epilog=example("check a plan before committing it", "rollout validate -f deploy/rollout.yaml")
)
@plan_file_option
@output_option
@handle_errors
def validate(plan_file: Path, output: str) -> ExitCode:
    """Check the plan file; touch nothing."""
    from rollout.commands.result import said
    from rollout.plan.load import load_plan

    plan = load_plan(plan_file).plan
    result = said(
        ExitCode.OK,
        f"{plan_file}: valid plan {plan.name!r}: {len(plan.regions)} region(s), "
        f"{len(plan.wave_list())} wave(s), {len(plan.targets)} target(s)",
        plan=plan.name,
        regions=list(plan.regions),
        waves=[list(wave) for wave in plan.wave_list()],
        targets=[target.name for target in plan.targets],
    )
    return _render(result, output, _environment())


@main.command(
    epilog=example(
        "exit 2 when us-east-1 has something to release",
        "rollout plan -f rollout.yaml --region us-east-1 --detailed-exitcode",
    )
)
@acting_options
@click.option("--offline", is_flag=True, help="From the plan file alone; read nothing from AWS.")
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when changes are pending, 0 when none."
)
@handle_errors
def plan(acting: ActingOptions, offline: bool, detailed_exitcode: bool) -> ExitCode:
    """Preview what apply would do and when; change nothing."""
    loaded, preview = _load_and_preview(acting)
    environment = _environment(acting.no_color)
    if offline:
        # Offline, every target is assumed to have something to release.
        code = ExitCode.USAGE if detailed_exitcode else ExitCode.OK
        _print_preview(preview, output=acting.output, environment=environment, exit_code=code)
        return code
    from rollout.commands.release import live_plan

    live = live_plan(_context(acting, loaded))
    code = ExitCode.OK
    if live.problems:
        code = ExitCode.ERROR
    elif detailed_exitcode and live.changes_pending:
        code = ExitCode.USAGE
    _print_live_plan(preview, live, acting.output, environment, code)
    _summarise_live_plan(loaded.plan.name, preview, live)
    return code


def _print_live_plan(
    preview: Any,
    live: Any,
    output: str,
    environment: OutputEnvironment,
    exit_code: ExitCode = ExitCode.OK,
) -> None:
    if output == "json":
        from rollout.reporters.plan_json import render_plan_json

        document = render_plan_json(preview, mode="live", exit_code=int(exit_code), live=live)
        environment.write(document.rstrip("\n"))
    else:
        from rollout.redact import mask_secrets
        from rollout.reporters.plan_text import render_live_text, render_plan_text

        text = render_plan_text(preview, mode="live") + render_live_text(live)
        environment.write(mask_secrets(text).rstrip("\n"))


def _summarise_live_plan(name: str, preview: Any, live: Any) -> None:
    """In GitHub Actions, the plan also goes to the job summary, where a reviewer looks."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    from rollout.reporters.github import in_github_actions

    if not (summary and in_github_actions(os.environ)):
        return
    from rollout.reporters.plan_markdown import render_plan_markdown
    from rollout.reporters.plan_text import render_live_text, render_plan_text

    text = render_plan_text(preview, mode="live") + render_live_text(live)
    try:
        with Path(summary).open("a", encoding="utf-8") as file:
            file.write(render_plan_markdown(name, live, text))
    except OSError as exc:  # the plan itself was printed; a summary is a courtesy
        from rollout.reporters.output import warn

        warn(f"warning: cannot append to GITHUB_STEP_SUMMARY ({summary}): {exc.strerror}")


def _print_preview(
    preview: Any, *, output: str, environment: OutputEnvironment, exit_code: ExitCode
) -> None:
    mode = "offline"
    if output == "json":
        from rollout.reporters.plan_json import render_plan_json

        document = render_plan_json(preview, mode=mode, exit_code=int(exit_code))
        environment.write(document.rstrip("\n"))
    elif environment.rich_tables:
        from rollout.reporters.plan_rich import print_plan_rich

        print_plan_rich(preview, environment.console(), mode=mode)
    else:
        from rollout.reporters.plan_text import render_plan_text

        environment.write(render_plan_text(preview, mode=mode).rstrip("\n"))


def _watch_signals(acting: ActingOptions, environment: OutputEnvironment) -> Callable[[Any], None]:
    def watch(session: Any) -> None:
        from rollout.interrupts import stop_on_signals

        stop_on_signals(
            session.interrupted,
            str(acting.plan_file),
            environment.stderr_fd,
            received=session.signal_received,
            in_ci=environment.ci is not None,
        )

    return watch


@main.command(
    epilog=example("release without a prompt, as CI does", "rollout apply -f rollout.yaml --yes")
)
@acting_options
@click.option(
    "--yes", is_flag=True, help="Do not ask for confirmation (needed without a terminal)."
)
@click.option(
    "--discard-record",
    is_flag=True,
    help="Start anew over an unfinished rollout's record (kept in the history).",
)
@events_file_option
@junit_option
@heartbeat_option
@handle_errors
def apply(
    acting: ActingOptions,
    yes: bool,
    discard_record: bool,
    events_file: Path | None,
    junit: Path | None,
    heartbeat: float,
) -> ExitCode:
    """Publish new versions and shift traffic per the plan."""
    from rollout.commands.release import apply as apply_release

    environment = _environment(acting.no_color)
    # Opened first, so that a refusal (a bad plan, no confirmation) is in the reports too.
    with _event_sink(environment, acting.output, events_file, heartbeat, junit) as sink:
        loaded, preview = _load_and_preview(acting)
        confirm = None
        if not yes:
            if not (sys.stdin.isatty() and environment.stdout_is_terminal):
                line = "error: no terminal to confirm on; pass --yes to apply without confirmation"
                environment.warn(line)
                sink.ended_without_run(int(ExitCode.ERROR), [line])
                return ExitCode.ERROR

            def confirm(live: Any) -> bool:
                # Exactly what `rollout plan` shows: the decision is made on what AWS reports now.
                _print_live_plan(preview, live, "text", environment)
                return click.confirm("Apply this plan?", default=False)

        result = _reported(
            sink,
            apply_release(
                _context(acting, loaded),
                sink,
                say=environment.warn,
                confirm=confirm,
                discard_record=discard_record,
                on_start=_watch_signals(acting, environment),
            ),
        )
    return _render(result, acting.output, environment)


@contextlib.contextmanager
def _event_sink(
    environment: OutputEnvironment,
    output: str,
    events_file: Path | None = None,
    heartbeat: float = 30.0,
    junit: Path | None = None,
    goal: str = "release",
) -> Iterator[Any]:
    """Every reporter the run writes to; closed (summaries, files) whatever the outcome."""
    from rollout.reporters.junit import Goal
    from rollout.reporters.setup import ReportOptions, open_reporters

    options = ReportOptions(
        output, events_file=events_file, heartbeat=heartbeat, junit=junit, goal=Goal(goal)
    )
    reporters = open_reporters(options, environment)
    try:
        yield reporters
    except BaseException as exc:
        # A refusal raised before the run (a bad plan, a held lock) still ends the reports.
        lines, code = _ending_of(exc)
        reporters.ended_without_run(int(code), lines)
        raise
    finally:
        reporters.close()


def _reported(sink: Any, result: Any) -> Any:
    """`result`, after telling the reports why the command ran no rollout, if it did not."""
    if result.rollout is None:
        sink.ended_without_run(int(result.exit_code), list(result.lines))
    return result


def _ending_of(exc: BaseException) -> tuple[list[str], ExitCode]:
    """What a report says about an exception that ended the command, and its exit code."""
    if isinstance(exc, KeyboardInterrupt):
        return ["error: interrupted before the rollout started"], ExitCode.ERROR
    if isinstance(exc, _usage_errors()):
        return [f"error: {exc}"], ExitCode.USAGE
    explained = explain_error(exc) if isinstance(exc, Exception) else None
    if explained is not None:
        return explained
    return [f"error: internal error: {type(exc).__name__}: {exc}"], ExitCode.ERROR


def _render_error(lines: list[str], code: ExitCode, environment: OutputEnvironment) -> None:
    """An error as the one JSON object a script reading `--output json` waits for."""
    import json

    from rollout.redact import mask_strings
    from rollout.reporters.json_output import versioned

    document = versioned({"exit_code": int(code), "error": True, "lines": lines})
    environment.write(json.dumps(mask_strings(document)))


def _render(result: Any, output: str, environment: OutputEnvironment) -> ExitCode:
    """A command's result: its lines (errors on stderr), or one JSON object."""
    from rollout.redact import mask_secrets, mask_strings

    write, warn = environment.write, environment.warn
    if output == "json":
        import json

        from rollout.reporters.json_output import versioned

        if result.rollout is None:  # a run's events already said everything
            document = versioned(
                {"exit_code": int(result.exit_code), "lines": list(result.lines), **result.facts}
            )
            write(json.dumps(mask_strings(json.loads(json.dumps(document, default=str)))))
    else:
        # A refusal is said on standard error, where CI logs and people look for it.
        refused = result.exit_code not in (ExitCode.OK, ExitCode.IN_PROGRESS)
        for line in result.lines:
            if refused or line.startswith(("error:", "warning:")):
                warn(line)
            else:
                write(mask_secrets(line))
    return ExitCode(result.exit_code)


@main.command(
    epilog=example(
        "let editors complete and check plan files", "rollout schema > rollout.schema.json"
    )
)
@handle_errors
def schema() -> ExitCode:
    """Print the JSON Schema of the plan file."""
    import json

    from rollout.plan.schema import plan_json_schema

    _environment().write(json.dumps(plan_json_schema(), indent=2))
    return ExitCode.OK


@main.command(epilog=example("for a script", "rollout status -f rollout.yaml --output json"))
@acting_options
@click.option("--watch", is_flag=True, help="Redraw until the rollout ends; exit with its code.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="Seconds between reads with --watch.",
)
@handle_errors
def status(acting: ActingOptions, watch: bool, interval: float) -> ExitCode:
    """Show live alias routing and any rollout in flight (exit 5)."""
    from rollout.commands.status import status as read_status

    environment = _environment(acting.no_color)
    context = _recorded_context(acting)
    if not watch:
        return _render(read_status(context), acting.output, environment)
    from rollout.commands.status import watch as watch_status
    from rollout.reporters.status_view import StatusView

    view = StatusView(
        json_lines=acting.output == "json",
        terminal=environment.stdout_is_terminal,
        no_color=not environment.color,
    )
    try:
        return watch_status(context, view.show, interval)
    finally:
        view.close()


@main.command(
    epilog=example(
        "put one region back, leave the others",
        "rollout rollback -f rollout.yaml --region eu-west-1",
    )
)
@acting_options
@events_file_option
@heartbeat_option
@junit_option
@handle_errors
def rollback(
    acting: ActingOptions, events_file: Path | None, heartbeat: float, junit: Path | None
) -> ExitCode:
    """Restore the routing recorded before the rollout (exit 0 when all of it is back)."""
    from rollout.commands.rollback import rollback as roll_back

    environment = _environment(acting.no_color)
    # In its report, a region passes when it is back on its recorded routing.
    with _event_sink(
        environment, acting.output, events_file, heartbeat, junit, goal="restore"
    ) as sink:
        result = _reported(
            sink,
            roll_back(
                _recorded_context(acting),
                sink,
                say=environment.warn,
                on_start=_watch_signals(acting, environment),
            ),
        )
    return _render(result, acting.output, environment)


@main.command(epilog=example("carry on after the CI runner died", "rollout resume -f rollout.yaml"))
@acting_options
@click.option("--force", is_flag=True, help="Carry on even though the plan changed since.")
@events_file_option
@heartbeat_option
@junit_option
@handle_errors
def resume(
    acting: ActingOptions,
    force: bool,
    events_file: Path | None,
    heartbeat: float,
    junit: Path | None,
) -> ExitCode:
    """Continue a rollout whose process died, from its last recorded step."""
    from rollout.commands.release import resume as resume_release

    environment = _environment(acting.no_color)
    with _event_sink(environment, acting.output, events_file, heartbeat, junit) as sink:
        result = _reported(
            sink,
            resume_release(
                _context(acting),
                sink,
                say=environment.warn,
                force=force,
                on_start=_watch_signals(acting, environment),
            ),
        )
    return _render(result, acting.output, environment)


@main.command(
    epilog=example(
        "release one target's pause in one region",
        "rollout promote -f rollout.yaml --region us-east-1 --target api",
    )
)
@plan_file_option
@endpoint_option
@click.option("--region", "regions", multiple=True, help="Only this region (repeatable).")
@click.option("--target", "targets", multiple=True, help="Only this target (repeatable).")
@click.option("--full", is_flag=True, help="Skip every remaining step and bake: 100% now.")
@output_option
@handle_errors
def promote(
    plan_file: Path,
    endpoint_url: str | None,
    regions: tuple[str, ...],
    targets: tuple[str, ...],
    full: bool,
    output: str,
) -> ExitCode:
    """Release the manual pause the running rollout waits at (--full: go to 100% now)."""
    from rollout.commands.requests import promote as send_promote

    context = _plain_context(plan_file, endpoint_url)
    result = send_promote(context, targets, full=full, regions=regions)
    return _render(result, output, _environment())


@main.command(
    epilog=example("from another terminal than the apply's", "rollout abort -f rollout.yaml")
)
@plan_file_option
@endpoint_option
@output_option
@handle_errors
def abort(plan_file: Path, endpoint_url: str | None, output: str) -> ExitCode:
    """Ask the running apply to roll back."""
    from rollout.commands.requests import abort as send_abort

    return _render(send_abort(_plain_context(plan_file, endpoint_url)), output, _environment())


@main.command(
    epilog=example("break the lock a killed runner left", "rollout unlock -f rollout.yaml --force")
)
@plan_file_option
@endpoint_option
@click.option("--force", is_flag=True, help="Break the lock (after showing its holder).")
@output_option
@handle_errors
def unlock(plan_file: Path, endpoint_url: str | None, force: bool, output: str) -> ExitCode:
    """Break a stale lock, after showing its holder."""
    from rollout.commands.requests import unlock as break_lock

    result = break_lock(_plain_context(plan_file, endpoint_url), force=force)
    return _render(result, output, _environment())


@main.command(epilog=example("for a script", "rollout history -f rollout.yaml --output json"))
@plan_file_option
@endpoint_option
@click.option("--limit", type=click.IntRange(min=1), help="Only the latest N rollouts.")
@output_option
@handle_errors
def history(plan_file: Path, endpoint_url: str | None, limit: int | None, output: str) -> ExitCode:
    """List past rollouts of this plan."""
    from rollout.commands.history import history as read_history

    context = _plain_context(plan_file, endpoint_url)
    return _render(read_history(context, limit=limit), output, _environment())


def _account(_context: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not (value == "*" or (len(value) == 12 and value.isdigit())):
        raise click.BadParameter("an AWS account is 12 digits (or * for any)")
    return value


@main.command(
    "iam-policy",
    epilog=example(
        "the policy for the CI role", "rollout iam-policy -f rollout.yaml > rollout-policy.json"
    ),
)
@plan_file_option
@click.option(
    "--account",
    callback=_account,
    help="The account in the ARNs (default: aws.role_arn's, else *).",
)
@output_option
@handle_errors
def iam_policy(plan_file: Path, account: str | None, output: str) -> ExitCode:
    """Print the least-privilege IAM policy the plan needs."""
    from rollout.commands.iam_policy import policy_for

    result = policy_for(load_plan_file(plan_file), account)
    environment = _environment()
    if output == "text":
        import json

        environment.write(json.dumps(result.facts["policy"], indent=2))
    return _render(result, output, environment)


@main.command(epilog=example("one release that succeeds, one an alarm rolls back", "rollout demo"))
@handle_errors
def demo() -> ExitCode:
    """Run two real rollouts against a local AWS emulator."""
    from rollout.demo import run_demo
    from rollout.sandbox import SandboxMissingError

    environment = _environment()
    try:
        with _event_sink(environment, "text") as sink:
            result = run_demo(sink, lambda line: environment.write(f"== {line}"))
    except SandboxMissingError as exc:
        environment.warn(f"error: {exc}")
        return ExitCode.ERROR
    for line in result.lines:
        environment.write(f"== {line}")
    return ExitCode.OK if result.as_intended else ExitCode.ERROR


@main.group(
    epilog=example(
        "write and check the proxy's configuration",
        "rollout nginx render domains.yaml -o build/nginx.conf --check",
    )
)
def nginx() -> None:
    """NGINX domain-mapping configs."""


@nginx.command(
    "render",
    epilog=example(
        "write and check the proxy's configuration",
        "rollout nginx render domains.yaml -o build/nginx.conf --check",
    ),
)
@click.argument("mappings", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "output_file",
    type=click.Path(path_type=Path),
    help="Write here (atomically; untouched when unchanged) instead of stdout.",
)
@click.option("--check", is_flag=True, help="Check the result with the real nginx -t first.")
@click.option(
    "--format",
    "form",
    type=click.Choice(["full", "servers"]),
    default="full",
    show_default=True,
    help="A whole nginx.conf, or the server blocks to include.",
)
@click.option("--listen", default="80", show_default=True, help="PORT or ADDR:PORT.")
@click.option("--vpc-endpoint", help="The execute-api VPC endpoint's DNS name[:PORT].")
@click.option("--resolver", help="Resolve upstreams at run time through this DNS server.")
@click.option("--ssl-cert", type=click.Path(path_type=Path), help="Serve HTTPS with this.")
@click.option("--ssl-key", type=click.Path(path_type=Path), help="The certificate's key.")
@click.option(
    "--upstream-ca",
    type=click.Path(path_type=Path),
    help="Verify the upstream's certificate against this CA bundle.",
)
@handle_errors
def nginx_render(
    mappings: Path,
    output_file: Path | None,
    check: bool,
    form: str,
    listen: str,
    vpc_endpoint: str | None,
    resolver: str | None,
    ssl_cert: Path | None,
    ssl_key: Path | None,
    upstream_ca: Path | None,
) -> ExitCode:
    """Render a domain-mapping file into an NGINX config."""
    from rollout.commands.nginx import render_command
    from rollout.nginx.options import proxy_options

    options = proxy_options(
        listen=listen,
        vpc_endpoint=vpc_endpoint,
        resolver=resolver,
        ssl_cert=ssl_cert,
        ssl_key=ssl_key,
        upstream_ca=upstream_ca,
    )
    result, text = render_command(mappings, options, output=output_file, check=check, form=form)
    environment = _environment()
    if text is not None:
        environment.write(text.rstrip("\n"))
    return _render(result, "text", environment)


def render_top_level_help() -> str:
    """What `rollout --help` prints, as click renders it (rollout.help_text keeps a copy)."""
    context = click.Context(main, info_name="rollout", **CONTEXT_SETTINGS)
    return main.get_help(context) + "\n"


def write_help_text() -> None:
    """Refresh rollout/help_text.py after the top-level commands or options change."""
    body = (
        '"""The top-level `rollout --help`, served without importing click (see rollout.entry).\n\n'
        "Generated by rollout.cli.write_help_text; a test fails when it drifts "
        'from the CLI.\n"""\n\n'
        f'TOP_LEVEL_HELP = """\\\n{render_top_level_help()}"""\n'
    )
    Path(__file__).with_name("help_text.py").write_text(body, encoding="utf-8")
