"""Exceptions raised by lm_keras, each with a message that says what to do next."""


class LMKerasError(Exception):
    """Base class of the library's own errors."""


class CorpusError(LMKerasError, ValueError):
    """A corpus is missing, empty, undecodable, corrupted or too short."""


class ConfigError(LMKerasError, ValueError):
    """A configuration field has an invalid value (the message names the field)."""


class TrainingError(LMKerasError, RuntimeError):
    """Training could not finish (for example the loss became NaN)."""


class ModelLoadError(LMKerasError, OSError):
    """A saved run or model directory is missing, incomplete or corrupted."""


class OutputExistsError(LMKerasError, FileExistsError):
    """A run or export directory exists already and overwriting it was not asked for."""
