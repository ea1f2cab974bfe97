"""What the benchmark scripts share: timing, private servers, worker runs, tables.

Every script in this directory is run as ``python benchmarks/<script>.py``,
so this directory is first on ``sys.path`` and ``import harness`` finds
this module; importing it puts the working tree (the directory above) first
on ``sys.path`` too, so that ``import minikv`` measures this checkout, not
an installed copy. Import it before ``minikv``.

It offers:

- timing a statement: ``time_statement`` (``timeit`` inline loop) and
  ``time_async_statement`` (the same inside a coroutine), both calibrated
  to ~``repeat_ns`` per repeat, warmed up, GC off, best of ``repeats``, in
  µs per statement; ``cell_settings(args)`` turns ``--repeats`` and
  ``--cell-seconds`` into their ``(repeat_ns, repeats)``;
- the command line most scripts have: ``bench_parser`` (``--quick`` and the
  hidden ``--worker``, ``--repeats``, ``--cell-seconds``) and
  ``parse_with_defaults`` (options left unset take their full or
  ``--quick`` value; ``CELL_DEFAULTS`` holds the usual ones);
- columns: ``on_minikv`` / ``on_redis_py`` run a measurement on a fresh
  ``minikv.Redis()`` / on redis-py against a private redis-server
  (``redis_server``: free port, no persistence, stopped afterwards);
  ``minikv_columns`` adds the ``minikv[pure]`` column from a
  ``MINIKV_PURE=1`` run of the script itself (``run_script`` starts such a
  worker and reads the JSON it prints; ``forward`` passes options on);
- ``requests_per_call``: how many requests one statement sends through a
  redis-py client;
- ``p50_p99`` of samples, ``resident_bytes`` (RSS, Linux);
- reporting: ``machine_info`` / ``machine_line`` / ``print_run_header``,
  ``ratio``, ``format_us``, ``format_ratio``, ``print_table`` (columns as
  wide as their cells) and ``print_fixed_table`` (fixed widths).
"""
import argparse
import gc
import json
import os
import platform
import socket
import subprocess
import sys
import textwrap
import time
import timeit
from contextlib import contextmanager
from pathlib import Path

# Measure the working tree these scripts live in, not an installed copy.
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))


# -- timing -------------------------------------------------------------------
def _calibration_step(iterations, elapsed, repeat_ns):
    """One step of calibrating on growing runs (they double as warm-up):
    ``iterations`` took ``elapsed`` ns. Returns (done, iterations): once the
    run was long enough to scale from, the count for a run of ~``repeat_ns``;
    before that, the count to try next."""
    if elapsed >= repeat_ns // 10:
        return True, max(1, iterations * repeat_ns // max(elapsed, 1))
    return False, iterations * (10 if elapsed < repeat_ns // 100 else 2)


def time_statement(statement, namespace, repeat_ns, repeats):
    """Best µs/op of ``repeats`` runs of ``statement``, each ~``repeat_ns`` long.

    A ``timeit.Timer`` on ``time.perf_counter_ns``: the statement is compiled
    inline into the timing loop and the garbage collector is off while it
    runs; after a warm-up run at full length the best repeat counts."""
    timer = timeit.Timer(statement, globals=namespace, timer=time.perf_counter_ns)
    done, iterations = False, 1
    while not done:
        done, iterations = _calibration_step(iterations, timer.timeit(iterations), repeat_ns)
    timer.timeit(iterations)  # warm-up at full length
    best = min(timer.timeit(iterations) for _ in range(repeats))
    return best / iterations / 1000


async def time_async_statement(statement, namespace, repeat_ns, repeats):
    """``time_statement`` for a statement that awaits: ``for _ in range(n):
    <statement>`` in a coroutine compiled for it, run in the current loop."""
    source = "async def run(n):\n    for _ in range(n):\n" + textwrap.indent(statement, " " * 8)
    scope = dict(namespace)
    exec(compile(source, "<benchmark>", "exec"), scope)
    run = scope["run"]

    async def timed(iterations):
        gc.disable()
        try:
            started = time.perf_counter_ns()
            await run(iterations)
            return time.perf_counter_ns() - started
        finally:
            gc.enable()

    done, iterations = False, 1
    while not done:
        done, iterations = _calibration_step(iterations, await timed(iterations), repeat_ns)
    await timed(iterations)  # warm-up at full length
    best = min([await timed(iterations) for _ in range(repeats)])
    return best / iterations / 1000


def cell_settings(args):
    """(repeat_ns, repeats) for ``time_statement`` from --cell-seconds and --repeats."""
    return int(args.cell_seconds * 1e9 / args.repeats), args.repeats


# -- command line -------------------------------------------------------------
QUICK_HELP = "3 repeats of ~0.1 s per cell instead of 5 of ~0.2 s"
# option -> (value of a full run, value with --quick), for options left unset
CELL_DEFAULTS = {"repeats": (5, 3), "cell_seconds": (0.2, 0.1)}


def bench_parser(doc, quick_help=QUICK_HELP, cells=True):
    """A parser described by the first paragraph of ``doc``, with --quick and
    the hidden options of a worker run: --worker, --repeats and (``cells``)
    --cell-seconds. Add the script's own options to it."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--repeats", type=int, help=argparse.SUPPRESS)
    if cells:
        parser.add_argument("--cell-seconds", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser


def parse_with_defaults(parser, argv, defaults):
    """Parse ``argv``; every option of ``defaults`` (dest -> (full, quick))
    left unset takes the value for this run's mode."""
    args = parser.parse_args(argv)
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    return args


def forward(args, *names):
    """Command-line words passing the options ``names`` (dests) on as they are."""
    words = []
    for name in names:
        words += ["--" + name.replace("_", "-"), str(getattr(args, name))]
    return words


# -- subprocesses ---------------------------------------------------------------
PURE = {"MINIKV_PURE": "1"}


def run_script(script, arguments, environment, what):
    """Run ``script`` (a path) with this interpreter and ``arguments``; the
    environment is this one with the changes ``environment`` names (a value
    of None removes the variable). Returns the JSON it printed on stdout;
    raises RuntimeError with its stderr, naming it ``what``, if it failed."""
    env = dict(os.environ)
    for name, value in environment.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    command = [sys.executable, str(Path(script).resolve()), *arguments]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process):
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def redis_server(binary):
    """A private redis-server without persistence on a free port: yields the
    port once it answers PING, stops the server on exit."""
    import redis

    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with redis.Redis(port=port) as probe:
            deadline = time.monotonic() + 10
            while True:
                try:
                    probe.ping()
                    break
                except redis.exceptions.ConnectionError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("private redis-server did not start") from None
                    time.sleep(0.05)
        yield port
    finally:
        stop_process(process)


# -- columns --------------------------------------------------------------------
def on_minikv(measure, *arguments):
    """(minikv.BACKEND, ``measure(client, *arguments)``) on a fresh
    ``minikv.Redis()``, closed afterwards."""
    import minikv

    with minikv.Redis() as client:
        return minikv.BACKEND, measure(client, *arguments)


def on_redis_py(binary, measure, *arguments):
    """``measure(client, *arguments)`` on a ``redis.Redis`` connected to a
    private redis-server (``redis_server``), both closed afterwards."""
    import redis

    with redis_server(binary) as port, redis.Redis(port=port) as client:
        return measure(client, *arguments)


def minikv_columns(script, measure_here, worker_arguments):
    """(backend, columns) of a comparison: ``minikv[<backend>]`` from
    ``measure_here()`` (which returns (backend, results)) and, unless that
    backend is the pure one, ``minikv[pure]``: what ``script --worker
    *worker_arguments`` prints under ``MINIKV_PURE=1`` (the script's worker
    mode prints ``measure_here()``'s results as JSON)."""
    backend, results = measure_here()
    columns = {f"minikv[{backend}]": results}
    if backend != "pure":
        columns["minikv[pure]"] = run_script(script, ["--worker", *worker_arguments], PURE,
                                             "MINIKV_PURE=1 worker")
    return backend, columns


def requests_per_call(client, statement, namespace):
    """How many requests one run of ``statement`` sends through the redis-py
    ``client`` (counted on its ``execute_command``). It runs once uncounted
    first: a first EVALSHA also loads its script."""
    exec(statement, namespace)
    sent = []
    execute = client.execute_command
    client.execute_command = lambda *args, **options: sent.append(args[0]) or execute(
        *args, **options)
    try:
        exec(statement, namespace)
    finally:
        del client.execute_command
    return len(sent)


# -- measurements -------------------------------------------------------------
def p50_p99(samples):
    """(median, 99th percentile) of ``samples``, nearest rank below."""
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)]


