"""``pii``: redaction of e-mails, IP addresses and phone numbers, counts in signals, linear-time patterns."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from thresher.document import Document
from thresher.filters.pii import PIIRedact
from thresher.pipeline import make_step


@pytest.fixture(scope="module")
def pii() -> PIIRedact:
    return PIIRedact()


def run(step: PIIRedact, text: str) -> Document:
    return step.map(Document(id="d", text=text))


def test_emails(pii):
    out = run(pii, "Write to john.doe+news@mail.example.co.uk or JANE_O@Example.ORG, not logo@2x.png; "
                   "'quoted@example.com' f***@example.com \u00e2\u009f\u00a8bug-grep@gnu.org\u00e2\u009f\u00a9.")
    assert out.text == ("Write to email@example.com or email@example.com, not logo@2x.png; 'email@example.com' "
                        "email@example.com \u00e2\u009f\u00a8email@example.com\u00e2\u009f\u00a9.")
    assert out.signals == {"pii_emails": 5, "pii_ips": 0, "pii_phones": 0}


@pytest.mark.parametrize("text", ["a@b", "user@localhost", "x@y.z1", "@handle on social", "price 5 @ 3.99",
                                  "go get example.com/mod@v1.3.4", "npm i react-dom@19.2", "http://user:pass@10.1.1.1:80"])
def test_not_emails(pii, text):
    out = run(pii, text)
    assert out.signals["pii_emails"] == 0


def test_ipv4_only_global_addresses(pii):
    text = ("dns 8.8.8.8, lan 192.168.0.1, local 127.0.0.1, 10.0.0.7, bad 256.1.1.1, version 1.2.3.4.5, "
            "v3.0.2.3912, doi 10.2466/pr0.1976.39.2.601, glued 1.1.1.1Free DNS.")
    out = run(pii, text)
    assert out.text == ("dns 192.0.2.1, lan 192.168.0.1, local 127.0.0.1, 10.0.0.7, bad 256.1.1.1, version 1.2.3.4.5, "
                        "v3.0.2.3912, doi 10.2466/pr0.1976.39.2.601, glued 192.0.2.1Free DNS.")
    assert out.signals["pii_ips"] == 2
    everything = PIIRedact(only_global_ips=False)
    assert run(everything, "lan 192.168.0.1 and 127.0.0.1").signals["pii_ips"] == 2


def test_ipv6(pii):
    text = "host 2001:4860:4860::8888 and 2606:4700:4700:0:0:0:0:1111; fe80::1, ::1, 10:30:00, 00:1A:2B:3C:4D:5E, std::vector"
    out = run(pii, text)
    assert out.text == ("host 2001:db8::1 and 2001:db8::1; fe80::1, ::1, 10:30:00, 00:1A:2B:3C:4D:5E, std::vector")
    assert out.signals["pii_ips"] == 2


@pytest.mark.parametrize("phone", [
    "(415) 555-2671", "415-555-2671", "415.555.2671", "+1 415 555 2671", "1-800-555-0199",
    "+44 (0)20 7946 0958", "+44 20 7946 0958", "+4930123456", "+33 1 23 45 67 89",
    "020 7946 0958", "030/12345678", "01 23 45 67 89", "03-1234-5678",
])
def test_phones(pii, phone):
    out = run(pii, f"Call us at {phone} today.")
    assert out.text == "Call us at 555-0100 today.", phone
    assert out.signals["pii_phones"] == 1


@pytest.mark.parametrize("text", [
    "from 2019-2020", "on 01.02.2019 10:30", "ISBN 978-3-16-148410-0", "ISBN 0-306-40615-2",
    "it costs $1,000,000", "pi is 3.14159", "order 12345678901", "06-12-2019", "population 8 000 000",
    "score 3-2 in 90 minutes", "version 10.2.3",
])
def test_not_phones(pii, text):
    out = run(pii, text)
    assert out.signals["pii_phones"] == 0, text
    assert out.text == text


def test_count_only_custom_tokens_and_switches():
    text = "mail a.b@example.com from 8.8.4.4 or call 415-555-2671"
    counted = run(PIIRedact(redact=False), text)
    assert counted.text == text
    assert counted.signals == {"pii_emails": 1, "pii_ips": 1, "pii_phones": 1}
    dolma = PIIRedact(email_replacement="|||EMAIL_ADDRESS|||", ip_replacement="|||IP_ADDRESS|||",
                      phone_replacement="|||PHONE_NUMBER|||")
    assert run(dolma, text).text == "mail |||EMAIL_ADDRESS||| from |||IP_ADDRESS||| or call |||PHONE_NUMBER|||"
    no_phones = run(PIIRedact(phones=False), text)
    assert no_phones.text.endswith("call 415-555-2671") and no_phones.signals["pii_phones"] == 0


def test_registered():
    assert isinstance(make_step("pii", {"phones": False}), PIIRedact)


@pytest.mark.parametrize("text", [
    "", "😀🎉👍🏽 ★★★", "!!! ??? @@@ ... :::", "x\ud800y\udfff me@example.com",
    "English, русский, 日本語, עברית 8.8.8.8", "\x00\x01\x7f",
])
def test_bad_input(pii, text):
    out = run(pii, text)
    assert set(out.signals) == {"pii_emails", "pii_ips", "pii_phones"}


# Adversarial lines, one per pattern family. A backtracking blow-up on a 1 MB line would take hours, so
# finishing inside a generous timeout is the check (no timing assertion). A subprocess keeps a hung regex
# from hanging the test run.
ADVERSARIAL = textwrap.dedent("""
    import sys
    from thresher.filters.pii import PIIRedact
    step = PIIRedact()
    units = ["@", "a", "a@", "a.", "a@a.", "a-", "1", "1.", "1.1.", ":", "f:", "1:",
             "+1 ", "1-", "00 ", "(0", "1.2.3.4 ", "a@b.co "]
    for unit in units:
        text, counts = step.redact_text(unit * (1_000_000 // len(unit)))
        assert len(text) > 0
    # one 10 MB line of page-like text with PII sprinkled in
    block = "Plain words and 1.5 numbers, 2019-2020, here. " * 49 + "Contact me@example.com, 8.8.8.8, 415-555-2671. "
    text, counts = step.redact_text(block * 4_000)   # about 9.3 MB, no newline
    assert counts == {"pii_emails": 4_000, "pii_ips": 4_000, "pii_phones": 4_000}, counts
    print("ok")
""")


def test_adversarial_lines_finish():
    result = subprocess.run([sys.executable, "-c", ADVERSARIAL], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
