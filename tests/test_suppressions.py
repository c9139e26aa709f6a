"""`# noqa` suppressions and TL003 unused-suppression."""

import textwrap

from conftest import lint

from trainlint.fixes import fix_text
from trainlint.settings import default_settings

BAD = "import torch\nopt = torch.optim.SGD(p, lr=10)"


def test_noqa_with_code_suppresses():
    assert lint(BAD + "  # noqa: TL101\n") == []


def test_noqa_is_case_insensitive_and_takes_several_codes():
    assert lint(BAD + "  # NOQA:tl101\n") == []
    assert lint(BAD + "  # noqa: E501 TL101\n") == []
    assert lint(BAD + "  # noqa:E501,TL101\n") == []


def test_noqa_for_another_code_does_not_suppress():
    found = [d.code for d in lint(BAD + "  # noqa: E501\n")]
    assert found == ["TL101"]


def test_bare_noqa_suppresses_everything_and_is_never_reported():
    assert lint(BAD + "  # noqa\n") == []
    assert lint("x = 1  # noqa\n") == []


def test_file_level_noqa():
    assert lint("# trainlint: noqa\n" + BAD + "\n") == []
    assert lint("# trainlint: noqa: TL101\n" + BAD + "\n") == []
    assert [d.code for d in lint("# trainlint: noqa: TL102\n" + BAD + "\n")] == ["TL101"]
    # Not on its own line: it is an ordinary comment.
    assert [d.code for d in lint("x = 1  # trainlint: noqa\n" + BAD + "\n")] == ["TL101"]


def test_noqa_inside_a_string_is_not_a_comment():
    found = lint('import torch\nopt = torch.optim.SGD(p, lr=10); s = "# noqa: TL101"\n')
    assert [d.code for d in found] == ["TL101"]


def test_multiline_statement_first_last_or_own_line():
    statement = """\
        import torch
        opt = torch.optim.SGD(  {first}
            model.parameters(),
            lr=10,  {own}
            momentum=0.9,
        )  {last}
    """
    for where in ("first", "own", "last"):
        code = textwrap.dedent(statement.format(**{k: "# noqa: TL101" if k == where else "" for k in ("first", "own", "last")}))
        assert lint(code) == [], where
    code = textwrap.dedent(statement.format(first="", own="", last="")).replace("momentum=0.9,", "momentum=0.9,  # noqa: TL101")
    assert [d.code for d in lint(code)] == ["TL101", "TL003"]


def test_unused_suppression_reported_with_safe_fix():
    (d,) = lint("import torch\nopt = torch.optim.SGD(p, lr=0.1)  # noqa: TL101\n")
    assert d.code == "TL003" and "TL101" in d.message
    assert d.fix.applicability.value == "safe"
    outcome = fix_text(
        "import torch\nopt = torch.optim.SGD(p, lr=0.1)  # noqa: TL101\n", "x.py", default_settings(), unsafe=False
    )
    assert outcome.text == "import torch\nopt = torch.optim.SGD(p, lr=0.1)\n"


def test_unused_code_removed_others_kept():
    source = "import torch\nopt = torch.optim.SGD(p, lr=10)  # noqa: TL101, TL102, E501\n"
    (d,) = lint(source)
    assert d.code == "TL003" and "TL102" in d.message and "TL101" not in d.message
    outcome = fix_text(source, "x.py", default_settings(), unsafe=False)
    assert outcome.text == "import torch\nopt = torch.optim.SGD(p, lr=10)  # noqa: TL101, E501\n"


def test_removal_keeps_text_after_the_codes_as_a_comment():
    source = "x = 1  # noqa: TL101 reason given here\ny = 2  # noqa: TL101  # second comment\n"
    outcome = fix_text(source, "x.py", default_settings(), unsafe=False)
    assert outcome.text == "x = 1  # reason given here\ny = 2  # second comment\n"


def test_unknown_code_is_reported_as_such():
    (d,) = lint("x = 1  # noqa: TL999\n")
    assert d.code == "TL003" and "TL999: no such rule" in d.message


def test_codes_of_disabled_rules_are_not_reported():
    assert lint("x = 1  # noqa: TL101\n", select=["TL003"]) == []


def test_tl003_can_be_suppressed_itself():
    assert lint("x = 1  # noqa: TL101, TL003\n") == []


def test_unused_suppression_not_reported_on_unparsable_file():
    assert [d.code for d in lint("x = (  # noqa: TL101\n")] == ["TL001"]
