"""Adapters to the world outside the service: the attachment store, the shared counters
(Redis), Prometheus, logging, the embedded PostgreSQL, running the migrations, and the
notices that keep process-local caches fresh. They import nothing of the service but
``domain/`` and ``config``; the layers above use them."""
