"""infra/Dockerfile and /.dockerignore, checked statically.

There is no Docker engine on the machines this suite runs on, so the image is never built
here: these tests read the Dockerfile the way the builder would (stages, instructions,
COPY sources against the build context after .dockerignore) and check the promises made
for it: multi-stage, installed from the lock file, non-root, `retrain` as entrypoint, no
credentials.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "infra" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
SECRET_NAME = re.compile(
    r"(KEY|SECRET|TOKEN|PASSW(OR)?D|CREDENTIAL|AUTH|PRIVATE|SESSION)", re.IGNORECASE
)
SECRET_VALUE = re.compile(r"(AKIA[0-9A-Z]{16}|-----BEGIN|pnu_[A-Za-z0-9]{20,}|://[^/\s]+:[^@\s]+@)")


@dataclass
class Instruction:
    keyword: str
    args: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, with continuation lines joined."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in lines:
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(parts[0], name))
        elif not stages:
            assert keyword == "ARG", f"only ARG may precede the first FROM, not {keyword}"
            arg_name, _, default = args.partition("=")
            global_args[arg_name] = default
        else:
            stages[-1].instructions.append(Instruction(keyword, args))
    return global_args, stages


def env_pairs(args: str) -> dict[str, str]:
    return dict(token.split("=", 1) for token in shlex.split(args))


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """(exclude?, regex) per .dockerignore line, in order: the last match wins."""
    rules = []
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            elif pattern[i] == "[":
                end = pattern.index("]", i)
                regex, i = regex + pattern[i : end + 1], end + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        rules.append((exclude, re.compile(regex + "$")))
    return rules


def ignored(path: str) -> bool:
    """Whether Docker leaves ``path`` (relative to the context) out of the build context."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]  # dirs, then the file
    verdict = False
    for exclude, regex in dockerignore_rules():
        if any(regex.match(c) for c in candidates):
            verdict = exclude
    return verdict


@pytest.fixture(scope="module")
def dockerfile() -> tuple[dict[str, str], list[Stage]]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def resolve(base: str, global_args: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: global_args.get(m.group(1), m.group(0)), base)


def test_it_is_multi_stage_and_the_runtime_takes_only_the_venv(dockerfile) -> None:
    _, stages = dockerfile
    assert len(stages) >= 2
    builder, runtime = stages[0], stages[-1]
    assert builder.name
    copies_from_builder = [
        i.args for i in runtime.all("COPY") if i.args.startswith(f"--from={builder.name}")
    ]
    assert copies_from_builder == [f"--from={builder.name} /opt/venv /opt/venv"]
    assert not any("pip install" in i.args for i in runtime.all("RUN"))


def test_every_stage_starts_from_python_311_slim_pinned_by_tag(dockerfile) -> None:
    global_args, stages = dockerfile
    for stage in stages:
        image = resolve(stage.base, global_args)
        repo, _, tag = image.partition(":")
        assert repo == "python", image
        assert re.fullmatch(r"3\.11(\.\d+)?-slim(-\w+)?(@sha256:[0-9a-f]{64})?", tag), image


def test_the_builder_installs_the_lock_file_then_the_project_without_deps(dockerfile) -> None:
    _, stages = dockerfile
    steps = [f"{i.keyword} {i.args}" for i in stages[0].instructions]

    def step(pattern: str) -> int:
        found = [n for n, s in enumerate(steps) if re.search(pattern, s)]
        assert found, f"the builder has no step matching {pattern!r}"
        return found[0]

    lock_copy = step(r"^COPY .*requirements\.lock")
    lock_install = step(r"^RUN .*pip install --require-hashes -r requirements\.lock")
    project = step(r"^RUN .*pip install --no-deps \.( |$)")
    assert lock_copy < lock_install < project
    assert any(s.startswith("RUN python -m venv /opt/venv") for s in steps)


def test_it_runs_as_a_fixed_non_root_user_before_the_retrain_entrypoint(dockerfile) -> None:
    _, stages = dockerfile
    runtime = stages[-1]
    keywords = [i.keyword for i in runtime.instructions]
    users = runtime.all("USER")
    assert users, "no USER: the image would run as root"
    user = users[-1].args.split(":")[0]
    assert user.isdigit() and int(user) >= 1000, f"USER {user}: use a fixed, non-root uid"
    assert "ENTRYPOINT" in keywords
    assert keywords.index("USER") < keywords.index("ENTRYPOINT"), "USER comes after ENTRYPOINT"
    assert "USER" not in keywords[keywords.index("ENTRYPOINT") :][1:]
    (entrypoint,) = runtime.all("ENTRYPOINT")
    assert json.loads(entrypoint.args) == ["retrain"]  # exec form
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    assert "retrain" in scripts
    useradd = next(i.args for i in runtime.all("RUN") if "useradd" in i.args)
    assert f"--uid {user}" in useradd


