"""Summaries and tables of benchmark results: plain text for the terminal, markdown for
BENCHMARKS.md. ``python -m benchmarks.report RESULTS.json [--update BENCHMARKS.md]``
prints (or writes) the markdown tables of a saved run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

from .systems import DTYPES, SYSTEMS

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
# A round is slow when a machine check next to it took this many times the task's median check.
SLOW_CHECK = 1.25
SYSTEM_LABELS = {"zerodl": "zerodl f32", "torch": "PyTorch f32", "reference": "book-style f64"}


# ---------------------------------------------------------------- summaries
def summarize(runs: list[dict], warm: dict, hello: dict, closing: dict) -> dict:
    """Median and range of the timed steps, memory, page faults per step, first loss."""
    times = [t for run in runs for t in run["times_ms"]]
    steps = len(times)
    return {
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "round_medians_ms": [statistics.median(run["times_ms"]) for run in runs],
        "round_checks": [run["machine_check"] for run in runs],
        "round_checks_after": [run.get("machine_check_after") for run in runs],
        "steps": steps,
        "minflt_per_step": sum(run["minflt"] for run in runs) / steps,
        "initial_loss": hello["initial_loss"],
        "first_loss": warm["losses"][0],
        "last_loss": runs[-1]["losses"][-1],
        "base_rss_mb": hello["base_rss_mb"],
        "peak_rss_mb": closing["peak_rss_mb"],
        "times_ms": times,
    }


def summarize_cases(runs: list[dict], best: str = "median") -> dict:
    """Per case: median, min and max over every repetition of every round."""
    values: dict[str, list[float]] = {}
    for run in runs:
        for name, vs in run["cases"].items():
            values.setdefault(name, []).extend(vs)
    out = {name: {"median": statistics.median(vs), "min": min(vs), "max": max(vs), "n": len(vs)}
           for name, vs in values.items()}
    if best == "max" and out:
        out["best"] = max(v["max"] for v in out.values())
    return out


# ---------------------------------------------------------------- tables
def _table(headers: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*r).rstrip() for r in [headers, *rows])


def _ms(entry: dict | None) -> str:
    if not entry:
        return "—"
    return f"{_num(entry['median_ms'])} ({_num(entry['min_ms'])}–{_num(entry['max_ms'])})"


def _num(x: float) -> str:
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}" if x >= 1 else f"{x:.3f}"


def _ratio(a: dict | None, b: dict | None, key: str = "median_ms") -> str:
    return f"{a[key] / b[key]:.2f}" if a and b else "—"


def slow_rounds(task: dict) -> dict[str, list[int]]:
    """Per system, the (0-based) rounds next to a slow machine check, before or after.

    A check is slow when its matrix product or its copy took more than SLOW_CHECK
    times the median of all the task's checks: another tenant had the cores or the
    memory bus then, and the round's timings say more about the machine than the code.
    """
    entries = task["systems"]
    checks = [c for e in entries.values()
              for c in [*(e.get("round_checks") or []), *(e.get("round_checks_after") or [])] if c]
    if not checks:
        return {s: [] for s in entries}
    typical = {k: statistics.median(c[k] for c in checks) for k in ("matmul_ms", "copy_ms")}

    def slow(c) -> bool:
        return bool(c) and any(c[k] > SLOW_CHECK * typical[k] for k in typical)

    out = {}
    for system, e in entries.items():
        before = e.get("round_checks") or []
        after = e.get("round_checks_after") or [None] * len(before)
        out[system] = [i for i, (b, a) in enumerate(zip(before, after)) if slow(b) or slow(a)]
    return out


def quiet_median(entry: dict, slow: list[int]) -> float | None:
    """The median of a system's round medians, leaving out its slow rounds (None if all were)."""
    quiet = [m for i, m in enumerate(entry["round_medians_ms"]) if i not in slow]
    return statistics.median(quiet) if quiet else None


def _quiet_ratio(task: dict) -> str:
    s, slow = task["systems"], slow_rounds(task)
    if "zerodl" not in s or "torch" not in s:
        return "—"
    z, t = quiet_median(s["zerodl"], slow["zerodl"]), quiet_median(s["torch"], slow["torch"])
    return f"{z / t:.2f}" if z and t else "—"


