"""Redis's error replies, word for word, in one place.

The engine raises ``CommandError`` carrying the full reply text (error code
first, as on the wire); the client turns it into redis-py's exception class
with ``minikv.exceptions.error_from_reply``. Texts are Redis 7.0's.
"""


class CommandError(Exception):
    """An error reply. ``text`` is exactly what Redis would send after '-'."""

    __slots__ = ("text",)

    def __init__(self, text):
        Exception.__init__(self, text)
        self.text = text


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
NAN_OR_INF = "ERR increment would produce NaN or Infinity"
NO_SUCH_KEY = "ERR no such key"
DB_INDEX = "ERR DB index is out of range"
INVALID_DB_INDEX = "ERR invalid DB index"
INVALID_FIRST_DB_INDEX = "ERR invalid first DB index"
INVALID_SECOND_DB_INDEX = "ERR invalid second DB index"
SAME_OBJECT = "ERR source and destination objects are the same"
OFFSET_RANGE = "ERR offset is out of range"
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
HASH_NOT_INTEGER = "ERR hash value is not an integer"
HASH_NOT_FLOAT = "ERR hash value is not a float"
HASH_INCREMENT_NAN_OR_INF = "ERR value is NaN or Infinity"
VALUE_OUT_OF_RANGE = "ERR value is out of range"
LONG_RANGE = ("ERR value is out of range, value must between -9223372036854775807 and "
              "9223372036854775807")
EXPIRE_FLAGS = "ERR NX and XX, GT or LT options at the same time are not compatible"
GT_AND_LT = "ERR GT and LT options at the same time are not compatible"
COUNT_POSITIVE = "ERR value is out of range, must be positive"
SCORES_NOT_DOUBLE = "ERR One or more scores can't be converted into double"
INT_RANGE = "ERR value is out of range, value must between -2147483648 and 2147483647"
# blocking commands and lists
TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
NUMKEYS_POSITIVE = "ERR numkeys should be greater than 0"
COUNT_GREATER_THAN_ZERO = "ERR count should be greater than 0"
INDEX_RANGE = "ERR index out of range"
LPOS_RANK_ZERO = ("ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                  "second ... or use negative to start from the end of the list")
LPOS_COUNT_NEGATIVE = "ERR COUNT can't be negative"
LPOS_MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative"
# SINTERCARD (and ZINTERCARD)
NUMKEYS_TOO_MANY = "ERR Number of keys can't be greater than number of args"
LIMIT_NEGATIVE = "ERR LIMIT can't be negative"
# sorted sets
ZADD_XX_AND_NX = "ERR XX and NX options at the same time are not compatible"
ZADD_GT_LT_NX = "ERR GT, LT, and/or NX options at the same time are not compatible"
ZADD_INCR_PAIRS = "ERR INCR option supports a single increment-element pair"
SCORE_IS_NAN = "ERR resulting score is not a number (NaN)"
SCORE_BOUND = "ERR min or max is not a float"
LEX_BOUND = "ERR min or max not valid string range item"
LIMIT_NEEDS_RANGE = ("ERR syntax error, LIMIT is only supported in combination with either "
                     "BYSCORE or BYLEX")
WITHSCORES_WITH_BYLEX = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
WEIGHT_NOT_FLOAT = "ERR weight value is not a float"
LFU_NOT_SELECTED = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
    "Please note that when switching between policies at runtime LRU and LFU data "
    "will take some time to adjust."
)
LRU_NOT_SELECTED = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. "
    "Please note that when switching between policies at runtime LRU and LFU data "
    "will take some time to adjust."
)


# transactions
MULTI_NESTED = "ERR MULTI calls can not be nested"
EXEC_WITHOUT_MULTI = "ERR EXEC without MULTI"
DISCARD_WITHOUT_MULTI = "ERR DISCARD without MULTI"
WATCH_INSIDE_MULTI = "ERR WATCH inside MULTI is not allowed"
EXECABORT = "EXECABORT Transaction discarded because of previous errors."
# maxmemory (engine/eviction.py)
OOM = "OOM command not allowed when used memory > 'maxmemory'."
EXECABORT_OOM = "EXECABORT Transaction discarded because of: " + OOM
# scripting (EVAL, SCRIPT)
NUMKEYS_NEGATIVE = "ERR Number of keys can't be negative"
NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL."
SCRIPT_FLUSH_MODE = "ERR SCRIPT FLUSH only support SYNC|ASYNC option"
SCRIPT_DEBUG_MODE = "ERR Use SCRIPT DEBUG YES/SYNC/NO"
SCRIPT_NOT_BUSY = "NOTBUSY No scripts in execution right now."
SCRIPT_UNKILLABLE = ("UNKILLABLE Sorry the script already executed write commands against the "
                     "dataset. You can either wait the script termination or kill the server in "
                     "a hard way using the SHUTDOWN NOSAVE command.")
