"""SORT and SORT_RO with redis-py's signatures.

Arguments are built in redis-py's order and its client-side checks raise
its DataErrors. ``groups=True`` makes the reply a list of tuples, one per
element, holding what each GET pattern found (the "SORT" callback).
``sort_ro`` sends SORT_RO, the read-only command it stands for.
"""
from minikv.exceptions import DataError


def _sort_pieces(start, num, by, get, desc, alpha):
    """The option arguments shared by SORT and SORT_RO."""
    if (start is None) != (num is None):
        raise DataError("``start`` and ``num`` must both be specified")
    pieces = []
    if by is not None:
        pieces += [b"BY", by]
    if start is not None:
        pieces += [b"LIMIT", start, num]
    if get is not None:
        # One pattern may be given as a plain string (strings are iterable).
        patterns = [get] if isinstance(get, (bytes, str)) else get
        for pattern in patterns:
            pieces += [b"GET", pattern]
    if desc:
        pieces.append(b"DESC")
    if alpha:
        pieces.append(b"ALPHA")
    return pieces


class SortCommands:
    __slots__ = ()

    def sort(self, name, start=None, num=None, by=None, get=None, desc=False, alpha=False,
             store=None, groups=False):
        """Sort the list, set or sorted set at ``name``; see SORT."""
        pieces = _sort_pieces(start, num, by, get, desc, alpha)
        if store is not None:
            pieces += [b"STORE", store]
        if groups and (not get or isinstance(get, (bytes, str)) or len(get) < 2):
            raise DataError('when using "groups" the "get" argument must be specified '
                            'and contain at least two keys')
        return self.execute_command("SORT", name, *pieces,
                                    groups=len(get) if groups else None)

    def sort_ro(self, key, start=None, num=None, by=None, get=None, desc=False, alpha=False):
        """SORT without STORE, allowed on read-only replicas."""
        return self.execute_command("SORT_RO", key,
                                    *_sort_pieces(start, num, by, get, desc, alpha))
