"""Version reservations: a model version number is taken before any artifact is uploaded.

One row per (model, version) and per (model, training key), tied to the training run that
holds it. A run that finds the inputs reserved by a live run lost the race and uploads
nothing; a reservation whose run is no longer running is stale and may be reclaimed
(a compare-and-swap on its ``run_id``).
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select, update

from schemas.registry import ModelVersion, VersionReservation
from tasks.io.registry.engine import Database
from tasks.io.registry.records import ReservationRecord, first, insert_one, many


class ReservationRegistry(Database):
    """Version numbers reserved by training runs."""

    def reserve_version(self, model: str, training_key: str, run_id: int) -> ReservationRecord:
        """The reservation of these inputs: the existing one, or a new one for ``run_id``
        under the next free number (above every registered and reserved one).

        Raises:
            LostRaceError: another run reserved at the same moment (try again).
        """

        def work(conn: Connection) -> ReservationRecord:
            held = reservation(conn, model, training_key=training_key)
            if held is not None:
                return held
            seq = highest_seq(conn, model) + 1
            values = {
                "model": model, "seq": seq, "version": f"v{seq}",
                "training_key": training_key, "run_id": run_id,
            }  # fmt: skip
            return insert_one(conn, VersionReservation, ReservationRecord, values)

        conflict = f"model {model!r}: another run reserved a version at the same time"
        return self._write(f"reserve a version of {model}", work, conflict)

    def move_reservation(self, held: ReservationRecord, run_id: int | None) -> bool:
        """Hand ``held`` to ``run_id`` (None: release it) if its holder is still the one read.

        Returns False when another run reclaimed or released it first.
        """
        statement = (
            update(VersionReservation)
            .where(
                VersionReservation.id == held.id,
                VersionReservation.run_id.is_not_distinct_from(held.run_id),
            )
            .values(run_id=run_id)
        )
        moved = self._write(
            f"move the reservation of {held.model} {held.version}",
            lambda c: c.execute(statement).rowcount,
        )
        return bool(moved == 1)

    def find_reservation(self, model: str, version: str) -> ReservationRecord | None:
        """The reservation of ``model`` ``version``, if any."""
        return self._read("read reservations", lambda c: reservation(c, model, version=version))

    def list_reservations(self, model: str) -> list[ReservationRecord]:
        """Every reservation of ``model``, newest number first."""
        statement = (
            select(VersionReservation)
            .where(VersionReservation.model == model)
            .order_by(VersionReservation.seq.desc())
        )
        return self._read("list reservations", lambda c: many(c, ReservationRecord, statement))


def reservation(
    conn: Connection, model: str, version: str | None = None, training_key: str | None = None
) -> ReservationRecord | None:
    """The reservation of ``model`` with this version or training key."""
    statement = select(VersionReservation).where(VersionReservation.model == model)
    if version is not None:
        statement = statement.where(VersionReservation.version == version)
    if training_key is not None:
        statement = statement.where(VersionReservation.training_key == training_key)
    return first(conn, ReservationRecord, statement)


def highest_seq(conn: Connection, model: str) -> int:
    """The highest number of ``model`` registered or reserved (0 if none)."""
    registered = select(func.max(ModelVersion.seq)).where(ModelVersion.model == model)
    reserved = select(func.max(VersionReservation.seq)).where(VersionReservation.model == model)
    return max(
        int(conn.execute(registered).scalar_one_or_none() or 0),
        int(conn.execute(reserved).scalar_one_or_none() or 0),
    )
