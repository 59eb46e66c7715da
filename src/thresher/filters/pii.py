"""``pii``: redact e-mail addresses, IP addresses and phone numbers, and count them in ``signals``.

Replacements are configurable. The defaults are natural-looking reserved values, as FineWeb's recipe does
for e-mails and IPs (datatrove's PIIFormatter), so that the text still reads as text: ``email@example.com``,
IPv4 ``192.0.2.1`` (RFC 5737 documentation range), IPv6 ``2001:db8::1`` (RFC 3849), phone ``555-0100``
(the North American fictional range). Dolma-style markers are one parameter away
(``email_replacement: "|||EMAIL_ADDRESS|||"``, ...).

Only IP addresses that are globally routable are PII: private, loopback, link-local and reserved addresses
(``192.168.1.1``, ``127.0.0.1``, ``::1``) are left as they are, as datatrove does.

Everything is linear time: each match attempt has a bounded length, or starts at a literal ``@`` / ``:``
and consumes only what follows it (one way to split it), and the backwards reads from there are bounded
(64 / 5 characters), so no input (10 MB of ``@``, digits, dots, colons) costs more than a constant per
character (tests/test_pii.py runs such lines).
"""

from __future__ import annotations

import ipaddress
import re
from typing import ClassVar

from thresher.document import Document
from thresher.steps import MapStep

# E-mails are found from their "@": the regex starts with a literal, so the engine jumps from one "@" to
# the next at C speed and text without "@" costs nothing. The domain: dot-separated labels (each
# iteration begins with a dot, so there is one way to split), then an alphabetic top-level label; the end
# check is ASCII, so an address glued to non-ASCII text (mojibake, CJK) still matches. The local part is
# then read backwards from the "@" (at most 64 characters, RFC 5321): word characters and ". + % * -"
# ("*" for obfuscated info***@example.com; no apostrophe: in page text it is a quote, 'a@b.com', far
# more often than part of a name).
_AT_DOMAIN = re.compile(r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.([A-Za-z]{2,24})(?![A-Za-z0-9-])")
_LOCAL_REVERSED = re.compile(r"[\w.+%*-]{1,65}")
_MAX_LOCAL = 64
# "logo@2x.png" is an image name, not an address
_NOT_TLDS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "bmp", "ico", "js", "css", "tif", "tiff"})

# A leading lookahead on the first character lets the regex engine skip non-candidates with its fast
# character-set scan (about 3-9x faster on page text than starting with the lookbehind).
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
# Not part of a longer dotted number (1.2.3.4.5, v3.0.2.3912): bounded length, constant work per position.
# A letter may follow ("1.1.1.1Free DNS": words glued by text extraction); a digit or ".digit" may not.
_IPV4 = re.compile(rf"(?=\d)(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?!\d|\.\d)")
# Candidate IPv6 (at most 8 groups, bounded length), checked by the ipaddress module afterwards. Found
# from its first colon, like e-mails from their "@" (a literal first character is a fast scan; hex
# letters a-f are everywhere in text): the colon part here, the first group (0-4 hex digits, not glued
# to a word, colon or dot) read backwards in Python.
_IPV6_TAIL = re.compile(r":[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){1,6}(?![\w:])")
_HEX_REVERSED = re.compile(r"[0-9A-Fa-f]{0,5}")
_NOT_BEFORE_IPV6 = re.compile(r"[\w:.]")

# Phone numbers, three bounded shapes (separators required between groups, so a group split is unique):
#  international "+CC ..." (or compact E.164 "+4930123456"), North American "(555) 123-4567" /
#  "555-123-4567" / "+1 555 123 4567", and national numbers with a trunk 0 ("020 7946 0958",
#  "030/1234567", "01 23 45 67 89"). Bare digit runs are not phones (too many ids and years).
_PHONE = re.compile(
    r"(?=[+(\d])(?<![\w+.\-/])(?:"
    r"\+[1-9]\d{6,14}"
    r"|\+[1-9]\d{0,2}[ .\-]?(?:\(0\)[ .\-]?)?\(?\d{1,5}\)?(?:[ .\-]\d{1,6}){1,5}"
    r"|(?:1[ .\-])?(?:\([2-9]\d{2}\)[ .\-]?|[2-9]\d{2}[ .\-])\d{3}[ .\-]\d{4}"
    r"|\(?0\d{1,4}\)?[ /.\-]\d{2,8}(?:[ .\-]\d{2,4}){0,3}"
    r")(?![\w]|[.\-/]\d)"
)
_PHONE_SEPARATORS = re.compile(r"[ .\-]")


