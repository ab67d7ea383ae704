"""Job callbacks, built by DI; they call back into the application (seed 001).

A job runs at least once and a product's restock email may be sent again, so the
callbacks mark the category idempotently: the suffix is added once, and the marked
category still fits its column.
"""

from typing import Any

from app.product.model import Product
from loom.core.use_case.invoker import ApplicationInvoker

CATEGORY_LENGTH = 120  # Product.category's column length


def marked(category: str, suffix: str) -> str:
    """``category`` ending with ``suffix`` once, at most ``CATEGORY_LENGTH`` characters."""
    if category.endswith(suffix):
        return category
    return category[: CATEGORY_LENGTH - len(suffix)] + suffix


class RestockEmailSuccessCallback:
    def __init__(self, app: ApplicationInvoker) -> None:
        self._app = app

    async def on_success(self, job_id: str, result: Any, **context: Any) -> None:
        if not bool(result):
            return
        product_id = context.get("product_id")
        entity = self._app.entity(Product)
        product = await entity.get(params={"id": product_id})
        if product and not product.category.endswith("-restock-notified"):
            await entity.update(
                params={"id": product_id},
                payload={"category": marked(product.category, "-restock-notified")},
            )


class RestockEmailFailureCallback:
    def __init__(self, app: ApplicationInvoker) -> None:
        self._app = app

    async def on_failure(self, job_id: str, error: str, **context: Any) -> None:
        product_id = context.get("product_id")
        entity = self._app.entity(Product)
        product = await entity.get(params={"id": product_id})
        if product and not product.category.endswith("-restock-failed"):
            await entity.update(
                params={"id": product_id},
                payload={"category": marked(product.category, "-restock-failed")},
            )
