"""Where every second of `python -m lm_keras train` goes.

    python benchmarks/cli_profile.py                      # nanoGPT's CPU config, 20 and 2000 steps
    python benchmarks/cli_profile.py --steps 20 --json profile.json
    python benchmarks/cli_profile.py -- --model gru --hidden-dim 256   # other CLI options

Runs the training command in a child process per step count (the command a user types,
checkpoints and all), times the whole process, and splits it with the `timings.json` the
run writes (`train_run`'s phases: data, model, the fit's setup, first step, steps,
validations, work between intervals, final evaluation, samples, save). What the run does
not time is start-up and exit: the interpreter, imports, TensorFlow initialising.
Also prints the in-loop training speed (tokens/s of the training steps).
"""

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# nanoGPT's README CPU configuration (config/train_shakespeare_char.py with its CPU overrides).
NANOGPT_CPU = ["--corpus", "tiny_shakespeare", "--tokenizer", "char", "--model", "transformer", "--layers", "4",
               "--heads", "4", "--d-model", "128", "--context", "64", "--batch-size", "12", "--no-bias"]
STARTUP = "start-up and exit (interpreter, imports, TensorFlow)"


def run_cli(arguments, workdir):
    """Run `python -m lm_keras train ARGUMENTS --out WORKDIR/run` -> dict of wall_s, phases (seconds, start-up
    and exit included), in-loop tokens/s (median of the evaluation intervals after the first, which
    compiles) and the validation loss on the whole split."""
    out = Path(workdir) / "run"
    command = [sys.executable, "-m", "lm_keras", "train", *arguments, "--out", str(out), "--overwrite", "--quiet"]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    phases = json.loads((out / "timings.json").read_text())
    phases[STARTUP] = wall - sum(phases.values())
    with open(out / "metrics.csv") as f:
        speeds = [float(row["tokens_per_second"]) for row in csv.DictReader(f)]
    evaluation = json.loads((out / "evaluation.json").read_text())
    return {"command": " ".join(command[1:-4]), "wall_s": wall, "phases": phases,
            "tokens_per_s": statistics.median(speeds[1:] or speeds), "val_loss_full_split": evaluation["loss"]}


def print_profile(result):
    print(f"\n{result['command']}\n  wall clock {result['wall_s']:.1f} s; in the loop {result['tokens_per_s']:,.0f} "
          f"tokens/s; validation loss (whole split) {result['val_loss_full_split']:.4f}")
    for phase, seconds in sorted(result["phases"].items(), key=lambda item: -item[1]):
        print(f"  {seconds:7.2f} s  {100 * seconds / result['wall_s']:5.1f}%  {phase}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, nargs="+", default=[20, 2000])
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("cli", nargs="*", help="after --: other `train` options (replace nanoGPT's config)")
    args = parser.parse_args()
    results = []
    for steps in args.steps:
        with tempfile.TemporaryDirectory() as workdir:
            results.append(run_cli([*(args.cli or NANOGPT_CPU), "--steps", str(steps)], workdir))
        print_profile(results[-1])
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
