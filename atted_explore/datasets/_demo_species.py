"""The demo's species: node names, gene ID styles, tissues, dominant conditions and gene duplication."""

from __future__ import annotations

from dataclasses import dataclass


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
