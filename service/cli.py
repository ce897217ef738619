"""The `timeline` command: database, bundled data, loading, rebuilding and tokens."""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
import sys
from functools import partial
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup

from events.loading import LoadReport, bundled_lines, load_lines
from events.rebuilding import project_due, rebuild_all
from events.sqlite_store import SQLiteStore
from events.store import TOKEN_SCOPES
from migrations.migrations import pending, upgrade
from service.app import create_app, database_path
from service.auth import new_token
from service import cli_export
from service.cli_clock import clock as clock_command
from service.cli_verify import verify


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def cli():
    """Children's Services Timeline: manage the database and serve the API."""


def _services(schema: bool = True):
    """The app's services; unless told otherwise, refuse to go on against a database not yet upgraded."""
    if schema and not _schema_ready():
        raise click.ClickException(f"the database {database_path(current_app)} is not set up or not up to date: "
                                   "run `timeline db upgrade` first")
    return current_app.extensions["timeline"]


def _schema_ready() -> bool:
    return not pending(database_path(current_app))


@cli.group()
def db():
    """The database schema."""


@db.command("upgrade")
def db_upgrade():
    """Create the database or apply pending migrations."""
    path = database_path(current_app)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    applied = upgrade(path)
    click.echo(f"{path}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))


def _report(report: LoadReport, what: str) -> None:
    click.echo(f"{what}: {report.appended} appended, {report.already_present} already present, "
               f"{len(report.refused)} refused")
    for refusal in report.refused:
        click.echo(f"  line {refusal['line']}: {refusal['detail']} {json.dumps(refusal['errors'])}", err=True)
    if not report.ok:
        raise SystemExit(1)


@cli.command()
def seed():
    """Load the bundled data (Manchester's history); running it again adds nothing."""
    svc = _services()
    _report(load_lines(svc.store, svc.registry, bundled_lines(), recorded_by="seed", project_due=_projector(svc)),
            "bundled data")


@cli.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--recorded-by", default="load", show_default=True, help="name recorded as the events' author")
@click.option("--restore", "restore_", is_flag=True,
              help="FILE is a `timeline export`: restore it into this empty database, keeping recording times")
def load(file, recorded_by, restore_):
    """Append events from an NDJSON FILE (- for stdin), one append request with its authority per line."""
    if restore_:
        return cli_export.restore(file)
    svc = _services()
    _report(load_lines(svc.store, svc.registry, file, recorded_by=recorded_by, project_due=_projector(svc),
                       checkers=_checkers_for(file)), file.name)


def _checkers_for(file) -> int:
    """Processes to validate a load's lines in: every core for a file big enough to pay for starting them
    (about a second each; 5 MB is about 5,000 events), none for a small file or a pipe."""
    try:
        size = os.fstat(file.fileno()).st_size
    except (OSError, ValueError):
        return 0
    return (os.cpu_count() or 1) if size > 5_000_000 else 0


def _projector(svc) -> Callable[[], int]:
    """What makes the projections of the streams a load appended to: in worker processes when there are many."""
    return partial(project_due, svc.store, partial(SQLiteStore, svc.store.path), svc.today())


@cli.command()
def rebuild():
    """Rebuild every stored projection from the events."""
    svc = _services()
    total = len(svc.store.authorities_with_events())
    with click.progressbar(length=total, label="rebuilding projections", show_pos=True) as bar:
        count = rebuild_all(svc.store, partial(SQLiteStore, svc.store.path), svc.today(), progress=bar.update)
    click.echo(f"rebuilt {count} authorities from {svc.store.last_position()} events")


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--append", "append_", is_flag=True, help="append each draft (same validation as the API)")
@click.option("--published", type=click.DateTime(["%Y-%m-%d"]), help="publication date, for reports that do not print it")
@click.option("--index", "index_path", type=click.Path(exists=True, dir_okay=False),
              help="CSV of publication dates (columns file, publication_date dd/mm/yy); default: an index.csv beside the documents")
def import_(path, append_, published, index_path):
    """Draft events from a document (PDF or text) or every document in a folder."""
    # Here, not at the top: the importer is a fifth of the CLI's start-up, and only this command uses it.
    from events.importer.drafting import PublicationIndex
    from events.importer.importing import documents_in, import_path, published_for

    # Drafting needs no database; with one, drafts link to events already in it.
    svc = _services(schema=append_)
    store = svc.store if _schema_ready() else None
    files = documents_in(path)
    index = PublicationIndex.load(index_path) if index_path else None
    chosen = published.date() if published else None
    lookup = lambda file: published_for(file, chosen, index)  # noqa: E731
    if path.is_file():
        outcome = import_path(path, svc.registry, published=lookup, store=store, append=append_)
        if outcome.draft is not None:
            click.echo(json.dumps(outcome.draft.to_dict(), indent=2, ensure_ascii=False))
        click.echo(f"{outcome.path.name}: {outcome.status} {outcome.reason}".rstrip(), err=True)
        raise SystemExit(1 if outcome.status == "refused" else 0)
    outcomes = []
    with click.progressbar(files, label=f"importing {len(files)} documents", file=sys.stderr) as bar:
        for file in bar:
            outcomes.append(import_path(file, svc.registry, published=lookup, store=store, append=append_))
    click.echo(summary_table(outcomes, path))
    raise SystemExit(1 if any(o.status == "refused" for o in outcomes) else 0)


def summary_table(outcomes, root: Path) -> str:
    """One line per document (status, format, authority, why), then counts per status."""
    lines = [f"{'document':40} {'status':16} {'format':18} {'authority':28} notes"]
    for o in outcomes:
        draft = o.draft
        lines.append(f"{str(o.path.relative_to(root)):40} {o.status:16} {(draft.format if draft else '-'):18} "
                     f"{((draft.authority or '?') if draft else '-'):28} {o.reason}")
    counts = Counter(o.status for o in outcomes)
    lines.append("total: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    return "\n".join(lines)


@cli.group()
def tokens():
    """API tokens for appending events."""


@tokens.command("create")
@click.argument("name")
@click.option("--authority", "authorities", multiple=True, help="limit the token to this authority (repeatable)")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(TOKEN_SCOPES), default=("append",),
              show_default=True, help="append: add events; admin: manage tokens and webhooks (repeatable)")
def tokens_create(name, authorities, scopes):
    """Create a token NAME and print it (it is shown only this once)."""
    svc = _services()
    unknown = [a for a in authorities if svc.registry.get(a) is None]
    if unknown:
        raise click.BadParameter(f"unknown authority: {', '.join(unknown)}", param_hint="--authority")
    try:
        value = new_token(svc.store, name, list(authorities) or None, tuple(scopes))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(value)


@tokens.command("list")
def tokens_list():
    """List tokens (names and dates; never their values)."""
    for token in _services().store.list_tokens():
        where = ", ".join(token.authorities) if token.authorities else "all authorities"
        state = f"revoked {token.revoked_at}" if token.revoked_at else "active"
        click.echo(f"{token.name}\tcreated {token.created_at}\t{state}\tscope {' '.join(token.scopes)}\t{where}")


@tokens.command("revoke")
@click.argument("name")
def tokens_revoke(name):
    """Revoke token NAME."""
    if not _services().store.revoke_token(name):
        raise click.ClickException(f"no active token named {name!r}")
    click.echo(f"revoked {name}")


cli.add_command(cli_export.export)


def main() -> None:
    """Console-script entry point."""
    cli()


@cli.command()
@click.option("--bind", default=None, help="address:port (default 127.0.0.1:8000, or $TIMELINE_BIND / $PORT)")
@click.option("--workers", default=None, type=int, help="gunicorn worker processes (default 2)")
def serve(bind, workers):
    """Migrate, load the bundled data, then run the API under gunicorn (migrations run before workers fork)."""
    path = database_path(current_app)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    upgrade(path)
    seed.callback()
    config = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
    argv = [sys.executable, "-m", "gunicorn", "-c", str(config), "--chdir", str(config.parent)]
    argv += (["--bind", bind] if bind else []) + (["--workers", str(workers)] if workers else [])
    env = dict(os.environ, TIMELINE_DATABASE=str(Path(path).resolve()))
    os.execve(sys.executable, argv + ["wsgi:app"], env)


cli.add_command(verify)
cli.add_command(clock_command)
