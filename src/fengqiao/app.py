"""The FastAPI application: create_app(settings) builds everything; nothing runs at import."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from fengqiao import i18n
from fengqiao.accounts import pages as account_pages
from fengqiao.accounts import routes as account_routes
from fengqiao.audit import pages as audit_pages
from fengqiao.audit import routes as audit_routes
from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
from fengqiao.disputes import pages as dispute_pages
from fengqiao.disputes import roster_pages as dispute_roster_pages
from fengqiao.disputes import routes as dispute_routes
from fengqiao.errors import DomainError, Forbidden
from fengqiao.fraud import pages as fraud_pages
from fengqiao.fraud import routes as fraud_routes
from fengqiao.fraud.jobs import run_watch
from fengqiao.grids import pages as grid_pages
from fengqiao.grids import routes as grid_routes
from fengqiao.incidents import metrics_routes
from fengqiao.incidents import pages as incident_pages
from fengqiao.incidents import routes as incident_routes
from fengqiao.live import routes as live_routes
from fengqiao.live.bus import EventBus
from fengqiao.migrate import current_revision, head_revision
from fengqiao.notify import pages as notify_pages
from fengqiao.notify import routes as notify_routes
from fengqiao.notify.jobs import run_sender
from fengqiao.org import pages as org_pages
from fengqiao.org import routes as org_routes
from fengqiao.registry import pages as registry_pages
from fengqiao.registry import routes as registry_routes
from fengqiao.tasks import pages as task_pages
from fengqiao.tasks import routes as task_routes
from fengqiao.tasks.jobs import run_scheduler
from fengqiao.web import LANG_COOKIE, LoginRequired, make_templates, render

STATIC_DIR = Path(__file__).parent / "static"
API_DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fengqiao API</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/js/api-docs.js"></script></body></html>"""

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=(self)",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", "text/html"
    )


def create_app(settings: Settings) -> FastAPI:
    if not settings.secret_key:
        settings = settings.model_copy(update={"secret_key": secrets.token_urlsafe(32)})
    engine = make_engine(settings)
    audit.install_session_hooks()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.bus.start()
        demo_task = None
        if settings.demo_stream:
            from fengqiao.demo.stream import run_stream

            demo_task = asyncio.get_running_loop().create_task(
                run_stream(app.state.sessionmaker, settings)
            )
        # Periodic jobs: each finishes its round before the app shuts its engine.
        stop_jobs = asyncio.Event()
        jobs = [
            asyncio.get_running_loop().create_task(job(app.state.sessionmaker, settings, stop_jobs))
            for enabled, job in (
                (settings.task_scheduler, run_scheduler),
                (settings.fraud_escalation, run_watch),
                (settings.notify_sender, run_sender),
            )
            if enabled
        ]
        yield
        stop_jobs.set()
        for job_task in jobs:
            await job_task
        if demo_task is not None:
            demo_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await demo_task
        await app.state.bus.stop()
        engine.dispose()

    app = FastAPI(
        title="fengqiao 枫桥",
        version="0.1.0",
        description="Prevention-first police station platform. 预防警务派出所平台。",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.templates = make_templates()
    app.state.bus = EventBus(app.state.sessionmaker)

    @app.middleware("http")
    async def language_and_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        lang = i18n.parse_language(request.cookies.get(LANG_COOKIE)) or settings.language
        i18n.set_language(lang)
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_html(request):
            target = quote(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
            return RedirectResponse(f"/login?next={target}", status_code=303)
        return JSONResponse(
            {"detail": exc.message}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> Response:
        principal = getattr(request.state, "principal", None)
        if isinstance(exc, Forbidden) and principal is not None:
            with unit_of_work(app.state.sessionmaker) as session:
                audit.record(
                    session,
                    actor=principal.actor,
                    action=AuditAction.ACCESS_DENIED,
                    object_type="route",
                    object_id=request.url.path,
                    outcome="denied",
                )
        if _wants_html(request):
            return render(request, "error.html", status_code=exc.status, message=exc.message)
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    @app.get("/healthz", tags=["system"])
    def healthz() -> JSONResponse:
        """Database reachability and migration state."""
        body: dict[str, Any] = {"status": "ok", "database": settings.database_url.split(":")[0]}
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            current, head = current_revision(engine), head_revision()
            body["schema"] = {"current": current, "head": head, "up_to_date": current == head}
            if current != head:
                body["status"] = "degraded"
        except Exception as exc:  # health must report, not raise, whatever the driver throws
            body.update(status="error", error=type(exc).__name__)
            return JSONResponse(body, status_code=503)
        return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)

    @app.get("/api/v1/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """Swagger UI served from our own static files."""
        return HTMLResponse(API_DOCS_HTML)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(metrics_routes.router)  # first: /incidents/{incident_id} would take it
    # Grid planning first: /grids/coverage would otherwise match /grids/{grid_id}.
    for module in (
        grid_routes,
        account_routes,
        org_routes,
        audit_routes,
        incident_routes,
        live_routes,
        task_routes,
        registry_routes,
        fraud_routes,
        notify_routes,
        dispute_routes,
    ):
        app.include_router(module.router, prefix="/api/v1")
    for module in (
        grid_pages,
        account_pages,
        org_pages,
        audit_pages,
        incident_pages,
        task_pages,
        registry_pages,
        fraud_pages,
        notify_pages,
        dispute_roster_pages,
        dispute_pages,
    ):
        app.include_router(module.router)
    return app
