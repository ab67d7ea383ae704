"""Product jobs (seed 001): they run on the inline backend or on Dramatiq workers."""

from app.product.model import Product
from loom.core.command import Command
from loom.core.job.job import Job
from loom.core.use_case import Input, LoadById


class SendRestockEmailJobCommand(Command, frozen=True):
    product_id: int
    recipient_email: str
    force_fail: bool = False


class SendRestockEmailJob(Job[bool]):
    __queue__ = "notifications"

    async def execute(
        self,
        product_id: int,
        cmd: SendRestockEmailJobCommand = Input(),
        product: Product = LoadById(Product, by="product_id"),
    ) -> bool:
        if cmd.force_fail:
            raise RuntimeError("forced restock email failure")
        if product.stock > 0:
            return False
        # send email to cmd.recipient_email ...
        return True


class BuildProductSummaryJob(Job[str]):
    __queue__ = "analytics"

    async def execute(
        self,
        product_id: int,
        product: Product = LoadById(Product, by="product_id"),
    ) -> str:
        availability = "in stock" if product.stock > 0 else "out of stock"
        return f"{product.sku} ({product.name}) is {availability}."


class SyncProductToErpJob(Job[str]):
    __queue__ = "erp"

    async def execute(
        self,
        product_id: int,
        product: Product = LoadById(Product, by="product_id"),
    ) -> str:
        # push the product to the ERP; a retry sends the same document again (idempotent)
        return f"erp:{product.sku}:{product.stock}"