def _email_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each e-mail address, in order, not overlapping."""
    spans: list[tuple[int, int]] = []
    prev_end = 0
    for match in _AT_DOMAIN.finditer(text):
        if match.group(1).lower() in _NOT_TLDS:
            continue
        at = match.start()
        window_start = max(at - _MAX_LOCAL - 1, prev_end)
        local = _LOCAL_REVERSED.match(text[window_start:at][::-1])
        # a run of 65 characters is longer than any local part (and may go on further back): not an address
        if local is None or local.end() > _MAX_LOCAL:
            continue
        spans.append((at - local.end(), match.end()))
        prev_end = match.end()
    return spans


def _ipv6_candidates(text: str) -> list[tuple[int, int]]:
    """(start, end) of each IPv6-shaped string (not yet validated), in order."""
    spans: list[tuple[int, int]] = []
    for match in _IPV6_TAIL.finditer(text):
        colon = match.start()
        head = _HEX_REVERSED.match(text[max(0, colon - 5):colon][::-1]).end()
        start = colon - head
        if head > 4 or (start > 0 and _NOT_BEFORE_IPV6.match(text[start - 1])):
            continue
        spans.append((start, match.end()))
    return spans


def _replace_spans(text: str, spans: list[tuple[int, int]], replacement: str) -> str:
    pieces, last = [], 0
    for start, end in spans:
        pieces += (text[last:start], replacement)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _phone_ok(number: str) -> bool:
    digits = sum(ch.isdigit() for ch in number)
    if number.startswith("+"):
        return 8 <= digits <= 15
    if number.lstrip("(").startswith("0"):
        # national format: 9-12 digits and one separator kind, so "01.02.2019 10" (a date and an hour) is not one
        return 9 <= digits <= 12 and len(set(_PHONE_SEPARATORS.findall(number))) <= 1
    return digits in (10, 11)


class PIIRedact(MapStep):
    """Replace e-mails, IP addresses and phone numbers; ``signals``: ``pii_emails``, ``pii_ips``, ``pii_phones``.

    ``redact: false`` only counts. Each kind can be switched off (``phones: false``: FineWeb redacts only
    e-mails and IPs).
    """

    name: ClassVar[str] = "pii"
    SIGNALS: ClassVar[dict] = {"pii_emails": int, "pii_ips": int, "pii_phones": int}

    def __init__(self, emails: bool = True, ips: bool = True, phones: bool = True, redact: bool = True,
                 email_replacement: str = "email@example.com", ip_replacement: str = "192.0.2.1",
                 ipv6_replacement: str = "2001:db8::1", phone_replacement: str = "555-0100",
                 only_global_ips: bool = True) -> None:
        self.emails, self.ips, self.phones, self.redact = emails, ips, phones, redact
        self.email_replacement = email_replacement
        self.ip_replacement = ip_replacement
        self.ipv6_replacement = ipv6_replacement
        self.phone_replacement = phone_replacement
        self.only_global_ips = only_global_ips

    def _ip_ok(self, candidate: str) -> bool:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            return False
        return address.is_global or not self.only_global_ips

    def redact_text(self, text: str) -> tuple[str, dict[str, int]]:
        """The text with PII replaced (unchanged when ``redact`` is off) and the counts per kind."""
        counts = {"pii_emails": 0, "pii_ips": 0, "pii_phones": 0}

        def sub(pattern: re.Pattern, text: str, key: str, ok, replacement: str) -> str:
            def repl(match: re.Match) -> str:
                if not ok(match):
                    return match.group(0)
                counts[key] += 1
                return replacement if self.redact else match.group(0)
            return pattern.sub(repl, text)

        # Order matters: e-mails first (their domains may hold digits), then IPs, then phones, so a number
        # is counted once, as the most specific kind.
        if self.emails and "@" in text:
            spans = _email_spans(text)
            counts["pii_emails"] = len(spans)
            if spans and self.redact:
                text = _replace_spans(text, spans, self.email_replacement)
        if self.ips:
            if "." in text:
                text = sub(_IPV4, text, "pii_ips", lambda m: self._ip_ok(m.group(0)), self.ip_replacement)
            if ":" in text:
                spans = [(a, b) for a, b in _ipv6_candidates(text) if self._ip_ok(text[a:b])]
                counts["pii_ips"] += len(spans)
                if spans and self.redact:
                    text = _replace_spans(text, spans, self.ipv6_replacement)
        if self.phones:
            text = sub(_PHONE, text, "pii_phones", lambda m: _phone_ok(m.group(0)), self.phone_replacement)
        return text, counts

    def map(self, doc: Document) -> Document:
        doc.text, counts = self.redact_text(doc.text)
        doc.signals.update(counts)
        return doc
