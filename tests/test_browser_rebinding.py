"""DNS rebinding: the server's WebSocket, which drives every page, answers only the host names it is served
under, so a page that points its own name at 127.0.0.1 cannot talk to the app."""

import base64
import os
import socket
from urllib.parse import urlparse

import pytest

from browser import streamlit_server

pytestmark = pytest.mark.browser  # it starts the real server


def handshake_status(url: str, host: str) -> str:
    """The status line of a WebSocket handshake on the app's stream, sent to 127.0.0.1 with this Host header
    and an Origin that matches it (as a rebound page's would)."""
    port = urlparse(url).port
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}:{port}\r\nOrigin: http://{host}:{port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: streamlit\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request.encode())
        return sock.recv(4096).decode(errors="replace").split("\r\n")[0]


def test_the_apps_websocket_answers_its_own_host_names_only():
    with streamlit_server() as url:
        assert " 101 " in handshake_status(url, "127.0.0.1")  # the app as a person opens it
        assert " 101 " in handshake_status(url, "localhost")
        refused = handshake_status(url, "evil.example")
        assert " 101 " not in refused and refused.startswith("HTTP/1.1 4"), refused
