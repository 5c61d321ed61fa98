"""`load_file`: every supported format, column and label detection, and one clear error per bad input."""

import gzip
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from poisonlab import DataError, DataWarning, ParameterError, PoisonlabError
from poisonlab.data import FORMATS, load_dataset, load_file


def write(folder, name, content):
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def write_parquet(folder, name, columns):
    path = folder / name
    pq.write_table(pa.table(columns), path)
    return path


def load_error(path, **kwargs):
    """Load `path`, expecting a DataError; return its message after checking it is one sentence."""
    with pytest.raises(DataError) as caught:
        load_file(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    assert message.endswith(".")
    assert "Traceback" not in message
    return message


SIMPLE_CSV = "message,label\nhello there,ham\nWIN cash now,spam\nsee you soon,ham\n"


# --- formats ------------------------------------------------------------------------------------


def test_csv(tmp_path):
    ds = load_file(write(tmp_path, "mail.csv", SIMPLE_CSV))
    assert ds.texts == ("hello there", "WIN cash now", "see you soon")
    assert ds.labels.tolist() == [0, 1, 0]
    assert ds.classes == ("ham", "spam")
    assert ds.ids == ("1", "2", "3")
    assert ds.name == "mail.csv"


def test_csv_with_crlf_line_endings(tmp_path):
    ds = load_file(write(tmp_path, "mail.csv", SIMPLE_CSV.replace("\n", "\r\n")))
    assert ds.texts == ("hello there", "WIN cash now", "see you soon")
    assert ds.classes == ("ham", "spam")


def test_path_can_be_a_string(tmp_path):
    assert len(load_file(str(write(tmp_path, "mail.csv", SIMPLE_CSV)))) == 3


def test_tsv(tmp_path):
    path = write(tmp_path, "mail.tsv", "text\tlabel\nhi, you\tham\nbuy now, cheap\tspam\n")
    ds = load_file(path)
    assert ds.texts == ("hi, you", "buy now, cheap")
    assert ds.labels.tolist() == [0, 1]


def test_jsonl(tmp_path):
    lines = [
        {"text": "hello", "label": "ham"},
        {"text": "WIN", "label": "spam", "extra": [1, 2]},
        {"label": "ham", "text": "lunch?"},
    ]
    path = write(tmp_path, "mail.jsonl", "\n".join(json.dumps(r) for r in lines) + "\n\n")
    ds = load_file(path)
    assert ds.texts == ("hello", "WIN", "lunch?")
    assert ds.labels.tolist() == [0, 1, 0]


def test_jsonl_numeric_and_boolean_labels(tmp_path):
    numeric = write(tmp_path, "a.jsonl", '{"text": "a", "label": 0}\n{"text": "b", "label": 1}\n')
    boolean = write(tmp_path, "b.ndjson", '{"text": "a", "spam": false}\n{"text": "b", "spam": true}\n')
    assert load_file(numeric).labels.tolist() == [0, 1]
    assert load_file(boolean).labels.tolist() == [0, 1]
    assert load_file(boolean).classes == ("ham", "spam")


def test_parquet(tmp_path):
    path = write_parquet(tmp_path, "mail.parquet", {"text": ["a", "b", "c"], "label": ["spam", "ham", "ham"]})
    ds = load_file(path)
    assert ds.texts == ("a", "b", "c")
    assert ds.labels.tolist() == [1, 0, 0]


def test_parquet_with_integer_labels_and_ids(tmp_path):
    path = write_parquet(tmp_path, "mail.parquet", {"id": [10, 20], "message": ["x", "y"], "is_spam": [0, 1]})
    ds = load_file(path)
    assert ds.labels.tolist() == [0, 1]
    assert ds.ids == ("10", "20")


def test_gzipped_parquet(tmp_path):
    plain = write_parquet(tmp_path, "mail.parquet", {"text": ["a", "b"], "label": ["ham", "spam"]})
    packed = write(tmp_path, "mail.parquet.gz", gzip.compress(plain.read_bytes()))
    assert load_file(packed).texts == ("a", "b")


def test_gzipped_csv(tmp_path):
    path = write(tmp_path, "mail.csv.gz", gzip.compress(SIMPLE_CSV.encode()))
    ds = load_file(path)
    assert ds.texts == ("hello there", "WIN cash now", "see you soon")
    assert ds.name == "mail.csv.gz"


def test_gzip_is_detected_by_content_not_name(tmp_path):
    path = write(tmp_path, "mail.csv", gzip.compress(SIMPLE_CSV.encode()))
    assert len(load_file(path)) == 3


def test_uci_format_is_sniffed_without_extension(tmp_path):
    content = "ham\tGo until jurong point\nspam\tFree entry in 2 a wkly comp\n\nham\tOk lar...\n"
    ds = load_file(write(tmp_path, "SMSSpamCollection", content))
    assert ds.texts == ("Go until jurong point", "Free entry in 2 a wkly comp", "Ok lar...")
    assert ds.labels.tolist() == [0, 1, 0]
    assert ds.ids == ("1", "2", "4")  # line numbers; the blank line 3 is skipped


def test_uci_keeps_tabs_inside_the_message_and_strips_crlf(tmp_path):
    ds = load_file(write(tmp_path, "sms", "ham\ta\tb\r\nspam\tWIN\r\n"))
    assert ds.texts == ("a\tb", "WIN")


def test_uci_line_without_tab(tmp_path):
    path = write(tmp_path, "sms", "ham\tfine\nspam no tab here\n")
    assert "Line 2" in load_error(path)
    assert "no TAB" in load_error(path)


def test_file_format_overrides_the_name(tmp_path):
    path = write(tmp_path, "mail.txt", "ham\thello\nspam\tWIN\n")
    assert load_file(path, file_format="uci").texts == ("hello", "WIN")
    csv_path = write(tmp_path, "data.dat", SIMPLE_CSV)
    assert len(load_file(csv_path, file_format="csv")) == 3


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("noext_csv", "message,label\nhello,ham\nWIN,spam\n"),
        ("noext_tsv", "text\tlabel\nhello\tham\nWIN\tspam\n"),
        ("noext_jsonl", '{"text": "hello", "label": "ham"}\n{"text": "WIN", "label": "spam"}\n'),
    ],
)
def test_format_is_sniffed_from_content(tmp_path, name, content):
    ds = load_file(write(tmp_path, name, content))
    assert ds.classes == ("ham", "spam")
    assert ds.texts[0] == "hello"


