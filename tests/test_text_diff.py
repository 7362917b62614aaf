"""The words of the 书面总结 compared with the sent version's (wennuan_lib/run/text_diff.py): what a reader
reads, each change quoted where it is, on HTML files written here."""

from wennuan_lib.run import text_diff

PAGE = """<html><body><div class="draft-mark">草稿</div>
<div class="draft-list"><h2>草稿：以下问题尚未解决</h2><ol><li>{reason}</li></ol></div>
<h1><span>关于2013年送温暖活动</span><br><span>情况的总结</span></h1>
<h2>一、基本情况</h2>
<p class="para">共筹集慰问款物<span class="fig" title="05.1">{money}万元</span>，其中政府拨款若干。</p>
<figure data-chart="c1"><img src="c1.png"><figcaption>图1 筹集慰问款物来源</figcaption></figure>
<h2>四、存在问题</h2>{problems}
<div class="attachments"><p>附件：1. 全市送温暖活动统计汇总表</p></div>
<div class="closing"><div class="block"><p class="sign">某市总工会</p><p class="date">{date}</p></div></div>
<div class="appendix"><h2>附件1</h2><table><tr><td>{money}</td></tr></table></div></body></html>"""


def _text(tmp_path, name, **parts):
    fields = {"reason": "一条理由", "money": "3739.52", "date": "2013年1月28日", "problems": ""}
    path = tmp_path / f"{name}.html"
    path.write_text(PAGE.format(**{**fields, **parts}), encoding="utf-8")
    return text_diff.report_text(text_diff.page(path))


def test_the_words_a_reader_reads_in_order_under_their_sections(tmp_path):
    text = _text(tmp_path, "a", problems="<p>一是档案管理不及时。</p>")
    assert text == [
        ("", "关于2013年送温暖活动情况的总结"),
        ("一、基本情况", "一、基本情况"),
        ("一、基本情况", "共筹集慰问款物3739.52万元，其中政府拨款若干。"),
        ("一、基本情况", "图1 筹集慰问款物来源"),
        ("四、存在问题", "四、存在问题"),
        ("四、存在问题", "一是档案管理不及时。"),
        ("附件列表", "附件：1. 全市送温暖活动统计汇总表"),
        ("落款", "某市总工会"),
        ("落款", "2013年1月28日"),
    ]  # not the draft list, not the appendices' tables
    assert text_diff.report_text(text_diff.page(tmp_path / "missing.html")) is None


def test_each_change_is_quoted_where_it_is_and_a_new_paragraph_is_not_taken_for_a_changed_one(tmp_path):
    was = "总的来看，去年一是档案管理不及时；二是个别单位统计口径不统一，数字需要反复核实。"
    sent = _text(tmp_path, "sent", problems=f"<p>{was}</p>")
    now = _text(
        tmp_path,
        "now",
        reason="另一条理由",  # the draft list is not the report's words
        money="3839.52",
        date="2013年2月3日",
        problems=f"<p>慰问资金已全部公示。</p><p>{was.replace('个别单位统计口径', '少数单位统计口径仍')}</p>",
    )
    assert text_diff.changes(sent, now) == [
        [
            "“一、基本情况”一节：已报送 「共筹集慰问款物3739.52万元，其中政府拨款若干。」"
            " → 现在 「共筹集慰问款物3839.52万元，其中政府拨款若干。」"
        ],
        ["“四、存在问题”一节：新增了 「慰问资金已全部公示。」"],
        [
            "“四、存在问题”一节：已报送 "
            "「…一是档案管理不及时；二是个别单位统计口径不统一，数字需要反复核实。」"
            " → 现在 "
            "「…一是档案管理不及时；二是少数单位统计口径仍不统一，数字需要反复核实。」"
        ],
        ["落款：已报送 「2013年1月28日」 → 现在 「2013年2月3日」"],
    ]  # a number is quoted whole (3739.52 → 3839.52, not 7 → 8)
    assert text_diff.changes(sent, sent) == []
    gone = _text(tmp_path, "gone")
    assert text_diff.changes(sent, gone) == [[f"“四、存在问题”一节：删去了 「{was}」"]]
    # a long stretch changed: quoted up to its cut, nothing after it that would read as part of it
    added = "其中" + "困难职工" * 16
    longer = _text(tmp_path, "long", problems=f"<p>{was.replace('二是', added + '；二是')}</p>")
    assert text_diff.changes(sent, longer) == [
        [
            "“四、存在问题”一节：已报送 「…，去年一是档案管理不及时；二是个别单位统计口径不…」"
            f" → 现在 「…，去年一是档案管理不及时；{added[:59]}……」"
        ]
    ]


def test_a_paragraph_changed_in_several_places_quotes_each_and_a_moved_one_is_said_moved(tmp_path):
    figures = (
        "全市走访职工家庭2.77万户，同比下降21.5%；慰问困难家庭5.1万户，同比增长3.0%；发放款物3495.49万元。"
    )
    sent = _text(
        tmp_path, "sent", problems=f"<p>{figures}</p><p>一是档案管理不及时。</p><p>二是口径不统一。</p>"
    )
    changed = figures.replace("2.77", "2.81").replace("21.5", "20.1").replace("3.0%", "2.9%")
    now = _text(
        tmp_path, "now", problems=f"<p>{changed}</p><p>二是口径不统一。</p><p>一是档案管理不及时。</p>"
    )
    assert text_diff.changes(sent, now) == [
        [
            "“四、存在问题”一节的一段（已报送的开头是「全市走访职工家庭2.77万户，同比下降2…」）有 2 处不同：",
            "    已报送 「全市走访职工家庭2.77万户，同比下降21.5%；慰问困难家庭5.1万户…」"
            " → 现在 「全市走访职工家庭2.81万户，同比下降20.1%；慰问困难家庭5.1万户…」",
            "    已报送 「…家庭5.1万户，同比增长3.0%；发放款物3495.49万元。」"
            " → 现在 「…家庭5.1万户，同比增长2.9%；发放款物3495.49万元。」",
        ],
        ["“四、存在问题”一节：调整了位置（内容未改，原在“四、存在问题”一节） 「二是口径不统一。」"],
    ]


def test_a_workbooks_words_are_compared_by_row_a_row_gone_is_one_line_not_every_row_after_it():
    sent = {
        ("表", 3, 1): "填报人：",
        ("表", 3, 3): "王建华",
        ("表", 5, 1): "常熟市总工会",
        ("表", 6, 1): "吴江区总工会",
        ("表", 7, 1): "太仓市总工会",
    }
    now = {
        ("表", 3, 1): "填报人：",
        ("表", 3, 3): "李明",
        ("表", 5, 1): "常熟市总工会",
        ("表", 6, 1): "太仓市总工会",
    }
    assert text_diff.workbook_changes("汇总统计表.xlsx", sent, now) == [
        "汇总统计表.xlsx 工作表「表」C3（填报人：）：已报送 「王建华」 → 现在 「李明」",
        "汇总统计表.xlsx 工作表「表」删去了第6行（行中的文字：「吴江区总工会」）",
    ]
    assert text_diff.workbook_changes("汇总统计表.xlsx", sent, sent) == []
