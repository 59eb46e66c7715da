"""The Gopher, FineWeb and tokenizer figures are exactly those of the code before issue 17 item 3.

fixtures/rules/parity.json holds, for every text of tests/rules_cases.py (repeated lines and paragraphs,
overlapping n-grams, ties, Unicode words, empty and one-word texts, documents of 100k+ words), the tokens,
the shared statistics and each step's reason and signals as that code computed them. The bulk rewrite must
give the same values, bit for bit (floats compared exactly).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rules_cases import cases, outputs

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "rules" / "parity.json").read_text())
CASES = cases()


def test_every_case_has_a_reference():
    assert sorted(CASES) == sorted(REFERENCE)


@pytest.mark.parametrize("name", sorted(CASES))
def test_figures_match_the_reference(name):
    got = json.loads(json.dumps(outputs(CASES[name]), ensure_ascii=True, sort_keys=True))
    want = REFERENCE[name]
    for key in want:  # one assertion per part, so a failure names it
        assert got[key] == want[key], key
    assert sorted(got) == sorted(want)
