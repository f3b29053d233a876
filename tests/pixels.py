"""Reading a screenshot's pixels without an imaging library: Chromium's PNGs are 8-bit
RGB or RGBA, not interlaced, so zlib and the five PNG filters are enough."""
from __future__ import annotations

import struct
import zlib


def rows(png: bytes) -> list[list[tuple[int, ...]]]:
    """The pixels of a PNG, row by row, as (r, g, b[, a]) tuples."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, data, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        chunk = png[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            data += chunk
    raw, stride, out, previous = zlib.decompress(data), width * channels, [], bytearray(width * channels)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                nearest = min((abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - corner), 2, corner))[2]
                line[i] = (line[i] + nearest) & 255
        out.append([tuple(line[x:x + channels]) for x in range(0, stride, channels)])
        previous = line
    return out


def marked_from_left(png: bytes) -> int:
    """How many pixels from the left, along the middle row, differ from the rightmost one
    (the empty track): the visible length of a bar's value."""
    pixels = rows(png)
    middle = pixels[len(pixels) // 2]
    track = middle[-1]
    n = 0
    while n < len(middle) and sum(abs(a - b) for a, b in zip(middle[n][:3], track[:3], strict=True)) > 30:
        n += 1
    return n
