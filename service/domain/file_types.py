"""Which files a case may carry as attachments, told from their content.

``detect`` looks at the bytes only; a declared media type or a file name proves
nothing. PDF, JPEG, PNG and the zipped office formats are recognised by the
``filetype`` library's signatures, the older Office formats by the stream names
inside their OLE2 compound file (``olefile``). On top of the signature a light
check refuses files that are obviously cut short or broken: a PNG must run chunk
by chunk to ``IEND``, a JPEG must reach its scan and an end-of-image marker, a
PDF must carry ``%%EOF`` in its last kilobyte, a zipped document must have a
readable zip directory with its main part, an OLE2 file must parse.

What this guarantees: the file is of an allowed type by its structure, so a web
page, a script or a program renamed ``.pdf`` is refused. What it does not: that
the file opens cleanly or is harmless. The rules are the signatures' rules, so
anything that starts with ``%PDF`` and ends with ``%%EOF`` passes as a PDF even
if the middle is HTML, and an Office file may still carry macros. It is a type
check, not a malware scan.
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass

import filetype
import olefile

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileType:
    name: str
    media_type: str
    extension: str
    label_zh: str


PDF = FileType("pdf", "application/pdf", ".pdf", "PDF 文档")
JPEG = FileType("jpeg", "image/jpeg", ".jpg", "JPEG 图片")
PNG = FileType("png", "image/png", ".png", "PNG 图片")
DOCX = FileType(
    "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".docx",
    "Word 文档",
)
XLSX = FileType("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx", "Excel 表格")
PPTX = FileType(
    "pptx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".pptx",
    "PowerPoint 演示文稿",
)
DOC = FileType("doc", "application/msword", ".doc", "Word 97-2003 文档")
XLS = FileType("xls", "application/vnd.ms-excel", ".xls", "Excel 97-2003 表格")
PPT = FileType("ppt", "application/vnd.ms-powerpoint", ".ppt", "PowerPoint 97-2003 演示文稿")
ODT = FileType("odt", "application/vnd.oasis.opendocument.text", ".odt", "OpenDocument 文本")
ODS = FileType("ods", "application/vnd.oasis.opendocument.spreadsheet", ".ods", "OpenDocument 电子表格")
ODP = FileType("odp", "application/vnd.oasis.opendocument.presentation", ".odp", "OpenDocument 演示文稿")

ALLOWED: tuple[FileType, ...] = (PDF, JPEG, PNG, DOCX, XLSX, PPTX, DOC, XLS, PPT, ODT, ODS, ODP)

# An animated PNG is still a PNG; filetype names it apart.
_BY_MEDIA_TYPE = {t.media_type: t for t in ALLOWED} | {"image/apng": PNG}
# The part every package of that kind must have, looked up in the zip directory.
_MAIN_PART = {
    DOCX: "word/document.xml",
    XLSX: "xl/workbook.xml",
    PPTX: "ppt/presentation.xml",
    ODT: "content.xml",
    ODS: "content.xml",
    ODP: "content.xml",
}
# Stream names inside an OLE2 compound file, checked in this order.
_OLE_STREAMS = ((DOC, ("WordDocument",)), (XLS, ("Workbook", "Book")), (PPT, ("PowerPoint Document",)))
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def detect(data: bytes) -> FileType | None:
    """The allowed type ``data`` is, or ``None`` when it is none of them or looks broken."""
    if data.startswith(_OLE_MAGIC):
        return _ole_type(data)
    kind = filetype.guess(data)
    found = _BY_MEDIA_TYPE.get(kind.mime) if kind is not None else None
    return found if found is not None and _looks_whole(found, data) else None


def _ole_type(data: bytes) -> FileType | None:
    try:
        # A file object, never the bytes themselves: olefile takes short bytes for a path.
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            for file_type, streams in _OLE_STREAMS:
                for stream in streams:
                    if ole.exists(stream) and ole.get_type(stream) == olefile.STGTY_STREAM:
                        # olefile only logs a stream shorter than declared; that is a cut-off file.
                        whole = len(ole.openstream(stream).read()) == ole.get_size(stream)
                        return file_type if whole else None
    except Exception:
        # olefile raises many kinds of error on malformed input; all mean "not a document".
        return None
    return None


def _looks_whole(file_type: FileType, data: bytes) -> bool:
    if file_type is PDF:
        return b"%%EOF" in data[-1024:]
    if file_type is PNG:
        return _png_whole(data)
    if file_type is JPEG:
        return _jpeg_whole(data)
    main_part = _MAIN_PART.get(file_type)
    return main_part is not None and _package_whole(data, main_part)


def _png_whole(data: bytes) -> bool:
    if not data.startswith(_PNG_MAGIC):
        return False
    at, first = len(_PNG_MAGIC), True
    while at + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        end = at + 12 + length
        if end > len(data) or (first and kind != b"IHDR"):
            return False
        body = data[at + 4 : end - 4]
        if zlib.crc32(body) != struct.unpack(">I", data[end - 4 : end])[0]:
            return False
        if kind == b"IEND":
            return True
        at, first = end, False
    return False


def _jpeg_whole(data: bytes) -> bool:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return False
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            at += 2
            continue
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        if length < 2 or at + 2 + length > len(data):
            return False
        if marker == 0xDA:  # start of scan: the image data follows, then the end marker
            return data.find(b"\xff\xd9", at + 2 + length) != -1
        at += 2 + length
    return False


def _package_whole(data: bytes, main_part: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            package.getinfo(main_part)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return False
    return True


_MAX_NAME_CHARS = 120
# Linux and macOS file systems cap a name at 255 bytes; 120 Chinese characters are 360.
_MAX_NAME_BYTES = 255
_FALLBACK_STEM = "附件"
_OTHER_EXTENSIONS = {JPEG: (".jpeg",)}
_ILLEGAL = re.compile(r'[<>:"/\\|?*]')
_EXTENSION_LIKE = re.compile(r"\.(?=[a-z0-9]*[a-z])[a-z0-9]{1,5}", re.IGNORECASE)
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{n}" for p in ("com", "lpt") for n in range(1, 10)}


def sanitise_filename(name: str, file_type: FileType) -> str:
    """A name safe to store and offer for download, ending in ``file_type``'s extension.

    Only the last path component survives (``/`` or ``\\``). The text is NFC; control
    and format characters (among them the bidirectional overrides that make
    ``gpj.exe`` read as ``exe.jpg``) and ``<>:"/\\|?*`` are dropped; runs of
    whitespace become one space; leading dots and spaces go. An ending of one to
    five ASCII letters and digits with at least one letter counts as an extension:
    the detected type's replaces it (``report.exe`` as a PDF is ``report.pdf``).
    Any other ending stays part of the stem (``v2.1`` becomes ``v2.1.pdf``). The
    stem is cut so the whole name has at most 120 characters and 255 UTF-8 bytes;
    an empty stem becomes ``附件``, and a Windows device name such as ``CON``
    gets a ``_`` (``CON_.pdf``).
    """
    name = unicodedata.normalize("NFC", re.split(r"[/\\]", name)[-1])
    name = "".join(map(_visible, name))
    name = " ".join(_ILLEGAL.sub("", name).split())

    stem, extension = name, ""
    dot = name.rfind(".")
    if dot >= 0 and _EXTENSION_LIKE.fullmatch(name[dot:]):
        stem, extension = name[:dot], name[dot:].lower()
    stem = stem.lstrip(". ")
    if extension not in (file_type.extension, *_OTHER_EXTENSIONS.get(file_type, ())):
        extension = file_type.extension

    head, sep, tail = stem.partition(".")
    if head.rstrip().lower() in _WINDOWS_RESERVED:
        stem = f"{head}_{sep}{tail}"
    stem = _cut(stem.rstrip(". "), _MAX_NAME_CHARS - len(extension), _MAX_NAME_BYTES - len(extension))
    return (stem or _FALLBACK_STEM) + extension


def _visible(ch: str) -> str:
    """Tabs and line breaks separate words; other control and format characters go."""
    if ch in "\t\n\v\f\r":
        return " "
    return "" if unicodedata.category(ch) in ("Cc", "Cf", "Cs") else ch


def _cut(stem: str, max_chars: int, max_bytes: int) -> str:
    end = min(len(stem), max_chars)
    while end > 0 and len(stem[:end].encode()) > max_bytes:
        end -= 1
    # Never leave a combining mark without the letter it belongs to.
    while 0 < end < len(stem) and unicodedata.combining(stem[end]):
        end -= 1
    return stem[:end].rstrip(". ")
