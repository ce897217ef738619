"""`timeline verify`: recompute the hash chains and say whether the stored history is intact."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from events.verify import verify_store
from migrations.migrations import pending
from service.app import database_path


@click.command("verify")
@click.option("--from", "from_", type=click.IntRange(min=1, max=2**63 - 1), default=1, show_default=True,
              help="First position to check; the chains before it are taken as stored.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Check at most this many positions.")
@with_appcontext
def verify(from_: int, limit: int | None):
    """Recompute both hash chains and check stream versions; exit 0 if intact, 1 at the first broken link."""
    if pending(database_path(current_app)):
        raise click.ClickException(f"the database {database_path(current_app)} is not set up or not up to date: "
                                   "run `timeline db upgrade` first")
    store = current_app.extensions["timeline"].store
    found = verify_store(store, from_, limit)
    if found.ok:
        head = f"; head {found.head['global_hash']} at position {found.head['position']}" if found.head else ""
        window = "" if found.complete else f" (positions {from_} to {found.through_position}; go on with --from {found.next_from})"
        click.echo(f"intact: {found.events_checked} events, {found.streams_checked} streams{head}{window}")
        return
    click.echo(f"BROKEN after {found.events_checked} intact events: {found.first_broken.describe()}")
    raise SystemExit(1)
