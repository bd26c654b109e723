"""Text inside binary content (classes.dex, .class, .pyc, .so, .dll, resources.arsc).

ASCII and UTF-8 strings need nothing: the engine matches bytes, so it finds them in the raw
binary, and their line and column are grep's (count the 0x0A bytes before the match). What a
byte-level match cannot see is UTF-16 (Windows resources, .NET string heaps, Android binary
XML): those runs are decoded here into a separate text view, one run per line.
"""

from __future__ import annotations

import regex

SNIFF_BYTES = 8192
MIN_RUN_CHARS = 8
WINDOW = 4 << 20
# Runs are found by classifying bytes (printable / NUL / other) with bytes.translate and looking
# for the literal class pattern of MIN_RUN_CHARS little-endian characters with bytes.find, then
# extended with an anchored match: fast on any input, where a regex search alone crawls over
# zero-filled data. A big-endian run is the same bytes shifted by one, so it is found too,
# short of its last character, which is added back.
_PRINTABLE = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}
_CLASSES = bytes(
    ord("p") if b in _PRINTABLE else ord("z") if b == 0 else ord("x") for b in range(256)
)
_SIGNATURE = b"pz" * MIN_RUN_CHARS
_UTF16_RUN = regex.compile(rb"(?:[\x20-\x7e\t\n\r]\x00)+")
_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
# Formats that store no UTF-16 text: ELF, Mach-O (both byte orders, 32/64-bit), Java class
# files, Android dex. Skipping them keeps big native libraries fast.
_NO_UTF16 = (
    b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"dex\n",
)  # fmt: skip


def is_binary(data: bytes) -> bool:
    """Binary if a NUL byte occurs near the start (what git and grep use)."""
    return b"\x00" in data[:SNIFF_BYTES]


def utf16_document(data: bytes) -> bytes | None:
    """A UTF-16 text file with a byte-order mark, re-encoded as UTF-8 with its lines intact
    (Windows configuration and PowerShell files); None for anything else."""
    for bom, encoding in _BOMS:
        if data.startswith(bom) and len(data) % 2 == 0:
            text = data[2:].decode(encoding, "replace")
            if text.count("\ufffd") * 20 > len(text) + 20:
                return None
            return text.encode("utf-8", "surrogateescape")
    return None


def utf16_runs(data: bytes) -> bytes:
    """The UTF-16 (either byte order) runs of printable ASCII of at least MIN_RUN_CHARS
    characters, decoded, one per line in file order; empty when there are none."""
    if data.startswith(_NO_UTF16) or b"\x00" not in data:
        return b""
    runs = []
    pos = 0
    while pos < len(data):
        base = pos
        limit = min(len(data), base + WINDOW)
        classes = data[base : limit + len(_SIGNATURE) - 1].translate(_CLASSES)
        pos = limit
        hit = classes.find(_SIGNATURE)
        while hit >= 0 and base + hit < limit:
            start = base + hit
            match = _UTF16_RUN.match(data, start)
            end = match.end() if match else start + len(_SIGNATURE)
            runs.append(_decode_run(data, start, end))
            if end >= limit:
                pos = end
                break
            hit = classes.find(_SIGNATURE, end - base)
    return b"\n".join(runs) + b"\n" if runs else b""


def _decode_run(data: bytes, start: int, end: int) -> bytes:
    run = data[start:end:2]
    if start and data[start - 1] == 0 and end < len(data) and data[end] in _PRINTABLE:
        run += data[end : end + 1]  # big-endian: its last character has no NUL after it
    return run
