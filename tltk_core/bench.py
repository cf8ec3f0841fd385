"""Many runs: methods × tasks × seeds × parameters, kept run by run in SQLite.

``tltk bench`` expands a grid into runs, skips those the store already holds,
executes the rest — in this process, in parallel on this machine (joblib's
loky backend), or on a Dask distributed cluster — and writes every run to the
store as it finishes, one transaction per run. An interrupt (Ctrl-C, a killed
process, a lost worker) therefore loses only the runs that were still going;
running the same command again does exactly those.

The store is a SQLite file in WAL mode with a single writer (the process that
runs the grid): workers only compute and return rows. A run is identified by
its key — method, dataset, task, seed and the user's parameters — so the same
grid run twice, or run once locally and once on a cluster, gives the same rows.
"""
from __future__ import annotations

import functools
import json
import math
import os
import sqlite3
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .errors import InputError

SCHEMA_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"

COLUMNS = (
    ("key", "TEXT PRIMARY KEY"),
    ("method", "TEXT NOT NULL"),
    ("dataset", "TEXT NOT NULL"),
    ("task", "TEXT NOT NULL"),
    ("seed", "INTEGER NOT NULL"),
    ("params", "TEXT NOT NULL"),          # the user's parameters, JSON, sorted keys
    ("status", "TEXT NOT NULL"),          # ok | failed
    ("accuracy", "REAL"),
    ("baseline_accuracy", "REAL"),
    ("strong_baseline_accuracy", "REAL"),
    ("published_accuracy", "REAL"),
    ("fit_seconds", "REAL"),
    ("peak_rss_mib", "REAL"),
    ("distribution", "TEXT"),
    ("method_version", "TEXT"),
    ("tltk_version", "TEXT"),
    ("error", "TEXT"),
    ("warnings", "TEXT"),                 # JSON list of distinct warning messages
    ("result", "TEXT"),                   # the whole JSON result of the run
    ("host", "TEXT"),
    ("started_at", "TEXT"),
    ("finished_at", "TEXT"),
)
COLUMN_NAMES = tuple(name for name, _ in COLUMNS)


# -- runs -------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class RunSpec:
    """One run of the grid. ``params`` is the user's parameters as sorted JSON."""

    dataset: str
    task: str
    method: str
    seed: int
    params: str = "{}"

    @property
    def key(self) -> str:
        return json.dumps([self.method, self.dataset, self.task, self.seed,
                           json.loads(self.params)], sort_keys=True)

    def label(self) -> str:
        extra = "" if self.params == "{}" else f" {self.params}"
        return f"{self.method} on {self.dataset}/{self.task} seed {self.seed}{extra}"


def expand_grid(methods, dataset, tasks, seeds, params=None):
    """Every (method, task, seed) of the grid as a :class:`RunSpec`, in an order
    that keeps the runs of one task together (workers reuse a loaded task).

    ``params``: ``{method: {key: value}}``.
    """
    params = params or {}
    specs = [RunSpec(dataset, task, m, int(seed),
                     json.dumps(params.get(m, {}), sort_keys=True, default=repr))
             for task in tasks for m in methods for seed in seeds]
    if len(set(specs)) != len(specs):
        raise InputError("the grid names the same run twice (repeated method, task or seed)")
    return specs


@functools.lru_cache(maxsize=2)
def _task(dataset, task):
    from .data.benchmarks import load_task

    return load_task(dataset, task)


