"""``leakstop action`` on a simulated runner: event payload files, a temporary GITHUB_OUTPUT and
GITHUB_STEP_SUMMARY, a checkout whose base commit holds an old secret and whose head adds new
ones. Checks what is scanned per event, what is written (SARIF, annotations, summary, outputs,
PR comment), the exit codes, and that no secret appears anywhere unredacted."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scanner import gha
from scanner.models import Finding, Origin, ScanResult, Summary
from scanner.samples import expand, pem
from tests.support.fake_github import Comment, FakeGitHub

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
ZERO = "0" * 40


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str = "change") -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@dataclass
class History:
    """origin: main = [c1 adds an old secret, base], feature = base + head (two new secrets).
    workspace: a full clone checked out at head, as actions/checkout leaves it."""

    origin: Path
    workspace: Path
    c1: str
    base: str
    head: str
    secrets: list[str]
    new_paths: set[str] = field(default_factory=lambda: {"app/new.py", "deploy/key.pem"})


@pytest.fixture
def history(make_repo: Callable[..., Path], tmp_path: Path) -> History:
    origin = make_repo("origin")
    client = expand("«digits:12»-«lower:32».apps.googleusercontent.com", "gha")
    old = expand("GOCSPX-«b64u:28»", "gha-old")
    new = expand("GOCSPX-«b64u:28»", "gha-new")
    key = pem("pkcs8-ec")
    c1 = commit(origin, {"settings.py": f'CLIENT_ID = "{client}"\nCLIENT_SECRET = "{old}"\n'})
    base = commit(origin, {"README.md": "docs\n"})
    git(origin, "checkout", "-q", "-b", "feature")
    head = commit(
        origin,
        {
            "app/new.py": f'CLIENT_ID = "{client}"\nCLIENT_SECRET = "{new}"\n',
            "deploy/key.pem": key,
        },
    )
    git(origin, "checkout", "-q", "main")
    workspace = tmp_path / "workspace"
    subprocess.run(["git", "clone", "-q", str(origin), str(workspace)], check=True)
    git(workspace, "checkout", "-q", "--detach", head)
    body_lines = [ln for ln in key.splitlines() if ln and not ln.startswith("-----")]
    return History(origin, workspace, c1, base, head, [old, new, *body_lines])


def runner_env(
    tmp_path: Path, workspace: Path, event: str, payload: dict[str, Any], **inputs: str
) -> dict[str, str]:
    """The environment a runner gives a step, with the Action's inputs as LEAKSTOP_*."""
    (tmp_path / "runner").mkdir(exist_ok=True)
    event_path = tmp_path / "runner" / "event.json"
    event_path.write_text(json.dumps(payload))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "LEAKSTOP_"))}
    env.update(
        GITHUB_ACTIONS="true",
        GITHUB_EVENT_NAME=event,
        GITHUB_EVENT_PATH=str(event_path),
        GITHUB_WORKSPACE=str(workspace),
        GITHUB_OUTPUT=str(tmp_path / "runner" / "output"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "runner" / "summary.md"),
        GITHUB_REPOSITORY="acme/app",
        RUNNER_TEMP=str(tmp_path / "runner"),
        PYTHONPATH=str(ROOT),
        NO_COLOR="1",
    )
    env.update({f"LEAKSTOP_{k.upper()}": v for k, v in inputs.items()})
    return env


