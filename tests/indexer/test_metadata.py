from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.index_files import IndexUnavailable, Manifest, check_model
from indexer.metadata import DocumentMetadata, company_key, from_name, metadata_for, period_key, read_sidecar
from indexer.terms import joined_names, lexical_terms


@pytest.mark.parametrize(
    ("doc_id", "company", "period"),
    [
        ("3M_2018_10K_p57.txt", "3M", "2018"),
        ("filings/Acme-Corp_FY2022_annual.md", "Acme Corp", "2022"),
        ("globex_2023Q2_10Q.txt", "globex", "2023Q2"),
        ("initech 2021 Q3 call.txt", "initech", "2021Q3"),
        ("umbrella_Q4_2020_results.pdf", "umbrella", "2020Q4"),
        ("2024/acme.txt", "", ""),
        ("meta-scale-ai-acquisition.txt", "", ""),
    ],
)
def test_company_and_period_are_read_from_the_file_name(doc_id: str, company: str, period: str) -> None:
    assert from_name(doc_id) == DocumentMetadata(company=company, period=period)


@pytest.mark.parametrize(
    ("text", "key"),
    [("2023", "2023"), ("FY2023", "2023"), ("fy2023", "2023"), ("2023Q2", "2023Q2"), ("2023-q2", "2023Q2"),
     ("2023H1", "2023H1"), ("2023H3", None), ("23", None), ("soon", None), ("2023Q5", None),
     ("FY22", "2022"), ("fy98", "1998"), ("FY23Q1", "2023Q1"), ("FY222", None)],
)
def test_periods_have_one_spelling(text: str, key: str | None) -> None:
    assert period_key(text) == key


def test_company_names_compare_without_case_spaces_or_punctuation() -> None:
    assert company_key("Best Buy") == company_key("BESTBUY") == company_key("best-buy")


def test_a_sidecar_gives_fields_the_file_name_cannot(tmp_path: Path) -> None:
    lines = [
        {"doc_id": "notes/q3.txt", "company": "Initech", "period": "FY2021", "title": "Initech third quarter"},
        {"doc_id": "globex_2022_annual.txt", "company": "Globex Corporation"},
    ]
    (tmp_path / "metadata.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    sidecar = read_sidecar(tmp_path)
    assert metadata_for("notes/q3.txt", sidecar) == DocumentMetadata("Initech", "2021", "Initech third quarter")
    # The file name still gives what the sidecar leaves out.
    assert metadata_for("globex_2022_annual.txt", sidecar) == DocumentMetadata("Globex Corporation", "2022")
    assert metadata_for("acme_2020.txt", sidecar) == DocumentMetadata("acme", "2020")


def test_a_json_sidecar_maps_doc_ids_to_fields(tmp_path: Path) -> None:
    (tmp_path / "metadata.json").write_text(json.dumps({"a.txt": {"company": "Acme", "period": "2019Q1"}}), "utf-8")
    assert read_sidecar(tmp_path) == {"a.txt": DocumentMetadata("Acme", "2019Q1")}


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"doc_id": "a.txt", "period": "next year"}\n', "not a year"),
        ('{"company": "Acme"}\n', "doc_id"),
        ("{not json\n", "metadata.jsonl:1: not valid JSON"),
        ('{"doc_id": "a.txt", "company": 7}\n', "company must be a string"),
    ],
)
def test_a_bad_sidecar_is_refused_saying_where(tmp_path: Path, content: str, needle: str) -> None:
    (tmp_path / "metadata.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=needle):
        read_sidecar(tmp_path)


def test_lexical_terms_split_joined_words_and_read_short_fiscal_years() -> None:
    assert {"fy2022", "fy", "2022"} <= set(lexical_terms("FY2022"))
    assert {"3m", "3", "m", "2018", "10k", "10", "k"} <= set(lexical_terms("3M 2018 10K"))
    assert "2022" in lexical_terms("FY22")
    assert "bestbuy" in lexical_terms("Best Buy's margin", joined=True)
    assert "bestbuy" not in lexical_terms("Best Buy's margin")


def test_names_next_to_each_other_are_joined_as_file_names_write_them() -> None:
    assert joined_names("How many stores did Best Buy close?") == {"bestbuy": frozenset({"best", "buy"})}
    assert joined_names("Best Buy's margin?") == {"bestbuy": frozenset({"best", "buy"})}
    assert set(joined_names("Did Home Depot Inc. beat Best Buy?")) == {
        "homedepot",
        "homedepotinc",
        "depotinc",
        "bestbuy",
    }
    # Names apart in the text are not one name; a lone name joins nothing.
    assert joined_names("Did Acme outsell Globex?") == {}
    assert joined_names("Who did Intel hire?") == {}


def test_an_index_of_another_model_is_refused_with_the_whole_command_that_rebuilds_it(tmp_path: Path) -> None:
    manifest = Manifest(
        model={"name": "other-model", "dimension": 384, "probe": [1.0] + [0.0] * 7},
        chunking={},
        index_type="flat",
        documents={},
        counts={},
    )
    with pytest.raises(IndexUnavailable) as refused:
        check_model(manifest, "all-MiniLM-L6-v2", 384, [0.0, 1.0] + [0.0] * 6, tmp_path / "my index")
    assert f"`citeqa index CORPUS --index-dir '{tmp_path / 'my index'}' --model all-MiniLM-L6-v2`" in str(refused.value)
