"""nanoGPT's CPU run in PyTorch eager against the same run through this project's CLI, in one process tree.

    python -m venv /tmp/torch && /tmp/torch/bin/pip install torch==2.13.0 numpy
    python benchmarks/nanogpt_side_by_side.py --torch-python /tmp/torch/bin/python
    python benchmarks/nanogpt_side_by_side.py --torch-python ... --seeds 1337 1338 --json side_by_side.json

For each seed, one after the other on the same machine: `torch_nanogpt_reference.py` (nanoGPT's
model and train.py loop; its whole-command wall clock leaves out the whole-split validation
it adds at the end, which train.py does not do) and `python -m lm_keras train` with the same
model and recipe (`cli_profile.py`'s command, 2000 steps). Prints both in-loop speeds (median
tokens/s), both wall clocks, the ratios (lm_keras over nanoGPT: above 1 is faster) and both
validation losses (nanoGPT's last 20-batch estimate, and the whole validation split for both).
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cli_profile import NANOGPT_CPU, print_profile, run_cli
from lm_keras.utils.paths import data_dir

HERE = Path(__file__).resolve().parent


def run_reference(torch_python, corpus, steps, seed, workdir):
    """The PyTorch run -> its RESULT dict plus `wall_s` (the process, without the added whole-split validation)."""
    command = [torch_python, str(HERE / "torch_nanogpt_reference.py"), "--corpus", corpus, "--steps", str(steps),
               "--seed", str(seed), "--out-dir", str(Path(workdir) / "out"), "--full-validation"]
    start = time.perf_counter()
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - start
    result = json.loads(next(line for line in output.splitlines() if line.startswith("RESULT "))[7:])
    result["wall_s"] = wall - result["full_validation_s"]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--torch-python", required=True, help="a Python with torch and numpy installed")
    parser.add_argument("--corpus", help="tinyshakespeare.txt for the reference (default: lm_keras's cached copy)")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1337])
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    if args.corpus is None:   # the CLI's cached, hash-checked copy (downloaded if missing)
        subprocess.run([sys.executable, "-m", "lm_keras", "download", "tiny_shakespeare"], check=True,
                       stdout=subprocess.DEVNULL)
        args.corpus = str(data_dir() / "tinyshakespeare.txt")
    rows = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as workdir:
            reference = run_reference(args.torch_python, args.corpus, args.steps, seed, workdir)
            ours = run_cli([*NANOGPT_CPU, "--steps", str(args.steps), "--seed", str(seed)], workdir)
        print_profile(ours)
        rows.append({"seed": seed, "nanogpt": reference, "lm_keras": ours,
                     "in_loop_ratio": ours["tokens_per_s"] / reference["tokens_per_s"],
                     "wall_ratio": reference["wall_s"] / ours["wall_s"]})

    def mean(key, side=None):
        return statistics.mean(r[side][key] if side else r[key] for r in rows)

    print(f"\nnanoGPT (PyTorch {rows[0]['nanogpt']['torch']} eager, {rows[0]['nanogpt']['threads']} threads) against "
          f"lm_keras's CLI, {args.steps} steps, seeds {args.seeds}; means over the seeds\n")
    print(f"{'':34}{'nanoGPT':>12}{'lm_keras':>12}{'ratio':>8}")
    print(f"{'in-loop tokens/s':34}{mean('tokens_per_s', 'nanogpt'):12,.0f}{mean('tokens_per_s', 'lm_keras'):12,.0f}"
          f"{mean('in_loop_ratio'):7.2f}x")
    print(f"{'wall clock, whole command (s)':34}{mean('wall_s', 'nanogpt'):12.1f}{mean('wall_s', 'lm_keras'):12.1f}"
          f"{mean('wall_ratio'):7.2f}x")
    print(f"{'validation loss, whole split':34}{mean('val_loss_full_split', 'nanogpt'):12.4f}"
          f"{mean('val_loss_full_split', 'lm_keras'):12.4f}")
    print(f"{'validation loss, last estimate':34}{mean('val_loss_last_estimate', 'nanogpt'):12.4f}"
          f"{'(20 random batches)':>20}")
    if args.json:
        Path(args.json).write_text(json.dumps({"steps": args.steps, "seeds": args.seeds, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
