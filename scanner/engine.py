"""The detection engine: keyword prefilter → rule regexes → value checks and key parsing →
client-id pairing → filters → findings. Works on bytes; knows nothing about where blobs come
from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from scanner.filters import (
    DEFAULT_FILTERS,
    Candidate,
    Filter,
    finding_confidence,
    value_check_failures,
)
from scanner.models import Blob, Finding, Origin, make_fingerprint
from scanner.prefilter import Prefilter
from scanner.rules import REGEX_TIMEOUT_SECONDS, CompiledRule, Rule, Ruleset

# How far around a match the engine looks for its pair (client id) and line context, so a
# 5 MB minified line never turns one match into a 5 MB search.
PAIR_REACH_BYTES = 4096
LINE_CONTEXT_BYTES = 2048
# A blob where one rule proposes more candidates than this is hostile or generated; the rest
# is reported as not searched rather than spending minutes on it.
MAX_CANDIDATES_PER_RULE = 10_000


@dataclass(frozen=True)
class Drop:
    """Why a candidate was not reported: a rule check (unpaired, low entropy, not a key) or a
    filter (placeholder, allow comment, baseline...)."""

    reason: str
    by_filter: bool


@dataclass
class BlobScan:
    """What scanning one blob produced."""

    findings: list[Finding] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)  # one per blob: no Counter
    explained: list[tuple[str, Finding]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    marked: bool = False
    """One of the engine's markers occurs in the blob (matched without regard to case)."""


NOTHING = BlobScan()
"""The result for a blob without a keyword hit; shared, so callers only read it."""
MARKED = BlobScan(marked=True)
"""The same for a blob with a marker but no keyword hit."""


