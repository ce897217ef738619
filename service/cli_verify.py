"""`timeline verify`: recompute the hash chains and say whether the stored history is intact."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from events.verify import verify as verify_chain
from migrations.migrations import pending
from service.app import database_path


@click.command("verify")
@with_appcontext
def verify():
    """Recompute both hash chains and check stream versions; exit 0 if intact, 1 at the first broken link."""
    if pending(database_path(current_app)):
        raise click.ClickException(f"the database {database_path(current_app)} is not set up or not up to date: "
                                   "run `timeline db upgrade` first")
    found = verify_chain(current_app.extensions["timeline"].store.iter_chain())
    if found.ok:
        head = f"; head {found.head['global_hash']} at position {found.head['position']}" if found.head else ""
        click.echo(f"intact: {found.events_checked} events, {found.streams_checked} streams{head}")
        return
    click.echo(f"BROKEN after {found.events_checked} intact events: {found.first_broken.describe()}")
    raise SystemExit(1)
