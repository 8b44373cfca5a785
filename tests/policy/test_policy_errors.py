"""Broken policy files fail to load with messages naming the file, the key and the fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from alphaloop.policy import PolicyError, load_policies

Edit = Callable[[Path, str, str], None]


def test_copy_loads(policy_copy: Path) -> None:
    assert load_policies(policy_copy).risk.hard_limits.max_single_asset == 0.15


def test_unknown_key_is_named(policy_copy: Path, edit: Edit) -> None:
    edit(policy_copy / "policies/risk.toml", "max_single_asset = 0.15",
         "max_single_asset = 0.15\nmax_singel_asset = 0.2")
    with pytest.raises(PolicyError) as caught:
        load_policies(policy_copy)
    message = str(caught.value)
    assert "policies/risk.toml" in message
    assert "hard_limits.max_singel_asset" in message
    assert "unknown key" in message


def test_missing_key_is_named(policy_copy: Path, edit: Edit) -> None:
    edit(policy_copy / "policies/merge.toml", 'method = "squash"', "")
    with pytest.raises(PolicyError, match=r"policies/merge.toml: method: required key"):
        load_policies(policy_copy)


def test_wrong_value_shows_what_was_given(policy_copy: Path, edit: Edit) -> None:
    edit(policy_copy / "policies/risk.toml", "max_asset_class = 0.50", "max_asset_class = 1.5")
    with pytest.raises(PolicyError, match=r"hard_limits.max_asset_class: .*\(got 1.5\)"):
        load_policies(policy_copy)


def test_wrong_type(policy_copy: Path, edit: Edit) -> None:
    edit(policy_copy / "policies/paths.toml", 'allow = ["deploy/**"]', 'allow = "deploy/**"')
    with pytest.raises(PolicyError, match=r"policies/paths.toml: roles.sre.allow"):
        load_policies(policy_copy)


def test_cross_field_rules(policy_copy: Path, edit: Edit) -> None:
    risk = policy_copy / "policies/risk.toml"
    edit(risk, "warn = 0.12      # Herfindahl", "warn = 0.30      # Herfindahl")
    with pytest.raises(PolicyError, match=r"warn .* must not exceed restrict"):
        load_policies(policy_copy)


def test_limit_names_must_name_a_hard_limit(policy_copy: Path, edit: Edit) -> None:
    edit(policy_copy / "policies/risk.toml", "[limit_names]",
         '[limit_names]\nmax_leverage = ["gross"]')
    with pytest.raises(PolicyError, match=r"limit_names\.max_leverage names no hard limit"):
        load_policies(policy_copy)


def test_odd_pbo_splits_refused(policy_copy: Path, edit: Edit) -> None:
    edit(policy_copy / "policies/risk.toml", "pbo_splits = 16", "pbo_splits = 15")
    with pytest.raises(PolicyError, match="pbo_splits must be even"):
        load_policies(policy_copy)


def test_bad_module_name_refused(policy_copy: Path, edit: Edit) -> None:
    edit(policy_copy / "policies/imports.toml", '"numpy",', '"numpy",\n  "not a module",')
    with pytest.raises(PolicyError, match="'not a module' is not a dotted module name"):
        load_policies(policy_copy)


def test_toml_syntax_error_names_file_and_line(policy_copy: Path, edit: Edit) -> None:
    edit(policy_copy / "policies/imports.toml", "[access]", "[access")
    with pytest.raises(PolicyError, match=r"policies/imports.toml is not valid TOML: .*line"):
        load_policies(policy_copy)


def test_missing_file(policy_copy: Path) -> None:
    (policy_copy / "policies/merge.toml").unlink()
    with pytest.raises(PolicyError, match=r"policies/merge\.toml is missing; restore it"):
        load_policies(policy_copy)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="pass the repository root"):
        load_policies(tmp_path)
