"""Every component of the store app, listed explicitly (``discovery.mode: manifest``)."""

from app.address.interface import AddressRestInterface
from app.address.model import Address
from app.product.callbacks import RestockEmailFailureCallback, RestockEmailSuccessCallback
from app.product.interface import JobRestInterface, ProductRestInterface
from app.product.jobs import BuildProductSummaryJob, SendRestockEmailJob, SyncProductToErpJob
from app.product.model import Product
from app.product.repository import ProductRepository
from app.product.use_cases import (
    BuildProductSummaryUseCase,
    DispatchRestockEmailUseCase,
    ListLowStockProductsUseCase,
    RestockWorkflowUseCase,
)
from app.user.interface import UserRestInterface
from app.user.model import User

MODELS = [User, Address, Product]
USE_CASES = [
    DispatchRestockEmailUseCase,
    ListLowStockProductsUseCase,
    RestockWorkflowUseCase,
    BuildProductSummaryUseCase,
]
JOBS = [SendRestockEmailJob, BuildProductSummaryJob, SyncProductToErpJob]
CALLBACKS = [RestockEmailSuccessCallback, RestockEmailFailureCallback]
INTERFACES = [UserRestInterface, AddressRestInterface, ProductRestInterface, JobRestInterface]
REPOSITORIES = [ProductRepository]
