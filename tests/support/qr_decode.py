"""Reading back a QR code served as SVG: the SVG's drawing rasterised, then decoded by zxing-cpp.

The rasteriser knows only what segno draws (service/qr.py): a `<g transform="scale(n)">` holding
a filled background path and a stroked path of unit-wide horizontal runs (`M x y`, `m dx dy`,
`h dx`), one run per row of dark modules. Anything else fails loudly rather than decode wrongly.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import zxingcpp

SVG_NS = "{http://www.w3.org/2000/svg}"
COMMAND = re.compile(r"([MmHhVvZz])([^MmHhVvZz]*)")
#: pixels per module in the raster handed to the decoder
PIXELS = 4


def modules(svg: bytes) -> list[list[bool]]:
    """The SVG's dark modules, row by row (quiet zone included)."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg", root.tag
    width, height = int(root.attrib["width"]), int(root.attrib["height"])
    groups = root.findall(f"{SVG_NS}g")
    assert len(groups) == 1, "one scaled group expected"
    scale = re.fullmatch(r"scale\((\d+)\)", groups[0].attrib["transform"])
    assert scale is not None
    size = width // int(scale.group(1))
    assert width == height == size * int(scale.group(1))
    dark = [[False] * size for _ in range(size)]
    strokes = [p for p in groups[0].findall(f"{SVG_NS}path") if "stroke" in p.attrib]
    assert len(strokes) == 1 and strokes[0].attrib["stroke"] == "#000"
    x = y = 0.0
    for cmd, args in COMMAND.findall(strokes[0].attrib["d"]):
        nums = [float(n) for n in args.replace(",", " ").split()]
        if cmd in "Mm":
            dx, dy = nums
            x, y = (dx, dy) if cmd == "M" else (x + dx, y + dy)
        elif cmd == "h":
            (dx,) = nums
            row = int(y - 0.5)
            for col in range(int(x), int(x + dx)):
                dark[row][col] = True
            x += dx
        else:
            raise AssertionError(f"unexpected path command {cmd!r}")
    return dark


def decode(svg: bytes) -> str:
    """The text of the one QR code the SVG draws."""
    grid = modules(svg)
    side = len(grid) * PIXELS
    pixels = bytearray()
    for row in grid:
        line = b"".join(b"\x00" * PIXELS if cell else b"\xff" * PIXELS for cell in row)
        pixels += line * PIXELS
    found = zxingcpp.read_barcodes(memoryview(bytes(pixels)).cast("B", (side, side)))
    assert len(found) == 1, found
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return str(found[0].text)
