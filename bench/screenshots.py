"""Screenshots of the drift-over-time page and one batch's report, in headless Chromium.

Usage (from the repository root)::

    .venv/bin/python bench/screenshots.py                        # runs `driftloop demo` first
    .venv/bin/python bench/screenshots.py --demo-dir driftloop-demo   # an existing demo folder

It runs the demo (600 rows per batch, seed 0) into a temporary folder unless ``--demo-dir``
names one that already has ``reports/drift-over-time.html``, then writes
``bench/screenshots/drift-over-time.png`` and ``bench/screenshots/batch-report.png`` (the
report of the first promoted batch), cropped to their content and stored with a 64-colour
palette to stay small. Chromium: ``/usr/bin/chromium`` (Debian:
``apt-get install -y chromium``), or the path in ``$CHROMIUM``. Nothing is fetched from a
network: the pages are self-contained and Chromium runs with its background traffic off.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


def shoot(page: Path, png: Path, size: str) -> Path:
    """Render ``page`` into ``png`` at the window ``size`` ("W,H") and return ``png``."""
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="driftloop-chromium-") as profile:
        subprocess.run(
            [
                chromium,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={png}",
                f"--window-size={size}",
                page.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return png


def shrink(png: Path, margin: int = 24) -> Path:
    """Crop the blank page below and right of the content and store the PNG with a palette."""
    from PIL import Image, ImageChops  # pillow comes with matplotlib

    with Image.open(png) as shot:
        rgb = shot.convert("RGB")
    box = ImageChops.difference(rgb, Image.new("RGB", rgb.size, "white")).getbbox()
    if box:
        right, bottom = min(rgb.width, box[2] + margin), min(rgb.height, box[3] + margin)
        rgb = rgb.crop((0, 0, right, bottom))
    rgb.quantize(colors=64).save(png, optimize=True)
    return png


def demo_reports(folder: Path | None) -> Path:
    """The reports folder of a demo run (the demo is run first when none is given)."""
    if folder is not None and (folder / "reports" / "drift-over-time.html").is_file():
        return folder / "reports"
    from driftloop.app.demo import run_demo

    target = folder or Path(tempfile.mkdtemp(prefix="driftloop-shots-")) / "demo"
    run_demo(target, rows=600, seed=0)
    return target / "reports"


def main() -> None:
    """Render both screenshots."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--demo-dir", type=Path, help="an existing demo folder (default: run one)")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "screenshots")
    args = p.parse_args()
    reports = demo_reports(args.demo_dir)
    page = reports / "drift-over-time.html"
    text = page.read_text(encoding="utf-8")
    rows = text.split("<tr class='batch")[1:]
    chosen = next((r for r in rows if ">promoted</span>" in r and "<a href=" in r), text)
    batch = reports / re.findall(r"<a href='([^']+)'>", chosen)[0]
    print(shrink(shoot(page, args.out / "drift-over-time.png", "1400,2400")))
    print(shrink(shoot(batch, args.out / "batch-report.png", "1400,2400")))


if __name__ == "__main__":
    main()
