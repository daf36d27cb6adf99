"""The GIL's switch interval in the window: a worker gets the GIL back within 0.2 ms, not 5.

A thread that wants the GIL while another runs Python waits for the interpreter's switch interval
(5 ms by default) before asking it to let go.  The window's workers give the GIL up many times a
thumbnail — around each file read, the libjpeg decode and the Pillow resize, six times in all —
so whenever the GUI thread was running Python (composing cells, reading a page of summaries into
the model, painting) each of those came back up to 5 ms late, and the GUI thread waited as long
for the GIL whenever a worker held it.  Measured here (2 cores):

* a thumbnail decoded on a worker while the main thread runs Python: 27 ms at 5 ms, 7.5 ms at
  1 ms, 2.7 ms at 0.2 ms (0.45 ms alone);
* the stepped scroll of a million photos, switch intervals interleaved step by step in one run
  (three runs, 40–80 steps each way): step mean 4–12 % lower at 0.2 ms than at 5 ms (1 ms and
  0.1 ms alike or in between).

The cost is more switches between threads that all run Python (a scan's workers): each a few
microseconds.  The window sets it once, at start (:func:`shorten_switch_interval`); the command
line keeps CPython's.
"""
from __future__ import annotations

import sys

SWITCH_INTERVAL_S = 0.0002


def shorten_switch_interval() -> float:
    """Set the process's GIL switch interval to :data:`SWITCH_INTERVAL_S`; returns the previous one."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    return previous
