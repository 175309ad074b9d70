"""A small LRU cache of image embeddings, so further prompts on one image run only the decoder.

Keys are (model identity, pixel hash): the same pixels under the same weights reuse the encoder
output; anything else misses. Bounded so a long session cannot grow memory without limit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable


class EmbeddingCache:
    def __init__(self, max_items: int = 8) -> None:
        self.max_items = max_items
        self._items: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, model_key: str, image_key: str, compute: Callable[[], Any]) -> Any:
        key = (model_key, image_key)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
        value = compute()
        with self._lock:
            self.misses += 1
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)