SCRIPT_WRITE_FLAG_RO = "ERR Can not execute a script with write flag using *_ro command."
LUA_NOT_INSTALLED = ("ERR Lua scripting needs the optional 'lupa' package, which is not "
                     "installed: pip install 'minikv[lua]'")
# streams (engine/streams.py)
STREAM_ID_INVALID = "ERR Invalid stream ID specified as stream command argument"
XADD_ID_ZERO = "ERR The ID specified in XADD must be greater than 0-0"
XADD_ID_TOO_SMALL = ("ERR The ID specified in XADD is equal or smaller than the target stream "
                     "top item")
STREAM_EXHAUSTED = ("ERR The stream has exhausted the last possible ID, unable to add more "
                    "items")
STREAM_ELEMENTS_TOO_LARGE = "ERR Elements are too large to be stored"
STREAM_MAXLEN_NEGATIVE = "ERR The MAXLEN argument must be >= 0."
STREAM_LIMIT_NEGATIVE = "ERR The LIMIT argument must be >= 0."
STREAM_MAXLEN_AND_MINID = ("ERR syntax error, MAXLEN and MINID options at the same time are not "
                           "compatible")
STREAM_LIMIT_WITHOUT_STRATEGY = ("ERR syntax error, LIMIT cannot be used without specifying a "
                                 "trimming strategy")
STREAM_LIMIT_WITHOUT_APPROX = "ERR syntax error, LIMIT cannot be used without the special ~ option"
XTRIM_NEEDS_STRATEGY = "ERR syntax error, XTRIM must be called with a trimming strategy"
STREAM_INVALID_START_ID = "ERR invalid start ID for the interval"
STREAM_INVALID_END_ID = "ERR invalid end ID for the interval"
TIMEOUT_NOT_INTEGER = "ERR timeout is not an integer or out of range"
XREAD_UNBALANCED = ("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' "
                    "must be specified.")
XREAD_GREATER_ID = ("ERR The > ID can be specified only when calling XREADGROUP using the "
                    "GROUP <group> <consumer> option.")
XREAD_GROUP_OPTION = ("ERR The GROUP option is only supported by XREADGROUP. You called XREAD "
                      "instead.")
XREAD_NOACK_OPTION = ("ERR The NOACK option is only supported by XREADGROUP. You called XREAD "
                      "instead.")
XREAD_BLOCK_IN_SCRIPT = "ERR XREAD command is not allowed with BLOCK option from scripts"
XSETID_SMALLER_THAN_TOP = ("ERR The ID specified in XSETID is smaller than the target stream top "
                           "item")
XSETID_SMALLER_THAN_MAX_DELETED = ("ERR The ID specified in XSETID is smaller than the provided "
                                   "max_deleted_entry_id")
XSETID_ENTRIES_ADDED_NEGATIVE = "ERR entries_added must be positive"
XSETID_ENTRIES_ADDED_TOO_SMALL = ("ERR The entries_added specified in XSETID is smaller than the "
                                  "target stream length")
# Redis names the subcommand and command as the client typed them; these
# are the spellings redis-py sends.
XINFO_STREAM_SYNTAX = ("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try "
                       "XINFO HELP.")
# CLIENT (engine/clients.py)
CLIENT_NAME_INVALID = "ERR Client names cannot contain spaces, newlines or special characters."


class ArrayWithErrors(list):
    """An array reply some of whose items are error replies (``CommandError``
    instances, possibly inside nested arrays), as EXEC's reply can be. A plain
    list reply never holds errors, so the client converts only this type."""

    __slots__ = ()


def wrong_arity(name):
    return f"ERR wrong number of arguments for '{name}' command"


def unknown_command(name, args):
    shown = " ".join(f"'{a}'" for a in args)
    return f"ERR unknown command '{name}', with args beginning with: {shown}" + (" " if args else "")


def unknown_subcommand(sub, container):
    return f"ERR unknown subcommand '{sub}'. Try {container} HELP."


def invalid_expire(command):
    return f"ERR invalid expire time in '{command}' command"


def no_input_keys(command):
    return f"ERR at least 1 input key is needed for '{command}' command"


def unsupported_option(option):
    return f"ERR Unsupported option {option}"
