"""The demo's ortholog families and the chloroplast biology they share across species.

Every species draws its genes from one pool of ortholog families (a family is
absent from a species with probability 0.15; a share of families, the species'
``duplicated_fraction``, has a second copy: 1:many orthologs). Families
``0 .. CONSERVED_FAMILIES - 1`` hold the conserved photosynthesis module and
exist in every species.

Chloroplast biology is conserved beyond that one module, as ATTED-II v13 found
(maps of chloroplast genes look alike across distant species, all-gene maps do
not): an ortholog family keeps its compartment in every species (a gene keeps
its family's compartment with probability ``LOCALIZATION_KEPT``), and a
chloroplast family responds to the shared treatments (heat, cold, light ...)
with family-level loadings drawn once for all species (SD
``CONSERVED_RESPONSE_SD``); other families draw their treatment loadings per
species.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

COMPARTMENTS = ("chloroplast", "nucleus", "mitochondrion", "other")
CONSERVED_FAMILIES = 36
CHLOROPLAST_SHARE = 0.19
LOCALIZATION_KEPT = 0.9  # a gene's compartment is its family's with this probability
FAMILY_CHLOROPLAST_SHARE = 0.2  # of the other families: chloroplast proteins are mostly conserved across plants
CONSERVED_RESPONSE_SD = 2.0  # family-level treatment loadings of chloroplast families
DUAL_TARGETED = 0.06  # share of genes with a second compartment


def families(species, config: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Ortholog family of every gene per node of ``species`` (SpeciesSpec list; -1: species-specific gene).

    Families ``0 .. CONSERVED_FAMILIES-1`` hold the conserved module and exist in
    every species; a share of families has two gene copies in a species (1:many).
    """
    n_families = int(0.55 * min(config["n_genes"].values()))
    family_of_gene = {}
    for spec in species:
        n_genes = config["n_genes"][spec.node]
        present = rng.random(n_families) < 0.85
        present[:CONSERVED_FAMILIES] = True
        kept = np.flatnonzero(present)
        conserved, other = kept[:CONSERVED_FAMILIES], kept[CONSERVED_FAMILIES:]
        duplicated = np.concatenate([
            rng.choice(conserved, round(spec.duplicated_fraction * conserved.size), replace=False),
            rng.choice(other, round(spec.duplicated_fraction * other.size), replace=False),
        ])
        copies = np.concatenate([kept, duplicated])[: n_genes]
        assigned = np.full(n_genes, -1)
        assigned[rng.permutation(n_genes)[: copies.size]] = copies
        family_of_gene[spec.node] = assigned
    return family_of_gene


@dataclass(frozen=True)
class FamilyTraits:
    """What an ortholog family keeps in every species: its compartment and (chloroplast) treatment response."""

    compartment: np.ndarray  # (family,) index into COMPARTMENTS
    treatment_loadings: np.ndarray  # (family, treatment) float32


def compartment_shares(chloroplast: float) -> list[float]:
    """Primary-compartment probabilities: ``chloroplast``, then nucleus, mitochondrion, other in fixed ratios."""
    chloroplast = min(max(chloroplast, 0.0), 1.0)
    return [chloroplast, *(np.array([0.35, 0.1, 0.55]) * (1 - chloroplast))]


def family_traits(family_of_gene: dict[str, np.ndarray], n_treatments: int, rng: np.random.Generator) -> FamilyTraits:
    n_families = max(int(f.max()) for f in family_of_gene.values()) + 1
    compartment = rng.choice(len(COMPARTMENTS), size=n_families, p=compartment_shares(FAMILY_CHLOROPLAST_SHARE))
    compartment[:CONSERVED_FAMILIES] = 0
    loadings = rng.standard_normal((n_families, n_treatments)) * CONSERVED_RESPONSE_SD
    return FamilyTraits(compartment, loadings.astype(np.float32))


def ortholog_table(genes: dict[str, np.ndarray], family_of_gene: dict[str, np.ndarray]) -> xr.Dataset:
    table = pd.concat(
        pd.DataFrame({"family": family_of_gene[node], "node": node, "gene": genes[node]}).query("family >= 0")
        for node in genes
    )
    shared = table.groupby("family")["node"].transform("nunique") >= 2
    table = table[shared].sort_values(["family", "node", "gene"], kind="stable")
    return xr.Dataset({
        "ortholog_group": ("ortholog", np.array([f"OG{f:06d}" for f in table["family"]], dtype=object)),
        "ortholog_node": ("ortholog", table["node"].to_numpy(dtype=object)),
        "ortholog_gene": ("ortholog", table["gene"].to_numpy(dtype=object)),
    })


def localize(family: np.ndarray, conserved: np.ndarray, traits: FamilyTraits,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(gene, compartment) localization of one node's genes and each gene's primary compartment (index).

    ``conserved``: positions of the conserved module's genes (always chloroplast).

    Genes of a family mostly keep its compartment; the others are drawn so that
    chloroplast genes are ~``CHLOROPLAST_SHARE`` in all, counting the conserved
    module's and dual-targeted genes.
    """
    n_genes = family.size
    localization = np.zeros((n_genes, len(COMPARTMENTS)), dtype=bool)
    inherited = (family >= 0) & (rng.random(n_genes) < LOCALIZATION_KEPT)
    inherited[conserved] = True
    primary = np.where(inherited, traits.compartment[np.maximum(family, 0)], 0)
    fixed_chloroplast = int((primary[inherited] == 0).sum())
    free_share = (CHLOROPLAST_SHARE * n_genes - fixed_chloroplast) / max(int((~inherited).sum()), 1)
    drawn = rng.choice(len(COMPARTMENTS), size=n_genes, p=compartment_shares(free_share))
    primary = np.where(inherited, primary, drawn)
    localization[np.arange(n_genes), primary] = True
    dual = rng.random(n_genes) < DUAL_TARGETED
    second = (primary + rng.integers(1, len(COMPARTMENTS), n_genes)) % len(COMPARTMENTS)
    localization[np.flatnonzero(dual), second[dual]] = True
    return localization, primary


def share_chloroplast_responses(loadings: np.ndarray, family: np.ndarray, free: np.ndarray, primary: np.ndarray,
                                traits: FamilyTraits, treatment_columns: list[int], rng: np.random.Generator) -> None:
    """Give the ``free`` genes (in no module) of chloroplast families their family's treatment loadings, in place."""
    responding = np.flatnonzero((family >= 0) & (primary == 0) & free)
    jitter = 1 + 0.15 * rng.standard_normal((responding.size, len(treatment_columns)))
    loadings[np.ix_(responding, treatment_columns)] = (traits.treatment_loadings[family[responding]] * jitter).astype(
        np.float32
    )
