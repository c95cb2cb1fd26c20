from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cml import comment
from cml.report.budget import REQUIRED, Section, assemble, dropped_note, join, shortened

SECTIONS = [
    Section(title="Header", body="## Report\n\nhead", priority=REQUIRED),
    Section(title="Metrics", body="### Metrics\n\n" + "m" * 100, priority=90),
    Section(title="Params", body="### Params\n\n" + "p" * 100, priority=60),
    Section(title="Plots", body="### Plots\n\n" + "x" * 300, priority=20),
]


def test_fits_untouched() -> None:
    text, dropped = assemble(SECTIONS, 10_000, "the job summary")
    assert dropped == []
    assert text == join(SECTIONS)


def test_lowest_priority_goes_first_with_a_note() -> None:
    text, dropped = assemble(SECTIONS, 400, "the job summary")
    assert dropped == ["Plots"]
    assert "x" * 300 not in text
    assert "p" * 100 in text
    assert text.endswith("> Dropped to fit the size limit: Plots (see the job summary).\n")
    assert len(text) <= 400


def test_several_dropped_in_report_order() -> None:
    text, dropped = assemble(SECTIONS, 250, "the output folder")
    assert dropped == ["Params", "Plots"]
    assert "m" * 100 in text
    assert "Params, Plots (see the output folder)" in text


def test_required_sections_are_never_dropped_and_compose_still_cuts() -> None:
    text, dropped = assemble(SECTIONS, 10, "x")
    assert dropped == ["Metrics", "Params", "Plots"]
    assert text.startswith("## Report")
    body, cut = comment.compose(text, title="t", nonce="0" * 12, limit=60)
    assert cut
    assert len(body) <= 60


def _reference(sections: list[Section], limit: int, where: str) -> tuple[str, list[str]]:
    """assemble() by re-joining the report after every step (quadratic, obviously right)."""
    bodies = {i: s.body for i, s in enumerate(sections) if s.body.strip()}
    gone: list[int] = []

    def text() -> str:
        body = _join_bodies([bodies[i] for i in sorted(bodies) if i not in gone])
        titles = [sections[i].title for i in sorted(gone)]
        return body + "\n" + dropped_note(titles, where) + "\n" if gone else body

    order = sorted(
        (i for i in bodies if sections[i].priority < REQUIRED), key=lambda i: (sections[i].priority, -i)
    )
    for i in order:
        if len(text()) <= limit:
            break
        if sections[i].short.strip():
            bodies[i] = shortened(sections[i], where)
        else:
            gone.append(i)
    for i in order:
        if len(text()) <= limit:
            break
        if i not in gone:
            gone.append(i)
    return text(), [sections[i].title for i in sorted(gone)]


def _join_bodies(bodies: list[str]) -> str:
    return "\n\n".join(b.strip("\n") for b in bodies) + "\n"


_SECTIONS = st.lists(
    st.tuples(
        st.text("ab \n", max_size=40), st.sampled_from([10, 20, 50, REQUIRED]), st.text("ab", max_size=15)
    ),
    max_size=8,
).map(
    lambda xs: [
        Section(
            title=f"S{i}", body=f"{b}{i}" if b.strip() else b, priority=p, short=short, left_out=len(short)
        )
        for i, (b, p, short) in enumerate(xs)
    ]
)


@settings(max_examples=300, deadline=None)
@given(_SECTIONS, st.integers(min_value=0, max_value=400))
def test_shortening_matches_rejoining_after_every_step(sections: list[Section], limit: int) -> None:
    assert assemble(sections, limit, "x") == _reference(sections, limit, "x")


def test_a_shortened_section_says_how_many_rows_went_and_where() -> None:
    sections = [*SECTIONS[:2], Section(title="Params", body="### Params\n\n" + "p" * 300, priority=60,
                                        short="### Params\n\np", left_out=29)]  # fmt: skip
    text, dropped = assemble(sections, 300, "the report artifact")
    assert dropped == []
    assert "p" * 300 not in text
    assert text.endswith(
        "### Params\n\np\n\n> [!NOTE]\n> 29 more rows left out to fit the size limit (see the report artifact).\n"
    )
