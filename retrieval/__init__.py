"""Search over the shop's catalog and policies: Chroma vectors + BM25 (SQLite FTS5), fused by RRF."""
