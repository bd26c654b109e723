"""The fast constructors for git objects and files build exactly what the dataclass
constructor does."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from collections.abc import Callable

import pytest

from scanner.models import Blob, Origin, file_blob, git_object_blob

FAST_AND_SLOW = [
    (
        lambda: git_object_blob(b"data", "repo", "ab" * 20),
        lambda: Blob(
            data=b"data", origin=Origin(source="git", path=None, root="repo", blob_id="ab" * 20)
        ),
    ),
    (
        lambda: file_blob(b"data", "/scan", "src/a.py"),
        lambda: Blob(data=b"data", origin=Origin(source="file", path="src/a.py", root="/scan")),
    ),
]


@pytest.mark.parametrize(("make_fast", "make_slow"), FAST_AND_SLOW)
def test_fast_blobs_are_the_blobs_the_constructor_builds(
    make_fast: Callable[[], Blob], make_slow: Callable[[], Blob]
) -> None:
    fast, slow = make_fast(), make_slow()
    assert fast == slow and hash(fast.origin) == hash(slow.origin)
    assert repr(fast) == repr(slow)
    assert vars(fast.origin) == vars(slow.origin)  # every field set on the instance
    assert vars(fast) == vars(slow)
    assert pickle.loads(pickle.dumps(fast)) == slow  # noqa: S301 - our own bytes (workers)
    assert copy.deepcopy(fast) == slow
    assert dataclasses.replace(fast.origin, path="a.py") == dataclasses.replace(
        slow.origin, path="a.py"
    )


@pytest.mark.parametrize(("make_fast", "make_slow"), FAST_AND_SLOW)
def test_fast_blobs_stay_frozen(
    make_fast: Callable[[], Blob], make_slow: Callable[[], Blob]
) -> None:
    fast = make_fast()
    for target, name in ((fast, "data"), (fast.origin, "blob_id")):
        try:
            setattr(target, name, "other")
        except dataclasses.FrozenInstanceError:
            continue
        raise AssertionError(f"{name} could be set")
