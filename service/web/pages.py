"""HTML pages: every authority, one authority's story, one event, and a form to add a monitoring visit.

Pages ask the same domain queries as the JSON API (`events.queries`), so the two
never disagree. Everything is rendered on the server (charts as inline SVG);
the little JavaScript there is sorts and filters the table in place and moves
focus to a refused form's error summary.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.exceptions import Forbidden, Unauthorized

from events import dates, queries
from events.appending import append_event
from events.errors import DomainError, InvalidEvent, UnknownAuthority, UnknownEvent
from events.schemas import validate_new_event
from service.api.blueprint import services
from service.auth import check_token
from service.problems import handle_domain_error
from service.web import british_dates, charts, forms, tables
from service.web.error_pages import error_page, wants_html

bp = Blueprint("pages", __name__)
bp.add_app_template_filter(tables.event_title, "event_title")
bp.add_app_template_filter(british_dates.long_date, "long_date")
bp.add_app_template_filter(british_dates.long_timestamp, "long_timestamp")
bp.add_app_template_filter(british_dates.readable, "readable")


class BadDate(ValueError):
    """A date in the query string that is not YYYY-MM-DD."""


def _as_of() -> tuple[date, bool]:
    """The page's date (`as_of`, default today) and whether it was chosen."""
    text = (request.args.get("as_of") or "").strip()
    if not text:
        return services().today(), False
    try:
        return dates.parse_day(text), True
    except ValueError:
        raise BadDate(f"The date {text!r} is not a date: use YYYY-MM-DD, for example 2015-01-01.") from None


def _known_at() -> str | None:
    """The transaction time asked for (`known_at`: a date means the end of that day, UTC), or None for now."""
    text = (request.args.get("known_at") or "").strip()
    if not text:
        return None
    try:
        return dates.format_timestamp(dates.parse_timestamp(text))
    except ValueError:
        raise BadDate(f"The date {text!r} is not a date: use YYYY-MM-DD, for example 2018-03-01.") from None


@bp.errorhandler(UnknownAuthority)
@bp.errorhandler(UnknownEvent)
def not_found(error: DomainError):
    """Unknown authority or event: a page that says so and leads back (problem+json to a client that wants JSON)."""
    if not wants_html():
        return handle_domain_error(error)
    return error_page(404, error.title, error.detail)


@bp.errorhandler(BadDate)
def bad_date(error: BadDate):
    """A malformed as_of: say what was wrong and how to write it."""
    return error_page(400, "Not a date", str(error))


@bp.get("/")
def home():
    """Every authority in a sortable, filterable table, and the national picture on a date."""
    svc = services()
    as_of, chosen = _as_of()
    national = queries.national_status(svc.store, svc.registry, as_of, None)
    rows = [tables.authority_row(status) for status in national["authorities"]]
    filters = tables.filters_from(request.args)
    shown = tables.sort_rows(tables.filter_rows(rows, filters), request.args.get("sort"), request.args.get("dir"))
    return render_template(
        "home.html", rows=shown, total=len(rows), filters=filters, as_of=as_of, chosen=chosen,
        regions=sorted({r["region"] for r in rows if r["region"]}), columns=tables.COLUMNS,
        sort=request.args.get("sort") or "name", direction=request.args.get("dir") or "asc",
        chart=charts.national_grades(national["counts_by_grade"], as_of), counts=national["counts_by_grade"],
        grade_labels=charts.GRADE_LABELS)


