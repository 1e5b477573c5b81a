# Two commands for a fresh machine (Python 3.10-3.12):
#   make demo   create .venv, install, train the char LSTM on the default corpus, generate text,
#               export a SavedModel (strings in, strings out) and generate from it with plain TensorFlow
#   make test   create .venv, install the test extras, run the whole test suite (what CI runs)
# Also:
#   make test-fast   the suite without notebooks and without training runs (under 5 minutes)
#   make test-min    make test-fast in .venv-min, against the oldest supported versions (constraints-min.txt)
#   make test-notebooks-full   every tutorial in full mode, each training capped at 2 steps (long)
PYTHON ?= python3
VENV ?= .venv
VENV_MIN ?= .venv-min
BIN := $(VENV)/bin
SHARED_DATA ?= ../shared/data
FAST := -m "not slow and not notebook and not notebook_full"

.PHONY: demo test test-fast test-min test-notebooks-full install install-test data clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"

# Fill the corpus cache through the users' own download-and-convert path, reading a local mirror of
# the pinned sources when one is beside the checkout (this project's machines have no internet);
# elsewhere corpora are downloaded from their public sources on first use.
data: install
	@if [ -d "$(SHARED_DATA)/chinese-poetry-d651e494" ]; then \
		LM_KERAS_SHAKESPEARE_URL="file://$(abspath $(SHARED_DATA))/tinyshakespeare.txt" \
		LM_KERAS_CHINESE_POETRY_URL="file://$(abspath $(SHARED_DATA))/chinese-poetry-d651e494/" \
		$(BIN)/python -m lm_keras download tiny_shakespeare tang_poems tang300; \
	fi

demo: install data
	$(BIN)/python -m lm_keras train --corpus default --tokenizer char --model lstm \
		--embedding-dim 64 --hidden-dim 256 --context 100 --batch-size 32 --steps 1000 \
		--eval-interval 250 --out saved_models/demo_char_lstm --overwrite
	$(BIN)/python -m lm_keras generate saved_models/demo_char_lstm --prompt "ROMEO:" \
		--max-new-tokens 400 --temperature 0.8 --seed 1
	$(BIN)/python -m lm_keras export saved_models/demo_char_lstm --out saved_models/demo_char_lstm_export --overwrite
	$(BIN)/python -c 'import tensorflow as tf; m = tf.saved_model.load("saved_models/demo_char_lstm_export"); \
		print(m.generate(tf.constant(["JULIET:"]), tf.constant(200), tf.constant(0.8), tf.constant(0), \
		tf.constant(1.0), tf.constant(1))["text"].numpy()[0].decode())'

test: install-test data
	$(BIN)/python -m pytest -q

test-fast: install-test data
	$(BIN)/python -m pytest -q $(FAST)

test-notebooks-full: install-test data
	$(BIN)/python -m pytest -q --durations=0 -m notebook_full tests/notebooks

$(VENV_MIN)/bin/python:
	$(PYTHON) -m venv $(VENV_MIN)
	$(VENV_MIN)/bin/python -m pip install --quiet --upgrade pip

test-min: $(VENV_MIN)/bin/python data
	$(VENV_MIN)/bin/python -m pip install --quiet -c constraints-min.txt -e ".[test]"
	$(VENV_MIN)/bin/python -m pytest -q $(FAST)

clean-venv:
	rm -rf $(VENV) $(VENV_MIN)
