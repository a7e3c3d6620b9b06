"""The benchmark's outputs: the stdout table, docs/performance.md and docs/performance-send.png."""

import datetime
import os
import platform
import subprocess
from importlib import metadata

from common import REPO


def _mark(met):
    return "—" if met is None else ("met" if met else "MISSED")


def table(results):
    rows = [r for result in results for r in result["rows"]]
    headers = ("", "measurement", "value", "compared", "target", "")
    cells = [headers] + [(r["id"], r["what"], r["value"], r["compare"], r["target"], _mark(r["met"])) for r in rows]
    widths = [max(len(str(c[i])) for c in cells) for i in range(len(headers))]
    lines = ["  ".join(str(c[i]).ljust(widths[i]) for i in range(len(headers))).rstrip() for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as stream:
            for line in stream:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as stream:
            mem = int(stream.readline().split()[1]) / 1024.0 / 1024.0
    except OSError:
        mem = float("nan")
    versions = []
    for name in ("ansible-core", "zeep", "requests-ntlm", "requests", "lxml", "exchangelib", "pyspnego"):
        try:
            versions.append("%s %s" % (name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            pass
    return "%s, %d CPUs, %.1f GiB RAM; %s; Python %s; %s" % (
        cpu, os.cpu_count(), mem, platform.platform(terse=True), platform.python_version(), ", ".join(versions))


def _git(*args):
    try:
        return subprocess.run(("git",) + args, cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def plot(p2, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    data = p2["data"]
    figure, axis = plt.subplots(figsize=(7, 4.2), dpi=110)
    for variant, points in data["plot"].items():
        axis.plot([n for n, _ in points], [s for _, s in points], marker="o", label=data["labels"][variant])
    axis.set_xlabel("drafts sent (ids in one call / task)")
    axis.set_ylabel("seconds (median)")
    axis.set_title("Send time vs batch size (local EWS sandbox, HTTPS + NTLM)")
    axis.grid(True, alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
