"""YAML parsing: plain data, a position for every field, and located problems for bad input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from taxiway.errors import ValidationFailed
from taxiway.spec import document, service_files
from taxiway.spec.problem import Location, Problem


def parse_problems(text: str) -> list[Problem]:
    with pytest.raises(ValidationFailed) as caught:
        document.parse(text, "f.yaml")
    return list(caught.value.problems)


def test_positions_of_keys_and_values() -> None:
    doc = document.parse("spec:\n  regions: [a, b]\n  port: 80\n", "f.yaml")
    assert doc.data == {"spec": {"regions": ["a", "b"], "port": 80}}
    assert doc.positions[("spec", "port")].key == Location("f.yaml", 3, 3)
    assert doc.positions[("spec", "port")].value == Location("f.yaml", 3, 9)
    assert doc.positions[("spec", "regions", 1)].value == Location("f.yaml", 2, 16)


def test_locate_falls_back_to_the_nearest_ancestor() -> None:
    doc = document.parse("spec:\n  scalability: {min_instances: 1}\n", "f.yaml")
    assert doc.locate(("spec", "scalability", "max_instances")) == doc.locate(("spec", "scalability"))
    assert doc.locate(("nowhere",)) == Location("f.yaml", 1, 1)


def test_scalars_are_plain_python_types() -> None:
    doc = document.parse("a: 1\nb: 1.5\nc: true\nd: text\ne: null\nf: 2024-01-02\n", "f.yaml")
    assert doc.data == {"a": 1, "b": 1.5, "c": True, "d": "text", "e": None, "f": "2024-01-02"}
    assert [type(v) for v in doc.data.values()] == [int, float, bool, str, type(None), str]


def test_empty_text_is_null() -> None:
    assert document.parse("# only a comment\n", "f.yaml").data is None


def test_syntax_error_is_located() -> None:
    (problem,) = parse_problems("a: 1\nb: [1, 2\nc: 3\n")
    assert problem.location.file == "f.yaml"
    assert problem.location.line >= 2
    assert problem.message.startswith("invalid YAML")


def test_duplicate_keys_are_an_error() -> None:
    (problem,) = parse_problems("a: 1\nb: 2\na: 3\n")
    assert problem.location.line == 3
    assert "duplicate" in problem.message


def test_tab_indentation_is_located() -> None:
    (problem,) = parse_problems("a:\n\tb: 1\n")
    assert problem.location.line == 2


def test_several_documents_are_an_error() -> None:
    (problem,) = parse_problems("a: 1\n---\nb: 2\n")
    assert problem.message.startswith("invalid YAML")


def test_non_string_keys_are_problems_with_the_key_position() -> None:
    problems = parse_problems("a:\n  1: x\n  ok: z\n  [k]: y\n")
    assert [(p.message, p.location.line, p.found) for p in problems] == [
        ("mapping key is not a string", 2, "1"),
        ("mapping key is not a string", 4, "('k',)"),
    ]


def test_a_lone_surrogate_escape_is_a_located_problem_not_text() -> None:
    # YAML spells code points with \u: a surrogate is not one, and could never be written
    # as UTF-8 (to an upload's file, a database, an answer) further on.
    problems = parse_problems('spec:\n  env:\n    A: "\\ud800"\n    "\\udc00": x\n')
    assert [(p.path, p.location.line, p.message) for p in problems] == [
        (("spec", "env", "A"), 3, "value is not text: it holds a lone UTF-16 surrogate"),
        (("spec", "env"), 4, "mapping key is not text: it holds a lone UTF-16 surrogate"),
    ]
    assert all("\ud800" not in p.render() and "\udc00" not in p.render() for p in problems)
    assert document.parse('a: "\\U0001F600 \\u00e9"\n', "f.yaml").data == {"a": "\U0001f600 \u00e9"}


def test_custom_tags_are_refused() -> None:
    (problem,) = parse_problems("a: !vault secret\n")
    assert problem.message == "unsupported YAML tag"
    assert problem.path == ("a",)
    assert problem.found == "!vault"


def test_sets_are_refused_and_ordered_maps_read_as_mappings() -> None:
    (problem,) = parse_problems("a: !!set {x, y}\n")
    assert (problem.message, problem.path) == ("unsupported YAML type", ("a",))
    assert document.parse("!!omap [a: 1, b: 2]\n", "f.yaml").data == {"a": 1, "b": 2}


def test_aliases_expand_to_copies() -> None:
    doc = document.parse("a: &x {b: 1}\nc: *x\n", "f.yaml")
    assert doc.data == {"a": {"b": 1}, "c": {"b": 1}}


@pytest.mark.parametrize("text", ["a: &x [1, *x]\n", "a: &x {b: *x}\n"])
def test_recursive_alias_inside_a_collection_ends(text: str) -> None:
    # ruamel leaves the inner reference empty: the data is finite, and null where it looped
    assert "None" in repr(document.parse(text, "f.yaml").data)


def test_recursive_alias_at_the_root_is_a_problem() -> None:
    (problem,) = parse_problems("&x [*x]\n")
    assert (problem.message, problem.path) == ("recursive YAML alias", (0,))


def test_alias_bomb_is_refused_quickly() -> None:
    levels = ["a0: &a0 [" + ", ".join(["x"] * 10) + "]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    started = time.perf_counter()
    (problem,) = parse_problems("\n".join(levels) + "\n")
    assert "aliases" in problem.message
    assert time.perf_counter() - started < 10  # 10^9 values if expanded: would never finish


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    problems = parse_problems("a: " + "[" * 200 + "]" * 200 + "\n")
    assert problems
    assert all(p.location.file == "f.yaml" for p in problems)


def test_oversized_document_is_refused() -> None:
    (problem,) = parse_problems("a: " + "x" * (document.MAX_DOCUMENT_BYTES + 1))
    assert problem.message == "file too large"


@pytest.mark.parametrize(
    ("text", "line", "column"), [("\x00", 1, 1), ("a: 1\nb: x\x07", 2, 5), ("a: '\ud800'", 1, 5)]
)
def test_forbidden_characters_are_located(text: str, line: int, column: int) -> None:
    (problem,) = parse_problems(text)
    assert (problem.location.line, problem.location.column) == (line, column)
    assert problem.message == "invalid YAML: special characters are not allowed"


def test_every_parse_problem_has_a_line_and_column() -> None:
    for text in ["%YAML 9.9\n--- a", "a: " + "x" * (document.MAX_DOCUMENT_BYTES + 1), "a: [" * 5000]:
        (problem,) = parse_problems(text)
        assert problem.location.line >= 1
        assert problem.location.column >= 1


@pytest.mark.parametrize(
    "text",
    [
        "[" * 50_000 + "]" * 50_000,  # flow collections
        "- " * 50_000 + "x\n",  # block sequences opened on one line
        "a:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(1500)),  # block mappings by indentation
    ],
    ids=["flow", "dashes", "indentation"],
)
def test_deep_nesting_is_refused_before_the_yaml_library_spends_its_cpu_on_it(text: str) -> None:
    started = time.process_time()
    (problem,) = parse_problems(text)
    assert problem.message == "invalid YAML: nested too deeply"
    assert problem.expected == f"at most {document.MAX_DEPTH} levels of nesting"
    assert time.process_time() - started < 1.0, "refused by the scan, not by parsing"


def test_brackets_in_quotes_and_comments_do_not_count_as_nesting() -> None:
    text = "a: '" + "[" * 100 + "'\nb: \"" + "{" * 100 + '"  # ' + "[" * 100 + "\n"
    assert document.parse(text, "f.yaml").data == {"a": "[" * 100, "b": "{" * 100}


def test_manifest_files_have_a_smaller_bound_than_platform_files(tmp_path: Path) -> None:
    big = tmp_path / "service.yaml"
    big.write_text("a: " + "x" * document.MAX_MANIFEST_BYTES + "\n")
    assert service_files.read(big).data is not None, "a platform file may be that large"
    with pytest.raises(ValidationFailed) as caught:
        service_files.read(big, max_bytes=document.MAX_MANIFEST_BYTES)
    assert caught.value.problems[0].message == "file too large"
