"""Where a run's wall-clock seconds go, phase by phase."""

import time


class Stopwatch:
    """Wall-clock seconds per named phase, in the order the phases first ran.

        watch = Stopwatch()                # starts now
        corpus = load_corpus("tiny_shakespeare")
        watch.lap("corpus")                # the seconds since the start (or the last lap)
        watch.seconds                      # {"corpus": 0.41}
    """

    def __init__(self, clock=time.perf_counter):
        self.seconds = {}
        self.clock = clock
        self._mark = clock()

    def lap(self, phase):
        """Charge the time since the last lap (or the start) to `phase`."""
        now = self.clock()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self._mark
        self._mark = now
