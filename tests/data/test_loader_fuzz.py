"""Fuzzing every loader with random bytes and random CSV shapes: never an unhandled exception."""

from __future__ import annotations

import csv
import gzip
import io
import warnings

from hypothesis import given, settings
from hypothesis import strategies as st

from poisonlab import DataError
from poisonlab.data import load_dataset

SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet", "", ".txt", ".csv.gz", ".mbox", ".eml", ".zip", ".tar.gz")


def load_quietly(path):
    """Load, allowing only DataError; any other exception fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return load_dataset(path)
        except DataError:
            return None


@settings(max_examples=150)
@given(raw=st.binary(max_size=400), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_never_crash_a_loader(tmp_path_factory, raw, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"data{suffix}"
    path.write_bytes(gzip.compress(raw) if suffix.endswith(".gz") and raw[:1] == b"x" else raw)
    load_quietly(path)


cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=150)
@given(
    header=st.lists(st.sampled_from(["text", "label", "message", "class", "id", "x", ""]), max_size=4),
    rows=st.lists(st.lists(cells, max_size=5), max_size=8),
    delimiter=st.sampled_from([",", "\t", ";"]),
)
def test_random_csv_shapes_never_crash(tmp_path_factory, header, rows, delimiter):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    path = tmp_path_factory.mktemp("fuzz") / ("data.tsv" if delimiter == "\t" else "data.csv")
    path.write_text(buffer.getvalue(), encoding="utf-8")
    dataset = load_quietly(path)
    if dataset is not None:
        assert len(dataset) == len(dataset.labels) == len(dataset.ids)
        assert len(set(dataset.labels.tolist())) >= 2


@settings(max_examples=100)
@given(
    lines=st.lists(
        st.one_of(st.text(max_size=30), st.builds(str, st.dictionaries(st.text(max_size=5), cells))),
        max_size=6,
    )
)
def test_random_jsonl_never_crashes(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("fuzz") / "data.jsonl"
    path.write_text("\n".join(line.replace("'", '"') for line in lines), encoding="utf-8")
    load_quietly(path)
