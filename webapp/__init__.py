"""Plumb: researched answers with their sources."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import config, database
from webapp.converters import SlugConverter
from webapp.commands import Commands
from webapp.extensions import csrf, db, htmx, limiter, login_manager


def create_app(overrides: dict | None = None) -> Flask:
    """The application factory: settings from the environment, then `overrides`."""
    app = Flask(
        __name__,
        instance_path=str(config.INSTANCE),
        template_folder=str(config.ROOT / "templates"),
        static_folder=str(config.ROOT / "static"),
    )
    app.cli = Commands(app)  # `flask …` loads the commands; a server's workers never do
    app.url_map.converters["slug"] = SlugConverter
    app.config.from_mapping(config.from_environment())
    if overrides:
        app.config.update(overrides)
    config.check(app.config)
    if app.config["PROXY_COUNT"]:
        # Behind that many proxies, the client's address, scheme and host are the ones they
        # forwarded (and the host is then checked against TRUSTED_HOSTS like any other).
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    Path(app.instance_path).mkdir(exist_ok=True)
    from webapp.operations import instrument

    instrument.register(app)  # first: request ids, log lines and metrics around every other hook
    _extensions(app)
    _blueprints(app)
    _page_parts(app)
    _templates(app)
    from webapp.site import static_files

    static_files.register(app)  # last: WhiteNoise answers /static/ before every other wrapper
    return app


def _extensions(app: Flask) -> None:
    db.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    _login(app)
    database.configure(app)
    _search(app)


def _login(app: Flask) -> None:
    from webapp.accounts import sessions

    # The user is looked up only by templates that show who is logged in (flask-login's
    # own context processor loads it for every template): a page that never asks stays
    # the same for every reader, and may be cached (webapp/site/headers.py).
    login_manager.init_app(app, add_context_processor=False)
    app.jinja_env.globals["current_user"] = current_user
    login_manager.session_protection = "basic"
    login_manager.user_loader(sessions.load_user)
    login_manager.unauthorized_handler(sessions.unauthorized)


def _search(app: Flask) -> None:
    from flask_sqlalchemy.session import Session

    from webapp.search import engine, startup, tracking

    app.extensions["search"] = engine.create(app)
    tracking.listen(Session)
    startup.register(app)


def _blueprints(app: Flask) -> None:
    from webapp.accounts.routes import bp as accounts
    from webapp.answers.routes import bp as answers
    from webapp.graph.routes import bp as graph
    from webapp.search.routes import bp as search
    from webapp.site import bodies, errors, headers, hosts, origins, unavailable
    from webapp.site.routes import bp as site
    from webapp.support import routes as support
    from webapp.revisions.routes import bp as revisions
    from webapp.reports.routes import bp as reports
    from webapp.asking.routes import bp as asking
    from webapp.following.routes import bp as following
    from webapp.desk import home_routes, routes as desk_routes  # noqa: F401 - they add the desk's routes
    from webapp.desk.blueprint import bp as desk
    from webapp.feeds.routes import bp as feeds

    for blueprint in (accounts, answers, graph, search, site, support.bp, revisions, reports, asking, following, desk):
        app.register_blueprint(blueprint)
    app.register_blueprint(feeds)
    errors.register(app)
    hosts.register(app)
    unavailable.register(app)
    origins.register(app)
    bodies.register(app)  # after: its check runs first
    headers.register(app)


def _page_parts(app: Flask) -> None:
    """What graph, search, revisions and following add to the pages answers draws (webapp/answers/parts.py)."""
    from webapp.answers import parts
    from webapp.graph import page_parts as graph_parts
    from webapp.following import page_parts as following_parts
    from webapp.revisions import page_parts as revision_parts
    from webapp.search import page_parts as search_parts

    parts.add(app, question=graph_parts.on_question, shared=graph_parts.went_on, home=graph_parts.on_home)
    parts.add(app, content=search_parts.on_question, settled=search_parts.settled)
    parts.add(app, content=revision_parts.on_question)
    parts.add(app, question=following_parts.on_question)


def _templates(app: Flask) -> None:
    from webapp.templating import register

    register(app)
    app.jinja_env.globals.update(site_name=app.config["SITE_NAME"])
