"""Models: users (unique email), addresses nested under users (cascade), products."""

from __future__ import annotations

from datetime import date

from loom.core.model import BaseModel, ColumnField, OnDelete, TimestampedModel


class User(TimestampedModel):
    __tablename__ = "rest_users"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    full_name: str = ColumnField(length=120)
    email: str = ColumnField(length=255, unique=True, index=True)


class Address(BaseModel):
    __tablename__ = "rest_addresses"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    user_id: int = ColumnField(foreign_key="rest_users.id", on_delete=OnDelete.CASCADE, index=True)
    label: str = ColumnField(length=80)
    city: str = ColumnField(length=120)
    zip_code: str = ColumnField(length=20)


class Product(TimestampedModel):
    __tablename__ = "rest_products"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    sku: str = ColumnField(length=64, unique=True, index=True)
    name: str = ColumnField(length=150)
    category: str = ColumnField(length=120, index=True)
    price_cents: int = ColumnField()
    stock: int = ColumnField()
    weight_kg: float | None = ColumnField(default=None)
    active: bool = ColumnField(default=True)
    released_on: date | None = ColumnField(default=None)
