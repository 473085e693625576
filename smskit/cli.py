"""The `smskit` command line.

Exit codes: 0 success; 1 the command ran but found a problem (for `validate`: a rejected row);
2 usage, input or file error; 3 the database stayed locked by another process.
Errors are printed as one line on stderr, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from smskit.errors import SmskitError, StoreBusyError

Handler = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        # `smskit batch` without an action shows the batch actions, not every command.
        getattr(args, "help_parser", parser).print_help()
        return 2
    try:
        return int(args.handler(args))
    except BrokenPipeError:
        # The reader (e.g. `| head`) closed the pipe: stop quietly, as other tools do.
        # Output goes to /dev/null so the exit-time flush raises no second error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except StoreBusyError as error:
        print(f"smskit: {error}", file=sys.stderr)
        return 3
    except SmskitError as error:
        print(f"smskit: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(
            f"smskit: {error.strerror or error}: {error.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every command and its help text."""
    parser = argparse.ArgumentParser(
        prog="smskit", description="AI-driven outbound SMS campaigns: batches, settings, results."
    )
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument(
        "--data",
        metavar="DIR",
        help="project data folder (default: $SMSKIT_DATA, else the nearest data/ folder)",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    validate = commands.add_parser(
        "validate", parents=[data], help="print a verdict for every row of a CSV batch"
    )
    validate.add_argument("file", help="CSV file with a header row (- reads standard input)")
    validate.add_argument("--region", metavar="CC", help="default region for national numbers")
    validate.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    validate.set_defaults(handler=_validate)

    _add_batch_commands(commands, data)
    _add_attr_commands(commands, data)

    results = commands.add_parser("results", parents=[data], help="print the results")
    results.add_argument("--format", choices=("csv", "json"), default="csv", help="output format")
    results.add_argument("--batch", metavar="TITLE_OR_ID", help="only this batch")
    results.set_defaults(handler=_results)

    reply = commands.add_parser(
        "reply", parents=[data], help="deliver an inbound SMS on the local provider"
    )
    reply.add_argument("phone", help="the sender's number (E.164)")
    reply.add_argument("text", help="the message text")
    reply.set_defaults(handler=_reply)

    suppress = commands.add_parser("suppress", parents=[data], help="the suppression list")
    suppress.add_argument("action", choices=("list", "add", "remove"), help="what to do")
    suppress.add_argument("phone", nargs="?", help="the number to add or remove (E.164)")
    suppress.add_argument("--reason", default="added by hand", help="why the number is added")
    suppress.add_argument(
        "--format", choices=("text", "csv"), default="text", help="output format of list"
    )
    suppress.set_defaults(handler=_suppress)

    status = commands.add_parser(
        "status",
        parents=[data],
        help="tasks by state, open sessions, webhook outbox and deliveries given up",
    )
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(handler=_status)

    deliveries = commands.add_parser("deliveries", parents=[data], help="webhook deliveries")
    deliveries.set_defaults(help_parser=deliveries)
    delivery_commands = deliveries.add_subparsers(title="actions", metavar="ACTION")
    replay = delivery_commands.add_parser(
        "replay", parents=[data], help="send a given-up delivery again"
    )
    replay.add_argument("id", help="the delivery id (its webhook-id)")
    replay.set_defaults(handler=_replay)
    listing = delivery_commands.add_parser("list", parents=[data], help="list deliveries")
    listing.set_defaults(handler=_deliveries_list)
    return parser


def _add_batch_commands(commands: Any, data: argparse.ArgumentParser) -> None:
    batch = commands.add_parser("batch", help="store, list and control batches")
    batch.set_defaults(help_parser=batch)
    actions = batch.add_subparsers(title="actions", metavar="ACTION")
    add = actions.add_parser("add", parents=[data], help="validate and store a CSV batch")
    add.add_argument("file", help="CSV file with a header row (- reads standard input)")
    add.add_argument("--title", required=True, help="batch title, unique in the project")
    add.add_argument("--region", metavar="CC", help="default region for national numbers")
    add.add_argument(
        "--skip-contacted",
        action="store_true",
        help="skip numbers that already have a task in an earlier batch",
    )
    add.add_argument(
        "--paused", action="store_true", help="save the batch paused, to preview it before sending"
    )
    add.set_defaults(handler=_batch_add)
    listing = actions.add_parser("list", parents=[data], help="list batches with progress")
    listing.add_argument("--json", action="store_true", help="print the batches as JSON")
    listing.set_defaults(handler=_batch_list)
    for action, help_text in (
        ("pause", "stop sending greetings for a batch"),
        ("resume", "resume a paused batch"),
        ("cancel", "cancel the tasks of a batch that are not sent yet"),
    ):
        control = actions.add_parser(action, parents=[data], help=help_text)
        control.add_argument("batch", metavar="TITLE_OR_ID", help="the batch")
        control.set_defaults(handler=_batch_control, action=action)
    preview = actions.add_parser(
        "preview", parents=[data], help="show generated greetings for sample rows"
    )
    preview.add_argument("batch", metavar="TITLE_OR_ID", help="the batch")
    preview.add_argument("--n", type=int, default=5, help="number of sample rows (default 5)")
    preview.set_defaults(handler=_batch_preview)


def _add_attr_commands(commands: Any, data: argparse.ArgumentParser) -> None:
    attr = commands.add_parser("attr", help="read and change project attributes")
    attr.set_defaults(help_parser=attr)
    actions = attr.add_subparsers(title="actions", metavar="ACTION")
    listing = actions.add_parser("list", parents=[data], help="list every attribute")
    listing.add_argument("--json", action="store_true", help="print the attributes as JSON")
    listing.set_defaults(handler=_attr_list)
    get = actions.add_parser("get", parents=[data], help="print one attribute's value")
    get.add_argument("name", help="attribute name")
    get.set_defaults(handler=_attr_get)
    set_ = actions.add_parser("set", parents=[data], help="validate and set an attribute")
    set_.add_argument("name", help="attribute name")
    set_.add_argument("value", help="new value (- reads standard input)")
    set_.set_defaults(handler=_attr_set)
    reset = actions.add_parser("reset", parents=[data], help="reset an attribute to its default")
    reset.add_argument("name", help="attribute name")
    reset.set_defaults(handler=_attr_reset)


def _project(args: argparse.Namespace) -> Any:
    from smskit.datafolder import resolve_data_folder
    from smskit.project import Project

    return Project(resolve_data_folder(args.data), program="smskit " + _command_name(args))


def _command_name(args: argparse.Namespace) -> str:
    handler = getattr(args, "handler", None)
    return handler.__name__.lstrip("_") if handler else ""


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()


def _validate(args: argparse.Namespace) -> int:
    from smskit.validation import format_table

    project = _project(args)
    validation = project.check(_read_input(args.file), args.region)
    if args.json:
        print(json.dumps(validation.to_json(), ensure_ascii=False, indent=2))
    else:
        print(f"data folder: {project.path}", file=sys.stderr)
        print(format_table(validation))
    counts = validation.counts
    return 0 if counts.get("invalid", 0) == 0 and counts.get("duplicate", 0) == 0 else 1


def _batch_add(args: argparse.Namespace) -> int:
    project = _project(args)
    batch = project.add_batch(
        args.title,
        _read_input(args.file),
        region=args.region,
        skip_contacted=args.skip_contacted,
        paused=args.paused,
    )
    print(
        f"batch {batch['batch_id']} {batch['title']!r} stored in {project.path}: "
        f"{batch['rows']} rows, {batch['valid']} valid, {batch['invalid']} invalid, "
        f"{batch['duplicate']} duplicate ({batch['state']})"
    )
    return 0


def _batch_list(args: argparse.Namespace) -> int:
    frame = _project(args).batches()
    if args.json:
        print(frame.write_json())
    else:
        _print_frame(frame)
    return 0


def _batch_control(args: argparse.Namespace) -> int:
    project = _project(args)
    getattr(project, args.action)(args.batch)
    past = {"pause": "paused", "resume": "resumed", "cancel": "cancelled"}[args.action]
    print(f"batch {args.batch!r} {past}")
    return 0


def _batch_preview(args: argparse.Namespace) -> int:
    from smskit.preview import preview_batch

    frame = preview_batch(_project(args), args.batch, args.n)
    for row in frame.to_dicts():
        print(
            f"row {row['row']} {row['phone_number']} ({row['segments']} segments, "
            f"{row['encoding']}, about ${row['cost']:.4f}):"
        )
        print(f"  {row['greeting']}")
    return 0


def _attr_list(args: argparse.Namespace) -> int:
    frame = _project(args).attributes()
    if args.json:
        print(frame.write_json())
        return 0
    for row in frame.to_dicts():
        value = row["value"] if len(row["value"]) <= 60 else row["value"][:57] + "..."
        marker = "*" if row["is_set"] else " "
        print(f"{marker} {row['name']} = {value!r}  [{row['type']}]")
    return 0


def _attr_get(args: argparse.Namespace) -> int:
    from smskit import attributes

    value = _project(args).get(args.name)
    print(attributes.to_text(args.name, value))
    return 0


def _attr_set(args: argparse.Namespace) -> int:
    value = sys.stdin.read() if args.value == "-" else args.value
    _project(args).set(args.name, value)
    print(f"{args.name} set")
    return 0


def _attr_reset(args: argparse.Namespace) -> int:
    from smskit import attributes

    default = _project(args).reset(args.name)
    print(f"{args.name} reset to its default {attributes.to_text(args.name, default)!r}")
    return 0


def _results(args: argparse.Namespace) -> int:
    from smskit.results import to_csv, to_json

    frame = _project(args).results(args.batch)
    sys.stdout.write(to_csv(frame) if args.format == "csv" else to_json(frame) + "\n")
    return 0


def _reply(args: argparse.Namespace) -> int:
    project = _project(args)
    project.reply(args.phone, args.text)
    print(f"reply from {args.phone} queued in {project.folder.spool}")
    return 0


def _suppress(args: argparse.Namespace) -> int:
    project = _project(args)
    if args.action == "list":
        frame = project.suppressions()
        if args.format == "csv":
            sys.stdout.write(frame.write_csv())
        else:
            _print_frame(frame)
        return 0
    if not args.phone:
        raise _usage(f"smskit suppress {args.action} needs a phone number")
    if args.action == "add":
        before = set(project.suppressions()["phone_number"].to_list())
        number = project.suppress(args.phone, args.reason)
        note = " (it already was)" if number in before else ""
        print(f"{number} is on the suppression list{note}")
    else:
        print(f"{project.unsuppress(args.phone)} removed from the suppression list")
    return 0


def _status(args: argparse.Namespace) -> int:
    status = _project(args).status()
    if args.json:
        print(json.dumps(status, default=str, indent=2))
        return 0
    runner = f"runner pid {status['runner_pid']}" if status["runner_pid"] else "no runner running"
    print(f"data folder: {status['data']} ({runner})")
    print("tasks: " + ", ".join(f"{state} {count}" for state, count in status["tasks"].items()))
    for reason, count, until in status["waiting"]:
        print(f"  waiting for {reason}: {count} (next at {until or 'when a session closes'})")
    if status["outcomes"]:
        print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(status["outcomes"].items())))
    print(f"open sessions: {status['open_sessions']}")
    outbox = status["outbox"]
    print("webhook outbox: " + (", ".join(f"{k} {v}" for k, v in outbox.items()) or "empty"))
    for delivery in status["given_up"]:
        print(
            f"given up: {delivery['delivery_id']} task {delivery['task_id']} after "
            f"{delivery['attempts']} attempts ({delivery['last_status'] or delivery['last_error']})"
            f"; replay with: smskit deliveries replay {delivery['delivery_id']}"
        )
    for task in status["unresolved_sends"]:
        print(f"send not yet confirmed: task {task['task_id']} to {task['phone_number']}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    _project(args).replay(args.id)
    print(f"delivery {args.id} queued again")
    return 0


def _deliveries_list(args: argparse.Namespace) -> int:
    _print_frame(_project(args).deliveries())
    return 0


def _print_frame(frame: Any) -> None:
    """Print a frame as a plain table: a header, then one line per row, values in full."""
    if frame.is_empty():
        print("(none)")
        return
    rows = [[_cell(value) for value in row] for row in frame.iter_rows()]
    header = list(frame.columns)
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    for line in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat(sep=" ", timespec="seconds"))
    return str(value).replace("\n", " ")


def _usage(message: str) -> SmskitError:
    from smskit.errors import InvalidInputError

    return InvalidInputError(message)


if __name__ == "__main__":
    sys.exit(main())
