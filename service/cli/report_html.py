"""The duplicate report as one self-contained HTML file: a contact sheet a person scans.

One row a group: its thumbnails (embedded as data URIs, made from the paths a build
recorded), each with its id, distance and similarity to the representative, size and
format. The groups are data in the page, rendered a page at a time by a short script, so
100k groups stay usable; filters by group size, distance and id. A Content-Security-Policy
allows nothing but the page itself and data: images: opening it makes no network request.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .groups import Group, ReportImage

__all__ = ["write_html"]

THUMBNAIL_SIDE = 112


def thumbnail(path: str | None) -> str:
    """A JPEG data URI of the image at `path` fitted into the thumbnail square, or "" when
    there is no readable image there."""
    if not path:
        return ""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as opened:
            opened.draft("RGB", (THUMBNAIL_SIDE * 2, THUMBNAIL_SIDE * 2))
            picture = ImageOps.exif_transpose(opened)
            picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            if picture.mode in ("RGBA", "LA", "P"):
                picture = picture.convert("RGBA")
                backdrop = Image.new("RGB", picture.size, "white")
                backdrop.paste(picture, mask=picture.getchannel("A"))
                picture = backdrop
            buffer = io.BytesIO()
            picture.convert("RGB").save(buffer, "JPEG", quality=75)
    except Exception:  # a moved, unreadable or broken file: no preview, never a failure
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def _member(image: ReportImage, distance: int, thumb: str) -> dict[str, Any]:
    meta = image.metadata
    return {
        "id": image.id,
        "d": distance,
        "w": meta.get("width", ""),
        "h": meta.get("height", ""),
        "f": meta.get("format", ""),
        "q": "" if image.quality is None else image.quality,
        "t": thumb,
    }


def _page_data(groups: Sequence[Group], thumbnail_groups: int) -> list[list[dict[str, Any]]]:
    wanted = [image for group in groups[:thumbnail_groups] for image in group.images]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        thumbs = dict(
            zip(
                (i.id for i in wanted),
                pool.map(lambda i: thumbnail(i.metadata.get("path")), wanted),
                strict=True,
            )
        )
    return [
        [
            _member(image, group.distances[image.id], thumbs.get(image.id, ""))
            for image in group.images
        ]
        for group in groups
    ]


def write_html(
    path: Path, groups: Sequence[Group], radius: int, strict: bool, thumbnail_groups: int
) -> None:
    """Writes the contact sheet."""
    data = json.dumps(_page_data(groups, thumbnail_groups), separators=(",", ":"))
    title = f"neardup: {len(groups)} duplicate groups at radius {radius}"
    mode = "every pair within the radius" if strict else "connected within the radius"
    page = (
        _TEMPLATE.replace("{{title}}", html.escape(title))
        .replace("{{mode}}", html.escape(mode))
        .replace("{{radius}}", str(radius))
        .replace("{{data}}", data.replace("</", "<\\/"))
    )
    path.write_text(page, encoding="utf-8")


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>{{title}}</title>
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#f4f4f4;color:#222}
header{position:sticky;top:0;background:#fff;padding:10px 16px;border-bottom:1px solid #ccc}
header h1{font-size:17px;margin:0 0 6px}
header label{margin-right:14px}
header input{width:70px}
#pager button{margin:0 4px}
.group{background:#fff;margin:10px 16px;padding:8px;border-radius:6px;display:flex;
 flex-wrap:wrap;gap:8px;align-items:flex-start}
.group .n{width:100%;color:#555;font-size:12px}
figure{margin:0;width:124px;font-size:11px;overflow-wrap:anywhere}
figure img,figure .none{width:112px;height:112px;object-fit:contain;background:#eee;
 display:block;border:2px solid transparent}
figure.rep img,figure.rep .none{border-color:#2a7}
figure .none{display:flex;align-items:center;justify-content:center;color:#999}
</style></head><body>
<header><h1>{{title}}</h1>
<div>Groups: {{mode}} (R = {{radius}} bits). Green: the representative.</div>
<label>min size <input id="size" type="number" min="2" value="2"></label>
<label>max distance <input id="dist" type="number" min="0" max="64" value="64"></label>
<label>id contains <input id="text" type="search" style="width:160px"></label>
<span id="count"></span> <span id="pager"></span></header>
<main id="groups"></main>
<script type="application/json" id="data">{{data}}</script>
<script>
const groups = JSON.parse(document.getElementById("data").textContent);
const PAGE = 50;
let page = 0, shown = groups;
const $ = (id) => document.getElementById(id);
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function figure(m, rep) {
  const f = el("figure", rep ? "rep" : "");
  if (m.t) { const i = el("img"); i.src = m.t; i.alt = m.id; f.append(i); }
  else f.append(el("div", "none", "no preview"));
  const sim = (1 - m.d / 64).toFixed(3);
  f.append(el("figcaption", "", `${m.id} · d=${m.d} · sim ${sim}` +
    (m.w ? ` · ${m.w}x${m.h}` : "") + (m.f ? ` ${m.f}` : "") +
    (m.q !== "" ? ` · quality ${m.q}` : "")));
  return f;
}
function render() {
  const box = $("groups");
  box.replaceChildren();
  const start = page * PAGE;
  shown.slice(start, start + PAGE).forEach((g, k) => {
    const row = el("section", "group");
    const far = Math.max(...g.map((m) => m.d));
    row.append(el("div", "n", `group ${start + k + 1}: ${g.length} images, farthest d=${far}`));
    g.forEach((m, i) => row.append(figure(m, i === 0)));
    box.append(row);
  });
  const pages = Math.max(1, Math.ceil(shown.length / PAGE));
  $("count").textContent = `${shown.length} groups shown`;
  const pager = $("pager");
  pager.replaceChildren();
  const prev = el("button", "", "< prev"), next = el("button", "", "next >");
  prev.disabled = page === 0; next.disabled = page >= pages - 1;
  prev.onclick = () => { page--; render(); scrollTo(0, 0); };
  next.onclick = () => { page++; render(); scrollTo(0, 0); };
  pager.append(prev, el("span", "", `page ${page + 1} of ${pages}`), next);
}
function filter() {
  const size = +$("size").value || 2, dist = +$("dist").value, text = $("text").value;
  shown = groups.filter((g) => g.length >= size &&
    Math.max(...g.map((m) => m.d)) <= dist && (!text || g.some((m) => m.id.includes(text))));
  page = 0;
  render();
}
["size", "dist", "text"].forEach((id) => $(id).addEventListener("input", filter));
render();
</script></body></html>
"""
