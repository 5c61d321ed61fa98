"""Mail bodies become the words a reader sees: no tags, entities, quoted-printable or base64 as tokens."""

from __future__ import annotations

import base64
import re
from email import message_from_bytes

import pytest

from poisonlab.data.mail import EmailLoadReport, message_text
from poisonlab.data.mail_text import drop_blobs, html_to_text, looks_like_html, plain_text

MARKUP_TOKENS = re.compile(r"(?i)\b(?:td|tr|nbsp|font|br|equiv|3d|table|href)\b")


def test_html_to_text_separates_cells_and_blocks_and_decodes_entities():
    markup = (
        '<html><head><meta http-equiv="Content-Type" content="text/html"><title>t</title></head>'
        "<body><table><tr><td>Price</td><td>$5&nbsp;only</td></tr><tr><td>call</td></tr></table>"
        "<font face=arial>WIN</font><br>now<p>bye</p></body></html>"
    )
    assert html_to_text(markup) == "Price $5 only\ncall\nWIN\nnow\nbye"


def test_html_to_text_keeps_the_body_after_a_head_left_open():
    assert html_to_text("<html><head><title>Offer<body><font size=3>cheap pills</font>") == "cheap pills"


@pytest.mark.parametrize(
    "text",
    [
        "<HTML>\n<BODY>OWN YOUR CASINO</BODY></HTML>",
        "  <!DOCTYPE html><p>hi</p>",
        "WIN <font color=red>now</font><br>click <a href='http://x'>here</a><br>",
    ],
)
def test_html_sent_as_plain_text_is_recognised(text):
    assert looks_like_html(text)
    assert not MARKUP_TOKENS.search(plain_text(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I agree <wink>. See <http://example.org/a> or <mailto:x@example.org>. " * 5,) * 2,
        (
            "Clues: '<font' 266 and '</html>' 329 in a long thread " + "words " * 40,
            "Clues: '<font' 266 and '' 329 in a long thread " + "words " * 40,
        ),
        (
            "a long signed message " * 50 + '\n-- Eugen* Leitl <a href="http://leitl.org">leitl</a>\n',
            "a long signed message " * 50 + "\n-- Eugen* Leitl leitl\n",
        ),
        (
            "Price list:<br>pills<td>$5</td> and " + "more words " * 30,
            "Price list:\npills $5  and " + "more words " * 30,
        ),
    ],
)
def test_plain_text_keeps_its_words_and_drops_only_whole_html_tags(text, expected):
    assert not looks_like_html(text)
    assert plain_text(text) == expected


def test_plain_text_decodes_complete_character_references_only():
    assert plain_text("fish &amp; chips&nbsp;&#8220;ok&#8221; AT&T R&D &notanentity;") == (
        "fish & chips\xa0\u201cok\u201d AT&T R&D &notanentity;"
    )


def test_drop_blobs_removes_pgp_armour_and_base64_runs_but_not_rulers_or_urls():
    blob = base64.encodebytes(bytes(range(256))).decode()
    kept = "=" * 60 + "\nhttp://example.org/" + "a" * 60 + "\n" + "-" * 70 + "\n"
    signature = (
        "-----BEGIN PGP SIGNATURE-----\nVersion: GnuPG\n\niD8DBQE9\n=PNJx\n-----END PGP SIGNATURE-----\n"
    )
    assert drop_blobs("hello\n" + blob + kept + signature + "bye") == "hello\n" + kept + "bye"


LOST_HEADER = (
    b"Subject: Your Membership Exchange\nMIME-Version: 1.0\n\nThis is a multi-part message in MIME format.\n"
    b"--=_b 42\nContent-Type: text/html; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
    b'<html><head><meta http-equiv=3D"Content-Type"></head><body><table><tr><td>Join=\n'
    b"&nbsp;us</td></tr></table></body></html>\n"
    b"--=_b 42\nContent-Type: application/octet-stream; name=x.jpg\nContent-Transfer-Encoding: base64\n\n"
    + base64.encodebytes(bytes(range(256)) * 4)
    + b"--=_b 42--\n"
)


def test_a_body_of_mime_parts_without_a_content_type_header_is_read_as_multipart():
    report = EmailLoadReport()
    text = message_text(message_from_bytes(LOST_HEADER), report)
    assert text == "Your Membership Exchange\n\nJoin us"
    assert report.attachments == 1 and report.html_only == 1


def test_a_declared_plain_body_that_quotes_a_boundary_is_left_alone():
    raw = b"Subject: fwd\nContent-Type: text/plain\n\nLook:\n--xyz\nContent-Type: text/html\n\n<b>x</b>\n"
    raw += b"--xyz--\n"
    assert message_text(message_from_bytes(raw), EmailLoadReport()).endswith("--xyz--")


def test_prose_that_quotes_a_mime_message_is_not_re_read_as_parts():
    # A mailing-list question pasting a MIME message (easy-ham-1/01751 of the SpamAssassin corpus).
    raw = (
        b"Subject: stack.pop() ate my multipart message\n\nMultipart messages come out empty, for instance:\n"
        b'Content-type: multipart/alternative; boundary="snot"\n\n--snot\nContent-type: text/plain\n\n'
        b"Hi there.\n--snot\nContent-type: text/html\n\n<pre>Hi there.</pre>\n--snot--\n"
    )
    text = message_text(message_from_bytes(raw), EmailLoadReport())
    assert text.startswith("stack.pop() ate my multipart message\n\nMultipart messages come out empty")
    assert "--snot--" in text
