"""liangye 两业：奖励项目的分配方案、模拟、批量情景与报告。The ``liangye`` command line: plans,
simulations, sweeps and reports of award programmes."""

from __future__ import annotations

import inspect
import os
import re
import signal
import sys
import threading


def _interrupted_while_starting(signum: int, frame: object) -> None:
    """Ctrl-C while the command line's modules load: one line and exit 130, no traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stderr.write("interrupted\n")
    sys.stderr.flush()
    os._exit(130)  # nothing has been written yet: there is nothing to clean up


# Until the module has loaded (the handler is put back at its end), Ctrl-C ends the program
# quietly; after that, main() turns KeyboardInterrupt into the same line. Only the default
# handler is replaced, and only from the main thread: a host that set its own keeps it.
_SIGINT_BEFORE = signal.getsignal(signal.SIGINT)
_GUARDED = (
    _SIGINT_BEFORE is signal.default_int_handler
    and threading.current_thread() is threading.main_thread()
)
if _GUARDED:
    signal.signal(signal.SIGINT, _interrupted_while_starting)

import typer  # noqa: E402 - after the Ctrl-C guard
from rich.text import Text  # noqa: E402

from liangye.model.errors import InputError  # noqa: E402

from .cli_shared import EXIT_INPUT, errors, print_json  # noqa: E402
from .policy_commands import policy_app  # noqa: E402

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False
)


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a process Ctrl-C ended


def _interrupted() -> None:
    """Ctrl-C: one line on stderr and exit 130; a second Ctrl-C meanwhile is ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stderr.write("interrupted\n")
    sys.stderr.flush()
    sys.exit(EXIT_INTERRUPTED)


def main() -> None:
    """Entry point. Promises: bad input exits 2 with every problem listed; Ctrl-C at any
    moment (inside a command, while its modules load, while an error is shown) exits 130
    with the one line "interrupted"; neither ever prints a traceback."""
    try:
        _main()
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit:
        # The command's outcome is decided (and shown): a Ctrl-C while the interpreter shuts
        # down (joining the queue threads of `run`'s second process, say) cannot change it,
        # and would otherwise end the process by SIGINT without the one line.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise


def problems_json(error: InputError) -> list[dict[str, str]]:
    """Every problem of ``error`` as JSON for tools: file or option, row or key, the English
    and the Chinese."""
    return [
        {"source": p.source, "where": p.where, "message": p.message, "message_zh": p.zh}
        for p in error.problems
    ]


def _main() -> None:
    try:
        code = app(standalone_mode=False)
    except InputError as error:
        from .display import show_problems

        show_problems(errors, error)
        if "--json" in sys.argv[1:]:
            # A tool asked for JSON: the same problems, on stdout, so that it need not read
            # the terminal's text (stderr keeps it for the person).
            print_json({"status": "input_error", "problems": problems_json(error)})
        sys.exit(EXIT_INPUT)
    except (typer.Abort, KeyboardInterrupt):
        _interrupted()
    except typer.TyperException as error:  # usage errors: unknown option, missing argument
        from .usage import plain_usage, usage_zh

        message = plain_usage(error.format_message())
        errors.print(
            Text.assemble(("命令行参数有误 error:", "bold red"), f" {message}"), highlight=False
        )
        errors.print(Text.assemble("  → ", usage_zh(message)), highlight=False)
        if "--json" in sys.argv[1:]:  # as for bad input: a tool reads stdout, not the terminal
            problem = {"source": "command line", "where": "", "message": message}
            problem["message_zh"] = usage_zh(message)
            print_json({"status": "usage_error", "problems": [problem]})
        sys.exit(error.exit_code)
    except OSError as error:
        # A path that names a folder where a file is wanted (or the reverse), a file that
        # exists where a folder is to be made, no permission: the path and what the system
        # said, as for any other bad input.
        if os.environ.get("LIANGYE_DEBUG"):
            raise
        where = f"{error.filename}: " if error.filename else ""
        errors.print(
            f"[bold red]文件或文件夹无法读写 file error:[/] {where}{error.strerror or error}",
            highlight=False,
        )
        sys.exit(EXIT_INPUT)
    except Exception as error:  # the last line of defence: one sentence, details on request
        if _interrupt_behind(error):
            # A Ctrl-C inside a library's cleanup surfaces as the cleanup's own error (Pyomo's
            # "Exiting PauseGC context manager out of order" when it lands between two
            # nested pauses): it is still the Ctrl-C.
            _interrupted()
        if os.environ.get("LIANGYE_DEBUG"):
            raise
        errors.print(
            f"[bold red]error:[/] {error}  (set LIANGYE_DEBUG=1 for the traceback)", highlight=False
        )
        sys.exit(1)
    if code == EXIT_INTERRUPTED:  # typer turns a KeyboardInterrupt in a command into 130
        _interrupted()
    sys.exit(code or 0)


def _interrupt_behind(error: BaseException) -> bool:
    """Whether a KeyboardInterrupt is among the exceptions ``error`` was raised while
    handling (its context or cause, and theirs)."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        if isinstance(link, KeyboardInterrupt):
            return True
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return False


app.add_typer(policy_app, name="policy")

# The commands import what they need when they run (pandas, Pyomo, HiGHS, Mesa, pyarrow):
# `liangye --help` and a mistyped option answer at once.
from .allocate_command import register as _register_allocate  # noqa: E402 - after the app exists
from .report_commands import register as _register_reports  # noqa: E402 - after the app exists
from .run_commands import register as _register_runs  # noqa: E402 - after the app exists
from .sweep_commands import register as _register_sweeps  # noqa: E402 - after the app exists
from .validate_command import register as _register_validate  # noqa: E402 - after the app exists

_register_allocate(app)
_register_runs(app)
_register_validate(app)
_register_sweeps(app)
_register_reports(app)


def _short_summaries(typer_app: typer.Typer) -> None:
    """Each command's summary in a command list: its docstring's Chinese first line, and on
    the next the English's first sentence. The list shows the docstring's first paragraph,
    and rich kept that paragraph's line breaks, which broke the list at the source's width
    instead of the terminal's (the whole text stays in the command's own --help)."""
    for info in typer_app.registered_commands:
        if info.short_help is None and info.callback is not None and info.callback.__doc__:
            first, *english = inspect.cleandoc(info.callback.__doc__).split("\n\n")[0].splitlines()
            sentence = re.split(r"; |\. | \(|\.$", " ".join(english), maxsplit=1)[0].strip()
            info.short_help = f"{first.strip()}\n{sentence}." if sentence else first.strip()


_short_summaries(app)
_short_summaries(policy_app)

if _GUARDED:  # loaded: from here on main() turns Ctrl-C into the one line
    signal.signal(signal.SIGINT, _SIGINT_BEFORE)
