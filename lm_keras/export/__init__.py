"""SavedModel export: strings in, strings out, the tokenizer and the decode loop inside the graph."""

from lm_keras.export.classifier_server import ClassifierServer
from lm_keras.export.saved_model import (ExportedClassifier, ExportedLanguageModel, ExportedVAE, export_run,
                                         export_saved_model, load, load_saved_model, read_export_info)
from lm_keras.export.server import DEFAULTS, LanguageModelServer, SavedModelServer
from lm_keras.export.vae_server import VAEServer

__all__ = ["DEFAULTS", "ClassifierServer", "ExportedClassifier", "ExportedLanguageModel", "ExportedVAE",
           "LanguageModelServer", "SavedModelServer", "VAEServer", "export_run", "export_saved_model", "load",
           "load_saved_model", "read_export_info"]