def pr_payload(h: History, *, fork: bool = False, number: int = 7) -> dict[str, Any]:
    head_repo = "someone/app" if fork else "acme/app"
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "base": {"sha": h.base, "ref": "main", "repo": {"full_name": "acme/app"}},
            "head": {"sha": h.head, "ref": "feature", "repo": {"full_name": head_repo}},
        },
        "repository": {"full_name": "acme/app", "default_branch": "main"},
    }


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    env: dict[str, str]

    @property
    def outputs(self) -> dict[str, str]:
        lines = Path(self.env["GITHUB_OUTPUT"]).read_text().splitlines()
        values: dict[str, str] = {}
        i = 0
        while i < len(lines):
            name, delimiter = lines[i].split("<<", 1)
            assert re.fullmatch(r"ghadelimiter_[0-9a-f-]{36}", delimiter)
            end = lines.index(delimiter, i + 1)
            values[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        return values

    @property
    def summary(self) -> str:
        path = Path(self.env["GITHUB_STEP_SUMMARY"])
        return path.read_text() if path.exists() else ""

    def sarif(self) -> dict[str, Any]:
        return json.loads(Path(self.outputs["sarif"]).read_text())

    def annotations(self) -> list[str]:
        """Workflow commands the runner would act on: the lines outside stop-commands."""
        active, token, found = True, None, []
        for line in self.stdout.splitlines():
            if active and line.startswith("::stop-commands::"):
                active, token = False, line.removeprefix("::stop-commands::")
            elif not active and line == f"::{token}::":
                active = True
            elif active and line.startswith("::"):
                found.append(line)
        return found

    def everything(self) -> str:
        files = [Path(self.env["GITHUB_OUTPUT"]), Path(self.env["GITHUB_STEP_SUMMARY"])]
        if self.code != 2 and "sarif" in self.outputs:
            files.append(Path(self.outputs["sarif"]))
        texts = [self.stdout, self.stderr]
        texts += [p.read_text() for p in files if p.exists()]
        return "\n".join(texts)


def action(env: dict[str, str], cwd: Path) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "scanner", "action"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(done.returncode, done.stdout, done.stderr, env)


def needs_git_history() -> None:
    pytest.importorskip("scanner.sources.git", reason="git history scanning not merged yet")


def assert_redacted(run: Run, secrets: list[str]) -> None:
    text = run.everything()
    for secret in secrets:
        assert secret not in text


# --- end to end: what each event scans ------------------------------------------------------


def test_pull_request_annotates_only_what_the_pull_request_adds(history, tmp_path):
    needs_git_history()
    env = runner_env(tmp_path, history.workspace, "pull_request", pr_payload(history))
    run = action(env, history.workspace)
    assert run.code == 1, run.stdout + run.stderr
    notes = run.annotations()
    assert len(notes) == 2
    assert {re.search(r"file=([^,]+)", n).group(1) for n in notes} == history.new_paths  # type: ignore[union-attr]
    assert not any("settings.py" in n for n in notes)
    assert run.outputs["findings"] == "2"
    sarif = run.sarif()
    jsonschema.validate(sarif, SCHEMA)
    results = sarif["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == history.new_paths
    assert all(r["properties"]["commit"] == history.head for r in results)
    assert "| `google-oauth-client-secret` |" in run.summary
    assert history.head[:12] in run.summary
    assert_redacted(run, history.secrets)


def test_push_to_a_branch_scans_before_to_after(history, tmp_path):
    needs_git_history()
    payload = {
        "ref": "refs/heads/feature",
        "before": history.base,
        "after": history.head,
        "repository": {"full_name": "acme/app", "default_branch": "main"},
    }
    run = action(runner_env(tmp_path, history.workspace, "push", payload), history.workspace)
    assert run.code == 1
    assert run.outputs["findings"] == "2"
    assert_redacted(run, history.secrets)


def test_push_of_a_new_branch_scans_its_commits_not_on_the_default_branch(history, tmp_path):
    needs_git_history()
    payload = {
        "ref": "refs/heads/feature",
        "before": ZERO,
        "after": history.head,
        "created": True,
        "repository": {"full_name": "acme/app", "default_branch": "main"},
    }
    run = action(runner_env(tmp_path, history.workspace, "push", payload), history.workspace)
    assert run.code == 1
    assert {json.loads(json.dumps(r))["locations"][0]["physicalLocation"]["artifactLocation"][
        "uri"] for r in run.sarif()["runs"][0]["results"]} == history.new_paths  # fmt: skip


def test_schedule_scans_the_whole_repository(history, tmp_path):
    env = runner_env(tmp_path, history.workspace, "schedule", {"schedule": "0 3 * * 1"})
    run = action(env, history.workspace)
    assert run.code == 1, run.stdout + run.stderr
    notes = run.annotations()
    paths = {re.search(r"file=([^,]+)", n).group(1) for n in notes}  # type: ignore[union-attr]
    assert {"settings.py", *history.new_paths} <= paths  # the old secret too
    assert run.outputs["findings"] == str(len(notes))
    jsonschema.validate(run.sarif(), SCHEMA)
    assert "whole repository history" in run.stdout
    assert_redacted(run, history.secrets)


def test_no_findings_still_writes_an_empty_sarif_and_exits_0(make_repo, tmp_path):
    repo = make_repo("clean")
    commit(repo, {"README.md": "nothing to see\n"})
    run = action(runner_env(tmp_path, repo, "workflow_dispatch", {}), repo)
    assert run.code == 0, run.stdout + run.stderr
    assert run.annotations() == []
    sarif = run.sarif()
    jsonschema.validate(sarif, SCHEMA)
    assert sarif["runs"][0]["results"] == []
    assert run.outputs["findings"] == "0"
    assert "**No findings.**" in run.summary


def test_scanned_names_cannot_act_as_workflow_commands(make_repo, tmp_path):
    repo = make_repo("evil")
    secret = expand("GOCSPX-«b64u:28»", "evil")
    name = "x\n::warning::injected\n::add-mask::x,y.py"
    commit(repo, {name: f'CLIENT_SECRET = "{secret}"\n'})
    run = action(runner_env(tmp_path, repo, "schedule", {}), repo)
    assert run.code == 1
    assert "\n::warning::injected" in run.stdout  # the text report printed it, but...
    for line in run.annotations():  # ...only inside stop-commands; outside, only ours
        assert line.startswith(("::error title=leakstop", "::warning title=leakstop")), line
        assert "\n" not in line
    assert any("injected" in n and "%0A" in n for n in run.annotations())
    assert secret not in run.everything()


# --- what to scan, per event (no scanning needed) ---------------------------------------------


@dataclass
class Recorder:
    result: ScanResult = field(default_factory=lambda: ScanResult((), Summary()))
    calls: list[tuple[Path, str | None]] = field(default_factory=list)

    def __call__(self, path: Path, commit_range: str | None) -> ScanResult:
        self.calls.append((path, commit_range))
        return self.result


def run_in_process(env: dict[str, str], recorder: Recorder | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = gha.run(env, out=out, scan=recorder or Recorder())
    return code, out.getvalue()


def test_ranges_per_event(history, tmp_path):
    ws = history.workspace
    origin_main = git(ws, "rev-parse", "refs/remotes/origin/main")
    cases: list[tuple[str, dict[str, Any], str | None]] = [
        ("pull_request", pr_payload(history), f"{history.base}..{history.head}"),
        ("pull_request_target", pr_payload(history), f"{history.base}..{history.head}"),
        (
            "push",
            {"ref": "refs/heads/feature", "before": history.base, "after": history.head},
            f"{history.base}..{history.head}",
        ),
        (
            "push",
            {
                "ref": "refs/heads/feature",
                "before": ZERO,
                "after": history.head,
                "repository": {"default_branch": "main"},
            },
            f"{origin_main}..{history.head}",
        ),
        (
            "merge_group",
            {"merge_group": {"base_sha": history.base, "head_sha": history.head}},
            f"{history.base}..{history.head}",
        ),
        ("schedule", {}, None),
        ("workflow_dispatch", {"inputs": {}}, None),
    ]
    for event, payload, expected in cases:
        recorder = Recorder()
        code, out = run_in_process(runner_env(tmp_path, ws, event, payload), recorder)
        assert code == 0, (event, out)
        assert recorder.calls == [(ws, expected)], event


def test_a_deleted_branch_scans_nothing(history, tmp_path):
    payload = {"ref": "refs/heads/gone", "before": history.head, "after": ZERO, "deleted": True}
    recorder = Recorder()
    env = runner_env(tmp_path, history.workspace, "push", payload)
    code, _ = run_in_process(env, recorder)
    assert (code, recorder.calls) == (0, [])
    assert (
        json.loads(Path(env["RUNNER_TEMP"], "leakstop.sarif").read_text())["runs"][0]["results"]
        == []
    )


def test_a_shallow_checkout_is_one_line_asking_for_fetch_depth_0(history, tmp_path):
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--branch", "feature",
         f"file://{history.origin}", str(shallow)],
        check=True,
    )  # fmt: skip
    env = runner_env(tmp_path, shallow, "pull_request", pr_payload(history))
    run = action(env, shallow)
    assert run.code == 2
    assert run.stderr == ""
    lines = run.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("::error ")
    assert "fetch-depth: 0" in lines[0] and history.base[:12] in lines[0]
    assert not Path(env["RUNNER_TEMP"], "leakstop.sarif").exists()


def test_not_a_checkout_is_an_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out = run_in_process(runner_env(tmp_path, empty, "schedule", {}))
    assert code == 2 and "actions/checkout" in out


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"format": "xml"}, "format 'xml'"),
        ({"fail_on": "sometimes"}, "fail-on 'sometimes'"),
        ({"fail_on": "live"}, "fail-on: live needs verify: true"),
        ({"extra_args": "--show-secrets"}, "--show-secrets cannot be passed"),
        ({"extra_args": "--output=x.json"}, "--output cannot be passed"),
        ({"extra_args": "'unclosed"}, "extra-args"),
        ({"verify": "maybe"}, "LEAKSTOP_VERIFY='maybe'"),
    ],
)
def test_bad_inputs_are_one_error_line(history, tmp_path, inputs, message):
    env = runner_env(tmp_path, history.workspace, "schedule", {}, **inputs)
    code, out = run_in_process(env)
    assert code == 2
    assert out.count("\n") == 1 and out.startswith("::error ") and message in out


