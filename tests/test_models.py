"""The fast constructor for git objects builds exactly what the dataclass constructor does."""

from __future__ import annotations

import copy
import dataclasses
import pickle

from scanner.models import Blob, Origin, git_object_blob


def test_git_object_blob_is_the_blob_the_constructor_builds() -> None:
    fast = git_object_blob(b"data", "repo", "ab" * 20)
    origin = Origin(source="git", path=None, root="repo", blob_id="ab" * 20)
    slow = Blob(data=b"data", origin=origin)
    assert fast == slow and hash(fast.origin) == hash(slow.origin)
    assert repr(fast) == repr(slow)
    assert vars(fast.origin) == vars(slow.origin)  # every field set on the instance
    assert vars(fast) == vars(slow)
    assert pickle.loads(pickle.dumps(fast)) == slow  # noqa: S301 - our own bytes (workers)
    assert copy.deepcopy(fast) == slow
    assert dataclasses.replace(fast.origin, path="a.py") == dataclasses.replace(
        slow.origin, path="a.py"
    )


def test_git_object_blob_stays_frozen() -> None:
    fast = git_object_blob(b"data", "repo", "ab" * 20)
    for target, name in ((fast, "data"), (fast.origin, "blob_id")):
        try:
            setattr(target, name, "other")
        except dataclasses.FrozenInstanceError:
            continue
        raise AssertionError(f"{name} could be set")
