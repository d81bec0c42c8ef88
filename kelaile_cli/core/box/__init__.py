"""The box's host protocol, sans-IO: framing (COBS + CRC-32), messages (CBOR) and sessions.

See docs/box-protocol.md for the wire format and every message.
"""
