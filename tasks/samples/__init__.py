"""Sample data for trying and testing the system: demo data, not core logic (pure).

``transactions.py`` generates card transactions (fraud), ``recs.py`` users, items and
interactions (ranker), ``corruptions.py`` the bad landing files, ``files.py`` the
landing files by day. Deterministic for a seed; nothing here writes anywhere.
"""

from tasks.samples.corruptions import (
    CORRUPTION_KINDS,
    INTERACTION_CORRUPTION_KINDS,
    corrupt_interactions,
    corrupt_transactions,
    to_csv_bytes,
)
from tasks.samples.files import (
    GENERATED,
    Files,
    corruption_kinds,
    sample_files,
    transaction_files,
)
from tasks.samples.recs import (
    GENRES,
    OCCUPATIONS,
    RecsLatent,
    build_recs_latent,
    generate_interactions,
    generate_items,
    generate_users,
)
from tasks.samples.transactions import (
    CATEGORIES,
    CHANNELS,
    COUNTRIES,
    RISKY_CATEGORIES,
    TRANSACTION_COLUMNS,
    generate_transactions,
)

__all__ = [
    "CATEGORIES", "CHANNELS", "CORRUPTION_KINDS", "COUNTRIES", "GENERATED", "GENRES",
    "INTERACTION_CORRUPTION_KINDS", "OCCUPATIONS", "RISKY_CATEGORIES", "TRANSACTION_COLUMNS",
    "Files", "RecsLatent", "build_recs_latent", "corrupt_interactions", "corrupt_transactions",
    "corruption_kinds", "generate_interactions", "generate_items", "generate_transactions",
    "generate_users", "sample_files", "to_csv_bytes", "transaction_files",
]  # fmt: skip
