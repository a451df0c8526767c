"""Console figures from a read replica (DATABASE_REPLICA_URL); every write and every other read on the primary.

Only the analytics rollups are read there: they are recomputed every few minutes anyway, so a replica's
lag of seconds shows nowhere. Inside a transaction on the primary (a rollup being rewritten) reads stay on
the primary, so a service never reads around its own writes.
"""

from django.db import connections

REPLICA = "replica"
REPLICA_APPS = {"analytics"}


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if model._meta.app_label not in REPLICA_APPS or connections["default"].in_atomic_block:
            return None
        return REPLICA

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, **hints):
        return db == "default"
