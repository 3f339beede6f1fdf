"""The errors a new user hits first (issue 10, item 3): each is one line naming the place to
fix, exit status 2; ``--debug`` or NASBENCH_DEBUG=1 adds the full traceback."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Literal

import pytest
from clitools import assert_user_error

from nasbench.errors import (
    InvalidArchitectureError,
    InvalidParameterError,
    StrategyError,
)
from nasbench.oracle import Budget
from nasbench.params import check_keywords
from nasbench.spaces import get_space
from nasbench.study import run_study
from nasbench.tracebacks import user_location
from strategies import get_strategy

GOOD = textwrap.dedent(
    """\
    from strategies.base import Strategy


    class Mine(Strategy):
        def __init__(self, space, rng, max_epochs=None, hardware=None, *, warmup=10, rate: float = 0.5,
                     greedy=False, name_of: str = "x"):
            super().__init__(space, rng, max_epochs, hardware)
            self.warmup = warmup

        def ask(self):
            return self.sample_arch()


    class Other(Mine):
        pass
    """
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


# -- a strategy file that does not load ----------------------------------------------------------


def test_syntax_error_names_file_and_line(cli, tmp_path):
    path = write(tmp_path, "broken.py", "from strategies.base import Strategy\n\nclass A(Strategy)\n    pass\n")
    assert_user_error(cli("run", f"{path}:A", "--table", "synth-full", "--budget", "3"),
                      f"{path}:3: SyntaxError: expected ':'")


def test_import_error_names_file_and_line(cli, tmp_path):
    path = write(tmp_path, "needs.py", "import os\nimport no_such_module_for_nasbench\n")
    assert_user_error(cli("run", f"{path}:A", "--table", "synth-full", "--budget", "3"),
                      f"{path}:2: ModuleNotFoundError", "no_such_module_for_nasbench")


def test_error_while_importing_names_the_innermost_line_in_the_file(cli, tmp_path):
    path = write(tmp_path, "bug.py", "def helper():\n    return undefined_name\n\n\nVALUE = helper()\n")
    assert_user_error(cli("run", f"{path}:A", "--table", "synth-full", "--budget", "3"),
                      f"{path}:2: NameError", "undefined_name")


# -- a strategy that raises inside ask / tell ------------------------------------------------------

FAULTY = textwrap.dedent(
    """\
    from strategies.base import Strategy


    def helper(x):
        return x / 0


    class InAsk(Strategy):
        def ask(self):
            return helper(1)


    class InTell(Strategy):
        def ask(self):
            return self.sample_arch()

        def tell(self, observation):
            raise KeyError("no such key")
    """
)


def test_exception_in_ask_names_the_users_file_and_line(cli, tmp_path):
    path = write(tmp_path, "faulty.py", FAULTY)
    assert_user_error(cli("run", f"{path}:InAsk", "--table", "synth-full", "--budget", "3", "--seeds", "1"),
                      f"{path}:5: strategy 'InAsk' (seed 0): ask() raised ZeroDivisionError: division by zero")


def test_exception_in_tell_names_the_users_file_and_line(cli, tmp_path):
    path = write(tmp_path, "faulty.py", FAULTY)
    assert_user_error(cli("run", f"{path}:InTell", "--table", "synth-full", "--budget", "3", "--seeds", "1"),
                      f"{path}:18: strategy 'InTell' (seed 0): tell() raised KeyError")


def test_user_location_prefers_the_first_file_and_takes_its_innermost_frame(tmp_path, full_table):
    path = write(tmp_path, "faulty.py", FAULTY)
    cls = get_strategy(f"{path}:InAsk")
    with pytest.raises(StrategyError) as info:
        run_study(cls, full_table, Budget(queries=2), seeds=[0])
    cause = info.value.__cause__.__cause__  # StudyFailed <- StrategyError <- ZeroDivisionError
    assert isinstance(cause, ZeroDivisionError)
    assert user_location(cause, [str(path)]) == f"{path}:5"
    assert user_location(cause, ["/no/such/file.py"]) is None


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_full_traceback(cli, tmp_path, monkeypatch, how):
    path = write(tmp_path, "faulty.py", FAULTY)
    args = ["run", f"{path}:InAsk", "--table", "synth-full", "--budget", "3", "--seeds", "1"]
    if how == "env":
        monkeypatch.setenv("NASBENCH_DEBUG", "1")
    status, _, err = cli("--debug", *args) if how == "flag" else cli(*args)
    assert status == 2
    assert "Traceback (most recent call last)" in err and f'File "{path}", line 5, in helper' in err
    assert err.strip().splitlines()[-1].startswith(f"nasbench: error: {path}:5: ")


def test_debug_off_when_the_variable_says_so(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("NASBENCH_DEBUG", "0")
    path = write(tmp_path, "faulty.py", FAULTY)
    assert_user_error(cli("run", f"{path}:InAsk", "--table", "synth-full", "--budget", "3", "--seeds", "1"), "ask()")


# -- hyperparameters checked up front ------------------------------------------------------------


@pytest.mark.parametrize(
    "param, fragments",
    [
        ("warmup=abc", ["param warmup='abc'", "expects an integer (default 10)", "got text"]),
        ("warmup=2.5", ["param warmup=2.5", "expects an integer", "got a fraction"]),
        ("rate=abc", ["param rate='abc'", "expects a number (annotated float)"]),
        ("greedy=1", ["param greedy=1", "expects true or false (default False)", "got an integer"]),
        ("name_of=3", ["param name_of=3", "expects a string"]),
        ("colour=red", ["param 'colour'", "no such hyperparameter", "warmup, rate, greedy, name_of"]),
    ],
)
def test_bad_param_is_refused_before_the_table_is_loaded(cli, tmp_path, param, fragments):
    path = write(tmp_path, "mine.py", GOOD)
    # the table does not exist: the parameter is checked first
    assert_user_error(cli("run", f"{path}:Mine", "--table", "no-such-table", "--budget", "3", "--param", param),
                      "strategy 'Mine'", *fragments)


def test_good_params_pass_the_check(cli, tmp_path):
    path = write(tmp_path, "mine.py", GOOD)
    status, _, err = cli("run", f"{path}:Mine", "--table", "synth-full", "--budget", "3", "--seeds", "1",
                         "--param", "warmup=2", "--param", "rate=1", "--param", "greedy=true", "--param", "name_of=y")
    assert status == 0, err


def test_registered_strategy_params_are_typed_by_annotation(cli):
    assert_user_error(cli("run", "evolution", "--table", "synth-full", "--budget", "3", "--param", "population_size=abc"),
                      "param population_size='abc'", "strategy 'evolution'", "annotated int")
    assert_user_error(cli("run", "bohb", "--table", "synth-full", "--budget", "3", "--param", "min_points_in_model=x"),
                      "an integer or null")


class _Typed:
    def __init__(self, space, rng, *, mode: Literal["a", "b"] = "a", limit: int | None = None,
                 pair: tuple[int, int] = (1, 2), unknown: "SomethingUndefined" = None, required: int):  # noqa: F821, UP037
        pass


class _Open:
    def __init__(self, space, rng, *, depth: int = 3, **rest):
        pass


def test_check_keywords_reads_literals_optionals_and_unresolvable_annotations():
    fixed = {"self", "space", "rng"}
    check_keywords(_Typed.__init__, {"mode": "b", "limit": None, "pair": [3, 4], "unknown": object(), "required": 1},
                   fixed, "x")
    with pytest.raises(InvalidParameterError, match="one of 'a', 'b'"):
        check_keywords(_Typed.__init__, {"mode": "c", "required": 1}, fixed, "x")
    with pytest.raises(InvalidParameterError, match="param 'required': x requires it"):
        check_keywords(_Typed.__init__, {}, fixed, "x")
    with pytest.raises(InvalidParameterError, match="expects an integer or null"):
        check_keywords(_Typed.__init__, {"limit": "many", "required": 1}, fixed, "x")
    check_keywords(_Open.__init__, {"anything": 1}, fixed, "x")  # **kwargs: unknown names pass
    with pytest.raises(InvalidParameterError, match="param depth=true"):
        check_keywords(_Open.__init__, {"depth": True}, fixed, "x")


# -- naming the strategy ---------------------------------------------------------------------------


def test_file_without_class_says_how_to_name_it(cli, tmp_path):
    path = write(tmp_path, "mine.py", GOOD)
    assert_user_error(cli("run", path, "--table", "synth-full", "--budget", "3"),
                      f"name the class as {path}:Mine", "Strategy subclasses in it: Mine, Other")


def test_file_without_class_that_does_not_import_still_says_how(cli, tmp_path):
    path = write(tmp_path, "broken.py", "this is not python\n")
    assert_user_error(cli("run", path, "--table", "synth-full", "--budget", "3"), f"{path}:ClassName")
    empty = write(tmp_path, "empty.py", "X = 1\n")
    assert_user_error(cli("run", empty, "--table", "synth-full", "--budget", "3"), "defines no Strategy subclass")
    assert_user_error(cli("run", tmp_path / "absent.py", "--table", "synth-full", "--budget", "3"),
                      "no such file", "random", "path/to/file.py:ClassName")


def test_wrong_class_name_lists_the_classes_in_the_file(cli, tmp_path):
    path = write(tmp_path, "mine.py", GOOD)
    assert_user_error(cli("run", f"{path}:Mien", "--table", "synth-full", "--budget", "3"),
                      "'Mien'", "it defines: Mine, Other")


# -- architecture strings, budgets, help -------------------------------------------------------------

ARCH = "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|avg_pool_3x3~2|"


@pytest.mark.parametrize("position, space", [(16, " "), (3, "\t"), (40, " ")])
def test_whitespace_inside_an_architecture_string_is_named(position, space):
    text = ARCH[:position] + space + ARCH[position:]
    with pytest.raises(InvalidArchitectureError, match=f"contains whitespace at position {position} "):
        get_space("nb201").parse(text)


def test_whitespace_inside_an_architecture_string_on_the_cli(cli):
    text = ARCH[:16] + " " + ARCH[16:]
    assert_user_error(cli("query", text, "--table", "synth-full"), "contains whitespace at position 16")
    status, out, _ = cli("query", f"  {ARCH} ", "--table", "synth-full")  # around it is fine
    assert status == 0 and out.startswith(ARCH)


def test_run_help_describes_the_latency_limit_and_budget(cli):
    status, out, _ = cli("run", "--help")
    text = " ".join(out.split())  # argparse wraps lines at the terminal width
    assert status == 0
    assert "latency at most this many ms" in text
    assert "give --budget and/or --seconds" in text
    status, out, _ = cli("--help")
    assert "--debug" in out and "NASBENCH_DEBUG=1" in " ".join(out.split())
