"""The plain-text fast path never claims what the full sniff would open or warn about."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.sources import formats, strings


def _zip(prefix: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hello")
    return prefix + buffer.getvalue()


def _tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("a.txt")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    return buffer.getvalue()


CONTAINERS = {
    "zip": _zip(),
    "self-extracting zip": _zip(b'#!/bin/sh\nexec unzip "$0"\n' * 40),
    "tar": _tar(),
    "gzip": gzip.compress(b"hello"),
    "bzip2": bz2.compress(b"hello"),
    "xz": lzma.compress(b"hello"),
}


@pytest.mark.parametrize("name", sorted(CONTAINERS))
def test_containers_are_never_plain(name: str) -> None:
    data = CONTAINERS[name]
    assert formats.sniff(data, "x") is not None
    assert not formats.plain(data, "x")


@pytest.mark.parametrize(
    "name", ["app.zip", "lib.JAR", "bundle.tar.gz", "store.p12", "keys.jks", "app.js.map"]
)
def test_a_text_file_named_like_a_container_takes_the_slow_path(name: str) -> None:
    """The full sniff warns when the name promises a container the bytes are not."""
    assert not formats.plain(b"just text\n", name)


def test_source_text_is_plain() -> None:
    assert formats.plain(b"import os\nprint(os.getcwd())\n", "tool.py")
    assert formats.plain(b"x" * 200_000, "")


def test_an_empty_file_is_plain_unless_its_name_promises_a_container() -> None:
    """Empty ``__init__.py`` files are common; they must not load the archive readers."""
    assert formats.plain(b"", "__init__.py")
    assert not formats.plain(b"", "dist.zip")


def test_a_nul_byte_in_the_tail_takes_the_slow_path() -> None:
    """A zip appended to a long text prefix shows its central directory only at the end."""
    assert not formats.plain(b"a" * 100_000 + b"\x00", "")


@settings(max_examples=400)
@given(
    head=st.sampled_from([b"", b"P", b"PK\x03\x04", b"\x1f\x8b\x08", b"BZh9", b"0\x82", b"7z"]),
    body=st.binary(max_size=2048),
    name=st.sampled_from(["", "a.py", "a.zip", "a.tar", "a.map", "A.TGZ", "a.txt"]),
)
def test_plain_implies_the_full_sniff_finds_nothing(head: bytes, body: bytes, name: str) -> None:
    data = head + body
    if formats.plain(data, name):
        assert formats.sniff(data, name) is None
        assert formats.expected_format(name) is None
        assert not strings.is_binary(data)
