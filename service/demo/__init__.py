"""Demonstration data, for trying the service: ``banshi demo-data`` and ``banshi demo-worker``.

``banshi demo-data`` (``generate``) fills a fresh database with staff, science workers
and two years of cases. Everything is drawn from one seeded random generator, so the
same seed and options give the same rows (the sealed personal data aside: the cipher
takes a fresh nonce for every value, as it must). Rows go in with COPY, in batches, in
one transaction with ``session_replication_role = replica``, which turns off the tally
trigger and the foreign-key checks for the load; the generator writes consistent rows
only, and the tallies are refilled afterwards by migration 0003's ``tally_rebuild()``.

Each case goes through the moves the workflow allows, and its stage times, due times
and clock are what ``services/cases.py`` and ``services/deadlines.py`` store after the
same moves. Working time comes from a per-day table built from the database's calendar
(``WorkingTime``), which gives the instants of ``domain/time_limit.py`` without walking
day by day. Instants are whole Unix seconds while a case lives, and microseconds since
the Unix epoch in the rows sent to COPY.

``banshi demo-worker`` (``make_demo_worker``) makes one science worker with an account
and a case waiting for their materials, through the same use cases the API runs.

The modules:

- ``options``: what the generator is asked for (``DemoOptions``), and its refusal;
- ``working_time``: the per-day working-time table and the microsecond helpers;
- ``vocabulary``: the names, words and weights drawn from, and the COPY columns;
- ``people``: stewards, liaisons and science workers;
- ``cases``: a case's life through the workflow, and its rows;
- ``arrivals``: how many cases arrive each day and when, in batches;
- ``load``: the checks, the preparation and the COPY (``generate``);
- ``worker``: ``banshi demo-worker``.
"""

from service.demo.load import generate
from service.demo.options import DEFAULT_NOW, DemoDataRefused, DemoOptions
from service.demo.worker import DemoWorker, make_demo_worker
from service.demo.working_time import WorkingTime

__all__ = [
    "DEFAULT_NOW",
    "DemoDataRefused",
    "DemoOptions",
    "DemoWorker",
    "WorkingTime",
    "generate",
    "make_demo_worker",
]
