"""The ``tltk`` command: list, info and run transfer-learning methods; list,
describe and fetch benchmark datasets.

Exit status: 0 on success, 2 for bad usage or bad input (unknown method or
hyperparameter, unreadable file, invalid data), 1 when a method itself fails.
Every error is one ``Error:`` line on stderr; ``--debug`` shows the traceback.
"""
from __future__ import annotations

import ast
import json
import sys
import traceback

import click

from . import __version__
from .errors import BrokenMethodError, InputError
from .registry import get_registry


class _Failure(Exception):
    """A method failed while running (exit status 1)."""


def _error(message, code, debug, exc=None):
    if debug and exc is not None:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


_DEBUG = {"on": False}


class _Group(click.Group):
    def invoke(self, ctx):
        _DEBUG["on"] = False
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except InputError as exc:
            _error(str(exc), 2, _DEBUG["on"], exc)
        except BrokenMethodError as exc:
            _error(str(exc), 1, _DEBUG["on"], exc)
        except _Failure as exc:
            _error(str(exc), 1, _DEBUG["on"], exc.__cause__ or exc)
        except KeyboardInterrupt:
            _error("interrupted", 130, _DEBUG["on"])
        except Exception as exc:  # a bug: still one line unless --debug
            _error(f"{type(exc).__name__}: {exc}", 1, _DEBUG["on"], exc)


def _set_debug(ctx, param, value):
    if value:
        _DEBUG["on"] = True


def _debug_option(f):
    return click.option("--debug", is_flag=True, expose_value=False, is_eager=True,
                        callback=_set_debug, help="Show the traceback of an error.")(f)


def _show_warnings():
    """Warnings as one 'Warning:' line each, every distinct message only once."""
    import warnings

    seen = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = str(message).strip().splitlines()[0] if str(message).strip() else category.__name__
        if text not in seen:
            seen.add(text)
            click.echo(f"Warning: {text}", err=True)

    warnings.showwarning = show


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tltk")
def cli():
    """tltk: transfer-learning methods behind one interface.

    \b
      tltk list                 the installed methods
      tltk info tca             a method's hyperparameters and reference
      tltk run tca              run it on the bundled task (offline)
      tltk datasets             the benchmark datasets and whether their files are here
      tltk run tca --dataset office-caltech-surf --task C:A
                                a benchmark task under its paper's protocol
      tltk bench --methods tca,jda --dataset office-caltech-surf --store s.sqlite
                                many runs, resumable, with a summary table
      tltk select --source s.svm --target t.svm
                                choose a method without target labels
    """


