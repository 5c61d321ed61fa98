"""E-mail input: folders of .eml, maildirs, mbox files, archives; odd messages never fatal."""

from __future__ import annotations

import io
import mailbox
import tarfile
import warnings
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest

from poisonlab import DataError, DataWarning
from poisonlab.cli import main
from poisonlab.data import load_dataset, load_email
from poisonlab.data import mail as mail_module
from poisonlab.data.mail import html_to_text, is_email_source, read_label_mapping


def make_message(subject: str, body: str, *, label: str | None = None, html: str | None = None) -> bytes:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "a@example.org"
    message["Message-ID"] = f"<{abs(hash((subject, body)))}@example.org>"
    if label is not None:
        message["X-Poisonlab-Label"] = label
    if html is not None and not body:
        message.set_content(html, subtype="html")
    else:
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
    return message.as_bytes()


def write_eml_folders(root: Path, messages: dict[str, list[bytes]]) -> Path:
    for label, items in messages.items():
        (root / label).mkdir(parents=True, exist_ok=True)
        for i, raw in enumerate(items):
            (root / label / f"{i}.eml").write_bytes(raw)
    return root


def corpus(root: Path) -> Path:
    return write_eml_folders(
        root,
        {
            "spam": [make_message("WIN", "cheap pills now"), make_message("Offer", "free prize claim")],
            "ham": [make_message("lunch", "see you at noon"), make_message("notes", "report attached")],
        },
    )


def test_folders_name_the_labels(tmp_path):
    data, report = load_email(corpus(tmp_path))
    assert data.classes == ("ham", "spam")
    assert data.counts() == {"ham": 2, "spam": 2}
    assert report.messages == 4 and report.problems() == {}
    assert "spam/0.eml" in data.ids
    row = data.ids.index("spam/0.eml")
    assert data.texts[row] == "WIN\n\ncheap pills now"


def test_plain_text_preferred_over_html_and_html_converted(tmp_path):
    both = make_message("s", "plain words", html="<p>html words</p>")
    html_only = make_message(
        "t", "", html="<html><style>p{}</style><p>Hello <b>there</b>&amp; you</p></html>"
    )
    data, report = load_email(write_eml_folders(tmp_path, {"ham": [both], "spam": [html_only]}))
    texts = dict(zip(data.ids, data.texts))
    assert texts["ham/0.eml"].endswith("plain words")
    assert "html words" not in texts["ham/0.eml"]
    assert texts["spam/0.eml"].endswith("Hello there& you")
    assert report.html_only == 1


def test_attachments_ignored_and_counted(tmp_path):
    message = EmailMessage()
    message["Subject"] = "invoice"
    message.set_content("see attached")
    message.add_attachment(b"%PDF-1.4 binary", maintype="application", subtype="pdf", filename="a.pdf")
    message.add_attachment("a,b\n1,2\n", filename="data.csv")
    data, report = load_email(
        write_eml_folders(tmp_path, {"ham": [message.as_bytes()], "spam": [make_message("x", "y")]})
    )
    assert report.attachments == 2
    assert "PDF" not in data.texts[data.ids.index("ham/0.eml")]


def test_wrong_and_unknown_charsets_fall_back(tmp_path):
    bad = (
        b"Subject: hi\nContent-Type: text/plain; charset=utf-8\n\ncaf\xe9 \x93quoted\x94\n",
        b"Subject: hi\nContent-Type: text/plain; charset=x-klingon\n\nqapla\xe9\n",
    )
    data, report = load_email(
        write_eml_folders(tmp_path, {"ham": list(bad), "spam": [make_message("a", "b")]})
    )
    assert report.charset_fallbacks == 2
    texts = dict(zip(data.ids, data.texts))
    assert texts["ham/0.eml"].endswith("café \u201cquoted\u201d")


def test_malformed_mime_is_read_and_counted(tmp_path):
    broken = (
        b'Subject: broken\nContent-Type: multipart/mixed; boundary="zz"\n\n'
        b"--zz\nContent-Type: text/plain\n\nstill readable\n"  # no closing boundary
    )
    data, report = load_email(
        write_eml_folders(tmp_path, {"ham": [broken], "spam": [make_message("a", "b")]})
    )
    assert report.defects >= 1
    assert "still readable" in data.texts[data.ids.index("ham/0.eml")]


def test_huge_messages_are_truncated_and_counted(tmp_path):
    huge = make_message("big", "word " * 100_000)
    data, report = load_email(
        write_eml_folders(tmp_path, {"ham": [huge], "spam": [make_message("a", "b")]}), max_chars=1_000
    )
    assert report.truncated == 1
    assert len(data.texts[data.ids.index("ham/0.eml")]) == 1_000


