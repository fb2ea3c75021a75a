"""Fiducia: call-quality scoring and quality-based payouts."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib.resources import files
from typing import Any

from flask import Flask, Response, request, send_from_directory
from sqlalchemy.orm import Session
from werkzeug.middleware.proxy_fix import ProxyFix

from service.config import (
    checked_secret_key,
    default_database_url,
    from_environment,
    instance_path,
    private_database,
)
from service.database import engine as db
from service.database import outages
from service.edge import auth, errors, sessions
from service.edge.actors import Actor
from service.edge.schemas import (
    BODY_LIMIT,
    Api,
    IdConverter,
    VersionConverter,
    id_parameter_schema,
    requested_view,
    version_parameter_schema,
)
from service.language import i18n

API_PREFIX = "/api/v1"
DOCS_ASSETS = f"{API_PREFIX}/docs/assets/"
DOCS_ENDPOINT = "api-docs.openapi_swagger_ui"
# Swagger UI's stylesheet draws its icons as data: images; its scripts fetch the spec.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application; `config` overrides what the environment says."""
    app = Flask(__name__, instance_path=instance_path(), instance_relative_config=True)
    app.config.from_mapping(from_environment(app.instance_path))
    app.config.update(
        API_TITLE="Fiducia",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=DOCS_ASSETS,
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},  # no badge fetched from elsewhere
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
    )
    if config:
        app.config.update(config)
    app.config["SECRET_KEY"] = checked_secret_key(app.config["SECRET_KEY"], app.instance_path)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    if app.config["DATABASE_URL"] == default_database_url(app.instance_path):
        # The embedded SQLite file lives there, with password hashes and webhook secrets.
        private_database(app.instance_path)
    logging.basicConfig(level=app.config["LOG_LEVEL"])

    sessions.init_app(app)
    _body_limits(app)  # before anything reads a request's body
    auth.init_app(app, _authenticate)
    i18n.init_app(app)
    api_blueprints = _register_api(app)
    _register_pages(app, api_blueprints)
    errors.register(app)
    _register_docs_assets(app)
    _secure_headers(app)

    @app.get("/health")
    def health() -> Any:
        """Answer 200 when the database answers and has room; 503 with the reason if not."""
        outage = outages.health(db.get_engine(app))
        if outage is not None:
            raise errors.Unavailable(outage)
        return {"status": "ok"}

    return app


def _authenticate(session: Session, header: str | None) -> Actor:
    """Return the actor a request's `Authorization` header names (the accounts domain says)."""
    from service.accounts.service import authenticate

    return authenticate(session, header)


def _body_limits(app: Flask) -> None:
    """Give the views marked with `body_limit` their own limit, before anything reads a body."""

    @app.before_request
    def _limit_body() -> None:
        setting = getattr(requested_view(), BODY_LIMIT, None)
        if setting is not None:
            request.max_content_length = app.config[setting]


def _register_api(app: Flask) -> tuple[Any, ...]:
    from service.accounts.routes import blp as accounts
    from service.agreements.routes import blp as agreements
    from service.calibration.routes import blp as calibration
    from service.calls.routes import blp as calls
    from service.disputes.routes import blp as disputes
    from service.erasure.routes import blp as erasure
    from service.evaluations.routes import blp as evaluations
    from service.forms.routes import blp as forms
    from service.imports.qm.routes import blp as qm_imports
    from service.jobs.routes import blp as jobs
    from service.notices.routes import blp as notices
    from service.scorecards.routes import blp as scorecards
    from service.statements.routes import blp as statements
    from service.surveys.routes import blp as surveys
    from service.volumes.routes import blp as volumes

    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["version"] = VersionConverter
    api = Api(app)
    api.register_converter(IdConverter, id_parameter_schema)
    api.register_converter(VersionConverter, version_parameter_schema)
    blueprints = (
        accounts,
        forms,
        agreements,
        evaluations,
        disputes,
        volumes,
        calls,
        surveys,
        scorecards,
        statements,
        jobs,
        notices,
        calibration,
        erasure,
        qm_imports,
    )
    for blueprint in blueprints:
        api.register_blueprint(blueprint, url_prefix=API_PREFIX)
    app.extensions["fiducia.api"] = api
    return blueprints


def _register_docs_assets(app: Flask) -> None:
    """Serve Swagger UI's files from the installed package, so the docs need no CDN."""
    dist = str(files("flask_swagger_ui") / "dist")

    @app.get(f"{DOCS_ASSETS}<path:filename>")
    def docs_asset(filename: str) -> Response:
        return send_from_directory(dist, filename)


def _secure_headers(app: Flask) -> None:
    """Send every response with nosniff, a frame policy and a Content-Security-Policy."""
    from service.statements.reports import printable_style_source

    page_policy = (
        f"default-src 'self'; style-src 'self' {printable_style_source()}; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        docs = request.endpoint == DOCS_ENDPOINT
        response.headers["Content-Security-Policy"] = DOCS_POLICY if docs else page_policy
        if errors.wants_page():
            response.vary.add("Accept-Language")  # a page's language may come from the browser
        return response


def _register_pages(app: Flask, api_blueprints: tuple[Any, ...]) -> None:
    from flask_wtf.csrf import CSRFProtect

    from service.accounts.pages import blp as account_pages
    from service.agreements.service import shown_zone
    from service.calibration.pages import blp as calibration_pages
    from service.calls.pages import blp as call_pages
    from service.calls.upload_pages import blp as call_upload_pages
    from service.disputes.pages import blp as dispute_pages
    from service.evaluations.pages import blp as evaluation_pages
    from service.evaluations.upload_pages import blp as upload_pages
    from service.forms.pages import blp as form_pages
    from service.jobs.pages import blp as job_pages
    from service.privacy.policy import seen_agent, seen_team
    from service.scorecards.pages import blp as scorecard_pages
    from service.statements.pages import blp as statement_pages
    from service.web import templating
    from service.web.routes import blp as web

    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session
    csrf = CSRFProtect(app)
    for blueprint in api_blueprints:
        csrf.exempt(blueprint)  # the API authenticates with bearer tokens, not cookies
    for pages in (
        web,
        scorecard_pages,
        evaluation_pages,
        upload_pages,
        dispute_pages,
        statement_pages,
        form_pages,
        call_pages,
        call_upload_pages,
        job_pages,
        calibration_pages,
    ):
        app.register_blueprint(pages)
    app.register_blueprint(account_pages)
    templating.register(app, zone=shown_zone, agent_of=seen_agent, team_of=seen_team)
