"""Background upkeep: entries trained while the embedding model was missing get vectors later."""

from __future__ import annotations

from tests.sim import make_world, text_of


async def _vectors(world) -> int:
    (n,) = await world.core.db.fetchone("SELECT COUNT(*) FROM embeddings")
    return n


async def test_entries_trained_while_embed_model_missing_get_vectors_once_it_is_pulled(simcord_env, fake_ollama):
    fake_ollama.models = ["llama3:latest"]  # all-minilm not pulled yet
    world = await make_world(simcord_env)
    result = await world.staff.slash(world.panel_channel, "train", question="Where is my invoice?", answer="Billing.")
    assert "Saved as entry" in text_of(result)
    assert await _vectors(world) == 0
    fake_ollama.models.append("all-minilm:latest")  # the admin ran `ollama pull all-minilm`
    await simcord_env.advance_time(21 * 60)  # the remembered failure expires, the upkeep loop runs
    assert await _vectors(world) == 2  # the question and the answer (search compares both)
