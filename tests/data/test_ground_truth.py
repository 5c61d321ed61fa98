"""The is_poison column: read as the loader reads the rows, or None when absent."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from poisonlab._errors import DataError
from poisonlab.data import load_file
from poisonlab.data.ground_truth import read_is_poison


def test_csv_tsv_jsonl_and_gzip(tmp_path: Path) -> None:
    csv_file = tmp_path / "p.csv"
    csv_file.write_text('id,text,label,is_poison\n1,"hi, there",ham,0\n\n2,WIN,ham,1\n3,ok,spam,true\n')
    assert read_is_poison(csv_file).tolist() == [False, True, True]
    assert len(load_file(csv_file)) == 3  # the flags line up with the loader's rows
    tsv_file = tmp_path / "p.tsv"
    tsv_file.write_text("text\tlabel\tIS_POISON\nhi\tham\tno\nWIN\tham\tyes\n")
    assert read_is_poison(tsv_file).tolist() == [False, True]
    jsonl_file = tmp_path / "p.jsonl"
    rows = [{"text": "hi", "label": "ham", "is_poison": 0}, {"text": "WIN", "label": "ham", "is_poison": 1}]
    jsonl_file.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert read_is_poison(jsonl_file).tolist() == [False, True]
    gz_file = tmp_path / "p.csv.gz"
    gz_file.write_bytes(gzip.compress(csv_file.read_bytes()))
    assert read_is_poison(gz_file).tolist() == [False, True, True]


def test_absent_column_or_headerless_file_gives_none(tmp_path: Path) -> None:
    plain = tmp_path / "mail.csv"
    plain.write_text("text,label\nhi,ham\nWIN,spam\n")
    assert read_is_poison(plain) is None
    uci = tmp_path / "SMSSpamCollection"
    uci.write_text("ham\thi there\nspam\tWIN now\n")
    assert read_is_poison(uci) is None


def test_parquet(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow", reason="Parquet support is the optional 'parquet' extra")
    import pyarrow.parquet as pq

    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"text": ["hi", "WIN"], "label": ["ham", "ham"], "is_poison": [0, 1]}), path)
    assert read_is_poison(path).tolist() == [False, True]


def test_values_other_than_yes_or_no_are_an_error(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("text,label,is_poison\nhi,ham,maybe\n")
    with pytest.raises(DataError, match=r"'is_poison' column of .* must hold 0/1 or true/false"):
        read_is_poison(path)
