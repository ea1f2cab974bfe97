"""The ordered half of a sorted set, in pure Python: ``ScoreIndex``.

A sorted set is a dict member -> score (O(1) ZSCORE, membership) plus this
index of ``(score, member)`` pairs in Redis's order: by score, equal scores
by member bytes (bytewise, a prefix first — what Redis's memcmp-based
``sdscmp`` gives, and what comparing Python ``bytes`` gives). Scores are
never NaN, so tuple order is a total order; ``-0.0`` and ``0.0`` compare
equal, as the doubles do in Redis's skip list.

The pairs live in a ``sortedcontainers.SortedList``: a list of sorted
sublists of about a thousand pairs with a positional index over them, so
insert, remove, rank and "pair at rank" are O(log n), and a slice of k
pairs costs O(log n + k). A compiled twin (a skip list with spans, as in
Redis) implements the same small interface; ``minikv.backend`` picks one,
and the sorted-set commands use nothing else:

- ``insert(score, member)``, ``remove(score, member)``: the pair must be
  absent / present (the member dict is the source of truth for that);
  ``move(score, member, new_score)``: both at once;
- ``rank(score, member)``: 0-based rank of a present pair;
- ``by_rank(start, stop, reverse=False)``: the pairs of ranks
  ``start <= rank < stop`` as a list, ascending (descending if
  ``reverse``); ``0 <= start <= stop <= len``;
- ``score_span(low, low_open, high, high_open)``: the rank interval
  ``(first, end)`` of the pairs whose score lies in the interval (an open
  end excludes its bound). Ranges are rank intervals because scores are
  monotonic in rank: counting is O(log n), and a LIMIT offset is a jump,
  not a walk;
- ``lex_rank(bound, after)``: how many leading pairs have a member below
  ``bound`` (or at most ``bound``), searching by member alone — exact when
  all scores are equal, the case Redis defines;
- ``iter_from(rank, reverse=False)``: a lazy walk from a rank to either
  end, for the commands that walk as Redis does;
- ``pop_first()``, ``pop_last()``, ``delete_ranks(start, stop)``;
- ``len()``, iteration in order, ``_check()`` (the invariants, for tests).
"""
import math
from bisect import bisect_left, insort

from sortedcontainers import SortedList

__all__ = ["ScoreIndex"]

_INF = math.inf


class ScoreIndex:
    """(score, member) pairs in sorted-set order. See the module docstring."""

    __slots__ = ("_pairs",)

    def __init__(self, pairs=()):
        """Index the given (score, member) pairs (any order). O(n log n),
        O(n) when they come sorted."""
        self._pairs = SortedList(pairs)

    def __len__(self):
        return len(self._pairs)

    def __iter__(self):
        return iter(self._pairs)

    def __reversed__(self):
        return reversed(self._pairs)

    # -- single pairs: O(log n) ---------------------------------------------
    def insert(self, score, member):
        self._pairs.add((score, member))

    def remove(self, score, member):
        self._pairs.remove((score, member))

    def move(self, score, member, new_score):
        """Give a present pair a new score: remove + insert in one step.

        The pairs live in sorted sublists (``SortedList``'s documented
        layout: ``_lists``, with ``_maxes`` holding each one's last pair). A
        new score that keeps the pair between its neighbouring sublists is
        re-placed inside its own sublist: no sublist changes size, so the
        positional index needs no update — ZINCRBY's common case.
        """
        pairs = self._pairs
        old, new = (score, member), (new_score, member)
        lists, maxes = pairs._lists, pairs._maxes
        pos = bisect_left(maxes, old)
        if (pos == 0 or lists[pos - 1][-1] < new) \
                and (pos + 1 == len(lists) or new < lists[pos + 1][0]):
            sublist = lists[pos]
            del sublist[bisect_left(sublist, old)]
            insort(sublist, new)
            maxes[pos] = sublist[-1]
            return
        pairs.remove(old)
        pairs.add(new)

    def rank(self, score, member):
        return self._pairs.bisect_left((score, member))

    def pop_first(self):
        return self._pairs.pop(0)

    def pop_last(self):
        return self._pairs.pop()

    # -- ranges ----------------------------------------------------------------
    def by_rank(self, start, stop, reverse=False):
        """Pairs of ranks [start, stop). O(log n + (stop - start)); a range
        within the first or the last sublist is sliced from it directly
        (the top-10 and bottom-10 queries)."""
        pairs = self._pairs
        lists = pairs._lists
        if not lists:
            return []
        last = lists[-1]
        offset = len(pairs) - len(last)
        if start >= offset:
            found = last[start - offset:stop - offset]
        elif stop <= len(lists[0]):
            found = lists[0][start:stop]
        else:
            found = pairs[start:stop]
        if reverse:
            found.reverse()
        return found

    def delete_ranks(self, start, stop):
        """Remove the pairs of ranks [start, stop) and return them."""
        removed = self._pairs[start:stop]
        del self._pairs[start:stop]
        return removed

    def score_span(self, low, low_open, high, high_open):
        """(first, end): ranks of the pairs with low <(=) score <(=) high.

        The 1-tuple ``(x,)`` sorts before every pair of score x, so
        ``bisect_left((x,))`` is the rank of the first score >= x; the first
        score > x is the first score >= the next double above x. O(log n).
        """
        pairs = self._pairs
        if low_open:
            first = len(pairs) if low == _INF else pairs.bisect_left((math.nextafter(low, _INF),))
        else:
            first = pairs.bisect_left((low,))
        if high_open:
            end = pairs.bisect_left((high,))
        else:
            end = len(pairs) if high == _INF else pairs.bisect_left((math.nextafter(high, _INF),))
        return first, max(first, end)

    def lex_rank(self, bound, after):
        """How many leading pairs have a member below ``bound`` (at most
        ``bound`` when ``after``): where a search by member alone stops.

        With all scores equal (the case Redis defines) the pairs are in
        member order and one bisection answers in O(log n). Otherwise the
        same binary search runs on the members alone, O(log² n) — an answer
        as arbitrary as Redis's, which depends on its skip list's shape.
        """
        pairs = self._pairs
        size = len(pairs)
        if not size:
            return 0
        score = pairs[0][0]
        if score == pairs[-1][0]:
            if after:
                return pairs.bisect_right((score, bound))
            return pairs.bisect_left((score, bound))
        low, high = 0, size
        while low < high:
            middle = (low + high) // 2
            member = pairs[middle][1]
            if member < bound or (after and member == bound):
                low = middle + 1
            else:
                high = middle
        return low

    def iter_from(self, rank, reverse=False):
        """Pairs from ``rank`` up to the last (down to the first when
        ``reverse``), lazily: O(log n) to start, O(1) amortised per pair."""
        if reverse:
            return self._pairs.islice(0, rank + 1, reverse=True)
        return self._pairs.islice(rank, None)

    # -- invariants ------------------------------------------------------------
    def _check(self):
        """Assert the index is well formed: sorted, no NaN, bytes members,
        each member once, positional index consistent. O(n)."""
        pairs = self._pairs
        pairs._check()
        members = set()
        previous = None
        for score, member in pairs:
            assert score.__class__ is float and not math.isnan(score), score
            assert member.__class__ is bytes, member
            assert member not in members, member
            members.add(member)
            if previous is not None:
                assert previous < (score, member), (previous, score, member)
            previous = (score, member)
        for rank, (score, member) in enumerate(pairs):
            assert pairs.bisect_left((score, member)) == rank
