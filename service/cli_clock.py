"""`timeline clock`: the process that runs the timed jobs (Procfile `clock:`)."""
from __future__ import annotations

import logging
import os

import click
from flask import current_app
from flask.cli import with_appcontext

from service.app import database_path


@click.command("clock")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
@with_appcontext
def clock(log_level):
    """Run the clock: deliver webhooks, the daily alert sweep, nightly backup and rebuild check, heartbeat.

    Start one per deployment; a second one against the same database waits on
    standby and takes over if the first stops.
    """
    from service.cli import _services  # the CLI's check that the database is migrated
    # Here, not at the top: APScheduler is a sixth of the CLI's start-up, and only this command runs it.
    from service.clock import Clock, ClockConfig

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if log_level.upper() != "DEBUG":  # APScheduler logs every run of every job at INFO: our own lines say more
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    svc = _services()
    try:
        config = ClockConfig.from_env(os.environ, database_path(current_app))
    except ValueError as exc:
        raise click.ClickException(f"clock configuration: {exc}") from None
    Clock(svc.store, config).serve()
