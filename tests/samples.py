"""Sample files built byte by byte or with a writer library, so no test needs fixture
files. The OLE2 samples (doc, xls, ppt) come from a minimal compound file writer: one
FAT sector, one directory sector, each stream padded to 4096 bytes so that it lives in
ordinary sectors and no mini stream is needed."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import xlsxwriter


def make_pdf(body: bytes = b"") -> bytes:
    """A one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = b"%PDF-1.4\n" + body
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % at for at in offsets)
    return out + b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def make_png() -> bytes:
    """One green pixel, 8-bit RGB."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\xff\x00")  # filter byte, then R G B
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", pixels) + png_chunk(b"IEND", b"")


def jpeg_segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def make_jpeg() -> bytes:
    """A 1x1 grey baseline JPEG: flat quantisation, one-code Huffman tables.

    The scan is one block: DC category 0 (code ``0``), then end-of-block (code ``0``),
    padded with one bits, so the entropy-coded data is the single byte ``0x3F``.
    """
    one_code = bytes([1] + [0] * 15) + b"\x00"
    return (
        b"\xff\xd8"
        + jpeg_segment(0xDB, b"\x00" + b"\x01" * 64)
        + jpeg_segment(0xC0, struct.pack(">BHHB", 8, 1, 1, 1) + b"\x01\x11\x00")
        + jpeg_segment(0xC4, b"\x00" + one_code)
        + jpeg_segment(0xC4, b"\x10" + one_code)
        + jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"
        + b"\xff\xd9"
    )


def make_zip(parts: dict[str, bytes], *, stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for index, (name, content) in enumerate(parts.items()):
            stored = stored_first and index == 0
            package.writestr(name, content, compress_type=zipfile.ZIP_STORED if stored else None)
    return buffer.getvalue()


CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
RELS = b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>'


def make_ooxml(main_part: str) -> bytes:
    """[Content_Types].xml first: filetype then looks for ``word/``, ``xl/`` or ``ppt/`` among the next entries."""
    return make_zip(
        {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": RELS, main_part: b"<?xml version='1.0'?><x/>"}
    )


def make_xlsx() -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.add_worksheet("受理").write(0, 0, "案件编号")
    workbook.close()
    return buffer.getvalue()


def make_opendocument(media_type: str) -> bytes:
    """The ``mimetype`` entry first and uncompressed, so its text sits at byte 38, as ODF requires."""
    return make_zip(
        {
            "mimetype": media_type.encode(),
            "content.xml": b"<?xml version='1.0'?><office:document-content/>",
            "META-INF/manifest.xml": b"<?xml version='1.0'?><manifest:manifest/>",
        },
        stored_first=True,
    )


FREE, END_OF_CHAIN, FAT_SECTOR, NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def make_ole2(streams: dict[str, bytes]) -> bytes:
    """A version 3 compound file: header, FAT in sector 0, directory in sector 1, then the streams."""
    fat, sectors, entries = [FAT_SECTOR, END_OF_CHAIN], b"", []
    for name, content in streams.items():
        padded = content.ljust(max(4096, -(-len(content) // 512) * 512), b"\x00")
        first, count = 2 + len(sectors) // 512, len(padded) // 512
        fat += [*range(first + 1, first + count), END_OF_CHAIN]
        sectors += padded
        entries.append((name, 2, first, len(padded)))

    def entry(name: str, kind: int, first: int, size: int, right: int = NO_STREAM, child: int = NO_STREAM) -> bytes:
        raw = name.encode("utf-16-le") + b"\x00\x00"
        return struct.pack(
            "<64sHBBIII16sIQQIQ", raw, len(raw), kind, 1, NO_STREAM, right, child, b"", 0, 0, 0, first, size
        )

    # The root's child is the first stream; the others hang off it as right siblings.
    directory = entry("Root Entry", 5, END_OF_CHAIN, 0, child=1 if entries else NO_STREAM)
    for index, stream in enumerate(entries):
        directory += entry(*stream, right=index + 2 if index + 1 < len(entries) else NO_STREAM)
    assert len(directory) <= 512 and len(fat) <= 128
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII109I",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"",
        0x3E,  # minor version
        3,  # major version: 512-byte sectors
        0xFFFE,  # little-endian
        9,  # sector size 2**9
        6,  # mini sector size 2**6
        b"",
        0,  # directory sectors (always 0 in version 3)
        1,  # FAT sectors
        1,  # first directory sector
        0,
        4096,  # mini stream cut-off
        END_OF_CHAIN,  # no mini FAT
        0,
        END_OF_CHAIN,  # no DIFAT sectors
        0,
        0,  # the one FAT sector
        *[FREE] * 108,
    )
    fat_sector = struct.pack("<128I", *fat, *[FREE] * (128 - len(fat)))
    return header + fat_sector + directory.ljust(512, b"\x00") + sectors