def step_table(results: dict, markdown: bool) -> str:
    systems = _systems(results)
    headers = ["task", *[f"{SYSTEM_LABELS[s]} ms" for s in systems], "zerodl/PyTorch",
               "zerodl/PyTorch, quiet rounds", "book/zerodl"]
    rows = []
    for name, task in results["tasks"].items():
        s = task["systems"]
        rows.append([name, *[_ms(s.get(sys)) for sys in systems],
                     _ratio(s.get("zerodl"), s.get("torch")), _quiet_ratio(task),
                     _ratio(s.get("reference"), s.get("zerodl"))])
    return _table(headers, rows, markdown)


def rounds_table(results: dict, markdown: bool) -> str:
    """Each round's median step next to the machine check made just before it; rounds
    next to a slow check (before or after) are starred."""
    headers = ["task", "system", "round medians ms (* slow)", "check before: matmul ms / copy ms"]
    rows = []
    for name, task in results["tasks"].items():
        slow = slow_rounds(task)
        for system, e in task["systems"].items():
            checks = e.get("round_checks") or []
            rows.append([name, SYSTEM_LABELS[system],
                         " ".join(_num(v) + ("*" if i in slow[system] else "")
                                  for i, v in enumerate(e["round_medians_ms"])),
                         " ".join(f"{c['matmul_ms']:.2f}/{c['copy_ms']:.2f}" for c in checks)
                         or "—"])
    return _table(headers, rows, markdown)


def memory_table(results: dict, markdown: bool) -> str:
    headers = ["task", "system", "peak RSS MB", "RSS before training MB", "page faults/step",
               "initial loss", "steps timed"]
    rows = []
    for name, task in results["tasks"].items():
        for system, e in task["systems"].items():
            rows.append([name, SYSTEM_LABELS[system], f"{e['peak_rss_mb']:.0f}",
                         f"{e['base_rss_mb']:.0f}", f"{e['minflt_per_step']:.0f}",
                         f"{e['initial_loss']:.6f}", str(e["steps"])])
    return _table(headers, rows, markdown)


def gemm_lines(results: dict) -> list[str]:
    peak = results.get("micro", {}).get("matmul_peak", {}).get("best")
    lines = []
    if peak:
        lines.append(f"float32 matmul peak (NumPy, square 512–2048): {peak:.1f} GFLOP/s")
    for name, task in results["tasks"].items():
        if "matmul_gflop_per_step" not in task:
            continue
        parts = []
        for system, e in task["systems"].items():
            # the peak is float32's: a share of it means nothing for the float64 reference
            share = f", {e['gflops'] / peak:.0%} of peak" if peak and DTYPES[system] == "float32" \
                else ""
            parts.append(f"{SYSTEM_LABELS[system]} {e['gflops']:.1f} GFLOP/s{share}")
        lines.append(f"{name} ({task['matmul_gflop_per_step']:.3f} GFLOP of matmul per step): "
                     + "; ".join(parts))
    return lines


def micro_table(results: dict, markdown: bool) -> str:
    from .micro import CASES

    micro = results["micro"]["cases"]
    systems = [s for s in SYSTEMS if s in micro]
    labels = {**SYSTEM_LABELS, "reference": "book-style f32 / bare NumPy"}
    headers = ["case", "unit", *[labels[s] for s in systems], "zerodl/PyTorch"]
    rows = []
    for case, (unit, what) in CASES.items():
        cells = [micro[s].get(case) for s in systems]
        if not any(cells):
            continue
        z, t = micro.get("zerodl", {}).get(case), micro.get("torch", {}).get(case)
        rows.append([what, unit, *[_num(c["median"]) if c else "—" for c in cells],
                     _ratio(z, t, "median")])
    return _table(headers, rows, markdown)


def tta_table(results: dict, markdown: bool) -> str:
    headers = ["model", "target", "system", "training seconds", "epochs", "final test accuracy"]
    rows = []
    for name, entry in results["tta"].items():
        for system, r in entry["systems"].items():
            if "error" in r:
                rows.append([name, f"{entry['target']:.1%}", system, r["error"], "—", "—"])
                continue
            last = r["epochs"][-1]
            seconds = f"{r['seconds_to_target']:.1f}" if r["reached"] else \
                f"not reached ({last['train_seconds']:.1f})"
            rows.append([name, f"{entry['target']:.1%}", SYSTEM_LABELS[system], seconds,
                         str(last["epoch"]), f"{last['test_accuracy']:.2%}"])
    return _table(headers, rows, markdown)


def _systems(results: dict) -> list[str]:
    seen = {s for t in results["tasks"].values() for s in t["systems"]}
    return [s for s in SYSTEMS if s in seen]