def test_mbox_with_label_headers_round_trips(tmp_path):
    path = tmp_path / "export.mbox"
    box = mailbox.mbox(path)
    for subject, body, label in (("a", "cheap pills", "spam"), ("b", "see you", "ham"), ("c", "win", "spam")):
        box.add(make_message(subject, body, label=label))
    box.flush()
    box.close()
    data = load_dataset(path)
    assert data.counts() == {"ham": 1, "spam": 2}
    assert data.ids[0] == "export.mbox#0"


def test_maildirs_under_label_folders(tmp_path):
    for label, body in (("spam", "free money"), ("ham", "meeting moved")):
        box = mailbox.Maildir(tmp_path / label)
        box.add(make_message("s", body))
        box.add(make_message("t", body + " again"))
    data, report = load_email(tmp_path)
    assert data.counts() == {"ham": 2, "spam": 2}
    assert report.messages == 4


def test_mapping_file_wins_over_folders(tmp_path):
    root = corpus(tmp_path / "mail")
    mapping = tmp_path / "labels.csv"
    mapping.write_text("message,label\nspam/0.eml,ham\n")
    data, _ = load_email(root, labels=read_label_mapping(mapping))
    assert data.classes[data.labels[data.ids.index("spam/0.eml")]] == "ham"
    assert load_dataset(root, labels=mapping).counts() == {"ham": 3, "spam": 1}


def test_zip_archive_is_read_in_memory_and_unsafe_names_skipped(tmp_path):
    archive = tmp_path / "mail.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("spam/1.eml", make_message("a", "cheap pills"))
        zipped.writestr("ham/1.eml", make_message("b", "see you"))
        zipped.writestr("../escape/ham/2.eml", make_message("c", "evil"))
        zipped.writestr("/abs/spam/3.eml", make_message("d", "evil"))
    with pytest.warns(DataWarning, match="unsafe names: 2"):
        data = load_dataset(archive)
    assert data.counts() == {"ham": 1, "spam": 1}
    assert not (tmp_path / "escape").exists()


def test_tar_archive(tmp_path):
    archive = tmp_path / "mail.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, raw in (("spam/1.eml", make_message("a", "cheap")), ("ham/1.eml", make_message("b", "hi"))):
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
        evil = tarfile.TarInfo("../../etc/ham/x.eml")
        evil.size = 3
        tar.addfile(evil, io.BytesIO(b"abc"))
    data, report = load_email(archive)
    assert data.counts() == {"ham": 1, "spam": 1}
    assert report.unsafe_names == 1


def test_unreadable_archive_and_missing_labels_are_clear_errors(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"not an archive")
    with pytest.raises(DataError, match="not a readable zip or tar archive"):
        load_email(tmp_path / "bad.zip")
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "1.eml").write_bytes(make_message("a", "b"))
    with pytest.raises(DataError, match="No labelled messages found"):
        load_email(loose)
    with pytest.raises(DataError, match="No such file or folder"):
        load_email(tmp_path / "nowhere")


def test_unlabelled_messages_are_skipped_and_counted(tmp_path):
    root = corpus(tmp_path)
    (root / "stray.eml").write_bytes(make_message("?", "no folder"))
    data, report = load_email(root)
    assert report.unlabelled == 1 and len(data) == 4


def test_html_to_text_and_source_detection(tmp_path):
    assert html_to_text("<div>a</div><div>b <i>c</i></div>") == "a\nb c"
    assert is_email_source(tmp_path) and is_email_source("x.tar.gz") and not is_email_source("x.jsonl")


def test_attack_command_reads_an_email_folder(tmp_path, capsys):
    spam = [make_message(f"offer {i}", f"cheap pills win prize {i}") for i in range(12)]
    ham = [make_message(f"note {i}", f"meeting notes for friday {i}") for i in range(12)]
    root = write_eml_folders(tmp_path / "mail", {"spam": spam, "ham": ham})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code = main(["attack", "label-flip", "--data", str(root), "--n", "2", "--json"])
    assert code == 0, capsys.readouterr().err
    assert '"n_poison": 2' in capsys.readouterr().out


def test_cli_prints_data_warnings_as_one_line(tmp_path, capsys):
    spam = [make_message(f"offer {i}", f"cheap pills win prize {i}") for i in range(12)]
    ham = [make_message(f"note {i}", f"meeting notes for friday {i}") for i in range(12)]
    root = write_eml_folders(tmp_path / "mail", {"spam": spam, "ham": ham})
    (root / "ham" / "bad.eml").write_bytes(b"Subject: x\nContent-Type: text/plain; charset=bogus\n\nhi\xff\n")
    code = main(["attack", "label-flip", "--data", str(root), "--n", "2", "--json"])
    err = capsys.readouterr().err
    assert code == 0
    assert err.startswith("poisonlab: warning: ") and "charset fallbacks: 1" in err
    assert err.count("\n") == 1