def test_all_formats_are_listed():
    assert set(FORMATS) == {"csv", "tsv", "jsonl", "parquet", "uci"}


def test_load_dataset_reads_a_path(tmp_path):
    path = write(tmp_path, "mail.csv", SIMPLE_CSV)
    assert load_dataset(path).fingerprint() == load_file(path).fingerprint()


def test_the_input_file_is_not_modified(tmp_path):
    path = write(tmp_path, "mail.csv", SIMPLE_CSV)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    load_file(path)
    assert path.read_bytes() == SIMPLE_CSV.encode()
    assert path.stat().st_mtime == 1_000_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mail.csv"]


# --- columns ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text_name", "label_name"),
    [
        ("text", "label"),
        ("message", "class"),
        ("sms", "category"),
        ("body", "target"),
        ("Text", "Label"),
        ("EMAIL", "Is_Spam"),
    ],
)
def test_columns_are_detected_by_common_names(tmp_path, text_name, label_name):
    content = f"other,{label_name},{text_name}\nx,ham,hello\ny,spam,WIN\n"
    ds = load_file(write(tmp_path, "mail.csv", content))
    assert ds.texts == ("hello", "WIN")
    assert ds.labels.tolist() == [0, 1]


def test_kaggle_spam_csv_layout(tmp_path):
    content = "v1,v2,,,\nham,Go until jurong point,,,\nspam,Free entry,,,\n"
    ds = load_file(write(tmp_path, "spam.csv", content))
    assert ds.texts == ("Go until jurong point", "Free entry")
    assert ds.labels.tolist() == [0, 1]


