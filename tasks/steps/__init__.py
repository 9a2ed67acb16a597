"""Prefect tasks: each fetches its inputs through ``tasks.io``, calls ``tasks.core``, writes.

Flows compose these; the CLI calls a few of them directly (``task.fn``) for one-shot
commands that need no flow run (approve, rollback, verify).
"""