def test_inputs_become_scan_options():
    env = {
        "LEAKSTOP_VERIFY": "true",
        "LEAKSTOP_REGISTRY": "reg.toml",
        "LEAKSTOP_BASELINE": ".leakstop-baseline.json",
        "LEAKSTOP_EXTRA_ARGS": "--ruleset all --jobs 2",
        "LEAKSTOP_FAIL_ON": "live",
    }
    inputs = gha.Inputs.from_env(env)
    assert inputs.scan_args() == (
        "--verify", "--registry", "reg.toml", "--baseline", ".leakstop-baseline.json",
        "--ruleset", "all", "--jobs", "2",
    )  # fmt: skip


def finding(path: str, verdict: str = "not_checked", secret: str = "GOCS…redacted…") -> Finding:  # noqa: S107
    return Finding(
        rule_id="google-oauth-client-secret",
        kind="client-secret",
        provider="google",
        origin=Origin(source="git", path=path, commit="a" * 40),
        line=1,
        column=1,
        secret=secret,
        fingerprint=f"google-oauth-client-secret:{path}",
        verdict=verdict,  # type: ignore[arg-type]
        owner="team-orders" if verdict == "live" else None,
    )


@pytest.mark.parametrize(
    ("fail_on", "verdicts", "code"),
    [
        ("any", ["dead"], 1),
        ("any", [], 0),
        ("never", ["live"], 0),
        ("live", ["dead", "unknown"], 0),
        ("live", ["dead", "live"], 1),
    ],
)
def test_fail_on(history, tmp_path, fail_on, verdicts, code):
    found = tuple(finding(f"f{i}.py", v) for i, v in enumerate(verdicts))
    recorder = Recorder(ScanResult(found, Summary(findings=len(found))))
    env = runner_env(tmp_path, history.workspace, "schedule", {}, fail_on=fail_on, verify="true")
    got, _ = run_in_process(env, recorder)
    assert got == code


