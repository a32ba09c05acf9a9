"""Real image bytes for upload tests, made with Pillow: uploads are decoded and re-encoded (R-N3), so the
signature-only fakes (``b"\\x89PNG…" + b"0" * 64``) no longer pass."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def png_bytes(width: int = 8, height: int = 8, color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


def jpeg_bytes(width: int = 8, height: int = 8, color: tuple[int, int, int] = (40, 120, 200),
               gps: tuple[float, float] | None = None, orientation: int | None = None,
               metadata: bool = False) -> bytes:
    """A JPEG (quality 90, as uploads are re-encoded, so a plain one keeps its size); ``metadata`` adds a camera
    model tag and a comment, ``gps`` (lat, lon) and ``orientation`` their EXIF tags."""
    image = Image.new("RGB", (width, height), color)
    exif = Image.Exif()
    extra: dict = {}
    if metadata:
        exif[0x0110] = "TestCam 1"  # Model: metadata that must not survive the re-encoding
        extra["comment"] = b"secret comment"
    if orientation:
        exif[0x0112] = orientation
    if gps:
        lat, lon = gps

        def dms(value: float) -> tuple[float, float, float]:
            value = abs(value)
            d = int(value)
            m = int((value - d) * 60)
            return (float(d), float(m), round((value - d - m / 60) * 3600, 4))

        exif[0x8825] = {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}
    if len(exif):
        extra["exif"] = exif.tobytes()
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=90, **extra)
    return buf.getvalue()


def webp_bytes(width: int = 8, height: int = 8) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 10)).save(buf, format="WEBP")
    return buf.getvalue()


def png_bomb(side: int = 30_000) -> bytes:
    """A ``side`` × ``side`` black-and-white (1 bit per pixel) PNG, valid to the last checksum: 900 MP in about
    110 KB like the sweep's decompression bomb; Pillow would decode it to 900 MB (one byte per pixel).

    Deflate after a full flush starts from an empty window, so compressing the same block of rows again gives
    the same bytes: one block is compressed once and repeated; the Adler-32 of the pixels is computed over
    the repeated input (cheap), the CRCs over the chunks."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" * ((side + 7) // 8 + 1)  # filter byte + one bit per pixel
    rows_per_block = 1000
    blocks, rest = divmod(side, rows_per_block)
    block = row * rows_per_block
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: the zlib header and trailer are added below
    packed = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = comp.compress(row * rest) + comp.flush(zlib.Z_FINISH)
    adler = 1
    for _ in range(blocks):
        adler = zlib.adler32(block, adler)
    adler = zlib.adler32(row * rest, adler)
    body = b"\x78\xda" + packed * blocks + tail + struct.pack(">I", adler & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))
