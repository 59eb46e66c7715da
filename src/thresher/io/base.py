"""What every reader shares: the shard, the read error, the size limits, and ``Decoded``, the bounded byte
stream the readers parse.

Readers import this module and ``fs``/``http``, never each other, so ``io/`` has no import cycles.

``Decoded`` is why memory stays bounded whatever the input: it decompresses (gzip, zstd, lz4) in pieces of
at most ``CHUNK`` bytes, hands out lines and blocks of a bounded size, and knows the file offset of the
compression frame (gzip member, zstd frame) each byte came from. Damage inside a frame, or a frame that
decompresses far beyond any real text (a decompression bomb), raises ``Damaged``; ``recover()`` then
skips to the next frame, and says how many bytes it skipped, so that no byte is lost without a word.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import IO, Any

import zstandard

from thresher.io import fs

HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml+xhtml")

CHUNK = 1 << 16            # raw bytes read at once, and the most bytes one decompression call may return
ZSTD_INPUT = 4096          # zstd input fed at once (zstd has no output bound per call: ~128 KB per 3 bytes)
RATIO_FLOOR = 64 << 20     # a frame is judged by its ratio only past this many decompressed bytes (time, not
                           # memory: the size caps bound memory; this stops a bomb from costing minutes)
MAGIC = {"gzip": b"\x1f\x8b\x08", "zstd": b"\x28\xb5\x2f\xfd", "lz4": b"\x04\x22\x4d\x18"}


class ReadError(Exception):
    """A record that could not be read. ``source`` is ``path:offset``; the run logs it and carries on."""

    def __init__(self, source: str, message: str):
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


OnError = Callable[[ReadError], None]


class RecordError(ValueError):
    """One record is bad (its header, JSON, encoding, size): the reader reports it and reads on."""


class Damaged(Exception):
    """The compressed stream cannot be decoded further at this frame (corrupt, truncated, or a bomb)."""


@dataclass(frozen=True)
class Shard:
    id: str          # "00000", "00001", ... in input order: also the output file name
    path: str        # the file as found
    name: str        # the file relative to its input argument: ids derived from it are machine-independent
    format: str
    start: int = 0
    end: int | None = None   # None: to the end of the file

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shard:
        return cls(**data)


@dataclass(frozen=True)
class Limits:
    """Size caps applied while reading (the ``reader:`` options of a pipeline, in MB). A record or line over
    its cap is skipped, streaming, with an error naming its size; it is never held in memory whole."""

    record_bytes: int = 64 << 20   # a WARC/ARC record's block, a decoded HTTP body, an .html/.txt file
    line_bytes: int = 64 << 20     # a JSONL line
    header_bytes: int = 64 << 10   # a WARC/ARC record's header
    ratio: int = 100               # decompressed / compressed bytes of one frame (gzip member, zstd frame)

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Limits:
        return cls(record_bytes=int(float(options.get("max_record_mb", 64)) * 2**20),
                   line_bytes=int(float(options.get("max_line_mb", 64)) * 2**20),
                   ratio=int(options.get("max_ratio", 100)))


# Every option a reader understands; the pipeline loader refuses others (a typo must not pass silently).
READER_OPTIONS = {"text_field", "id_field", "url_field", "max_record_mb", "max_line_mb", "max_ratio"}


def codec_of(path: str) -> str | None:
    lower = path.lower()
    return "gzip" if lower.endswith(".gz") else "zstd" if lower.endswith(".zst") else \
        "lz4" if lower.endswith(".lz4") else None


def open_bytes(path: str) -> IO[bytes]:
    """Open a possibly compressed file for reading bytes (gzip and zstd by extension). For thresher's own
    files (the run directory); inputs go through ``Decoded``."""
    codec = codec_of(path)
    if codec == "gzip":
        return fs.open_gzip(path)
    if codec == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(fs.open_input(path), read_across_frames=True,
                                                            closefd=True)
        return io.BufferedReader(reader, buffer_size=1 << 20)  # adds readline / line iteration
    return fs.open_input(path)


_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub(text: str) -> str:
    """Replace lone surrogates (valid in JSON escapes, invalid in UTF-8) by U+FFFD, so the text can be
    written. (A valid pair of escapes is one character once parsed: any surrogate left is a lone one.)"""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)


class Decoded:
    """A file's decompressed bytes from ``start``, read in bounded pieces.

    Position of the next unread byte: ``frame`` (file offset where its compression frame starts; for a plain
    file, ``start``) and ``frame_pos`` (decompressed bytes into that frame); ``pos`` counts all decompressed
    bytes consumed. ``offset()`` writes a position for error messages and sources: the file offset for a
    plain file, the frame's offset for a record at a frame start, ``FRAME+N`` inside a frame.
    """

    def __init__(self, path: str, start: int = 0, ratio: int = 100):
        self.path, self.codec, self.ratio = path, codec_of(path), ratio
        self.size = fs.size(path)
        self._raw = fs.open_input(path)
        self._raw.seek(start)
        self._raw_pos = start           # file offset just past the raw bytes read so far
        self._pending = b""             # raw bytes read but not yet given to a decoder
        self._buf, self._off = b"", 0   # decompressed bytes of the current frame, and how far they are read
        self.frame, self.frame_pos, self.pos = start, 0, 0
        self._dec: Any = None           # the current frame's decoder; None between frames
        self._frame_in = self._frame_out = 0
        self._lz4 = None
        if self.codec == "lz4":  # no frame offsets for lz4: one stream from ``start``
            from fastwarc.stream_io import Lz4Reader

            self._lz4 = Lz4Reader(self._raw)

    def __enter__(self) -> Decoded:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._raw.close()

    @property
    def at(self) -> int:
        """The file offset that shards are cut at: the frame for compressed files, the byte for plain ones."""
        return self.frame + self.frame_pos if self.codec is None else self.frame

    def offset(self) -> str:
        if self.codec is None:
            return str(self.frame + self.frame_pos)
        return str(self.frame) if self.frame_pos == 0 else f"{self.frame}+{self.frame_pos}"

    # -- filling the buffer -------------------------------------------------------------------------------
    def _take_raw(self, n: int) -> bytes:
        if self._pending:
            data, self._pending = self._pending[:n], self._pending[n:]
            return data
        data = self._raw.read(n)
        self._raw_pos += len(data)
        return data

    def _fill(self) -> bool:
        """Replace the (fully read) buffer with the next decompressed piece; False at the end of the file."""
        self._buf, self._off = b"", 0
        if self.codec is None or self._lz4 is not None:
            self._buf = self._read_plain()
            return bool(self._buf)
        while not self._buf:
            if self._dec is None:
                if not self._pending:
                    self._pending = self._raw.read(CHUNK)
                    self._raw_pos += len(self._pending)
                if not self._pending:
                    return False
                self.frame = self._raw_pos - len(self._pending)
                self.frame_pos = self._frame_in = self._frame_out = 0
                if not self._pending.startswith(MAGIC[self.codec][: len(self._pending)]):
                    raise Damaged(f"not {self.codec} data (no {self.codec} header)")
                self._dec = zlib.decompressobj(31) if self.codec == "gzip" else \
                    zstandard.ZstdDecompressor().decompressobj()
            self._buf = self._decode_step()
        return True

    def _read_plain(self) -> bytes:
        """The next piece of a file without frames (plain, or lz4 decoded as one stream)."""
        if self._lz4 is None:
            data = self._raw.read(CHUNK)
            self._raw_pos += len(data)
            return data
        try:
            return self._lz4.read(CHUNK)
        except OSError as exc:
            raise Damaged(f"lz4 data cannot be decoded: {exc}") from None

    def _decode_step(self) -> bytes:
        dec = self._dec
        try:
            if self.codec == "gzip":
                data = dec.unconsumed_tail or self._take_raw(CHUNK)
                if not data:
                    raise Damaged(f"file ends inside a {self.codec} frame (truncated)")
                out = dec.decompress(data, CHUNK)
                self._frame_in += len(data) - len(dec.unconsumed_tail) - len(dec.unused_data)
            else:
                data = self._take_raw(ZSTD_INPUT)
                if not data:
                    raise Damaged(f"file ends inside a {self.codec} frame (truncated)")
                out = dec.decompress(data)
                self._frame_in += len(data) - len(dec.unused_data)
        except (zlib.error, zstandard.ZstdError) as exc:
            raise Damaged(f"{self.codec} data cannot be decoded: {exc}") from None
        self._frame_out += len(out)
        if self._frame_out > RATIO_FLOOR and self._frame_out > self.ratio * self._frame_in:
            raise Damaged(f"decompresses to over {self.ratio} times its size (a decompression bomb?); "
                          f"raise the reader's max_ratio if this is real data")
        if dec.eof:
            self._pending = dec.unused_data + self._pending
            self._dec = None
        return out

    def _ready(self) -> bool:
        """True if an unread byte is in the buffer (filling it, and moving to the next frame, if needed)."""
        return self._off < len(self._buf) or self._fill()

    def _consume(self, n: int) -> bytes:
        piece = self._buf[self._off:self._off + n]
        self._off += len(piece)
        self.frame_pos += len(piece)
        self.pos += len(piece)
        return piece

    # -- what parsers call ----------------------------------------------------------------------------------
    def readline(self, limit: int) -> bytes:
        """The next line with its newline, or the first ``limit`` bytes of a longer one; b"" at the end."""
        parts: list[bytes] = []
        got = 0
        while got < limit and self._ready():
            nl = self._buf.find(b"\n", self._off, self._off + (limit - got))
            piece = self._consume((nl + 1 - self._off) if nl >= 0 else limit - got)
            parts.append(piece)
            got += len(piece)
            if nl >= 0:
                break
        return b"".join(parts)

    def read(self, n: int) -> bytes:
        """``n`` bytes, fewer only at the end of the file."""
        parts: list[bytes] = []
        while n > 0 and self._ready():
            piece = self._consume(n)
            parts.append(piece)
            n -= len(piece)
        return b"".join(parts)

    def skip(self, n: int) -> int:
        """Discard ``n`` bytes without keeping them; returns how many there were."""
        skipped = 0
        while skipped < n and self._ready():
            skipped += len(self._consume(n - skipped))
        return skipped

    def skip_line(self) -> int:
        """Discard the rest of the current line, newline included; returns its length."""
        skipped = 0
        while self._ready():
            nl = self._buf.find(b"\n", self._off)
            skipped += len(self._consume((nl + 1 - self._off) if nl >= 0 else len(self._buf) - self._off))
            if nl >= 0:
                break
        return skipped

    def skip_to_line(self, marker: bytes) -> int:
        """Discard bytes until a line that starts with ``marker``, or a new frame (where writers start
        records); returns how many were discarded."""
        skipped, frame, line_start = 0, self.frame, True
        while self._ready():
            if self.frame != frame and self.frame_pos == 0:
                return skipped
            if line_start and self.peek(len(marker)) == marker:
                return skipped
            nl = self._buf.find(b"\n", self._off)
            skipped += len(self._consume((nl + 1 - self._off) if nl >= 0 else len(self._buf) - self._off))
            line_start = nl >= 0
        return skipped

    def peek(self, n: int) -> bytes:
        """The next ``n`` unread bytes of this frame (fewer at its end), without consuming them."""
        if not self._ready():
            return b""
        while len(self._buf) - self._off < n:
            if self.codec is not None and self._lz4 is None:
                if self._dec is None:
                    break  # the frame has ended: the next one is not looked into
                more = self._decode_step()
            else:
                more = self._read_plain()
                if not more:
                    break
            self._buf, self._off = self._buf[self._off:] + more, 0
        return self._buf[self._off:self._off + n]

    def recover(self, damage: Damaged) -> ReadError:
        """After ``damage``: skip to the next frame start (gzip/zstd) or the end of the file (plain, lz4).
        Returns the error to report: at the damaged frame, with how many bytes were skipped."""
        start, skipped = self._skip_frame()
        return ReadError(f"{self.path}:{start}",
                         f"{damage}; skipped {skipped} bytes of the file from offset {start} to the next frame")

    def _skip_frame(self) -> tuple[str, int]:
        self._buf, self._off, self._dec = b"", 0, None
        start = self.frame
        if self.codec in MAGIC and self._lz4 is None:
            magic = MAGIC[self.codec]
            self._pending = b""
            self._raw.seek(start + 1)
            base, carry = start + 1, b""
            while chunk := self._raw.read(1 << 20):
                window = carry + chunk
                hit = window.find(magic)
                if hit >= 0:
                    found = base - len(carry) + hit
                    self._raw.seek(found)
                    self._raw_pos = self.frame = found
                    self.frame_pos = 0
                    return str(start), found - start
                carry = window[-(len(magic) - 1):]
                base += len(chunk)
        self._raw.seek(0, 2)
        self._raw_pos = self.size
        self._lz4 = None
        self.codec = self.codec if self.codec != "lz4" else None  # nothing more to decode
        self.frame, self.frame_pos = self.size, 0
        return str(start), self.size - start