def test_an_unredacted_secret_from_the_scan_is_redacted_anyway(history, tmp_path):
    secret = expand("GOCSPX-«b64u:28»", "leak")
    key = pem("pkcs8-ec")
    found = (finding("a.py", secret=secret), replace(finding("k.pem"), kind="private-key",
                                                     secret=key))  # fmt: skip
    recorder = Recorder(ScanResult(found, Summary(findings=2)))
    env = runner_env(tmp_path, history.workspace, "schedule", {}, format="json")
    code, out = run_in_process(env, recorder)
    assert code == 1
    sarif = Path(env["RUNNER_TEMP"], "leakstop.sarif").read_text()
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    for text in (out, sarif, summary):
        assert secret not in text
        assert all(ln not in text for ln in key.splitlines()[1:-1] if ln)
    assert "-----BEGIN PRIVATE KEY-----…redacted…" in out


def test_summary_shows_verdicts_and_owners(history, tmp_path):
    found = (finding("a.py", "live"), finding("b.py", "dead"), finding("c.py"))
    recorder = Recorder(ScanResult(found, Summary(findings=3)))
    env = runner_env(tmp_path, history.workspace, "schedule", {})
    run_in_process(env, recorder)
    text = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "| 🔴 live | 1 |" in text and "| dead | 1 |" in text and "| not checked | 1 |" in text
    assert "team&#45;orders" in text or "team-orders" in text
    assert "`a.py:1`" in text and "`aaaaaaaaaaaa`" in text


