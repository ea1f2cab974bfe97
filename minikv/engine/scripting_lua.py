"""The Lua side of scripting: the environment Redis 7.0 gives a script.

``ENVIRONMENT`` is a Lua chunk that engine/scripting.py runs once in every
fresh Lua 5.1 state (lupa's ``lupa.lua51``), passing a table of Python
callables (``py``). It rebuilds what Redis's script_lua.c and eval.c set up
in their own Lua, so that a script sees the same globals, the same errors
and the same library behaviour:

- Globals: exactly Redis 7.0's set (base functions minus dofile, loadfile,
  print, getfenv, setfenv, newproxy; string, table, math, coroutine; cjson,
  bit; redis; the error handler ``__redis__err__handler``; KEYS and ARGV).
  io, os, package/require, debug and lupa's ``python`` module are gone.
  cmsgpack and struct, which Redis also bundles, are not provided.
- Read-only tables. Redis's patched Lua marks the globals and every table
  reachable from them read-only. Stock Lua has no such flag, so a protected
  table here is an empty proxy whose metatable reads through to the real
  table and refuses writes; next, pairs, rawget, rawset, getmetatable and
  setmetatable see through the proxies or refuse them. The global table
  itself is such a proxy (its contents live in the hidden table ``H``), so
  assigning a global fails with Redis's "Attempt to modify a readonly table"
  and reading a missing one with "Script attempted to access nonexistent
  global variable". Known gap: C functions that write raw (table.insert on
  a library table such as ``math``) are not stopped, where Redis refuses.
- Library functions. Redis's are C functions, and that shows: a C function
  keeps its caller's frame on ``return f(...)`` (a Lua function would be
  tail-called and the frame lost), and its errors carry the caller's
  position. So every function that raises in ordinary use — redis.call,
  redis.pcall, redis.acl_check_cmd, redis.sha1hex, math.random/randomseed,
  bit.*, cjson.encode/decode — is a Python callable (a C function to Lua),
  and ``type`` reports those as "function". cjson's codec itself is Lua
  here (lua-cjson 2.1.0's rules: %.14g numbers, its escapes, sparse-array
  rule, depth limits, error texts), reached through such a callable. The
  rarely-failing rest (error_reply, status_reply, log, setresp, set_repl,
  the cjson settings, and our next/pairs/rawget/rawset/getmetatable/
  setmetatable/loadstring/load/pcall wrappers) stays in Lua: their misuse
  errors are positioned right except when the call is in tail position.
- Errors from Python callables cross Lua as a Python exception object;
  every place Lua code can see an error value — our error handler, pcall,
  xpcall's handler, coroutine.resume — first swaps it back (``py.unwrap``)
  for the string or error table Redis would have thrown.
- math.random/randomseed draw from Redis's rand48 generator (kept in
  Python, per store), so a seeded sequence matches a real server's.
- loadstring/load refuse precompiled bytecode the way Redis 7.0 does (the
  chunk is parsed as text and fails on its first byte).

Error positions. Redis's error handler reports the frame that raised the
error (or its caller when that frame is a C function). Our Lua helpers do
not exist in Redis, so they are compiled under the chunk name ``=minikv``
and the handler does not count their frames.

The chunk returns a table of entry points for the Python side: ``compile``,
``run`` (executes a script function under the error handler and the
interrupt hook), ``classify`` (one step of converting a returned table into
a reply, in luaReplyToRedisReply's order of checks), ``error_info``,
``where`` (luaL_where for the caller of the running Python callable),
``cjson`` (the codec), ``tonumber`` and ``unpack``.
"""

CHUNK_NAME = b"=minikv"

