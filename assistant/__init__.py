"""The dialogue engine. One turn goes through ``sessions`` (the conversation's log and state),
``decide`` (router, action registry, flows, handlers), ``reply`` (draft, LLM phrasing,
grounding check) with ``llm`` (the model behind commands and phrasing); ``engine.Assistant`` is
the API every channel calls."""
