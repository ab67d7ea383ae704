"""The ASGI app: ``uvicorn app.main:app`` from examples/store (or ``make run``)."""

from loom.rest.litestar import create_app

app = create_app("config/api.yaml")
