"""Images are found with markdown-it's tokens and relinked in place; everything else stays byte-identical."""

from __future__ import annotations

import time  # process_time: this process's CPU seconds, not the wall clock other processes share
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from cml.images import IMAGE_SUFFIXES, find_images, is_image
from cml.markdown import classify_images, image_warnings, local_images, relink_images
from cml.report.pipeline import for_summary

NOT_IMAGES = """# Not images

`![](inline-code.png)` and ``<img src="inline-code2.png">``

```
![](fenced.png)
<img src="fenced2.png">
```

~~~md
![](tilde.png)
~~~

    ![](indented.png)

<!-- ![](comment.png) <img src=comment2.png> -->

text <!-- <img src="inline-comment.png"> --> and \\![](escaped.png) and !\\[](escaped2.png)

<pre>
![](in-html-block.png)
</pre>
"""


def test_code_comments_and_escapes_hold_no_images() -> None:
    assert find_images(NOT_IMAGES) == ()
    assert relink_images(NOT_IMAGES, {"fenced.png": "https://h/x.png"}) == NOT_IMAGES


def test_only_the_real_image_among_lookalikes() -> None:
    text = NOT_IMAGES + "\nreal ![r](fenced.png) `![](fenced.png)`\n"
    assert local_images(text) == ["fenced.png"]
    out = relink_images(text, {"fenced.png": "https://h/f.png"})
    assert out == text.replace("real ![r](fenced.png)", "real ![r](https://h/f.png)")


REFERENCES = """# Refs

![one][plot] and ![plot] and ![two][] and [a link][plot]

> ![quoted][q]

[plot]: plots/plot.png "The plot"
[two]: <two files.png>
[PLOT]: ignored.png
> [q]: q.png
"""


def test_reference_images_are_relinked_in_their_definitions() -> None:
    assert local_images(REFERENCES) == ["plots/plot.png", "two files.png", "q.png"]
    links = {
        "plots/plot.png": "https://h/p.png",
        "two files.png": "https://h/t.png",
        "q.png": "/uploads/q.png",
    }
    out = relink_images(REFERENCES, links)
    assert out == (
        REFERENCES.replace('[plot]: plots/plot.png "The plot"', '[plot]: https://h/p.png "The plot"')
        .replace("[two]: <two files.png>", "[two]: https://h/t.png")
        .replace("> [q]: q.png", "> [q]: /uploads/q.png")
    )
    assert local_images(out) == []


HTML = """<p align="center">
<img src=unquoted.png width=300><IMG SRC = 'single.png' alt="a > b"/>
  <img alt="x" src="double.png">
</p>

Inline <img src=inline.png> and <img src="https://ex.com/r.png"> and <img src="a&amp;b.png">.

- item

  <img src="in-list.png">
"""


def test_img_tags_with_any_quoting_in_blocks_and_inline() -> None:
    assert local_images(HTML) == [
        "unquoted.png",
        "single.png",
        "double.png",
        "inline.png",
        "a&b.png",
        "in-list.png",
    ]
    links = {name: f"https://h/{i}.png?a=1&b=2" for i, name in enumerate(local_images(HTML))}
    out = relink_images(HTML, links)
    assert '<img src="https://h/0.png?a=1&amp;b=2" width=300>' in out  # quoted now: the link holds "="
    assert "<IMG SRC = 'https://h/1.png?a=1&amp;b=2' alt=\"a > b\"/>" in out
    assert '<img alt="x" src="https://h/2.png?a=1&amp;b=2">' in out
    assert 'Inline <img src="https://h/3.png?a=1&amp;b=2"> and <img src="https://ex.com/r.png">' in out
    assert '<img src="https://h/4.png?a=1&amp;b=2">.' in out
    assert '  <img src="https://h/5.png?a=1&amp;b=2">\n' in out
    assert local_images(out) == []


def test_titles_angle_brackets_spaces_and_percent_encoding() -> None:
    text = (
        '![a](plots/a.png "A title") ![b](<my plot.png>) ![c](my%20plot.png) '
        "![d](d.png?v=2#frag) ![e](<e (1).png> 'x')\n"
    )
    # CommonMark percent-encodes the destination; the file is its decoded name, as a browser would read it.
    assert local_images(text) == ["plots/a.png", "my plot.png", "d.png", "e (1).png"]
    out = relink_images(text, {"plots/a.png": "https://h/a.png", "my plot.png": "https://h/m.png"})
    assert out == (
        '![a](https://h/a.png "A title") ![b](https://h/m.png) ![c](https://h/m.png) '
        "![d](d.png?v=2#frag) ![e](<e (1).png> 'x')\n"
    )
    assert relink_images(text, {"e (1).png": "/up/e (1).png"}).endswith("![e](</up/e (1).png> 'x')\n")


def test_remote_and_absolute_images_are_named_data_uris_are_not() -> None:
    text = (
        "![a](/tmp/x.png) ![b](file:///home/u/y.png) ![c](https://ex.com/c.png) ![d](//cdn/d.png)\n"
        "![e](data:image/png;base64,iVBORw0KGgo=) ![f](#anchor) ![g](local.png) ![a2](/tmp/x.png)\n"
        '<img src="http://ex.com/h.png">\n'
    )
    local, skipped = classify_images(text)
    assert local == ["local.png"]
    assert skipped == [
        ("/tmp/x.png", "absolute path"),
        ("file:///home/u/y.png", "absolute path"),
        ("https://ex.com/c.png", "remote URL"),
        ("//cdn/d.png", "remote URL"),
        ("http://ex.com/h.png", "remote URL"),
    ]
    assert image_warnings(text)[0] == "cml: warning: image /tmp/x.png is not uploaded (absolute path)"


