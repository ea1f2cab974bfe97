"""Number parsing and formatting exactly as Redis does it.

- ``parse_int``: Redis's ``string2ll`` — optional '-', digits, no leading
  zeros, no '+', no spaces, within int64; anything else is "not an integer".
- ``parse_float``: ``strtod`` as Redis uses it for scores and float
  arguments — no spaces, "inf"/"-inf" allowed, NaN rejected.
- ``incr_long_double``: INCRBYFLOAT/HINCRBYFLOAT compute in C ``long
  double`` (x87 80-bit: a 64-bit significand) and print with ``%.17Lf``,
  trailing zeros removed. Python floats are doubles, which would answer
  10.5 + 0.1 as 10.59999999999999964; so the arithmetic is done exactly in
  rationals and rounded to a 64-bit significand, as the hardware does.
"""
import math
import re
from fractions import Fraction

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

# What strtold accepts after Redis's "no leading space" check, as a decimal.
_FLOAT_RE = re.compile(
    rb"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?)",
    re.IGNORECASE)
_HEX_FLOAT_RE = re.compile(rb"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?")


def parse_int(data):
    """int64 from bytes, or None if Redis's string2ll would refuse it.

    string2ll takes exactly the canonical decimal text of an int64 (no
    sign but "-", no leading zero, no space, no "-0"): what int() reads
    back to the same bytes when printed.
    """
    try:
        value = int(data)
    except ValueError:
        return None
    if INT64_MIN <= value <= INT64_MAX and b"%d" % value == data:
        return value
    return None


def parse_float(data):
    """double from bytes as Redis's strtod-based parsers see it, or None.

    Like Redis: no leading space, the whole string consumed, NaN refused, and
    a value strtod reports as out of range (overflow to infinity, or
    underflow to zero) refused; a literal "inf" is fine.
    """
    if not data or data[:1].isspace():
        return None
    if _FLOAT_RE.fullmatch(data) is not None:
        value = float(data)
        if math.isnan(value):
            return None
        if math.isinf(value) and b"inf" not in data.lower():
            return None  # overflow
    elif _HEX_FLOAT_RE.fullmatch(data) is not None:
        try:
            value = float.fromhex(data.decode())
        except OverflowError:
            return None
    else:
        return None
    if value == 0 and _has_nonzero_digit(data):
        return None  # underflow to zero
    return value


def _has_nonzero_digit(data):
    """Whether the significand (before any exponent) has a nonzero digit."""
    text = data.lower()
    if text.lstrip(b"+-").startswith(b"0x"):
        significand = text.lstrip(b"+-")[2:].split(b"p")[0]
        return any(c in b"123456789abcdef" for c in significand)
    significand = text.split(b"e")[0]
    return any(c in b"123456789" for c in significand)


# -- long double arithmetic --------------------------------------------------
_LD_MANTISSA_BITS = 64
_LD_MAX_EXP = 16384  # values at or above 2**16384 overflow to infinity
_LD_MIN_EXP = -16445  # smallest subnormal is 2**-16445
# Decimal exponents beyond these bounds are certain overflow / underflow, so
# huge exponents ("1e999999999") are classified without building the number.
_DEC_OVERFLOW = 4933
_DEC_UNDERFLOW = -4952
_MAX_LONG_DOUBLE_CHARS = 5 * 1024  # Redis refuses longer inputs
_DIGIT_CHUNK = 2000  # below Python's int/str conversion limit (4300 digits)
_DECIMAL_RE = re.compile(r"([0-9]*)(?:\.([0-9]*))?(?:e([+-]?[0-9]+))?")


def _digits_to_int(digits):
    """int(digits) for any length, without tripping the 4300-digit limit."""
    if len(digits) <= _DIGIT_CHUNK:
        return int(digits or "0")
    split = len(digits) - _DIGIT_CHUNK
    return _digits_to_int(digits[:split]) * 10 ** _DIGIT_CHUNK + int(digits[split:])


