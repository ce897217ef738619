"""`timeline export` and the restore half of `timeline load --restore`."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from events.exporting import RestoreError, export_lines, restore_lines
from service.app import database_path


@click.command("export")
@click.argument("file", type=click.File("w", encoding="utf-8", atomic=True))
@with_appcontext
def export(file):
    """Write every event, in position order and exactly as recorded, as NDJSON to FILE (- for stdout)."""
    from service.cli import _services

    count = 0
    for line in export_lines(_services().store):
        file.write(line)
        count += 1
    click.echo(f"exported {count} events", err=True)


def restore(file) -> None:
    """Restore an export into this (empty) database, keeping transaction times; all or nothing."""
    from service.cli import _services

    svc = _services()
    try:
        count = restore_lines(svc.store, svc.registry, file, svc.today)
    except RestoreError as exc:
        raise click.ClickException(f"{file.name}: {exc}; nothing was restored") from None
    click.echo(f"{file.name}: restored {count} events, with their recording times, into {database_path(current_app)}")
