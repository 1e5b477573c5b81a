# Two commands for a fresh machine (Python 3.10-3.12):
#   make demo   create .venv, install, train the char LSTM on the default corpus, generate text,
#               export a SavedModel (strings in, strings out) and generate from it with plain TensorFlow
#   make test   create .venv, install the test extras, run the whole test suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED_DATA ?= ../shared/data

.PHONY: demo test install install-test data clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"

# Copy development corpora into the cache when they are beside the checkout (CI has no internet).
data:
	@if [ -d "$(SHARED_DATA)" ]; then cp -n $(SHARED_DATA)/*.txt $(SHARED_DATA)/*.tsv data/ 2>/dev/null || true; fi

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

clean-venv:
	rm -rf $(VENV)
