"""Named recipes: how each real dataset of the registry becomes an atlas (``--dataset NAME``)."""

from __future__ import annotations

from ..errors import InputError
from ..io.assemble import OrthologInput, SpeciesInput, assemble_atlas
from .registry import fetch


#: named recipes: how each real dataset of the registry becomes an atlas.
RECIPES: dict[str, dict] = {
    "ath_hypoxia": {
        "description": "Arabidopsis thaliana RNA-seq under hypoxia/submergence and normoxia controls (6 SRA studies)",
        "species": [
            {
                "node": "Ath-r",
                "expression": "ath_hypoxia_expression",
                "samples": "ath_hypoxia_samples",
                "combine_isoforms": "sum",
                "gene_sets": ["aracyc"],
                "go": "ath_go",
            }
        ],
        "orthogroups": [],
    },
    "maize_rice_tissues": {
        "description": "Maize and rice tissues (endosperm, pollen, whole seedling) with PLAZA 4.0 orthogroups",
        "species": [
            {
                "node": "Zma-r",
                "expression": "maize_expression",
                "samples": "maize_samples",
                "gene_set_checks": ["corncyc"],  # CornCyc uses v5 IDs: the join report shows the mismatch
            },
            {"node": "Osa-r", "expression": "rice_expression", "samples": "rice_samples", "gene_sets": ["oryzacyc"]},
        ],
        "orthogroups": ["maize_rice_orthogroups"],
    },
}


def recipe_inputs(name: str) -> tuple[list[SpeciesInput], list[OrthologInput], str]:
    """Species and ortholog inputs of a named recipe, files fetched from the registry."""
    if name not in RECIPES:
        raise InputError(f"--dataset {name!r}: not a recipe; known recipes: {sorted(RECIPES)}")
    recipe = RECIPES[name]
    try:
        return _resolve_recipe(recipe, fetch)
    except InputError as error:
        raise InputError(f"dataset {name!r}: {error}") from None


def _resolve_recipe(recipe: dict, fetch) -> tuple[list[SpeciesInput], list[OrthologInput], str]:
    species = [
        SpeciesInput(
            node=spec["node"],
            expression=fetch(spec["expression"]),
            samples=fetch(spec["samples"]),
            gene_sets=[fetch(n) for n in spec.get("gene_sets", [])],
            go=fetch(spec["go"]) if spec.get("go") else None,
            combine_isoforms=spec.get("combine_isoforms"),
            gene_set_checks=[fetch(n) for n in spec.get("gene_set_checks", [])],
        )
        for spec in recipe["species"]
    ]
    orthologs = [OrthologInput(fetch(n)) for n in recipe["orthogroups"]]
    return species, orthologs, recipe["description"]


def recipe_atlas(name: str):
    """The unanalyzed atlas of a named recipe (expression, samples, gene sets, localization, orthologs)."""
    species, orthologs, description = recipe_inputs(name)
    return assemble_atlas(species, orthologs, name=name, description=description)
