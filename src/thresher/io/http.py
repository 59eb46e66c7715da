"""HTTP responses as stored in crawl archives: status, headers, body (de-chunked, content-decoded).

Shared by the WARC and ARC readers. Tolerant on purpose: crawlers often kept a ``Transfer-Encoding`` or
``Content-Encoding`` header for a body they had already decoded, and one such record must not cost the
rest of a file.
"""

from __future__ import annotations

import re
import zlib

from thresher.io.base import RecordError

_STATUS = re.compile(rb"^HTTP/\d(?:\.\d)?\s+(\d{3})")


def decode_content(body: bytes, content_encoding: str | None, limit: int = 64 << 20) -> bytes:
    """Undo gzip/deflate/brotli content encoding, keeping what decodes of a damaged stream. A body that
    decodes to more than ``limit`` bytes (a decompression bomb) raises RecordError before it is held whole."""
    encoding = (content_encoding or "").strip().lower()
    if not body:
        return body
    if encoding == "br":
        import brotli  # a dependency of fastwarc, so always there

        # brotli has no bound on one call's output: small inputs keep each piece small
        return _decode(body, brotli.Decompressor().process, brotli.error, limit, step=1 << 10)
    if encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 47 if encoding != "deflate" else 15  # 47: gzip or zlib header, auto-detected
        decoder = zlib.decompressobj(wbits)

        def inflate(data: bytes) -> bytes:  # at most 64 KB out per call, whatever the ratio
            out = [decoder.decompress(data, 1 << 16)]
            while decoder.unconsumed_tail and sum(map(len, out)) <= limit:
                out.append(decoder.decompress(decoder.unconsumed_tail, 1 << 16))
            return b"".join(out)

        return _decode(body, inflate, zlib.error, limit)
    return body


def _decode(body: bytes, decompress, error: type[Exception], limit: int, step: int = 1 << 16) -> bytes:
    """``body`` through a streaming decompressor, ``step`` bytes at a time; what decoded before an error is
    kept, and a body that does not decode at all is returned as it is (the header lied)."""
    out = []
    size = 0
    try:
        for i in range(0, len(body), step):
            piece = decompress(body[i:i + step])
            size += len(piece)
            if size > limit:
                raise RecordError(f"HTTP body decodes to over {limit} bytes (the max_record_mb cap)")
            out.append(piece)
    except error:
        if not out:
            return body
    return b"".join(out)


def dechunk(body: bytes) -> bytes:
    """Undo chunked transfer encoding; raises ValueError if the body is not chunked after all."""
    out, pos = bytearray(), 0
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            return bytes(out) + body[pos:]
        size = int(body[pos:eol].split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return bytes(out)
        out += body[eol + 2: eol + 2 + size]
        pos = eol + 2 + size + 2


def parse_response(block: bytes, limit: int = 64 << 20) -> tuple[int, dict[str, str], bytes]:
    """(status, lower-cased headers, decoded body of at most ``limit`` bytes) of a stored HTTP response."""
    sep = block.find(b"\r\n\r\n")
    if sep >= 0:
        head, body = block[:sep], block[sep + 4:]
    elif b"\n\n" in block:
        head, body = block.split(b"\n\n", 1)
    else:
        head, body = block, b""
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    match = _STATUS.match(lines[0])
    status = int(match.group(1)) if match else 200
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(b":")
        headers[key.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        try:
            body = dechunk(body)
        except ValueError:
            pass  # stored already de-chunked, header kept
    return status, headers, decode_content(body, headers.get("content-encoding"), limit)


def media_type(headers: dict[str, str]) -> tuple[str, str | None]:
    """(media type, charset or None) from a Content-Type header."""
    value = headers.get("content-type", "")
    ctype = value.split(";")[0].strip().lower()
    match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", value, re.I)
    return ctype, match.group(1).lower() if match else None
