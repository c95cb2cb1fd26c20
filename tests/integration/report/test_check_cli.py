from __future__ import annotations

import json
from pathlib import Path

from cml.check import title_of
from tests.conftest import git
from tests.integration.report.conftest import Cml, write


def test_check_create_records_the_status_on_head(project: Path, cml: Cml) -> None:
    assert cml("--metrics", "metrics.json", "--fail-on", "accuracy < -0.01")[0] == 8
    code, out, _ = cml("check", "create", "cml-report/report.md", "--conclusion", "failure", "--json")
    assert code == 0
    assert json.loads(out)["conclusion"] == "failure"
    statuses = json.loads((project / ".cml" / "statuses.json").read_text())
    status = statuses[git(project, "rev-parse", "HEAD")]["cml"]
    assert status["conclusion"] == "failure"
    assert status["title"] == "CML report"
    assert "❌ **Gate failed:**" in status["summary"]


def test_check_name_and_title_replace_by_name(project: Path, cml: Cml) -> None:
    write(project, {"r.md": "# Quality\n\nfine\n"})
    for conclusion in ("failure", "success"):
        code, _, _ = cml(
            "check", "create", "r.md", "--conclusion", conclusion, "--name", "gate", "--title", "T"
        )
        assert code == 0
    entry = json.loads((project / ".cml" / "statuses.json").read_text())[git(project, "rev-parse", "HEAD")]
    assert entry == {"gate": {"conclusion": "success", "title": "T", "summary": "# Quality\n\nfine\n"}}


def test_check_bad_report(project: Path, cml: Cml) -> None:
    code, _, err = cml("check", "create", "missing.md", "--conclusion", "success")
    assert code == 2
    assert err.strip() == "cml: error: missing.md: no such file"
    assert not (project / ".cml" / "statuses.json").exists()


def test_title_of() -> None:
    assert title_of("<!-- cml:data v1 AAAA -->\n## **Report** `x`\n", "success") == "Report x"
    assert title_of("\n\n", "neutral") == "cml: neutral"
    assert len(title_of("# " + "a" * 300, "success")) == 140
