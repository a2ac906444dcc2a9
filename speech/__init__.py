"""Voice commerce: decode audio, recognise speech (faster-whisper), rewrite replies for the ear
and speak them (espeak-ng), with a transcript normaliser and a check of low-confidence
transcripts before they reach the assistant."""
