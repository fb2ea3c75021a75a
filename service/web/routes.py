"""What every page shares that Flask serves: the layout's templates and the static files."""

from __future__ import annotations

from flask import Blueprint

blp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                static_url_path="/static/web")  # fmt: skip
