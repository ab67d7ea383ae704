"""Nested routes mirroring the URL hierarchy (seed 001)."""

from app.address.model import Address
from app.address.use_cases import (
    CreateAddressUseCase,
    DeleteAddressUseCase,
    GetAddressUseCase,
    ListAddressesUseCase,
    UpdateAddressUseCase,
)
from loom.rest.model import RestInterface, RestRoute


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
        RestRoute(
            use_case=UpdateAddressUseCase, method="PATCH", path="/{user_id}/addresses/{address_id}"
        ),
        RestRoute(
            use_case=DeleteAddressUseCase, method="DELETE", path="/{user_id}/addresses/{address_id}"
        ),
    )
