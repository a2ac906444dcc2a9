"""Search over the shop's catalog and policies: Chroma vectors + BM25, fused by RRF."""
