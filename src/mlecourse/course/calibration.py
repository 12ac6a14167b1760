"""How fast is this machine right now? A yardstick for every benchmark.

A timing means little without the machine it ran on: 40 s on a loaded
laptop and 15 s on an idle one can be the same notebook. So every benchmark
of the course first times two fixed pieces of work, and reports each figure
three ways: wall seconds, CPU seconds, and as a multiple of that calibration
(wall / calibration). Two runs on different machines, or on one machine
under different load, compare by the multiple.

- a pure-Python loop (the interpreter: pandas glue, the course's own code),
- a numpy kernel (compiled arithmetic: model fitting, scoring).

Each is timed a few times and the fastest kept, as the least disturbed by
other programs; the load average is printed next to it, as what disturbs it.
``python -m mlecourse.course.calibration`` prints the line alone.
"""
from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass

PYTHON_LOOP_N = 3_000_000
NUMPY_SIZE, NUMPY_REPEATS = 300, 20
TRIES = 3


def python_loop() -> int:
    """Fixed CPU-bound interpreter work (integer arithmetic and branches)."""
    total = 0
    for i in range(PYTHON_LOOP_N):
        total += (i * i) % 7 if i & 1 else i % 3
    return total


def numpy_kernel() -> float:
    """Fixed compiled work: products and a solve on seeded 300x300 matrices."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((NUMPY_SIZE, NUMPY_SIZE))
    b = np.eye(NUMPY_SIZE) * NUMPY_SIZE + a
    out = 0.0
    for _ in range(NUMPY_REPEATS):
        out += float(np.linalg.solve(b, a @ a.T).trace())
    return out


def _best(work) -> tuple[float, float]:
    """Fastest wall time of a few tries, and the CPU time of that try."""
    best = (float("inf"), 0.0)
    for _ in range(TRIES):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@dataclass(frozen=True)
class Calibration:
    python_s: float
    numpy_s: float
    load: tuple[float, float, float]
    cpus: int
    cpu_model: str

    @property
    def unit(self) -> float:
        """The yardstick in seconds: both pieces of work, one after the other."""
        return self.python_s + self.numpy_s

    def line(self) -> str:
        return (f"calibration: python loop {self.python_s:.3f} s + numpy kernel {self.numpy_s:.3f} s "
                f"= 1 unit of {self.unit:.3f} s; {self.cpus} CPUs ({self.cpu_model}); "
                f"load average {self.load[0]:.2f} {self.load[1]:.2f} {self.load[2]:.2f}")

    def times(self, seconds: float) -> float:
        """``seconds`` as a multiple of the calibration unit."""
        return seconds / self.unit

    def figure(self, wall: float, cpu: float | None = None) -> str:
        """One figure three ways: '12.3 s, 10.9 s CPU, 14.8 units'."""
        cpu_text = f", {cpu:.1f} s CPU" if cpu is not None else ""
        return f"{wall:.1f} s{cpu_text}, {self.times(wall):.1f} units"


def calibrate() -> Calibration:
    # One thread, as the course runs (OMP_NUM_THREADS=1): the unit then
    # measures one core, the same on a laptop and on CI.
    python_s, _ = _best(python_loop)
    numpy_s, _ = _best(numpy_kernel)
    return Calibration(python_s, numpy_s, os.getloadavg(), os.cpu_count() or 1, _cpu_model())


if __name__ == "__main__":
    print(calibrate().line())
