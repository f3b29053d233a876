"""Search by meaning: a vector for every question, and the questions nearest a text.

The model is WordLlama's static embedding, the first 128 of its 256 dimensions (its
weights ship inside the `wordllama` wheel, so nothing is downloaded and nothing runs
beside the app): a text's vector is the weighted mean of its tokens' vectors, about
0.1 ms per query on a CPU.

Rules:
- A question's vector is computed where its search document is written (the
  PostgreSQL engine's transaction, the Whoosh engine's outbox drain, every rebuild),
  never while answering a reader, and stored in `question_meaning`, so start-up
  needs no rebuild and every app server reads the same vectors.
- Each process keeps the vectors in a matrix (webapp/search/meaning/nearest.py) and
  reads what changed since it last looked, so an edit on one app server is found by
  meaning on every other within SEARCH_MEANING_REFRESH seconds.
- A deleted question leaves a row without a vector (a tombstone), so other
  processes learn that it is gone; results are read from the database afterwards in
  any case, so a vector a process still holds for a gone question finds nothing."""