class Engine:
    """Runs a ruleset over blobs. Build one per process; it is reusable and stateless per blob."""

    def __init__(
        self,
        ruleset: Ruleset,
        filters: Sequence[Filter] = DEFAULT_FILTERS,
        *,
        explain: bool = False,
        native_prefilter: bool = True,
        markers: Sequence[bytes] = (),
    ) -> None:
        """``markers`` are literals the caller wants to know about (``BlobScan.marked``),
        found by the keyword pass itself rather than by another pass over every blob."""
        self.ruleset = ruleset
        self.filters = tuple(filters)
        self.explain = explain
        keywords = ruleset.keywords
        lowered = [m.decode().lower() for m in markers]
        extra = tuple(m for m in dict.fromkeys(lowered) if m not in keywords)
        self.prefilter = Prefilter(keywords + extra, native=native_prefilter)
        index: dict[str, list[int]] = {}
        for i, compiled in enumerate(ruleset.rules):
            for kw in compiled.rule.keywords:
                index.setdefault(kw, []).append(i)
        self._rules_for_keyword = [index.get(kw, []) for kw in self.prefilter.keywords]
        self._markers = frozenset(self.prefilter.keywords.index(m) for m in lowered)

    def scan(self, blob: Blob) -> BlobScan:
        """Every finding in one blob, in offset order."""
        data = blob.data
        hits = self.prefilter.hits(data)
        if not hits:
            return NOTHING  # most blobs: no keyword, nothing to build
        marked = not self._markers.isdisjoint(hits)
        if marked and self._markers.issuperset(hits):
            return MARKED
        result = BlobScan(marked=marked)
        offsets: dict[int, list[int] | None] = {}
        for kw, ends in hits.items():
            for i in self._rules_for_keyword[kw]:
                known = offsets.get(i, [])
                offsets[i] = None if ends is None or known is None else known + ends
        accepted: list[tuple[int, int, Finding]] = []
        # Bytes a more specific rule has already claimed: by a finding, or by a candidate a
        # filter dropped (a baselined Google secret must not come back as a generic one).
        claimed: list[tuple[int, int]] = []
        for index, compiled in self._ordered(offsets):
            windows = search_windows(offsets[index], reach_of(compiled.rule), len(data))
            for start, end, finding, drop in self._matches(compiled, blob, windows, result):
                if _overlaps(start, end, claimed):
                    self._drop(result, "superseded", finding)
                    continue
                if drop is None:
                    accepted.append((start, end, finding))
                    claimed.append((start, end))
                    continue
                self._drop(result, drop.reason, finding)
                if drop.by_filter:
                    claimed.append((start, end))
        accepted.sort(key=lambda item: (item[0], item[2].rule_id))
        result.findings = [f for _, _, f in accepted]
        return result

    def _ordered(self, indices: Iterable[int]) -> list[tuple[int, CompiledRule]]:
        """Specific rules first, so a generic rule yields when both match the same bytes."""
        rules = [(i, self.ruleset.rules[i]) for i in sorted(indices)]
        return sorted(rules, key=lambda item: item[1].rule.generic)

    def _matches(
        self,
        compiled: CompiledRule,
        blob: Blob,
        windows: list[tuple[int, int]],
        result: BlobScan,
    ) -> Iterable[tuple[int, int, Finding, Drop | None]]:
        rule = compiled.rule
        data = blob.data
        lines = LineIndex(data)
        timeout = regex_timeout(sum(hi - lo for lo, hi in windows))
        count = 0
        try:
            for m in _window_matches(compiled.pattern, data, windows, timeout):
                count += 1
                if count > MAX_CANDIDATES_PER_RULE:
                    result.errors.append(
                        f"{describe(blob.origin)}: rule {rule.id} stopped after "
                        f"{MAX_CANDIDATES_PER_RULE} candidates in one blob"
                    )
                    return
                start, end = m.span("secret")
                finding, drop = self._candidate(compiled, blob, m, start, end, lines)
                yield start, end, finding, drop
        except TimeoutError:
            result.errors.append(
                f"{describe(blob.origin)}: rule {rule.id} gave up after {timeout:.0f}s on "
                "pathological content; the rest of this blob was not searched by it"
            )

    def _candidate(
        self,
        compiled: CompiledRule,
        blob: Blob,
        m: Any,
        start: int,
        end: int,
        lines: LineIndex,
    ) -> tuple[Finding, Drop | None]:
        """The finding a match makes, and why it is dropped if it is. Cheap checks come
        first; the pairing search runs only for candidates that survived them."""
        rule = compiled.rule
        data = blob.data
        secret = data[start:end].decode("utf-8", "surrogateescape")
        attributes: dict[str, str] = {}
        encrypted = False
        normalized = secret
        drop: Drop | None = None
        if rule.parser in ("private-key", "keystore-key"):
            from scanner import keys  # cryptography loads only once a key candidate appears

            info = keys.inspect_key(secret)
            if info is None and rule.parser == "keystore-key":
                # Sealed by a keystore's own scheme (JKS, JCEKS) that keys.py does not parse:
                # encrypted by construction, identified by its protected bytes.
                info = keys.KeyInfo("keystore-protected", None, True)
            if info is None:
                drop = Drop("not-a-key", by_filter=False)
            else:
                encrypted = info.encrypted
                attributes["key_format"] = info.format
                if info.algorithm:
                    attributes["algorithm"] = info.algorithm
                if info.thumbprint:
                    attributes["jwk_thumbprint"] = info.thumbprint
                    normalized = info.thumbprint
                else:
                    normalized = "".join(keys.normalize_key_text(secret).split())
        else:
            failed = value_check_failures(rule, secret)
            drop = Drop(failed, by_filter=False) if failed else None
        line, line_start = lines.locate(start)
        fingerprint = make_fingerprint(rule.id, normalized)
        if drop is None:
            candidate = Candidate(
                rule=rule,
                secret=secret,
                fingerprint=fingerprint,
                quoted=bool(m.group("q")) if "q" in compiled.pattern.groupindex else False,
                line_text=_text(data, line_start, start, end),
                previous_line_text=_previous_line(data, line_start),
                following=data[end : end + 8].decode("latin-1"),
                path=blob.origin.path,
            )
            for check in self.filters:
                if check(candidate):
                    drop = Drop(getattr(check, "__name__", "filter"), by_filter=True)
                    break
        client_id: str | None = None
        if drop is None and compiled.pair_patterns:
            client_id, paired = self._pair(compiled, data, start, end)
            attributes.update(paired)
            if any(p.required for p in rule.pairs) and not (client_id or paired):
                drop = Drop("unpaired", by_filter=False)
        finding = Finding(
            rule_id=rule.id,
            kind=rule.kind,  # type: ignore[arg-type]
            provider=rule.provider,
            origin=blob.origin,
            line=line,
            column=start - line_start + 1,
            secret=secret,
            fingerprint=fingerprint,
            severity=rule.severity,
            client_id=client_id,
            encrypted=encrypted,
            confidence=finding_confidence(  # type: ignore[arg-type]
                blob.origin.path, attributes.get("jwk_thumbprint"), fingerprint
            ),
            attributes=tuple(sorted(attributes.items())),
        )
        return finding, drop

    def _pair(
        self, compiled: CompiledRule, data: bytes, start: int, end: int
    ) -> tuple[str | None, dict[str, str]]:
        """The nearest value each pair regex captures within its line window of the match."""
        client_id: str | None = None
        found: dict[str, str] = {}
        for pair, pattern in compiled.pair_patterns:
            lo, hi = _line_window(data, start, end, pair.lines)
            best: tuple[int, dict[str, str]] | None = None
            try:
                for pm in pattern.finditer(data, pos=lo, endpos=hi, timeout=regex_timeout(hi - lo)):
                    ps, pe = pm.span()
                    if ps < end and pe > start:
                        continue  # the secret itself
                    distance = start - pe if pe <= start else ps - end
                    values = {
                        k: v.decode("utf-8", "replace") for k, v in pm.groupdict().items() if v
                    }
                    if values and (best is None or distance < best[0]):
                        best = (distance, values)
            except TimeoutError:
                continue
            if best is None:
                continue
            for key, value in best[1].items():
                if key == "client_id":
                    client_id = client_id or value
                else:
                    found.setdefault(key, value)
        return client_id, found

    def _drop(self, result: BlobScan, reason: str, finding: Finding) -> None:
        result.dropped[reason] = result.dropped.get(reason, 0) + 1
        if self.explain:
            result.explained.append((reason, finding))


