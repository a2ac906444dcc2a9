"""The answer of a turn: drafts from templates, formatting of shop data, the responder (LLM
phrasing under the grounding check) and the Reply a turn returns."""
