"""The gc rule of :mod:`cml.assets`, on a forge held in memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from cml.assets import gc
from cml.errors import ForgeError, StoreMoved, UsageError
from cml.forges import AssetStore, StoredAsset

NOW = datetime(2026, 6, 20, tzinfo=UTC)


class Memory:
    """The asset part of a forge: named files with dates, comment bodies with dates."""

    def __init__(self, files: dict[str, int], bodies: list[tuple[str, int]], moves: int = 0) -> None:
        self.files = {name: NOW - timedelta(days=age) for name, age in files.items()}
        self.bodies = [(body, NOW - timedelta(days=age)) for body, age in bodies]
        self.moves = moves  # how many prunes find the store moved
        self.read_bodies = 0

    def stored_assets(self, since: datetime) -> AssetStore:
        assets = tuple(StoredAsset(name=n, key=n, stored_at=t) for n, t in sorted(self.files.items()))
        return AssetStore(where="memory", assets=assets)

    def bodies_since(self, since: datetime) -> Iterator[str]:
        self.read_bodies += 1
        yield from (body for body, when in self.bodies if when >= since)

    def linked_assets(self, body: str) -> set[str]:
        return set(body.split())

    def remove_assets(self, store: AssetStore, keep: frozenset[str]) -> None:
        if self.moves:
            self.moves -= 1
            raise StoreMoved("memory moved")
        self.files = {n: t for n, t in self.files.items() if n in keep}


def test_the_rule_old_and_unlinked_goes() -> None:
    forge = Memory(
        {"linked-now": 30, "linked-then": 30, "unlinked": 30, "fresh": 1},
        [("linked-now", 2), ("linked-then linked-now", 20)],
    )
    result = gc(forge, keep_days=7, now=NOW)  # type: ignore[arg-type]
    assert result.removed == ("linked-then", "unlinked")
    assert result.kept == ("fresh", "linked-now")
    assert set(forge.files) == {"fresh", "linked-now"}
    assert result.cutoff == NOW - timedelta(days=7)


def test_dry_run_removes_nothing() -> None:
    forge = Memory({"a": 30}, [])
    result = gc(forge, keep_days=7, now=NOW, dry_run=True)  # type: ignore[arg-type]
    assert result.removed == ("a",)
    assert result.dry_run
    assert set(forge.files) == {"a"}


@pytest.mark.parametrize("days", [0, -1])
def test_keep_days_below_one_is_a_usage_error(days: int) -> None:
    forge = Memory({"a": 30}, [])
    with pytest.raises(UsageError, match="--keep-days") as info:
        gc(forge, keep_days=days, now=NOW)  # type: ignore[arg-type]
    assert info.value.exit_code == 2
    assert set(forge.files) == {"a"}


def test_a_naive_now_is_a_bug() -> None:
    with pytest.raises(ValueError, match="timezone"):
        gc(Memory({}, []), keep_days=1, now=datetime(2026, 1, 1))  # type: ignore[arg-type]


def test_a_moved_store_is_read_again_then_given_up() -> None:
    forge = Memory({"a": 30}, [], moves=1)
    assert gc(forge, keep_days=7, now=NOW).removed == ("a",)  # type: ignore[arg-type]
    assert forge.read_bodies == 2
    assert forge.files == {}
    stuck = Memory({"a": 30}, [], moves=99)
    with pytest.raises(ForgeError, match="kept changing") as info:
        gc(stuck, keep_days=7, now=NOW)  # type: ignore[arg-type]
    assert info.value.exit_code == 4
    assert set(stuck.files) == {"a"}


def test_an_empty_store_reads_no_comment() -> None:
    forge = Memory({}, [("x", 1)])
    assert gc(forge, keep_days=7, now=NOW).kept == ()  # type: ignore[arg-type]
    assert forge.read_bodies == 0
