"""paper_figures/claims.json is the verdict of the committed data: recomputed from paper_figures/data it is the
same, entry for entry; and a damaged or foreign claims.json gives a clear message."""

import hashlib
import json
from dataclasses import asdict

import pandas as pd
import pytest

from madlib import claims, presets

PUBLISHED = presets.ROOT / "paper_figures"


def published_table() -> dict:
    return claims.load(PUBLISHED / "claims.json")


def test_every_scored_figure_has_an_entry_judged_on_its_committed_data():
    table = published_table()
    for stem in claims.CHECKS:
        assert stem in table, f"{stem} has no verdict in paper_figures/claims.json"
        data = (PUBLISHED / "data" / f"{stem}.csv").read_bytes()
        assert table[stem]["data_sha256"] == hashlib.sha256(data).hexdigest(), (
            f"{stem}: claims.json judged other data than paper_figures/data/{stem}.csv")


@pytest.mark.parametrize("stem", list(claims.CHECKS))
def test_recomputing_a_verdict_from_the_committed_data_gives_claims_json(stem):
    entry = published_table()[stem]
    checks, digest = claims.judge(stem, pd.read_csv(PUBLISHED / "data" / f"{stem}.csv"))
    assert digest == entry["data_sha256"]
    assert [asdict(c) for c in checks] == entry["checks"]
    assert claims.verdict(checks) == entry["verdict"]


def test_the_published_verdicts_are_three_valued_with_a_reason_when_inconclusive():
    for stem, entry in published_table().items():
        assert entry["verdict"] in (claims.HOLDS, claims.CONTRADICTED, claims.INCONCLUSIVE, claims.NO_CLAIM), stem
        undecided = [c for c in entry["checks"] if c["outcome"] == claims.UNDECIDED]
        assert all(c["decide"] for c in undecided), f"{stem}: an undecided check must say what would decide it"
        if entry["verdict"] == claims.INCONCLUSIVE:
            assert entry["reason"].startswith("undecided: ")


def test_rejudge_reproduces_the_published_table(tmp_path):
    (tmp_path / "data").mkdir()
    for stem in claims.CHECKS:
        name = f"{stem}.csv"
        (tmp_path / "data" / name).write_bytes((PUBLISHED / "data" / name).read_bytes())
    (tmp_path / "claims.json").write_text((PUBLISHED / "claims.json").read_text())
    assert claims.rejudge(tmp_path) == published_table()


def test_a_missing_claims_file_is_an_empty_table(tmp_path):
    assert claims.load(tmp_path / "claims.json") == {}


def test_a_truncated_claims_file_says_what_to_do(tmp_path):
    path = tmp_path / "claims.json"
    path.write_text((PUBLISHED / "claims.json").read_text()[:500])
    with pytest.raises(claims.ClaimsFileError, match=r"not a readable claims table .*truncated.*madlib figures"):
        claims.load(path)
    path.write_text("[1, 2]")
    with pytest.raises(claims.ClaimsFileError, match="not a claims table"):
        claims.load(path)


def test_a_claims_file_of_another_version_says_so_and_record_replaces_it(tmp_path):
    path = tmp_path / "claims.json"
    old = {"fig04_ddpm_fully_synthetic": {"verdict": "does not hold", "checks": [{"name": "x", "holds": False}]}}
    path.write_text(json.dumps(old))
    with pytest.raises(claims.ClaimsFileError, match="another madlib version .*format 1, this version reads 2"):
        claims.load(path)
    assert claims.load(path, migrate=True) == {}
    claims.record("fig03_loops_schematic", {"verdict": "no claim", "format": claims.FORMAT}, tmp_path)
    assert list(claims.load(path)) == ["fig03_loops_schematic"]