# -- list --------------------------------------------------------------------
@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_debug_option
def list_cmd(as_json):
    """Every installed method: family, settings, plugin, status."""
    entries = get_registry().entries()
    if as_json:
        click.echo(json.dumps({"methods": [e.as_dict() for e in entries]}, indent=2))
        return
    if not entries:
        click.echo("No methods installed. Install plugins, e.g. pip install ./plugins/*")
        return
    rows = [("NAME", "FAMILY", "SETTINGS", "SPARSE", "PLUGIN", "STATUS")]
    for e in entries:
        info = e.info
        rows.append((
            e.name,
            info.family if info else "-",
            ",".join(info.settings) if info else "-",
            ("yes" if info.sparse else "no") if info else "-",
            f"{e.distribution or '?'} {e.version or ''}".strip(),
            e.status if e.status == "ok" else f"broken: {e.error}",
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + "  " + r[5])


# -- info --------------------------------------------------------------------
def _default_repr(value):
    return "None" if value is None else repr(value)


@cli.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_debug_option
def info_cmd(name, as_json):
    """Method NAME (hyperparameters, reference) or dataset NAME (tasks, protocol)."""
    import inspect

    from .errors import UnknownMethodError

    reg = get_registry()
    try:
        entry = reg.get(name)
    except UnknownMethodError:
        if any(d.name == name for d in reg.dataset_entries()):
            return _dataset_info(reg.get_dataset(name), as_json)
        methods_known = ", ".join(sorted(reg._by_name)) or "none installed"
        datasets_known = ", ".join(sorted(reg._datasets_by_name)) or "none installed"
        raise InputError(f"unknown method or dataset {name!r} (methods: {methods_known}; "
                         f"datasets: {datasets_known})") from None
    cls = entry.load_class()
    info = entry.info
    sig = inspect.signature(cls.__init__)
    params = [(p.name, p.default) for p in sig.parameters.values() if p.name != "self"]
    doc = inspect.getdoc(cls) or ""
    if as_json:
        from .evaluate import _jsonable

        out = info.as_dict()
        out.update({
            "distribution": entry.distribution,
            "version": entry.version,
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "hyperparameters": [{"name": n, "default": _jsonable(d)} for n, d in params],
            "description": doc,
        })
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(f"{info.name} — {info.summary}")
    click.echo(f"  family:   {info.family}")
    click.echo(f"  settings: {', '.join(info.settings)}")
    click.echo(f"  sparse:   {'yes' if info.sparse else 'no (sparse input is densified)'}")
    if info.requires:
        click.echo(f"  requires: {', '.join(info.requires)}")
    click.echo(f"  plugin:   {entry.distribution} {entry.version}  ({cls.__module__}.{cls.__qualname__})")
    click.echo("\nHyperparameters:")
    width = max((len(n) for n, _ in params), default=0)
    for n, d in params:
        click.echo(f"  {n.ljust(width)}  = {_default_repr(d)}")
    if info.search_space:
        click.echo("\nSearch space of 'tltk select' (override with -p "
                   f"{info.name}.KEY=V1,V2):")
        for n, values in info.search_space.items():
            click.echo(f"  {n.ljust(width)}  in {', '.join(map(_default_repr, values))}")
    if doc:
        click.echo("\n" + doc)
    click.echo("\nReference:\n" + info.reference)


# -- run ---------------------------------------------------------------------
def _parse_params(pairs):
    params = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise InputError(f"-p expects KEY=VALUE, got {pair!r}")
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw  # a bare word is a string: -p kernel=rbf
        params[key] = value
    return params


def _stack_sources(task):
    from .validation import stack_rows

    return stack_rows(*[d.X for d in task.sources])


def _task_from_files(sources, target, keys):
    from .data import Domain, Task
    from .io import load_files

    from .validation import check_array

    loaded = load_files(list(sources) + [target], keys=keys)
    for (X, _), path in zip(loaded, list(sources) + [target]):
        check_array(X, str(path))  # NaN, infinities, non-numbers: name the file
    for (X, y), path in zip(loaded[:-1], sources):
        if y is None:
            raise InputError(f"{path}: a source file needs labels")
    doms = [Domain(X, y, str(p)) for (X, y), p in zip(loaded, list(sources) + [target])]
    name = "+".join(str(s) for s in sources) + "->" + str(target)
    return Task(name=f"files:{name}", sources=doms[:-1], target=doms[-1])


@cli.command("run")
@click.argument("name")
@click.option("--source", "sources", multiple=True, type=click.Path(),
              help="Labelled source file (repeat for several sources).")
@click.option("--target", type=click.Path(), help="Target file (labels optional).")
@click.option("--keys", default=None, metavar="FEATURES,LABELS",
              help="Variable names in .mat files.")
@click.option("--dataset", default=None, metavar="D",
              help="A benchmark dataset (see 'tltk datasets'); run under its protocol.")
@click.option("--task", "task_spec", default=None, metavar="S:T",
              help="Task of --dataset: S:T, A+B+C:T, or a named task.")
@click.option("--data-option", "data_options", multiple=True, metavar="KEY=VALUE",
              help="Option of the dataset's loader (e.g. synthetic: n_samples=5000).")
@click.option("--target-labels", type=click.IntRange(min=0), default=None, metavar="N",
              help="Reveal N stratified target labels to the method; accuracy is "
                   "measured on the rest. Default 0, or 3 per class for methods "
                   "that need labelled target samples.")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Hyperparameter (value parsed as a Python literal).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed for revealed labels and the method's random_state.")
@click.option("--no-strong-baseline", "no_strong", is_flag=True,
              help="Skip the strong no-transfer baseline (logistic regression with C "
                   "chosen by cross-validation on the source); it costs a few fits.")
@click.option("--predictions", type=click.Path(dir_okay=False), default=None,
              help="Write the predicted target labels to this file, one per line.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, metavar="FILE.png",
              help="Draw source and target in 2-D before and after adaptation (methods "
                   "with transform; needs matplotlib).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_debug_option
def run_cmd(name, sources, target, keys, dataset, task_spec, data_options, target_labels,
            params, seed, no_strong, predictions, plot, as_json):
    """Fit method NAME and report target accuracy beside the no-transfer baseline.

    Without --source/--target or --dataset it runs on the bundled task
    (Office-Caltech10 SURF, Amazon -> Webcam), offline. With --dataset D
    --task S:T it runs under the dataset's protocol (preprocessing, final
    classifier, fixed hyperparameters; -p overrides) and shows the published
    number for the method and task when there is one.
    """
    _show_warnings()
    hyper = _parse_params(params)
    entry = get_registry().get(name)  # unknown or broken method: fail before reading data
    if plot and not hasattr(entry.load_class(), "_transform"):
        raise InputError(f"--plot draws the learnt representation, and method {name!r} has "
                         "no transform (try a feature method: tca, jda, gfk, msda, ...)")
    if bool(sources) != bool(target):
        raise InputError("give both --source and --target, or neither (bundled task)")
    if dataset and sources:
        raise InputError("give --dataset or --source/--target, not both")
    if (task_spec or data_options) and not dataset:
        raise InputError("--task and --data-option need --dataset")
    if dataset:
        from .data.benchmarks import load_task

        info = get_registry().get_dataset(dataset).info
        if not task_spec:
            raise InputError(f"--dataset {dataset} needs --task (one of: "
                             f"{', '.join(info.tasks)})")
        task = load_task(dataset, task_spec, **_parse_params(data_options))
    elif sources:
        task = _task_from_files(sources, target, keys.split(",") if keys else None)
    else:
        from .data import bundled_task

        task = bundled_task()
    from .evaluate import run

    try:
        with Progress(f"{name} on {task.name}", enabled=not as_json) as progress:
            # methods that report their iterations (the deep ones) feed the line
            if (progress.enabled and "progress" not in hyper
                    and "progress" in entry.load_class()._get_param_names()):
                def report(i, n, info=None):  # a plain function: clone() copies it as is
                    progress.step(i, n)

                hyper["progress"] = report
            result = run(name, task, hyper, target_labels=target_labels, seed=seed,
                         strong_baseline=not no_strong)
    except (InputError, BrokenMethodError):
        raise
    except Exception as exc:
        raise _Failure(f"method {name!r} failed: {type(exc).__name__}: {exc}") from exc
    pred = result.pop("predictions")
    est = result.pop("estimator")
    if plot:
        import numpy as np

        from .plots import plot_adaptation

        ev = getattr(task, "evaluation", None) or task.target
        Xs_all = task.sources[0].X if len(task.sources) == 1 else _stack_sources(task)
        ys_all = np.concatenate([np.asarray(d.y) for d in task.sources])
        acc = ("" if result["accuracy"] is None else
               f": {100 * result['accuracy']:.1f}% (no transfer {100 * result['baseline_accuracy']:.1f}%)")
        plot_adaptation(est, Xs_all, ys_all, ev.X, ev.y, plot, title=f"{name} on {task.name}{acc}",
                        seed=seed)
        click.echo(f"plot written to {plot}", err=True)
    if predictions:
        with open(predictions, "w") as f:
            f.writelines(f"{p}\n" for p in pred)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    _print_run(result, task)


class Progress:
    """An elapsed-time line on stderr while a long step runs, erased at the end.

    Shown only on a terminal (never in pipes, logs or --json runs) and only
    after ``delay`` seconds, so quick runs print nothing extra.
    """

    def __init__(self, label, enabled=True, stream=None, delay=1.0, interval=0.5):
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and (stream is not None or self.stream.isatty())
        self.delay, self.interval = delay, interval
        self._thread = None
        self.shown = False
        self.done, self.total = 0, 0

    def step(self, i, n, info=None):
        """A method's progress callback: iteration ``i`` of ``n`` (shown as a bar)."""
        self.done, self.total = i, n

    def __enter__(self):
        if self.enabled:
            import threading
            import time

            self._stop = threading.Event()
            start = time.monotonic()

            def tick():
                if self._stop.wait(self.delay):
                    return
                while True:
                    elapsed = time.monotonic() - start
                    done = ""
                    if self.total:
                        frac = self.done / self.total
                        done = (f" [{'#' * int(20 * frac)}{'.' * (20 - int(20 * frac))}] "
                                f"{self.done}/{self.total}")
                    self.stream.write(f"\r  running {self.label} ...{done} {elapsed:.0f} s")
                    self.stream.flush()
                    self.shown = True
                    if self._stop.wait(self.interval):
                        return

            self._thread = threading.Thread(target=tick, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            if self.shown:
                self.stream.write("\r\033[K")
                self.stream.flush()
        return False


def _fmt(acc):
    return "   n/a" if acc is None else f"{100 * acc:6.2f}%"


def _print_run(r, task):
    n_src = len(task.sources)
    click.echo(f"{r['method']} on {r['task']}")
    protocol = getattr(task, "protocol", None)
    if protocol is not None:
        click.echo(f"  protocol: {protocol.preprocessing}; final classifier {protocol.classifier}"
                   + (f" ({protocol.source})" if protocol.source else ""))
    src = f"{r['n_source']} samples" + (f" in {n_src} domains" if n_src > 1 else "")
    click.echo(f"  source {src}; target {r['n_target']} samples; {r['n_features']} features")
    if getattr(task, "evaluation", None) is not None:
        click.echo(f"  adapted to the target's {r['n_target']} samples without their labels; "
                   f"accuracy on its {r['n_evaluated']} test samples")
    if r["n_target_labelled"]:
        click.echo(f"  {r['n_target_labelled']} target labels revealed (seed {r['seed']}); "
                   f"accuracy on the other {r['n_evaluated']}")
    sel = r.get("trade_off_selection")
    if sel:
        grid = ", ".join(f"{c['trade_off']:g}" for c in sel["candidates"])
        click.echo(f"  {sel['param']} = {sel['chosen']:g}, chosen without target labels from "
                   f"{grid} (lowest source error + 1 - 2 x two-sample error)")
    if r["accuracy"] is None:
        click.echo("  the target has no labels: accuracy cannot be measured")
    else:
        click.echo(f"  accuracy              {_fmt(r['accuracy'])}")
        alone = "the sources pooled" if n_src > 1 else "the source alone"
        click.echo(f"  baseline              {_fmt(r['baseline_accuracy'])}   "
                   f"({r['baseline']} on {alone})")
        if r.get("baseline_best_single_source_accuracy") is not None:
            click.echo(f"  best single source    {_fmt(r['baseline_best_single_source_accuracy'])}"
                       f"   ({r['baseline']} on {r['baseline_best_single_source']} alone)")
        if r["baseline_source_target_accuracy"] is not None:
            click.echo(f"  baseline + target     {_fmt(r['baseline_source_target_accuracy'])}"
                       f"   ({r['baseline']} on source + revealed target)")
        if r.get("strong_baseline_accuracy") is not None:
            click.echo(f"  strong baseline       {_fmt(r['strong_baseline_accuracy'])}   "
                       f"({r['strong_baseline']})")
        gain = r["accuracy"] - r["baseline_accuracy"]
        verdict = "transfer helps" if gain > 0 else "no gain over the baseline"
        click.echo(f"  gain                  {100 * gain:+6.2f} points ({verdict})")
        if r.get("strong_baseline_accuracy") is not None:
            diff = 100 * (r["accuracy"] - r["strong_baseline_accuracy"])
            if r["beats_strong_baseline"]:
                click.echo(f"  {r['method']} beats the strong no-transfer baseline by "
                           f"{diff:.2f} points")
            else:
                click.echo(f"  {r['method']} does NOT beat the strong no-transfer baseline "
                           f"({diff:+.2f} points): a tuned classifier on the source alone "
                           "does as well")
        best = r.get("baseline_best_single_source_accuracy")
        if best is not None and r["accuracy"] <= best:
            click.echo("  (not above the best single source)")
    if r.get("published_accuracy") is not None:
        click.echo(f"  published             {_fmt(r['published_accuracy'])}   "
                   f"({r['published_source']})")
    elif protocol is not None:
        click.echo("  published                n/a   (no published number for this method "
                   "and task)")
    click.echo(f"  fit time              {r['fit_seconds']:.2f} s; peak memory "
               f"{r['peak_rss_mib']:.0f} MiB")


# -- datasets ----------------------------------------------------------------
def _size(n):
    return "-" if n is None else (f"{n / 1000:.1f}k" if n >= 10000 else str(n))


@cli.command("datasets")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_debug_option
def datasets_cmd(as_json):
    """The benchmark datasets: tasks, sizes, features, files present, source."""
    from .data import data_home

    root = data_home()
    entries = get_registry().dataset_entries()
    if as_json:
        click.echo(json.dumps({"data_home": str(root),
                               "datasets": [e.as_dict(root) for e in entries]}, indent=2))
        return
    if not entries:
        click.echo("No datasets installed. Install the dataset plugin: "
                   "pip install ./plugins/tltk-datasets")
        return
    rows = [("NAME", "TASKS", "SAMPLES", "FEATURES", "PRESENT", "SOURCE")]
    for e in entries:
        if e.info is None:
            rows.append((e.name, "-", "-", "-", "-", f"broken: {e.error}"))
            continue
        i = e.info
        rows.append((e.name, str(len(i.tasks)), _size(i.total_samples()),
                     "-" if i.n_features is None else str(i.n_features),
                     ("yes" if i.files else "no files") if i.present(root) else "no",
                     i.source))
    widths = [max(len(r[k]) for r in rows) for k in range(5)]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + "  " + r[5])
    click.echo(f"\nData directory: {root}  (set TLTK_DATA to change it)")


def _dataset_info(entry, as_json):
    from .data import data_home

    info, root = entry.info, data_home()
    if as_json:
        out = info.as_dict(root)
        out.update({"distribution": entry.distribution, "version": entry.version,
                    "data_home": str(root)})
        click.echo(json.dumps(out, indent=2))
        return
    p = info.protocol
    click.echo(f"{info.name} — {info.summary}")
    click.echo(f"  plugin:     {entry.distribution} {entry.version}")
    doms = ", ".join(f"{d} ({info.sizes[d]})" if d in info.sizes else d for d in info.domains)
    click.echo(f"  domains:    {doms}")
    if info.aliases:
        click.echo("  aliases:    " + ", ".join(f"{a}={d}" for a, d in info.aliases.items()))
    click.echo(f"  features:   {info.n_features if info.n_features is not None else 'varies'}")
    click.echo(f"  tasks ({len(info.tasks)}): {' '.join(info.tasks)}")
    if info.options:
        click.echo("  options:    " + ", ".join(f"{k}={v!r}" for k, v in info.options.items()))
    click.echo(f"  source:     {info.source}")
    click.echo(f"  licence:    {info.licence}")
    click.echo("\nProtocol" + (f" ({p.source})" if p.source else "") + ":")
    click.echo(f"  preprocessing:    {p.preprocessing}")
    click.echo(f"  final classifier: {p.classifier}")
    click.echo(f"  metric:           {p.metric}")
    click.echo(f"  evaluated on:     {p.evaluation}")
    for m, params in p.method_params.items():
        click.echo(f"  {m} uses:" + "".join(f" {k}={v!r}" for k, v in params.items()))
    if p.references:
        click.echo("\nPublished accuracy (%):")
        methods = list(dict.fromkeys(r.method for r in p.references))
        tasks = list(dict.fromkeys(r.task for r in p.references))
        table = {(r.method, r.task): r.accuracy for r in p.references}
        w = max(len(m) for m in methods)
        click.echo("  " + " " * w + "".join(f"{t:>8s}" for t in tasks) + "    mean")
        for m in methods:
            vals = [table.get((m, t)) for t in tasks]
            got = [v for v in vals if v is not None]
            click.echo("  " + m.ljust(w) + "".join(
                f"{v:8.1f}" if v is not None else "       -" for v in vals)
                + f"{sum(got) / len(got):8.1f}")
        for src in dict.fromkeys(r.source for r in p.references):
            click.echo(f"  source: {src}")
    if info.files:
        click.echo(f"\nFiles (under {root}):")
        for f, path in info.file_paths(root):
            state = "present" if path.is_file() else "missing"
            click.echo(f"  {f.path}  [{state}]" + (f"  {f.url}" if f.url else ""))
        if not any(f.url for f in info.files) and info.fetch_hint:
            click.echo(f"  no fetcher: {info.fetch_hint}")
    if info.citation:
        click.echo("\nReference:\n" + info.citation)


@cli.command("fetch")
@click.argument("dataset")
@click.option("--force", is_flag=True, help="Download again even if the files are present.")
@_debug_option
def fetch_cmd(dataset, force):
    """Download DATASET's files from its public source into the data directory.

    Each file is checked against the SHA-256 written in the dataset's code
    before it is stored; a file already present is verified, not downloaded.
    """
    from .data.benchmarks import fetch

    for path in fetch(dataset, force=force):
        click.echo(f"ok  {path}")


# -- bench ---------------------------------------------------------------------
def _csv_list(text, what):
    items = [t.strip() for t in (text or "").split(",") if t.strip()]
    if text is not None and not items:
        raise InputError(f"{what}: expected a comma-separated list")
    return items


def _bench_params(pairs, methods):
    """``-p method.key=value`` for one method, ``-p key=value`` for every method
    of the grid that has ``key``; an unknown key is an error naming it."""
    out = {m: {} for m in methods}
    accepted = {m: set(get_registry().get(m).load_class()._get_param_names()) for m in methods}
    for pair in pairs:
        lhs, sep, rhs = pair.partition("=")
        method, _, key = lhs.strip().rpartition(".")
        ((key, value),) = _parse_params([f"{key}{sep}{rhs}"]).items()
        if method:
            if method not in out:
                raise InputError(f"-p {pair}: method {method!r} is not in --methods")
            if key not in accepted[method]:
                raise InputError(f"-p {pair}: method {method!r} has no hyperparameter "
                                 f"{key!r} (see 'tltk info {method}')")
            out[method][key] = value
        else:
            takers = [m for m in methods if key in accepted[m]]
            if not takers:
                raise InputError(f"-p {pair}: no method of the grid has a hyperparameter "
                                 f"{key!r}")
            for m in takers:
                out[m][key] = value
    return out


def _report(summary, fmt, plot):
    from .bench import format_summary, plot_gains

    if summary:
        click.echo(format_summary(summary, fmt))
    if plot:
        plot_gains(summary, plot)
        click.echo(f"plot written to {plot}", err=True)


_FORMATS = click.Choice(["table", "csv", "json", "markdown"])


@cli.group("bench", invoke_without_command=True)
@click.option("--methods", default=None, metavar="A,B,...|all",
              help="Methods to run; 'all' = every installed method.")
@click.option("--dataset", default=None, metavar="D", help="Benchmark dataset (tltk datasets).")
@click.option("--tasks", default=None, metavar="S:T,...",
              help="Tasks of the dataset (default: all of them).")
@click.option("--seeds", default="0", show_default=True, metavar="0,1,...",
              help="Seeds: each (method, task) runs once per seed.")
@click.option("-p", "--param", "params", multiple=True, metavar="[METHOD.]KEY=VALUE",
              help="Hyperparameter for one method (tca.n_components=30) or for every "
                   "method that has it.")
@click.option("--store", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="SQLite result store; created if absent, resumed if present.")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Runs in parallel on this machine (joblib, loky).")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Send the runs to this Dask distributed scheduler instead.")
@click.option("--retry-failed", is_flag=True, help="Run again the runs stored as failed.")
@click.option("--format", "fmt", type=_FORMATS, default="table", show_default=True,
              help="Format of the summary table.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, metavar="FILE.png",
              help="Also draw the gain per method and task (needs matplotlib).")
@click.option("--json", "as_json", is_flag=True,
              help="Machine-readable output: the summary and the runs of the grid.")
@_debug_option
@click.pass_context
def bench_cmd(ctx, methods, dataset, tasks, seeds, params, store, jobs, scheduler,
              retry_failed, fmt, plot, as_json):
    """Run methods x tasks x seeds; keep every run in a store that survives interruption.

    \b
      tltk bench --methods tca,jda --dataset office-caltech-surf --seeds 0,1 --store s.sqlite
      tltk bench report --store s.sqlite --format markdown --plot gains.png

    Re-running the same command skips the runs already stored: after Ctrl-C, a
    killed process or a lost worker, it does only what is missing. A failing
    run is stored as failed with its error and the grid goes on (--retry-failed
    runs those again). Each run's result is written in its own transaction.
    With --scheduler the runs go to a Dask cluster whose workers have tltk, the
    plugins and the data (TLTK_DATA) installed.
    """
    if ctx.invoked_subcommand is not None:
        return
    from .bench import GridProgress, Store, expand_grid, run_grid, summarise

    _show_warnings()
    if not (methods and dataset and store):
        raise InputError("tltk bench needs --methods, --dataset and --store "
                         "(or 'tltk bench report --store FILE')")
    if scheduler and jobs != 1:
        raise InputError("give --jobs or --scheduler, not both")
    registry = get_registry()
    info = registry.get_dataset(dataset).info
    if methods.strip() == "all":
        names = [e.name for e in registry.entries() if e.status == "ok"]
    else:
        names = _csv_list(methods, "--methods")
        for n in names:
            registry.get(n)  # unknown or broken: fail before anything runs
    task_ids = []
    for t in (_csv_list(tasks, "--tasks") if tasks else info.tasks):
        task_ids.append(info.resolve_task(t)[0])
    try:
        seed_list = [int(x) for x in _csv_list(seeds, "--seeds")]
    except ValueError:
        raise InputError(f"--seeds {seeds!r}: expected integers, e.g. 0,1,2") from None
    specs = expand_grid(names, dataset, task_ids, seed_list, _bench_params(params, names))
    st = Store(store)
    try:
        have = st.finished(include_failed=not retry_failed)
        skipped = sum(s.key in have for s in specs)
        todo_n = len(specs) - skipped
        if not as_json:
            click.echo(f"{len(specs)} runs in the grid ({len(names)} methods x "
                       f"{len(task_ids)} tasks x {len(seed_list)} seeds); {skipped} already "
                       f"in {store}, {todo_n} to run"
                       + (f" on {scheduler}" if scheduler else
                          f" with {jobs} jobs" if jobs > 1 else ""), err=True)
        progress = GridProgress(todo_n)
        try:
            _, done = run_grid(specs, st, jobs=jobs, scheduler=scheduler,
                               retry_failed=retry_failed, on_row=progress)
        except KeyboardInterrupt:
            click.echo("", err=True)
            _error(f"interrupted: the finished runs are in {store}; run the same command "
                   "again to do the rest", 130, False)
        keys = {s.key for s in specs}
        rows = st.rows(keys)
    finally:
        st.close()
    summary = summarise(rows)
    failed = [r for r in rows if r["status"] != "ok"]
    if as_json:
        click.echo(json.dumps({"store": str(store), "runs": len(specs), "ran": len(done),
                               "failed": len(failed), "summary": summary,
                               "rows": [{k: v for k, v in r.items() if k != "result"}
                                        for r in rows]}, indent=2))
        if plot:
            from .bench import plot_gains

            plot_gains(summary, plot)
        return
    _report(summary, fmt, plot)
    if failed:
        click.echo(f"{len(failed)} of {len(specs)} runs failed (their errors are in the store; "
                   "--retry-failed runs them again)", err=True)


@bench_cmd.command("report")
@click.option("--store", type=click.Path(dir_okay=False), required=True, metavar="FILE",
              help="A store written by 'tltk bench'.")
@click.option("--format", "fmt", type=_FORMATS, default="table", show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False), default=None, metavar="FILE.png",
              help="Draw the gain per method and task (needs matplotlib).")
