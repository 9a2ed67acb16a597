"""Contracts: dataset contracts, model specs and policies, settings, registry tables."""
