"""SavedModel export: strings in, strings out, the tokenizer and the decode loop inside the graph."""

from lm_keras.export.saved_model import ExportedLanguageModel, export_run, export_saved_model, load, load_saved_model
from lm_keras.export.server import DEFAULTS, LanguageModelServer

__all__ = ["DEFAULTS", "ExportedLanguageModel", "LanguageModelServer", "export_run", "export_saved_model", "load",
           "load_saved_model"]