@_debug_option
def bench_report_cmd(store, fmt, plot):
    """Show a store again: mean ± std over seeds, gain, published numbers."""
    from .bench import Store, summarise

    st = Store(store, create=False)
    try:
        rows = st.rows()
    finally:
        st.close()
    if not rows:
        raise InputError(f"--store {store}: holds no run yet")
    _report(summarise(rows), fmt, plot)


# -- select --------------------------------------------------------------------
def _grid_values(raw):
    """``-p m.k=v1,v2``: a bare comma list is several candidate values."""
    if isinstance(raw, tuple):
        return list(raw)
    if isinstance(raw, str) and "," in raw:   # -p kernel=rbf,linear
        return [_parse_params([f"v={part.strip()}"])["v"] for part in raw.split(",")]
    return [raw]


def _select_grid(names, pairs):
    """Per method, the list of parameter dicts to try: the method's declared
    search space, with ``-p method.key=v1,v2`` (or ``key=...`` for every
    method that has it) replacing the values of that key."""
    import itertools

    registry = get_registry()
    spaces = {m: {k: list(v) for k, v in registry.get(m).info.search_space.items()}
              for m in names}
    overrides = _bench_params(pairs, names)
    out = {}
    for m in names:
        space = dict(spaces[m])
        for key, raw in overrides[m].items():
            space[key] = _grid_values(raw)
        keys = sorted(space)
        out[m] = [dict(zip(keys, combo)) for combo in itertools.product(
            *(space[k] for k in keys))] or [{}]
    return out


