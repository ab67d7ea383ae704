"""Seed 000/001 models, as the seeds write them."""

from __future__ import annotations

from loom.core.model import BaseModel, ColumnField, OnDelete, TimestampedModel


class User(TimestampedModel):
    __tablename__ = "users"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    full_name: str = ColumnField(length=120)
    email: str = ColumnField(length=255, unique=True, index=True)


class Address(BaseModel):
    __tablename__ = "addresses"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    user_id: int = ColumnField(foreign_key="users.id", on_delete=OnDelete.CASCADE, index=True)
    label: str = ColumnField(length=80)
    street: str = ColumnField(length=255)
    city: str = ColumnField(length=120)
    country: str = ColumnField(length=120)
    zip_code: str = ColumnField(length=20)


class Product(TimestampedModel):
    __tablename__ = "products"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    sku: str = ColumnField(length=64, unique=True, index=True)
    name: str = ColumnField(length=150)
    category: str = ColumnField(length=120, index=True)
    price_cents: int = ColumnField()
    stock: int = ColumnField()


class Record(BaseModel):
    __tablename__ = "records"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    email: str = ColumnField(length=255)
