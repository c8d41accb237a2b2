"""The reference profile of the cosine-scale calibration (memory/scale.py), and what the map does for other models.

    python -m bench.scale_reference --write          # measure all-MiniLM-L6-v2: memory/data/scale_reference_minilm.json
    python -m bench.scale_reference e5 mpnet hashed  # each model's profile and its map

The reference texts are memory/data/scale_reference.txt (45 support topics of made-up products, four user
wordings each, written for this and taken from no dev set or public dataset).
"""

from __future__ import annotations

import argparse
import json
import logging

import numpy as np

from bench.embedders import ENCODERS, cached
from memory import scale
from memory.hashed_embedder import hashed_vectors

PROBES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def vectors_of(name: str) -> np.ndarray:
    texts = scale.reference_texts()
    if name.startswith("hashed"):
        dim = int(name.partition("-")[2] or 256)
        return np.asarray(hashed_vectors(texts, dim))
    encoder = cached(name)
    try:
        return np.asarray(encoder(texts))
    finally:
        encoder.save()


def show(name: str, reference: scale.Profile) -> list[str]:
    profile = scale.measure(vectors_of(name))
    mapped = scale.build(name, profile, reference)
    probes = " ".join(f"{x:.2f}→{mapped.one(x):.2f}" for x in PROBES)
    return [
        f"{name}: separation (AUC) {profile.separation:.3f}; median cosine paraphrases "
        f"{profile.paraphrase_median:.2f}, unrelated {profile.unrelated_median:.2f}; "
        f"identity {mapped.identity}; poor {mapped.poor}",
        f"  map: {probes}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", help=f"{', '.join(sorted(ENCODERS))}, hashed or hashed-DIM")
    parser.add_argument("--write", action="store_true", help=f"write {scale.REFERENCE_PROFILE.name} (all-MiniLM)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    reference = scale.measure(vectors_of("minilm"))
    if args.write:
        text = json.dumps(reference.to_json("all-MiniLM-L6-v2"), indent=1) + "\n"
        scale.REFERENCE_PROFILE.write_text(text, encoding="utf-8")
        print(f"wrote {scale.REFERENCE_PROFILE}")
    print("\n".join(show("minilm", reference)))
    for name in args.models:
        print("\n".join(show(name, reference)))


if __name__ == "__main__":
    main()