def reach_of(rule: Rule) -> int:
    """How far from a keyword hit the rule must search: the rule's own figure, else enough for
    a secret next to its keyword, or for a pair (whose keyword may be the client id)."""
    if rule.reach:
        return rule.reach
    return PAIR_REACH_BYTES + 1024 if rule.pairs else 1024


def search_windows(ends: list[int] | None, reach: int, size: int) -> list[tuple[int, int]]:
    """Merged byte ranges around keyword hits; the whole blob when they would cover most of
    it anyway (or the keyword was too frequent to list)."""
    if ends is None:
        return [(0, size)]
    windows: list[tuple[int, int]] = []
    for end in sorted(ends):
        lo, hi = max(0, end - reach), min(size, end + reach)
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
        else:
            windows.append((lo, hi))
    if sum(hi - lo for lo, hi in windows) * 2 >= size:
        return [(0, size)]
    return windows


def _window_matches(
    pattern: Any, data: bytes, windows: list[tuple[int, int]], timeout: float
) -> Iterator[Any]:
    """Matches of ``pattern`` inside the windows, each once. A match that reaches a window's
    end is redone on the whole blob, as the window edge may have cut it short."""
    last_end = 0
    for lo, hi in windows:
        for m in pattern.finditer(data, pos=max(lo, last_end), endpos=hi, timeout=timeout):
            found = m
            if m.end() == hi and hi < len(data):
                found = pattern.match(data, pos=m.start(), timeout=timeout)
                if found is None:
                    continue
            if found.start() < last_end:
                continue
            last_end = found.end()
            yield found
            if last_end >= hi:
                break


class LineIndex:
    """Line numbers and line starts for ascending offsets in one blob, in time linear in the
    blob however many matches there are (a 10 MB minified line must not go quadratic)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.line = 1
        self.line_start = 0

    def locate(self, offset: int) -> tuple[int, int]:
        """(1-based line number, offset of that line's first byte) of ``offset``."""
        if offset < self.pos:  # a rule went back (never within one finditer): start over
            self.pos, self.line, self.line_start = 0, 1, 0
        last_newline = self.data.rfind(b"\n", self.pos, offset)
        if last_newline >= 0:
            self.line += self.data.count(b"\n", self.pos, offset)
            self.line_start = last_newline + 1
        self.pos = offset
        return self.line, self.line_start


def regex_timeout(size: int) -> float:
    """How long one rule may search one blob: a floor, plus time for large blobs at a rate
    far below what any sane regex reaches, so only pathological input hits it."""
    return REGEX_TIMEOUT_SECONDS + size / 2_000_000


def describe(origin: Origin) -> str:
    """A short human name for a blob's location, for warnings."""
    if origin.source == "commit-message":
        return f"commit message {origin.commit or '?'}"
    if origin.path:
        where = origin.path
        if origin.commit:
            where += f" @ {origin.commit[:12]}"
        return where
    if origin.blob_id:
        return f"blob {origin.blob_id}"
    return origin.root or "<input>"


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < s_end and end > s_start for s_start, s_end in spans)


def _line_window(data: bytes, start: int, end: int, lines: int) -> tuple[int, int]:
    """Byte range of ``lines`` lines either side of the match, capped at PAIR_REACH_BYTES."""
    floor = max(0, start - PAIR_REACH_BYTES)
    ceiling = min(len(data), end + PAIR_REACH_BYTES)
    lo = start
    for _ in range(lines + 1):
        lo = data.rfind(b"\n", floor, lo)
        if lo < 0:
            lo = floor - 1
            break
    hi = end - 1
    for _ in range(lines + 1):
        hi = data.find(b"\n", hi + 1, ceiling)
        if hi < 0:
            hi = ceiling
            break
    return lo + 1, hi


def _text(data: bytes, line_start: int, start: int, end: int) -> str:
    line_end = data.find(b"\n", end)
    if line_end < 0:
        line_end = len(data)
    lo = max(line_start, start - LINE_CONTEXT_BYTES)
    hi = min(line_end, end + LINE_CONTEXT_BYTES)
    return data[lo:hi].decode("utf-8", "replace")


def _previous_line(data: bytes, line_start: int) -> str:
    if line_start == 0:
        return ""
    floor = max(0, line_start - 1 - LINE_CONTEXT_BYTES)
    prev_start = max(floor, data.rfind(b"\n", floor, line_start - 1) + 1)
    return data[prev_start : line_start - 1].decode("utf-8", "replace")