# --- the pull request comment -------------------------------------------------------------------


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeGitHub]:
    gh = FakeGitHub(tmp_path / "github", token="fake-comment-token").start()
    gh.add_repo("acme", "app")
    yield gh
    gh.stop()


def comment_env(tmp_path: Path, h: History, fake: FakeGitHub, **kw: Any) -> dict[str, str]:
    env = runner_env(
        tmp_path, h.workspace, "pull_request", pr_payload(h, fork=kw.pop("fork", False)),
        comment="true", token=fake.token,
    )  # fmt: skip
    env["GITHUB_API_URL"] = fake.api_url
    return env


def test_pr_comment_is_created_then_updated_in_place(history, tmp_path, fake):
    fake.comments[("acme/app", 7)] = [Comment(1, "LGTM", login="alice", type="User")]
    found = (finding("a.py"),)
    code, out = run_in_process(
        comment_env(tmp_path, history, fake), Recorder(ScanResult(found, Summary()))
    )
    assert code == 1 and "pull request comment created" in out
    thread = fake.comments[("acme/app", 7)]
    assert len(thread) == 2 and thread[1].body.startswith(gha.COMMENT_MARKER)
    assert "`a.py:1`" in thread[1].body
    # A re-run (now clean) updates the same comment instead of adding one.
    code, out = run_in_process(comment_env(tmp_path, history, fake), Recorder())
    assert code == 0 and "pull request comment updated" in out
    assert len(thread) == 2 and "No findings" in thread[1].body and thread[0].body == "LGTM"


def test_no_comment_when_clean_and_none_yet(history, tmp_path, fake):
    code, _ = run_in_process(comment_env(tmp_path, history, fake), Recorder())
    assert code == 0 and fake.comments.get(("acme/app", 7), []) == []


def test_fork_pull_requests_get_a_note_instead_of_a_comment(history, tmp_path, fake):
    code, out = run_in_process(
        comment_env(tmp_path, history, fake, fork=True),
        Recorder(ScanResult((finding("a.py"),), Summary())),
    )
    assert code == 1
    assert (
        "::notice title=leakstop::no pull request comment: the pull request comes from a fork"
        in out
    )
    assert not any("comments" in p for _, p in fake.api_calls)


def test_a_token_that_cannot_write_is_a_note_not_a_failure(history, tmp_path, fake):
    fake.forbid_comments = True
    code, out = run_in_process(
        comment_env(tmp_path, history, fake), Recorder(ScanResult((finding("a.py"),), Summary()))
    )
    assert code == 1
    assert "pull-requests: write" in out
    assert fake.token not in out


# --- verification ---------------------------------------------------------------------------


def test_registry_owners_and_verdicts_reach_the_summary(history, tmp_path):
    """The real chain: action -> leakstop scan --verify --registry -> verdicts in every output.
    The issuer is a closed loopback port, so the verdict is unknown (never live, never dead)."""
    import hashlib

    secret = expand("GOCSPX-«b64u:28»", "gha-old")
    registry = tmp_path / "registry.toml"
    registry.write_text(
        '[[issuer]]\nname = "corp"\nissuer = "https://127.0.0.1:9"\n\n'
        '[[client]]\nclient_id = "orders-service"\nissuer = "corp"\nowner = "team-orders"\n'
        f'secret_sha256 = ["{hashlib.sha256(secret.encode()).hexdigest()}"]\nrevoke = "none"\n'
    )
    env = runner_env(
        tmp_path, history.workspace, "schedule", {}, verify="true", registry=str(registry),
        fail_on="live",
    )  # fmt: skip
    run = action(env, history.workspace)
    assert run.code == 0, run.stdout + run.stderr  # nothing is live
    results = run.sarif()["runs"][0]["results"]
    settings = [r for r in results if "settings.py" in json.dumps(r["locations"])]
    assert settings and settings[0]["properties"]["verdict"] == "unknown"
    assert "team&#45;orders" in run.summary or "team-orders" in run.summary
    assert "| unknown |" in run.summary
    assert_redacted(run, history.secrets)


# --- action.yml and the example workflows (an actionlint-style text check: no YAML parser in
# the test environment, so run: blocks are found by indentation, as YAML defines them) -------

WORKFLOWS = [ROOT / "action.yml", *sorted((ROOT / "examples").glob("*.yml"))]


