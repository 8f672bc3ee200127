"""The synthetic demo atlas: several plant species with a known, planted structure.

Expression follows a latent-condition model. Every sample has activities on a
set of conditions (its tissue, its treatment, and a few study batch factors),
every gene has loadings on them, and

    expression = max(0, baseline + loadings @ activity.T + noise_sd * N(0, 1))

per gene and sample (a log2(TPM + 1)-like scale). Pathway *modules* are groups
of 2-50 genes that share their loadings on one or two driving conditions, so
they are coexpressed under those conditions only. One photosynthesis-like
module of chloroplast genes, driven by light and leaf, is conserved: its orthologs are
module members in every species. The other modules are drawn independently per
species, so their orthologs fall into other modules or none (they rewire).

The photosynthesis module is driven by light and by leaf (photosynthesis genes
are leaf genes; ``CONSERVED_LEAF_LOADING``): every species has leaf samples, so
the module is coexpressed in every species even where few samples are
light-treated (with light alone, maize's 300-sample small preset had 19 light
samples in 4 studies and the module's genes correlated at r ~ 0.4 only; its
CoexMap module split). Ortholog families and the chloroplast biology they share
across species are drawn in :mod:`._demo_orthologs`; studies and sample
annotation in :mod:`._demo_samples`.

The planted truth is stored in the atlas (``truth_*`` variables, node attr
``truth_dominant_study``, root attr ``truth_conserved_module``), so it survives
``save_atlas``/``open_atlas`` and tests can check that analyses recover it.

Expression is generated in seeded tiles (:mod:`._demo_expression`), so the
``large`` preset streams to Zarr without ever holding the matrix in memory.
"""

from __future__ import annotations

import math
import os

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from .. import __version__
from ..atlas import with_gene_sets
from ..io.store import is_atlas, open_atlas, save_atlas
from ..errors import InputError
from . import _demo_text as text
from ._demo_orthologs import (
    COMPARTMENTS, CONSERVED_FAMILIES, FamilyTraits, families, family_traits, localize, ortholog_table,
    share_chloroplast_responses,
)
from ._demo_expression import GENES_PER_TILE, LatentModel, chunk_sizes, expression
from ._demo_samples import DOMINANT_FRACTION, N_BATCH_FACTORS, TREATMENTS, samples
from ._demo_species import NODES, SPECIES, SpeciesSpec
from .paths import data_dir



CONSERVED_MODULE = "map00195"
CONSERVED_MODULE_NAME = "Photosynthesis (light reactions)"
CONSERVED_LEAF_LOADING = 1.5  # photosynthesis genes are leaf genes: the conserved module is also driven by leaf

#: Sizes per species node; ``**overrides`` replace them (an int for every node or a {node: int} dict).
PRESETS: dict[str, dict] = {
    "small": {
        "n_samples": {"Ath-r": 600, "Osa-r": 400, "Zma-r": 300},
        "n_genes": {"Ath-r": 500, "Osa-r": 400, "Zma-r": 450},
        "n_studies": {"Ath-r": 30, "Osa-r": 20, "Zma-r": 18},
        "n_modules": {"Ath-r": 12, "Osa-r": 10, "Zma-r": 10},
        "n_decoy_sets": {"Ath-r": 3, "Osa-r": 3, "Zma-r": 3},
        "block_samples": 8192,
        "stream": False,
    },
    "default": {
        "n_samples": {"Ath-r": 20_000, "Osa-r": 8_000, "Zma-r": 5_000},
        "n_genes": {"Ath-r": 6_000, "Osa-r": 5_000, "Zma-r": 7_000},
        "n_studies": {"Ath-r": 600, "Osa-r": 250, "Zma-r": 150},
        "n_modules": {"Ath-r": 80, "Osa-r": 60, "Zma-r": 70},
        "n_decoy_sets": {"Ath-r": 10, "Osa-r": 8, "Zma-r": 8},
        "block_samples": 8192,
        "stream": False,
    },
    "large": {
        "n_samples": {"Ath-r": 100_000, "Osa-r": 20_000, "Zma-r": 10_000},
        "n_genes": {"Ath-r": 6_000, "Osa-r": 5_000, "Zma-r": 7_000},
        "n_studies": {"Ath-r": 2_500, "Osa-r": 600, "Zma-r": 300},
        "n_modules": {"Ath-r": 80, "Osa-r": 60, "Zma-r": 70},
        "n_decoy_sets": {"Ath-r": 10, "Osa-r": 8, "Zma-r": 8},
        "block_samples": 8192,
        "stream": True,
    },
}
PER_NODE_KEYS = ("n_samples", "n_genes", "n_studies", "n_modules", "n_decoy_sets")
OVERRIDABLE = (*PER_NODE_KEYS, "block_samples")
MIN_GENES = 200