def test_user_named_columns(tmp_path):
    content = "subject,verdict,notes\nhello,ham,x\nWIN,spam,y\n"
    ds = load_file(write(tmp_path, "mail.csv", content), text_column="subject", label_column="verdict")
    assert ds.texts == ("hello", "WIN")
    assert ds.labels.tolist() == [0, 1]


def test_user_named_columns_override_detection(tmp_path):
    content = "text,label,subject,verdict\nbody1,ham,subj1,spam\nbody2,spam,subj2,ham\n"
    ds = load_file(write(tmp_path, "mail.csv", content), text_column="subject", label_column="verdict")
    assert ds.texts == ("subj1", "subj2")
    assert ds.labels.tolist() == [1, 0]


def test_named_columns_match_case_insensitively(tmp_path):
    path = write(tmp_path, "mail.csv", "Subject,Verdict\nhello,ham\nWIN,spam\n")
    ds = load_file(path, text_column="subject", label_column="VERDICT")
    assert ds.texts == ("hello", "WIN")


def test_exact_column_name_wins_over_a_case_insensitive_match(tmp_path):
    content = "Text,text,label\nupper1,lower1,ham\nupper2,lower2,spam\n"
    ds = load_file(write(tmp_path, "mail.csv", content), text_column="text")
    assert ds.texts == ("lower1", "lower2")


def test_header_names_are_trimmed(tmp_path):
    ds = load_file(write(tmp_path, "mail.csv", " text , label \nhello,ham\nWIN,spam\n"))
    assert ds.texts == ("hello", "WIN")


def test_id_column_is_used_as_ids(tmp_path):
    ds = load_file(write(tmp_path, "mail.csv", "id,text,label\nmsg-7,hello,ham\nmsg-3,WIN,spam\n"))
    assert ds.ids == ("msg-7", "msg-3")


def test_duplicate_ids_fall_back_to_row_numbers(tmp_path):
    ds = load_file(write(tmp_path, "mail.csv", "id,text,label\na,hello,ham\na,WIN,spam\nb,hi,ham\n"))
    assert ds.ids == ("1", "2", "3")


def test_jsonl_id_field_is_used(tmp_path):
    path = write(
        tmp_path,
        "m.jsonl",
        '{"id": 5, "text": "a", "label": "ham"}\n{"id": 9, "text": "b", "label": "spam"}\n',
    )
    assert load_file(path).ids == ("5", "9")


# --- labels -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "classes", "labels"),
    [
        (["ham", "spam", "ham"], ("ham", "spam"), [0, 1, 0]),
        (["0", "1", "1"], ("ham", "spam"), [0, 1, 1]),
        (["not spam", "spam", "Not Spam"], ("ham", "spam"), [0, 1, 0]),
        (["promo", "inbox", "promo"], ("inbox", "promo"), [1, 0, 1]),
        (["pos", "neg", "neu"], ("neg", "neu", "pos"), [2, 0, 1]),
    ],
)
def test_label_values_are_mapped(tmp_path, values, classes, labels):
    content = "text,label\n" + "".join(f"msg {i},{v}\n" for i, v in enumerate(values))
    ds = load_file(write(tmp_path, "mail.csv", content))
    assert ds.classes == classes
    assert ds.labels.tolist() == labels


def test_given_classes(tmp_path):
    ds = load_file(write(tmp_path, "mail.csv", SIMPLE_CSV), classes=["spam", "ham"])
    assert ds.classes == ("spam", "ham")
    assert ds.labels.tolist() == [1, 0, 1]


def test_utf8_bom_is_removed(tmp_path):
    path = write(tmp_path, "mail.csv", b"\xef\xbb\xbf" + SIMPLE_CSV.encode())
    ds = load_file(path)
    assert ds.texts[0] == "hello there"
    assert len(ds) == 3


