"""``cml assets gc``: forget the images no recent comment shows.

The rule, the same on every forge: an asset goes only when it was stored more than ``keep_days``
days ago **and** no comment updated in the last ``keep_days`` days links it. So an image a recent
comment shows always stays, and so does one uploaded by a run whose comment is not posted yet.
Which comments are read, how links are recognised and how assets are removed is the forge's part
(:meth:`cml.forges.Forge.stored_assets`, ``bodies_since``, ``linked_assets``, ``remove_assets``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cml.errors import ForgeError, StoreMoved, UsageError
from cml.forges import AssetStore, Forge
from cml.log import logger
from cml.session import Access

#: Full tries when the store changes under us (an upload landed while we read the comments).
_TRIES = 3


@dataclass(frozen=True, kw_only=True)
class GcResult:
    """What ``gc`` kept and removed (or, with ``dry_run``, would remove)."""

    where: str
    keep_days: int
    cutoff: datetime
    dry_run: bool
    kept: tuple[str, ...]
    removed: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        """The result as ``--json`` prints it."""
        return {
            "where": self.where,
            "keep_days": self.keep_days,
            "cutoff": self.cutoff.isoformat(),
            "dry_run": self.dry_run,
            "kept": list(self.kept),
            "removed": list(self.removed),
        }


@dataclass(frozen=True, kw_only=True)
class GcRequest:
    """``cml assets gc``: keep what was stored, or linked by a comment updated, in the last ``keep_days``."""

    keep_days: int
    dry_run: bool = False
    access: Access = field(default_factory=Access)


def collect(request: GcRequest, env: Mapping[str, str], now: datetime | None = None) -> GcResult:
    """Open the forge ``env`` (and ``request.access``) names and run :func:`gc` on it at ``now``
    (default: the current time). Raises as :func:`cml.session.open_forge` and :func:`gc` do."""
    from cml import session

    _check_days(request.keep_days)  # before any request, like the flag's own check
    opened = session.open_forge(env, request.access)
    when = now or datetime.now(UTC)
    return gc(opened.forge, keep_days=request.keep_days, now=when, dry_run=request.dry_run)


def gc(forge: Forge, *, keep_days: int, now: datetime, dry_run: bool = False) -> GcResult:
    """Remove the assets stored before ``now - keep_days`` that no comment updated since links.

    ``now`` must be timezone-aware. Raises UsageError for ``keep_days < 1``, ForgeError when the
    forge fails (nothing is lost: a kept asset is never removed) or the store kept changing.
    """
    _check_days(keep_days)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cutoff = now - timedelta(days=keep_days)
    for _ in range(_TRIES):
        store = forge.stored_assets(cutoff)
        keep, gone = _split(forge, store, cutoff)
        if not dry_run and gone:
            try:
                forge.remove_assets(store, frozenset(keep))
            except StoreMoved as exc:
                logger.info("%s; reading it again", exc.message)
                continue
        return GcResult(
            where=store.where, keep_days=keep_days, cutoff=cutoff, dry_run=dry_run, kept=keep, removed=gone
        )
    raise ForgeError(f"{store.where} kept changing while cml pruned it; nothing was removed; run again")


def _check_days(keep_days: int) -> None:
    """UsageError (exit 2) for fewer than one day to keep."""
    if keep_days < 1:
        raise UsageError(f"--keep-days {keep_days}: must be at least 1 (a day)")


def _split(forge: Forge, store: AssetStore, cutoff: datetime) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(kept, removed) names: recent or linked by a comment updated since ``cutoff`` stays."""
    names = {asset.name for asset in store.assets}
    linked: set[str] = set()
    if names:
        for body in forge.bodies_since(cutoff):
            linked |= forge.linked_assets(body) & names
    recent = {asset.name for asset in store.assets if asset.stored_at >= cutoff}
    keep = linked | recent
    return tuple(sorted(keep)), tuple(sorted(names - keep))
