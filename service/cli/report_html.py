"""The duplicate report as an HTML contact sheet a person scans, bounded in what a browser
loads at a time, so that a report of a million images opens as fast as one of a thousand.

`report.html` holds the summary and the first page of groups (largest first); every further
page is a small script beside it (`report_files/page-00002.js`, loaded when the page is
opened), and every thumbnail a JPEG file there too (`report_files/t/…`, loaded by the
browser as it scrolls into view: `loading="lazy"`). What one page costs the browser is
bounded by `GROUPS_PER_PAGE` and `MEMBERS_SHOWN`, whatever the library's size. The files
are plain: they open from disk (file://) or from any static web server, and a
Content-Security-Policy lets them load nothing but themselves: opening the report makes no
network request.

Thumbnails are made for the images of the first `thumbnail_groups` groups: from the
picture a collection keeps for each image when it keeps thumbnails, else from the file the
build recorded (when it is readable here).
"""

from __future__ import annotations

import html
import json
import os
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .groups import Group, ReportImage

__all__ = ["GROUPS_PER_PAGE", "MEMBERS_SHOWN", "thumbnail_file", "with_thumbnails", "write_html"]

# A page of the sheet: what the browser builds at once. 100 groups of at most 60 members
# each is at most 6,000 figures (a few hundred KB of page data).
GROUPS_PER_PAGE = 100
MEMBERS_SHOWN = 60
MODES = {
    "centred": "every member within the radius of its representative",
    "components": "connected within the radius",
    "strict": "every pair within the radius",
}
Thumbnail = Callable[[ReportImage], bytes | None]


def thumbnail_file(path: str | None) -> bytes | None:
    """The preview of the image file at `path`, or None when there is no readable image
    there (a moved, unreadable or broken file: no preview, never a failure)."""
    if not path:
        return None
    from neardup.index.errors import NeardupError
    from neardup.index.fingerprint import make_thumbnail

    try:
        with open(path, "rb") as f:
            return make_thumbnail(f.read())
    except (OSError, NeardupError):
        return None


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


def with_thumbnails(groups: Sequence[Group], count: int) -> list[ReportImage]:
    """The images the sheet shows a thumbnail of: the shown members of the first `count`
    groups."""
    return [image for group in groups[:count] for image in group.images[:MEMBERS_SHOWN]]


def _thumbnails(
    groups: Sequence[Group], count: int, thumbnail: Thumbnail, folder: Path
) -> dict[str, str]:
    """Writes the thumbnails of the first `count` groups' shown members; their paths
    relative to the page, by image id."""
    wanted = with_thumbnails(groups, count)
    (folder / "t").mkdir(parents=True, exist_ok=True)

    def made(numbered: tuple[int, ReportImage]) -> tuple[str, str]:
        number, image = numbered
        data = thumbnail(image)
        if data is None:
            return image.id, ""
        (folder / "t" / f"{number}.jpg").write_bytes(data)
        return image.id, f"{folder.name}/t/{number}.jpg"

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return dict(pool.map(made, enumerate(wanted)))


def _page(groups: Sequence[Group], start: int, thumbs: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "n": start + k + 1,
            "size": len(group.images),
            "far": max(group.distances.values()),
            "m": [
                _member(image, group.distances[image.id], thumbs.get(image.id, ""))
                for image in group.images[:MEMBERS_SHOWN]
            ],
        }
        for k, group in enumerate(groups[start : start + GROUPS_PER_PAGE])
    ]


def _script_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/")


