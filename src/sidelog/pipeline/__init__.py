"""Between ingest and store: filtering, rate limits, the bounded queue and the batcher."""
