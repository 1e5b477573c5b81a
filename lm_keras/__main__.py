import os

# Keep TensorFlow's C++ start-up chatter out of the CLI's output (set before TF is imported).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lm_keras.cli import main  # noqa: E402

raise SystemExit(main())
