"""``cml comment`` uploads exactly the images markdown shows and says which ones it leaves alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cml.cli import main
from tests.integration.local.test_cli_local import png

REPORT = """# Report

![roc][roc] and <img src=cm.png width=200>

```
![not an image](missing-in-fence.png)
```

`![](missing-inline.png)` <!-- ![](missing-comment.png) -->

![tmp](/tmp/outside.png) ![badge](https://img.shields.io/b.svg) ![inline](data:image/png;base64,iVBORw0KGgo=)

[roc]: plots/my%20roc.png "ROC"
"""


def test_comment_uploads_the_images_tokens_find_and_warns_about_the_rest(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    png(repo / "out" / "plots" / "my roc.png")
    png(repo / "out" / "cm.png", (0, 0, 200))
    report = repo / "out" / "report.md"
    report.write_text(REPORT)
    assert main(["comment", "update", str(report), "--json"], {}) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["action"] == "created"
    assert captured.err.splitlines() == [
        "cml: warning: image /tmp/outside.png is not uploaded (absolute path)",
        "cml: warning: image https://img.shields.io/b.svg is not uploaded (remote URL)",
    ]
    (store,) = (repo / ".cml" / "comments").glob("*.json")
    (stored,) = json.loads(store.read_text())
    body = stored["body"]
    roc = body.split("[roc]: ")[1].split(" ")[0]
    cm = body.split("<img src=")[1].split(" ")[0]
    assert roc.startswith("../assets/")
    assert cm.startswith("../assets/")
    assert (repo / ".cml" / "assets" / roc.removeprefix("../assets/")).read_bytes() == (
        repo / "out" / "plots" / "my roc.png"
    ).read_bytes()
    assert (repo / ".cml" / "assets" / cm.removeprefix("../assets/")).read_bytes() == (
        repo / "out" / "cm.png"
    ).read_bytes()
    # Everything but the two destinations is byte-identical.
    assert body.endswith(REPORT.replace("plots/my%20roc.png", roc).replace("src=cm.png", f"src={cm}"))


def test_an_image_whose_name_holds_hash_or_question_mark_is_found(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``%23``/``%3F`` decode to ``#``/``?`` in the file name; a real ``#fragment`` is dropped."""
    monkeypatch.chdir(repo)
    png(repo / "run#1?.png")
    (repo / "report.md").write_text("# R\n\n![a](run%231%3F.png) ![b](run%231%3F.png#zoom)\n")
    assert main(["comment", "update", "report.md"], {}) == 0
    assert capsys.readouterr().err == ""
    (store,) = (repo / ".cml" / "comments").glob("*.json")
    body = json.loads(store.read_text())[0]["body"]
    assert "run%231%3F.png" not in body
    assert body.count("](../assets/") == 2
