"""Rows the jobs write: one effect per key, one note per failure callback."""

from __future__ import annotations

from loom.core.model import BaseModel, ColumnField


class Effect(BaseModel):
    __tablename__ = "effects"
    key: str = ColumnField(primary_key=True, length=64)
    worker: int = ColumnField(default=0)


class FailureNote(BaseModel):
    __tablename__ = "failure_notes"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    job_id: str = ColumnField(length=32, index=True)
    error: str = ColumnField(length=500)