def _int_to_digits(value):
    """str(value) for any size, without tripping the 4300-digit limit."""
    if value < 10 ** _DIGIT_CHUNK:
        return str(value)
    high, low = divmod(value, 10 ** _DIGIT_CHUNK)
    return _int_to_digits(high) + str(low).zfill(_DIGIT_CHUNK)


class _OutOfRange(Exception):
    """strtold would set ERANGE with an infinite or zero result."""


def _exact(data):
    """Exact value of a strtold-acceptable string: Fraction, +-inf, or None."""
    if not data or data[:1].isspace() or len(data) >= _MAX_LONG_DOUBLE_CHARS:
        return None
    if _HEX_FLOAT_RE.fullmatch(data):
        return Fraction(*float.fromhex(data.decode()).as_integer_ratio())
    if _FLOAT_RE.fullmatch(data) is None:
        return None
    text = data.decode().lower()
    negative = text.startswith("-")
    text = text.lstrip("+-")
    if text.startswith("inf"):
        return -math.inf if negative else math.inf
    whole, fraction, exponent = _DECIMAL_RE.fullmatch(text).groups()
    fraction = fraction or ""
    mantissa = (whole + fraction).lstrip("0")
    if not mantissa:
        return Fraction(0)
    power = int(exponent or 0) - len(fraction)
    magnitude = power + len(mantissa)  # the value is below 10**magnitude
    if magnitude > _DEC_OVERFLOW:
        raise _OutOfRange
    if magnitude < _DEC_UNDERFLOW:
        raise _OutOfRange
    value = Fraction(_digits_to_int(mantissa)) * Fraction(10) ** power
    return -value if negative else value


def _round_long_double(value):
    """Round an exact rational to the nearest x87 long double (ties to even).

    Returns a Fraction, or +-inf when the magnitude overflows.
    """
    if value == 0:
        return Fraction(0)
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    exponent = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()
    if Fraction(2) ** exponent > magnitude:
        exponent -= 1
    # magnitude is in [2**exponent, 2**(exponent+1)); keep 64 significant bits
    shift = max(exponent - (_LD_MANTISSA_BITS - 1), _LD_MIN_EXP)
    scaled = magnitude / Fraction(2) ** shift
    units = scaled.numerator // scaled.denominator
    remainder = scaled - units
    if remainder > Fraction(1, 2) or (remainder == Fraction(1, 2) and units % 2 == 1):
        units += 1
    result = Fraction(units) * Fraction(2) ** shift
    if result >= Fraction(2) ** _LD_MAX_EXP:
        return math.inf if sign > 0 else -math.inf
    return sign * result


def parse_long_double(data):
    """The long double Redis's string2ld reads, as an exact value, or None.

    None for junk, NaN, over-long input, and values strtold reports as out
    of range with an infinite or zero result (Redis rejects those); a
    literal "inf" is accepted.
    """
    try:
        exact = _exact(data)
    except _OutOfRange:
        return None
    if exact is None or isinstance(exact, float):
        return exact
    rounded = _round_long_double(exact)
    if isinstance(rounded, float) or (rounded == 0 and exact != 0):
        return None
    return rounded


def format_long_double(value):
    """``%.17Lf`` with trailing zeros (and a bare '.') removed, "-0" -> "0"."""
    sign = "-" if value < 0 else ""
    scaled = abs(value) * 10 ** 17
    units = scaled.numerator // scaled.denominator
    remainder = scaled - units
    if remainder > Fraction(1, 2) or (remainder == Fraction(1, 2) and units % 2 == 1):
        units += 1
    digits = _int_to_digits(units).rjust(18, "0")
    text = f"{digits[:-17]}.{digits[-17:]}".rstrip("0").rstrip(".")
    if text == "0":
        return b"0"
    return (sign + text).encode()


def incr_long_double(current, increment):
    """current + increment in long double, formatted; None if not finite."""
    if isinstance(current, float) or isinstance(increment, float):
        return None  # an infinity: Redis refuses the result
    total = _round_long_double(current + increment)
    if isinstance(total, float):
        return None
    return format_long_double(total)
