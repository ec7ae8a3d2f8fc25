"""``bk views select --help``: the examples its options give find files in a catalogue of
the generator's data (``bk generate``, as ``make demo`` fills it)."""

from __future__ import annotations

import re
import shlex

from click.testing import CliRunner

from bookkeeping.cli import main
from bookkeeping.generator import generate_reports
from tests.catalogue_bookkeeping.conftest import Pair

# Options whose example is a value of the data; the others (a file type made from, an event
# description) are shown by their own example below.
_EXAMPLE = re.compile(r"^\s+(--[\w-]+)\s+TEXT\s+.*?e\.g\.\s+(.+?)\.?$", re.M)


def _help() -> str:
    result = CliRunner().invoke(main, ["views", "select", "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_example_in_the_help_finds_files(pair: Pair) -> None:
    pair.catalogue_writer.record_batch(list(generate_reports(20, seed=4)))
    url = pair.engine.url.render_as_string(hide_password=False)
    examples = _EXAMPLE.findall(_help())
    assert len(examples) >= 6, examples  # the parser found the options' examples
    runner = CliRunner()
    for option, example in examples:
        value = example.strip('"')
        result = runner.invoke(main, ["views", "select", "--db", url, option, value])
        assert result.exit_code == 0, (option, value, result.output)
        found = int(result.output.split()[0])
        assert found > 0, f"{option} {value!r}: the help's example finds nothing"
    # The whole example of the help, too.
    command = re.search(r"^\s+bk views select (.+)$", _help(), re.M)
    assert command, _help()

    arguments = shlex.split(command.group(1))
    result = CliRunner().invoke(main, ["views", "select", "--db", url, *arguments])
    assert result.exit_code == 0, result.output
    assert int(result.output.split()[0]) > 0, (arguments, result.output)