# --------------------------------------------------------------------------- configuration


def _positive_int(key: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"demo(): {key} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _resolve(preset: str, overrides: dict) -> dict:
    if preset not in PRESETS:
        raise InputError(f"demo(): unknown preset {preset!r}; expected one of {sorted(PRESETS)}")
    unknown = sorted(set(overrides) - set(OVERRIDABLE))
    if unknown:
        raise InputError(f"demo(): unknown override {unknown[0]!r}; valid overrides are {list(OVERRIDABLE)}")
    config = {key: (dict(value) if isinstance(value, dict) else value) for key, value in PRESETS[preset].items()}
    for key, value in overrides.items():
        if key not in PER_NODE_KEYS:
            config[key] = _positive_int(key, value)
            continue
        if isinstance(value, dict):
            bad = sorted(set(value) - set(NODES))
            if bad:
                raise InputError(
                    f"demo(): override {key} names unknown species node {bad[0]!r}; nodes are {list(NODES)}"
                )
            config[key].update({node: _positive_int(f"{key}[{node!r}]", v) for node, v in value.items()})
        else:
            config[key] = dict.fromkeys(NODES, _positive_int(key, value))
    preset_samples = PRESETS[preset]["n_samples"]
    for node in NODES:
        studies_given = "n_studies" in overrides and (
            not isinstance(overrides["n_studies"], dict) or node in overrides["n_studies"]
        )
        if not studies_given:  # keep the preset's samples per study when only n_samples changes
            ratio = config["n_samples"][node] / preset_samples[node]
            config["n_studies"][node] = max(2, round(PRESETS[preset]["n_studies"][node] * ratio))
    for node in NODES:
        n_genes, n_samples, n_studies = (config[k][node] for k in ("n_genes", "n_samples", "n_studies"))
        if n_genes < MIN_GENES:
            raise InputError(f"demo(): n_genes for {node} is {n_genes}; expected >= {MIN_GENES}")
        if n_studies < 2 or 2 * (n_studies - 1) > n_samples - math.ceil(DOMINANT_FRACTION * n_samples):
            raise InputError(
                f"demo(): n_studies for {node} is {n_studies}; expected 2 to "
                f"{(n_samples - math.ceil(DOMINANT_FRACTION * n_samples)) // 2 + 1} for {n_samples} samples"
            )
    return config


# --------------------------------------------------------------------------- genes


def _module_sizes(n_modules: int, available: int, rng: np.random.Generator) -> list[int]:
    sizes = np.rint(np.exp(rng.uniform(np.log(2), np.log(50), n_modules))).astype(int)
    kept = np.cumsum(sizes) <= available
    return [int(s) for s in sizes[kept]]


def _genes(spec: SpeciesSpec, n_genes: int, n_modules: int, n_decoys: int, family: np.ndarray,
           traits: FamilyTraits, conditions: list[str], rng: np.random.Generator):
    """Gene annotation, modules, compartments, loadings and gene sets of one node."""
    ids = text.gene_ids(spec.id_style, n_genes, rng)
    n_conditions = len(conditions)
    driving_pool = [k for k, name in enumerate(conditions) if not name.startswith("batch")]
    light = conditions.index("light")

    conserved = np.flatnonzero((family >= 0) & (family < CONSERVED_FAMILIES))
    candidates = rng.permutation(np.setdiff1d(np.arange(n_genes), conserved))
    sizes = _module_sizes(n_modules, int(0.6 * candidates.size), rng)
    module_ids = [CONSERVED_MODULE] + [f"{spec.code.lower()}{1001 + k:05d}" for k in range(len(sizes))]
    members = [conserved] + np.split(candidates[: sum(sizes)], np.cumsum(sizes)[:-1])
    module_condition = np.zeros((len(module_ids), n_conditions), dtype=np.float32)
    module_condition[0, light] = 2.0
    module_condition[0, conditions.index("leaf")] = CONSERVED_LEAF_LOADING
    for m in range(1, len(module_ids)):
        drivers = rng.choice(driving_pool, size=rng.integers(1, 3), replace=False)
        module_condition[m, drivers] = rng.uniform(1.2, 2.2, drivers.size) * rng.choice([1, 1, 1, -1], drivers.size)

    kind_scale = np.array([0.35 if c.startswith("batch") else 0.6 for c in conditions], dtype=np.float32)
    loadings = (rng.standard_normal((n_genes, n_conditions)) * (rng.random((n_genes, n_conditions)) < 0.3)
                * kind_scale).astype(np.float32)
    module_of_gene = np.full(n_genes, "", dtype=object)
    theme = np.full(n_genes, "background", dtype=object)
    names, gene_sets = {}, {}
    for m, (module, genes) in enumerate(zip(module_ids, members)):
        drivers = np.flatnonzero(module_condition[m])
        jitter = 1 + 0.15 * rng.standard_normal((genes.size, drivers.size))
        loadings[np.ix_(genes, drivers)] = (module_condition[m, drivers] * jitter).astype(np.float32)
        module_of_gene[genes] = module
        driver = conditions[light if m == 0 else drivers[0]]  # the conserved module is named for light
        theme[genes] = driver if driver in text.SYMBOL_STEMS else "background"
        base_names = text.PATHWAY_NAMES.get(driver, text.PATHWAY_NAMES["tissue"])
        names[module] = CONSERVED_MODULE_NAME if m == 0 else f"{base_names[rng.integers(len(base_names))]} {m}"
        gene_sets[module] = list(ids[np.sort(genes)])
    for k in range(n_decoys):
        decoy = f"{spec.code.lower()}{5001 + k:05d}"
        names[decoy] = f"{text.PATHWAY_NAMES['decoy'][k % len(text.PATHWAY_NAMES['decoy'])]} {k + 1}"
        gene_sets[decoy] = list(ids[np.sort(rng.choice(n_genes, rng.integers(5, 41), replace=False))])

    localization, primary = localize(family, conserved, traits, rng)
    # chloroplast families respond to the shared treatments alike in every species (_demo_orthologs)
    share_chloroplast_responses(loadings, family, module_of_gene == "", primary, traits,
                                [conditions.index(t) for t in TREATMENTS], rng)

    symbols, descriptions = text.gene_annotation(theme, spec.symbol_prefix, spec.upper_symbols, rng)
    model_parts = {
        "baseline": (rng.gamma(2.0, 1.8, n_genes) + 0.5).astype(np.float32),
        "noise_sd": rng.uniform(0.3, 0.7, n_genes).astype(np.float32),
        "loadings": loadings,
    }
    genes = xr.Dataset(
        {
            "localization": (("gene", "compartment"), localization),
            "truth_module": ("gene", module_of_gene),
            "truth_module_condition": (("module", "condition"), module_condition),
        },
        coords={
            "gene": ids,
            "symbol": ("gene", symbols),
            "description": ("gene", descriptions),
            "compartment": np.array(COMPARTMENTS, dtype=object),
            "module": np.array(module_ids, dtype=object),
        },
    )
    return genes, gene_sets, names, model_parts


# --------------------------------------------------------------------------- assembly


def _node(spec: SpeciesSpec, index: int, config: dict, seed: int, family: np.ndarray, traits: FamilyTraits):
    """The node dataset without expression, and the latent model that generates it."""
    rng = np.random.default_rng([seed, index + 1, 0])
    conditions = [*spec.tissues, *TREATMENTS, *(f"batch {k + 1}" for k in range(N_BATCH_FACTORS))]
    kinds = ["tissue"] * len(spec.tissues) + ["treatment"] * len(TREATMENTS) + ["batch"] * N_BATCH_FACTORS
    node = spec.node
    genes, gene_sets, names, parts = _genes(
        spec, config["n_genes"][node], config["n_modules"][node], config["n_decoy_sets"][node], family, traits, conditions, rng
    )
    runs, annotation, activity, dominant = samples(
        spec, config["n_samples"][node], config["n_studies"][node], conditions, index, rng
    )
    ds = genes.assign(
        truth_condition_activity=(("sample", "condition"), activity),
        truth_condition_kind=("condition", np.array(kinds, dtype=object)),
    ).assign_coords(
        sample=runs,
        condition=np.array(conditions, dtype=object),
        **{field: ("sample", values) for field, values in annotation.items()},
    )
    ds = with_gene_sets(ds, gene_sets, names)
    ds.attrs = {
        "species": spec.species,
        "species_code": spec.code,
        "platform": "r",
        "truth_dominant_study": dominant,
    }
    return ds, LatentModel(seed_key=(seed, index + 1, 1), activity=np.ascontiguousarray(activity.T), **parts)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"demo(): seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def demo(
    preset: str = "small",
    seed: int = 0,
    path: str | os.PathLike | None = None,
    progress: bool = False,
    **overrides,
) -> xr.DataTree:
    """Build the synthetic demo atlas (deterministic by ``preset``, ``seed`` and ``overrides``).

    Parameters
    ----------
    preset
        ``"small"`` (unit tests, ~1 s), ``"default"`` (20,000 x 6,000 for
        ``Ath-r``) or ``"large"`` (100,000+ samples, streamed to Zarr).
    seed
        Seed of every random draw; the same seed gives bit-identical atlases.
    path
        Zarr store to write; the atlas is then returned opened lazily from it.
        ``large`` always streams to a store, by default
        ``demo-large-raw-seed{seed}.zarr`` in the local data folder (``$ATTED_EXPLORE_DATA`` or ``./data``). A store
        there built with the same preset, seed, overrides and package version
        is reused; a path holding something other than an atlas is refused.
    progress
        Show a tqdm bar over the generated tiles (genes x sample block) of every species.
    **overrides
        Sizes replacing the preset's: ``n_samples``, ``n_genes``, ``n_studies``,
        ``n_modules``, ``n_decoy_sets`` (an int for every species node or a
        ``{node: int}`` dict), and ``block_samples`` (samples per generated block
        and per Zarr chunk).
    """
    config = _resolve(preset, overrides)
    seed = _check_seed(seed)
    provenance = {
        "generator": "atted_explore.datasets.demo",
        "preset": preset,
        "seed": seed,
        "overrides": {  # plain ints, so the provenance stores as JSON and compares equal after a reopen
            key: {node: int(v) for node, v in value.items()} if isinstance(value, dict) else int(value)
            for key, value in overrides.items()
        },
        "version": __version__,
    }
    if config["stream"] and path is None:
        path = data_dir() / f"demo-large-raw-seed{seed}.zarr"
        path.parent.mkdir(parents=True, exist_ok=True)
    if path is not None and is_atlas(path):
        cached = open_atlas(path)
        if cached.attrs.get("provenance") == provenance:
            return cached

    family_rng = np.random.default_rng([seed, 0])
    family_of_gene = families(SPECIES, config, family_rng)
    traits = family_traits(family_of_gene, len(TREATMENTS), np.random.default_rng([seed, 0, 1]))
    block = config["block_samples"]
    n_tiles = sum(
        len(chunk_sizes(config["n_genes"][node], GENES_PER_TILE)) * len(chunk_sizes(config["n_samples"][node], block))
        for node in NODES
    )
    with tqdm(total=n_tiles, desc="demo atlas", unit="tile", disable=not progress) as bar:
        nodes = {}
        for index, spec in enumerate(SPECIES):
            bar.set_postfix(node=spec.node)
            ds, model = _node(spec, index, config, seed, family_of_gene[spec.node], traits)
            nodes[spec.node] = ds.assign(expression=expression(model, block, config["stream"], bar))
        root = ortholog_table({node: ds["gene"].values for node, ds in nodes.items()}, family_of_gene)
        root.attrs = {
            "name": "ATTED-explore demo atlas",
            "description": (
                f"Synthetic {preset} atlas of {len(SPECIES)} plant species (seed {seed}) with planted "
                "condition modules, a light-driven chloroplast module conserved across species, "
                "unequal studies and orthologs. Generated by code; not real data."
            ),
            "provenance": provenance,
            "truth_conserved_module": CONSERVED_MODULE,
        }
        tree = xr.DataTree.from_dict({"/": root, **nodes})
        if path is None:
            return tree
        save_atlas(tree, path)
    return open_atlas(path)
