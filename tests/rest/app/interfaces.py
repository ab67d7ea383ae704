"""The REST interfaces of the conformance app."""

from __future__ import annotations

from loom.core.security import ApiKeyAuth, BearerTokenAuth
from loom.rest.autocrud import build_auto_routes
from loom.rest.model import PaginationMode, RestInterface, RestRoute

from .models import Address, Product, User
from .use_cases import (
    API_KEYS,
    AdminOnly,
    BrokenReportUseCase,
    CreateAddressUseCase,
    GetAddressUseCase,
    ListAddressesUseCase,
    ListLowStockProductsUseCase,
    RegisterUserUseCase,
    RestockProductUseCase,
    WhoAmIUseCase,
    verify_token,
)


class UserRestInterface(RestInterface[User]):
    prefix = "/users"
    tags = ("Users",)
    routes = (
        RestRoute(use_case=RegisterUserUseCase, method="POST", path="/register", status_code=201),
        *build_auto_routes(User, ()),
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
        RestRoute(
            use_case=GetAddressUseCase, method="GET", path="/{user_id}/addresses/{address_id}"
        ),
    )


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
            use_case=RestockProductUseCase,
            method="POST",
            path="/{product_id}/restock",
            summary="Request a restock",
            status_code=202,
        ),
        *build_auto_routes(Product, ()),
    )


class SecureRestInterface(RestInterface[User]):
    prefix = "/secure"
    tags = ("Auth",)
    auth = BearerTokenAuth(verify_token)
    routes = (
        RestRoute(use_case=WhoAmIUseCase, method="GET", path="/me", operation_id="who_am_i"),
        RestRoute(
            use_case=WhoAmIUseCase,
            method="GET",
            path="/service",
            auth=ApiKeyAuth(API_KEYS),
            operation_id="who_am_i_service",
        ),
        RestRoute(
            use_case=WhoAmIUseCase,
            method="GET",
            path="/admin",
            auth=AdminOnly,
            operation_id="who_am_i_admin",
        ),
    )


class ReportRestInterface(RestInterface[Product]):
    prefix = "/reports"
    tags = ("Reports",)
    routes = (RestRoute(use_case=BrokenReportUseCase, method="GET", path="/broken"),)
