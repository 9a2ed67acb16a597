"""The ``retrain`` command line: errors through ``main()``, the lifecycle through CliRunner."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import cli
from tests.helpers.samples import read_json, sha256_hex

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
RETRAIN = ROOT / ".venv" / "bin" / "retrain"
COMMANDS = (
    "quickstart", "data", "ingest", "train", "champion", "models", "history", "datasets",
    "rollback", "verify", "gc",
)  # fmt: skip


def cli_json(*args: str) -> Any:
    result = cli(*args, "--json")
    assert result.exit_code == 0, (args, result.output, result.exception)
    return json.loads(result.stdout)


@pytest.fixture
def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``flows.cli.main`` (the console entry point) in-process: (exit code, out, err)."""
    from flows.cli import main

    def run(*args: str) -> tuple[int | str | None, str, str]:
        monkeypatch.setattr(sys, "argv", ["retrain", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        captured = capsys.readouterr()
        return exited.value.code, captured.out, captured.err

    return run


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


# ---------------------------------------------------------------- errors


def test_version_and_short_help() -> None:
    version = cli("--version")
    assert version.exit_code == 0
    assert re.match(r"^retrain \d+\.\d+\.\d+ \(prefect \d", version.stdout), version.stdout
    short = cli("models", "-h")
    assert short.exit_code == 0
    assert "Usage: retrain models" in short.stdout


def test_boolean_flags_are_plain_flags_in_help() -> None:
    shown = cli("rollback", "--help").stdout

    assert re.search(r"^\s+--json\s+Print one JSON document", shown, flags=re.MULTILINE), shown
    assert "<bool>" not in shown
    assert "--to <str>" in shown  # an option with a value shows it


def test_help_lists_the_commands() -> None:
    result = cli("--help")

    assert result.exit_code == 0, result.output
    listed = set(re.findall(r"^[\s│|]*([a-z]+)\s{2,}\S", result.stdout, flags=re.MULTILINE))
    assert set(COMMANDS) <= listed, listed


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (("ingest", "nosuchdataset"), "dataset 'nosuchdataset'"),
        (("train", "nosuchmodel"), "model 'nosuchmodel'"),
    ],
)
def test_unknown_spec_is_a_one_line_error_listing_the_known_ones(
    retrain_home: Path, run_main: Any, args: tuple[str, ...], what: str
) -> None:
    code, out, err = run_main(*args)

    assert code == 1
    line = one_line_error(err)
    assert what in line
    known = "transactions" if args[0] == "ingest" else "fraud"
    assert "known:" in line
    assert known in line.split("known:", 1)[1]
    assert out == ""
    assert not retrain_home.exists()  # nothing written


