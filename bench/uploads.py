"""Upload checks under hostile input: time and peak memory of one check per file, each in a fresh process so the
peak RSS growth belongs to that file alone. Documented in docs/security.md §5::

    .venv/bin/python bench/uploads.py

Files (generated with tests/images.py): the sweep's decompression bomb (30,000 x 30,000, 1 bit per pixel,
~110 KB), the largest accepted image at the default 40 MP limit as 1-bit and as RGBA, a 12 MP camera JPEG with
EXIF GPS; and, for contrast, what an unguarded ``Image.load()`` of the bomb costs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import io, json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from core.app import create_app
from core.services.attachments import UploadRefused, check_upload
from tests.images import png_bytes
from PIL import Image
app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
data = open(sys.argv[2], "rb").read()
with app.test_request_context():
    Image.open(io.BytesIO(png_bytes())).load()  # plugins imported: measure the check, not imports
    if sys.argv[3] == "unguarded":
        Image.MAX_IMAGE_PIXELS = None
        image = Image.open(io.BytesIO(data))
        start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time.perf_counter()
        image.load()
        result = "decoded"
    else:
        start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time.perf_counter()
        try:
            result = "accepted, %d bytes stored" % len(check_upload(data, "x", images_only=True).data)
        except UploadRefused as exc:
            result = "refused: %s" % exc
    ms = (time.perf_counter() - t) * 1000
print(json.dumps({"result": result, "ms": round(ms, 1),
                  "rss_growth_mib": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_rss) / 1024, 1)}))
"""


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from PIL import Image

    from tests.images import jpeg_bytes, png_bomb

    with tempfile.TemporaryDirectory() as tmp:
        files = {"bomb 30000x30000 1-bit PNG": png_bomb(30_000), "40 MP 1-bit PNG": png_bomb(6324)}
        rgba = Path(tmp) / "rgba.png"
        Image.new("RGBA", (6324, 6324), (10, 20, 30, 255)).save(rgba)
        files["40 MP RGBA PNG"] = rgba.read_bytes()
        files["12 MP JPEG with EXIF GPS"] = jpeg_bytes(4000, 3000, gps=(24.48, 118.09), metadata=True)
        runs = [(name, data, "check") for name, data in files.items()]
        runs.append(("bomb, unguarded Image.load() (contrast)", files["bomb 30000x30000 1-bit PNG"], "unguarded"))
        for name, data, mode in runs:
            path = Path(tmp) / "input"
            path.write_bytes(data)
            out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(path), mode], check=True,
                                 capture_output=True, text=True).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            print(f"{name:42s} {len(data):>9,d} B  {figures['ms']:>8.1f} ms  "
                  f"+{figures['rss_growth_mib']:>6.1f} MiB RSS  {figures['result']}")


if __name__ == "__main__":
    main()
