"""Model versions, the champion and the append-only promotion ledger.

The invariants live here and in the database: at most one champion per model
(a partial unique index), promotion as a compare-and-swap on the ``champions``
row (it names the champion it expects to replace), and a ledger that only grows
(triggers refuse UPDATE and DELETE); a rollback is a new ledger entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, func, select, update

from schemas import registry as tables
from schemas.errors import LostRaceError, RegistryError
from schemas.registry import Champion, Ledger, ModelVersion, utcnow
from tasks.core.champions import CROWNING, champion_before, version_name
from tasks.io.registry.decisions import insert_decision
from tasks.io.registry.engine import Database
from tasks.io.registry.records import (
    LedgerEntry,
    ModelVersionRecord,
    NewDecision,
    NewModelVersion,
    insert_ignore,
    insert_one,
)
from tasks.io.registry.reservations import highest_seq, reservation
from tasks.io.registry.versions import (
    champion,
    champion_version,
    ledger,
    model_versions,
)

_VERSION = re.compile(r"^v[1-9][0-9]*$")
_PROMOTE_ACTIONS = ("promote", "rollback", "approve")


class AlreadyRegisteredError(RegistryError):
    """The same training inputs (model, training key) are already registered."""

    def __init__(self, message: str, existing: ModelVersionRecord | None = None) -> None:
        super().__init__(message)
        self.existing = existing


class ModelRegistry(Database):
    """Registered versions of each model, its champion and its ledger."""

    def find_model_version(self, model: str, training_key: str) -> ModelVersionRecord | None:
        """The version of ``model`` trained from ``training_key``, if registered."""
        found = self._read("find a model", lambda c: model_versions(c, model, None, training_key))
        return found[0] if found else None

    def get_model_version(self, model: str, version: str) -> ModelVersionRecord | None:
        """Version ``version`` of ``model``, if registered."""
        found = self._read("read models", lambda c: model_versions(c, model, version))
        return found[0] if found else None

    def list_model_versions(self, model: str) -> list[ModelVersionRecord]:
        """Every version of ``model``, newest first."""
        return self._read("list models", lambda c: model_versions(c, model))

    def next_model_version(self, model: str) -> str:
        """The version name the next registration of ``model`` will take (above every
        registered and reserved number)."""
        return f"v{self._read('read models', lambda c: highest_seq(c, model)) + 1}"

    def register_model_version(self, new: NewModelVersion) -> ModelVersionRecord:
        """Register ``new`` as a candidate.

        Raises:
            AlreadyRegisteredError: (model, training_key) is already registered.
            LostRaceError: another run took ``new.version`` first.
            RegistryError: ``new.version`` is malformed.
        """
        if not _VERSION.match(new.version):
            raise RegistryError(f"invalid version {new.version!r}: expected 'v<n>', n >= 1")
        seq = int(new.version[1:])

        def work(conn: Connection) -> ModelVersionRecord:
            held = reservation(conn, new.model, version=new.version)
            if held is not None and held.training_key != new.training_key:
                raise LostRaceError(
                    f"model {new.model!r}: {new.version} is reserved by another run"
                )
            if held is None and seq <= highest_seq(conn, new.model):
                raise LostRaceError(f"model {new.model!r}: {new.version} is already taken")
            # A gap is allowed: a crashed run may have left files under the next number.
            values = {**asdict(new), "seq": seq, "status": "candidate"}
            return insert_one(conn, tables.ModelVersion, ModelVersionRecord, values)

        existing = self.find_model_version(new.model, new.training_key)
        if existing is None:
            conflict = f"model {new.model!r}: another run registered {new.version} first"
            try:
                return self._write(f"register {new.model} {new.version}", work, conflict)
            except LostRaceError:
                existing = self.find_model_version(new.model, new.training_key)
                if existing is None:
                    raise
        message = f"model {new.model!r}: these inputs are already registered as {existing.version}"
        raise AlreadyRegisteredError(message, existing)

    def is_undecided(self, record: ModelVersionRecord) -> bool:
        """A candidate without any decision: its run failed between registering and deciding."""
        if record.status != "candidate":
            return False
        found = self._read(
            "read decisions",
            lambda c: c.execute(
                select(func.count())
                .select_from(tables.Decision)
                .where(
                    tables.Decision.model == record.model,
                    tables.Decision.version == record.version,
                )
            ).scalar_one(),
        )
        return int(found) == 0

    def set_model_status(
        self, model: str, version: str, status: str, decision: NewDecision | None = None
    ) -> None:
        """Mark a candidate ``rejected`` or ``archived`` (champions change via promote).

        ``decision``, when given, is recorded in the same transaction.
        """
        if status not in ("rejected", "archived"):
            raise RegistryError(f"status {status!r} refused: use 'rejected' or 'archived'")

        def work(conn: Connection) -> None:
            set_candidate_status(conn, model, version, status)
            _decide(conn, decision)

        self._write(f"set the status of {model} {version}", work)

    def reject_version(
        self,
        model: str,
        version: str,
        actor: str,
        reason: str,
        decision: NewDecision | None = None,
    ) -> LedgerEntry:
        """Reject a candidate after a human answer: status and a `reject` ledger entry, at once.

        The entry's ``to_version`` is the rejected version; the champion does not change.
        ``decision``, when given, is recorded in the same transaction.
        """

        def work(conn: Connection) -> LedgerEntry:
            set_candidate_status(conn, model, version, "rejected")
            _decide(conn, decision)
            entry = {
                "model": model,
                "action": "reject",
                "from_version": champion_version(conn, model),
                "to_version": version,
                "actor": actor,
                "reason": reason,
            }
            return insert_one(conn, tables.Ledger, LedgerEntry, entry)

        return self._write(f"reject {model} {version}", work)

    def champion_state(self, model: str) -> tuple[ModelVersionRecord | None, int]:
        """The champion and the generation of the champions row, read together."""

        def work(conn: Connection) -> tuple[ModelVersionRecord | None, int]:
            row = conn.execute(select(Champion.generation).where(Champion.model == model))
            return champion(conn, model), int(row.scalar_one_or_none() or 0)

        return self._read("read the champion", work)

    def champion_row(self, model: str) -> tuple[str | None, int]:
        """What the ``champions`` row of ``model`` names, and its generation ((None, 0):
        no row)."""

        def work(conn: Connection) -> tuple[str | None, int]:
            statement = select(Champion.version, Champion.generation)
            row = conn.execute(statement.where(Champion.model == model)).one_or_none()
            return (row[0], int(row[1])) if row else (None, 0)

        return self._read("read the champion", work)

    def champion(self, model: str) -> ModelVersionRecord | None:
        """The current champion of ``model``, or None."""
        return self._read("read the champion", lambda c: champion(c, model))

    def promote(
        self,
        model: str,
        version: str,
        expected_champion: str | None,
        actor: str,
        reason: str,
        action: str = "promote",
        decision: NewDecision | None = None,
    ) -> LedgerEntry:
        """Make ``version`` the champion if ``expected_champion`` still is (CAS).

        One transaction moves the champions row, archives the previous champion,
        crowns ``version``, appends the ledger entry and records ``decision`` (if given).

        Raises:
            LostRaceError: the champion is no longer ``expected_champion``.
            RegistryError: unknown or rejected version, or an invalid action.
        """
        if action not in _PROMOTE_ACTIONS:
            raise RegistryError(f"action {action!r} refused: use one of {_PROMOTE_ACTIONS}")
        if version == expected_champion:
            raise RegistryError(f"model {model!r}: {version} is already the expected champion")
        entry = {
            "model": model, "action": action, "from_version": expected_champion,
            "to_version": version, "actor": actor, "reason": reason,
        }  # fmt: skip
        conflict = f"model {model!r}: another promotion moved the champion first"

        def work(conn: Connection) -> LedgerEntry:
            done = swap_champion(conn, entry)
            _decide(conn, decision)
            return done

        return self._write(f"promote {model} {version}", work, conflict)

    def rollback_target(self, model: str, to_version: str | None) -> tuple[str, str]:
        """The champion a rollback replaces and the version it restores, checked.

        Without ``to_version``, the champion before the current one on the ledger's chain
        (so a second rollback goes further back). A bare number (``8``) means ``v8``.

        Raises:
            RegistryError: no champion, nothing before it, no such version, the target is
                already the champion, or it never passed a promotion.
        """
        current, entries = self._read(
            "read the ledger", lambda c: (champion_version(c, model), ledger(c, model))
        )
        if current is None:
            raise RegistryError(f"model {model!r} has no champion to roll back")
        if to_version is None:
            target = champion_before(entries, current)
            if target is None:
                raise RegistryError(f"model {model!r}: there is no champion before {current}")
        else:
            target = self._known_version(model, to_version)
        if target == current:
            raise RegistryError(f"model {model!r}: {target} is already the champion")
        if not any(e.to_version == target and e.action in CROWNING for e in entries):
            raise RegistryError(f"model {model!r}: {target} never passed a promotion")
        return current, target

    def _known_version(self, model: str, text: str) -> str:
        versions = [r.version for r in self.list_model_versions(model)]
        name = version_name(text)
        if name is None:
            raise RegistryError(f"model {model!r}: {text!r} is not a version name (write v<n>)")
        if name not in versions:
            known = f"{versions[-1]}..{versions[0]}" if versions else "none"
            raise RegistryError(f"model {model!r}: no such version {name} (registered: {known})")
        return name

    def rollback(
        self,
        model: str,
        to_version: str | None,
        actor: str,
        reason: str,
        expected: str | None = None,
        check: Callable[[str], None] | None = None,
    ) -> tuple[LedgerEntry, bool]:
        """Restore a former champion (default: the one before the current) as a new entry.

        ``expected`` names the champion the rollback replaces: if it was already rolled
        back (the newest ledger entry is that rollback), the call is a no-op returning it,
        so a retried rollback does not move the champion a second time. ``check`` is
        called with the target before the compare-and-swap (it raises to refuse it).

        Returns:
            The ledger entry, and whether this call moved the champion.

        Raises:
            RegistryError: see ``rollback_target``.
            LostRaceError: the champion is not ``expected``, or moved while rolling back.
        """
        if expected is not None:
            expected = version_name(expected) or expected
            done = self._rolled_back_from(model, expected, to_version)
            if done is not None:
                return done, False
        current, target = self.rollback_target(model, to_version)
        if expected is not None and current != expected:
            raise LostRaceError(f"model {model!r}: expected champion {expected}, found {current}")
        if check is not None:
            check(target)
        return self.promote(model, target, current, actor, reason, action="rollback"), True

    def _rolled_back_from(
        self, model: str, expected: str, to_version: str | None
    ) -> LedgerEntry | None:
        current, entries = self._read(
            "read the ledger", lambda c: (champion_version(c, model), ledger(c, model))
        )
        last = entries[-1] if entries else None
        if current == expected or last is None or last.action != "rollback":
            return None
        wanted = None if to_version is None else version_name(to_version)
        same = last.from_version == expected and wanted in (None, last.to_version)
        return last if same and last.to_version == current else None

    def history(self, model: str) -> list[LedgerEntry]:
        """The promotion ledger of ``model``, oldest first."""
        return self._read("read the ledger", lambda c: ledger(c, model))


def set_candidate_status(conn: Connection, model: str, version: str, status: str) -> None:
    """Move a candidate to ``status`` (a no-op when it already has it).

    Raises:
        RegistryError: unknown version, or it is no longer a candidate.
    """
    found = model_versions(conn, model, version)
    if not found:
        raise RegistryError(f"model {model!r} has no version {version}")
    if found[0].status == status:
        return
    if found[0].status != "candidate":
        raise RegistryError(
            f"model {model!r} {version} is {found[0].status}: only a candidate can become {status}"
        )
    mine = (ModelVersion.model == model, ModelVersion.version == version)
    statement = update(ModelVersion).where(*mine, ModelVersion.status == "candidate")
    if conn.execute(statement.values(status=status)).rowcount != 1:
        raise LostRaceError(f"model {model!r} {version} changed status concurrently")


def swap_champion(conn: Connection, entry: dict[str, Any]) -> LedgerEntry:
    """Compare-and-swap the champion and append the ledger ``entry`` describing it.

    ``entry`` holds model, action, from_version (the expected champion),
    to_version, actor and reason.

    Raises:
        LostRaceError: the champion is no longer ``entry["from_version"]``.
        RegistryError: the target version is unknown or was rejected.
    """
    model, version, expected = entry["model"], entry["to_version"], entry["from_version"]
    found = model_versions(conn, model, version)
    if not found:
        raise RegistryError(f"model {model!r} has no version {version}")
    if found[0].status == "rejected":
        raise RegistryError(f"model {model!r} {version} was rejected: it cannot be promoted")
    insert_ignore(conn, Champion, {"model": model, "version": None, "generation": 0})
    cas = (
        update(Champion)
        .where(Champion.model == model, Champion.version.is_not_distinct_from(expected))
        .values(version=version, generation=Champion.generation + 1, updated_at=utcnow())
    )
    if conn.execute(cas).rowcount != 1:
        actual = champion_version(conn, model)
        raise LostRaceError(f"model {model!r}: expected champion {expected}, found {actual}")
    mine = ModelVersion.model == model
    retire = update(ModelVersion).where(mine, ModelVersion.status == "champion")
    conn.execute(retire.values(status="archived"))
    crown = update(ModelVersion).where(mine, ModelVersion.version == version)
    conn.execute(crown.values(status="champion"))
    return insert_one(conn, Ledger, LedgerEntry, entry)


def _decide(conn: Connection, decision: NewDecision | None) -> None:
    if decision is not None:
        insert_decision(conn, decision)