def _candidate_label(method, params):
    if not params:
        return method
    return method + " " + ",".join(f"{k}={_default_repr(v)}" for k, v in sorted(params.items()))


def _score_one(method, params, base, Xs, ys, Xt, scorers, seed, X_eval, y_eval):
    """Score one candidate (in a worker or here) by every scorer of ``scorers``
    (the first decides); never sees the target labels except to report
    accuracy after scoring, in the separate column."""
    import time
    import warnings

    from .registry import load
    from .selection import score_candidates

    t0 = time.perf_counter()
    fitted = {}
    pooled = {}
    votes = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row = score_candidates({"c": lambda: load(method, **{**base, **params})},
                                   Xs, ys, Xt, list(scorers), random_state=seed,
                                   fitted=fitted, pooled_outputs=pooled)["c"]
            scores = {n: float(row.get(n, float("nan"))) for n in scorers}
            votes = pooled.get("c", {})
            acc = None
            if y_eval is not None:
                import numpy as np

                acc = float(np.mean(fitted["c"].predict(X_eval) == y_eval))
        error = None
    except Exception as exc:  # a failing candidate is reported, the others go on
        scores, acc, error = {n: float("nan") for n in scorers}, None, \
            f"{type(exc).__name__}: {exc}"
    return {"method": method, "params": params, "score": scores[scorers[0]], "scores": scores,
            "accuracy": acc, "error": error, "seconds": round(time.perf_counter() - t0, 2),
            "votes": votes}