def resident_bytes():
    """Current RSS from /proc (Linux); None where that is unavailable."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


# -- report ---------------------------------------------------------------------
def machine_info():
    import redis

    info = {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "platform": platform.platform(), "cpus": os.cpu_count(), "redis-py": redis.__version__}
    try:
        import fakeredis
        info["fakeredis"] = fakeredis.__version__
    except ImportError:
        pass
    return info


def machine_line():
    """``machine_info()`` on one line, as ``key=value`` words."""
    return " ".join(f"{key}={value}" for key, value in machine_info().items())


def print_run_header(info, backend, args, remarks):
    """The lines above a µs/op table: backend, machine, library versions,
    timing settings, then a ``note:`` per remark and a blank line."""
    print(f"minikv.BACKEND = {backend} | Python {info['python']} ({info['implementation']}) | "
          f"{info['platform']} | {info['cpus']} CPUs")
    print(f"redis-py {info['redis-py']}, fakeredis {info.get('fakeredis', 'missing')}; "
          f"best of {args.repeats} repeats, ~{args.cell_seconds:g} s per cell, GC off while timing")
    for remark in remarks:
        print(f"note: {remark}")
    print()


def ratio(numerator, denominator):
    if numerator is None or denominator is None:
        return None
    return numerator / denominator


def format_us(value):
    if value is None:
        return "n/a"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def format_ratio(value):
    return "n/a" if value is None else f"{value:.1f}x"


def print_table(title, columns, rows):
    """``rows`` of strings (label, then one cell per column) under ``title``
    and ``columns``; each column as wide as its widest cell."""
    widths = [max(len(title), *(len(row[0]) for row in rows))]
    widths += [max(len(column), *(len(row[i + 1]) for row in rows))
               for i, column in enumerate(columns)]
    print("  ".join([title.ljust(widths[0])] +
                    [column.rjust(width) for column, width in zip(columns, widths[1:])]))
    for row in rows:
        print("  ".join([row[0].ljust(widths[0])] +
                        [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]))


def print_fixed_table(title, label_width, columns, rows, cell_width, cell, extras=()):
    """A table of fixed widths: one line per name in ``rows``, one cell per
    column of ``columns`` ({name: {row: value}}), ``cell(row, value)`` its
    text ("n/a" where the column has no such row); then each of ``extras``,
    (header, width, text(row)), as one more column."""
    print(f"{title:<{label_width}}" + "".join(f"{name:>{cell_width}}" for name in columns)
          + "".join(f"{header:>{width}}" for header, width, _ in extras))
    for row in rows:
        cells = "".join(f"{cell(row, column[row]) if row in column else 'n/a':>{cell_width}}"
                        for column in columns.values())
        print(f"{row:<{label_width}}{cells}"
              + "".join(f"{text(row):>{width}}" for _, width, text in extras))
