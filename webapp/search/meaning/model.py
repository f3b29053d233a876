"""The embedding model, loaded once per process from the wordllama package itself."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from webapp.search.documents import QuestionTexts

# Stored beside each vector: another model means recompute. The weights in the wheel
# have 256 dimensions; WordLlama is trained so that its leading dimensions carry most of
# the meaning (Matryoshka), and on the demo's paraphrases the first 128 found 58 of 60
# in the top 3, as all 256 did. So only those are kept: 8 MB less in every worker, and
# each stored vector 256 bytes instead of 512 (issue 18). A vector's first 128
# dimensions are the same numbers whether the weights were cut before or after pooling.
MODEL = "wordllama-l2_supercat-256:128"
WEIGHTS_DIMENSIONS = 256
DIMENSIONS = 128
_lock = threading.Lock()
_model = None


def _load():
    global _model
    with _lock:
        if _model is None:
            import wordllama

            # The package's own folder holds the weights and the tokenizer's settings;
            # load() looks for the tokenizer elsewhere and would download it without this.
            loaded = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True,
                                              dim=WEIGHTS_DIMENSIONS)
            # The weights are stored as float16 and loaded widened to float32 (33 MB in
            # every worker). Kept as stored, they widen in the pooling instead (float16
            # times the float32 mask is float32), so every vector comes out the same.
            loaded.embedding = np.ascontiguousarray(loaded.embedding[:, :DIMENSIONS], dtype=np.float16)
            _model = loaded
    return _model


def embed(texts: list[str]) -> np.ndarray:
    """Unit vectors (float32, one row per text); a text without words gets zeros."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = np.asarray(_load().embed(texts, norm=False), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def document_text(t: QuestionTexts) -> str:
    """What a question's vector is made of: the question (twice, as it says best what
    the answer is about), the summary and the section headings."""
    return "\n".join([t.question, t.question, t.summary, t.headings])
