"""The ``regapps`` command. The only module that writes for users and picks exit codes:
a :class:`RegappsError` or a usage error becomes one line on stderr and exit code 2."""
from __future__ import annotations

import re
import signal
import sys
from importlib import metadata
from typing import Annotated, Any, NoReturn

import typer

try:  # typer >= 0.22 vendors click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older typer depends on click
    from click import exceptions as click_exc  # type: ignore[no-redef]

from regapps.apps.image.cli import app as image_app
from regapps.apps.text.cli import app as text_app
from regapps.apps.ts.cli import app as ts_app

app = typer.Typer(
    name="regapps",
    help="Regularization and optimization, put to work: image (CIFAR-10), text (IMDB) and "
         "time-series (stocks) apps with cross-validated hyperparameters and reports.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
app.add_typer(image_app, name="image")
app.add_typer(ts_app, name="ts")
app.add_typer(text_app, name="text")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"regapps {metadata.version('regapps')}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """regapps: see each app's --help."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C so runs are marked interrupted (exit code 143)."""


_terminated: list[int] = []


def _on_sigterm(signum: int, frame: Any) -> NoReturn:
    _terminated.append(signum)
    raise Terminated()


def _fail(message: str, code: int = 2) -> NoReturn:
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())  # always one line
    sys.stderr.write(f"regapps: error: {line}\n")
    sys.exit(code)


# rich markup's tags, as rich.markup.escape finds them (not imported: every command would pay)
_MARKUP_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")


def _literal(text: str) -> str:
    """``text`` escaped for rich markup, so ``regapps[mlflow]`` is shown, not read as a style."""
    return _MARKUP_TAG.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", text)


def _shown_as_written(command: Any) -> Any:
    """Typer renders every help text as rich markup, which drops square brackets that look like
    a tag; none of regapps' texts is markup, so each is escaped once, for every command."""
    for item in (command, *getattr(command, "params", ())):
        for attr in ("help", "short_help"):
            text = getattr(item, attr, None)
            if isinstance(text, str) and "[" in text:
                setattr(item, attr, _literal(text))
    for sub in getattr(command, "commands", {}).values():
        _shown_as_written(sub)
    return command


def main(argv: list[str] | None = None) -> None:
    from regapps.shared.errors import ParameterError, RegappsError

    _terminated.clear()  # main() may run more than once in a process (tests, embedding)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        command = _shown_as_written(typer.main.get_command(app)) if isinstance(app, typer.Typer) else app
        code = command(args=argv, prog_name="regapps", standalone_mode=False)  # click's main()
    except click_exc.NoArgsIsHelpError as exc:  # a bare group: show its help, succeed
        typer.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        code = 0
    except click_exc.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "regapps"
        _fail(f"{command}: {exc.format_message()}")
    except click_exc.ClickException as exc:
        _fail(exc.format_message())
    except RegappsError as exc:
        _fail(exc.as_flag() if isinstance(exc, ParameterError) else str(exc))  # library names parameters
    except KeyboardInterrupt:  # typer turns most into exit code 130 itself
        code = 130
    except typer.Abort:
        code = 130
    except MemoryError:
        _fail("out of memory; try a smaller --batch-size", 1)
    if code == 130:
        _fail("terminated" if _terminated else "interrupted", 143 if _terminated else 130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