ENVIRONMENT = r"""
local py = ...
local INTERNAL = "=minikv"

local G = _G
local type_raw, error, select, tostring, tonumber = type, error, select, tostring, tonumber
local next_raw, rawget_raw, rawset_raw = next, rawget, rawset
local getmetatable_raw, setmetatable_raw = getmetatable, setmetatable
local pcall_raw, xpcall_raw, unpack, ipairs = pcall, xpcall, unpack, ipairs
local resume_raw = coroutine.resume
local loadstring_raw = loadstring
local floor, ceil, huge = math.floor, math.ceil, math.huge
local format, sub, byte, char, find, gsub, lower = string.format, string.sub, string.byte,
    string.char, string.find, string.gsub, string.lower
local concat = table.concat
local getinfo, sethook = debug.getinfo, debug.sethook
local string_metatable = getmetatable_raw("")
local NULL = newproxy(true)
getmetatable_raw(NULL).__tostring = function() return "userdata: (nil)" end
local py_unwrap = py.unwrap

-- A Python exception standing for a Lua error value -> that value.
local function unwrap(e)
  if type_raw(e) == "userdata" and e ~= NULL then return py_unwrap(e) end
  return e
end

-- luaL_typename: what an argument is, "no value" when it was not passed.
local function typename(present, value)
  if not present then return "no value" end
  return type_raw(value)
end

-- Argument errors as lauxlib words them, at the script's position: ``depth``
-- counts our frames between the helper and the script (1 when a library
-- function calls the helper itself).
local function bad_argument(n, fname, message, depth)
  error(format("bad argument #%d to '%s' (%s)", n, fname, message), (depth or 1) + 2)
end

-- The same error thrown without a position, from a function that runs as
-- a C function (``as_c_function``): the Python side adds the caller's.
local function throw(message)
  error(message, 0)
end

local function bad_argument_bare(n, fname, message)
  throw(format("bad argument #%d to '%s' (%s)", n, fname, message))
end

-- C's (int) of a lua_Integer, itself a truncated double: low 32 bits, signed.
local function to_int(x)
  local t = x >= 0 and floor(x) or ceil(x)
  if not (t >= -9223372036854775808 and t < 9223372036854775808) then
    t = -9223372036854775808
  end
  t = t % 4294967296
  if t >= 2147483648 then t = t - 4294967296 end
  return t
end

-- luaL_checkint: numbers and numeric strings.
local function check_int(fname, n, present, value)
  local number = tonumber(value)
  if number == nil or (type_raw(value) ~= "number" and type_raw(value) ~= "string") then
    bad_argument_bare(n, fname, "number expected, got " .. typename(present, value))
  end
  return to_int(number)
end

local function check_table(fname, n, present, value)
  if type_raw(value) ~= "table" then
    bad_argument(n, fname, "table expected, got " .. typename(present, value), 2)
  end
end

-- Read-only tables ------------------------------------------------------
local READONLY = "Attempt to modify a readonly table"
local real_of = {}  -- proxy -> the table it protects

local function refuse_write()
  error(READONLY, 2)
end

local function protect(real)
  local proxy = {}
  setmetatable_raw(proxy, {__index = real, __newindex = refuse_write})
  real_of[proxy] = real
  return proxy
end

-- The globals: G stays the thread's global table (so loadstring'd chunks
-- and the script share it) but holds nothing; H holds the names.
local H = {}
setmetatable_raw(H, {__index = function(_, name)
  -- Only Lua code gets the error. lupa itself looks globals up from C
  -- ("debug", for tracebacks) outside any protected call, where an error
  -- would abort the process: it reads nil.
  local caller = getinfo(2, "S")
  if caller == nil or caller.what == "C" then return nil end
  local kind = type_raw(name)
  if kind ~= "string" and kind ~= "number" then
    error("Second argument to luaProtectedTableError must be a string or number", 2)
  end
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end})

-- What getmetatable shows for protected tables: read-only views that do
-- not lead to the real tables.
local metatable_view = {}

-- The Python callables scripts can reach: ``type`` calls them functions.
local python_functions = {}

-- Leaf functions written in Lua but exposed as Python callables, so that to
-- Lua they are C functions as in Redis. Python calls them back through
-- entry.leaf under pcall and raises their error at the caller's position.
local leaf_functions = {}

local function as_c_function(fn)
  local id = #leaf_functions + 1
  leaf_functions[id] = fn
  local callable = py.leaf(id)
  python_functions[callable] = true
  return callable
end

local function type_wrapped(...)
  if select("#", ...) == 0 then bad_argument(1, "type", "value expected") end
  local value = ...
  local kind = type_raw(value)
  if kind == "userdata" and python_functions[value] then return "function" end
  return kind
end

local function next_wrapped(...)
  local t, k = ...
  check_table("next", 1, select("#", ...) >= 1, t)
  return next_raw(real_of[t] or t, k)
end

local function pairs_wrapped(...)
  local t = ...
  check_table("pairs", 1, select("#", ...) >= 1, t)
  return next_raw, real_of[t] or t, nil
end

local function rawget_wrapped(...)
  local t, k = ...
  local n = select("#", ...)
  check_table("rawget", 1, n >= 1, t)
  if n < 2 then bad_argument(2, "rawget", "value expected") end
  return rawget_raw(real_of[t] or t, k)
end

local function rawset_wrapped(...)
  local t, k, v = ...
  local n = select("#", ...)
  check_table("rawset", 1, n >= 1, t)
  if n < 2 then bad_argument(2, "rawset", "value expected") end
  if n < 3 then bad_argument(3, "rawset", "value expected") end
  if real_of[t] then error(READONLY, 0) end
  return rawset_raw(t, k, v)
end

local function getmetatable_wrapped(...)
  local t = ...
  if select("#", ...) < 1 then bad_argument(1, "getmetatable", "value expected") end
  if real_of[t] or t == NULL then return metatable_view[t] end
  if type_raw(t) == "string" then return metatable_view[string_metatable] end
  return getmetatable_raw(t)
end

local function setmetatable_wrapped(...)
  local t, mt = ...
  check_table("setmetatable", 1, select("#", ...) >= 1, t)
  if mt ~= nil and type_raw(mt) ~= "table" then
    bad_argument(2, "setmetatable", "nil or table expected")
  end
  if real_of[t] then error(READONLY, 0) end
  local current = getmetatable_raw(t)
  if current ~= nil and rawget_raw(current, "__metatable") ~= nil then
    error("cannot change a protected metatable", 2)
  end
  return setmetatable_raw(t, mt)
end

-- Redis 7.0 parses a precompiled chunk as text: it fails on its first byte.
local function refuse_bytecode(source, chunkname)
  local _, message = loadstring_raw("\1" .. sub(source, 2), chunkname)
  return nil, (gsub(message, "near 'char%(1%)'$", "near 'char(27)'"))
end

local function check_chunkname(fname, chunkname)
  local kind = type_raw(chunkname)
  if chunkname ~= nil and kind ~= "string" and kind ~= "number" then
    bad_argument(2, fname, "string expected, got " .. kind, 2)
  end
end

local function loadstring_wrapped(...)
  local source, chunkname = ...
  local kind = type_raw(source)
  if kind ~= "string" and kind ~= "number" then
    bad_argument(1, "loadstring", "string expected, got " .. typename(select("#", ...) >= 1,
                                                                       source))
  end
  check_chunkname("loadstring", chunkname)
  source = tostring(source)
  if byte(source, 1) == 27 then
    return refuse_bytecode(source, chunkname or source)
  end
  return loadstring_raw(source, chunkname)
end

local function load_wrapped(...)
  local reader, chunkname = ...
  if type_raw(reader) ~= "function" then
    bad_argument(1, "load", "function expected, got " .. typename(select("#", ...) >= 1, reader))
  end
  check_chunkname("load", chunkname)
  local pieces = {}
  while true do
    local piece = reader()
    if piece == nil or piece == "" then break end
    if type_raw(piece) ~= "string" and type_raw(piece) ~= "number" then
      return nil, "reader function must return a string"
    end
    pieces[#pieces + 1] = piece
  end
  local source = concat(pieces)
  chunkname = chunkname or "=(load)"
  if byte(source, 1) == 27 then
    return refuse_bytecode(source, chunkname)
  end
  return loadstring_raw(source, chunkname)
end

-- Redis's pcall: an error table (what redis.call throws) comes back as
-- its message, as errors were strings before Redis 7.
local function pcall_result(ok, ...)
  if ok then return true, ... end
  local e = unwrap((...))
  if type_raw(e) == "table" then
    local message = e.err
    if type_raw(message) == "string" or type_raw(message) == "number" then
      return false, message
    end
  end
  return false, e
end

local function redis_pcall(...)
  if select("#", ...) == 0 then bad_argument(1, "pcall", "value expected") end
  return pcall_result(pcall_raw(...))
end

local function xpcall_wrapped(f, handler)
  return xpcall_raw(f, function(e) return handler(unwrap(e)) end)
end

local function resume_result(ok, ...)
  if ok then return true, ... end
  return false, unwrap((...))
end

local function resume_wrapped(...)
  return resume_result(resume_raw(...))
end

-- redis.* ---------------------------------------------------------------
-- luaPushErrorBuff: "-CODE message" or "message" (code ERR) as {err=...}.
local function error_table(buffer)
  local code, message
  if sub(buffer, 1, 1) == "-" then
    local space = find(buffer, " ", 1, true)
    if space then
      code, message = sub(buffer, 2, space - 1), sub(buffer, space + 1)
    else
      code, message = "ERR", sub(buffer, 2)
    end
  else
    code, message = "ERR", buffer
  end
  message = gsub(gsub(message, "^[\r\n]+", ""), "[\r\n]+$", "")
  return {err = code .. " " .. message}
end

local function raise(message)
  error(error_table(message))
end

local redis = {}
redis.call = py.call
redis.pcall = py.pcall
redis.acl_check_cmd = py.acl_check_cmd
redis.sha1hex = py.sha1hex

redis.error_reply = function(...)
  local s = ...
  if select("#", ...) ~= 1 or type_raw(s) ~= "string" then
    return error_table("wrong number or type of arguments")
  end
  if sub(s, 1, 1) ~= "-" then s = "-" .. s end
  return error_table(s)
end

redis.status_reply = function(...)
  local s = ...
  if select("#", ...) ~= 1 or type_raw(s) ~= "string" then
    return error_table("wrong number or type of arguments")
  end
  return {ok = s}
end

redis.log = as_c_function(function(...)
  local n = select("#", ...)
  if n < 2 then raise("redis.log() requires two arguments or more.") end
  local first = ...
  local level = tonumber(first)
  if level == nil or (type_raw(first) ~= "number" and type_raw(first) ~= "string") then
    raise("First argument must be a number (log level).")
  end
  level = to_int(level)
  if level < 0 or level > 3 then raise("Invalid debug level.") end
  local parts = {}
  for i = 2, n do
    local part = select(i, ...)
    local kind = type_raw(part)
    if kind == "string" or kind == "number" then parts[#parts + 1] = tostring(part) end
  end
  py.log(level, concat(parts, " "))
end)

redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3

redis.setresp = as_c_function(function(...)
  if select("#", ...) ~= 1 then raise("redis.setresp() requires one argument.") end
  local resp = to_int(tonumber((...)) or 0)
  if resp ~= 2 and resp ~= 3 then raise("RESP version must be 2 or 3.") end
  if resp == 3 then
    raise("minikv does not support RESP3 replies inside scripts (redis.setresp(3))")
  end
end)

redis.set_repl = as_c_function(function(...)
  if select("#", ...) ~= 1 then raise("redis.set_repl() requires two arguments.") end
  local flags = to_int(tonumber((...)) or 0)
  if flags < 0 or flags > 3 then
    raise("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
  end
end)

redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL =
    0, 1, 2, 2, 3

redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.REDIS_VERSION = py.version
redis.REDIS_VERSION_NUM = py.version_num

local bit = {}
for name, fn in next_raw, py.bit do bit[name] = fn end

-- cjson (lua-cjson 2.1.0) ----------------------------------------------
local ESCAPES = {}
for i = 0, 31 do ESCAPES[char(i)] = format("\\u%04x", i) end
ESCAPES["\b"], ESCAPES["\t"], ESCAPES["\n"], ESCAPES["\f"], ESCAPES["\r"] =
    "\\b", "\\t", "\\n", "\\f", "\\r"
ESCAPES['"'], ESCAPES["\\"], ESCAPES["/"], ESCAPES[char(127)] = '\\"', "\\\\", "\\/", "\\u007f"

local UNESCAPES = {[34] = '"', [92] = "\\", [47] = "/", [98] = "\b", [116] = "\t",
                   [110] = "\n", [102] = "\f", [114] = "\r"}

local function json_string(s)
  return '"' .. gsub(s, '[%c"\\/]', ESCAPES) .. '"'
end

local function json_number(cfg, n)
  if n ~= n or n == huge or n == -huge then
    if cfg.encode_invalid_numbers == 0 then
      throw("Cannot serialise number: must not be NaN or Inf")
    elseif cfg.encode_invalid_numbers == 2 then
      return "null"
    elseif n ~= n then
      return "nan"
    end
  end
  return format("%." .. cfg.encode_number_precision .. "g", n)
end

local function array_length(cfg, t)
  local max, items = 0, 0
  for k in next_raw, t do
    if type_raw(k) == "number" and k ~= 0 and floor(k) == k and k >= 1 then
      if k > max then max = k end
      items = items + 1
    else
      return -1
    end
  end
  if cfg.encode_sparse_ratio > 0 and max > items * cfg.encode_sparse_ratio
      and max > cfg.encode_sparse_safe then
    if cfg.encode_sparse_convert == 0 then
      throw("Cannot serialise table: excessively sparse array")
    end
    return -1
  end
  return max
end

local function encode_value(cfg, value, depth, out)
  local kind = type_raw(value)
  if kind == "string" then
    out[#out + 1] = json_string(value)
  elseif kind == "number" then
    out[#out + 1] = json_number(cfg, value)
  elseif kind == "boolean" then
    out[#out + 1] = value and "true" or "false"
  elseif kind == "table" then
    depth = depth + 1
    if depth > cfg.encode_max_depth then
      throw(format("Cannot serialise, excessive nesting (%d)", depth))
    end
    local t = real_of[value] or value
    local length = array_length(cfg, t)
    if length > 0 then
      out[#out + 1] = "["
      for i = 1, length do
        if i > 1 then out[#out + 1] = "," end
        encode_value(cfg, rawget_raw(t, i), depth, out)
      end
      out[#out + 1] = "]"
    else
      out[#out + 1] = "{"
      local comma = false
      for k, v in next_raw, t do
        if comma then out[#out + 1] = "," else comma = true end
        local key_kind = type_raw(k)
        if key_kind == "number" then
          out[#out + 1] = '"' .. json_number(cfg, k) .. '":'
        elseif key_kind == "string" then
          out[#out + 1] = json_string(k) .. ":"
        else
          throw("Cannot serialise " .. key_kind .. ": table key must be a number or string")
        end
        encode_value(cfg, v, depth, out)
      end
      out[#out + 1] = "}"
    end
  elseif kind == "nil" or value == NULL then
    out[#out + 1] = "null"
  else
    throw("Cannot serialise " .. kind .. ": type not supported")
  end
end

-- strtod's reach at s[pos]: (value, position after it) or nil.
local function strtod(s, pos)
  local p = pos
  local c = byte(s, p)
  if c == 43 or c == 45 then p = p + 1 end
  local word = lower(sub(s, p, p + 7))
  if sub(word, 1, 3) == "inf" then
    local stop = (word == "infinity") and p + 8 or p + 3
    return tonumber(sub(s, pos, stop - 1)), stop
  end
  if sub(word, 1, 3) == "nan" then
    local stop = p + 3
    local _, close = find(s, "^%([%w_]*%)", stop)
    if close then stop = close + 1 end
    return tonumber(sub(s, pos, p + 2)), stop
  end
  local stop
  if byte(s, p) == 48 and (byte(s, p + 1) == 120 or byte(s, p + 1) == 88) then
    local _, last = find(s, "^%x*%.?%x*", p + 2)
    if find(sub(s, p + 2, last), "%x") then
      stop = last + 1
      local _, exp_last = find(s, "^[pP][+-]?%d+", stop)
      if exp_last then stop = exp_last + 1 end
    else
      stop = p + 1  -- "0x" without digits: strtod reads the 0
    end
  else
    local _, last = find(s, "^%d*%.?%d*", p)
    if not find(sub(s, p, last), "%d") then return nil end
    stop = last + 1
    local _, exp_last = find(s, "^[eE][+-]?%d+", stop)
    if exp_last then stop = exp_last + 1 end
  end
  return tonumber(sub(s, pos, stop - 1)), stop
end

-- json_is_invalid_number: numbers strict JSON refuses but strtod reads.
local function invalid_number(s, pos)
  local c = byte(s, pos)
  if c == 43 then return true end
  if c == 45 then
    pos = pos + 1
    c = byte(s, pos)
  end
  if c == 48 then
    local c2 = byte(s, pos + 1) or 0
    return c2 == 120 or c2 == 88 or (c2 >= 48 and c2 <= 57)
  end
  if c == nil or c <= 57 then return false end
  local word = lower(sub(s, pos, pos + 2))
  return word == "inf" or word == "nan"
end

local function hex4(s, pos)
  local digits = sub(s, pos, pos + 3)
  if #digits < 4 or find(digits, "%X") then return nil end
  return tonumber(digits, 16)
end

local function utf8(codepoint)
  if codepoint <= 0x7F then return char(codepoint) end
  if codepoint <= 0x7FF then
    return char(floor(codepoint / 64) + 0xC0, codepoint % 64 + 0x80)
  end
  if codepoint <= 0xFFFF then
    return char(floor(codepoint / 4096) + 0xE0, floor(codepoint / 64) % 64 + 0x80,
                codepoint % 64 + 0x80)
  end
  return char(floor(codepoint / 262144) + 0xF0, floor(codepoint / 4096) % 64 + 0x80,
              floor(codepoint / 64) % 64 + 0x80, codepoint % 64 + 0x80)
end

local SINGLE = {[123] = "T_OBJ_BEGIN", [125] = "T_OBJ_END", [91] = "T_ARR_BEGIN",
                [93] = "T_ARR_END", [44] = "T_COMMA", [58] = "T_COLON"}
local LETTERS = {[102] = true, [105] = true, [73] = true, [110] = true, [78] = true,
                 [116] = true, [43] = true}

-- One JSON text -> Lua value. Token positions are 1-based, as in messages.
local function decode_json(cfg, s)
  local pos, depth = 1, 0

  local function string_token(start)
    pos = pos + 1
    local parts = {}
    while true do
      local at = find(s, '[\\"]', pos)
      if at == nil then
        pos = #s + 1
        return "T_ERROR", "unexpected end of string", pos
      end
      if at > pos then parts[#parts + 1] = sub(s, pos, at - 1) end
      if byte(s, at) == 34 then
        pos = at + 1
        return "T_STRING", concat(parts), start
      end
      local code = byte(s, at + 1)
      if code == 117 then
        local codepoint = hex4(s, at + 2)
        local length = 6
        if codepoint and codepoint >= 0xD800 and codepoint <= 0xDFFF then
          local low = nil
          if codepoint < 0xDC00 and sub(s, at + 6, at + 7) == "\\u" then
            low = hex4(s, at + 8)
          end
          if low and low >= 0xDC00 and low <= 0xDFFF then
            codepoint = (codepoint - 0xD800) * 1024 + (low - 0xDC00) + 0x10000
            length = 12
          else
            codepoint = nil
          end
        end
        if codepoint == nil then
          pos = at
          return "T_ERROR", "invalid unicode escape code", at
        end
        parts[#parts + 1] = utf8(codepoint)
        pos = at + length
      else
        local unescaped = UNESCAPES[code]
        if unescaped == nil then
          pos = at
          return "T_ERROR", "invalid escape code", at
        end
        parts[#parts + 1] = unescaped
        pos = at + 2
      end
    end
  end

  local function number_token(start)
    local value, stop = strtod(s, pos)
    if value == nil then return "T_ERROR", "invalid number", start end
    pos = stop
    return "T_NUMBER", value, start
  end

  local function next_token()
    local c = byte(s, pos)
    while c == 32 or c == 9 or c == 10 or c == 13 do
      pos = pos + 1
      c = byte(s, pos)
    end
    local start = pos
    if c == nil then return "T_END", nil, start end
    local single = SINGLE[c]
    if single then
      pos = pos + 1
      return single, nil, start
    end
    if c == 34 then return string_token(start) end
    if c == 45 or (c >= 48 and c <= 57) then
      if cfg.decode_invalid_numbers == 0 and invalid_number(s, pos) then
        return "T_ERROR", "invalid number", start
      end
      return number_token(start)
    end
    if LETTERS[c] then
      if sub(s, pos, pos + 3) == "true" then
        pos = pos + 4
        return "T_BOOLEAN", true, start
      elseif sub(s, pos, pos + 4) == "false" then
        pos = pos + 5
        return "T_BOOLEAN", false, start
      elseif sub(s, pos, pos + 3) == "null" then
        pos = pos + 4
        return "T_NULL", nil, start
      elseif cfg.decode_invalid_numbers ~= 0 and invalid_number(s, pos) then
        return number_token(start)
      end
    end
    return "T_ERROR", "invalid token", start
  end

  local function fail(expected, kind, value, index)
    local found = kind == "T_ERROR" and value or kind
    throw(format("Expected %s but found %s at character %d", expected, found, index))
  end

  local parse_value

  local function descend()
    depth = depth + 1
    if depth > cfg.decode_max_depth then
      throw(format("Found too many nested data structures (%d) at character %d", depth, pos - 1))
    end
  end

  local function parse_object()
    descend()
    local t = {}
    local kind, value, index = next_token()
    if kind == "T_OBJ_END" then
      depth = depth - 1
      return t
    end
    while true do
      if kind ~= "T_STRING" then fail("object key string", kind, value, index) end
      local key = value
      kind, value, index = next_token()
      if kind ~= "T_COLON" then fail("colon", kind, value, index) end
      rawset_raw(t, key, parse_value(next_token()))
      kind, value, index = next_token()
      if kind == "T_OBJ_END" then
        depth = depth - 1
        return t
      end
      if kind ~= "T_COMMA" then fail("comma or object end", kind, value, index) end
      kind, value, index = next_token()
    end
  end

  local function parse_array()
    descend()
    local t = {}
    local kind, value, index = next_token()
    if kind == "T_ARR_END" then
      depth = depth - 1
      return t
    end
    local i = 1
    while true do
      rawset_raw(t, i, parse_value(kind, value, index))
      i = i + 1
      kind, value, index = next_token()
      if kind == "T_ARR_END" then
        depth = depth - 1
        return t
      end
      if kind ~= "T_COMMA" then fail("comma or array end", kind, value, index) end
      kind, value, index = next_token()
    end
  end

  parse_value = function(kind, value, index)
    if kind == "T_STRING" or kind == "T_NUMBER" or kind == "T_BOOLEAN" then return value end
    if kind == "T_OBJ_BEGIN" then return parse_object() end
    if kind == "T_ARR_BEGIN" then return parse_array() end
    if kind == "T_NULL" then return NULL end
    fail("value", kind, value, index)
  end

  local result = parse_value(next_token())
  local kind, value, index = next_token()
  if kind ~= "T_END" then fail("the end", kind, value, index) end
  return result
end

-- json_arg_init / json_integer_option / json_enum_option.
local function too_many(fname, limit, ...)
  if select("#", ...) > limit then
    bad_argument_bare(limit + 1, fname, "found too many arguments")
  end
end

local function integer_option(fname, cfg, field, n, value, low, high)
  if value ~= nil then
    local v = check_int(fname, n, true, value)
    if not (low <= v and v <= high) then
      bad_argument_bare(1, fname, format("expected integer between %d and %d", low, high))
    end
    cfg[field] = v
  end
  return cfg[field]
end

local function enum_option(fname, cfg, field, n, value, options)
  if value ~= nil then
    if type_raw(value) == "boolean" then
      cfg[field] = value and 1 or 0
    else
      if type_raw(value) ~= "string" and type_raw(value) ~= "number" then
        bad_argument_bare(n, fname, "string expected, got " .. type_raw(value))
      end
      local found = nil
      for i, name in ipairs(options) do
        if name == tostring(value) then found = i - 1 end
      end
      if found == nil then
        bad_argument_bare(n, fname, "invalid option '" .. tostring(value) .. "'")
      end
      cfg[field] = found
    end
  end
  local setting = cfg[field]
  if setting == 0 or setting == 1 then return setting == 1 end
  return options[setting + 1]
end

local ON_OFF = {"off", "on"}
local INVALID_NUMBERS = {"off", "on", "null"}

local cjson_configs = {}  -- instance id -> settings (each cjson.new() has its own)

local function new_cjson()
  local id = #cjson_configs + 1
  local cfg = {encode_sparse_convert = 0, encode_sparse_ratio = 2, encode_sparse_safe = 10,
               encode_max_depth = 1000, decode_max_depth = 1000, encode_invalid_numbers = 0,
               decode_invalid_numbers = 1, encode_keep_buffer = 1, encode_number_precision = 14}
  cjson_configs[id] = cfg
  local cjson = {}
  cjson.encode, cjson.decode = py.cjson_functions(id)
  python_functions[cjson.encode], python_functions[cjson.decode] = true, true
  cjson.encode_sparse_array = as_c_function(function(...)
    too_many("encode_sparse_array", 3, ...)
    local convert, ratio, safe = ...
    return enum_option("encode_sparse_array", cfg, "encode_sparse_convert", 1, convert, ON_OFF),
        integer_option("encode_sparse_array", cfg, "encode_sparse_ratio", 2, ratio, 0, 2147483647),
        integer_option("encode_sparse_array", cfg, "encode_sparse_safe", 3, safe, 0, 2147483647)
  end)
  cjson.encode_max_depth = as_c_function(function(...)
    too_many("encode_max_depth", 1, ...)
    return integer_option("encode_max_depth", cfg, "encode_max_depth", 1, (...), 1, 2147483647)
  end)
  cjson.decode_max_depth = as_c_function(function(...)
    too_many("decode_max_depth", 1, ...)
    return integer_option("decode_max_depth", cfg, "decode_max_depth", 1, (...), 1, 2147483647)
  end)
  cjson.encode_number_precision = as_c_function(function(...)
    too_many("encode_number_precision", 1, ...)
    return integer_option("encode_number_precision", cfg, "encode_number_precision", 1, (...),
                          1, 14)
  end)
  cjson.encode_keep_buffer = as_c_function(function(...)
    too_many("encode_keep_buffer", 1, ...)
    return enum_option("encode_keep_buffer", cfg, "encode_keep_buffer", 1, (...), ON_OFF)
  end)
  cjson.encode_invalid_numbers = as_c_function(function(...)
    too_many("encode_invalid_numbers", 1, ...)
    return enum_option("encode_invalid_numbers", cfg, "encode_invalid_numbers", 1, (...),
                       INVALID_NUMBERS)
  end)
  cjson.decode_invalid_numbers = as_c_function(function(...)
    too_many("decode_invalid_numbers", 1, ...)
    return enum_option("decode_invalid_numbers", cfg, "decode_invalid_numbers", 1, (...), ON_OFF)
  end)
  cjson.new = new_cjson
  cjson.null = NULL
  cjson._NAME = "cjson"
  cjson._VERSION = "2.1.0"
  return cjson
end

-- The error handler (eval.c's __redis__err__handler) -------------------
-- Redis reports the frame that raised, or its caller when that frame is a
-- C function. Our helper frames (chunk "=minikv") do not exist in Redis.
local function error_handler(err)
  err = unwrap(err)
  local first, chosen
  local level = 2
  while true do
    local info = getinfo(level, "Sl")
    if info == nil then break end
    if info.source ~= INTERNAL then
      if first == nil then
        first = info
        if info.what ~= "C" then
          chosen = info
          break
        end
      else
        chosen = info
        break
      end
    end
    level = level + 1
  end
  if type_raw(err) ~= "table" then err = {err = "ERR " .. tostring(err)} end
  if chosen then
    err.source = chosen.source
    err.line = chosen.currentline
  end
  return err
end

-- Build the globals --------------------------------------------------------
math.random = py.random
math.randomseed = py.randomseed
coroutine.resume = resume_wrapped
for _, fn in next_raw, {redis.call, redis.pcall, redis.acl_check_cmd, redis.sha1hex,
                        math.random, math.randomseed} do
  python_functions[fn] = true
end
for _, fn in next_raw, bit do python_functions[fn] = true end

local libraries = {string = string, table = table, math = math, coroutine = coroutine,
                   redis = redis, bit = bit, cjson = new_cjson()}
for name, library in next_raw, libraries do
  H[name] = protect(library)
end
for _, name in next_raw, {"assert", "collectgarbage", "error", "gcinfo", "ipairs", "rawequal",
                          "select", "tonumber", "tostring", "unpack", "_VERSION"} do
  H[name] = G[name]
end
H.type = type_wrapped
H.next, H.pairs, H.rawget, H.rawset = next_wrapped, pairs_wrapped, rawget_wrapped, rawset_wrapped
H.getmetatable, H.setmetatable = getmetatable_wrapped, setmetatable_wrapped
H.loadstring, H.load = loadstring_wrapped, load_wrapped
H.pcall, H.xpcall = redis_pcall, xpcall_wrapped
H.__redis__err__handler = error_handler
H._G = G

local names = {}
for name in next_raw, G do names[#names + 1] = name end
for _, name in next_raw, names do G[name] = nil end
setmetatable_raw(G, {__index = H, __newindex = refuse_write})
real_of[G] = H

metatable_view[G] = protect({__index = protect(H), __newindex = refuse_write})
metatable_view[string_metatable] = protect({__index = H.string})

-- Entry points for engine/scripting.py -------------------------------------
local py_interrupted = py.interrupted
local KILLED = "Script killed by user with SCRIPT KILL..."

local function interrupt_hook()
  if py_interrupted() then
    -- From now on every line fails, so pcall cannot keep the script alive.
    sethook(interrupt_hook, "l")
    -- Fail in the script's own code, as Redis (whose helpers are C, where
    -- no hook runs) does: inside one of our helpers, wait for the next line.
    local running = getinfo(2, "S")
    if running and running.source ~= INTERNAL then
      error(error_table(KILLED))
    end
  end
end

local entry = {}

entry.compile = function(body)
  return loadstring_raw(body, "@user_script")
end

entry.run = function(fn, keys, argv)
  rawset_raw(H, "KEYS", keys)
  rawset_raw(H, "ARGV", argv)
  sethook(interrupt_hook, "", 100000)
  -- One line: a killed script's line hook must not fire after the call.
  local ok, result = xpcall_raw(fn, error_handler); sethook()
  return ok, result
end

-- luaL_where(1) seen from a Python callable that is running: level 1 is
-- this function, 2 the callable (a C function), 3 its caller.
entry.where = function()
  local info = getinfo(3, "Sl")
  if info and info.currentline > 0 then
    return info.short_src .. ":" .. info.currentline .. ": "
  end
  return ""
end

entry.leaf = function(id, ...)
  return pcall_raw(leaf_functions[id], ...)
end

entry.cjson = function(operation, id, value)
  local cfg = cjson_configs[id]
  if operation == "encode" then
    local out = {}
    local ok, message = pcall_raw(encode_value, cfg, value, 0, out)
    if not ok then return false, message end
    return true, concat(out)
  end
  if #value >= 2 and (byte(value, 1) == 0 or byte(value, 2) == 0) then
    return false, "JSON parser does not support UTF-16 or UTF-32"
  end
  local nul = find(value, "\0", 1, true)
  if nul then value = sub(value, 1, nul - 1) end
  return pcall_raw(decode_json, cfg, value)
end

-- One step of luaReplyToRedisReply for a table, in Redis's order. Arrays
-- stop at the first nil; "map" and "set" iterate the table as lua_next does.
entry.classify = function(t)
  local v = t.err
  if type_raw(v) == "string" then return "err", v end
  v = t.ok
  if type_raw(v) == "string" then return "ok", v end
  v = t.double
  if type_raw(v) == "number" then return "double", format("%.17g", v) end
  v = t.big_number
  if type_raw(v) == "string" then return "big_number", v end
  v = t.verbatim_string
  if type_raw(v) == "table" then
    local f, s = v.format, v.string
    if type_raw(f) == "string" and type_raw(s) == "string" then return "verbatim_string", s end
  end
  local items, n = {}, 0
  v = t.map
  if type_raw(v) == "table" then
    for key, value in next_raw, v do
      items[n + 1], items[n + 2] = key, value
      n = n + 2
    end
    return "map", n, items
  end
  v = t.set
  if type_raw(v) == "table" then
    for key in next_raw, v do
      n = n + 1
      items[n] = key
    end
    return "set", n, items
  end
  while true do
    local item = t[n + 1]
    if item == nil then break end
    n = n + 1
    items[n] = item
  end
  return "array", n, items
end

-- luaExtractErrorInformation: err, source and line as strings (or nil).
entry.error_info = function(t)
  local function text(v)
    local kind = type_raw(v)
    if kind == "string" or kind == "number" then return tostring(v) end
  end
  return text(t.err), text(t.source), text(t.line)
end

entry.unpack = unpack
entry.tonumber = tonumber
local py_forget = py.forget
entry.forget = function() py_forget() end

return entry
"""
