"""Python's cycle collector told which objects a service keeps for its whole life, so that it stops walking them.

Every so often CPython's collector runs a full collection, which walks every object it tracks to find cycles
of garbage. Most of a running service's objects were made before it served anything and live until it stops:
the modules, their classes and functions, pydantic's validators, FastAPI's routes, FastStream's and aiokafka's
machinery. Walking them finds nothing to free, yet it is most of what a full collection costs. `gc.freeze()`
moves every object tracked at that moment to a permanent generation that collections skip; what is made
afterwards (a batch's records, a request's objects) is collected as before. `backbone serve` freezes once the
app is built, just before it starts serving.

Measured on P2, the kit's relay and consume stage in one process: its CPU per event 6–10% lower and P2 4–7%
higher (docs/capacity.md, change 13); the services' own CPU per consultation did not move beyond the noise. The
price: a frozen object that later becomes garbage in a cycle stays in memory. Start-up's objects are held until
shutdown anyway.
"""

from __future__ import annotations

import gc


def freeze_start_up() -> None:
    """Call once, when the process has built what it keeps: what building left as garbage is collected first,
    the rest is frozen."""
    gc.collect()
    gc.freeze()
