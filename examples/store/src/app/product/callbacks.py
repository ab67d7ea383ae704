"""Job callbacks, built by DI; they call back into the application (seed 001)."""

from typing import Any

from app.product.model import Product
from loom.core.use_case.invoker import ApplicationInvoker


class RestockEmailSuccessCallback:
    def __init__(self, app: ApplicationInvoker) -> None:
        self._app = app

    async def on_success(self, job_id: str, result: Any, **context: Any) -> None:
        if not bool(result):
            return
        product_id = context.get("product_id")
        entity = self._app.entity(Product)
        product = await entity.get(params={"id": product_id})
        if product:
            await entity.update(
                params={"id": product_id},
                payload={"category": f"{product.category}-restock-notified"},
            )


class RestockEmailFailureCallback:
    def __init__(self, app: ApplicationInvoker) -> None:
        self._app = app

    async def on_failure(self, job_id: str, error: str, **context: Any) -> None:
        product_id = context.get("product_id")
        entity = self._app.entity(Product)
        product = await entity.get(params={"id": product_id})
        if product:
            await entity.update(
                params={"id": product_id},
                payload={"category": f"{product.category}-restock-failed"},
            )