@bp.get("/authorities/<slug>")
def authority(slug: str):
    """One authority's story on a date: judgements, events, concerns."""
    svc = services()
    record = queries.authority_or_404(svc.registry, slug)
    as_of, chosen = _as_of()
    known_at = _known_at()
    status = queries.status(svc.store, slug, as_of, known_at)
    judgements = queries.judgements(svc.store, slug, as_of, known_at, None)
    timeline = queries.timeline(svc.store, svc.registry, slug, known_at=known_at, end=as_of)
    concerns = queries.concerns(svc.store, slug, as_of, known_at, "all")
    query = {"as_of": as_of.isoformat()} if chosen else {}
    known = {"known_at": request.args["known_at"].strip()} if known_at else {}
    return render_template(
        "authority.html", authority=record, as_of=as_of, chosen=chosen, status=status, timeline=timeline,
        known_at=known.get("known_at", ""),
        judgements=[j for j in judgements if j["normalised_area"]], area_titles=charts.AREA_TITLES,
        kind_titles=charts.KIND_TITLES, concern_groups=tables.concern_groups(concerns),
        judgement_chart=charts.judgement_history(judgements, as_of), event_chart=charts.event_axis(timeline, as_of),
        names={a.slug: a.name for a in svc.registry.all()}, grade_labels=charts.GRADE_LABELS,
        data_links=[("Status as JSON", url_for("authorities.get_status", slug=slug, **query, **known)),
                    ("Timeline as JSON", url_for("authorities.get_timeline", slug=slug, **_to(query), **known)),
                    ("Timeline as CSV", url_for("authorities.get_timeline", slug=slug, format="csv", **_to(query), **known)),
                    ("Concerns as JSON", url_for("authorities.get_concerns", slug=slug, state="all", **query, **known))])


def _to(query: dict) -> dict:
    """The timeline API's end-date parameter for a page's as_of."""
    return {"to": query["as_of"]} if query else {}


@bp.get("/events/<event_id>")
def event(event_id: str):
    """One event in full, with its source and, where corrected or retracted, its history."""
    svc = services()
    found = queries.event(svc.store, event_id)
    record = svc.registry.get(found["authority"])
    return render_template("event.html", event=found, authority=record, kind_titles=charts.KIND_TITLES,
                           title=tables.event_title(found))


@bp.route("/authorities/<slug>/monitoring-visits/new", methods=["GET", "POST"])
def add_monitoring_visit(slug: str):
    """The form to add a monitoring visit; on success, 303 to the new event's page."""
    svc = services()
    record = queries.authority_or_404(svc.registry, slug)
    if request.method == "GET":
        values = forms.blank()
        values["payload.ordinal"] = _next_ordinal(queries.status(svc.store, slug, svc.today(), None))
        return _visit_form(record, values, {})
    values = forms.read(request.form)
    body = forms.append_request(values)
    # Every mistake at once: the event's fields and the token are checked before anything is appended.
    errors = _field_errors(body, values)
    token, token_errors = _token(svc.store, request.form.get("token") or "", slug)
    if errors or token_errors:
        return _visit_form(record, values, {**errors, **token_errors})
    try:
        result = append_event(svc.store, svc.registry, slug, body, recorded_by=token.name)
    except DomainError as exc:  # refused against the stream (e.g. the same event id with different fields)
        return _visit_form(record, values, forms.errors_by_field(exc.errors, values) or {forms.FORM_LEVEL: [exc.detail]})
    return redirect(url_for("pages.event", event_id=result.event.event_id), 303)


def _field_errors(body: dict, values: dict) -> dict[str, list[str]]:
    """The append request's validation errors (the API's own rules), by form field."""
    try:
        validate_new_event(body)
    except InvalidEvent as exc:
        return forms.errors_by_field(exc.errors, values)
    return {}


def _token(store, value: str, slug: str):
    """The token typed into the form, allowed to append here; or the error to show next to its field."""
    if not value.strip():
        return None, {"token": ["Enter your token (made with `timeline tokens create NAME`)."]}
    try:
        return check_token(store, value, slug), {}
    except Unauthorized:
        return None, {"token": ["This token is unknown or has been revoked."]}
    except Forbidden as exc:
        return None, {"token": [exc.description]}


def _next_ordinal(status: dict) -> str:
    """The next visit's number while under monitoring (the first after the inadequate judgement is 1), else blank."""
    monitoring = status["regime"]["monitoring"]
    if not monitoring:
        return ""
    return str((monitoring["last_visit"] or {}).get("ordinal", 0) + 1)


def _visit_form(record, values: dict, errors: dict):
    status = 422 if errors else 200
    return render_template("visit_form.html", authority=record, values=values, errors=errors,
                           slots=range(forms.FINDING_SLOTS), finding_fields=forms.finding_fields,
                           directions=forms.DIRECTIONS, form_level=forms.FORM_LEVEL,
                           label_of=forms.label_of), status
