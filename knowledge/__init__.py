"""The curated corpus, its ingestion and the vector store."""