def test_tables_and_windows_line_endings() -> None:
    text = "| a | b |\r\n|---|---|\r\n| ![x](same.png) | ![x](same.png) \\| `![](code.png)` |\r\n\r\n![y](y.png)\r\n"
    assert local_images(text) == ["same.png", "y.png"]
    out = relink_images(text, {"same.png": "https://h/s.png", "y.png": "https://h/y.png"})
    assert out == text.replace("](same.png)", "](https://h/s.png)").replace("](y.png)", "](https://h/y.png)")


def test_table_rows_without_outer_pipes() -> None:
    text = "a | b\n--|--\n![x](same.png) | ![x](same.png)\n"
    out = relink_images(text, {"same.png": "https://h/s.png"})
    assert out == text.replace("](same.png)", "](https://h/s.png)")
    text = "| a | b |\n|--|--|\n| `![x](same.png)` | ![x](same.png) |\n"
    out = relink_images(text, {"same.png": "https://h/s.png"})
    assert out == text.replace(" ![x](same.png) |", " ![x](https://h/s.png) |")


def test_a_destination_on_the_next_line() -> None:
    text = '> ![n](\n>   n.png\n>   "t") and ![o]( o.png )\n'
    out = relink_images(text, {"n.png": "https://h/n.png", "o.png": "https://h/o.png"})
    assert out == '> ![n](\n>   https://h/n.png\n>   "t") and ![o]( https://h/o.png )\n'


def test_images_in_headings_links_and_lists() -> None:
    text = "## Plots ![h](h.png) ##\n\n[![badge](b.png)](https://ci)\n\n1. ![l](l.png)\n   ![m](m.png)\n"
    links = {name: f"https://h/{name}" for name in ["h.png", "b.png", "l.png", "m.png"]}
    assert local_images(text) == list(links)
    out = relink_images(text, links)
    assert out == text.replace("](h.png)", "](https://h/h.png)").replace(
        "](b.png)", "](https://h/b.png)"
    ).replace("](l.png)", "](https://h/l.png)").replace("](m.png)", "](https://h/m.png)")


def test_the_job_summary_points_at_local_images_only() -> None:
    text = '# R\n\n![ROC](plots/roc.png "roc")\n\n<img alt="CM" src=cm.png>\n\n![w](https://x/w.png) `![c](c.png)`\n'
    out = for_summary(text, "cml-report")
    assert out == (
        "# R\n\n*ROC: `cml-report/plots/roc.png` in the report folder*\n\n"
        "<em>CM: <code>cml-report/cm.png</code> in the report folder</em>\n\n"
        "![w](https://x/w.png) `![c](c.png)`\n"
    )


_PARTS = st.sampled_from(
    [
        "![a](a.png)",
        '![b](<b c.png> "t")',
        "![r][ref]",
        "<img src=i.png>",
        "<img src='j.png'>",
        "`![x](x.png)`",
        "\\![e](e.png)",
        "![w](https://w/w.png)",
        "[![a](a.png)](https://l)",
        "text",
        " ",
        "\n",
        "\r\n",
        "\n\n",
        "\n```\n![f](f.png)\n```\n",
        "\n> ",
        "\n- ",
        "\n    ",
        "<!-- ![c](c.png) -->",
        "| ![t](t.png) |",
        "# ",
    ]
)
_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _srcs(markdown: str) -> list[str]:
    """Image sources as markdown-it renders them (an independent reading, from the HTML)."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Imgs(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "img":
                found.append(dict(attrs).get("src") or "")

    Imgs().feed(_MD.render(markdown))
    return found


@settings(max_examples=300, deadline=None)
@given(st.lists(_PARTS, max_size=25))
def test_relinking_changes_exactly_the_local_sources(parts: list[str]) -> None:
    text = "".join(parts) + "\n\n[ref]: r.png\n"
    assert relink_images(text, {}) == text
    links = {name: f"https://h/{i}.png" for i, name in enumerate(local_images(text))}
    out = relink_images(text, links)
    assert local_images(out) == []
    expected = [links.get(src.replace("%20", " "), src) for src in _srcs(text)]
    assert _srcs(out) == expected
    assert out.count("\r\n") == text.count("\r\n")
    assert out.replace("\r", "") != text.replace("\r", "") or not links


def test_finding_is_linear_in_the_number_of_images() -> None:
    text = "![a](b.png) " * 50_000
    started = time.process_time()
    assert local_images(text) == ["b.png"]
    took = time.process_time() - started
    print(f"50,000 images in one paragraph: {took:.2f} s")
    assert took < 5


@pytest.mark.parametrize("text", ["x" * 2_000_000, "```\n" + "code line\n" * 200_000 + "```\n"])
def test_a_report_without_images_is_not_parsed(text: str) -> None:
    started = time.process_time()
    assert classify_images(text) == ([], [])
    assert time.process_time() - started < 0.5


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("plots/roc.png", True),
        ("Confusion.JPEG", True),
        ("a/b.webp", True),
        ("chart.svg", True),
        ("metrics.json", False),
        ("png", False),
        (".png", False),  # a hidden file named .png, as Path(".png").suffix says
        ("dir.png/data.csv", False),
    ],
)
def test_one_list_of_image_suffixes(name: str, expected: bool) -> None:
    assert is_image(name) is expected
    assert (Path(name).suffix.lower() in IMAGE_SUFFIXES) is expected
