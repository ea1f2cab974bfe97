"""Redis's glob matching (``stringmatchlen`` in util.c), compiled to regexes.

KEYS, SCAN MATCH, CONFIG GET and PSUBSCRIBE all match with this. Rather than
walk the pattern per key, a pattern is translated once into an equivalent
``re`` pattern over bytes, following Redis's parser rule for rule:

- ``*`` any run of bytes, ``?`` one byte, ``\\x`` the byte x literally (a
  trailing lone backslash is a literal backslash);
- ``[...]`` one byte from a set: ``^`` first negates, ``\\x`` escapes, ``a-z``
  is a range (reversed ends are swapped, and ``]`` can be a range's end), and
  an unterminated set runs to the end of the pattern;
- with ``nocase`` comparisons go through ASCII ``tolower``.

One quirk is kept: an empty string matches only the empty pattern (Redis's
matcher never enters its loop), so KEYS/SCAN special-case a lone ``*``.
"""
import re
from functools import lru_cache

__all__ = ["glob_match", "compile_glob"]


def _lower(byte):
    return byte + 32 if 65 <= byte <= 90 else byte


def _bracket(pattern, i, nocase):
    """Parse a set starting after '['; returns (matching bytes, next index)."""
    n = len(pattern)
    negate = i < n and pattern[i] == 94  # '^'
    if negate:
        i += 1
    singles, ranges = [], []
    while True:
        if i < n and pattern[i] == 92 and n - i >= 2:  # backslash escape
            singles.append(pattern[i + 1])
            i += 2
        elif i < n and pattern[i] == 93:  # ']'
            i += 1
            break
        elif i >= n:
            break
        elif n - i >= 3 and pattern[i + 1] == 45:  # 'x-y'
            start, end = pattern[i], pattern[i + 2]
            if start > end:
                start, end = end, start
            ranges.append((start, end))
            i += 3
        else:
            singles.append(pattern[i])
            i += 1
    members = []
    for c in range(256):
        hit = False
        for s in singles:
            if (_lower(s) == _lower(c)) if nocase else (s == c):
                hit = True
                break
        if not hit:
            for start, end in ranges:
                lc = _lower(c) if nocase else c
                lo, hi = (_lower(start), _lower(end)) if nocase else (start, end)
                if lo <= lc <= hi:
                    hit = True
                    break
        if hit != negate:
            members.append(c)
    return members, i


def _byte_class(members):
    if not members:
        return b"(?!)"
    if len(members) == 256:
        return b"."
    return b"[" + b"".join(re.escape(bytes([c])) for c in members) + b"]"


@lru_cache(maxsize=1024)
def compile_glob(pattern, nocase=False):
    """A compiled regex whose fullmatch agrees with Redis's matcher."""
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 42:  # '*'
            while i + 1 < n and pattern[i + 1] == 42:
                i += 1
            out.append(b".*")
            i += 1
        elif c == 63:  # '?'
            out.append(b".")
            i += 1
        elif c == 91:  # '['
            members, i = _bracket(pattern, i + 1, nocase)
            out.append(_byte_class(members))
        else:
            if c == 92 and n - i >= 2:
                i += 1
                c = pattern[i]
            out.append(re.escape(bytes([c])))
            i += 1
    flags = re.DOTALL | (re.IGNORECASE if nocase else 0)
    return re.compile(b"".join(out), flags)


def glob_match(pattern, string, nocase=False):
    """True if bytes ``string`` matches bytes ``pattern`` as Redis decides."""
    if not string:
        return not pattern
    return compile_glob(pattern, nocase).fullmatch(string) is not None