@pytest.mark.parametrize("encoding", ["utf-8", "UTF-8", "utf8", "utf_8"])
def test_utf8_bom_is_removed_for_every_spelling_of_utf8(tmp_path, encoding):
    path = write(tmp_path, "mail.csv", b"\xef\xbb\xbf" + SIMPLE_CSV.encode())
    assert load_file(path, encoding=encoding).texts[0] == "hello there"


def test_bom_before_uci_and_jsonl(tmp_path):
    uci = write(tmp_path, "sms", b"\xef\xbb\xbfham\thello\nspam\tWIN\n")
    assert load_file(uci).texts == ("hello", "WIN")
    jsonl = write(
        tmp_path, "m.jsonl", b'\xef\xbb\xbf{"text": "a", "label": "ham"}\n{"text": "b", "label": "spam"}\n'
    )
    assert load_file(jsonl).texts == ("a", "b")


def test_quoted_csv_cells_with_commas_quotes_and_newlines(tmp_path):
    content = 'text,label\n"Hi, Bob\nsee you at 5",ham\n"Say ""WIN"", now",spam\n"multi\r\nline\r\n",ham\n'
    ds = load_file(write(tmp_path, "mail.csv", content))
    assert ds.texts == ("Hi, Bob\nsee you at 5", 'Say "WIN", now', "multi\r\nline\r\n")
    assert ds.labels.tolist() == [0, 1, 0]


def test_unicode_text_survives(tmp_path):
    content = "text,label\nCafé ☕ 你好 😀,ham\nWIN €€€,spam\n"
    assert load_file(write(tmp_path, "mail.csv", content)).texts == ("Café ☕ 你好 😀", "WIN €€€")


def test_blank_lines_are_skipped(tmp_path):
    content = "\ntext,label\n\nhello,ham\n,\n\nWIN,spam\n"
    assert load_file(write(tmp_path, "mail.csv", content)).texts == ("hello", "WIN")


def test_a_very_long_cell_loads(tmp_path):
    body = "word " * 60_000  # 300,000 characters: more than the csv module's default field limit
    content = f'text,label\n"{body}",ham\nshort,spam\n'
    ds = load_file(write(tmp_path, "mail.csv", content))
    assert ds.texts[0] == body


def test_encoding_parameter_fixes_latin1(tmp_path):
    path = write(tmp_path, "mail.csv", "text,label\ncaf\xe9,ham\nWIN,spam\n".encode("latin-1"))
    message = load_error(path, encoding="utf-8")
    assert "is not valid utf-8" in message
    assert "0xe9" in message
    ds = load_file(path, encoding="latin-1")
    assert ds.texts == ("café", "WIN")


# --- bad input: each one clear sentence ---------------------------------------------------------


def test_missing_file(tmp_path):
    assert "No such file" in load_error(tmp_path / "nope.csv")


def test_a_folder(tmp_path):
    assert "is a folder, not a data file" in load_error(tmp_path)


@pytest.mark.parametrize("content", ["", "   \n\t\n  ", "\ufeff"])
def test_empty_or_whitespace_file(tmp_path, content):
    assert "is empty" in load_error(write(tmp_path, "mail.csv", content))


def test_empty_gzip_file(tmp_path):
    assert "is empty" in load_error(write(tmp_path, "mail.csv.gz", gzip.compress(b"")))


def test_header_only(tmp_path):
    assert "header line but no data rows" in load_error(write(tmp_path, "mail.csv", "text,label\n"))


def test_only_empty_cells(tmp_path):
    assert "only empty cells" in load_error(write(tmp_path, "mail.csv", ",\n , \n"))


def test_named_column_missing(tmp_path):
    message = load_error(write(tmp_path, "mail.csv", SIMPLE_CSV), text_column="body")
    assert "has no column 'body'" in message
    assert "its columns are: message, label" in message


