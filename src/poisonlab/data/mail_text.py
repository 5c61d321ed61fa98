"""The words of a mail body: HTML to text, HTML sent as ``text/plain``, and blobs that are not words.

A spam filter should learn what a reader sees, so markup must never become tokens: no ``td``,
``nbsp``, ``font`` or ``3d`` (from undecoded quoted-printable ``=3D``), and no runs of base64.
Everything here is plain string work on the standard library's `html.parser`.
"""

from __future__ import annotations

import html
import html.parser
import re
from html.entities import html5

_SKIP_HTML = frozenset({"script", "style", "head", "title"})
_LINE_BREAKS = frozenset(
    {"br", "p", "div", "li", "tr", "table", "ul", "ol", "hr", "h1", "h2", "h3", "h4", "h5", "h6"}
    | {"blockquote", "center", "pre", "form", "dl", "dt", "dd", "body"}
)
_CELLS = frozenset({"td", "th"})

_HTML_TAG = re.compile(
    r"</?(a|b|i|u|p|br|hr|td|tr|th|table|tbody|font|div|span|img|html|head|body|meta|title|style"
    r"|center|li|ul|ol|strong|em|form|input|blockquote|pre|h[1-6])(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
_HTML_START = re.compile(r"\s*<(?:!doctype|html|head|body|table|!--)", re.IGNORECASE)
HTML_TAG_SHARE = 0.05
"""A ``text/plain`` part is HTML when HTML tags make up at least this share of its characters."""

_CHARREF = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_QUOTE = r"[> \t]*"
"""Reply quoting before a line (``> > ``): a quoted signature is still a signature."""
_ARMOR = re.compile(
    rf"^({_QUOTE})-----BEGIN PGP (SIGNATURE|PUBLIC KEY BLOCK|MESSAGE)-----$.*?^\1-----END PGP \2-----$\n?",
    re.MULTILINE | re.DOTALL,
)
_BASE64_LINE = rf"{_QUOTE}[A-Za-z0-9+/]{{40,}}={{0,2}}[ \t]*\n"
_BASE64_RUN = re.compile(
    rf"^(?:{_BASE64_LINE}){{3,}}(?:{_QUOTE}[A-Za-z0-9+/]+={{0,2}}[ \t]*(?:\n|$))?", re.MULTILINE
)


class _TextFromHtml(html.parser.HTMLParser):
    """HTML to plain text with the standard library: keep text, drop scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_HTML:
            self._skipping += 1
        elif tag == "body":  # a <head> or <title> left open ends where the body starts
            self._skipping = 0
            self.parts.append("\n")
        elif tag in _LINE_BREAKS:
            self.parts.append("\n")
        elif tag in _CELLS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_HTML and self._skipping:
            self._skipping -= 1
        elif tag in _LINE_BREAKS:
            self.parts.append("\n")
        elif tag in _CELLS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The visible text of an HTML document, whitespace collapsed per line.

    Block tags end lines and table cells are apart, so words never glue together; scripts,
    styles, the head and comments are dropped; entities are decoded.

    Examples
    --------
    >>> html_to_text("<p>WIN <b>cash</b>&amp;prizes</p><script>x=1</script>")
    'WIN cash&prizes'
    >>> html_to_text("<head><title>x</title><body><table><tr><td>Price</td><td>$5&nbsp;only</td></tr>")
    'Price $5 only'
    """
    parser = _TextFromHtml()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def looks_like_html(text: str) -> bool:
    """Whether a ``text/plain`` part actually holds an HTML document (some spam is sent so).

    It does when it starts with ``<html``, ``<body``, ``<!doctype`` (and the like), or when at
    least two common HTML tags make up `HTML_TAG_SHARE` of its characters. Plain text that
    mentions a tag or two (``<wink>``, a quoted ``'<font'``, a ``<http://...>`` link) does not.

    Examples
    --------
    >>> looks_like_html("<HTML><BODY>WIN cash</BODY></HTML>")
    True
    >>> looks_like_html("The top spam clues were '<font' and '</html>', see <http://x.org> <wink>.")
    False
    """
    if _HTML_START.match(text):
        return True
    tags = [match.end() - match.start() for match in _HTML_TAG.finditer(text)]
    return len(tags) >= 2 and sum(tags) >= HTML_TAG_SHARE * len(text)


def _decode_charref(match: re.Match[str]) -> str:
    reference = match.group(0)
    if reference[1] == "#":
        return html.unescape(reference)
    return html5.get(reference[1:], reference)  # whole names only: "&notice;" is not "¬ice;"


def _drop_tag(match: re.Match[str]) -> str:
    name = match.group(1).lower()
    return "\n" if name in _LINE_BREAKS else " " if name in _CELLS else ""


def plain_text(text: str) -> str:
    """The words of a ``text/plain`` part: HTML converted, stray tags dropped, references decoded.

    A part that `looks_like_html` goes through `html_to_text`. Otherwise the text is kept as
    written but for common HTML tags (``<br>``, ``<a href=...>``, ``</font>``: markup some
    senders mix into plain text), which are dropped, and complete character references
    (``&nbsp;``, ``&amp;``, ``&#233;``), which are decoded. Other angle brackets (``<wink>``,
    ``<http://...>``) stay.

    Examples
    --------
    >>> plain_text("AT&T: fish &amp; chips&nbsp;for R&D &notice; <wink>")
    'AT&T: fish & chips\\xa0for R&D &notice; <wink>'
    >>> plain_text("Join us <a href='http://x.org'>here</a><br>today, " + "plain words " * 20)[:24]
    'Join us here\\ntoday, plai'
    >>> plain_text("<html><body><font size=2>WIN</font><br>now</body></html>")
    'WIN\\nnow'
    """
    if looks_like_html(text):
        return html_to_text(text)
    return _CHARREF.sub(_decode_charref, _HTML_TAG.sub(_drop_tag, text))


def drop_blobs(text: str) -> str:
    """`text` without PGP armour blocks and runs of three or more base64 lines (40+ characters each).

    Such blocks are encoded data, never words: a signature would add dozens of one-off tokens.

    Examples
    --------
    >>> blob = "QUJD" * 16 + "\\n"
    >>> drop_blobs("hello\\n" + blob * 3 + "QUI=\\nbye")
    'hello\\nbye'
    >>> drop_blobs("hi\\n-----BEGIN PGP SIGNATURE-----\\niQA\\n-----END PGP SIGNATURE-----\\nbye")
    'hi\\nbye'
    """
    return _BASE64_RUN.sub("", _ARMOR.sub("", text))