def write_html(
    path: Path,
    groups: Sequence[Group],
    radius: int,
    grouping: str,
    thumbnail_groups: int,
    thumbnail: Thumbnail = lambda image: thumbnail_file(image.metadata.get("path")),
) -> Path:
    """Writes the sheet: `path` and the folder of its further pages and thumbnails
    (`<stem>_files`, replaced); returns the folder."""
    folder = path.with_name(f"{path.stem}_files")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()  # beside the page, whose folder exists
    thumbs = _thumbnails(groups, thumbnail_groups, thumbnail, folder)
    pages = max(1, -(-len(groups) // GROUPS_PER_PAGE))
    for number in range(2, pages + 1):
        data = _page(groups, (number - 1) * GROUPS_PER_PAGE, thumbs)
        (folder / f"page-{number:05d}.js").write_text(
            f"neardupPage({number},{_script_json(data)});\n", encoding="utf-8"
        )
    grouped = sum(len(g.images) for g in groups)
    title = f"neardup: {len(groups):,} duplicate groups of {grouped:,} images at radius {radius}"
    summary = {"pages": pages, "folder": folder.name, "perPage": GROUPS_PER_PAGE}
    page = (
        _TEMPLATE.replace("{{title}}", html.escape(title))
        .replace("{{mode}}", html.escape(MODES[grouping]))
        .replace("{{radius}}", str(radius))
        .replace("{{summary}}", _script_json(summary))
        .replace("{{first}}", _script_json(_page(groups, 0, thumbs)))
    )
    path.write_text(page, encoding="utf-8")
    return folder


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline';
 script-src 'self' file: 'unsafe-inline'">
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
<div>Groups: {{mode}} (R = {{radius}} bits), largest first. Green: the representative
(the best copy). Filters apply to the page shown.</div>
<label>min size <input id="size" type="number" min="2" value="2"></label>
<label>max distance <input id="dist" type="number" min="0" max="64" value="64"></label>
<label>id contains <input id="text" type="search" style="width:160px"></label>
<span id="count"></span> <span id="pager"></span></header>
<main id="groups"></main>
<script type="application/json" id="summary">{{summary}}</script>
<script type="application/json" id="first">{{first}}</script>
<script>
const summary = JSON.parse(document.getElementById("summary").textContent);
const loaded = {1: JSON.parse(document.getElementById("first").textContent)};
let page = 1;
const $ = (id) => document.getElementById(id);
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function figure(m, rep) {
  const f = el("figure", rep ? "rep" : "");
  if (m.t) {
    const i = el("img"); i.loading = "lazy"; i.src = m.t; i.alt = m.id; f.append(i);
  } else f.append(el("div", "none", "no preview"));
  const sim = (1 - m.d / 64).toFixed(3);
  f.append(el("figcaption", "", `${m.id} · d=${m.d} · sim ${sim}` +
    (m.w ? ` · ${m.w}x${m.h}` : "") + (m.f ? ` ${m.f}` : "") +
    (m.q !== "" ? ` · quality ${m.q}` : "")));
  return f;
}
function neardupPage(number, groups) { loaded[number] = groups; if (number === page) render(); }
function show(number) {
  page = Math.min(Math.max(1, number), summary.pages);
  if (loaded[page]) { render(); return; }
  const s = document.createElement("script");
  s.src = `${summary.folder}/page-${String(page).padStart(5, "0")}.js`;
  document.body.append(s);
}
function render() {
  const size = +$("size").value || 2, dist = +$("dist").value, text = $("text").value;
  const shown = loaded[page].filter((g) => g.size >= size && g.far <= dist &&
    (!text || g.m.some((m) => m.id.includes(text))));
  const box = $("groups");
  box.replaceChildren();
  shown.forEach((g) => {
    const row = el("section", "group");
    const more = g.size > g.m.length ? ` (the first ${g.m.length} shown)` : "";
    row.append(el("div", "n", `group ${g.n}: ${g.size} images${more}, farthest d=${g.far}`));
    g.m.forEach((m, i) => row.append(figure(m, i === 0)));
    box.append(row);
  });
  $("count").textContent = `${shown.length} groups shown`;
  const pager = $("pager");
  pager.replaceChildren();
  const prev = el("button", "", "< prev"), next = el("button", "", "next >");
  prev.disabled = page === 1; next.disabled = page >= summary.pages;
  prev.onclick = () => { show(page - 1); scrollTo(0, 0); };
  next.onclick = () => { show(page + 1); scrollTo(0, 0); };
  pager.append(prev, el("span", "", `page ${page} of ${summary.pages}`), next);
}
["size", "dist", "text"].forEach((id) => $(id).addEventListener("input", render));
render();
</script></body></html>
"""
