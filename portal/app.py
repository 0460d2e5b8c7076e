"""The ASGI app (`thidua serve`, or `uvicorn portal.app:create_app --factory`)."""

import asyncio
import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime

import anyio
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from config.settings import Settings, get_settings
from models.db import make_engine
from portal import (
    admin,
    admin_audit,
    admin_mail,
    admin_plan,
    admin_unit,
    admin_year_end,
    api,
    ballots,
    downloads,
    errors,
    feeds,
    headers,
    home,
    limits,
    pages,
    sign_in,
)
from portal.feed_cache import FeedCache

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def create_app(
    settings: Settings | None = None,
    clock: Clock = sign_in.system_clock,
    *,
    on_plan_change: Callable[[Engine], None] | None = None,
) -> FastAPI:
    """The app; `clock` gives each request's instant where sessions and sign-in delays need it;
    `on_plan_change(engine)` runs after the plan page applied a plan (`thidua serve` brings the
    Prefect schedules in step with it, as `thidua plan load` does)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = app.state.engine = make_engine(settings.resolved_database_url)
        app.state.settings = settings
        cache = app.state.feeds = FeedCache()

        async def refresh() -> None:
            try:
                await anyio.to_thread.run_sync(cache.refresh, engine)
            except SQLAlchemyError as error:
                log.warning("feeds not refreshed, serving the last good copy: %s", error)

        stopping = asyncio.Event()

        async def keep_fresh() -> None:
            while True:
                try:
                    await asyncio.wait_for(stopping.wait(), settings.feed_refresh_seconds)
                    return
                except TimeoutError:
                    await refresh()

        await refresh()
        task = asyncio.create_task(keep_fresh())
        yield
        # Let a refresh in progress finish in its thread: cancelling would leave its database
        # connection checked out while the engine is disposed.
        stopping.set()
        await task
        engine.dispose()

    app = FastAPI(
        title="thidua",
        description="API nộp hồ sơ thi đua của các đơn vị (cùng đường dẫn riêng như trang nộp hồ sơ).",
        lifespan=lifespan,
    )
    app.router.routes.extend(feeds.routes)
    app.include_router(home.router)
    app.include_router(pages.router)
    app.include_router(downloads.router)
    app.include_router(ballots.router)
    app.include_router(api.router)
    app.include_router(sign_in.router)
    app.include_router(admin.router)
    app.include_router(admin_audit.router)
    app.include_router(admin_mail.router)
    app.include_router(admin_plan.router)
    app.include_router(admin_unit.router)
    app.include_router(admin_year_end.router)
    app.state.clock = clock
    app.state.on_plan_change = on_plan_change
    errors.install(app)
    sign_in.install(app)
    app.add_middleware(limits.BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(headers.SecurityHeaders)
    return app
