"""``python -m eval.bench``: the benchmark (eval/bench/run.py)."""

from eval.bench.run import main

if __name__ == "__main__":
    main()