def test_named_label_column_missing(tmp_path):
    message = load_error(write(tmp_path, "mail.csv", SIMPLE_CSV), label_column="verdict")
    assert "has no column 'verdict'" in message


def test_ambiguous_text_columns(tmp_path):
    path = write(tmp_path, "mail.csv", "text,message,label\na,b,ham\nc,d,spam\n")
    message = load_error(path)
    assert "several possible text columns (text, message)" in message
    assert "--text-column" in message
    # naming one resolves it
    assert load_file(path, text_column="message").texts == ("b", "d")


def test_ambiguous_label_columns(tmp_path):
    path = write(tmp_path, "mail.csv", "text,label,class\na,ham,ham\nc,spam,spam\n")
    assert "several possible label columns (label, class)" in load_error(path)


def test_no_detectable_text_column(tmp_path):
    message = load_error(write(tmp_path, "mail.csv", "words,label\na,ham\nb,spam\n"))
    assert "Cannot tell which column" in message
    assert "holds the text" in message
    assert "columns: words, label" in message


def test_no_detectable_label_column(tmp_path):
    message = load_error(write(tmp_path, "mail.csv", "text,verdict\na,ham\nb,spam\n"))
    assert "holds the label" in message
    assert "--label-column" in message


def test_text_and_label_columns_must_differ(tmp_path):
    path = write(tmp_path, "mail.csv", "text,label\nham,ham\nspam,spam\n")
    assert "must differ" in load_error(path, text_column="label")


def test_repeated_header_name(tmp_path):
    path = write(tmp_path, "mail.csv", "text,label,text\na,ham,b\nc,spam,d\n")
    assert "repeats the column name(s): 'text'" in load_error(path)


def test_one_class_only(tmp_path):
    path = write(tmp_path, "mail.csv", "text,label\na,spam\nb,spam\n")
    message = load_error(path)
    assert "Only one class ('spam')" in message
    assert "mail.csv" in message


def test_unknown_label_value(tmp_path):
    path = write(tmp_path, "mail.csv", "text,label\na,ham\nb,spam\nc,spma\n")
    message = load_error(path)
    assert "Unknown label value 'spma' in data row 3" in message
    assert "mail.csv" in message


def test_label_outside_given_classes(tmp_path):
    message = load_error(write(tmp_path, "mail.csv", SIMPLE_CSV), classes=["ham", "junk"])
    assert "Unknown label value 'spam' in data row 2" in message
    assert "expected one of: ham, junk" in message


def test_blank_label(tmp_path):
    path = write(tmp_path, "mail.csv", "text,label\na,ham\nb,  \nc,spam\n")
    assert "label column is blank in data row 2" in load_error(path)


def test_missing_label_in_jsonl_is_blank(tmp_path):
    path = write(
        tmp_path, "m.jsonl", '{"text": "a", "label": "ham"}\n{"text": "b"}\n{"text": "c", "label": null}\n'
    )
    assert "blank in data row 2" in load_error(path)


def test_null_label_in_parquet_is_blank(tmp_path):
    path = write_parquet(tmp_path, "m.parquet", {"text": ["a", "b", "c"], "label": ["ham", None, "spam"]})
    assert "blank in data row 2" in load_error(path)


def test_non_utf8_bytes_fall_back_with_a_warning_and_a_count(tmp_path):
    path = write(tmp_path, "mail.csv", b"text,label\nhello \x92you\x92,ham\nWIN \xff,spam\nok,ham\n")
    with pytest.warns(DataWarning, match="2 line\\(s\\) were not valid UTF-8 and were read as Windows-1252"):
        ds = load_file(path)
    assert ds.texts == ("hello \u2019you\u2019", "WIN \xff", "ok")


