"""The readers under the fuzz suite (``tests/fuzz.py``): a few hundred mutated real files, every reader and
every compression; not one traceback, unwritable document, silent loss, error without file and offset, or
dishonest reconcile line. ``python tests/fuzz.py --long`` runs thousands."""

from __future__ import annotations

import io

import fuzz


def test_fuzzed_files_read_without_a_traceback_and_lose_nothing_without_a_word():
    table = io.StringIO()
    result = fuzz.run(cases=300, seed=0, show=10, out=table)
    assert result["cases"] == 300
    assert result["failed"] == 0, table.getvalue()
