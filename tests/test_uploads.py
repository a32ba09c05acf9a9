"""Uploads are checked by content, images decoded within a pixel budget and re-encoded, files served safely
(issue 14 item 6; R-N3: "Uploads are checked (type, size)")."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pytest
from PIL import Image
from sqlalchemy import func, select

from core.models import Attachment, AuditEntry, Enterprise, Hazard
from core.services.attachments import UploadRefused, check_upload, storage_path
from core.views.files import send_bytes
from tests.forms import page_form
from tests.images import jpeg_bytes, png_bomb, png_bytes, webp_bytes

SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)">'
       b'<script>fetch("/api/v1/me")</script></svg>')
HTML = b"<!doctype html><html><body><script>alert(document.domain)</script></body></html>"
XIAMEN = (24.479834, 118.089425)


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return png_bomb(30_000)


def register(client, world, photo: bytes, name: str, description: str = "配电箱未接地"):
    """Submit the 登记隐患 page's form as a browser does, with one photo attached."""
    form = page_form(client.get("/hazards/new", query_string={"enterprise_id": world.enterprises["E1"]}))
    form.set("description", description).set("category", "thing").attach("photos", photo, name)
    return form.submit(client)


def hazard_count(session) -> int:
    return session.scalar(select(func.count(Hazard.id)))


def test_the_bomb_is_refused_from_its_header_in_milliseconds_without_memory(app, bomb):
    """A 30,000 × 30,000 PNG (900 MP, ~110 KB) is refused before decoding: under 1 s and a few MB traced
    (decoded it would be 900 MB). Figures: docs/security.md §5."""
    assert Image.open(io.BytesIO(png_bytes())).size == (8, 8)  # plugins loaded: time the check, not imports
    with app.test_request_context():
        tracemalloc.start()
        started = time.perf_counter()
        with pytest.raises(UploadRefused) as refused:
            check_upload(bomb, "bomb.png", images_only=True)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert "30000×30000" in str(refused.value) and "40 百万像素" in str(refused.value)
    assert elapsed < 1.0, elapsed
    assert len(bomb) < 200 * 1024
    assert peak < 8 * 1024 * 1024, peak  # nothing near the 900 MB of pixels


def test_the_bomb_is_refused_by_the_registration_page_and_nothing_is_stored(login, session, world, bomb, tmp_path):
    client = login("ent1_mgr")
    before = hazard_count(session)
    resp = register(client, world, bomb, "现场.png")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "现场.png：图片尺寸 30000×30000 超过 40 百万像素的上限" in html
    assert hazard_count(session) == before and not any(p.is_file() for p in tmp_path.rglob("*"))


def test_the_pixel_limit_is_configurable_and_checked_before_decoding(app, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_PIXELS", 100)
    with app.test_request_context():
        with pytest.raises(UploadRefused, match="图片尺寸 11×10 超过 0.0001 百万像素的上限"):
            check_upload(png_bytes(11, 10), "a.png")
        assert check_upload(png_bytes(10, 10), "b.png").content_type == "image/png"


@pytest.mark.parametrize(("name", "data"), [
    ("图纸.svg", SVG), ("图纸.png", SVG), ("页面.html", HTML), ("现场.jpg", HTML),
    ("现场.jpg", b"MZ\x90\x00" + b"\x00" * 60),
])
def test_svg_html_and_other_types_are_refused_whatever_their_name(login, session, world, name, data):
    client = login("ent1_mgr")
    before = hazard_count(session)
    resp = register(client, world, data, name)
    assert resp.status_code == 422
    assert f"{name}：只接受 JPEG、PNG、WebP 图片（按文件内容判断，与扩展名无关）" in resp.get_data(as_text=True)
    assert hazard_count(session) == before


def test_a_broken_image_with_a_valid_signature_is_refused(app):
    with app.test_request_context():
        for data in (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, png_bytes()[:-20], b"\xff\xd8\xff\xe0" + b"\x01" * 64):
            with pytest.raises(UploadRefused, match="图片已损坏，无法读取"):
                check_upload(data, "x")


def test_pdf_is_accepted_where_documents_are_taken_and_webp_as_a_photo(app):
    with app.test_request_context():
        assert check_upload(b"%PDF-1.7\n%\xe2\xe3\n", "报告.pdf").content_type == "application/pdf"
        with pytest.raises(UploadRefused, match="只接受 JPEG、PNG、WebP 图片"):
            check_upload(b"%PDF-1.7\n", "报告.pdf", images_only=True)
        assert check_upload(webp_bytes(), "现场.webp", images_only=True).content_type == "image/webp"


def test_exif_is_stripped_gps_kept_as_data_and_shown(login, session, world):
    """The photo's EXIF (camera model, GPS), its comment are gone from the stored file; the GPS position is kept
    in the attachment's meta, in the registration's audit entry and on the hazard page; the picture is turned
    upright from its EXIF orientation (16×8 with orientation 6 → 8×16)."""
    original = jpeg_bytes(16, 8, gps=XIAMEN, orientation=6, metadata=True)
    assert b"TestCam" in original and b"secret comment" in original
    client = login("ent1_mgr")
    resp = register(client, world, original, "带定位.jpg", description="GPS 照片隐患")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    hazard_id = int(resp.headers["Location"].rsplit("/", 1)[-1])
    row = session.scalar(select(Attachment).where(Attachment.owner_type == "hazard", Attachment.owner_id == hazard_id))
    assert row.meta == {"gps": {"lat": XIAMEN[0], "lon": XIAMEN[1]}}
    stored = storage_path(row.sha256).read_bytes()
    assert b"TestCam" not in stored and b"secret comment" not in stored and b"Exif" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.size == (8, 16) and not image.getexif()
    assert row.size == len(stored)

    served = client.get(f"/hazards/{hazard_id}/attachments/{row.id}")
    assert served.data == stored
    html = client.get(f"/hazards/{hazard_id}").get_data(as_text=True)
    assert "拍摄位置 24.479834, 118.089425" in html

    entry = session.scalar(select(AuditEntry).where(AuditEntry.object_type == "hazard",
                                                    AuditEntry.object_id == str(hazard_id),
                                                    AuditEntry.action == "create"))
    assert entry.after["attachments"] == [{"filename": "带定位.jpg", "content_type": "image/jpeg",
                                           "sha256": row.sha256, "size": len(stored),
                                           "gps": {"lat": XIAMEN[0], "lon": XIAMEN[1]}}]


def test_a_file_over_the_size_limit_is_refused_naming_the_limit(app, login, session, world, monkeypatch):
    # Small sizes: the test client spools bodies over 500 KB to temporary files it does not close on a 413.
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 100 * 1024)
    big = png_bytes() + b"\x00" * (100 * 1024)  # trailing bytes: the size check comes first
    client = login("ent1_mgr")
    before = hazard_count(session)
    resp = register(client, world, big, "大图.png")
    assert resp.status_code == 422
    assert "大图.png：文件超过 100 KB 的上限" in resp.get_data(as_text=True)
    assert hazard_count(session) == before


