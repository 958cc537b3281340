"""Draw Parlance's icons: app/icons/parlance.svg and the 192 and 512 px PNGs the web app
manifest lists (browsers want PNGs to install an app; the SVG is the favicon).

Why a script: the icons are one simple shape (a speech bubble with three dots on the accent
colour) drawn the same way in SVG and with Pillow, so they can be redrawn rather than edited
by hand. The shape stays inside the middle 80%, the safe zone of a maskable icon, on a full
square of colour, so the same PNG serves as `any` and `maskable`. The outputs are committed;
run this again only to change them.

Usage: .venv/bin/python tools/icons.py   (needs Pillow: `pip install -e '.[bench]'` has it)
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "app" / "icons"
ACCENT = "#4f46e5"
WHITE = "#ffffff"

# The design on a 512 grid: bubble box, corner radius, tail, three dots.
BUBBLE = (112, 136, 400, 336)
RADIUS = 56
TAIL = ((176, 320), (176, 400), (256, 328))
DOTS = ((192, 236), (256, 236), (320, 236))
DOT_R = 22


def svg() -> str:
    x0, y0, x1, y1 = BUBBLE
    tail = " ".join(f"{x},{y}" for x, y in TAIL)
    dots = "".join(f'<circle cx="{x}" cy="{y}" r="{DOT_R}" fill="{ACCENT}"/>' for x, y in DOTS)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">'
        f'<rect width="512" height="512" rx="96" fill="{ACCENT}"/>'
        f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" rx="{RADIUS}" '
        f'fill="{WHITE}"/><polygon points="{tail}" fill="{WHITE}"/>{dots}</svg>\n'
    )


def png(size: int, path: Path) -> None:
    from PIL import Image, ImageDraw

    scale = 4  # draw large, then shrink: smooth edges without an antialiasing library
    big = 512 * scale
    image = Image.new("RGB", (big, big), ACCENT)
    draw = ImageDraw.Draw(image)
    s = scale
    draw.rounded_rectangle([v * s for v in BUBBLE], radius=RADIUS * s, fill=WHITE)
    draw.polygon([(x * s, y * s) for x, y in TAIL], fill=WHITE)
    for x, y in DOTS:
        draw.ellipse([(x - DOT_R) * s, (y - DOT_R) * s, (x + DOT_R) * s, (y + DOT_R) * s],
                     fill=ACCENT)  # fmt: skip
    small = image.resize((size, size), Image.Resampling.LANCZOS)
    small = small.quantize(colors=32)  # a few colours: a small file
    small.save(path, optimize=True)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "parlance.svg").write_text(svg())
    for size in (192, 512):
        png(size, OUT / f"parlance-{size}.png")
    for path in sorted(OUT.iterdir()):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
