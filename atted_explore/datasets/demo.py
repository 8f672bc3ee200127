"""The synthetic demo atlas: several plant species with a known, planted structure.

Expression follows a latent-condition model. Every sample has activities on a
set of conditions (its tissue, its treatment, and a few study batch factors),
every gene has loadings on them, and

    expression = max(0, baseline + loadings @ activity.T + noise_sd * N(0, 1))

per gene and sample (a log2(TPM + 1)-like scale). Pathway *modules* are groups
of 2-50 genes that share their loadings on one or two driving conditions, so
they are coexpressed under those conditions only. One photosynthesis-like
module of chloroplast genes, driven by light, is conserved: its orthologs are
module members in every species. The other modules are drawn independently per
species, so their orthologs fall into other modules or none (they rewire).

Chloroplast biology is conserved beyond that one module, as ATTED-II v13 found
(maps of chloroplast genes look alike across distant species, all-gene maps do
not): an ortholog family keeps its compartment in every species (a gene keeps
its family's compartment with probability ``LOCALIZATION_KEPT``), and a
chloroplast family responds to the shared treatments (heat, cold, light ...)
with family-level loadings drawn once for all species; other families draw
their treatment loadings per species. Tissues differ between species, so
tissue loadings are always species-specific.

The planted truth is stored in the atlas (``truth_*`` variables, node attr
``truth_dominant_study``, root attr ``truth_conserved_module``), so it survives
``save_atlas``/``open_atlas`` and tests can check that analyses recover it.

Noise is drawn per chunk (a few genes x a block of samples) from a generator
seeded by (seed, species, chunk position), so the ``large`` preset can be
generated chunk by chunk as a Dask array and streamed to Zarr without ever holding the matrix in memory.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
from tqdm.auto import tqdm

from .. import __version__
from ..atlas import with_gene_sets
from ..io.store import is_atlas, open_atlas, save_atlas
from ..errors import InputError
from . import _demo_text as text
from .paths import data_dir


@dataclass(frozen=True)
class SpeciesSpec:
    node: str
    species: str
    code: str
    id_style: str
    symbol_prefix: str
    upper_symbols: bool
    tissues: tuple[str, ...]
    dominant_treatment: str
    dominant_tissue: str
    duplicated_fraction: float  # share of ortholog families with a second gene copy


SPECIES = (
    SpeciesSpec("Ath-r", "Arabidopsis thaliana", "Ath", "agi", "", True,
                ("seedling", "root", "leaf", "flower", "seed", "shoot apex"), "hypoxia", "seedling", 0.0),
    SpeciesSpec("Osa-r", "Oryza sativa", "Osa", "rap", "Os", False,
                ("leaf", "root", "shoot", "panicle", "seed", "callus"), "light", "leaf", 0.05),
    SpeciesSpec("Zma-r", "Zea mays", "Zma", "zm", "Zm", False,
                ("leaf", "root", "endosperm", "pollen", "ear", "seedling"), "drought", "leaf", 0.25),
)
NODES = tuple(spec.node for spec in SPECIES)

TREATMENTS = ("heat", "cold", "drought", "hypoxia", "light", "pathogen")
N_BATCH_FACTORS = 3
COMPARTMENTS = ("chloroplast", "nucleus", "mitochondrion", "other")
CONSERVED_MODULE = "map00195"
CONSERVED_MODULE_NAME = "Photosynthesis (light reactions)"
CONSERVED_FAMILIES = 36
TIME_POINTS_H = np.array([0, 0.5, 1, 2, 4, 8, 12, 24])
DOMINANT_FRACTION = 0.45
GENE_CHUNK = 32  # genes per stored chunk
GENES_PER_TILE = 8 * GENE_CHUNK  # genes per generated tile: whole stored chunks, fewer and larger numpy calls
CHLOROPLAST_SHARE = 0.19
LOCALIZATION_KEPT = 0.9  # a gene's compartment is its family's with this probability
FAMILY_CHLOROPLAST_SHARE = 0.2  # of the other families: chloroplast proteins are mostly conserved across plants
CONSERVED_RESPONSE_SD = 2.0  # family-level treatment loadings of chloroplast families

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


# --------------------------------------------------------------------------- orthologs


def _families(config: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Ortholog family of every gene per node (-1: species-specific gene).

    Families ``0 .. CONSERVED_FAMILIES-1`` hold the conserved module and exist in
    every species; a share of families has two gene copies in a species (1:many).
    """
    n_families = int(0.55 * min(config["n_genes"].values()))
    family_of_gene = {}
    for spec in SPECIES:
        n_genes = config["n_genes"][spec.node]
        present = rng.random(n_families) < 0.85
        present[:CONSERVED_FAMILIES] = True
        families = np.flatnonzero(present)
        conserved, other = families[:CONSERVED_FAMILIES], families[CONSERVED_FAMILIES:]
        duplicated = np.concatenate([
            rng.choice(conserved, round(spec.duplicated_fraction * conserved.size), replace=False),
            rng.choice(other, round(spec.duplicated_fraction * other.size), replace=False),
        ])
        copies = np.concatenate([families, duplicated])[: n_genes]
        assigned = np.full(n_genes, -1)
        assigned[rng.permutation(n_genes)[: copies.size]] = copies
        family_of_gene[spec.node] = assigned
    return family_of_gene