def test_a_request_over_max_content_length_gets_a_chinese_413_page_and_json(app, login, api, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    client = login("ent1_mgr")
    resp = register(client, world, png_bytes() + b"\x00" * (128 * 1024), "大图.png")
    assert resp.status_code == 413 and resp.mimetype == "text/html"
    assert "上传的内容过大：一次提交最多 64 KB，单个文件最多 10 MB" in resp.get_data(as_text=True)

    resp = api("ent1_mgr").post("/api/v1/hazards", content_type="multipart/form-data", data={
        "enterprise_id": str(world.enterprises["E1"]), "description": "x", "category": "thing",
        "photos": (io.BytesIO(b"\x00" * (128 * 1024)), "p.png")})
    assert resp.status_code == 413 and resp.is_json
    assert "一次提交最多 64 KB" in resp.get_json()["message"]


def test_stored_files_are_served_with_a_safe_type_disposition_and_sandbox(login, session, world):
    client = login("ent1_mgr")
    resp = register(client, world, png_bytes(), "现场 照片.png")
    hazard_id = int(resp.headers["Location"].rsplit("/", 1)[-1])
    row = session.scalar(select(Attachment).where(Attachment.owner_type == "hazard", Attachment.owner_id == hazard_id))
    row.content_type = "text/html"  # a tampered row: the type served still comes from the bytes
    session.commit()
    served = client.get(f"/hazards/{hazard_id}/attachments/{row.id}")
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    disposition = served.headers["Content-Disposition"]
    assert disposition.startswith("inline;") and "filename*=UTF-8''%E7%8E%B0%E5%9C%BA%20%E7%85%A7%E7%89%87.png" in disposition


def test_send_bytes_never_serves_html_and_downloads_what_is_not_an_image(app):
    with app.test_request_context():
        resp = send_bytes(HTML, "x.html", "text/html")
        assert resp.mimetype == "application/octet-stream"
        assert resp.headers["Content-Disposition"].startswith("attachment;")
        assert "sandbox" in resp.headers["Content-Security-Policy"]
        pdf = send_bytes(b"%PDF-1.7\n", "报告.pdf", "application/pdf")
        assert pdf.mimetype == "application/pdf" and pdf.headers["Content-Disposition"].startswith("inline;")


def zip_bomb(uncompressed: int) -> bytes:
    """An .xlsx-shaped ZIP whose one sheet inflates to ``uncompressed`` bytes of zeros."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as part:
            chunk = b"\x00" * (1024 * 1024)
            for _ in range(uncompressed // len(chunk)):
                part.write(chunk)
    return buf.getvalue()


def test_an_excel_zip_bomb_is_refused_from_the_zip_directory(app, login, session, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_UNCOMPRESSED", 8 * 1024 * 1024)
    data = zip_bomb(16 * 1024 * 1024)
    assert len(data) < 64 * 1024
    before = (session.scalar(select(func.count(Enterprise.id))), session.scalar(select(func.count(AuditEntry.id))))
    client = login("xa_reg")
    form = page_form(client.get("/enterprises/import"))
    form.attach("file", data, "企业.xlsx")
    started = time.perf_counter()
    resp = form.submit(client)
    assert time.perf_counter() - started < 2
    assert resp.status_code == 422
    assert "Excel 文件解压后超过 8 MB，请分批导入或另存为 CSV" in resp.get_data(as_text=True)
    assert (session.scalar(select(func.count(Enterprise.id))),
            session.scalar(select(func.count(AuditEntry.id)))) == before
