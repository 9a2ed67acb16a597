"""Landing files and dataset versions in the registry.

A dataset version is committed together with the files it accepts, in one
transaction whose parent must still be the latest version (a compare-and-swap):
two ingestions racing on one dataset never both commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, insert, select

from schemas import registry as tables
from schemas.errors import LostRaceError, RegistryError
from schemas.registry import DatasetVersion, IngestedFile
from tasks.io.registry.engine import Database
from tasks.io.registry.records import (
    DatasetVersionRecord,
    FileRecord,
    NewFile,
    first,
    insert_ignore,
    insert_one,
    many,
)


class DatasetRegistry(Database):
    """Files seen by ingestion and the dataset versions they went into."""

    def find_file(self, dataset: str, uri: str, sha256: str) -> FileRecord | None:
        """The file recorded under (dataset, uri, sha256), accepted or quarantined."""
        return self._read("find a file", lambda c: find_file(c, dataset, uri, sha256))

    def list_files(self, dataset: str) -> list[FileRecord]:
        """Every file recorded for ``dataset``, oldest first."""
        return self._read("list files", lambda c: list_files(c, dataset))

    def record_quarantined_file(
        self, dataset: str, uri: str, sha256: str, size: int, details: dict[str, Any]
    ) -> FileRecord:
        """Record a quarantined file; if (dataset, uri, sha256) is known, return that record."""
        key = {"dataset": dataset, "uri": uri, "sha256": sha256}
        row = {**key, "size": size, "status": "quarantined", "details": details}

        def work(conn: Connection) -> FileRecord:
            insert_ignore(conn, tables.IngestedFile, row)
            found = find_file(conn, **key)
            if found is None:  # pragma: no cover - inserted or already there
                raise RegistryError(f"dataset {dataset!r}: {uri} vanished while recording it")
            return found

        return self._write(f"record quarantined file {uri}", work)

    def latest_dataset_version(self, dataset: str) -> DatasetVersionRecord | None:
        """The newest version of ``dataset``, or None before the first commit."""
        found = self._read("read datasets", lambda c: dataset_versions(c, dataset, limit=1))
        return found[0] if found else None

    def get_dataset_version(self, dataset: str, version: str) -> DatasetVersionRecord | None:
        """Version ``version`` of ``dataset``, if committed."""
        found = self._read("read datasets", lambda c: dataset_versions(c, dataset, version))
        return found[0] if found else None

    def list_dataset_versions(self, dataset: str) -> list[DatasetVersionRecord]:
        """Every version of ``dataset``, newest first."""
        return self._read("list datasets", lambda c: dataset_versions(c, dataset))

    def next_dataset_version(self, dataset: str) -> str:
        """The version name the next commit of ``dataset`` will take."""
        latest = self.latest_dataset_version(dataset)
        return f"v{latest.seq + 1 if latest else 1}"

    def commit_dataset_version(
        self,
        dataset: str,
        expected_parent: str | None,
        manifest_uri: str,
        manifest_sha256: str,
        rows: int,
        partitions: int,
        files: list[NewFile],
        version: str,
    ) -> DatasetVersionRecord:
        """Commit ``version`` of ``dataset`` and its accepted files in one transaction.

        Raises:
            LostRaceError: the latest version is not ``expected_parent`` or a file
                is already recorded (nothing is written).
            RegistryError: ``version`` is not the next one, or a file repeats.
        """
        if len({(f.uri, f.sha256) for f in files}) != len(files):
            raise RegistryError(f"dataset {dataset!r}: a file appears twice in {version}")
        values = {
            "dataset": dataset, "version": version, "parent_version": expected_parent,
            "manifest_uri": manifest_uri, "manifest_sha256": manifest_sha256,
            "rows": rows, "partitions": partitions,
        }  # fmt: skip
        accepted = [asdict(f) for f in files]
        conflict = f"dataset {dataset!r}: another run committed {version} or its files first"
        return self._write(
            f"commit {dataset} {version}",
            lambda c: add_dataset_version(c, values, accepted),
            conflict,
        )


def find_file(conn: Connection, dataset: str, uri: str, sha256: str) -> FileRecord | None:
    """The file recorded under (dataset, uri, sha256), if any."""
    key = (IngestedFile.dataset == dataset, IngestedFile.uri == uri, IngestedFile.sha256 == sha256)
    return first(conn, FileRecord, select(IngestedFile).where(*key))


def list_files(conn: Connection, dataset: str) -> list[FileRecord]:
    """Every file recorded for ``dataset``, oldest first."""
    statement = select(IngestedFile).where(IngestedFile.dataset == dataset)
    return many(conn, FileRecord, statement.order_by(IngestedFile.id))


def recorded_uris(conn: Connection, dataset: str, keys: Iterable[tuple[str, str]]) -> list[str]:
    """The URIs among ``keys`` ((uri, sha256) pairs) already recorded for ``dataset``."""
    wanted = set(keys)
    statement = select(IngestedFile.uri, IngestedFile.sha256).where(
        IngestedFile.dataset == dataset, IngestedFile.uri.in_(sorted({u for u, _ in wanted}))
    )
    return sorted({row.uri for row in conn.execute(statement) if (row.uri, row.sha256) in wanted})


def dataset_versions(
    conn: Connection, dataset: str, version: str | None = None, limit: int | None = None
) -> list[DatasetVersionRecord]:
    """Versions of ``dataset`` (only ``version`` when given), newest first."""
    statement = select(DatasetVersion).where(DatasetVersion.dataset == dataset)
    if version is not None:
        statement = statement.where(DatasetVersion.version == version)
    statement = statement.order_by(DatasetVersion.seq.desc()).limit(limit)
    return many(conn, DatasetVersionRecord, statement)


def add_dataset_version(
    conn: Connection, values: dict[str, Any], files: list[dict[str, Any]]
) -> DatasetVersionRecord:
    """Insert a dataset version whose parent must still be the latest, with its files.

    Raises:
        LostRaceError: the latest version is not ``values["parent_version"]``, or
            a file is already recorded.
        RegistryError: ``values["version"]`` is not above the parent's.
    """
    dataset, expected = values["dataset"], values["parent_version"]
    found = dataset_versions(conn, dataset, limit=1)
    actual = found[0].version if found else None
    if actual != expected:
        raise LostRaceError(f"dataset {dataset!r}: expected latest {expected}, found {actual}")
    seq = int(str(values["version"]).removeprefix("v") or 0)
    lowest = found[0].seq + 1 if found else 1
    if values["version"] != f"v{seq}" or seq < lowest:
        # a gap above the parent is allowed: a crashed run may have left a manifest there
        raise RegistryError(f"dataset {dataset!r}: {values['version']} is not after v{lowest - 1}")
    taken = recorded_uris(conn, dataset, [(f["uri"], f["sha256"]) for f in files])
    if taken:
        raise LostRaceError(f"dataset {dataset!r}: {taken[0]} is already recorded")
    record = insert_one(conn, DatasetVersion, DatasetVersionRecord, {**values, "seq": seq})
    extra = {"dataset": dataset, "status": "accepted", "dataset_version": values["version"]}
    if files:
        conn.execute(insert(IngestedFile), [{**f, **extra} for f in files])
    return record
