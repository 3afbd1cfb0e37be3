"""A printable sheet of QR codes as one PNG, written directly (zlib + PNG chunks): no image library needed."""

from __future__ import annotations

import struct
import zlib

import segno

MODULE_PX = 6  # pixels per QR module: ~3 cm codes at 300 dpi for a typical claim URL
QUIET_MODULES = 4  # the white border QR readers need
GAP_PX = 36  # cutting margin between codes


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def sheet_png(urls: list[str], columns: int = 4) -> bytes:
    matrices = [segno.make(url, error="m").matrix for url in urls]
    side = max(len(m) for m in matrices) + 2 * QUIET_MODULES
    cell = side * MODULE_PX
    columns = max(1, min(columns, len(matrices)))
    rows = (len(matrices) + columns - 1) // columns
    width = columns * cell + (columns + 1) * GAP_PX
    height = rows * cell + (rows + 1) * GAP_PX
    canvas = [bytearray(b"\xff" * width) for _ in range(height)]
    for index, matrix in enumerate(matrices):
        top = GAP_PX + (index // columns) * (cell + GAP_PX) + QUIET_MODULES * MODULE_PX
        left = GAP_PX + (index % columns) * (cell + GAP_PX) + QUIET_MODULES * MODULE_PX
        for y, row in enumerate(matrix):
            for x, dark in enumerate(row):
                if dark:
                    for dy in range(MODULE_PX):
                        line = canvas[top + y * MODULE_PX + dy]
                        start = left + x * MODULE_PX
                        line[start:start + MODULE_PX] = b"\x00" * MODULE_PX
    raw = b"".join(b"\x00" + bytes(line) for line in canvas)  # filter type 0 per scanline
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b""))