def test_a_malformed_message_id_never_crashes_a_labelled_load(tmp_path):
    # An empty "Message-ID: <>" (spam-2/00357 of the SpamAssassin corpus) makes the stdlib's typed
    # header parser raise IndexError; a label mapping looks Message-IDs up, so it used to crash.
    archive = tmp_path / "mail.tar"
    broken = b"Message-ID: <>\nSubject: odd\n\ncheap pills\n"
    with tarfile.open(archive, "w") as tar:
        for name, raw in (("a/1.eml", broken), ("a/2.eml", make_message("b", "see you"))):
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    data, _ = load_email(archive, labels={"a/1.eml": "spam", "a/2.eml": "ham", "<>": "ham"})
    assert data.counts() == {"ham": 1, "spam": 1}
    assert data.texts[data.ids.index("mail.tar!a/1.eml")] == "odd\n\ncheap pills"
    by_id, _ = load_email(archive, labels={"<>": "spam", "a/2.eml": "ham"})
    assert by_id.counts() == {"ham": 1, "spam": 1}


TRICKY_MESSAGES = (
    b"Subject: =?iso-8859-1?q?Caf=E9?= =?utf-8?b?4pyT?=\n  folded\nContent-Type: text/plain;\n"
    b' charset="iso-8859-1"\nContent-Transfer-Encoding: Quoted-Printable\n\ncaf=E9 =3D ok\n',
    b"Subject: raw \xe9 8-bit\nContent-Type: TEXT/HTML; CHARSET=latin-1\n\n<p>caf\xe9 &amp; co</p>\n",
    b'Subject: =?bogus?q?x?=\nContent-Type: multipart/alternative; boundary="b"\n\n--b\n'
    b"Content-Type: text/plain; charset*=utf-8''%E2%9C%93\n\nparam 2231\n--b\n"
    b"Content-Type: text/html\nContent-Transfer-Encoding: base64\n\nPGI+aGk8L2I+\n--b--\n",
    b"Subject: =?utf-8?q?broken\nContent-Disposition: attachment; filename=x.txt\n\nnot read\n",
    b'Content-Type: text/plain; charset=""\nContent-Transfer-Encoding: base64 \n\n////\n',
)


@pytest.mark.parametrize("raw", TRICKY_MESSAGES)
def test_fast_parsing_reads_messages_as_the_modern_email_policy_does(raw):
    import email.policy
    from email.parser import BytesParser

    from poisonlab.data.mail import EmailLoadReport, message_text

    fast, modern = EmailLoadReport(), EmailLoadReport()
    expected = message_text(BytesParser(policy=email.policy.default).parsebytes(raw), modern)
    assert message_text(mail_module._PARSER.parsebytes(raw), fast) == expected
    assert fast == modern


def test_txt_message_files_in_label_folders_are_read_and_notes_skipped(tmp_path):
    # The SpamAssassin corpus layout: raw messages named NNNNN.<md5>.txt, starting with an mbox From line.
    mbox_line = b"From a@example.org  Mon Jul 29 11:28:02 2002\n"
    folded = b"Received: from x\n\tby y\nSubject: =?utf-8?q?caf=C3=A9?=\n\nsee you at noon\n"
    write_eml_folders(tmp_path, {"spam": [make_message("WIN", "cheap pills")]})
    (tmp_path / "ham").mkdir()
    (tmp_path / "ham" / "00001.abc.txt").write_bytes(mbox_line + make_message("lunch", "at one"))
    (tmp_path / "ham" / "00002.def.txt").write_bytes(folded.replace(b"\n", b"\r\n"))
    (tmp_path / "ham" / "notes.txt").write_bytes(b"Todo: label these\nthen train\n")
    (tmp_path / "README.txt").write_bytes(b"How this folder was made.\n")
    data, report = load_email(tmp_path)
    assert data.counts() == {"ham": 2, "spam": 1}
    texts = dict(zip(data.ids, data.texts))
    assert texts["ham/00001.abc.txt"] == "lunch\n\nat one"
    assert texts["ham/00002.def.txt"] == "café\n\nsee you at noon"
    assert report.not_mail == 2 and report.problems() == {"not_mail": 2}


def test_non_ascii_labels_round_trip_through_an_mbox_export(tmp_path):
    from poisonlab.data import Dataset
    from poisonlab.data.writers import write_mbox

    target = tmp_path / "export.mbox"
    write_mbox(
        Dataset(["hi there", "WIN &amp; <b>cash</b>"], [0, 1], ("correo légitime", "垃圾 mail")), target, {}
    )
    data, report = load_email(target)
    assert data.classes == ("correo légitime", "垃圾 mail") and report.problems() == {}
    assert data.texts == ("hi there", "WIN &amp; <b>cash</b>")  # poisonlab's own rows come back verbatim
