"""Job declarations and the job-service contract; loom-jobs provides the runtime."""

__all__: list[str] = []
