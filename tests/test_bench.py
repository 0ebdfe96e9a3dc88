"""`make bench` keeps working: its generated batch and one small run end to end. No figure is
asserted here (speed lives in the benchmark, never in unit tests); only that every line is there
and says what it measured."""
import re
import subprocess
import sys
from pathlib import Path

from bench.generate import HOSTILE_EVERY, generate
from grader.read.notebook import SubmissionError, read_notebook

COURSE = Path(__file__).resolve().parent.parent


def test_generated_batch_cycles_the_samples_with_a_hostile_share(tmp_path):
    folder = generate("rnn_linear", 30, tmp_path, COURSE)
    notebooks = sorted(folder.glob("*.ipynb"))
    assert len(notebooks) == 30
    hostile = [p for i, p in enumerate(notebooks) if i % HOSTILE_EVERY == HOSTILE_EVERY - 1]
    assert len(hostile) == 3
    texts = [p.read_text() for p in hostile]
    assert all(any(name in text for name in ("print('x'", "sys.exit", "os._exit", "np.ones",
                                              "object()")) for text in texts)
    samples = {p.read_bytes() for p in (COURSE / "assignments" / "rnn_linear" / "samples")
               .glob("*.ipynb")}
    for path in set(notebooks) - set(hostile):  # a sample, rewritten by nbformat or copied
        try:
            read_notebook(path)
        except SubmissionError:
            assert path.read_bytes() in samples


def test_a_small_bench_runs_end_to_end():
    done = subprocess.run([sys.executable, "-m", "bench", "--n", "12", "--repeat", "1",
                           "--kernel-sample", "1", "--assignments", "rnn_linear",
                           "--skip-memory", "--similarity", "30"], cwd=COURSE,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert re.search(r"rnn_linear +[\d.]+ submissions/s \(\d+-\d+\)  overhead +-?[\d.]+ "
                     r"ms/submission  tests' compute +[\d.]+ ms/submission  peak \d+ MB  "
                     r"isolation (full|reduced)  kernel \d+ ms/notebook  ratio \d+x", out), out
    assert re.search(r"floor: a numpy-warm process forks a child that exits at once and reaps "
                     r"it in [\d.]+ ms \(on one core, median of 5x400\); 10% of the tests' "
                     r"compute: rnn_linear [\d.]+ ms\n", out), out
    assert re.search(r"one submission alone \(grader grade one.ipynb\): [\d.]+ s wall", out), out
    assert re.search(r"similarity: 30 lstm notebooks in [\d.]+ s wall \(goal: 1,000 in 60 s\), "
                     r"\d+ pairs listed", out), out
