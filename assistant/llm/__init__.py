"""The language model: its protocol, the llama.cpp and OpenAI-compatible backends, the closed
command set with its grammar, and the phrasing prompt."""