@dataclass(frozen=True)
class FamilyTraits:
    """What an ortholog family keeps in every species: its compartment and (chloroplast) treatment response."""

    compartment: np.ndarray  # (family,) index into COMPARTMENTS
    treatment_loadings: np.ndarray  # (family, treatment) float32


def _compartment_shares(chloroplast: float) -> list[float]:
    """Primary-compartment probabilities: ``chloroplast``, then nucleus, mitochondrion, other in fixed ratios."""
    chloroplast = min(max(chloroplast, 0.0), 1.0)
    return [chloroplast, *(np.array([0.35, 0.1, 0.55]) * (1 - chloroplast))]


def _family_traits(family_of_gene: dict[str, np.ndarray], rng: np.random.Generator) -> FamilyTraits:
    n_families = max(int(f.max()) for f in family_of_gene.values()) + 1
    compartment = rng.choice(len(COMPARTMENTS), size=n_families, p=_compartment_shares(FAMILY_CHLOROPLAST_SHARE))
    compartment[:CONSERVED_FAMILIES] = 0
    loadings = rng.standard_normal((n_families, len(TREATMENTS))) * CONSERVED_RESPONSE_SD
    return FamilyTraits(compartment, loadings.astype(np.float32))


def _ortholog_table(genes: dict[str, np.ndarray], family_of_gene: dict[str, np.ndarray]) -> xr.Dataset:
    table = pd.concat(
        pd.DataFrame({"family": family_of_gene[node], "node": node, "gene": genes[node]}).query("family >= 0")
        for node in NODES
    )
    shared = table.groupby("family")["node"].transform("nunique") >= 2
    table = table[shared].sort_values(["family", "node", "gene"], kind="stable")
    return xr.Dataset({
        "ortholog_group": ("ortholog", np.array([f"OG{f:06d}" for f in table["family"]], dtype=object)),
        "ortholog_node": ("ortholog", table["node"].to_numpy(dtype=object)),
        "ortholog_gene": ("ortholog", table["gene"].to_numpy(dtype=object)),
    })


# --------------------------------------------------------------------------- latent model


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


def _chunk_sizes(n: int, size: int) -> tuple[int, ...]:
    return tuple(min(size, n - start) for start in range(0, n, size))


# --------------------------------------------------------------------------- samples


def _study_sizes(n_samples: int, n_studies: int, rng: np.random.Generator) -> np.ndarray:
    """The dominant study first (>= 40% of samples), then small studies of heavy-tailed sizes."""
    dominant = math.ceil(DOMINANT_FRACTION * n_samples)
    rest = n_samples - dominant - 2 * (n_studies - 1)
    weights = rng.lognormal(0.0, 1.2, size=n_studies - 1)
    small = 2 + rng.multinomial(rest, weights / weights.sum())
    return np.concatenate([[dominant], small])