def _combine_pooled(scorers, results):
    """Scores of the pooled scorers (ensv): each candidate against all the
    others, once every candidate has been fitted (in this process or in
    workers)."""
    from .selection import get_scorer

    for name in scorers:
        s = get_scorer(name)
        if not s.pooled:
            continue
        voted = [r for r in results if r["error"] is None and name in (r.get("votes") or {})]
        if voted:
            for r, score in zip(voted, s.combine([r["votes"][name] for r in voted])):
                r["scores"][name] = float(score)
                if name == scorers[0]:
                    r["score"] = float(score)


@cli.command("select")
@click.option("--source", "sources", multiple=True, type=click.Path(),
              help="Labelled source file (repeat for several sources: they are pooled).")
@click.option("--target", type=click.Path(), help="Target file (labels not needed).")
@click.option("--keys", default=None, metavar="FEATURES,LABELS", help="Names in .mat files.")
@click.option("--dataset", default=None, metavar="D", help="A benchmark dataset instead.")
@click.option("--task", "task_spec", default=None, metavar="S:T", help="Task of --dataset.")
@click.option("--methods", default="all", show_default=True, metavar="A,B,...|all",
              help="Candidate methods ('all': every installed method that works without "
                   "target labels). source-only is always a candidate.")
@click.option("--scorer", default=None, metavar="NAME",
              help="Unsupervised scorer: im (default), iwv (ranks every candidate; the "
                   "default falls back to it when im can rank none), cim, reverse, dev, "
                   "entropy, snd or ensv.")
