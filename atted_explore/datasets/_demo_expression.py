"""The demo's expression: a latent-condition model generated in tiles, in memory or as a Dask array.

Noise is drawn per chunk (a few genes x a block of samples) from a generator
seeded by (seed, species, chunk position), so the ``large`` preset can be
generated chunk by chunk as a Dask array and streamed to Zarr without ever
holding the matrix in memory, and both hold the same values.
"""

from __future__ import annotations

from dataclasses import dataclass

import dask.array as da
import numpy as np
import xarray as xr
from tqdm.auto import tqdm

GENE_CHUNK = 32  # genes per stored chunk
GENES_PER_TILE = 8 * GENE_CHUNK  # genes per generated tile: whole stored chunks, fewer and larger numpy calls


@dataclass(frozen=True)
class LatentModel:
    """Expression of one node: baseline + loadings @ activity + noise_sd * N(0, 1), clipped at 0."""

    baseline: np.ndarray  # (gene,) float32
    noise_sd: np.ndarray  # (gene,) float32
    loadings: np.ndarray  # (gene, condition) float32
    activity: np.ndarray  # (condition, sample) float32, C-contiguous so each tile is one fast matmul
    seed_key: tuple[int, ...]

    def tile(self, genes: tuple[int, int], samples: tuple[int, int], key: tuple[int, int]) -> np.ndarray:
        """Expression of genes ``[g0, g1)`` x samples ``[s0, s1)``; ``key`` (chunk position) seeds its noise."""
        (g0, g1), (s0, s1) = genes, samples
        rng = np.random.default_rng([*self.seed_key, *key])
        values = rng.standard_normal((g1 - g0, s1 - s0), dtype=np.float32)
        values *= self.noise_sd[g0:g1, None]
        values += self.loadings[g0:g1] @ self.activity[:, s0:s1]
        values += self.baseline[g0:g1, None]
        return np.maximum(values, 0, out=values)


def chunk_sizes(n: int, size: int) -> tuple[int, ...]:
    return tuple(min(size, n - start) for start in range(0, n, size))


def expression(model: LatentModel, block: int, stream: bool, bar: tqdm) -> xr.Variable:
    """(gene, sample) expression, generated in tiles of genes x a block of samples.

    Each tile's noise is seeded by its position, so a Dask array of tiles
    (streamed to Zarr one tile at a time) and the in-memory numpy array hold
    the same values. Views read one gene across all samples, so the stored
    chunks are ``GENE_CHUNK`` genes by ``block`` samples (a tile is a whole
    number of stored chunks).
    """
    shape = (model.baseline.size, model.activity.shape[1])
    chunks = (chunk_sizes(shape[0], GENES_PER_TILE), chunk_sizes(shape[1], block))

    def generate(block_info=None) -> np.ndarray:
        info = block_info[None]
        values = model.tile(*info["array-location"], key=info["chunk-location"])
        bar.update(1)
        return values

    data = da.map_blocks(generate, chunks=chunks, dtype=np.float32, meta=np.empty((0, 0), dtype=np.float32))
    if not stream:
        in_memory = np.empty(shape, dtype=np.float32)
        da.store(data, in_memory, scheduler="synchronous")  # fills chunk by chunk, no concatenation
        data = in_memory
    stored = (min(GENE_CHUNK, shape[0]), chunks[1][0])
    return xr.Variable(("gene", "sample"), data, encoding={"chunks": stored})


