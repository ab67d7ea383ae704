"""The loom side of the REST benchmark: records with notes, auto-CRUD, and ``/ping``."""
