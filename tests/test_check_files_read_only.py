"""A check file only reads: the checks run on a connection that can write, so a write that parses as a SELECT
(a COPY or INSERT inside a WITH clause) is refused when the catalogue loads, before anything runs."""

import pytest
from test_checks_catalogue import GOOD_HEADER, write_check

from sovaudit.checks.catalogue import CheckDefinitionError, discover, parse_check


@pytest.mark.parametrize("body", [
    "WITH d AS (COPY (SELECT 42 AS a) TO '{out}') SELECT * FROM d",
    "WITH d AS (INSERT INTO events DEFAULT VALUES RETURNING *) SELECT * FROM d",
])
def test_a_check_that_hides_a_write_in_a_with_clause_is_refused_at_load(tmp_path, body):
    out = tmp_path / "written.csv"
    path = write_check(tmp_path / "checks", GOOD_HEADER + body.format(out=out))
    with pytest.raises(CheckDefinitionError) as raised:
        parse_check(path)
    assert str(raised.value).startswith(f"{path}:") and "a check only reads" in str(raised.value)
    with pytest.raises(CheckDefinitionError):
        discover([tmp_path / "checks"])
    assert not out.exists()


def test_every_builtin_check_only_reads():
    assert len(discover()) >= 26
