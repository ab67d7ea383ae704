"""Mixed auto-CRUD and custom routes in one declaration (seed 001)."""

from app.product.model import Product
from app.product.use_cases import (
    DispatchRestockEmailUseCase,
    GetJobStatusUseCase,
    ListLowStockProductsUseCase,
    RestockWorkflowUseCase,
)
from loom.rest.autocrud import build_auto_routes
from loom.rest.model import PaginationMode, RestInterface, RestRoute


class ProductRestInterface(RestInterface[Product]):
    prefix = "/products"
    tags = ("Products",)
    pagination_mode = PaginationMode.CURSOR
    routes = (
        RestRoute(
            use_case=ListLowStockProductsUseCase,
            method="GET",
            path="/low-stock",
            summary="List low stock products",
        ),
        RestRoute(
            use_case=DispatchRestockEmailUseCase,
            method="POST",
            path="/{product_id}/jobs/restock-email",
            summary="Dispatch restock email job",
            status_code=202,
        ),
        RestRoute(
            use_case=RestockWorkflowUseCase,
            method="POST",
            path="/{product_id}/workflows/restock",
            summary="Run restock workflow",
            status_code=202,
        ),
        *build_auto_routes(Product, ()),  # GET, GET/:id, POST, PATCH/:id, DELETE/:id
    )


class JobRestInterface(RestInterface[Product]):
    prefix = "/jobs"
    tags = ("Jobs",)
    routes = (
        RestRoute(
            use_case=GetJobStatusUseCase, method="GET", path="/{job_id}", summary="Job status"
        ),
    )