def test_no_credentials_or_secret_looking_settings_are_baked_in(dockerfile) -> None:
    global_args, stages = dockerfile
    names: dict[str, str] = dict(global_args)
    for stage in stages:
        for inst in stage.all("ENV"):
            names.update(env_pairs(inst.args))
        for inst in stage.all("ARG"):
            name, _, default = inst.args.partition("=")
            names[name] = default
    for name, value in names.items():
        assert not SECRET_NAME.search(name), f"secret-looking {name}"
        assert not name.startswith(("AWS_", "PREFECT_API_")), f"{name} belongs to the job's env"
        assert not SECRET_VALUE.search(value), f"{name} looks like it holds a credential"
    assert not SECRET_VALUE.search(DOCKERFILE.read_text(encoding="utf-8"))


def test_runtime_defaults_are_safe_and_writable_by_the_user(dockerfile) -> None:
    _, stages = dockerfile
    env: dict[str, str] = {}
    for inst in stages[-1].all("ENV"):
        env.update(env_pairs(inst.args))
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert env["DO_NOT_TRACK"] == "1"
    for var in ("PREFECT_HOME", "RETRAIN_HOME"):  # /app is root's and read-only to the user
        assert env[var].startswith(env["HOME"] + "/"), var
    assert env["PATH"].startswith("/opt/venv/bin:")


def test_the_runtime_has_the_openmp_library_lightgbm_links() -> None:
    lib = next(
        (ROOT / ".venv" / "lib").glob("python3.*/site-packages/lightgbm/lib/lib_lightgbm.so")
    )
    assert b"libgomp.so.1" in lib.read_bytes()  # a system library, not bundled in the wheel
    runtime = parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))[1][-1]
    assert any("apt-get install" in i.args and "libgomp1" in i.args for i in runtime.all("RUN"))


def copy_sources(stages: list[Stage]) -> list[str]:
    sources = []
    for stage in stages:
        for inst in stage.all("COPY"):
            tokens = [t for t in shlex.split(inst.args) if not t.startswith("--")]
            if any(t.startswith("--from") for t in shlex.split(inst.args)):
                continue
            sources.extend(tokens[:-1])
    return sources


def test_every_copy_source_exists_and_survives_dockerignore(dockerfile) -> None:
    _, stages = dockerfile
    sources = copy_sources(stages)
    assert sources
    for source in sources:
        path = ROOT / source
        assert path.exists(), f"COPY {source}: not in the repository"
        assert not ignored(source), f"COPY {source}: excluded by .dockerignore"
        if path.is_dir():
            files = [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
            kept = [p for p in files if not ignored(p.relative_to(ROOT).as_posix())]
            assert kept == files, f"COPY {source}: .dockerignore drops {set(files) - set(kept)}"


def test_dockerignore_keeps_local_state_caches_and_credentials_out() -> None:
    for path in (
        ".venv/bin/python",
        ".retrain/registry.db",
        ".git/HEAD",
        "tests/infra/test_dockerfile.py",
        "flows/__pycache__/cli.cpython-311.pyc",
        "retrain.egg-info/PKG-INFO",
        ".pytest_cache/v/cache/nodeids",
        "registry.db",
        "schemas/local.sqlite3",
        ".env",
        "deployments/.env.production",
        "home/.aws/credentials",
        "infra/kubeconfig.yaml",
        "secrets/id_rsa.pem",
    ):
        assert ignored(path), path
    for path in ("requirements.lock", "pyproject.toml", "flows/cli/app.py", "schemas/prices.yaml"):
        assert not ignored(path), path


def test_the_image_holds_every_deployment_entrypoint(dockerfile) -> None:
    """Deployments name flows by file path; the runtime stage copies the tree they live in."""
    _, stages = dockerfile
    runtime_sources = {s.split("/")[0] for s in copy_sources([stages[-1]])}
    definitions = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text("utf-8"))
    entrypoints = {d["entrypoint"].split(":")[0] for d in definitions["deployments"]}
    assert entrypoints
    for entrypoint in entrypoints:
        assert entrypoint.split("/")[0] in runtime_sources, entrypoint
        assert (ROOT / entrypoint).is_file(), entrypoint
    assert {"deployments", "schemas"} <= set(copy_sources([stages[-1]]))
