"""Names from the user's table cannot inject markup into report.md or formulas into rows.csv.

Column names, category levels and the file name are chosen to break Markdown tables, inject
HTML or links, or run as spreadsheet formulas. report.md is rendered with markdown-it-py's
GFM-like preset (tables, strikethrough, raw HTML allowed, bare URLs linked) as a browser
would show it, and the rendered HTML is checked: no raw HTML, no links but the tool's own,
every table row lined up with its header, every name shown as its own text.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from regression_analyzer.pipeline import AnalysisOptions, run_analysis
from regression_analyzer.report import DroppedColumn, Report, render_markdown

TARGET = "a|b"
PREDICTORS = [
    "x\ny",
    "<script>alert(1)</script>",
    "[click](http://evil)",
    "*bold*",
    "`code`",
    "=cmd|' /C calc'!A0",
]
GROUP = "<img src=x onerror=alert(1)>"
LEVELS = ["<b>hi</b>", "a|b", "[l](http://evil)", "- item", "@SUM(A1)"]
CONSTANT = "~~gone~~ <u>x</u> www.evil.com"
# No "/" (a path separator), otherwise as hostile as the column names.
FILE_NAME = "<i>sales<i>|*f* [x](evil) `c`.csv"
# The binary table: a hostile target whose two values are hostile too.
BINARY_TARGET = "`churn`|<b>x</b>"
BINARY_VALUES = ["<b>yes</b>", "[no](http://evil)"]

# Tags the tool's own Markdown produces; anything else came from the data.
STRUCTURE_TAGS = {
    "h1", "h2", "p", "strong", "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "a",
    "img",
}  # fmt: skip
ROWS_CSV_HEADER = {
    "row", "fitted", "residual", "leverage", "standardized_residual", "studentized_residual",
    "cooks_distance", "pearson_residual", "deviance_residual",
}  # fmt: skip


def _shown(name: str) -> str:
    """How a name reads once rendered: line breaks and controls are spaces."""
    return re.sub(r"[\x00-\x1f\x7f]", " ", name).strip()


# --- rendering -------------------------------------------------------------------------------


@dataclass
class Rendered:
    """The parts of rendered HTML the checks read."""

    html: str
    tags: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    tables: list[list[list[str]]] = field(default_factory=list)  # table -> row -> cell text
    text: str = ""


class _Reader(HTMLParser):
    def __init__(self, out: Rendered) -> None:
        super().__init__(convert_charrefs=True)
        self.out = out
        self.heading: list[str] | None = None
        self.cell: list[str] | None = None
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.tags.append(tag)
        values = dict(attrs)
        if tag == "a":
            self.out.links.append(values.get("href") or "")
        elif tag == "img":
            self.out.images.append(values.get("src") or "")
        elif tag in ("h1", "h2"):
            self.heading = []
        elif tag == "table":
            self.out.tables.append([])
        elif tag == "tr":
            self.out.tables[-1].append([])
        elif tag in ("th", "td"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2") and self.heading is not None:
            self.out.headings.append("".join(self.heading))
            self.heading = None
        elif tag in ("th", "td") and self.cell is not None:
            self.out.tables[-1][-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        for sink in (self.heading, self.cell):
            if sink is not None:
                sink.append(data)


def _html_tokens(tokens: list[Token]) -> list[Token]:
    found = []
    for token in tokens:
        if token.type in ("html_block", "html_inline"):
            found.append(token)
        found += _html_tokens(token.children or [])
    return found


def render(markdown: str) -> Rendered:
    """report.md as a GFM renderer shows it; raw HTML in it fails the test outright."""
    md = MarkdownIt("gfm-like")
    raw = _html_tokens(md.parse(markdown))
    assert not raw, f"raw HTML reached the renderer: {[t.content for t in raw]}"
    out = Rendered(md.render(markdown))
    reader = _Reader(out)
    reader.feed(out.html)
    out.text = "".join(reader.parts)
    return out


def _source_cells(line: str) -> int:
    """Cells in one Markdown table line as GFM splits it: at each "|" no backslash escapes
    (the tool frames every row with a leading and a trailing pipe)."""
    return re.findall(r"\\.|\|", line.strip()).count("|") - 1


def _source_tables(markdown: str) -> list[list[str]]:
    tables: list[list[str]] = []
    lines = markdown.split("\n")
    for at, line in enumerate(lines):
        if re.fullmatch(r"\|(?:-+\|)+", line.strip()):
            block = [lines[at - 1], line]
            for row in lines[at + 1 :]:
                if not row.startswith("|"):
                    break
                block.append(row)
            tables.append(block)
    return tables


def _number(text: str) -> bool:
    try:
        float(text.replace("–", "nan"))
    except ValueError:
        return False
    return True


def _assert_safe(markdown: str, report: Report) -> Rendered:
    """The checks every rendered report passes whatever its names."""
    shown = render(markdown)
    assert "<script" not in shown.html
    assert set(shown.tags) <= STRUCTURE_TAGS, set(shown.tags) - STRUCTURE_TAGS
    assert shown.links == ["rows.csv"]  # the only link the tool writes
    assert shown.images == report.charts
    # In the source every row has its header's cell count (GFM would silently pad or cut)...
    tables = _source_tables(markdown)
    assert tables
    for block in tables:
        header = _source_cells(block[0])
        assert [_source_cells(row) for row in block] == [header] * len(block), block
    # ... and rendered, each row's second cell is still the number the tool put there.
    assert len(shown.tables) == len(tables)
    for table in shown.tables:
        for row in table[1:]:
            assert _number(row[1]), row
    return shown


def _first_cells(shown: Rendered, header: str) -> list[str]:
    (table,) = [t for t in shown.tables if t[0][0] == header and len(t[0]) > 2]
    return [row[0] for row in table[1:]]


def _min_max_cells(shown: Rendered) -> list[str]:
    (table,) = [t for t in shown.tables if t[0][:2] == ["column", "min"]]
    return [row[0] for row in table[1:]]


# --- the pipeline on hostile tables ----------------------------------------------------------


@pytest.fixture(scope="module")
def linear_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path]:
    rng = np.random.default_rng(7)
    n = 150
    data: dict[str, object] = {name: rng.normal(size=n) for name in PREDICTORS}
    target = sum(np.asarray(data[name]) for name in PREDICTORS) + rng.normal(size=n)
    frame = pd.DataFrame({TARGET: target, **data, GROUP: rng.choice(LEVELS, n), CONSTANT: 5})
    frame.loc[4, PREDICTORS[0]] = np.nan  # a dropped row, so a warning
    folder = tmp_path_factory.mktemp("linear")
    path = folder / FILE_NAME
    frame.to_csv(path, index=False)
    report = run_analysis(path, AnalysisOptions(use_llm=False, target=TARGET), folder / "out")
    return report, folder / "out"


@pytest.fixture(scope="module")
def logit_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path]:
    rng = np.random.default_rng(8)
    n = 200
    x = rng.normal(size=n)
    event = rng.uniform(size=n) < 1 / (1 + np.exp(-1.5 * x))
    frame = pd.DataFrame(
        {
            PREDICTORS[3]: x,
            PREDICTORS[1]: rng.normal(size=n),
            BINARY_TARGET: np.where(event, BINARY_VALUES[1], BINARY_VALUES[0]),
        }
    )
    folder = tmp_path_factory.mktemp("logit")
    path = folder / FILE_NAME
    frame.to_csv(path, index=False)
    options = AnalysisOptions(use_llm=False, target=BINARY_TARGET)
    return run_analysis(path, options, folder / "out"), folder / "out"


def test_linear_report_renders_hostile_names_as_text(linear_run: tuple[Report, Path]) -> None:
    report, out = linear_run
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert markdown == render_markdown(report)
    shown = _assert_safe(markdown, report)
    assert shown.headings[0] == f"Regression report: {FILE_NAME}"
    assert _min_max_cells(shown) == [_shown(n) for n in [TARGET, *PREDICTORS, CONSTANT]]
    reference = report.model.reference_levels[GROUP]
    assert reference in LEVELS
    dummies = [f"{GROUP}[T.{level}]" for level in LEVELS if level != reference]
    expected_terms = ["Intercept", *(_shown(n) for n in PREDICTORS), *dummies]
    assert sorted(_first_cells(shown, "term")) == sorted(expected_terms)
    assert sorted(_first_cells(shown, "predictor")) == sorted(
        [*(_shown(n) for n in PREDICTORS), GROUP]
    )
    assert f"Reference levels: {GROUP} = {reference}." in shown.text
    assert f"Target {TARGET} (chosen by the user)." in shown.text
    assert f"{CONSTANT}: constant column" in shown.text  # the dropped-columns list
    assert any(CONSTANT in w for w in report.warnings)  # ... and a warning quoting it
    # The interpretation keeps its paragraphs and quotes the names as text.
    interpretation = report.interpretation.split("\n\n")
    assert len(interpretation) > 1
    for paragraph in interpretation:
        assert _shown(paragraph) in shown.text


def test_logit_report_renders_hostile_target_and_values(logit_run: tuple[Report, Path]) -> None:
    report, out = logit_run
    markdown = (out / "report.md").read_text(encoding="utf-8")
    shown = _assert_safe(markdown, report)
    assert {report.model.event, report.model.non_event} == set(BINARY_VALUES)
    assert (
        f"logistic regression of the odds that {BINARY_TARGET} is {report.model.event} "
        f"(coded 1; {report.model.non_event} coded 0" in shown.text
    )
    assert sorted(_first_cells(shown, "term")) == sorted(
        ["Intercept", *(_shown(PREDICTORS[i]) for i in (1, 3))]
    )


def test_free_text_fields_are_inert(linear_run: tuple[Report, Path]) -> None:
    # What an LLM or a future warning may write: Markdown, HTML and links of every kind.
    report, _ = linear_run
    hostile = (
        "# Heading <script>alert(1)</script> [x](http://evil) ![i](http://evil/i.png) "
        "<http://evil> http://evil www.evil.com **bold** `code` ~~del~~ a|b &lt;b&gt;"
    )
    changed = report.model_copy(
        update={
            "interpretation": f"{hostile}\n\n- a list item\n1. an ordered one\n\n    code block",
            "target_reason": hostile,
            "row_numbering": hostile,
            "warnings": [hostile, "---"],
            "llm_notes": ["> quoted " + hostile],
            "dropped_columns": [DroppedColumn(name=hostile, reason=hostile)],
        }
    )
    markdown = render_markdown(changed)
    shown = _assert_safe(markdown, changed)
    assert shown.text.count(hostile) >= 6
    for line in ("- a list item 1. an ordered one", "code block", "---", "> quoted"):
        assert line in shown.text


# --- the escaping function itself ------------------------------------------------------------

EDGE_CASES = [
    *PREDICTORS, *LEVELS, TARGET, GROUP, CONSTANT, "1. x", "2) x", "3.", "1234567890. x",
    "+ x", "---", "***", "___", "    code", "\tcode", "www.evil.com", "evil.com",
    "user@evil.com", "http://localhost", "//evil.com/x", "ftp://x.y", "a_b_c", "_x_", "__x__",
    "x_", "~s~", "price ($) and cost ($)", "&lt;", "&#60;", "&amp;", "x\\", "\\*", "# h",
    "> q", "<http://x>", "[x]: http://y", "![i](http://e/i.png)", "a\u2028b", "line\r\nbreak",
    "<!-- c -->", "1.5", "e.g. this", "a*b*c", "[^1]", "x<y>z", "é_ü_x", "ad_spend",
]  # fmt: skip


@pytest.mark.parametrize("value", EDGE_CASES)
def test_markdown_text_renders_as_its_own_text(value: str) -> None:
    # Imported here so the pipeline tests above also run against code without the helper.
    from regression_analyzer.report import markdown_text

    expected = re.sub(r"[\x00-\x1f\u2028]", " ", value).strip()
    escaped = markdown_text(value)
    # Where report.md puts names: list items, table cells, bold, paragraphs, the title.
    for line in ["- {}: 1", "| {} | 1 |", "Target **{}** (x).", "{}", "# Report: {}"]:
        markdown = line.format(escaped)
        if line.startswith("|"):
            markdown = "| a | b |\n|---|---|\n" + markdown
        shown = render(markdown)
        assert set(shown.tags) <= STRUCTURE_TAGS - {"a", "img"}, (line, shown.html)
        assert expected in shown.text, (line, shown.html)
        if line.startswith("|"):
            assert shown.tables[0][1] == [expected, "1"]


def test_markdown_text_keeps_plain_names_readable() -> None:
    from regression_analyzer.report import markdown_text

    for plain in [
        "ad_spend",
        "revenue 2024",
        "price (EUR)",
        "R² = 0.5",
        "q3_sales, 1.5%",
        "1.5",
        "2024",
    ]:
        assert markdown_text(plain) == plain


# --- rows.csv --------------------------------------------------------------------------------


def test_rows_csv_holds_only_numbers_and_fixed_headers(linear_run: tuple[Report, Path]) -> None:
    _, out = linear_run
    with (out / "rows.csv").open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    assert set(header) <= ROWS_CSV_HEADER
    assert rows
    for row in rows:
        assert len(row) == len(header)
        for cell in row:
            # Empty is an undefined value (a leverage of 1); everything else a number.
            assert cell == "" or not math.isnan(float(cell)), cell


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"), ("@SUM(A1)", "'@SUM(A1)"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
        ("-", "'-"), ("-inf", "'-inf"), ("-3.5", "-3.5"), ("+2", "+2"), ("-1e-05", "-1e-05"),
        ("-.5", "-.5"), ("3.5", "3.5"), ("fitted", "fitted"), ("a=b", "a=b"), ("", ""),
    ],
)  # fmt: skip
def test_csv_safe_cell(cell: str, safe: str) -> None:
    from regression_analyzer.rows_file import csv_safe_cell

    assert csv_safe_cell(cell) == safe


def test_csv_text_row_round_trips_through_a_csv_reader() -> None:
    from regression_analyzer.rows_file import csv_text_row

    cells = ["row", '=HYPERLINK("http://evil","x")', "a,b", "x\ny", "-4.25", '"q"']
    (parsed,) = csv.reader(io.StringIO(csv_text_row(cells).decode("utf-8"), newline=""))
    assert parsed == ["row", """'=HYPERLINK("http://evil","x")""", "a,b", "x\ny", "-4.25", '"q"']