@pytest.mark.parametrize(
    ("kind", "name", "args"),
    [
        ("models", "fraud", ("train", "fraud")),
        ("datasets", "transactions", ("ingest", "transactions")),
    ],
)
def test_invalid_yaml_in_the_specs_dir_is_a_one_line_error_naming_the_file(
    retrain_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_main: Any,
    kind: str,
    name: str,
    args: tuple[str, ...],
) -> None:
    bad = tmp_path / "specs" / kind / f"{name}.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text(f"name: {name}\nkind: [events\n  columns: {{\n")
    monkeypatch.setenv("RETRAIN_SPECS_DIR", str(tmp_path / "specs"))

    code, _out, err = run_main(*args)

    assert code == 1
    line = one_line_error(err)
    assert str(bad) in line
    assert "invalid YAML" in line
    assert not retrain_home.exists()


def test_unreachable_database_is_a_one_line_error(tmp_path: Path) -> None:
    """Through the installed console script: exit code and stderr as a user sees them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRAIN_")}
    env |= {
        "RETRAIN_HOME": str(tmp_path / "home"),
        "RETRAIN_DATABASE_URL": "postgresql://postgres:s3cret@127.0.0.1:1/x",
    }

    proc = subprocess.run(
        [str(RETRAIN), "champion", "fraud"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert proc.returncode == 1, proc
    line = one_line_error(proc.stderr)
    assert "127.0.0.1:1" in line
    assert "s3cret" not in line  # the password is masked
    assert proc.stdout == ""


@pytest.mark.parametrize("fault", ["locked", "read_only"])
def test_a_locked_or_read_only_registry_is_named_in_one_line(tmp_path: Path, fault: str) -> None:
    """The real exceptions SQLAlchemy raises for a SQLite file another process holds, or one
    opened read-only, become the one-line explanations ``main`` prints."""
    import sqlite3

    from sqlalchemy import create_engine, text

    from flows.cli.app import known_failure

    path = tmp_path / "registry.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (x INTEGER)")
    holder = sqlite3.connect(path, isolation_level=None)
    if fault == "locked":
        holder.execute("BEGIN EXCLUSIVE")  # another process's long write
        engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    else:
        engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        with pytest.raises(Exception) as raised, engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        engine.dispose()
        holder.close()

    message = known_failure(raised.value)
    expected = {
        "locked": "the registry database is locked by another process",
        "read_only": "the registry database is read-only here",
    }[fault]
    assert message is not None and message.startswith(expected), (raised.value, message)


def test_unreachable_store_is_a_one_line_error(
    retrain_home: Path, monkeypatch: pytest.MonkeyPatch, run_main: Any
) -> None:
    for name, value in {
        "RETRAIN_STORE_URL": "s3://bucket",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)

    code, out, err = run_main("data", "generate", "transactions", "--days", "1")

    assert code == 1
    line = one_line_error(err)
    assert "s3://bucket/" in line
    assert "127.0.0.1:1" in line
    assert out == ""


# ---------------------------------------------------------------- lifecycle


def test_data_generate_writes_one_file_per_day(env: Path, store_root: Path) -> None:
    data = cli_json(
        "data", "generate", "transactions", "--days", "2", "--rows-per-day", "50",
        "--start", "2026-10-01",
    )  # fmt: skip

    assert data["dataset"] == "transactions"
    assert len(data["files"]) == 2
    landed = sorted(p.relative_to(store_root).as_posix() for p in store_root.rglob("*.csv"))
    assert landed == [
        "landing/transactions/2026-10-01/transactions-2026-10-01.csv",
        "landing/transactions/2026-10-02/transactions-2026-10-02.csv",
    ]
    assert sorted(data["files"]) == [(store_root / k).as_uri() for k in landed]


def test_ingest_logs_no_great_expectations_info(
    env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cli_json("data", "generate", "transactions", "--days", "2", "--rows-per-day", "50")
    caplog.set_level(logging.INFO)

    ingested = cli_json("ingest", "transactions")

    assert len(ingested["files"]) == 2
    noise = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("great_expectations") and r.levelno < logging.WARNING
    ]
    assert noise == []


def test_ingest_train_inspect_and_roll_back_from_the_command_line(
    env: Path, store_root: Path
) -> None:
    generated = cli_json(
        "data", "generate", "transactions", "--days", "3", "--rows-per-day", "1500",
        "--start", "2026-10-01", "--corrupt", "negative_amount", "--corrupt-day", "1",
    )  # fmt: skip
    assert len(generated["files"]) == 4

    ingested = cli_json("ingest", "transactions")
    statuses = sorted(f["status"] for f in ingested["files"])
    assert statuses == ["accepted", "accepted", "accepted", "quarantined"]
    assert ingested["version"]["version"] == "v1"

    datasets = cli_json("datasets", "transactions")
    assert [v["version"] for v in datasets["versions"]] == ["v1"]
    assert datasets["versions"][0]["rows"] == ingested["version"]["rows"] == 4500
    [bad] = datasets["quarantined"]
    assert bad["uri"].endswith("transactions-2026-10-02-negative_amount.csv")
    assert any("amount" in r for r in bad["details"]["reasons"])

    first = cli_json("train", "fraud")
    assert (first["outcome"], first["version"], first["champion"]) == ("promoted", "v1", "v1")

    champion = cli_json("champion", "fraud")
    for key in ("model", "version", "artifact_uri", "sha256", "dataset_version", "metrics"):
        assert key in champion, key
    assert (champion["model"], champion["version"]) == ("fraud", "v1")
    model_path = store_root / "models/fraud/v1/model.txt"
    assert champion["artifact_uri"] == model_path.as_uri()
    assert champion["sha256"] == sha256_hex(model_path.read_bytes())
    assert champion["dataset_version"] == {"transactions": "v1"}
    assert champion["metrics"]["pr_auc"] == pytest.approx(first["metrics"]["pr_auc"])
    assert datetime.fromisoformat(champion["promoted_at"]).tzinfo is not None
    card = read_json(store_root / "models/fraud/v1/card.json")
    assert re.fullmatch(r"[0-9a-f-]{36}", champion["flow_run_id"]), champion["flow_run_id"]
    assert card["training"]["flow_run_id"] == champion["flow_run_id"]
    assert card["training"]["engine"] == {"kind": "local"}  # no RETRAIN_DASK_ADDRESS
    assert f"trained by: flow run {champion['flow_run_id']}" in cli("champion", "fraud").stdout

    cli_json("data", "generate", "transactions", "--days", "1", "--rows-per-day", "1500",
             "--start", "2026-10-04")  # fmt: skip
    assert cli_json("ingest", "transactions")["version"]["version"] == "v2"
    second = cli_json("train", "fraud")
    assert (second["outcome"], second["version"], second["champion"]) == ("promoted", "v2", "v2")
    assert second["previous_champion"] == "v1"

    models = cli_json("models", "fraud")["versions"]
    assert [(m["version"], m["status"]) for m in models] == [
        ("v2", "champion"),
        ("v1", "archived"),
    ]
    assert models[0]["dataset_versions"] == {"transactions": "v2"}

    history = cli_json("history", "fraud")
    ledger = history["ledger"]
    assert [(e["action"], e["from_version"], e["to_version"]) for e in ledger] == [
        ("promote", None, "v1"),
        ("promote", "v1", "v2"),
    ]
    assert [d["outcome"] for d in history["decisions"]] == ["promoted", "promoted"]

    rolled = cli("rollback", "fraud")

    assert rolled.exit_code == 0, (rolled.output, rolled.exception)
    assert "v2 -> v1" in rolled.stdout
    assert cli_json("champion", "fraud")["version"] == "v1"
    pointer = read_json(store_root / "models/fraud/champion.json")
    assert (pointer["version"], pointer["sha256"]) == ("v1", champion["sha256"])
    after = cli_json("history", "fraud")["ledger"]
    assert after[:2] == ledger  # append-only: earlier entries untouched
    assert [(e["action"], e["from_version"], e["to_version"]) for e in after[2:]] == [
        ("rollback", "v2", "v1")
    ]
    assert [(m["version"], m["status"]) for m in cli_json("models", "fraud")["versions"]] == [
        ("v2", "archived"),
        ("v1", "champion"),
    ]

    header = cli("models", "fraud").stdout.splitlines()[0].split()
    assert header[:4] == ["version", "status", "datasets", "pr_auc"]
    assert "roc_auc" in header and "ndcg@10" not in header
    cost = cli("cost", "fraud").stdout.splitlines()
    assert cost[0] == "fraud: training runs"
    assert cost[2].split()[:4] == ["fraud", "2", "2", "succeeded"], cost
    assert cost[3].split()[:2] == ["total", "2"], cost

    # A second rollback goes further back (nothing before v1), not back to v2.
    again = cli("rollback", "fraud")
    assert again.exit_code == 1
    assert "no champion before v1" in str(again.exception)
    unknown = cli("rollback", "fraud", "--to", "v99")
    assert "no such version v99 (registered: v1..v2)" in str(unknown.exception)
    # Retrying the rollback that already happened, naming the champion it replaced: no-op.
    retried = cli_json("rollback", "fraud", "--from", "v2")
    assert (retried["moved"], retried["from_version"], retried["to_version"]) == (
        False, "v2", "v1",
    )  # fmt: skip
    assert len(cli_json("history", "fraud")["ledger"]) == 3
    # A damaged artifact is refused before the swap, naming the file.
    damaged = store_root / "models/fraud/v2/model.txt"
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    refused = cli("rollback", "fraud", "--to", "2")  # a bare number means v2
    assert refused.exit_code == 1
    assert "v2 is damaged, not restored" in str(refused.exception)
    assert "models/fraud/v2/model.txt" in str(refused.exception)
    assert cli_json("champion", "fraud")["version"] == "v1"
    assert read_json(store_root / "models/fraud/champion.json")["version"] == "v1"


@pytest.mark.parametrize(
    "args",
    [
        ("champion", "fruad"),
        ("models", "nosuch"),
        ("history", "nosuch"),
        ("verify", "nosuch"),
        ("rollback", "nosuch"),
        ("cost", "nosuch"),
        ("approve", "nosuch", "v1", "--by", "alice"),
        ("datasets", "transaction"),
        ("data", "generate", "transaction"),
    ],
)
def test_every_unknown_name_is_an_error_listing_the_known_ones(
    retrain_home: Path, run_main: Any, args: tuple[str, ...]
) -> None:
    code, out, err = run_main(*args)

    assert code == 1
    line = one_line_error(err)
    kind = "dataset" if "transaction" in args else "model"
    assert f"unknown {kind} '{args[-1] if kind == 'dataset' else args[1]}'" in line
    assert ("transactions" if kind == "dataset" else "fraud, recs") in line
    assert out == ""
    assert not retrain_home.exists()


@pytest.mark.parametrize(
    "args", [("champion", "fraud"), ("models", "fraud"), ("datasets", "transactions"), ("cost",)]
)
def test_read_only_commands_create_nothing_and_say_where_they_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_main: Any, args: tuple[str, ...]
) -> None:
    home = tmp_path / "nonexistent" / "deep" / "path"
    monkeypatch.setenv("RETRAIN_HOME", str(home))
    monkeypatch.delenv("RETRAIN_DATABASE_URL", raising=False)

    code, out, err = run_main(*args)

    assert code == 1
    assert f"no registry at {home / 'registry.db'}" in one_line_error(err)
    assert out == ""
    assert not (tmp_path / "nonexistent").exists()


def test_sparse_weekly_data_gets_a_spec_check_and_a_skip_naming_the_fields(
    env: Path, store_root: Path
) -> None:
    for dataset in ("items", "users"):
        cli_json("data", "generate", dataset, "--profile", "sparse", "--start", "2026-01-05")
    weekly = cli_json(
        "data", "generate", "interactions", "--profile", "sparse", "--days", "56",
        "--rows-per-day", "100", "--start", "2026-01-05",
    )  # fmt: skip
    assert len(weekly["files"]) == 8 and all("interactions-week-" in f for f in weekly["files"])
    for dataset in ("items", "users", "interactions"):
        assert cli_json("ingest", dataset)["version"]["version"] == "v1"

    check = cli_json("spec", "check", "recs")
    assert check["dataset_versions"] == {"interactions": "v1", "items": "v1", "users": "v1"}
    assert check["fits"] is False and check["min_rows"] == 200
    assert [w["split"] for w in check["windows"]] == ["test", "validation", "train"]
    assert check["suggestion"]["why"]
    text = cli("spec", "check", "recs")
    assert text.exit_code == 0 and "split.min_rows 200 does NOT hold" in text.stdout

    skipped = cli_json("train", "recs")
    assert skipped["outcome"] == "skipped"
    reason = skipped["reasons"][0]
    assert "needs split.min_rows 200" in reason and "widen split.training_window_days" in reason


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://root@127.0.0.1/test", "use postgresql://USER@HOST:5432/DB or sqlite:///"),
        ("postgresql+asyncpg://u@127.0.0.1/test", "write postgresql://USER@HOST:5432/DB"),
    ],
)
def test_a_wrong_database_url_is_one_line_naming_the_scheme_to_use(
    retrain_home: Path, monkeypatch: pytest.MonkeyPatch, run_main: Any, url: str, expected: str
) -> None:
    monkeypatch.setenv("RETRAIN_DATABASE_URL", url)
    code, out, err = run_main("champion", "fraud")
    assert code == 1 and out == ""
    line = one_line_error(err)
    assert "RETRAIN_DATABASE_URL" in line and expected in line


def test_an_unreachable_prefect_api_is_one_line_with_what_to_do(retrain_home: Path) -> None:
    """A real process: the in-process harness would keep its own API URL."""
    import os
    import subprocess

    env = {**os.environ, "RETRAIN_HOME": str(retrain_home)}
    env["PREFECT_API_URL"] = "http://127.0.0.1:9/api"  # nothing listens on port 9
    done = subprocess.run(
        [str(Path(sys.executable).with_name("retrain")), "ingest", "transactions"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    line = one_line_error(done.stderr)
    assert "the Prefect API at http://127.0.0.1:9/api is unreachable" in line
    assert "unset PREFECT_API_URL" in line and "--verbose" in line


@pytest.mark.unit
def test_unknown_failures_are_not_explained_away() -> None:
    from flows.cli.app import known_failure

    assert known_failure(ValueError("boom")) is None
    assert known_failure(RuntimeError("Failed to reach API at http://x/api/")) is not None


def test_local_runs_name_the_temporary_api_for_dask_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tasks on Dask workers report to the API in the settings sent with them: with
    RETRAIN_DASK_ADDRESS the temporary API is named there (it stays unnamed otherwise)."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings, temporary_settings

    from flows.cli.app import local_runs

    monkeypatch.setenv("RETRAIN_DASK_ADDRESS", "tcp://127.0.0.1:8786")
    with temporary_settings(restore_defaults={"api.url"}):
        with local_runs() as api_ready:
            api_ready()
            assert get_current_settings().api.url == SubprocessASGIServer().api_url
        assert get_current_settings().api.url is None  # only for the command's runs


def test_local_runs_start_the_temporary_api_early_and_send_no_heartbeats() -> None:
    import httpx
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings, temporary_settings

    from flows.cli.app import local_runs

    with temporary_settings(restore_defaults={"api.url"}), local_runs() as api_ready:
        assert get_current_settings().flows.heartbeat_frequency is None
        api_ready()
        server = SubprocessASGIServer()  # the instance Prefect's client will use
        assert server.running
        assert httpx.get(f"{server.api_url}/health", timeout=10).status_code == 200
        assert get_current_settings().api.url is None  # the client's ephemeral mode
    real = {"api.url": "http://127.0.0.1:4200/api", "flows.heartbeat_frequency": 60}
    with temporary_settings(updates=real), local_runs() as api_ready:
        api_ready()  # nothing to wait for: the server is someone else's
        assert get_current_settings().flows.heartbeat_frequency == 60


def test_prefect_console_lines_drop_tracebacks_but_the_record_keeps_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failed task's traceback came before the command's one-line error (issue 12,
    problem 8); the API's log handler still gets it (the Prefect UI shows it)."""
    from prefect.logging.handlers import PrefectConsoleHandler

    from flows.cli.app import console_without_tracebacks, verbose_asked
    from schemas.errors import IntegrityError

    monkeypatch.setattr(sys, "argv", ["retrain", "train", "fraud", "-v"])
    assert verbose_asked()
    monkeypatch.setattr(sys, "argv", ["retrain", "train", "fraud"])
    assert not verbose_asked()
    console_without_tracebacks()
    names = ("", "prefect", "prefect.flow_runs", "prefect.task_runs")
    handlers = [
        h
        for name in names
        for h in logging.getLogger(name).handlers
        if isinstance(h, PrefectConsoleHandler)
    ]
    assert handlers, "Prefect's logging has a console handler once set up"
    try:
        try:
            raise IntegrityError("sha256 mismatch for 'models/fraud/v1/model.txt'")
        except IntegrityError as exc:
            record = logging.LogRecord(
                "prefect.task_runs", logging.ERROR, __file__, 1,
                "Task run failed with exception: %r", (exc,), sys.exc_info(),
            )  # fmt: skip
        record.task_run_id, record.task_run_name = "1b2c", "evaluate_challenger-8f3"
        for handler in handlers:
            line = handler.format(record)
            assert "sha256 mismatch" in line
            assert "Traceback" not in line and "\n" not in line
        assert record.exc_info is not None
        assert "Traceback" in logging.Formatter().format(record)
    finally:
        for handler in handlers:
            handler.setFormatter(getattr(handler.formatter, "inner", handler.formatter))
