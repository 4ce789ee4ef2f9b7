"""Build small EPUB files in memory for tests (our own texts, shaped like AO3 / FanFicFare output)."""

from __future__ import annotations

import io
import zipfile

CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""


def page(body: str, title: str = "") -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><head>'
            f'<title>{title}</title><style>p {{ margin: 0 }}</style></head><body>{body}</body></html>')


def build_epub(chapters: list[tuple[str, str, str]], *, title: str = "The Lantern Keeper",
               author: str = "A. Writer", nav: bool = True, extra: dict[str, bytes] | None = None,
               spine_order: list[str] | None = None, linear_no: tuple[str, ...] = (), ncx: bool = False) -> bytes:
    """`chapters`: (file stem, TOC label, XHTML body). The spine follows `spine_order` (stems)
    when given, else the list order; files are stored in the zip in reverse to prove the reader
    follows the spine, not the zip."""
    order = spine_order or [c[0] for c in chapters]
    items = "".join(f'<item id="{s}" href="text/{s}.xhtml" media-type="application/xhtml+xml"/>' for s, _, _ in chapters)
    if nav:
        items += '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
    if ncx:  # EPUB 2: the table of contents is an NCX file named by the spine's toc attribute
        items += '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
    no = ' linear="no"'
    spine = "".join(f'<itemref idref="{s}"{no if s in linear_no else ""}/>' for s in order)
    toc_attr = ' toc="ncx"' if ncx else ""
    opf = (f'<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
           f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title>'
           f'<dc:creator>{author}</dc:creator></metadata><manifest>{items}</manifest>'
           f'<spine{toc_attr}>{spine}</spine></package>')
    points = "".join(f'<navPoint id="p{n}" playOrder="{n}"><navLabel><text>{label}</text></navLabel>'
                     f'<content src="text/{s}.xhtml#start"/></navPoint>' for n, (s, label, _) in enumerate(chapters))
    ncx_doc = ('<?xml version="1.0"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">'
               f'<navMap>{points}</navMap></ncx>')
    navdoc = page('<nav epub:type="toc"><ol>' + "".join(
        f'<li><a href="text/{s}.xhtml">{label}</a></li>' for s, label, _ in chapters) + "</ol></nav>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/container.xml", CONTAINER)
        zf.writestr("OEBPS/content.opf", opf)
        if nav:
            zf.writestr("OEBPS/nav.xhtml", navdoc)
        if ncx:
            zf.writestr("OEBPS/toc.ncx", ncx_doc)
        for stem, _, body in reversed(chapters):
            zf.writestr(f"OEBPS/text/{stem}.xhtml", page(body), compress_type=zipfile.ZIP_DEFLATED)
        for name, data in (extra or {}).items():
            zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


LANTERN = [
    ("preface", "Preface", '<div class="preface"><h1>The Lantern Keeper</h1><p>by A. Writer</p>'
     "<p>Notes: written for a friend. Thanks for reading!</p></div>"),
    ("chapter1", "The Storm", "<p>The wind came off the sea at dusk.</p>"
     "<p>\u201cBring the lamp,\u201d Mara said. \u201cThe boats are still out.\u201d</p>"
     "<p>Tobin climbed the stair behind her, counting the steps.</p>"
     "<p>\u201cHow many are out there?\u201d Tobin asked.</p><script>alert('x')</script>"),
    ("chapter2", "Morning", "<h2>Chapter 2: Morning</h2><p>By morning the sea was flat and grey.</p>"
     "<p>\u201cThey all came home,\u201d Tobin said.</p><p>\u201cThis time,\u201d she answered.</p>"),
    ("afterword", "Afterword", "<p>End notes: the lighthouse is real. Please leave kudos.</p>"),
]