def _samples(spec: SpeciesSpec, n_samples: int, n_studies: int, conditions: list[str], seed_index: int,
             rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, str]:
    """Run IDs, sample annotation, condition activity (sample, condition) and the dominant study ID."""
    sizes = _study_sizes(n_samples, n_studies, rng)
    order = rng.permutation(n_studies)  # accession order; the dominant study is not always first
    runs, studies = text.run_accessions(sizes[order], rng, first_number=1000 + 100_000 * seed_index)
    study_of_sample = np.repeat(order, sizes[order])
    column = {name: k for k, name in enumerate(conditions)}
    activity = np.zeros((n_samples, len(conditions)), dtype=np.float32)
    tissue = np.empty(n_samples, dtype=object)
    treatment = np.empty(n_samples, dtype=object)
    title = np.empty(n_samples, dtype=object)
    batch = rng.normal(0.0, 0.6, size=(n_studies, N_BATCH_FACTORS)).astype(np.float32)
    activity[:, -N_BATCH_FACTORS:] = batch[study_of_sample]
    tissue_p = np.linspace(2.0, 1.0, len(spec.tissues))
    tissue_p /= tissue_p.sum()
    treatment_choices = (*TREATMENTS, "dark")
    payload_study = int(rng.integers(1, n_studies))  # a small study whose treatment label carries HTML
    starts = np.concatenate([[0], np.cumsum(sizes[order])[:-1]])
    for start, study in zip(starts, order):
        size = sizes[study]
        rows = slice(start, start + size)
        template = text.TITLE_TEMPLATES[rng.integers(len(text.TITLE_TEMPLATES))]
        rep = np.arange(size) % 3 + 1
        if study == 0:  # the big time course of one treatment in one tissue
            hours = TIME_POINTS_H[(np.arange(size) // 3) % TIME_POINTS_H.size]
            strength = 3.5 * (1 - np.exp(-hours / 3.0)) * rng.uniform(0.9, 1.1, size)
            tissues = np.full(size, spec.dominant_tissue, dtype=object)
            labels = np.where(hours == 0, "control", spec.dominant_treatment).astype(object)
            activity[rows, column[spec.dominant_treatment]] = strength
            shown = [f"{label} {h:g}h" for label, h in zip(labels, hours)]
            prefix = text.study_title(rng, spec.dominant_tissue, f"{spec.dominant_treatment} time course")
        elif study != payload_study and rng.random() < 0.25:  # a tissue atlas: untreated samples of several tissues
            tissues = rng.choice(np.array(spec.tissues, dtype=object), size=size, p=tissue_p)
            labels = np.full(size, "control", dtype=object)
            shown = list(labels)
            prefix = text.study_title(rng, "several tissues", "development")
        else:  # control vs one treatment in one tissue
            chosen = treatment_choices[rng.integers(len(treatment_choices))]
            tissues = np.full(size, rng.choice(np.array(spec.tissues, dtype=object), p=tissue_p), dtype=object)
            treated = np.arange(size) % 2 == 1
            labels = np.where(treated, chosen, "control").astype(object)
            strength = treated * rng.uniform(0.6, 1.4, size)
            if chosen == "dark":  # darkness is negative light activity
                activity[rows, column["light"]] = -strength
            else:
                activity[rows, column[chosen]] = strength
            shown = list(labels)
            if study == payload_study:
                labels = np.where(treated, f'{chosen} & "mild" {text.HTML_PAYLOADS[1]}', "control").astype(object)
            prefix = text.study_title(rng, tissues[0], chosen)
        tissue_columns = [column[t] for t in tissues]
        activity[np.arange(start, start + size), tissue_columns] += rng.uniform(0.8, 1.2, size).astype(np.float32)
        tissue[rows], treatment[rows] = tissues, labels
        with_prefix = rng.random() < 0.3
        title[rows] = [
            (f"{prefix}; " if with_prefix else "") + text.sample_title(template, t, s, r)
            for t, s, r in zip(tissues, shown, rep)
        ]
    noisy = rng.random(n_samples)
    title = np.where(noisy < 0.08, [t.lower() for t in title], title)
    title = np.where((noisy >= 0.08) & (noisy < 0.12), [f"  {t.replace(' ', '  ')} " for t in title], title)
    for payload, where in zip(text.HTML_PAYLOADS, rng.choice(n_samples, len(text.HTML_PAYLOADS), replace=False)):
        title[where] = f"{title[where]} {payload}"
    annotation = {"study": studies, "tissue": tissue, "treatment": treatment, "title": title.astype(object)}
    return runs, annotation, activity, str(studies[study_of_sample == 0][0])


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
        driver = conditions[drivers[0]]
        theme[genes] = driver if driver in text.SYMBOL_STEMS else "background"
        base_names = text.PATHWAY_NAMES.get(driver, text.PATHWAY_NAMES["tissue"])
        names[module] = CONSERVED_MODULE_NAME if m == 0 else f"{base_names[rng.integers(len(base_names))]} {m}"
        gene_sets[module] = list(ids[np.sort(genes)])
    for k in range(n_decoys):
        decoy = f"{spec.code.lower()}{5001 + k:05d}"
        names[decoy] = f"{text.PATHWAY_NAMES['decoy'][k % len(text.PATHWAY_NAMES['decoy'])]} {k + 1}"
        gene_sets[decoy] = list(ids[np.sort(rng.choice(n_genes, rng.integers(5, 41), replace=False))])

    localization = np.zeros((n_genes, len(COMPARTMENTS)), dtype=bool)
    # Genes of a family mostly keep its compartment; the others are drawn so that chloroplast
    # genes are ~20% in all, counting the conserved module's and dual-targeted genes.
    inherited = (family >= 0) & (rng.random(n_genes) < LOCALIZATION_KEPT)
    inherited[conserved] = True
    primary = np.where(inherited, traits.compartment[np.maximum(family, 0)], 0)
    fixed_chloroplast = int((primary[inherited] == 0).sum())
    free_share = (CHLOROPLAST_SHARE * n_genes - fixed_chloroplast) / max(int((~inherited).sum()), 1)
    drawn = rng.choice(len(COMPARTMENTS), size=n_genes, p=_compartment_shares(free_share))
    primary = np.where(inherited, primary, drawn)
    localization[np.arange(n_genes), primary] = True
    dual = rng.random(n_genes) < 0.06
    second = (primary + rng.integers(1, len(COMPARTMENTS), n_genes)) % len(COMPARTMENTS)
    localization[np.flatnonzero(dual), second[dual]] = True
    # chloroplast families respond to the shared treatments alike in every species (module doc)
    responding = np.flatnonzero((family >= 0) & (primary == 0) & (module_of_gene == ""))
    treatment_columns = [conditions.index(t) for t in TREATMENTS]
    jitter = 1 + 0.15 * rng.standard_normal((responding.size, len(TREATMENTS)))
    loadings[np.ix_(responding, treatment_columns)] = (traits.treatment_loadings[family[responding]] * jitter).astype(
        np.float32
    )

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
    runs, annotation, activity, dominant = _samples(
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


def _expression(model: LatentModel, block: int, stream: bool, bar: tqdm) -> xr.Variable:
    """(gene, sample) expression, generated in tiles of genes x a block of samples.

    Each tile's noise is seeded by its position, so a Dask array of tiles
    (streamed to Zarr one tile at a time) and the in-memory numpy array hold
    the same values. Views read one gene across all samples, so the stored
    chunks are ``GENE_CHUNK`` genes by ``block`` samples (a tile is a whole
    number of stored chunks).
    """
    shape = (model.baseline.size, model.activity.shape[1])
    chunks = (_chunk_sizes(shape[0], GENES_PER_TILE), _chunk_sizes(shape[1], block))

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
    family_of_gene = _families(config, family_rng)
    traits = _family_traits(family_of_gene, np.random.default_rng([seed, 0, 1]))
    block = config["block_samples"]
    n_tiles = sum(
        len(_chunk_sizes(config["n_genes"][node], GENES_PER_TILE)) * len(_chunk_sizes(config["n_samples"][node], block))
        for node in NODES
    )
    with tqdm(total=n_tiles, desc="demo atlas", unit="tile", disable=not progress) as bar:
        nodes = {}
        for index, spec in enumerate(SPECIES):
            bar.set_postfix(node=spec.node)
            ds, model = _node(spec, index, config, seed, family_of_gene[spec.node], traits)
            nodes[spec.node] = ds.assign(expression=_expression(model, block, config["stream"], bar))
        root = _ortholog_table({node: ds["gene"].values for node, ds in nodes.items()}, family_of_gene)
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