def run_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, script) of every ``run:`` value, inline or block scalar."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)(- )?run:(.*)$", line)
        if not m:
            continue
        key_column = len(m.group(1)) + (2 if m.group(2) else 0)
        script = [m.group(3)]
        for following in lines[i + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= key_column:
                break
            script.append(following)
        found.append((i + 1, "\n".join(script)))
    return found


def test_run_blocks_are_found_the_way_yaml_reads_them():
    text = "steps:\n  - run: |\n      echo a\n      echo ${{ x }}\n    shell: bash\n  - run: b\n"
    assert run_blocks(text) == [(2, " |\n      echo a\n      echo ${{ x }}"), (6, " b")]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_expression_inside_run(path):
    blocks = run_blocks(path.read_text())
    if path.name == "action.yml":
        assert len(blocks) == 2
    for line, script in blocks:
        assert "${{" not in script, f"{path.name}:{line}: use env: instead of ${{{{ }}}} in run:"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_hygiene(path):
    text = path.read_text()
    assert "\t" not in text
    assert text.count("${{") == text.count("}}")
    for uses in re.findall(r"uses:\s*(\S+)", text):
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[\w.-]+", uses), uses
    ids = set(re.findall(r"^\s*(?:- )?id:\s*([\w-]+)\s*$", text, re.M))
    for ref in re.findall(r"steps\.([\w-]+)\.outputs", text):
        assert ref in ids, f"{path.name}: steps.{ref} has no step with that id"
    if path.name != "action.yml":
        assert re.search(r"^permissions:", text, re.M), "top-level permissions spelled out"
        jobs = re.findall(r"^  ([\w-]+):\s*$", text.split("\njobs:\n", 1)[1], re.M)
        for needed in re.findall(r"needs:\s*([\w-]+)", text):
            assert needed in jobs
        for block in re.split(r"\n  (?=[\w-]+:\s*\n)", text.split("\njobs:\n", 1)[1]):
            assert "runs-on:" in block and "timeout-minutes:" in block


def test_action_passes_every_input_through_env_and_nothing_else():
    text = (ROOT / "action.yml").read_text()
    declared = set(
        re.findall(r"^  ([\w-]+):\s*$", text.split("\ninputs:\n")[1].split("\noutputs:")[0], re.M)
    )
    used = set(re.findall(r"inputs\.([\w-]+)", text))
    assert used == declared
    read = set(re.findall(r'"(LEAKSTOP_[A-Z_]+)"', (ROOT / "scanner" / "gha.py").read_text()))
    passed = set(re.findall(r"^\s+(LEAKSTOP_[A-Z_]+):", text, re.M))
    assert read <= passed
    assert "using: composite" in text and '"$LEAKSTOP_BIN/leakstop" action' in text
    assert "outputs.findings" in text and "outputs.sarif" in text


def test_examples_do_what_the_readme_says():
    gate = (ROOT / "examples" / "pr-gate.yml").read_text()
    assert "fetch-depth: 0" in gate
    assert "github/codeql-action/upload-sarif@" in gate and "security-events: write" in gate
    assert "sarif_file: ${{ steps.leakstop.outputs.sarif }}" in gate
    org = (ROOT / "examples" / "org-scan.yml").read_text()
    assert "matrix:" in org and '--shard "$SHARD/$SHARDS"' in org
    assert "actions/cache@" in org and ".leakstop-cache" in org
    assert "actions/upload-artifact@" in org and "actions/download-artifact@" in org
    assert "leakstop merge shards/*.json" in org and '>> "$GITHUB_STEP_SUMMARY"' in org
    assert "GITHUB_TOKEN: ${{ secrets." in org
    readme = (ROOT / "README.md").read_text()
    for name in ("pr-gate.yml", "org-scan.yml"):
        assert f"examples/{name}" in readme


def test_payload_text_in_the_log_cannot_act_as_a_workflow_command(history, tmp_path):
    payload = {
        "ref": "refs/heads/x\n::error::owned\n::add-mask::y",
        "before": history.base,
        "after": history.head,
    }
    env = runner_env(tmp_path, history.workspace, "push", payload)
    code, out = run_in_process(env, Recorder(ScanResult((finding("a.py"),), Summary())))
    assert code == 1 and "\n::error::owned" in out
    assert [n.split(" ", 1)[0] for n in Run(code, out, "", env).annotations()] == ["::error"]
