"""Protocol-level checks of the backing services; they also prove the marker gate works."""

from __future__ import annotations

import socket

import asyncpg
import pytest

POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def _recv_at_least(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.postgres
async def test_postgres_answers_select_1() -> None:
    connection = await asyncpg.connect(POSTGRES_DSN, timeout=5)
    try:
        assert await connection.fetchval("SELECT 1") == 1
    finally:
        await connection.close()


@pytest.mark.redis
def test_redis_answers_ping() -> None:
    with socket.create_connection(("127.0.0.1", 6379), timeout=5) as sock:
        sock.sendall(b"PING\r\n")
        reply = _recv_at_least(sock, len(b"+PONG\r\n"))
    assert reply.startswith(b"+PONG")


@pytest.mark.rabbitmq
def test_rabbitmq_answers_amqp_header_with_connection_start() -> None:
    with socket.create_connection(("127.0.0.1", 5672), timeout=5) as sock:
        sock.sendall(b"AMQP\x00\x00\x09\x01")
        # frame type (1) + channel (2) + size (4) + class id (2) + method id (2)
        reply = _recv_at_least(sock, 11)
    assert reply[0] == 0x01, f"expected a method frame, got {reply[:16]!r}"
    assert reply[1:3] == b"\x00\x00", "connection.start arrives on channel 0"
    assert reply[7:11] == b"\x00\x0a\x00\x0a", "expected connection.start (class 10, method 10)"
