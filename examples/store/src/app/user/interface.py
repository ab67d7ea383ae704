"""``/users``: the five auto-CRUD routes."""

from app.user.model import User
from loom.rest.autocrud import build_auto_routes
from loom.rest.model import RestInterface


class UserRestInterface(RestInterface[User]):
    prefix = "/users"
    tags = ("Users",)
    routes = build_auto_routes(User, ())