def _reset_peak_rss():
    """Reset the kernel's high-water mark of this process (Linux), so that the
    peak memory of a run is its own and not that of an earlier run in the same
    long-lived worker. Returns whether it could."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def execute(spec: RunSpec) -> dict:
    """Run one spec; never raises for a failing method: returns a row with
    status ``failed`` and the error. (An interrupt is not a failure: it propagates.)"""
    import platform

    from . import __version__
    from .evaluate import _jsonable, run

    row = dict.fromkeys(COLUMN_NAMES)
    row.update(key=spec.key, method=spec.method, dataset=spec.dataset, task=spec.task,
               seed=spec.seed, params=spec.params, tltk_version=__version__,
               host=platform.node(), started_at=_now())
    caught = []
    try:
        task = _task(spec.dataset, spec.task)
        _reset_peak_rss()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run(spec.method, task, json.loads(spec.params), seed=spec.seed)
        result.pop("predictions", None)
        result.pop("estimator", None)
        row.update(status="ok", accuracy=result["accuracy"],
                   baseline_accuracy=result["baseline_accuracy"],
                   strong_baseline_accuracy=result["strong_baseline_accuracy"],
                   published_accuracy=result["published_accuracy"],
                   fit_seconds=result["fit_seconds"], peak_rss_mib=result["peak_rss_mib"],
                   distribution=result["distribution"], method_version=result["version"],
                   result=json.dumps(_jsonable(result), sort_keys=True))
    except Exception as exc:  # a failing run is recorded, and the grid goes on
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}{where}")
    messages = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    row["warnings"] = json.dumps(messages)
    row["finished_at"] = _now()
    return row


# -- the store --------------------------------------------------------------------
class Store:
    """A SQLite result store. Opening a file that exists but is not a tltk store
    is an error that names it; nothing is ever overwritten or recreated."""

    def __init__(self, path, create=True):
        self.path = Path(path)
        if self.path.is_dir():
            raise InputError(f"--store {self.path}: is a directory")
        exists = self.path.exists() and self.path.stat().st_size > 0
        if exists:
            with open(self.path, "rb") as f:
                head = f.read(len(_SQLITE_MAGIC))
            if head != _SQLITE_MAGIC:
                raise InputError(f"--store {self.path}: not a tltk result store (not a SQLite "
                                 "file); refusing to touch it")
        elif not create:
            raise InputError(f"--store {self.path}: no such store")
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            tables = {r[0] for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")}
            if tables and not {"runs", "meta"} <= tables:
                self.conn.close()
                raise InputError(f"--store {self.path}: a SQLite file but not a tltk result "
                                 f"store (tables: {', '.join(sorted(tables))}); refusing to "
                                 "touch it")
            # only now that the file is known to be ours (or new) may it change
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            raise InputError(f"--store {self.path}: unreadable store ({exc}); refusing to "
                             "touch it") from None
        if not tables:
            with self.conn:
                self.conn.execute("BEGIN")
                self.conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
                self.conn.execute("INSERT INTO meta VALUES ('schema_version', ?)",
                                  (str(SCHEMA_VERSION),))
                cols = ", ".join(f"{n} {t}" for n, t in COLUMNS)
                self.conn.execute(f"CREATE TABLE runs ({cols})")
        else:
            version = self.conn.execute(
                "SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if version is None or int(version[0]) != SCHEMA_VERSION:
                raise InputError(f"--store {self.path}: written by an incompatible tltk "
                                 f"(schema {version and version[0]}, this tltk reads "
                                 f"{SCHEMA_VERSION})")

    def finished(self, include_failed=True):
        """Keys of the runs already stored (ok, and failed unless asked not to)."""
        sql = "SELECT key FROM runs" + ("" if include_failed else " WHERE status='ok'")
        return {r[0] for r in self.conn.execute(sql)}

    def write(self, row):
        """Store one run atomically (a failed run that is re-run is replaced)."""
        placeholders = ", ".join("?" for _ in COLUMN_NAMES)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute(f"INSERT OR REPLACE INTO runs ({', '.join(COLUMN_NAMES)}) "
                              f"VALUES ({placeholders})", [row[c] for c in COLUMN_NAMES])
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def rows(self, keys=None):
        cur = self.conn.execute(f"SELECT {', '.join(COLUMN_NAMES)} FROM runs "
                                "ORDER BY dataset, task, method, params, seed")
        out = [dict(zip(COLUMN_NAMES, r)) for r in cur]
        return out if keys is None else [r for r in out if r["key"] in keys]

    def close(self):
        self.conn.close()


# -- executing a grid ---------------------------------------------------------------
def _local(specs, jobs):
    if jobs == 1:
        for spec in specs:
            yield execute(spec)
        return
    from joblib import Parallel, delayed

    yield from Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")(
        delayed(execute)(s) for s in specs)


def _dask(specs, address):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("--scheduler needs Dask: pip install 'tltk-core[dask]'") from None
    try:
        client = Client(address, timeout="10s")
    except Exception as exc:
        raise InputError(f"--scheduler {address}: cannot connect ({type(exc).__name__}: "
                         f"{exc})") from None
    try:
        futures = client.map(execute, specs, key=[f"tltk-{abs(hash(s.key))}" for s in specs],
                             pure=False)
        by_future = dict(zip(futures, specs))
        for fut in as_completed(futures):
            try:
                yield fut.result()
            except Exception as exc:  # the worker died, or the run could not be shipped
                row = dict.fromkeys(COLUMN_NAMES)
                spec = by_future[fut]
                row.update(key=spec.key, method=spec.method, dataset=spec.dataset,
                           task=spec.task, seed=spec.seed, params=spec.params,
                           status="failed", error=f"{type(exc).__name__}: {exc}",
                           warnings="[]", finished_at=_now())
                yield row
    finally:
        client.close()


def run_grid(specs, store, jobs=1, scheduler=None, retry_failed=False, on_row=None):
    """Run every spec the store does not hold yet; write each row as it arrives.

    Returns ``(todo, done)``: the specs that had to run and the rows written.
    ``on_row(row, n_done, n_todo)`` is called after each write (progress).
    """
    have = store.finished(include_failed=not retry_failed)
    todo = [s for s in specs if s.key not in have]
    done = []
    if not todo:
        return todo, done
    source = _dask(todo, scheduler) if scheduler else _local(todo, jobs)
    try:
        for row in source:
            store.write(row)
            done.append(row)
            if on_row is not None:
                on_row(row, len(done), len(todo))
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
    return todo, done


# -- progress ---------------------------------------------------------------------
def _clock(seconds):
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class GridProgress:
    """One line per finished run on stderr, and on a terminal a bar with counts,
    elapsed and estimated remaining time that redraws under them."""

    def __init__(self, total, skipped=0, stream=None, width=24):
        self.total, self.skipped = total, skipped
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.width = width
        self.start = time.monotonic()
        self.failed = 0

    def bar(self, done):
        frac = done / self.total if self.total else 1.0
        filled = int(round(self.width * frac))
        elapsed = time.monotonic() - self.start
        remaining = elapsed / done * (self.total - done) if done else float("nan")
        rest = "?" if math.isnan(remaining) else _clock(remaining)
        failed = f", {self.failed} failed" if self.failed else ""
        return (f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total} runs"
                f"{failed} · elapsed {_clock(elapsed)} · remaining {rest}")

    def __call__(self, row, done, total):
        if row["status"] != "ok":
            self.failed += 1
        if row["status"] == "ok":
            acc = "n/a" if row["accuracy"] is None else f"{100 * row['accuracy']:.2f}%"
            base = ("" if row["baseline_accuracy"] is None
                    else f" (baseline {100 * row['baseline_accuracy']:.2f}%)")
            what = f"{acc}{base} in {row['fit_seconds']:.1f} s"
        else:
            what = f"FAILED: {row['error']}"
        spec = RunSpec(row["dataset"], row["task"], row["method"], row["seed"], row["params"])
        line = f"  {spec.label()}: {what}"
        if self.tty:
            self.stream.write(f"\r\033[K{line}\n{self.bar(done)}")
            if done == total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{done}/{total}] {line.strip()}\n")
        self.stream.flush()


# -- summaries ------------------------------------------------------------------------
def _mean_std(values):
    import statistics

    if not values:
        return None, None
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else None)


_LOUD = ("SuspiciousResultWarning", "NotConvergedWarning")


def _suspicious(row):
    """Whether a run warned that its result looks broken (collapse, no convergence,
    an adversary that never moved)."""
    return any(name in (row.get("warnings") or "") for name in _LOUD)


def summarise(rows):
    """One line per (dataset, task, method, params): accuracy mean ± std over
    seeds, the baseline, the gain, the published number, counts."""
    groups = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["task"], r["method"], r["params"]), []).append(r)
    out = []
    for (dataset, task, method, params), rs in sorted(groups.items()):
        ok = [r for r in rs if r["status"] == "ok" and r["accuracy"] is not None]
        acc, acc_sd = _mean_std([r["accuracy"] for r in ok])
        base, _ = _mean_std([r["baseline_accuracy"] for r in ok
                             if r["baseline_accuracy"] is not None])
        strong, _ = _mean_std([r["strong_baseline_accuracy"] for r in ok
                               if r.get("strong_baseline_accuracy") is not None])
        pub = next((r["published_accuracy"] for r in ok if r["published_accuracy"] is not None),
                   None)
        gain = None if acc is None or base is None else acc - base
        # a gain within the spread over seeds is not told apart from no gain
        significant = (None if gain is None or acc_sd is None
                       else bool(abs(gain) > acc_sd))
        out.append({
            "dataset": dataset, "task": task, "method": method, "params": json.loads(params),
            "runs": len(rs), "failed": sum(r["status"] != "ok" for r in rs),
            "suspicious": sum(_suspicious(r) for r in rs),
            "accuracy_mean": acc, "accuracy_std": acc_sd, "baseline_mean": base,
            "gain": gain, "significant": significant, "strong_baseline_mean": strong,
            "gain_over_strong": None if acc is None or strong is None else acc - strong,
            "published": pub,
            "fit_seconds_mean": _mean_std([r["fit_seconds"] for r in ok])[0],
            "peak_rss_mib_max": max((r["peak_rss_mib"] for r in ok
                                     if r["peak_rss_mib"] is not None), default=None),
        })
    return out


def method_means(summary):
    """Per method (and parameters) and dataset, the mean over its tasks of each
    column: the one line a reader compares first. Only for methods run on
    several tasks; tasks with a missing value are left out of that column."""
    import statistics

    groups = {}
    for s in summary:
        key = (s["dataset"], s["method"], json.dumps(s["params"], sort_keys=True))
        groups.setdefault(key, []).append(s)
    out = []
    for (dataset, method, params), ss in sorted(groups.items()):
        if len(ss) < 2:
            continue

        def mean(field):
            vals = [x[field] for x in ss if x.get(field) is not None]
            return statistics.fmean(vals) if vals else None

        acc, base, strong = mean("accuracy_mean"), mean("baseline_mean"), \
            mean("strong_baseline_mean")
        out.append({
            "dataset": dataset, "task": f"mean of {len(ss)} tasks", "method": method,
            "params": json.loads(params), "runs": sum(x["runs"] for x in ss),
            "failed": sum(x["failed"] for x in ss),
        "suspicious": sum(x.get("suspicious", 0) for x in ss), "accuracy_mean": acc,
            "accuracy_std": None, "baseline_mean": base,
            "gain": None if acc is None or base is None else acc - base, "significant": None,
            "strong_baseline_mean": strong,
            "gain_over_strong": None if acc is None or strong is None else acc - strong,
            "published": mean("published"), "fit_seconds_mean": mean("fit_seconds_mean"),
            "peak_rss_mib_max": max((x["peak_rss_mib_max"] for x in ss
                                     if x["peak_rss_mib_max"] is not None), default=None),
        })
    return out


def _pct(v):
    return "" if v is None else f"{100 * v:.2f}"


def _summary_cells(s):
    acc = _pct(s["accuracy_mean"])
    if acc and s["accuracy_std"] is not None:
        acc += f" ± {100 * s['accuracy_std']:.2f}"
    if acc and s.get("suspicious"):
        acc += " !"
    gain = "" if s["gain"] is None else f"{100 * s['gain']:+.2f}"
    if gain and s.get("significant") is False:
        gain += " (n.s.)"
    over = "" if s.get("gain_over_strong") is None else f"{100 * s['gain_over_strong']:+.2f}"
    params = "" if not s["params"] else json.dumps(s["params"], sort_keys=True)
    secs = "" if s["fit_seconds_mean"] is None else f"{s['fit_seconds_mean']:.2f}"
    return [s["method"] + (f" {params}" if params else ""), f"{s['dataset']}/{s['task']}",
            acc or "-", _pct(s["baseline_mean"]) or "-", gain or "-",
            _pct(s.get("strong_baseline_mean")) or "-", over or "-",
            _pct(s["published"]) or "-", f"{s['runs'] - s['failed']}/{s['runs']}", secs or "-"]


HEADERS = ["method", "task", "accuracy %", "baseline %", "gain", "strong %", "vs strong",
           "published %", "ok/runs", "fit s"]


def format_summary(summary, fmt="table"):
    """The summary as an aligned text table, CSV, JSON or a markdown table."""
    if fmt == "json":
        return json.dumps(summary, indent=2)
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        fields = ["dataset", "task", "method", "params", "runs", "failed", "accuracy_mean",
                  "accuracy_std", "baseline_mean", "gain", "significant",
                  "strong_baseline_mean", "gain_over_strong", "published",
                  "fit_seconds_mean", "peak_rss_mib_max"]
        w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for s in summary:
            w.writerow({**{k: s[k] for k in fields},
                        "params": json.dumps(s["params"], sort_keys=True)})
        return buf.getvalue().rstrip("\n")
    rows = [_summary_cells(s) for s in summary + method_means(summary)]
    note = ("\n! = a run warned that its result looks broken (a collapsed prediction, a "
            "solver that did not converge, ...): see the store's warnings column"
            if any(s.get("suspicious") for s in summary) else "")
    if fmt == "markdown":
        lines = ["| " + " | ".join(HEADERS) + " |",
                 "|" + "|".join(["---"] * 2 + ["---:"] * (len(HEADERS) - 2)) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines) + ("\n" + note if note else "")
    if fmt != "table":
        raise InputError(f"--format {fmt!r}: expected table, csv, json or markdown")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(HEADERS)]
    line = "  ".join(h.ljust(w) if i < 2 else h.rjust(w)
                     for i, (h, w) in enumerate(zip(HEADERS, widths)))
    body = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                      for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    return "\n".join([line, *body]) + note


def plot_gains(summary, path):
    """A heat map of the gain over the no-transfer baseline, in points, for each
    method (rows) and task (columns), each cell annotated with its value."""
    from .plots import _pyplot

    plt = _pyplot()
    import numpy as np

    cells = [s for s in summary if s["gain"] is not None]
    if not cells:
        raise InputError("--plot: no finished run with a baseline to plot")

    def method_name(s):
        return s["method"] + ("" if not s["params"] else " " + json.dumps(s["params"],
                                                                           sort_keys=True))

    methods = sorted({method_name(s) for s in cells})
    multi = len({s["dataset"] for s in cells}) > 1
    tasks = sorted({(s["dataset"], s["task"]) for s in cells})
    grid = np.full((len(methods), len(tasks)), np.nan)
    for s in cells:
        grid[methods.index(method_name(s)), tasks.index((s["dataset"], s["task"]))] = \
            100 * s["gain"]
    lim = max(1.0, float(np.nanmax(np.abs(grid))))
    fig, ax = plt.subplots(figsize=(max(6.5, 0.9 * len(tasks) + 3.0),
                                    max(2.5, 0.5 * len(methods) + 1.8)))
    im = ax.imshow(grid, cmap="RdBu", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(len(tasks)))
    ax.set_xticklabels([f"{d}/{t}" if multi else t for d, t in tasks], rotation=45,
                       ha="right")
    ax.set_yticks(range(len(methods)))
    ax.set_yticklabels(methods)
    for i in range(len(methods)):
        for j in range(len(tasks)):
            if not np.isnan(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:+.1f}", ha="center", va="center", fontsize=8,
                        color="white" if abs(grid[i, j]) > 0.6 * lim else "black")
    fig.colorbar(im, ax=ax, label="gain (accuracy points)")
    title = "Gain over the no-transfer baseline"
    if not multi:
        title += f"\n{tasks[0][0]}"
    ax.set_title(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def default_jobs():
    return max(1, (os.cpu_count() or 1))
