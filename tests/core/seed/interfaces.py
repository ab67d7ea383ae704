"""Seed 000/001 REST interfaces, through loom.rest's seed import paths."""

from __future__ import annotations

from loom.rest.autocrud import build_auto_routes
from loom.rest.model import PaginationMode, RestInterface, RestRoute

from .models import Address, Product, User
from .use_cases import (
    CreateAddressUseCase,
    DispatchRestockEmailUseCase,
    ListAddressesUseCase,
    ListLowStockProductsUseCase,
    RestockWorkflowUseCase,
)


class UserRestInterface(RestInterface[User]):
    prefix = "/users"
    tags = ("Users",)
    routes = build_auto_routes(User, ())


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
        *build_auto_routes(Product, ()),
    )


class AddressRestInterface(RestInterface[Address]):
    prefix = "/users"
    tags = ("UserAddresses",)
    routes = (
        RestRoute(
            use_case=CreateAddressUseCase,
            method="POST",
            path="/{user_id}/addresses/",
            status_code=201,
        ),
        RestRoute(use_case=ListAddressesUseCase, method="GET", path="/{user_id}/addresses/"),
    )
