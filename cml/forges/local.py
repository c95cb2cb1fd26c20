"""The built-in default forge: comments kept in the work tree under ``.cml/``.

Layout::

    .cml/comments/<target>.json     every comment on a target (id, author, body)
    .cml/comments/<target>.last     the highest id given out (a deleted comment's id is not reused)
    .cml/comments/<target>/<id>.md  each comment's markdown, as posted
    .cml/assets/<sha256>.<ext>      uploaded images, named by content (mtime: last stored)
    .cml/preview/<target>.html      what a forge would show, images included

No network, no token. Concurrent writers are serialised with a lock file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cml.ci import CIContext
from cml.errors import ForgeError, InputError
from cml.forges import COMMENT_LIMITS, AssetStore, Comment, Status, StoredAsset, Target

_PAGE_CSS = """
body{font:15px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif,"Noto Color Emoji","Apple Color Emoji",
"Segoe UI Emoji";max-width:980px;margin:2em auto;
padding:0 1em;color:#1f2328}
.comment{border:1px solid #d0d7de;border-radius:6px;margin:1.5em 0}
.comment>header{background:#f6f8fa;border-bottom:1px solid #d0d7de;padding:.5em 1em;color:#59636e}
.comment>div{padding:0 1em}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:4px 10px}
th{background:#f6f8fa}img{max-width:100%}code,pre{background:#f6f8fa;border-radius:4px}
pre{padding:1em;overflow:auto}
"""

#: What :meth:`LocalForge.upload_assets` links: ``../assets/<sha256>.<ext>``.
_ASSET_LINK = re.compile(r"assets/(?P<name>[0-9a-f]{64}\.[A-Za-z0-9]+)")


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _read(store: Path) -> list[dict[str, Any]]:
    """The comments kept in ``store`` (none when it is missing); InputError when it is not JSON."""
    try:
        data = json.loads(store.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except ValueError as exc:
        raise InputError(f"{store}: not valid JSON ({exc}); move it away to start afresh") from exc
    return list(data)


class LocalForge:
    """Comments stored as files; an HTML preview a person can open in a browser."""

    name = "local"
    max_comment_chars = COMMENT_LIMITS["local"]

    def __init__(self, root: Path, author: str) -> None:
        self.root = root / ".cml"
        self.author = author

    def whoami(self) -> str:
        """The git user (or $USER): the author of every local comment."""
        return self.author

    def pr_for_commit(self, sha: str) -> int | None:
        """The local forge has no PRs."""
        return None

    def _slug(self, target: Target) -> str:
        return f"{target.kind}-{target.ref}"

    def _store(self, target: Target) -> Path:
        return self.root / "comments" / f"{self._slug(target)}.json"

    def _load(self, target: Target) -> list[dict[str, Any]]:
        return _read(self._store(target))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _comment(self, target: Target, raw: Mapping[str, Any]) -> Comment:
        url = (self.root / "preview" / f"{self._slug(target)}.html").as_uri() + f"#comment-{raw['id']}"
        return Comment(id=str(raw["id"]), body=raw["body"], author=raw["author"], url=url)

    def comments(self, target: Target) -> Iterator[Comment]:
        """Every comment on ``target``, oldest first."""
        for raw in self._load(target):
            yield self._comment(target, raw)

    def comments_newest_first(self, target: Target) -> Iterator[Comment]:
        """Every comment on ``target``, newest first."""
        for raw in reversed(self._load(target)):
            yield self._comment(target, raw)

    def _save(self, target: Target, data: list[dict[str, Any]]) -> None:
        store = self._store(target)
        store.parent.mkdir(parents=True, exist_ok=True)
        tmp = store.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, store)
        folder = store.with_suffix("")
        folder.mkdir(exist_ok=True)
        for raw in data:
            (folder / f"{raw['id']}.md").write_text(raw["body"], encoding="utf-8")
        self._preview(target, data)

    def _preview(self, target: Target, data: list[dict[str, Any]]) -> None:
        from markdown_it import MarkdownIt

        render = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render
        parts = [
            f'<section class="comment" id="comment-{raw["id"]}"><header><b>{raw["author"]}</b> '
            f"commented (#{raw['id']})</header><div>{render(raw['body'])}</div></section>"
            for raw in data
        ]
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>cml: {target}</title>"
            f"<style>{_PAGE_CSS}</style></head><body><h1>{target}</h1>{''.join(parts)}</body></html>"
        )
        out = self.root / "preview" / f"{self._slug(target)}.html"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")

    def create_comment(self, target: Target, body: str) -> Comment:
        """Append a comment and refresh the preview."""
        with self._locked():
            data = self._load(target)
            raw = {"id": self._next_id(target, data), "author": self.author, "body": body}
            data.append(raw)
            self._save(target, data)
        return self._comment(target, raw)

    def _next_id(self, target: Target, data: list[dict[str, Any]]) -> int:
        """A new id, never one a deleted comment had (``<target>.last`` keeps the highest given)."""
        last = self._store(target).with_suffix(".last")
        given = int(last.read_text()) if last.is_file() and last.read_text().strip().isdigit() else 0
        new = max([given, *(int(c["id"]) for c in data)]) + 1
        last.parent.mkdir(parents=True, exist_ok=True)
        last.write_text(str(new))
        return new

    def update_comment(self, target: Target, comment: Comment, body: str) -> Comment:
        """Replace a comment's body and refresh the preview; ForgeError (404) when it is gone."""
        with self._locked():
            data = self._load(target)
            for raw in data:
                if str(raw["id"]) == comment.id:
                    raw["body"] = body
                    self._save(target, data)
                    return self._comment(target, raw)
        raise self._gone(target, comment)

    def delete_comment(self, target: Target, comment: Comment) -> None:
        """Remove a comment, its markdown file and its part of the preview; ForgeError (404) when gone."""
        with self._locked():
            data = self._load(target)
            kept = [raw for raw in data if str(raw["id"]) != comment.id]
            if len(kept) == len(data):
                raise self._gone(target, comment)
            self._save(target, kept)
            (self._store(target).with_suffix("") / f"{comment.id}.md").unlink(missing_ok=True)

    def _gone(self, target: Target, comment: Comment) -> ForgeError:
        return ForgeError(f"comment {comment.id} on {target} is gone from {self._store(target)}", status=404)

    def upload_assets(self, paths: Sequence[Path]) -> dict[Path, str]:
        """Copy each file to ``.cml/assets/`` under its content hash; links are relative to the preview."""
        links: dict[Path, str] = {}
        assets = self.root / "assets"
        with self._locked():
            assets.mkdir(parents=True, exist_ok=True)
            for path in paths:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                name = f"{digest}{path.suffix.lower()}"
                if (assets / name).exists():
                    os.utime(assets / name)  # stored again now: ``cml assets gc`` counts it as recent
                else:
                    shutil.copyfile(path, assets / name)
                links[path] = f"../assets/{name}"
        return links

    def stored_assets(self, since: datetime) -> AssetStore:
        """The files in ``.cml/assets/``, each stored when it was last written (its mtime)."""
        folder = self.root / "assets"
        files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        assets = tuple(StoredAsset(name=p.name, key=str(p), stored_at=_mtime(p)) for p in files)
        return AssetStore(where=str(folder), assets=assets)

    def bodies_since(self, since: datetime) -> Iterator[str]:
        """Every comment on each target whose store changed since ``since`` (local comments carry no date)."""
        folder = self.root / "comments"
        for store in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            if _mtime(store) >= since:
                yield from (str(raw.get("body") or "") for raw in _read(store))

    def linked_assets(self, body: str) -> set[str]:
        """The asset names ``body`` links (``../assets/<sha256>.<ext>``)."""
        return {m["name"] for m in _ASSET_LINK.finditer(body)}

    def remove_assets(self, store: AssetStore, keep: frozenset[str]) -> None:
        """Delete the files of ``store`` not kept, under the forge's lock; one written again since
        ``store`` was read (an upload reused it) stays.
        """
        with self._locked():
            for asset in store.assets:
                path = Path(asset.key)
                if asset.name not in keep and path.is_file() and _mtime(path) == asset.stored_at:
                    path.unlink()

    def set_status(self, sha: str, status: Status) -> str:
        """Record the status in ``.cml/statuses.json`` (one entry per sha and name)."""
        with self._locked():
            path = self.root / "statuses.json"
            data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
            data.setdefault(sha, {})[status.name] = {
                "conclusion": status.conclusion,
                "title": status.title,
                "summary": status.summary,
            }
            path.write_text(json.dumps(data, indent=1), encoding="utf-8")
        return path.as_uri()


def create(ctx: CIContext, token: str, options: Mapping[str, str]) -> LocalForge:
    """The local forge for ``ctx``'s work tree."""
    return LocalForge(Path(options.get("root") or ctx.workdir), ctx.actor or "local")
