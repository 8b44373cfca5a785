"""What :func:`alphaloop.sandbox.redact.redact` removes, and what it leaves readable.

Every text leaving a sandbox goes through it before a record holds it, so it must catch
each token shape, long random values and the parent's own secrets, while a traceback, a
path or a table of weights stays as it was.
"""

from __future__ import annotations

import secrets
import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alphaloop.sandbox.redact import REDACTED, redact, redact_tree, secret_values

NO_ENV: dict[str, str] = {}


def _random(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits

TOKENS = {
    "github-classic": lambda: "ghp_" + _random(ALNUM, 36),
    "github-oauth": lambda: "gho_" + _random(ALNUM, 36),
    "github-fine-grained": lambda: ("github_pat_" + _random(ALNUM, 22) + "_"
                                    + _random(ALNUM, 59)),
    "openai": lambda: "sk-" + _random(ALNUM, 48),
    "openai-project": lambda: "sk-proj-" + _random(ALNUM + "_-", 60),
    "anthropic": lambda: "sk-ant-api03-" + _random(ALNUM + "_-", 80) + "AA",
    "aws-access-key": lambda: "AKIA" + _random(UPPER, 16),
    "slack-bot": lambda: "xoxb-" + _random(string.digits, 12) + "-" + _random(ALNUM, 24),
    "slack-user": lambda: "xoxp-" + _random(string.digits, 12) + "-" + _random(ALNUM, 32),
}


@pytest.mark.parametrize("shape", sorted(TOKENS))
@pytest.mark.parametrize("frame", [
    "{}",
    "token leaked: {}",
    "RuntimeError('{}')",
    "Authorization: Bearer {}",
    "line one\nthe key is {} ok\nline three",
    "{{\"key\": \"{}\"}}",
])
def test_token_shapes_are_replaced(shape: str, frame: str) -> None:
    token = TOKENS[shape]()
    text = frame.format(token)
    out = redact(text, environ=NO_ENV)
    assert token not in out
    assert token[-12:] not in out  # no readable tail either
    assert REDACTED in out


@pytest.mark.parametrize("header", ["RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "PRIVATE KEY",
                                    "EC PRIVATE KEY"])
def test_private_key_blocks_are_replaced_whole(header: str) -> None:
    body = "\n".join(_random(ALNUM + "+/", 64) for _ in range(5))
    block = f"-----BEGIN {header}-----\n{body}\n-----END {header}-----"
    out = redact(f"found in ~/.ssh/id_rsa:\n{block}\nand nothing else", environ=NO_ENV)
    assert out == f"found in ~/.ssh/id_rsa:\n{REDACTED}\nand nothing else"
    # a block cut off before its end line is still removed to the end of the text
    out = redact(f"partial: -----BEGIN {header}-----\n{body[:100]}", environ=NO_ENV)
    assert out == f"partial: {REDACTED}"


@pytest.mark.parametrize("separator", ["=", ": ", " = ", "='", ':"'])
def test_long_high_entropy_assignments_are_replaced(separator: str) -> None:
    value = _random(ALNUM + "+/", 40)
    out = redact(f"db_password{separator}{value} and more", environ=NO_ENV)
    assert value not in out
    assert out.startswith("db_password") and REDACTED in out and out.endswith(" and more")


def test_a_long_random_run_without_a_key_is_replaced() -> None:
    value = _random(ALNUM, 48)
    out = redact(f"leaked {value} here", environ=NO_ENV)
    assert out == f"leaked {REDACTED} here"


def test_credentials_in_a_url_are_replaced() -> None:
    out = redact("fatal: https://bot:s3cr3t-pass@github.com/o/r.git", environ=NO_ENV)
    assert "s3cr3t-pass" not in out and "github.com/o/r.git" in out


def test_the_parents_secret_and_long_environment_values_are_replaced() -> None:
    environ = {
        "DEPLOY_PASSWORD": "hunter2 staple",  # secret-looking name, shape of nothing
        "DATABASE_URL": "postgres-primary.internal",  # long value under an ordinary name
        "HOME": "/root",  # paths stay
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "TERM": "xterm",  # short values stay
    }
    text = ("tried hunter2 staple on postgres-primary.internal from /root "
            "with /usr/local/bin:/usr/bin:/bin in an xterm")
    out = redact(text, environ=environ)
    assert out == (f"tried {REDACTED} on {REDACTED} from /root with "
                   "/usr/local/bin:/usr/bin:/bin in an xterm")
    assert set(secret_values(environ)) == {"hunter2 staple", "postgres-primary.internal"}


def test_this_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    value = "plain words " + secrets.token_hex(3)  # no token shape: only the value is known
    monkeypatch.setenv("ALPHALOOP_TEST_SECRET", value)
    assert redact(f"raised: {value}!") == f"raised: {REDACTED}!"


def test_control_characters_are_stripped_and_newlines_kept() -> None:
    text = "\x1b[31mred\x1b[0m\tcol\x00umn\r\nnext\rline\x07\u202eevil\u200b\nend"
    assert redact(text, environ=NO_ENV) == "[31mred[0m\tcolumn\nnext\nlineevil\nend"


def test_long_text_keeps_its_end_within_the_limit() -> None:
    text = "".join(f"line {i}\n" for i in range(2000)) + "ValueError: the last word"
    out = redact(text, limit=300, environ=NO_ENV)
    assert len(out) == 300
    assert out.startswith("[...] ") and out.endswith("ValueError: the last word")


def test_a_secret_straddling_the_cut_is_removed_before_the_cut() -> None:
    token = TOKENS["github-classic"]()
    text = "x" * 50 + token + " tail"  # glued to the text before it
    out = redact(text, limit=30, environ=NO_ENV)
    assert len(out) <= 30
    assert not any(token[i:i + 8] in out for i in range(len(token) - 8))


ORDINARY = [
    'Traceback (most recent call last):\n'
    '  File "/sandbox/checkout/strategy/engine.py", line 42, in decide\n'
    '    weights = raw / raw.sum() * (1.0 - tunables.CASH_BUFFER)\n'
    'ZeroDivisionError: float division by zero',
    "FileNotFoundError: [Errno 2] No such file or directory: '/work/main/.git/config'",
    "PATH=/root/.pyenv/versions/3.11.7/bin:/usr/local/sbin:/usr/bin",
    "module=strategy.overlays.vol_regime_overlay_v2 imported",
    "weights SPY=0.2500 QQQ=0.1250 TLT=0.0625 GLD=0.0000 BTC-USD=0.05 cash=0.5625",
    "sharpe 1.2345, max drawdown -0.1834, turnover 0.0712 over 2005-01-03..2023-12-29",
    "alphaloop.roles.risk.lookahead.lookahead_findings_for_every_window_and_fold",
    "stopped by the sandbox's memory (2048 MB for the whole sandbox) limit",
    "weight 1.5e+00 on XLRE breaks max_single_asset=0.15; gross 1.75 > 1.0",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_stays_readable(text: str) -> None:
    assert redact(text, environ=NO_ENV) == text


def test_redact_tree_reaches_keys_and_nested_values() -> None:
    token = TOKENS["openai"]()
    tree = {"note": f"key {token}", token: [1.5, {"deep": token}], "n": 3}
    out = redact_tree(tree)
    assert token not in repr(out)
    assert out["n"] == 3 and out[REDACTED][0] == 1.5


texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=600) | st.builds(
    lambda parts: "".join(parts),
    st.lists(st.sampled_from([
        "ghp_" + "aB3" * 12, "sk-ant-" + "Zx9_" * 6, "AKIA" + "ABCD1234" * 2, "key=",
        "=", " ", "\n", "\x00", "\r", "-----BEGIN PRIVATE KEY-----", "-----END", "/usr/bin",
        "Q" * 30, "a1B2" * 12, "token ", "://u:p@", "[redacted]", "[...] ", "0.25"]),
        max_size=40))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, limit=st.integers(min_value=0, max_value=700))
@example(text="ghp_" + "aB3" * 12 + "x" * 10, limit=20)
@example(text="key=" + "a1B2" * 12, limit=15)
@example(text="AKIAABCD1234ABCD1234ghp_" + "aB3" * 12, limit=30)
@example(text="ghp_" + "aB3" * 12 + "ghp_" + "aB3" * 12 + "token =-----END" + "Q" * 30, limit=51)
def test_redaction_is_idempotent_and_bounded(text: str, limit: int) -> None:
    once = redact(text, limit=limit, environ=NO_ENV)
    assert len(once) <= limit
    assert redact(once, limit=limit, environ=NO_ENV) == once
