"""Personalized recommendations: a collaborative model (implicit's ALS) blended with content
similarity and popularity, diversified by MMR, each result with a reason (issue 22)."""
