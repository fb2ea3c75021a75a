"""The load generator: wrk against one URL, its latency percentiles read from its output.

wrk prints 50/75/90/99% with --latency; the script below makes it print one JSON line with
the percentiles the targets name (p50, p95) and counts every answer other than the one
expected (a redirect to the sign-in page would otherwise pass for a fast page). Given a JSON
body, each request posts it with `CALL_REF` replaced by a reference no other request used.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.common import BenchError

MARK = "fiducia-wrk "  # what the script's done() prints before its JSON
SCRIPT = """
-- Count answers other than 200; print the latency figures as one JSON line.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  not_200 = 0
  sent = 0
  posted = {}
  for name, value in pairs(wrk.headers) do posted[name] = value end
  posted["Content-Type"] = "application/json"
end

BODY = @BODY@
if BODY ~= nil then
  request = function()
    sent = sent + 1
    local body = BODY:gsub("CALL_REF", "wrk-" .. id .. "-" .. sent)
    return wrk.format("POST", nil, posted, body)
  end
end

function response(status, headers, body)
  if status ~= @EXPECTED@ then
    not_200 = not_200 + 1
  end
end

function done(summary, latency, requests)
  local other = 0
  for _, thread in ipairs(threads) do
    other = other + thread:get("not_200")
  end
  local errors = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "not_200": %d, "connect": %d, "read": %d, '
    .. '"write": %d, "timeout": %d, "min_us": %d, "p50_us": %d, "p90_us": %d, '
    .. '"p95_us": %d, "p99_us": %d, "max_us": %d}\\n',
    "fiducia-wrk ", summary.requests, summary.duration, other, errors.connect, errors.read,
    errors.write, errors.timeout, latency.min, latency:percentile(50),
    latency:percentile(90), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True, slots=True)
class Latency:
    """What one wrk run measured: requests, their rate, and latency percentiles in ms."""

    connections: int
    requests: int
    seconds: float
    p50: float
    p90: float
    p95: float
    p99: float
    max: float

    @property
    def rate(self) -> float:
        """Return the requests per second."""
        return self.requests / self.seconds


def wrk_path() -> str:
    """Return the wrk executable, or say how to install it."""
    found = shutil.which("wrk")
    if found is None:
        raise BenchError("wrk is not installed: `apt-get install wrk` (Debian's package)")
    return found


def parse(output: str, connections: int) -> Latency:
    """Read the JSON line the script prints; refuse a run with errors or answers not 200."""
    lines = [line for line in output.splitlines() if line.startswith(MARK)]
    if not lines:
        raise BenchError(f"wrk printed no figures:\n{output[-2000:]}")
    found = json.loads(lines[-1][len(MARK) :])
    errors = {name: found[name] for name in ("connect", "read", "write", "timeout", "not_200")}
    if any(errors.values()):
        raise BenchError(f"wrk saw failed requests {errors}:\n{output[-2000:]}")
    if found["requests"] == 0:
        raise BenchError(f"wrk completed no request:\n{output[-2000:]}")
    return Latency(
        connections=connections,
        requests=found["requests"],
        seconds=found["duration_us"] / 1e6,
        p50=found["p50_us"] / 1e3,
        p90=found["p90_us"] / 1e3,
        p95=found["p95_us"] / 1e3,
        p99=found["p99_us"] / 1e3,
        max=found["max_us"] / 1e3,
    )


def wrk_output(
    url: str,
    headers: Mapping[str, str],
    connections: int,
    seconds: int,
    *,
    body: str | None = None,
    expected: int = 200,
) -> str:
    """Load one URL from `connections` connections for `seconds`; return what wrk printed.

    With a `body`, every request posts it (each with its own `CALL_REF`) and expects
    `expected`; without, every request is a GET that expects it.
    """
    quoted = "nil" if body is None else "[==[" + body + "]==]"
    with tempfile.TemporaryDirectory(prefix="fiducia-wrk-") as scratch:
        script = Path(scratch) / "figures.lua"
        script.write_text(SCRIPT.replace("@BODY@", quoted).replace("@EXPECTED@", str(expected)))
        command = [
            wrk_path(),
            "--threads",
            str(min(2, connections)),
            "--connections",
            str(connections),
            "--duration",
            f"{seconds}s",
            "--timeout",
            "60s",  # a slow answer is measured, not dropped as a time-out
            "--script",
            str(script),
        ]
        for name, value in headers.items():
            command += ["--header", f"{name}: {value}"]
        done = subprocess.run(
            [*command, url], capture_output=True, text=True, timeout=seconds + 120, check=False
        )
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def run_wrk(
    url: str,
    headers: Mapping[str, str],
    connections: int,
    seconds: int,
    *,
    body: str | None = None,
    expected: int = 200,
) -> Latency:
    """Load one URL with wrk (see `wrk_output`); return its latency figures."""
    output = wrk_output(url, headers, connections, seconds, body=body, expected=expected)
    return parse(output, connections)
