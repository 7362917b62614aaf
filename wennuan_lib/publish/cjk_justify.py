"""Justified Chinese lines in WeasyPrint: the extra width of a line without spaces goes between its Chinese
characters.

WeasyPrint (70) justifies a line by widening its spaces only (`weasyprint.layout.inline.justify_line`).
Chinese prose has no spaces, so `text-align: justify` leaves the right edge ragged — more so once a figure and
its measure word are kept on one line (「占2.9%」, 「32个」). CSS's answer, `text-justify: inter-character`,
is not implemented there.

`inter_character()` replaces that one function while a PDF is made: a line with spaces is justified as before;
a line without gets the missing width as letter spacing after each Chinese character and full-width sign
(never inside a figure such as 4397.56, whose digits stay together), as Word and Chinese typesetting do. A
line that would need more than `MAX_SPACING_EM` per character is left as it is (better ragged than spaced
out). If the library's internals change, nothing is replaced and the text stays ragged, never broken; tests
read the right edge of the PDF.
"""

from __future__ import annotations

import contextlib
import logging
import re

MAX_SPACING_EM = 0.5  # the widest gap a justified line may have between two characters
DRAWN_SLACK_PX = 0.75  # a justified line is filled to this much short of its end (CSS pixels, 0.2 mm)
RELAX_EM = 0.25  # a line that needs more than this is reported, so its paragraph can keep less together
WIDE = re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f\u2014\u2026\u201c\u201d]")
log = logging.getLogger(__name__)


def _text_boxes(box, boxes):
    if isinstance(box, boxes.TextBox):
        yield box
    elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        for child in box.children:
            if child.is_in_normal_flow():
                yield from _text_boxes(child, boxes)


def _tracking(style) -> float:
    """A box's own letter spacing (CSS `letter-spacing`, in CSS pixels; 'normal' is none)."""
    value = style["letter_spacing"]
    return float(value) if isinstance(value, (int, float)) else 0.0


@contextlib.contextmanager
def inter_character(too_wide: set | None = None):
    """While in this block, WeasyPrint justifies lines without spaces between their Chinese characters.
    The `data-p` of every paragraph with a line that needs more than RELAX_EM between its characters is added
    to `too_wide`, with whether it needs more than MAX_SPACING_EM (the line would be left ragged)."""
    try:
        # weasyprint: 0.35 s to import, needed only while a PDF is made (render imports this module); and a
        # WeasyPrint whose internals moved must leave the text ragged, not make importing render fail
        from weasyprint.formatting_structure import boxes
        from weasyprint.layout import inline
        from weasyprint.text.ffi import TO_UNITS, ffi, pango
        from weasyprint.text.line_break import Layout, line_size

        original = inline.justify_line
        count_spaces = inline.count_expandable_spaces
    except (ImportError, AttributeError) as exc:  # another WeasyPrint: justify as it does
        log.warning("WeasyPrint 的两端对齐无法调整（%s），中文行尾可能不齐", exc)
        yield
        return

    class Spaced(Layout):
        """A text box's layout with `spacing` after each wide character (kept when the box is drawn): the
        box's own letter spacing and the justification's extra."""

        spacing = 0.0

        def set_text(self, text, justify=False):
            super().set_text(text, justify)
            if not self.spacing:
                return
            attrs = pango.pango_layout_get_attributes(self.layout)
            if attrs == ffi.NULL:
                attrs = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
            for m in WIDE.finditer(self.text):
                attr = pango.pango_attr_letter_spacing_new(int(self.spacing * TO_UNITS))
                attr.start_index = len(self.text[: m.start()].encode())
                attr.end_index = attr.start_index + len(m.group().encode())
                pango.pango_attr_list_change(attrs, attr)
            pango.pango_layout_set_attributes(self.layout, attrs)

    def spaced(box, spacing: float):
        """`box`'s spaced layout (`spacing` more than its own letter spacing) and the width it grows by."""
        layout = Spaced(box.style, box.justification_spacing)
        layout.spacing = _tracking(box.style) + spacing
        layout.set_text(box.text)
        first, _ = layout.get_first_line()
        width, _ = line_size(first, box.style)
        layout.deactivate()
        return layout, width - box.width

    def spread(box, made: dict, x_advance: float) -> float:
        """Move every box by what the boxes before it grew; give each text box its spaced layout. Pango spaces
        a character half before and half after, but not past the ends of a box's text: where a box ends in a
        wide character, the gap it owes the next box is added between them."""
        if isinstance(box, boxes.TextBox):
            box.position_x += x_advance
            if id(box) in made:
                box.pango_layout, grown, gap = made[id(box)]
                box.width += grown
                x_advance += grown + gap
            return x_advance
        if isinstance(box, (boxes.LineBox, boxes.InlineBox)):
            box.position_x += x_advance
            start = x_advance
            for child in box.children:
                if child.is_in_normal_flow():
                    x_advance = spread(child, made, x_advance)
            box.width += x_advance - start
            return x_advance
        box.translate(x_advance, 0)  # an atomic inline box (an image): moved, not widened
        return x_advance

    def layouts(texts: list, spacing: float) -> dict:
        """Each text box's spaced layout, what it grows by, and the gap after it (not after the line's last
        box)."""
        made = {}
        for k, t in enumerate(texts):
            layout, grown = spaced(t, spacing)
            gap = spacing if k < len(texts) - 1 and WIDE.match(t.text[-1:]) else 0.0
            made[id(t)] = (layout, grown, gap)
        return made

    def justify_line(context, line, extra_width):
        if count_spaces(line) or extra_width <= 0:
            return original(context, line, extra_width)
        texts = [t for t in _text_boxes(line, boxes) if t.text]
        if texts:  # the library counts a letter spacing after the line's last character, which is not drawn;
            # and Pango's glyph positions land up to about a third of a pixel past the sum measured
            extra_width += _tracking(texts[-1].style) - DRAWN_SLACK_PX
        wide = sum(len(WIDE.findall(t.text)) for t in texts)
        size = line.style["font_size"]
        if too_wide is not None and (wide < 2 or extra_width / wide > RELAX_EM * size):
            paragraph = getattr(line, "element", None)
            if paragraph is not None and paragraph.get("data-p"):
                worst = wide < 2 or extra_width / wide > MAX_SPACING_EM * size
                too_wide.add((paragraph.get("data-p"), worst))
        if wide < 2 or extra_width / wide > MAX_SPACING_EM * size:
            return None
        try:  # growth is affine in the spacing (our layout of a box need not be exactly the library's at
            # none): measure it at two points, then space to fill the line exactly
            at0 = sum(grown + gap for _, grown, gap in layouts(texts, 0.0).values())
            unit = sum(grown + gap for _, grown, gap in layouts(texts, 1.0).values()) - at0
            made = layouts(texts, (extra_width - at0) / unit) if unit > 0 else None
        except Exception as exc:  # the library changed under us: this line stays ragged
            log.warning("中文两端对齐失败（%s）", exc)
            return None
        if made:
            spread(line, made, 0)
        return None

    inline.justify_line = justify_line
    try:
        yield
    finally:
        inline.justify_line = original
