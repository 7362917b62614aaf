"""Word documents read from their XML: tracked changes accepted, content controls, text boxes, fields.

Every document here is made by the test: python-docx writes a filled form, then the test edits its
XML the way Word does when 修订 (Track Changes) is on.
"""

import copy
import io
import random
import re
import zipfile
from pathlib import Path

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from wennuan_lib.check import rules
from wennuan_lib.read import parts, readers, word

from . import sample_data as sample

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = (
    f'xmlns:w="{W}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)
REV = 'w:id="{n}" w:author="张伟" w:date="2013-01-20T10:00:00Z"'


def run(text: str) -> str:
    """A run; line breaks and tabs in `text` become w:br and w:tab as Word writes them."""
    inner = "".join(
        {"\n": "<w:br/>", "\t": "<w:tab/>"}.get(part) or f'<w:t xml:space="preserve">{part}</w:t>'
        for part in re.split(r"([\n\t])", text)
        if part
    )
    return f"<w:r>{inner}</w:r>"


def ins(text: str, n: int = 1) -> str:
    return f"<w:ins {REV.format(n=n)}>{run(text)}</w:ins>"


def dele(text: str, n: int = 2) -> str:
    return f'<w:del {REV.format(n=n)}><w:r><w:delText xml:space="preserve">{text}</w:delText></w:r></w:del>'


def move_from(text: str, n: int = 3) -> str:
    return (
        f"<w:moveFrom {REV.format(n=n)}><w:r><w:delText>{text}</w:delText></w:r></w:moveFrom>"
        if n % 2
        else f"<w:moveFrom {REV.format(n=n)}><w:r><w:t>{text}</w:t></w:r></w:moveFrom>"
    )


def move_to(text: str, n: int = 4) -> str:
    return f"<w:moveTo {REV.format(n=n)}>{run(text)}</w:moveTo>"


def inline_sdt(text: str) -> str:
    return (
        f'<w:sdt><w:sdtPr><w:alias w:val="数字"/></w:sdtPr><w:sdtContent>{run(text)}</w:sdtContent></w:sdt>'
    )


def text_box(text: str) -> str:
    """A text box as Word 2010+ saves it: DrawingML in mc:Choice,
    the same text again as VML in mc:Fallback."""
    body = f"<w:txbxContent><w:p>{run(text)}</w:p></w:txbxContent>"
    return (
        '<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData>'
        f"<wps:wsp><wps:txbx>{body}</wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>"
        f"</mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>{body}</v:textbox></v:shape></w:pict>"
        "</mc:Fallback></mc:AlternateContent></w:r>"
    )


def with_document_xml(data: bytes, edit) -> bytes:
    """The same .docx with word/document.xml passed through `edit` (str -> str)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "word/document.xml":
                body = edit(body.decode("utf-8")).encode("utf-8")
            z.writestr(info.filename, body)
    return out.getvalue()


def body_docx(path: Path, body: str) -> Path:
    """A .docx whose body is exactly `body` (WordprocessingML)."""
    buf = io.BytesIO()
    docx.Document().save(buf)

    def edit(xml: str) -> str:
        start = xml.index("<w:body>") + len("<w:body>")
        end = xml.index("</w:body>")
        return xml[:start] + body + xml[end:]

    def declare(xml: str) -> str:
        root = xml[xml.index("<w:document") : xml.index(">", xml.index("<w:document"))]
        missing = " ".join(d for d in NS.split(" ") if d.split("=")[0] not in root)
        return xml.replace("<w:document ", f"<w:document {missing} ", 1)

    path.write_bytes(with_document_xml(buf.getvalue(), lambda x: declare(edit(x))))
    return path


def texts_of(path: Path) -> dict[str, tuple[str, bool]]:
    return {b.loc: (b.text, b.revised) for b in readers.read(path).blocks}


# --- the reader on hand-made XML -----------------------------------------------------------------


def test_inserted_text_counts_and_deleted_text_does_not(tmp_path):
    path = body_docx(
        tmp_path / "a.docx", f"<w:p>{run('走访企业 ')}{dele('352')}{ins('252')}{run(' 家')}</w:p>"
    )
    assert texts_of(path) == {"第1段": ("走访企业 252 家", True)}
    block = readers.read(path).blocks[0]
    assert [block.text[a:b] for a, b in block.revised_spans] == ["252"]  # precise to the character


def test_python_docx_would_have_lost_the_inserted_digits(tmp_path):
    """The bug this reader fixes: python-docx's paragraph.text drops w:ins (252 read as 52)."""
    path = body_docx(tmp_path / "a.docx", f"<w:p>{run('共')}{dele('3')}{ins('2')}{run('52人')}</w:p>")
    assert docx.Document(str(path)).paragraphs[0].text == "共52人"
    assert texts_of(path)["第1段"][0] == "共252人"


def test_moves_count_at_their_destination_only(tmp_path):
    path = body_docx(
        tmp_path / "a.docx",
        f"<w:p>{run('慰问')}{move_from('999', 3)}{move_from('888', 2)}{run('户')}</w:p>"
        f"<w:p>{run('走访')}{move_to('777')}{run('家')}</w:p>",
    )
    # the text moved away counts only where it went; where it stood is marked (an empty range): 慰问户 changed
    assert texts_of(path) == {"第1段": ("慰问户", True), "第2段": ("走访777家", True)}
    assert readers.read(path).blocks[0].revised_spans == ((2, 2),)


def matched_with_blanks(form, path: Path, blanks: dict[str, str]):
    """The form filled in Word, each blank of `blanks` holding the runs given (revisions included), as the
    matcher reads it."""
    marks = {code: f"⟦{k}⟧" for k, code in enumerate(blanks, 1)}
    filled_form(form, path, marks)

    def edit(xml: str) -> str:
        for code, mark in marks.items():
            xml = split_run(xml, mark, blanks[code])
        return xml

    path.write_bytes(with_document_xml(path.read_bytes(), edit))
    return parts.read_form(readers.read(path), form)


def test_a_figure_changed_by_a_deletion_alone_is_flagged(form, tmp_path):
    """352 with the 3 deleted reads 52: no character was inserted, but the blank was revised."""
    m = matched_with_blanks(form, tmp_path / "a.docx", {"01A.1": dele("3") + run("52"), "01A.2": run("40")})
    assert m.values["01A.1"].raw.strip() == "52" and m.values["01A.1"].revised is True
    assert m.values["01A.2"].revised is False


def test_insert_then_deleted_by_another_reviewer_does_not_count(tmp_path):
    path = body_docx(
        tmp_path / "a.docx",
        f"<w:p>{run('共')}<w:ins {REV.format(n=5)}>{dele('12', 6)}</w:ins>{run('3人')}</w:p>",
    )
    assert texts_of(path)["第1段"] == ("共3人", False)


def test_content_controls_block_and_inline(tmp_path):
    body = (
        f"<w:sdt><w:sdtPr/><w:sdtContent><w:p>{run('填报单位：常熟市总工会')}</w:p></w:sdtContent></w:sdt>"
        f"<w:p>{run('走访企业')}{inline_sdt('55')}{run('家')}</w:p>"
    )
    assert texts_of(tmp_path and body_docx(tmp_path / "a.docx", body)) == {
        "第1段": ("填报单位：常熟市总工会", False),
        "第2段": ("走访企业55家", False),
    }


def test_text_box_is_read_once_with_its_own_label(tmp_path):
    body = f"<w:p>{run('附件：')}</w:p><w:p>{run('统计表')}{text_box('填报单位：吴中区总工会')}</w:p>"
    assert texts_of(body_docx(tmp_path / "a.docx", body)) == {
        "第1段": ("附件：", False),
        "第2段": ("统计表", False),
        "第2段（文本框）": ("填报单位：吴中区总工会", False),
    }


def test_hyperlinks_smart_tags_fields_tabs_and_breaks(tmp_path):
    body = (
        "<w:p>"
        f'<w:hyperlink r:id="rId99">{run("联系")}</w:hyperlink>'
        f'<w:smartTag w:uri="x" w:element="y">{run("电话")}</w:smartTag>'
        "<w:r><w:tab/></w:r>"
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        + run("0512")
        + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        f'<w:fldSimple w:instr=" NUMPAGES ">{run("-1234")}</w:fldSimple>'
        "<w:r><w:br/></w:r>" + run("第二行") + "<w:r><w:cr/></w:r>" + run("第三行") + "</w:p>"
    )
    assert texts_of(body_docx(tmp_path / "a.docx", body))["第1段"][0] == "联系电话\t0512-1234\n第二行\n第三行"


def test_tables_merged_nested_and_deleted_rows(tmp_path):
    def tc(text, props=""):
        return f"<w:tc><w:tcPr>{props}</w:tcPr><w:p>{run(text)}</w:p></w:tc>"

    nested = f"<w:tbl><w:tr>{tc('内1')}{tc('内2')}</w:tr></w:tbl>"
    span, restart = '<w:gridSpan w:val="2"/>', '<w:vMerge w:val="restart"/>'
    body = (
        "<w:tbl>"
        f"<w:tr>{tc('甲', span)}{tc('乙', restart)}</w:tr>"
        f"<w:tr>{tc('丙')}{tc('丁')}{tc('', '<w:vMerge/>')}</w:tr>"
        f"<w:tr><w:trPr><w:del {REV.format(n=7)}/></w:trPr>{tc('删掉的行')}</w:tr>"
        f"<w:tr><w:tc><w:p>{run('外')}</w:p>{nested}<w:p/></w:tc>"
        f"<w:sdt><w:sdtContent>{tc('控件中的格')}</w:sdtContent></w:sdt></w:tr>"
        "</w:tbl>"
    )
    got = texts_of(body_docx(tmp_path / "a.docx", body))
    assert got == {
        "表1第1行第1列": ("甲", False),
        "表1第1行第3列": ("乙", False),
        "表1第2行第1列": ("丙", False),
        "表1第2行第2列": ("丁", False),
        "表1第4行第1列": ("外\n", False),
        "表1第4行第1列（嵌套表1第1行第1列）": ("内1", False),
        "表1第4行第1列（嵌套表1第1行第2列）": ("内2", False),
        "表1第4行第2列": ("控件中的格", False),
    }


# --- a whole filled form with revisions, through ingest and the checks ------------------------------

HEADER = {"unit": "常熟市总工会", "date_text": "2013年1月18日", "person": "张伟", "phone": "0512-52345678"}


def filled_form(form, path: Path, marks: dict[str, str]) -> dict[str, str]:
    """A filled sentence-layout .docx; the blanks in `marks` get a placeholder the test replaces in the XML.
    Returns what each blank holds in the end."""
    texts = {c: str(10 + i) for i, c in enumerate(form.codes)}
    final = dict(texts)
    for code, mark in marks.items():
        texts[code] = mark
    sample.write_sentence_docx(form, path, texts, HEADER, random.Random(3), merge_like_seed=False)
    return final


def split_run(xml: str, mark: str, replacement: str) -> str:
    """Replace a placeholder inside a w:t by revision markup (closing and reopening the run around it)."""
    return xml.replace(mark, f'</w:t></w:r>{replacement}<w:r><w:t xml:space="preserve">')


def test_revised_form_reads_final_text_and_flags_each_revised_blank(form, year_dir):
    path = year_dir.inbox / "常熟市总工会送温暖统计表.docx"
    final = filled_form(form, path, {"01A.1": "⟦1⟧", "04A.1": "⟦2⟧", "05.1": "⟦3⟧", "02A.1": "⟦4⟧"})
    final.update({"01A.1": "252", "04A.1": "777", "05.1": "557.78", "02A.1": "55"})
    edits = {
        "⟦1⟧": dele("352") + ins("252"),
        "⟦2⟧": move_from("111") + move_to("777"),
        "⟦3⟧": run("55") + ins("7.78"),
        "⟦4⟧": inline_sdt("55"),
    }

    def edit(xml):
        for mark, rep in edits.items():
            xml = split_run(xml, mark, rep)
        return xml

    path.write_bytes(with_document_xml(path.read_bytes(), edit))
    frames = year_dir.ingest()
    values = frames["values"].set_index("item")
    assert {c: values.loc[c, "value"] for c in form.codes} == final
    revised = {c for c in form.codes if values.loc[c, "revised"]}
    assert revised == {"01A.1", "04A.1", "05.1"}  # the content control is not a revision
    assert "Word修订" in values.loc["01A.1", "note"] and "修订" not in values.loc["02A.1", "note"]
    extracted = year_dir.load("extracted")
    assert list(extracted.columns).index("revised") == list(extracted.columns).index("note") + 1
    year_dir.clean()
    issues = year_dir.load("issues")
    r01 = issues[issues["rule"] == rules.REVISED_ID]
    assert sorted(r01["item"]) == ["01A.1", "04A.1", "05.1"]
    assert set(r01["severity"]) == {rules.WARNING}
    assert (
        r01["message"].str.contains("「252」").any()
        and (r01["action"] == "请确认修订后的数字是否为最终数字").all()
    )


def test_revised_blank_flag_is_per_character_not_per_cell(form, tmp_path):
    """A revision elsewhere in the same cell does not flag the blank; one inside the blank does."""
    m = matched_with_blanks(form, tmp_path / "a.docx", {"01A.1": run("300") + ins(" "), "01A.2": run("40")})
    assert m.values["01A.1"].raw.strip() == "300" and m.values["01A.1"].revised is False
    m2 = matched_with_blanks(form, tmp_path / "b.docx", {"01A.1": run("3") + ins("0") + run("0")})
    assert m2.values["01A.1"].raw.strip() == "300" and m2.values["01A.1"].revised is True
    assert m2.values["01A.2"].revised is False


# --- hypothesis: random revisions never change which text counts --------------------------------------


@pytest.fixture(scope="module")
def filled_body(tmp_path_factory, form):
    path = tmp_path_factory.mktemp("word") / "filled.docx"
    filled_form(form, path, {})
    element = docx.Document(str(path)).element.body
    walker = word.Walker()
    walker.body(element)
    return element, walker.blocks


def paragraph_text(p) -> str:
    t = word.Text()
    word.inline(p, t, False)
    return t.text


def _rewrite(paragraph, pieces) -> None:
    """Replace a paragraph's runs by `pieces`: (kind, text)
    with kind plain / ins / del / movefrom / moveto."""
    for r in [c for c in paragraph if c.tag != f"{{{W}}}pPr"]:
        paragraph.remove(r)
    xml = "".join(
        {"plain": run, "ins": ins, "del": dele, "movefrom": move_from, "moveto": move_to, "sdt": inline_sdt}[
            kind
        ](text)
        for kind, text in pieces
    )
    for el in etree.fromstring(f'<w:p xmlns:w="{W}">{xml}</w:p>'):
        paragraph.append(el)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_revisions_never_change_which_text_counts(filled_body, form, data):
    element, blocks = filled_body
    body = copy.deepcopy(element)
    paragraphs = [p for p in body.iter(f"{{{W}}}p") if paragraph_text(p).strip()]
    chosen = sorted(
        data.draw(st.lists(st.sampled_from(range(len(paragraphs))), min_size=1, max_size=6, unique=True))
    )
    junk = st.text(alphabet="0123456789一二三万元户人，。 ", min_size=1, max_size=6)
    inserted = []
    for i in chosen:
        p = paragraphs[i]
        text = paragraph_text(p)
        cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
        pieces, last = [], 0
        for cut in [*cuts, len(text)]:
            seg = text[last:cut]
            last = cut
            if not seg:
                continue
            kind = data.draw(st.sampled_from(["plain", "ins", "moveto", "sdt"]))
            if kind in ("ins", "moveto"):
                inserted.append(seg)
            pieces.append((kind, seg.replace("&", "&amp;").replace("<", "&lt;")))
            if data.draw(st.booleans()):  # deleted or moved-away text never counts
                pieces.append((data.draw(st.sampled_from(["del", "movefrom"])), data.draw(junk)))
        _rewrite(p, pieces)
    walker = word.Walker()
    walker.body(body)
    assert [(b.loc, b.text) for b in walker.blocks] == [(b.loc, b.text) for b in blocks]
    assert "".join(b.text[a:z] for b in walker.blocks for a, z in b.revised_spans) == "".join(inserted)
    original = parts.read_form(readers.Extract(Path("x.docx"), "docx", blocks, kind="docx"), form)
    revised = parts.read_form(readers.Extract(Path("x.docx"), "docx", walker.blocks, kind="docx"), form)
    assert {c: f.raw for c, f in revised.values.items()} == {c: f.raw for c, f in original.values.items()}