@click.option("--compare", default=None, metavar="A,B,...|all",
              help="Other scorers shown beside the choice (their rank of each candidate "
                   "and their own pick); they never change the choice.")
@click.option("-p", "--param", "params", multiple=True, metavar="[METHOD.]KEY=V1,V2",
              help="Values to try for a hyperparameter, replacing the method's search space.")
@click.option("--budget", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Start no new candidate after this many seconds.")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Candidates scored in parallel (joblib).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the scorers' folds and the methods' random_state.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_debug_option
def select_cmd(sources, target, keys, dataset, task_spec, methods, scorer, compare, params,
               budget, jobs, seed, as_json):
    """Choose a method for your data without target labels.

    Every candidate (method x point of its search space, and source-only, the
    strong classifier trained without transfer) is fitted and scored by an
    unsupervised scorer that never reads target labels; the highest score is
    chosen. When the target file has labels, each candidate's true accuracy is
    shown in a separate column for your information: it plays no part in the
    choice.

    \b
      tltk select --source books.svm --target kitchen.svm
      tltk select --dataset 20ng-sci-talk --task crypt-guns:med-misc --methods tca,jda,sfa
    """
    import time

    import numpy as np

    from .selection import DEFAULT_SCORER, FALLBACK_SCORER, SCORERS, applicable, get_scorer

    _show_warnings()
    # the default scorer needs probabilities; when it can rank no candidate, the
    # choice falls back to FALLBACK_SCORER (scored then: it needs fold fits the
    # default does not). A scorer the user names never falls back.
    fallback = FALLBACK_SCORER if scorer is None and DEFAULT_SCORER != FALLBACK_SCORER else None
    scorer = get_scorer(scorer or DEFAULT_SCORER).name
    if compare is None:
        others = []
    elif compare.strip() == "all":
        others = [n for n in SCORERS if n != scorer]
    else:
        others = [get_scorer(n).name for n in _csv_list(compare, "--compare")]
        others = [n for i, n in enumerate(others) if n != scorer and n not in others[:i]]
    scorers = [scorer, *others]
    if dataset and sources:
        raise InputError("give --dataset or --source/--target, not both")
    if bool(sources) != bool(target):
        raise InputError("give both --source and --target (or --dataset and --task)")
    if not dataset and not sources:
        raise InputError("tltk select needs --source/--target files or --dataset/--task")
    registry = get_registry()
    if dataset:
        from .data.benchmarks import load_task

        if not task_spec:
            raise InputError(f"--dataset {dataset} needs --task")
        task = load_task(dataset, task_spec)
    else:
        task = _task_from_files(sources, target, keys.split(",") if keys else None)
    if methods.strip() == "all":
        names = [e.name for e in registry.entries()
                 if e.status == "ok" and not e.info.needs_target_labels]
    else:
        names = _csv_list(methods, "--methods")
        for n in names:
            registry.get(n)
    if "source-only" not in names and any(e.name == "source-only" and e.status == "ok"
                                          for e in registry.entries()):
        names.append("source-only")

    def usable_by(name):
        return [n for n in names if applicable(name, registry.get(n).load_class())]

    usable = usable_by(scorer)
    if not usable and fallback is not None:
        if not as_json:
            click.echo(f"Note: the default scorer {scorer!r} needs probabilities that none of "
                       f"these methods gives; scoring by {fallback!r} instead", err=True)
        scorer, fallback = fallback, None
        others = [n for n in others if n != scorer]
        scorers = [scorer, *others]
        usable = usable_by(scorer)
    if not as_json:
        for n in names:
            if n not in usable:
                click.echo(f"Note: {n} cannot be scored by {scorer!r} (it lacks what the "
                           "scorer needs, or needs target labels); left out", err=True)
    if not usable:
        raise InputError(f"no candidate method can be scored by {scorer!r} (scorers: "
                         f"{', '.join(SCORERS)})")
    grid = _select_grid(usable, params)
    protocol = getattr(task, "protocol", None)
    Xs = [d.X for d in task.sources]
    ys = [np.asarray(d.y) for d in task.sources]
    if len(Xs) > 1:
        from .validation import stack_rows

        if not as_json:
            click.echo(f"Note: the {len(Xs)} sources are pooled for scoring", err=True)
        Xs, ys = [stack_rows(*Xs)], [np.concatenate(ys)]
    Xs, ys = Xs[0], ys[0]
    Xt = task.target.X
    evaluation = getattr(task, "evaluation", None) or task.target
    y_eval = None if evaluation.y is None else np.asarray(evaluation.y)
    jobs_list = []
    for m in usable:
        cls = registry.get(m).load_class()
        base = (protocol.params_for(m, cls._get_param_names(), {}) if protocol is not None
                else {})
        if "random_state" in cls._get_param_names():
            base.setdefault("random_state", seed)
        for point in grid[m]:
            jobs_list.append((m, point, base))
    if not as_json:
        click.echo(f"{len(jobs_list)} candidates ({len(usable)} methods), scorer {scorer}"
                   + (f", budget {budget:g} s" if budget is not None else ""), err=True)
    start = time.monotonic()

    def run(todo, by, budgeted=True):
        """Fit every candidate of ``todo`` and score it by the scorers ``by``
        (the first decides) -> (results, the candidates the budget left untried)."""
        if jobs != 1:
            from joblib import Parallel, delayed

            return Parallel(n_jobs=jobs)(
                delayed(_score_one)(m, point, base, Xs, ys, Xt, by, seed, evaluation.X, y_eval)
                for m, point, base in todo), []
        tried = []
        for i, (m, point, base) in enumerate(todo, 1):
            if budgeted and i > 1 and budget is not None and time.monotonic() - start > budget:
                return tried, todo[i - 1:]
            r = _score_one(m, point, base, Xs, ys, Xt, by, seed, evaluation.X, y_eval)
            tried.append(r)
            if not as_json:
                shown = ("fitted" if get_scorer(by[0]).pooled else f"score {r['score']:.4f}")
                click.echo(f"[{i}/{len(todo)}] {_candidate_label(m, point)}: "
                           + (shown if r["error"] is None else f"FAILED: {r['error']}")
                           + f" ({r['seconds']:.1f} s)", err=True)
        return tried, []

    results, skipped = run(jobs_list, scorers)
    _combine_pooled(scorers, results)
    scored = [r for r in results if r["error"] is None and np.isfinite(r["score"])]
    if not scored and fallback is not None:
        # e.g. every candidate ends in a 1-nearest-neighbour classifier (0/1 probabilities)
        if not as_json:
            click.echo(f"Note: the default scorer {scorer!r} could rank no candidate (their "
                       f"probabilities are all 0 or 1); choosing by {fallback!r} instead"
                       + ("" if fallback in scorers else ", which fits them again"),
                       err=True)
        scorer = fallback
        if scorer not in scorers:
            # not scored yet (it needs fold fits the default does not): the
            # candidates already tried are fitted again, whatever the budget
            again, _ = run(jobs_list[:len(results)], [scorer], budgeted=False)
            for r, r2 in zip(results, again):
                r["scores"][scorer] = r2["score"]
                if r["error"] is None:
                    r["error"] = r2["error"]
        others = [n for n in others if n != scorer]
        scorers = [scorer, *others]
        for r in results:
            r["score"] = r["scores"][scorer]
        scored = [r for r in results if r["error"] is None and np.isfinite(r["score"])]
    if not scored:
        raise _Failure("no candidate could be scored: "
                       + "; ".join(f"{r['method']}: {r['error']}" for r in results[:3]))
    ranked = sorted(scored, key=lambda r: -r["score"]) + [r for r in results
                                                          if r not in scored]
    chosen = ranked[0]
    out = {"chosen": {"method": chosen["method"], "params": chosen["params"]},
           "scorer": scorer,
           "candidates": [{"method": r["method"], "params": r["params"],
                           "score": None if not np.isfinite(r["score"]) else r["score"],
                           "accuracy": r["accuracy"], "error": r["error"],
                           "seconds": r["seconds"]} for r in ranked],
           "skipped": [{"method": m, "params": p} for m, p, _ in skipped]}
    # each other scorer's order of the candidates it can rank (stable: ties keep
    # candidate order); its pick is the first
    orders = {n: sorted((r for r in results if r["error"] is None
                         and np.isfinite(r["scores"][n])), key=lambda r: -r["scores"][n])
              for n in others}
    picks = {n: orders[n][0] if orders[n] else None for n in others}
    if others:
        for c, r in zip(out["candidates"], ranked):
            c["scores"] = {n: None if not np.isfinite(r["scores"][n]) else r["scores"][n]
                           for n in scorers}
        out["compare"] = {n: None if picks[n] is None else
                          {"method": picks[n]["method"], "params": picks[n]["params"]}
                          for n in others}
    if as_json:
        from .evaluate import _jsonable

        click.echo(json.dumps(_jsonable(out), indent=2))
        return
    labelled = y_eval is not None
    # the other scorers' ranks (1 = their pick; "-" = they cannot rank it)
    ranks = {n: {id(r): k for k, r in enumerate(orders[n], 1)} for n in others}
    click.echo(f"{'rank':>4}  {'candidate':<44} {'score':>9}"
               + "".join(f" {n:>8}" for n in others)
               + ("   accuracy*" if labelled else ""))
    for i, r in enumerate(ranked, 1):
        score = "failed" if r["error"] else f"{r['score']:.4f}"
        acc = "" if not labelled or r["accuracy"] is None else f"   {100 * r['accuracy']:7.2f}%"
        mark = "  <- chosen" if r is chosen else ""
        other = "".join(f" {ranks[n].get(id(r), '-'):>8}" for n in others)
        click.echo(f"{i:>4}  {_candidate_label(r['method'], r['params']):<44} {score:>9}"
                   f"{other}{acc}{mark}")
    label = _candidate_label(chosen["method"], chosen["params"])
    why = f"chosen: {label}, the highest {scorer} score ({chosen['score']:.4f})"
    if len(scored) > 1:
        runner = next(r for r in ranked if r is not chosen)
        why += (f", {chosen['score'] - runner['score']:.4f} ahead of "
                f"{_candidate_label(runner['method'], runner['params'])}")
    click.echo(why + ".")
    if chosen["method"] == "source-only":
        click.echo("By this score adaptation does not pay here: no transfer is the choice.")
    else:
        base_r = next((r for r in scored if r["method"] == "source-only"), None)
        if base_r is not None:
            click.echo(f"It scores {chosen['score'] - base_r['score']:.4f} above source-only "
                       "(no transfer).")
    if others:
        agree = [n for n in others if picks[n] is chosen]
        differ = [f"{n} picks {_candidate_label(picks[n]['method'], picks[n]['params'])}"
                  for n in others if picks[n] is not None and picks[n] is not chosen]
        click.echo("Other scorers (ranks above; they do not change the choice): "
                   + (f"{', '.join(agree)} {'agrees' if len(agree) == 1 else 'agree'}"
                      if agree else "none agrees")
                   + (f"; {'; '.join(differ)}" if differ else "") + ".")
    unranked = [r for r in results if r["error"] is None and r not in scored]
    if unranked:
        click.echo(f"{len(unranked)} candidate{'s' if len(unranked) > 1 else ''} "
                   f"could not be ranked by {scorer} (nan above: e.g. all-0/1 probabilities "
                   f"of a 1-nearest-neighbour classifier) and could not be chosen; "
                   f"--scorer {FALLBACK_SCORER} ranks every candidate.")
    if labelled:
        click.echo("* accuracy uses the target labels, for your information only; the "
                   "choice never does.")
    if skipped:
        click.echo(f"{len(skipped)} candidates not tried: the budget was spent", err=True)


def main(argv=None):
    """Console entry point: click errors become one ``Error:`` line too."""
    try:
        rv = cli.main(args=argv, prog_name="tltk", standalone_mode=False)
    except click.UsageError as exc:
        hint = f" (see 'tltk {exc.ctx.info_name} --help')" if exc.ctx and exc.ctx.parent else ""
        click.echo(f"Error: {exc.format_message()}{hint}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"Error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Error: aborted", err=True)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
