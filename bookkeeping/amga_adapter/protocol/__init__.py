"""The AMGA wire protocol: pure parsing and formatting, no I/O. Imports nothing of ours
but ``bookkeeping.errors``; the server and the client both build on it."""

from bookkeeping.amga_adapter.protocol import requests, responses
from bookkeeping.amga_adapter.protocol.errors import (
    CommandAborted,
    LineTooLong,
    MalformedRequest,
    NotLoggedIn,
    ProtocolError,
    UnknownCommand,
    UploadError,
)
from bookkeeping.amga_adapter.protocol.handshake import (
    Context,
    Options,
    parse_context,
    parse_options,
)
from bookkeeping.amga_adapter.protocol.quoting import (
    Token,
    escape_value,
    quote,
    tokenize,
    unescape_value,
)
from bookkeeping.amga_adapter.protocol.requests import (
    COMMANDS,
    NO_REPLY_COMMANDS,
    READ_ONLY_COMMANDS,
    Request,
    command_word,
    parse_request,
)

__all__ = [
    "COMMANDS",
    "CommandAborted",
    "Context",
    "LineTooLong",
    "MalformedRequest",
    "NO_REPLY_COMMANDS",
    "NotLoggedIn",
    "Options",
    "ProtocolError",
    "READ_ONLY_COMMANDS",
    "Request",
    "Token",
    "UnknownCommand",
    "UploadError",
    "command_word",
    "escape_value",
    "parse_context",
    "parse_options",
    "parse_request",
    "quote",
    "requests",
    "responses",
    "tokenize",
    "unescape_value",
]
