"""check_change over real commits in temporary repositories."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import pytest

from alphaloop.checks import CheckReport, changed_files, check_change
from alphaloop.policy import Policies, PolicyError
from alphaloop.repo import GitRepo, Identity, RefNotFound

Commit = Callable[..., str]


def located(report: CheckReport) -> list[tuple[str, str | None, int | None, int]]:
    return sorted((f.check, f.path, f.line, int(f.severity)) for f in report.findings)


def test_a_clean_quant_change_passes_every_check(git_repo: GitRepo, commit: Commit,
                                                 policies: Policies) -> None:
    base = git_repo.head_sha()
    head = commit({"strategy/tunables.py": "LOOKBACK_DAYS = 63  # momentum window\n"})
    report = check_change(git_repo.work_tree, base, head, "quant", policies)
    assert report.findings == ()
    assert report.checks_run == ("paths", "ast", "ruff", "bandit")
    assert set(report.timings) == {"paths", "ast", "ruff", "bandit"}
    assert (report.base_sha, report.head_sha, report.role) == (base, head, "quant")
    assert report.policy_digest == policies.digest
    assert report.changed_paths == ("strategy/tunables.py",)


def test_a_bad_quant_change_is_blocked_with_locations(git_repo: GitRepo, commit: Commit,
                                                      policies: Policies) -> None:
    base = git_repo.head_sha()
    head = commit({
        "strategy/tunables.py": "LOOKBACK_DAYS = 126\nMAX_SINGLE_ASSET = 0.4\n",
        "strategy/leak.py": '''\
            """Reads a key from the environment."""

            import os


            def key() -> str:
                return os.environ["API_KEY"]
            ''',
        "policies/risk.toml": "# weakened\n",
        "alphaloop/harness/patch.py": "VALUE = 1\n",
    })
    report = check_change(git_repo.work_tree, base, head, "quant", policies)
    assert report.blocked
    found = located(report)
    assert ("paths", "policies/risk.toml", None, 3) in found
    assert ("paths", "alphaloop/harness/patch.py", None, 3) in found
    assert ("ast.imports", "strategy/leak.py", 3, 3) in found
    assert ("ast.access", "strategy/leak.py", 7, 3) in found
    assert ("ast.limits", "strategy/tunables.py", 2, 3) in found
    assert ("bandit", "strategy/leak.py", 3, 1) not in found  # os import is not a bandit issue
    # only strategy files get the AST policy
    assert not [f for f in report.findings
                if f.check.startswith("ast") and not (f.path or "").startswith("strategy/")]


def test_qa_tests_may_assert_but_bandit_still_runs(git_repo: GitRepo, commit: Commit,
                                                  policies: Policies) -> None:
    base = git_repo.head_sha()
    head = commit({"tests/generated/test_new.py": '''\
        import subprocess


        def test_shell() -> None:
            assert subprocess.call("true", shell=True) == 0
        '''})
    report = check_change(git_repo.work_tree, base, head, "qa", policies)
    rules = {f.evidence["rule"] for f in report.by_check("bandit")}
    assert "B101" not in rules
    assert {"B404", "B602"} <= rules
    assert not report.by_check("ast")


def test_renames_count_both_paths(git_repo: GitRepo, commit: Commit,
                                  policies: Policies) -> None:
    base = git_repo.head_sha()
    os.replace(git_repo.work_tree / "policies/merge.toml",
               git_repo.work_tree / "strategy/merge.toml")
    head = commit({})
    report = check_change(git_repo.work_tree, base, head, "quant", policies)
    assert ("paths", "policies/merge.toml", None, 3) in located(report)
    assert ("paths", "strategy/merge.toml", None, 3) not in located(report)


def test_symlinks_and_native_files_are_blocked(git_repo: GitRepo, commit: Commit,
                                               policies: Policies) -> None:
    base = git_repo.head_sha()
    os.symlink("../policies/risk.toml", git_repo.work_tree / "strategy/risk_link.toml")
    (git_repo.work_tree / "strategy/fast.so").write_bytes(b"\x7fELF")
    head = commit({})
    report = check_change(git_repo.work_tree, base, head, "quant", policies)
    found = located(report)
    assert ("paths", "strategy/risk_link.toml", None, 3) in found
    assert ("ast.files", "strategy/fast.so", None, 3) in found
    modes = {f.path: f.new_mode for f in changed_files(git_repo, base, head)}
    assert modes["strategy/risk_link.toml"] == "120000"


def test_the_verdict_ignores_uncommitted_edits(git_repo: GitRepo, commit: Commit,
                                               policies: Policies) -> None:
    base = git_repo.head_sha()
    head = commit({"strategy/tunables.py": "LOOKBACK_DAYS = 63\n"})
    (git_repo.work_tree / "strategy/tunables.py").write_text("import os\nMAX_POSITION = 0.9\n")
    report = check_change(git_repo.work_tree, base, head, "quant", policies)
    assert report.findings == ()
    assert git_repo.is_dirty()  # the checkout was only read


def test_engineer_may_only_reformat(git_repo: GitRepo, commit: Commit,
                                    policies: Policies) -> None:
    base = git_repo.head_sha()
    engine = (git_repo.work_tree / "strategy/engine.py").read_text()
    head = commit({"strategy/engine.py": engine.replace("n = len(view.tickers)",
                                                        "n = len( view.tickers )  # count")})
    report = check_change(git_repo.work_tree, base, head, "engineer", policies)
    assert "formatting" in report.checks_run
    assert not report.by_check("formatting")
    head2 = commit({"strategy/engine.py": engine.replace("0.15", "0.10")})
    report = check_change(git_repo.work_tree, head, head2, "engineer", policies)
    assert [f.evidence["rule"] for f in report.by_check("formatting")] == ["code-changed"]


def test_deleting_files_is_checked_by_path_only(git_repo: GitRepo, commit: Commit,
                                                policies: Policies) -> None:
    base = git_repo.head_sha()
    head = commit({}, delete=("strategy/engine.py", "task.md"))
    report = check_change(git_repo.work_tree, base, head, "quant", policies)
    assert located(report) == [("paths", "task.md", None, 3)]
    assert report.checks_run == ("paths", "ast")  # no Python file left to lint


def test_a_missing_linter_blocks_the_change(git_repo: GitRepo, commit: Commit,
                                            policies: Policies) -> None:
    base = git_repo.head_sha()
    head = commit({"strategy/tunables.py": "LOOKBACK_DAYS = 63\n"})
    report = check_change(git_repo.work_tree, base, head, "quant", policies,
                          ruff_command=["/nonexistent/ruff"],
                          bandit_command=[sys.executable, "-c", "raise SystemExit(2)"])
    assert report.blocked
    assert {(f.check, f.evidence["rule"]) for f in report.findings} == {
        ("ruff", "could-not-verify"), ("bandit", "could-not-verify")}


def test_unknown_role_and_commit_are_errors(git_repo: GitRepo, policies: Policies) -> None:
    head = git_repo.head_sha()
    with pytest.raises(PolicyError, match="no rules for role"):
        check_change(git_repo.work_tree, head, head, "intern", policies)
    with pytest.raises(RefNotFound):
        check_change(git_repo.work_tree, "no-such-branch", head, "quant", policies)


HOSTILE = '_G = "$Format:%x22#$"; import socket as s\n'


@pytest.mark.parametrize(("attributes", "files"), [
    ("engine.py export-subst\n", {"strategy/engine.py": HOSTILE}),
    ("engine.py export-ignore\n", {"strategy/engine.py": HOSTILE}),
])
def test_export_attributes_neither_hide_code_nor_crash(
        git_repo: GitRepo, commit: Commit, policies: Policies, attributes: str,
        files: dict[str, str]) -> None:
    base = git_repo.head_sha()
    head = commit({"strategy/.gitattributes": attributes, **files})
    report = check_change(git_repo.work_tree, base, head, "quant", policies)
    found = located(report)
    assert ("paths", "strategy/.gitattributes", None, 3) in found
    [meta] = [f for f in report.findings if f.path == "strategy/.gitattributes"]
    assert meta.evidence["rule"] == "git-attributes"
    # the AST policy read the stored line, not what git archive would have made of it
    assert ("ast.imports", "strategy/engine.py", 1, 3) in found


def test_gitmodules_and_submodules_are_blocked(git_repo: GitRepo, commit: Commit,
                                               policies: Policies) -> None:
    base = git_repo.head_sha()
    commit({".gitmodules": '[submodule "v"]\n\tpath = strategy/v\n\turl = ../x\n'})
    sub = git_repo.head_sha()
    git_repo.git("update-index", "--add", "--cacheinfo", f"160000,{sub},strategy/vendor")
    git_repo.git("-c", "user.name=Q", "-c", "user.email=q@x", "commit", "--quiet", "-m", "sub")
    head = git_repo.head_sha()
    report = check_change(git_repo.work_tree, base, head, "quant", policies)
    rules = {f.path: f.evidence["rule"] for f in report.findings if f.check == "paths"}
    assert rules[".gitmodules"] == "git-modules"
    assert rules["strategy/vendor"] == "submodule"
    assert report.blocked


def test_a_symlink_branch_is_blocked_with_a_named_rule(git_repo: GitRepo, commit: Commit,
                                                       policies: Policies) -> None:
    base = git_repo.head_sha()
    os.symlink("engine.py", git_repo.work_tree / "strategy/alias.py")
    head = commit({})
    report = check_change(git_repo.work_tree, base, head, "quant", policies)
    [link] = [f for f in report.findings if f.path == "strategy/alias.py"]
    assert (link.severity, link.evidence["rule"]) == (3, "symlink")


def test_each_path_is_checked_against_the_role_whose_commit_changed_it(
        git_repo: GitRepo, commit: Commit, policies: Policies) -> None:
    qa = Identity(name="AlphaLoop QA", email="qa@alphaloop.local")
    base = git_repo.rev_parse("HEAD")
    commit({"strategy/engine.py": "X = 1\n"})
    for path, text in (("tests/generated/test_engine.py", "def test_x():\n    pass\n"),
                       ("tests/helpers.py", "Y = 2\n")):
        (git_repo.work_tree / path).parent.mkdir(parents=True, exist_ok=True)
        (git_repo.work_tree / path).write_text(text)
        head = git_repo.commit_all(git_repo.work_tree, f"QA writes {path}", qa)
    roles = {"quant@alphaloop.local": "quant", qa.email: "qa"}
    report = check_change(git_repo.work_tree, base, head, "quant", policies,
                          roles_by_email=roles)
    blocked = {f.path: f.message for f in report.findings if f.check == "paths"}
    # QA's generated test is within QA's paths; its other file is not; Quant's file is fine.
    assert list(blocked) == ["tests/helpers.py"]
    assert "outside the qa role's paths" in blocked["tests/helpers.py"]
    # Without the roles every path is judged as the Quant's, as before.
    plain = check_change(git_repo.work_tree, base, head, "quant", policies)
    assert {f.path for f in plain.findings if f.check == "paths"} == {
        "tests/generated/test_engine.py", "tests/helpers.py"}
