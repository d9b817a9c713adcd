"""Attachment types told from content, and the names attachments are kept under.

Every sample is built here, byte by byte or with a writer library, so the tests
need no fixture files. The OLE2 samples (doc, xls, ppt) come from a minimal
compound file writer: one FAT sector, one directory sector, each stream padded
to 4096 bytes so that it lives in ordinary sectors and no mini stream is needed.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from service.domain.file_types import (
    ALLOWED,
    DOC,
    DOCX,
    JPEG,
    MAX_ATTACHMENT_BYTES,
    ODP,
    ODS,
    ODT,
    PDF,
    PNG,
    PPT,
    PPTX,
    XLS,
    XLSX,
    FileType,
    detect,
    sanitise_filename,
)
from tests.samples import (
    make_jpeg,
    make_ole2,
    make_ooxml,
    make_opendocument,
    make_pdf,
    make_png,
    make_xlsx,
    make_zip,
    png_chunk,
)

SAMPLES: dict[str, tuple[bytes, FileType]] = {
    "pdf": (make_pdf(), PDF),
    "pdf with a byte-order mark": (b"\xef\xbb\xbf" + make_pdf(), PDF),
    "jpeg": (make_jpeg(), JPEG),
    "png": (make_png(), PNG),
    "docx": (make_ooxml("word/document.xml"), DOCX),
    "xlsx from xlsxwriter": (make_xlsx(), XLSX),
    "pptx": (make_ooxml("ppt/presentation.xml"), PPTX),
    "doc": (make_ole2({"WordDocument": b"\xec\xa5" + b"w" * 5000, "1Table": b"t"}), DOC),
    "xls (Workbook)": (make_ole2({"Workbook": b"\x09\x08" + b"x" * 100}), XLS),
    "xls (Excel 5 Book)": (make_ole2({"Book": b"\x09\x08" + b"x" * 100}), XLS),
    "ppt": (make_ole2({"Current User": b"u", "PowerPoint Document": b"p" * 100}), PPT),
    "odt": (make_opendocument(ODT.media_type), ODT),
    "ods": (make_opendocument(ODS.media_type), ODS),
    "odp": (make_opendocument(ODP.media_type), ODP),
}


@pytest.mark.parametrize(("data", "expected"), SAMPLES.values(), ids=SAMPLES.keys())
def test_detects_each_allowed_type(data: bytes, expected: FileType) -> None:
    assert detect(data) == expected


def test_every_allowed_type_has_a_sample() -> None:
    assert {expected for _, expected in SAMPLES.values()} == set(ALLOWED)


def test_allowed_types_are_exactly_the_office_and_image_set() -> None:
    names = [t.name for t in ALLOWED]
    assert names == ["pdf", "jpeg", "png", "docx", "xlsx", "pptx", "doc", "xls", "ppt", "odt", "ods", "odp"]
    assert len({t.media_type for t in ALLOWED}) == len(ALLOWED)
    assert all(t.extension == f".{t.name}" for t in ALLOWED if t is not JPEG)
    assert JPEG.extension == ".jpg"
    assert PDF.label_zh == "PDF 文档"
    with pytest.raises(FrozenInstanceError):
        PDF.name = "exe"  # type: ignore[misc]


def test_size_limit_is_twenty_mebibytes() -> None:
    assert MAX_ATTACHMENT_BYTES == 20 * 1024 * 1024


def cut(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]


REFUSED: dict[str, bytes] = {
    "empty": b"",
    "html page renamed .pdf": b"<!DOCTYPE html><html><body>PDF</body></html>",
    "svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "plain text renamed .pdf": "申请表\n姓名：张三\n".encode(),
    "windows program": b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120,
    "plain zip": make_zip({"readme.txt": b"hello", "notes.txt": b"world"}),
    "zip that only looks like docx": make_ooxml("word/something-else.xml"),
    "opendocument of another kind": make_opendocument("application/vnd.oasis.opendocument.graphics"),
    "opendocument without content": make_zip({"mimetype": ODT.media_type.encode()}, stored_first=True),
    "ole2 without a document stream": make_ole2({"EncryptedPackage": b"e" * 10}),
    "ole2 with no streams": make_ole2({}),
    "ole2 header only": make_ole2({"WordDocument": b"w"})[:512],
    "gif": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    "truncated png": cut(make_png(), 0.7),
    "png with a damaged chunk": make_png().replace(b"IDAT", b"IDAX"),
    "png without IHDR first": b"\x89PNG\r\n\x1a\n" + png_chunk(b"IEND", b""),
    "truncated jpeg": cut(make_jpeg(), 0.5),
    "jpeg cut before its end marker": make_jpeg()[:-2],
    "pdf cut before %%EOF": cut(make_pdf(), 0.8),
    "truncated docx": cut(make_ooxml("word/document.xml"), 0.6),
    "truncated xlsx": cut(make_xlsx(), 0.9),
    "truncated odt": cut(make_opendocument(ODT.media_type), 0.6),
    "truncated doc": cut(make_ole2({"1Table": b"t", "WordDocument": b"w" * 9000}), 0.7),
}


@pytest.mark.parametrize("data", REFUSED.values(), ids=REFUSED.keys())
def test_refuses_other_and_broken_files(data: bytes) -> None:
    assert detect(data) is None


def test_pdf_check_is_a_type_check_not_a_content_check() -> None:
    # Starts with %PDF and ends with %%EOF: a PDF by its signature, whatever is in between.
    # The module docstring says so; a malware scan is a separate concern.
    assert detect(b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n") == PDF


def test_ole2_streams_decide_between_word_excel_and_powerpoint() -> None:
    # filetype's own guesses for old Office files read bytes at fixed offsets; the stream names are what counts.
    assert detect(make_ole2({"WordDocument": b"\x00" * 10})) == DOC
    assert detect(make_ole2({"Workbook": b"\x00" * 10})) == XLS
    assert detect(make_ole2({"PowerPoint Document": b"\x00" * 10})) == PPT


def test_short_bytes_are_never_taken_for_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # olefile reads bytes shorter than 1536 as a file name. Put a real Word file under the
    # name made of the OLE2 signature: detect must judge the 8 bytes, not open that file.
    signature = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    (tmp_path / os.fsdecode(signature)).write_bytes(make_ole2({"WordDocument": b"w"}))
    monkeypatch.chdir(tmp_path)
    assert detect(signature) is None


@pytest.mark.parametrize(
    ("name", "file_type", "expected"),
    [
        ("../../etc/passwd.pdf", PDF, "passwd.pdf"),
        ("C:\\Users\\张三\\申请表.PNG", PNG, "申请表.png"),
        ("mixed/slashes\\证明材料.pdf", PDF, "证明材料.pdf"),
        ("report.exe", PDF, "report.pdf"),
        ("report.html", PDF, "report.pdf"),
        ("aux.tar.gz", PDF, "aux_.tar.pdf"),
        ("report", PDF, "report.pdf"),
        ("photo.jpeg", JPEG, "photo.jpeg"),
        ("photo.JPG", JPEG, "photo.jpg"),
        ("photo.png", JPEG, "photo.jpg"),
        ("会议纪要 v2.1", DOCX, "会议纪要 v2.1.docx"),
        ("张三.申请表", XLSX, "张三.申请表.xlsx"),
        ("a\x00b\x1fc\x7f.pdf", PDF, "abc.pdf"),
        ("invoice\u202egpj.exe", PDF, "invoicegpj.pdf"),
        ('a<b>c:d"e|f?g*h.pdf', PDF, "abcdefgh.pdf"),
        ("  年度\t\n报告\u3000\u3000final .pdf", PDF, "年度 报告 final.pdf"),
        ("...hidden.pdf", PDF, "hidden.pdf"),
        (" . .说明.odt", ODT, "说明.odt"),
        ("cafe\u0301.pdf", PDF, "caf\u00e9.pdf"),
        ("", PDF, "附件.pdf"),
        ("...", PDF, "附件.pdf"),
        ("dir/", PNG, "附件.png"),
        ("<>?*.pdf", PDF, "附件.pdf"),
        ("CON.pdf", PDF, "CON_.pdf"),
        ("nul", XLS, "nul_.xls"),
    ],
)
def test_sanitise_filename(name: str, file_type: FileType, expected: str) -> None:
    assert sanitise_filename(name, file_type) == expected


def test_long_names_are_cut_to_120_characters_keeping_the_extension() -> None:
    name = sanitise_filename("a" * 300 + ".docx", DOCX)
    assert name == "a" * 115 + ".docx"
    assert len(name) == 120


def test_long_chinese_names_also_fit_255_bytes() -> None:
    name = sanitise_filename("关于科技工作者服务的申请" * 20 + ".pdf", PDF)
    assert name.endswith(".pdf")
    assert len(name) <= 120
    assert len(name.encode()) <= 255
    assert name == ("关于科技工作者服务的申请" * 20)[:83] + ".pdf"  # (255 - 4) // 3 = 83 characters


def test_cut_never_separates_a_combining_mark_from_its_letter() -> None:
    # x + combining acute has no precomposed form, so NFC keeps two code points.
    name = sanitise_filename("a" * 115 + "x\u0301" + "tail.pdf", PDF)
    assert name == "a" * 115 + ".pdf"
    assert not unicodedata.combining(name[-5])