def test_non_utf8_bytes_with_a_strict_encoding(tmp_path):
    path = write(tmp_path, "mail.csv", b"text,label\nhello \xff,ham\nWIN,spam\n")
    message = load_error(path, encoding="utf-8")
    assert "Line 2 of" in message and "is not valid utf-8 (byte 0xff at column 7)" in message
    assert "pass the file's encoding" in message
    assert load_file(path, encoding="latin-1").texts == ("hello ÿ", "WIN")


def test_unknown_encoding(tmp_path):
    assert "Unknown text encoding 'klingon'" in load_error(
        write(tmp_path, "mail.csv", SIMPLE_CSV), encoding="klingon"
    )


def test_truncated_gzip(tmp_path):
    packed = gzip.compress(SIMPLE_CSV.encode() * 50)
    path = write(tmp_path, "mail.csv.gz", packed[: len(packed) // 2])
    assert "damaged or truncated gzip file" in load_error(path)


def test_corrupt_gzip(tmp_path):
    packed = bytearray(gzip.compress(SIMPLE_CSV.encode()))
    packed[12:20] = b"\x00" * 8
    assert "damaged or truncated gzip file" in load_error(write(tmp_path, "mail.csv.gz", bytes(packed)))


@pytest.mark.parametrize(("row", "fields"), [("a,ham,extra", 3), ("lonely", 1)])
def test_ragged_csv_row(tmp_path, row, fields):
    path = write(tmp_path, "mail.csv", f"text,label\nfine,ham\n{row}\nok,spam\n")
    message = load_error(path)
    assert f"Data row 2 of {path} has {fields} fields but the header has 2" in message


def test_invalid_json_line(tmp_path):
    path = write(tmp_path, "m.jsonl", '{"text": "a", "label": "ham"}\n{"text": "b", "label": spam}\n')
    assert f"Line 2 of {path} is not valid JSON" in load_error(path)


@pytest.mark.parametrize("line", ['["a", "ham"]', '"just a string"', "42"])
def test_json_line_not_an_object(tmp_path, line):
    path = write(tmp_path, "m.jsonl", '{"text": "a", "label": "ham"}\n' + line + "\n")
    assert "Line 2" in load_error(path)
    assert "is not a JSON object" in load_error(path)


def test_unreadable_parquet(tmp_path):
    assert "not a readable Parquet file" in load_error(write(tmp_path, "m.parquet", b"PAR1 not really"))


def test_empty_parquet(tmp_path):
    path = write_parquet(
        tmp_path, "m.parquet", {"text": pa.array([], pa.string()), "label": pa.array([], pa.string())}
    )
    assert "has no rows" in load_error(path)


def test_unknown_file_format(tmp_path):
    path = write(tmp_path, "mail.csv", SIMPLE_CSV)
    with pytest.raises(ParameterError) as caught:
        load_file(path, file_format="xlsx")
    message = str(caught.value)
    assert "'file_format' parameter of load_file must be one of" in message
    assert "'xlsx'" in message
    assert isinstance(caught.value, PoisonlabError)
    assert isinstance(caught.value, ValueError)


def test_unknown_file_format_is_checked_before_the_file(tmp_path):
    with pytest.raises(ParameterError, match="file_format"):
        load_file(tmp_path / "missing.csv", file_format="xml")


def test_files_are_streamed_line_by_line_not_read_whole(tmp_path, monkeypatch):
    """A large file is never read into memory at once: the loader reads it line by line."""
    from pathlib import Path

    rows = "".join(
        f"message number {i} with some words,{'spam' if i % 7 == 0 else 'ham'}\n" for i in range(20_000)
    )
    path = write(tmp_path, "big.csv", "text,label\n" + rows)

    def whole_file_reads_are_forbidden(*args, **kwargs):
        raise AssertionError("the loader read the whole file at once")

    monkeypatch.setattr(Path, "read_bytes", whole_file_reads_are_forbidden)
    monkeypatch.setattr(Path, "read_text", whole_file_reads_are_forbidden)
    dataset = load_file(path)
    assert len(dataset) == 20_000 and dataset.counts() == {"ham": 17_142, "spam": 2_858}