def header(results: dict) -> str:
    m, cfg = results["machine"], results["config"]
    blas = ", ".join(f"{b['internal_api']} {b['version']} ({b['num_threads']} threads, "
                     f"{b['architecture']})" for b in m["blas"]) or "unknown"
    lines = [
        f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']:.0f} GB, "
        f"load average {', '.join(f'{x:.2f}' for x in m['load_average'])}",
        f"software: Python {m['python']}, NumPy {m['numpy']} ({blas}), "
        f"PyTorch {m['torch'] or 'not installed'}, zerodl {m['zerodl']}",
        f"threads: {cfg['threads']} for every system (OMP/OPENBLAS/MKL_NUM_THREADS, "
        "threadpoolctl, torch.set_num_threads)"
        + (f"; OPENBLAS_THREAD_TIMEOUT={m['openblas_thread_timeout']}"
           if m.get("openblas_thread_timeout") else ""),
        f"mode: {'quick' if cfg['quick'] else 'full'}, {cfg['rounds']} alternating rounds, "
        f"{cfg['warmup']} warm-up steps",
    ]
    for system, reason in results.get("skipped", {}).items():
        lines.append(f"skipped {system}: {reason}")
    return "\n".join(lines)


def _failures(results: dict) -> list[str]:
    lines = []
    for name, task in results["tasks"].items():
        lines += [f"{name}: {s} failed: {why}" for s, why in task.get("failures", {}).items()]
    for s, why in results.get("micro", {}).get("failures", {}).items():
        lines.append(f"micro: {s} failed: {why}")
    for s, errors in results.get("micro", {}).get("errors", {}).items():
        lines += [f"micro: {s} skipped {case}: {why}" for case, why in errors.items()]
    return lines


def render(results: dict, markdown: bool) -> str:
    """All tables of a run, as plain text or markdown."""
    parts = []
    h = (lambda s: f"### {s}") if markdown else (lambda s: f"\n{s}")
    if results["tasks"]:
        parts += [h("Training step, median ms (min–max): forward + backward + update"),
                  step_table(results, markdown),
                  h("Each system's rounds in order (the systems alternate A B C, C B A, …), "
                    "with a check of the machine's speed just before each (and one after: "
                    f"* marks a round next to a check over {SLOW_CHECK}× the task's median)"),
                  rounds_table(results, markdown),
                  h("Memory and page faults (one process per system)"),
                  memory_table(results, markdown)]
    gemm = gemm_lines(results)
    if gemm:
        parts += [h("Matrix products"), "\n".join(f"- {x}" if markdown else x for x in gemm)]
    if results.get("micro", {}).get("cases"):
        parts += [h("Micro-benchmarks, median"), micro_table(results, markdown)]
    if results.get("tta"):
        parts += [h("Time to accuracy (evaluation excluded)"), tta_table(results, markdown)]
    failures = _failures(results)
    if failures:
        parts += [h("Failures"), "\n".join(f"- {x}" if markdown else x for x in failures)]
    if "seconds" in results:
        parts.append(f"(suite ran {results['seconds']:.0f} s)")
    return "\n\n".join(parts) if markdown else "\n".join(parts)


def text(results: dict) -> str:
    return render(results, markdown=False)


def markdown(results: dict) -> str:
    """The results section of BENCHMARKS.md: machine, command, tables."""
    return "\n\n".join([f"Command: `{results['command']}`", "```\n" + header(results) + "\n```",
                        render(results, markdown=True)])


# ---------------------------------------------------------------- files
def _write_atomically(path: str | os.PathLike, text: str) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_json(results: dict, path: str | os.PathLike) -> None:
    _write_atomically(path, json.dumps(results, indent=1) + "\n")


def update_markdown(path: str | os.PathLike, results: dict) -> None:
    """Replace the text between the results markers of ``path`` (or append a marked section)."""
    section = f"{BEGIN}\n{markdown(results)}\n{END}"
    path = Path(path)
    old = path.read_text() if path.exists() else ""
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + section + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + section + "\n"
    _write_atomically(path, new)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    p.add_argument("results", help="a JSON file written by benchmarks.run --out")
    p.add_argument("--update", metavar="FILE.md", help="write the tables into this file")
    args = p.parse_args(argv)
    results = json.loads(Path(args.results).read_text())
    if args.update:
        update_markdown(args.update, results)
    else:
        print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
