"""Readers and writers. ``plan_shards`` turns inputs into shards; ``read_shard`` streams one shard's
documents; writers live in ``thresher.io.writers``."""

from thresher.io.shards import ReadError, Shard, plan_shards, read_shard

__all__ = ["Shard", "ReadError", "plan_shards", "read_shard"]
