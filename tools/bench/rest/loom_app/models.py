"""``Record`` (a few columns, timestamps) and its ``Note`` children, loaded in ``detail``."""

from __future__ import annotations

from loom.core.model import BaseModel, ColumnField, OnDelete, OneToMany, TimestampedModel


class Note(BaseModel):
    __tablename__ = "bench_notes"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    record_id: int = ColumnField(
        foreign_key="bench_records.id", on_delete=OnDelete.CASCADE, index=True
    )
    title: str = ColumnField(length=120)
    body: str = ColumnField(length=500)


class Record(TimestampedModel):
    __tablename__ = "bench_records"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    request_id: str = ColumnField(length=64, index=True)
    full_name: str = ColumnField(length=120)
    email: str = ColumnField(length=255)
    score: int = ColumnField(default=0)
    notes: list[Note] = OneToMany("Note", foreign_key="record_id", profiles=("detail",))
